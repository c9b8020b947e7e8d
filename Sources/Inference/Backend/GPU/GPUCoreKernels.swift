// Kernels other than embedding and matrix products (see GPUKernelSource.swift for the dialect).

extension GPUKernelSource {
    static let coreKernels = #"""
"""#
}
