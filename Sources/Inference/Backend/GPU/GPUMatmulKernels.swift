// Embedding lookup and matrix products for every weight format (see GPUKernelSource.swift).

extension GPUKernelSource {
    static let matmulKernels = #"""
"""#
}
