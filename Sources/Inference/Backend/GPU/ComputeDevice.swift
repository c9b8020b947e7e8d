// The seam between the GPU backend and a GPU API.
//
// `GPUBackend` (the `InferenceBackend` for GPUs) is written once against `ComputeDevice`;
// `CUDADevice` (driver API + NVRTC) and `OpenCLDevice` implement it. Both APIs are loaded with
// dlopen at run time, so the binary builds and runs on machines with neither installed. The
// kernels are one source (GPUKernelSource.swift) compiled by NVRTC for CUDA and as OpenCL C.
//
// Execution model both APIs share: work is queued in order on one queue/stream; `download` and
// `synchronize` wait for everything queued before them. A launch is a 2-D grid of work-groups
// (CUDA blocks) of `groupSize` threads along x, so kernels read GROUP_X / GROUP_Y / THREAD_ID.

import Foundation

/// Which GPU API a device speaks.
public enum GPUAPI: String, Sendable, CaseIterable {
    case cuda, opencl
}

/// A device (or API) that cannot be used, or an API call that failed; one line.
public struct DeviceError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A device allocation. Freed when the last reference goes.
final class DeviceMemory: @unchecked Sendable {
    let byteCount: Int
    /// The API's handle: a `CUdeviceptr`, or a `cl_mem`'s bit pattern.
    let handle: UInt64
    private let free: (UInt64) -> Void

    init(byteCount: Int, handle: UInt64, free: @escaping (UInt64) -> Void) {
        self.byteCount = byteCount
        self.handle = handle
        self.free = free
    }

    deinit { free(handle) }
}

/// A compiled kernel of one device (opaque; only that device launches it).
protocol DeviceKernel: AnyObject {
    var name: String { get }
}

/// One argument of a launch, in the kernel's parameter order. Memory is passed whole; kernels
/// take element offsets as separate integer arguments (OpenCL cannot offset a buffer pointer).
enum KernelArgument {
    case memory(DeviceMemory)
    case int32(Int32)
    case float32(Float)

    static func int(_ value: Int) -> KernelArgument { .int32(Int32(value)) }
}

/// What the GPU backend needs from CUDA or OpenCL. Used by one thread at a time.
protocol ComputeDevice: AnyObject {
    var api: GPUAPI { get }
    /// One line: device name, compute capability or OpenCL version, driver.
    var name: String { get }
    var totalMemory: Int { get }
    /// Free device memory now, when the API can say.
    var freeMemory: Int? { get }
    /// The C the kernel source must be turned into for this device.
    var dialect: KernelDialect { get }

    func allocate(bytes: Int, what: String) throws -> DeviceMemory
    /// Copies host bytes into `memory` at byte `offset` (queued in order with launches; the
    /// host bytes may be reused when the call returns).
    func upload(_ bytes: UnsafeRawBufferPointer, to memory: DeviceMemory, offset: Int) throws
    /// Waits for all queued work, then copies `destination.count` bytes from byte `offset`.
    func download(_ memory: DeviceMemory, offset: Int, into destination: UnsafeMutableRawBufferPointer) throws
    /// Device-to-device copy, queued.
    func copy(_ source: DeviceMemory, offset: Int, to target: DeviceMemory, offset targetOffset: Int, bytes: Int) throws

    /// Compiles `source` (already with the dialect's prelude, see `GPUKernelSource.program`)
    /// and returns the named kernels. Compiled code may be cached on disk by source hash.
    func compile(source: String, kernels: [String]) throws -> [String: DeviceKernel]
    /// Queues `kernel` on `groups.x * groups.y` work-groups of `groupSize` threads.
    func launch(_ kernel: DeviceKernel, groups: (x: Int, y: Int), groupSize: Int, arguments: [KernelArgument]) throws
    /// Waits for all queued work; reports an asynchronous failure.
    func synchronize() throws
}
