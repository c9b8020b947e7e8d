// The part of the OpenCL 1.2 host API the GPU backend uses, loaded from libOpenCL.so.1 (the
// ICD loader) at run time, so the binary needs no OpenCL headers or library to build or run.
//
// Types follow cl.h on LP64 Linux: cl_int = Int32, cl_uint/cl_bool and the *_info enums =
// UInt32, cl_ulong/cl_bitfield = UInt64, size_t = Int, every cl_* object an opaque pointer.
// Callbacks we never pass (clCreateContext's, clBuildProgram's) are typed as raw pointers so a
// nil can be given without spelling out their C signature.

import Foundation

typealias CLInt = Int32
typealias CLUInt = UInt32
typealias CLObject = OpaquePointer

/// Constants of cl.h the backend uses.
enum CL {
    static let success: CLInt = 0

    static let deviceTypeCPU: UInt64 = 1 << 1
    static let deviceTypeGPU: UInt64 = 1 << 2
    static let deviceTypeAccelerator: UInt64 = 1 << 3
    static let deviceTypeAll: UInt64 = 0xFFFF_FFFF

    static let platformVersion: CLUInt = 0x0901
    static let platformName: CLUInt = 0x0902

    static let deviceType: CLUInt = 0x1000
    static let deviceMaxWorkGroupSize: CLUInt = 0x1004
    static let deviceMaxMemAllocSize: CLUInt = 0x1010
    static let deviceGlobalMemSize: CLUInt = 0x101F
    static let deviceLocalMemSize: CLUInt = 0x1023
    static let deviceName: CLUInt = 0x102B
    static let driverVersion: CLUInt = 0x102D
    static let deviceVersion: CLUInt = 0x102F
    static let deviceExtensions: CLUInt = 0x1030
    static let deviceOpenCLCVersion: CLUInt = 0x103D

    static let memReadWrite: UInt64 = 1 << 0
    static let programBuildLog: CLUInt = 0x1183

    /// The name of an OpenCL error code, e.g. "CL_OUT_OF_RESOURCES (-5)".
    static func errorName(_ code: CLInt) -> String {
        let names: [CLInt: String] = [
            0: "CL_SUCCESS", -1: "CL_DEVICE_NOT_FOUND", -2: "CL_DEVICE_NOT_AVAILABLE",
            -3: "CL_COMPILER_NOT_AVAILABLE", -4: "CL_MEM_OBJECT_ALLOCATION_FAILURE",
            -5: "CL_OUT_OF_RESOURCES", -6: "CL_OUT_OF_HOST_MEMORY",
            -7: "CL_PROFILING_INFO_NOT_AVAILABLE", -8: "CL_MEM_COPY_OVERLAP",
            -9: "CL_IMAGE_FORMAT_MISMATCH", -10: "CL_IMAGE_FORMAT_NOT_SUPPORTED",
            -11: "CL_BUILD_PROGRAM_FAILURE", -12: "CL_MAP_FAILURE",
            -13: "CL_MISALIGNED_SUB_BUFFER_OFFSET", -14: "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
            -15: "CL_COMPILE_PROGRAM_FAILURE", -16: "CL_LINKER_NOT_AVAILABLE",
            -17: "CL_LINK_PROGRAM_FAILURE", -18: "CL_DEVICE_PARTITION_FAILED",
            -19: "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
            -30: "CL_INVALID_VALUE", -31: "CL_INVALID_DEVICE_TYPE", -32: "CL_INVALID_PLATFORM",
            -33: "CL_INVALID_DEVICE", -34: "CL_INVALID_CONTEXT", -35: "CL_INVALID_QUEUE_PROPERTIES",
            -36: "CL_INVALID_COMMAND_QUEUE", -37: "CL_INVALID_HOST_PTR", -38: "CL_INVALID_MEM_OBJECT",
            -39: "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR", -40: "CL_INVALID_IMAGE_SIZE",
            -41: "CL_INVALID_SAMPLER", -42: "CL_INVALID_BINARY", -43: "CL_INVALID_BUILD_OPTIONS",
            -44: "CL_INVALID_PROGRAM", -45: "CL_INVALID_PROGRAM_EXECUTABLE",
            -46: "CL_INVALID_KERNEL_NAME", -47: "CL_INVALID_KERNEL_DEFINITION",
            -48: "CL_INVALID_KERNEL", -49: "CL_INVALID_ARG_INDEX", -50: "CL_INVALID_ARG_VALUE",
            -51: "CL_INVALID_ARG_SIZE", -52: "CL_INVALID_KERNEL_ARGS",
            -53: "CL_INVALID_WORK_DIMENSION", -54: "CL_INVALID_WORK_GROUP_SIZE",
            -55: "CL_INVALID_WORK_ITEM_SIZE", -56: "CL_INVALID_GLOBAL_OFFSET",
            -57: "CL_INVALID_EVENT_WAIT_LIST", -58: "CL_INVALID_EVENT", -59: "CL_INVALID_OPERATION",
            -60: "CL_INVALID_GL_OBJECT", -61: "CL_INVALID_BUFFER_SIZE", -62: "CL_INVALID_MIP_LEVEL",
            -63: "CL_INVALID_GLOBAL_WORK_SIZE", -64: "CL_INVALID_PROPERTY",
            -65: "CL_INVALID_IMAGE_DESCRIPTOR", -66: "CL_INVALID_COMPILER_OPTIONS",
            -67: "CL_INVALID_LINKER_OPTIONS", -68: "CL_INVALID_DEVICE_PARTITION_COUNT",
            -1001: "CL_PLATFORM_NOT_FOUND_KHR",
        ]
        return "\(names[code] ?? "CL error") (\(code))"
    }
}

/// Function pointers into libOpenCL.so.1. One instance per process (`shared`); it keeps the
/// library open for as long as any device, buffer or kernel may call through it.
final class OpenCLAPI: @unchecked Sendable {
    typealias GetPlatformIDs = @convention(c) (CLUInt, UnsafeMutablePointer<CLObject?>?, UnsafeMutablePointer<CLUInt>?) -> CLInt
    typealias GetPlatformInfo = @convention(c) (CLObject?, CLUInt, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> CLInt
    typealias GetDeviceIDs = @convention(c) (CLObject?, UInt64, CLUInt, UnsafeMutablePointer<CLObject?>?, UnsafeMutablePointer<CLUInt>?) -> CLInt
    typealias GetDeviceInfo = @convention(c) (CLObject?, CLUInt, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> CLInt
    typealias CreateContext = @convention(c) (UnsafePointer<Int>?, CLUInt, UnsafePointer<CLObject?>?, UnsafeRawPointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<CLInt>?) -> CLObject?
    typealias CreateCommandQueue = @convention(c) (CLObject?, CLObject?, UInt64, UnsafeMutablePointer<CLInt>?) -> CLObject?
    typealias CreateBuffer = @convention(c) (CLObject?, UInt64, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<CLInt>?) -> CLObject?
    typealias EnqueueWriteBuffer = @convention(c) (CLObject?, CLObject?, CLUInt, Int, Int, UnsafeRawPointer?, CLUInt, UnsafePointer<CLObject?>?, UnsafeMutablePointer<CLObject?>?) -> CLInt
    typealias EnqueueReadBuffer = @convention(c) (CLObject?, CLObject?, CLUInt, Int, Int, UnsafeMutableRawPointer?, CLUInt, UnsafePointer<CLObject?>?, UnsafeMutablePointer<CLObject?>?) -> CLInt
    typealias EnqueueCopyBuffer = @convention(c) (CLObject?, CLObject?, CLObject?, Int, Int, Int, CLUInt, UnsafePointer<CLObject?>?, UnsafeMutablePointer<CLObject?>?) -> CLInt
    typealias CreateProgramWithSource = @convention(c) (CLObject?, CLUInt, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int>?, UnsafeMutablePointer<CLInt>?) -> CLObject?
    typealias BuildProgram = @convention(c) (CLObject?, CLUInt, UnsafePointer<CLObject?>?, UnsafePointer<CChar>?, UnsafeRawPointer?, UnsafeMutableRawPointer?) -> CLInt
    typealias GetProgramBuildInfo = @convention(c) (CLObject?, CLObject?, CLUInt, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> CLInt
    typealias CreateKernel = @convention(c) (CLObject?, UnsafePointer<CChar>?, UnsafeMutablePointer<CLInt>?) -> CLObject?
    typealias SetKernelArg = @convention(c) (CLObject?, CLUInt, Int, UnsafeRawPointer?) -> CLInt
    typealias EnqueueNDRangeKernel = @convention(c) (CLObject?, CLObject?, CLUInt, UnsafePointer<Int>?, UnsafePointer<Int>?, UnsafePointer<Int>?, CLUInt, UnsafePointer<CLObject?>?, UnsafeMutablePointer<CLObject?>?) -> CLInt
    typealias Finish = @convention(c) (CLObject?) -> CLInt
    typealias Release = @convention(c) (CLObject?) -> CLInt

    let library: DynamicLibrary
    let getPlatformIDs: GetPlatformIDs
    let getPlatformInfo: GetPlatformInfo
    let getDeviceIDs: GetDeviceIDs
    let getDeviceInfo: GetDeviceInfo
    let createContext: CreateContext
    let createCommandQueue: CreateCommandQueue
    let createBuffer: CreateBuffer
    let enqueueWriteBuffer: EnqueueWriteBuffer
    let enqueueReadBuffer: EnqueueReadBuffer
    let enqueueCopyBuffer: EnqueueCopyBuffer
    let createProgramWithSource: CreateProgramWithSource
    let buildProgram: BuildProgram
    let getProgramBuildInfo: GetProgramBuildInfo
    let createKernel: CreateKernel
    let setKernelArg: SetKernelArg
    let enqueueNDRangeKernel: EnqueueNDRangeKernel
    let finish: Finish
    let releaseMemObject: Release
    let releaseKernel: Release
    let releaseProgram: Release
    let releaseCommandQueue: Release
    let releaseContext: Release

    /// The process's OpenCL library, loaded on first use (the outcome is kept: a missing
    /// library is reported the same way every time without retrying dlopen).
    static let shared: Result<OpenCLAPI, DeviceError> = {
        do {
            return .success(try OpenCLAPI())
        } catch let error as DeviceError {
            return .failure(error)
        } catch {
            return .failure(DeviceError("OpenCL: \(error)"))
        }
    }()

    private init() throws {
        let candidates = ProcessInfo.processInfo.environment["STEPWISE_OPENCL"].map { [$0] }
            ?? ["libOpenCL.so.1", "libOpenCL.so"]
        do {
            library = try DynamicLibrary(candidates: candidates)
        } catch {
            throw DeviceError("OpenCL unavailable: \(error)")
        }
        getPlatformIDs = try library.symbol("clGetPlatformIDs", as: GetPlatformIDs.self)
        getPlatformInfo = try library.symbol("clGetPlatformInfo", as: GetPlatformInfo.self)
        getDeviceIDs = try library.symbol("clGetDeviceIDs", as: GetDeviceIDs.self)
        getDeviceInfo = try library.symbol("clGetDeviceInfo", as: GetDeviceInfo.self)
        createContext = try library.symbol("clCreateContext", as: CreateContext.self)
        // Deprecated in OpenCL 2.0 in favour of clCreateCommandQueueWithProperties, but every
        // ICD loader still exports it and it is the only one OpenCL 1.2 devices have.
        createCommandQueue = try library.symbol("clCreateCommandQueue", as: CreateCommandQueue.self)
        createBuffer = try library.symbol("clCreateBuffer", as: CreateBuffer.self)
        enqueueWriteBuffer = try library.symbol("clEnqueueWriteBuffer", as: EnqueueWriteBuffer.self)
        enqueueReadBuffer = try library.symbol("clEnqueueReadBuffer", as: EnqueueReadBuffer.self)
        enqueueCopyBuffer = try library.symbol("clEnqueueCopyBuffer", as: EnqueueCopyBuffer.self)
        createProgramWithSource = try library.symbol("clCreateProgramWithSource", as: CreateProgramWithSource.self)
        buildProgram = try library.symbol("clBuildProgram", as: BuildProgram.self)
        getProgramBuildInfo = try library.symbol("clGetProgramBuildInfo", as: GetProgramBuildInfo.self)
        createKernel = try library.symbol("clCreateKernel", as: CreateKernel.self)
        setKernelArg = try library.symbol("clSetKernelArg", as: SetKernelArg.self)
        enqueueNDRangeKernel = try library.symbol("clEnqueueNDRangeKernel", as: EnqueueNDRangeKernel.self)
        finish = try library.symbol("clFinish", as: Finish.self)
        releaseMemObject = try library.symbol("clReleaseMemObject", as: Release.self)
        releaseKernel = try library.symbol("clReleaseKernel", as: Release.self)
        releaseProgram = try library.symbol("clReleaseProgram", as: Release.self)
        releaseCommandQueue = try library.symbol("clReleaseCommandQueue", as: Release.self)
        releaseContext = try library.symbol("clReleaseContext", as: Release.self)
    }

    /// Throws "OpenCL <what>: <error name>" unless `code` is CL_SUCCESS.
    func check(_ code: CLInt, _ what: @autoclosure () -> String) throws {
        guard code == CL.success else { throw DeviceError("OpenCL \(what()): \(CL.errorName(code))") }
    }

    // MARK: Info queries (the "ask for the size, then the bytes" protocol of clGet*Info)

    func platformString(_ platform: CLObject?, _ parameter: CLUInt) -> String {
        string { size, value, needed in getPlatformInfo(platform, parameter, size, value, needed) }
    }

    func deviceString(_ device: CLObject?, _ parameter: CLUInt) -> String {
        string { size, value, needed in getDeviceInfo(device, parameter, size, value, needed) }
    }

    func deviceValue<T: FixedWidthInteger>(_ device: CLObject?, _ parameter: CLUInt, as type: T.Type) -> T? {
        var value: T = 0
        let code = getDeviceInfo(device, parameter, MemoryLayout<T>.size, &value, nil)
        return code == CL.success ? value : nil
    }

    func buildLog(_ program: CLObject?, _ device: CLObject?) -> String {
        string { size, value, needed in getProgramBuildInfo(program, device, CL.programBuildLog, size, value, needed) }
    }

    /// A NUL-terminated string returned by a clGet*Info call; "" when the query fails.
    private func string(_ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> CLInt) -> String {
        var size = 0
        guard query(0, nil, &size) == CL.success, size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size + 1)
        guard bytes.withUnsafeMutableBytes({ query(size, $0.baseAddress, nil) }) == CL.success else { return "" }
        return bytes.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
