// `ComputeDevice` on an NVIDIA GPU through the CUDA driver API, with kernels compiled by NVRTC
// for the GPU's compute capability at first use and cached on disk (KernelCache).
//
// One primary context per GPU (the one the CUDA runtime and cuBLAS would also use) and one
// stream on it; every upload, copy and launch is queued on that stream in order, and download
// and synchronize wait for it. The driver's "current context" is per thread, so each call first
// makes our context current on the calling thread (the backend may be used from different
// threads, one at a time).

import Foundation

/// The primary context of one GPU, released when the last user (device, memory, module) goes.
final class CUDAContext: @unchecked Sendable {
    let driver: CUDADriverAPI
    let device: CUDADriverAPI.CUdevice
    let handle: CUDADriverAPI.CUcontext

    init(driver: CUDADriverAPI, device: CUDADriverAPI.CUdevice) throws {
        var context: CUDADriverAPI.CUcontext?
        try driver.check(driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        guard let context else { throw DeviceError("CUDA cuDevicePrimaryCtxRetain returned no context") }
        self.driver = driver
        self.device = device
        self.handle = context
        do { try makeCurrent() } catch {
            _ = driver.cuDevicePrimaryCtxRelease(device)
            throw error
        }
    }

    deinit { _ = driver.cuDevicePrimaryCtxRelease(device) }

    /// Makes this context the calling thread's current one (a no-op when it already is).
    func makeCurrent() throws {
        var current: CUDADriverAPI.CUcontext?
        if driver.cuCtxGetCurrent(&current) == 0, current == handle { return }
        try driver.check(driver.cuCtxSetCurrent(handle), "cuCtxSetCurrent")
    }
}

/// A loaded module; unloaded when no kernel of it is left.
final class CUDAModule {
    let context: CUDAContext
    let handle: CUDADriverAPI.CUmodule

    init(context: CUDAContext, handle: CUDADriverAPI.CUmodule) {
        self.context = context
        self.handle = handle
    }

    deinit {
        if (try? context.makeCurrent()) != nil { _ = context.driver.cuModuleUnload(handle) }
    }
}

final class CUDAKernel: DeviceKernel {
    let name: String
    let function: CUDADriverAPI.CUfunction
    /// Keeps the module (and so `function`) loaded.
    let module: CUDAModule
    /// Byte size of each parameter, when the driver can say: launches are checked against it,
    /// because cuLaunchKernel itself reads as many values as the kernel has parameters,
    /// whatever it is given.
    let parameterSizes: [Int]?

    init(name: String, function: CUDADriverAPI.CUfunction, module: CUDAModule, parameterSizes: [Int]?) {
        self.name = name
        self.function = function
        self.module = module
        self.parameterSizes = parameterSizes
    }
}

final class CUDADevice: ComputeDevice {
    let api = GPUAPI.cuda
    let dialect = KernelDialect.cuda
    let name: String
    let deviceName: String
    let totalMemory: Int
    let computeCapability: (major: Int, minor: Int)
    /// CUDA version the driver supports, as 1000 * major + 10 * minor (12040 for 12.4).
    let driverVersion: Int
    /// How the kernels are compiled for this GPU (cubin for sm_XY, or PTX for compute_XY).
    let target: CompileTarget
    let multiprocessors: Int
    /// Theoretical memory bandwidth in bytes per second (double data rate × bus width), the
    /// yardstick for decode speed; nil when the driver does not report the memory clock.
    let peakMemoryBandwidth: Double?

    private let driver: CUDADriverAPI
    private let nvrtc: NVRTC
    private let context: CUDAContext
    private let stream: CUDADriverAPI.CUstream
    private let cache: KernelCache?
    private let maxGridY: Int

    /// The oldest driver we accept: CUDA 11.2 (the first with NVRTC cubin output and the
    /// `_v2` primary-context calls everywhere).
    static let minimumDriverVersion = 11020

    /// Opens GPU `ordinal`. Every way this can fail is a one-line `DeviceError`: no driver
    /// library, cuInit failure (with the CUresult name), no such device, a driver too old
    /// (for CUDA 11.2, or for the NVRTC found), NVRTC missing, an architecture NVRTC cannot
    /// compile for.
    static func open(ordinal: Int = 0) throws -> CUDADevice {
        try open(ordinal: ordinal, driverCandidates: CUDADriverAPI.defaultCandidates,
                 nvrtcCandidates: NVRTC.candidates(), cache: KernelCache())
    }

    static func open(ordinal: Int, driverCandidates: [String], nvrtcCandidates: [String],
                     cache: KernelCache?) throws -> CUDADevice {
        let driver = try CUDADriverAPI(candidates: driverCandidates)
        let initialized = driver.cuInit(0)
        guard initialized == 0 else {
            throw DeviceError("CUDA cuInit failed: \(driver.describe(initialized))")
        }
        var version: Int32 = 0
        try driver.check(driver.cuDriverGetVersion(&version), "cuDriverGetVersion")
        let driverVersion = Int(version)
        guard driverVersion >= minimumDriverVersion else {
            throw DeviceError("CUDA driver too old: it supports CUDA \(versionString(driverVersion)), Stepwise needs \(versionString(minimumDriverVersion)) or newer (update the NVIDIA driver)")
        }

        var count: Int32 = 0
        try driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard count > 0 else { throw DeviceError("CUDA: no CUDA device found") }
        guard ordinal >= 0 && ordinal < Int(count) else {
            throw DeviceError("CUDA: there is no device \(ordinal) (\(count) device\(count == 1 ? "" : "s"): 0...\(count - 1))")
        }
        var device: CUDADriverAPI.CUdevice = 0
        try driver.check(driver.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet(\(ordinal))")

        func attribute(_ which: Int32, _ what: String) throws -> Int {
            var value: Int32 = 0
            try driver.check(driver.cuDeviceGetAttribute(&value, which, device), "cuDeviceGetAttribute(\(what))")
            return Int(value)
        }
        let major = try attribute(CUDADriverAPI.attributeComputeCapabilityMajor, "compute capability major")
        let minor = try attribute(CUDADriverAPI.attributeComputeCapabilityMinor, "compute capability minor")
        let maxThreads = try attribute(CUDADriverAPI.attributeMaxThreadsPerBlock, "max threads per block")
        let maxGridY = try attribute(CUDADriverAPI.attributeMaxGridDimY, "max grid y")
        let multiprocessors = try attribute(CUDADriverAPI.attributeMultiprocessorCount, "multiprocessors")
        var peakMemoryBandwidth: Double?
        if let clock = try? attribute(CUDADriverAPI.attributeMemoryClockRate, "memory clock"),
           let width = try? attribute(CUDADriverAPI.attributeGlobalMemoryBusWidth, "memory bus width"),
           clock > 0, width > 0 {
            peakMemoryBandwidth = 2 * Double(clock) * 1000 * Double(width) / 8
        }
        var nameBuffer = [CChar](repeating: 0, count: 256)
        try driver.check(driver.cuDeviceGetName(&nameBuffer, Int32(nameBuffer.count - 1), device), "cuDeviceGetName")
        let deviceName = cString(nameBuffer)
        var total = 0
        try driver.check(driver.cuDeviceTotalMem(&total, device), "cuDeviceTotalMem")

        // The kernels use warp shuffles (__shfl_xor_sync: compute capability 3.0+) and groups
        // of up to maxGroup threads.
        guard maxThreads >= GPUKernelSource.maxGroup else {
            throw DeviceError("CUDA: \(deviceName) runs blocks of at most \(maxThreads) threads, the kernels need \(GPUKernelSource.maxGroup)")
        }

        let (nvrtc, target) = try chooseCompiler(candidates: nvrtcCandidates, driverVersion: driverVersion,
                                                 computeCapability: (major, minor), deviceName: deviceName)

        let context = try CUDAContext(driver: driver, device: device)
        var stream: CUDADriverAPI.CUstream?
        try driver.check(driver.cuStreamCreate(&stream, CUDADriverAPI.streamNonBlocking), "cuStreamCreate")
        guard let stream else { throw DeviceError("CUDA cuStreamCreate returned no stream") }

        return CUDADevice(driver: driver, nvrtc: nvrtc, context: context, stream: stream, cache: cache,
                          deviceName: deviceName, totalMemory: total, computeCapability: (major, minor),
                          driverVersion: driverVersion, target: target, multiprocessors: multiprocessors,
                          peakMemoryBandwidth: peakMemoryBandwidth, maxGridY: maxGridY)
    }

    /// The NVRTC to compile with and what it makes: the first of `candidates` that loads, whose
    /// code this driver can run (a driver runs code from compilers of its own CUDA major version
    /// or older: NVRTC 12 needs a CUDA 12 driver) and that knows this GPU (a cubin); failing
    /// that, the first that can make PTX for it. Each way of finding none is its own message.
    static func chooseCompiler(candidates: [String], driverVersion: Int, computeCapability: (major: Int, minor: Int),
                               deviceName: String) throws -> (NVRTC, CompileTarget) {
        var tooNew: NVRTC?
        var cannotTarget: NVRTC?
        var ptxOnly: (NVRTC, CompileTarget)?
        for candidate in candidates {
            guard let nvrtc = try? NVRTC(candidates: [candidate]) else { continue }
            guard nvrtc.version.major <= driverVersion / 1000 else {
                tooNew = tooNew ?? nvrtc
                continue
            }
            guard let target = nvrtc.target(forComputeCapability: computeCapability.major, computeCapability.minor) else {
                cannotTarget = cannotTarget ?? nvrtc
                continue
            }
            if target.kind == .cubin { return (nvrtc, target) }
            ptxOnly = ptxOnly ?? (nvrtc, target)
        }
        if let ptxOnly { return ptxOnly }
        if let nvrtc = cannotTarget {
            throw DeviceError("CUDA: NVRTC \(nvrtc.versionString) cannot compile for \(deviceName) (compute capability \(computeCapability.major).\(computeCapability.minor); it supports sm_\(nvrtc.supportedArchitectures.first ?? 0) and newer)")
        }
        if let nvrtc = tooNew {
            throw DeviceError("CUDA driver too old: it supports CUDA \(versionString(driverVersion)), but NVRTC \(nvrtc.versionString) (\(nvrtc.path)) makes code for CUDA \(nvrtc.version.major); update the NVIDIA driver or set STEPWISE_NVRTC to an NVRTC \(driverVersion / 1000).x")
        }
        // None loads: this throws the one-line error naming every candidate and why.
        _ = try NVRTC(candidates: candidates)
        throw DeviceError("NVRTC: none of \(candidates.joined(separator: ", ")) is usable")
    }

    static func versionString(_ version: Int) -> String { "\(version / 1000).\(version % 1000 / 10)" }

    private init(driver: CUDADriverAPI, nvrtc: NVRTC, context: CUDAContext, stream: CUDADriverAPI.CUstream,
                 cache: KernelCache?, deviceName: String, totalMemory: Int, computeCapability: (major: Int, minor: Int),
                 driverVersion: Int, target: CompileTarget, multiprocessors: Int, peakMemoryBandwidth: Double?,
                 maxGridY: Int) {
        self.driver = driver
        self.nvrtc = nvrtc
        self.context = context
        self.stream = stream
        self.cache = cache
        self.deviceName = deviceName
        self.totalMemory = totalMemory
        self.computeCapability = computeCapability
        self.driverVersion = driverVersion
        self.target = target
        self.multiprocessors = multiprocessors
        self.peakMemoryBandwidth = peakMemoryBandwidth
        self.maxGridY = maxGridY
        let code = target.kind == .cubin ? "sm_\(target.architecture) cubin" : "compute_\(target.architecture) PTX"
        self.name = "\(deviceName) (compute capability \(computeCapability.major).\(computeCapability.minor), "
            + "driver CUDA \(Self.versionString(driverVersion)), NVRTC \(nvrtc.versionString) \(code))"
    }

    deinit {
        if (try? context.makeCurrent()) != nil {
            _ = driver.cuStreamSynchronize(stream)
            _ = driver.cuStreamDestroy(stream)
        }
    }

    var freeMemory: Int? {
        guard (try? context.makeCurrent()) != nil else { return nil }
        var free = 0, total = 0
        return driver.cuMemGetInfo(&free, &total) == 0 ? free : nil
    }

    // MARK: Memory

    func allocate(bytes: Int, what: String) throws -> DeviceMemory {
        precondition(bytes >= 0, "allocate: negative size")
        try context.makeCurrent()
        var pointer: CUDADriverAPI.CUdeviceptr = 0
        // cuMemAlloc rejects 0 bytes; a zero-length buffer still needs a distinct handle.
        // (Freeing is safe while queued work still uses the memory: cuMemFree waits for it.)
        let status = driver.cuMemAlloc(&pointer, max(bytes, 16))
        guard status == 0 else {
            let free = freeMemory.map { ", \(Self.mebibytes($0)) of \(Self.mebibytes(totalMemory)) free" } ?? ""
            throw DeviceError("CUDA cannot allocate \(Self.mebibytes(bytes)) for \(what) on \(deviceName): \(driver.describe(status))\(free)")
        }
        // The closure keeps the context alive until the memory is freed.
        let context = self.context
        return DeviceMemory(byteCount: bytes, handle: pointer) { handle in
            if (try? context.makeCurrent()) != nil { _ = context.driver.cuMemFree(handle) }
        }
    }

    static func mebibytes(_ bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    func upload(_ bytes: UnsafeRawBufferPointer, to memory: DeviceMemory, offset: Int) throws {
        precondition(offset >= 0 && offset + bytes.count <= memory.byteCount, "upload past the end of a device buffer")
        guard bytes.count > 0 else { return }
        try context.makeCurrent()
        // From pageable host memory the driver copies the bytes to a staging buffer before it
        // returns, so the caller may reuse them at once; the transfer itself stays in order on
        // the stream.
        try driver.check(driver.cuMemcpyHtoDAsync(memory.handle + UInt64(offset), bytes.baseAddress, bytes.count, stream),
                         "upload of \(bytes.count) bytes")
    }

    func download(_ memory: DeviceMemory, offset: Int, into destination: UnsafeMutableRawBufferPointer) throws {
        precondition(offset >= 0 && offset + destination.count <= memory.byteCount, "download past the end of a device buffer")
        try context.makeCurrent()
        if destination.count > 0 {
            try driver.check(driver.cuMemcpyDtoHAsync(destination.baseAddress, memory.handle + UInt64(offset), destination.count, stream),
                             "download of \(destination.count) bytes")
        }
        try synchronize()
    }

    func copy(_ source: DeviceMemory, offset: Int, to target: DeviceMemory, offset targetOffset: Int, bytes: Int) throws {
        precondition(offset >= 0 && offset + bytes <= source.byteCount && targetOffset >= 0 && targetOffset + bytes <= target.byteCount,
                     "copy past the end of a device buffer")
        guard bytes > 0 else { return }
        try context.makeCurrent()
        try driver.check(driver.cuMemcpyDtoDAsync(target.handle + UInt64(targetOffset), source.handle + UInt64(offset), bytes, stream),
                         "device copy of \(bytes) bytes")
    }

    // MARK: Kernels

    /// Compiles `source` for this GPU (or takes the cached code), loads it and looks up
    /// `kernels`. A cached entry the driver rejects is removed and compiled afresh.
    func compile(source: String, kernels: [String]) throws -> [String: DeviceKernel] {
        try context.makeCurrent()
        let options = target.options
        let kind = target.kind.rawValue
        let key = KernelCache.key(source: source, options: options, compiler: "nvrtc \(nvrtc.versionString)", kind: kind)

        var module: CUDAModule?
        if let cached = cache?.load(key: key, kind: kind) {
            module = try? loadModule(cached)
            if module == nil { cache?.remove(key: key, kind: kind) }
        }
        if module == nil {
            let compilation = try nvrtc.compile(source: source, options: options)
            guard compilation.succeeded else {
                throw DeviceError("NVRTC \(nvrtc.versionString) could not compile the kernels for \(target.architectureOption.split(separator: "=").last ?? ""): \(NVRTC.firstLines(compilation.log, 3))")
            }
            guard let code = target.kind == .cubin ? compilation.cubin : compilation.ptx else {
                throw DeviceError("NVRTC \(nvrtc.versionString) produced no \(kind) for \(target.architectureOption)")
            }
            module = try loadModule(code)
            cache?.store(code, key: key, kind: kind)
        }
        guard let module else { preconditionFailure("compile: module neither cached nor compiled") }

        var result: [String: DeviceKernel] = [:]
        for kernelName in kernels {
            var function: CUDADriverAPI.CUfunction?
            try driver.check(driver.cuModuleGetFunction(&function, module.handle, kernelName), "cuModuleGetFunction(\(kernelName))")
            guard let function else { throw DeviceError("CUDA cuModuleGetFunction(\(kernelName)) returned nothing") }
            result[kernelName] = CUDAKernel(name: kernelName, function: function, module: module,
                                            parameterSizes: driver.parameterSizes(of: function))
        }
        return result
    }

    /// Loads a cubin or PTX image; the PTX JIT's error log goes into the error.
    private func loadModule(_ code: Data) throws -> CUDAModule {
        // PTX is text the driver reads up to its NUL; cubins are ELF and carry their size.
        var image = code
        if image.first != 0x7f && image.last != 0 { image.append(0) }
        var log = [CChar](repeating: 0, count: 4096)
        var handle: CUDADriverAPI.CUmodule?
        let status = log.withUnsafeMutableBufferPointer { logBuffer in
            var options: [Int32] = [CUDADriverAPI.jitErrorLogBuffer, CUDADriverAPI.jitErrorLogBufferSizeBytes]
            // Option values are passed in pointer-sized slots: the buffer, and its size as an integer.
            var values: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(logBuffer.baseAddress),
                                                      UnsafeMutableRawPointer(bitPattern: logBuffer.count - 1)]
            return image.withUnsafeBytes { bytes in
                driver.cuModuleLoadDataEx(&handle, bytes.baseAddress!, UInt32(options.count), &options, &values)
            }
        }
        guard status == 0, let handle else {
            let jitLog = NVRTC.firstLines(cString(log), 3)
            throw DeviceError("CUDA cannot load the compiled kernels on \(deviceName): \(driver.describe(status))\(jitLog.isEmpty ? "" : ": " + jitLog)")
        }
        return CUDAModule(context: context, handle: handle)
    }

    func launch(_ kernel: DeviceKernel, groups: (x: Int, y: Int), groupSize: Int, arguments: [KernelArgument]) throws {
        guard let kernel = kernel as? CUDAKernel else { preconditionFailure("launch: a kernel of another device") }
        precondition(groupSize > 0 && groupSize <= GPUKernelSource.maxGroup, "launch: group size \(groupSize)")
        guard groups.x > 0 && groups.y > 0 else { return }
        guard groups.x <= Int(Int32.max), groups.y <= maxGridY else {
            throw DeviceError("CUDA launch of \(kernel.name): \(groups.x)x\(groups.y) groups exceed the grid limit (y at most \(maxGridY))")
        }
        if let sizes = kernel.parameterSizes, !KernelParameters.matches(arguments, sizes: sizes) {
            throw DeviceError("CUDA launch of \(kernel.name): arguments of \(arguments.map(KernelParameters.byteSize)) bytes for parameters of \(sizes) bytes")
        }
        try context.makeCurrent()
        let status = KernelParameters.with(arguments) { parameters in
            driver.cuLaunchKernel(kernel.function, UInt32(groups.x), UInt32(groups.y), 1, UInt32(groupSize), 1, 1,
                                  0, stream, parameters, nil)
        }
        try driver.check(status, "launch of \(kernel.name) (\(groups.x)x\(groups.y) groups of \(groupSize))")
    }

    /// For a library that queues its own work on this device (cuBLAS): makes the context
    /// current on the calling thread (libraries built on the CUDA runtime use the current
    /// context) and returns the stream, so their work stays in order with our launches.
    func streamForLibraries() throws -> CUDADriverAPI.CUstream {
        try context.makeCurrent()
        return stream
    }

    func synchronize() throws {
        try context.makeCurrent()
        // Kernel faults (e.g. CUDA_ERROR_ILLEGAL_ADDRESS) surface here, asynchronously.
        try driver.check(driver.cuStreamSynchronize(stream), "cuStreamSynchronize")
    }
}

/// The text of a NUL-terminated C character buffer.
private func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// cuLaunchKernel's `void **kernelParams`: one pointer per kernel parameter, each pointing at
/// that parameter's value (the driver knows each parameter's size from the compiled kernel and
/// copies the value when the launch is queued, so the storage only has to outlive the call).
/// Device memory is passed as its CUdeviceptr (a 64-bit integer), integers as int32, floats as
/// float. Every value gets its own 8-byte, 8-aligned slot.
enum KernelParameters {
    static let slotBytes = 8

    /// The size of an argument's value as the kernel receives it.
    static func byteSize(_ argument: KernelArgument) -> Int {
        switch argument {
        case .memory: return 8
        case .int32, .float32: return 4
        }
    }

    /// Whether `arguments` fit parameters of `sizes` bytes one for one.
    static func matches(_ arguments: [KernelArgument], sizes: [Int]) -> Bool {
        guard arguments.count == sizes.count else { return false }
        for (argument, size) in zip(arguments, sizes) where byteSize(argument) != size { return false }
        return true
    }

    static func with<R>(_ arguments: [KernelArgument], _ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> R) -> R {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(arguments.count, 1) * slotBytes, alignment: slotBytes)
        defer { storage.deallocate() }
        let pointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: max(arguments.count, 1))
        defer { pointers.deallocate() }
        for (index, argument) in arguments.enumerated() {
            let slot = storage + index * slotBytes
            slot.storeBytes(of: UInt64(0), as: UInt64.self)
            switch argument {
            case .memory(let memory): slot.storeBytes(of: memory.handle, as: UInt64.self)
            case .int32(let value): slot.storeBytes(of: value, as: Int32.self)
            case .float32(let value): slot.storeBytes(of: value, as: Float.self)
            }
            pointers[index] = slot
        }
        return body(arguments.isEmpty ? nil : pointers)
    }
}
