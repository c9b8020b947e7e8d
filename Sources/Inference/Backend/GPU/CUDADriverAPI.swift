// The CUDA driver API (libcuda.so.1, installed with the NVIDIA driver), loaded with dlopen.
//
// Only the entry points CUDADevice uses. cuda.h renames many functions with a version suffix
// (`#define cuMemAlloc cuMemAlloc_v2`, from CUDA 3.2 on when 64-bit device pointers came, and
// cuDevicePrimaryCtxRelease_v2 / cuStreamDestroy_v2 since 11.0); dlsym sees the real symbol
// names, so those are what we look up. The unsuffixed old symbols still exist in libcuda with
// 32-bit sizes and must not be used.
//
// C types: CUresult and the attribute enums are C enums (int); CUdevice is an int; CUcontext,
// CUmodule, CUfunction and CUstream are pointers to opaque structs; CUdeviceptr is an unsigned
// 64-bit integer on 64-bit hosts; sizes are size_t.

import Foundation

final class CUDADriverAPI: @unchecked Sendable {
    typealias CUresult = Int32
    typealias CUdevice = Int32
    typealias CUcontext = OpaquePointer
    typealias CUmodule = OpaquePointer
    typealias CUfunction = OpaquePointer
    typealias CUstream = OpaquePointer
    typealias CUdeviceptr = UInt64

    // CUdevice_attribute values (cuda.h).
    static let attributeMaxThreadsPerBlock: Int32 = 1
    static let attributeMaxGridDimY: Int32 = 6
    static let attributeMultiprocessorCount: Int32 = 16
    static let attributeMemoryClockRate: Int32 = 36       // kHz
    static let attributeGlobalMemoryBusWidth: Int32 = 37  // bits
    static let attributeComputeCapabilityMajor: Int32 = 75
    static let attributeComputeCapabilityMinor: Int32 = 76

    // CUjit_option values for cuModuleLoadDataEx: where the PTX JIT writes its errors.
    static let jitErrorLogBuffer: Int32 = 5
    static let jitErrorLogBufferSizeBytes: Int32 = 6

    /// CU_STREAM_NON_BLOCKING: the stream does not synchronize with the legacy default stream.
    static let streamNonBlocking: UInt32 = 1

    let path: String
    private let library: DynamicLibrary

    let cuInit: @convention(c) (UInt32) -> CUresult
    let cuDriverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> CUresult
    let cuGetErrorName: @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> CUresult
    let cuGetErrorString: @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> CUresult
    let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> CUresult
    let cuDeviceGet: @convention(c) (UnsafeMutablePointer<CUdevice>, Int32) -> CUresult
    let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, CUdevice) -> CUresult
    let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, CUdevice) -> CUresult
    let cuDeviceTotalMem: @convention(c) (UnsafeMutablePointer<Int>, CUdevice) -> CUresult                  // _v2
    let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<CUcontext?>, CUdevice) -> CUresult
    let cuDevicePrimaryCtxRelease: @convention(c) (CUdevice) -> CUresult                                    // _v2
    let cuCtxSetCurrent: @convention(c) (CUcontext?) -> CUresult
    let cuCtxGetCurrent: @convention(c) (UnsafeMutablePointer<CUcontext?>) -> CUresult
    let cuMemGetInfo: @convention(c) (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> CUresult     // _v2
    let cuMemAlloc: @convention(c) (UnsafeMutablePointer<CUdeviceptr>, Int) -> CUresult                     // _v2
    let cuMemFree: @convention(c) (CUdeviceptr) -> CUresult                                                 // _v2
    let cuMemcpyHtoDAsync: @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int, CUstream?) -> CUresult     // _v2
    let cuMemcpyDtoHAsync: @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int, CUstream?) -> CUresult  // _v2
    let cuMemcpyDtoDAsync: @convention(c) (CUdeviceptr, CUdeviceptr, Int, CUstream?) -> CUresult           // _v2
    let cuStreamCreate: @convention(c) (UnsafeMutablePointer<CUstream?>, UInt32) -> CUresult
    let cuStreamDestroy: @convention(c) (CUstream?) -> CUresult                                             // _v2
    let cuStreamSynchronize: @convention(c) (CUstream?) -> CUresult
    let cuModuleLoadDataEx: @convention(c) (UnsafeMutablePointer<CUmodule?>, UnsafeRawPointer,
                                            UInt32, UnsafeMutablePointer<Int32>?,
                                            UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CUresult
    /// Offset and size of a kernel's parameter (CUDA 12.4+; nil with older drivers).
    let cuFuncGetParamInfo: (@convention(c) (CUfunction?, Int, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int>?) -> CUresult)?
    let cuModuleUnload: @convention(c) (CUmodule?) -> CUresult
    let cuModuleGetFunction: @convention(c) (UnsafeMutablePointer<CUfunction?>, CUmodule?, UnsafePointer<CChar>) -> CUresult
    let cuLaunchKernel: @convention(c) (CUfunction?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, CUstream?,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CUresult

    /// Where the driver library is looked for.
    static let defaultCandidates = ["libcuda.so.1", "libcuda.so"]

    /// Opens the driver library and resolves every entry point. A missing library is "CUDA
    /// driver not found"; a missing symbol means a driver too old for us (all of them exist
    /// since CUDA 11.0).
    init(candidates: [String] = CUDADriverAPI.defaultCandidates) throws {
        let library: DynamicLibrary
        do {
            library = try DynamicLibrary(candidates: candidates)
        } catch {
            throw DeviceError("CUDA driver not found (no NVIDIA driver installed?): \(error)")
        }
        self.library = library
        path = library.path
        func load<T>(_ name: String) throws -> T {
            do { return try library.symbol(name, as: T.self) } catch {
                throw DeviceError("CUDA driver too old: \(library.path) has no \(name) (CUDA 11.2 or newer is needed)")
            }
        }
        cuInit = try load("cuInit")
        cuDriverGetVersion = try load("cuDriverGetVersion")
        cuGetErrorName = try load("cuGetErrorName")
        cuGetErrorString = try load("cuGetErrorString")
        cuDeviceGetCount = try load("cuDeviceGetCount")
        cuDeviceGet = try load("cuDeviceGet")
        cuDeviceGetName = try load("cuDeviceGetName")
        cuDeviceGetAttribute = try load("cuDeviceGetAttribute")
        cuDeviceTotalMem = try load("cuDeviceTotalMem_v2")
        cuDevicePrimaryCtxRetain = try load("cuDevicePrimaryCtxRetain")
        cuDevicePrimaryCtxRelease = try load("cuDevicePrimaryCtxRelease_v2")
        cuCtxSetCurrent = try load("cuCtxSetCurrent")
        cuCtxGetCurrent = try load("cuCtxGetCurrent")
        cuMemGetInfo = try load("cuMemGetInfo_v2")
        cuMemAlloc = try load("cuMemAlloc_v2")
        cuMemFree = try load("cuMemFree_v2")
        cuMemcpyHtoDAsync = try load("cuMemcpyHtoDAsync_v2")
        cuMemcpyDtoHAsync = try load("cuMemcpyDtoHAsync_v2")
        cuMemcpyDtoDAsync = try load("cuMemcpyDtoDAsync_v2")
        cuStreamCreate = try load("cuStreamCreate")
        cuStreamDestroy = try load("cuStreamDestroy_v2")
        cuStreamSynchronize = try load("cuStreamSynchronize")
        cuModuleLoadDataEx = try load("cuModuleLoadDataEx")
        cuModuleUnload = try load("cuModuleUnload")
        cuModuleGetFunction = try load("cuModuleGetFunction")
        cuLaunchKernel = try load("cuLaunchKernel")
        cuFuncGetParamInfo = library.optionalSymbol("cuFuncGetParamInfo", as: (@convention(c) (CUfunction?, Int, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int>?) -> CUresult).self)
    }

    /// The byte size of each parameter of `function` as compiled, or nil when the driver cannot
    /// say (before CUDA 12.4). Asking past the last parameter is CUDA_ERROR_INVALID_VALUE.
    func parameterSizes(of function: CUfunction) -> [Int]? {
        guard let cuFuncGetParamInfo else { return nil }
        var sizes: [Int] = []
        while sizes.count < 4096 {
            var offset = 0, size = 0
            let status = cuFuncGetParamInfo(function, sizes.count, &offset, &size)
            if status == 1 { return sizes }   // CUDA_ERROR_INVALID_VALUE: no parameter at this index
            guard status == 0 else { return nil }
            sizes.append(size)
        }
        return nil
    }

    /// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)": the driver's name and description of a
    /// status, or our own table when the driver cannot say.
    func describe(_ status: CUresult) -> String {
        var name: UnsafePointer<CChar>?
        var text: UnsafePointer<CChar>?
        let known = cuGetErrorName(status, &name) == 0 ? name.map { String(cString: $0) } : nil
        let description = cuGetErrorString(status, &text) == 0 ? text.map { String(cString: $0) } : nil
        let label = known ?? CUDAResultName.name(of: status)
        guard let description, !description.isEmpty else { return label }
        return "\(label) (\(description))"
    }

    /// Throws "CUDA <what>: <status>" unless `status` is CUDA_SUCCESS.
    func check(_ status: CUresult, _ what: @autoclosure () -> String) throws {
        guard status != 0 else { return }
        throw DeviceError("CUDA \(what()) failed: \(describe(status))")
    }
}

/// Names of the CUresult codes a user is likely to meet, for messages written without the
/// driver's help (cuGetErrorName cannot be called when the failure is loading the driver).
enum CUDAResultName {
    static let names: [Int32: String] = [
        0: "CUDA_SUCCESS",
        1: "CUDA_ERROR_INVALID_VALUE",
        2: "CUDA_ERROR_OUT_OF_MEMORY",
        3: "CUDA_ERROR_NOT_INITIALIZED",
        4: "CUDA_ERROR_DEINITIALIZED",
        34: "CUDA_ERROR_STUB_LIBRARY",
        36: "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER",
        46: "CUDA_ERROR_DEVICE_UNAVAILABLE",
        100: "CUDA_ERROR_NO_DEVICE",
        101: "CUDA_ERROR_INVALID_DEVICE",
        102: "CUDA_ERROR_DEVICE_NOT_LICENSED",
        200: "CUDA_ERROR_INVALID_IMAGE",
        201: "CUDA_ERROR_INVALID_CONTEXT",
        209: "CUDA_ERROR_NO_BINARY_FOR_GPU",
        218: "CUDA_ERROR_INVALID_PTX",
        221: "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
        222: "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
        303: "CUDA_ERROR_SHARED_OBJECT_INIT_FAILED",
        304: "CUDA_ERROR_OPERATING_SYSTEM",
        400: "CUDA_ERROR_INVALID_HANDLE",
        500: "CUDA_ERROR_NOT_FOUND",
        700: "CUDA_ERROR_ILLEGAL_ADDRESS",
        701: "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
        702: "CUDA_ERROR_LAUNCH_TIMEOUT",
        719: "CUDA_ERROR_LAUNCH_FAILED",
        800: "CUDA_ERROR_NOT_PERMITTED",
        801: "CUDA_ERROR_NOT_SUPPORTED",
        803: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
        804: "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
        999: "CUDA_ERROR_UNKNOWN",
    ]

    static func name(of status: Int32) -> String { names[status] ?? "CUresult \(status)" }
}
