// `ComputeDevice` on OpenCL 1.2 (libOpenCL.so.1 loaded at run time, see OpenCLAPI.swift).
//
// Its main job is CI: PoCL runs the very kernels the CUDA path runs, on the CPU, so every kernel
// is executed and compared with the CPU backend on machines without a GPU. It also drives real
// OpenCL GPUs, but `auto` device selection never picks OpenCL (see issue 8).
//
// One context, one in-order queue: launches, device copies and uploads run in call order, and a
// download waits for everything queued before it, which is the ordering `ComputeDevice` promises.

import Foundation

final class OpenCLKernel: DeviceKernel {
    let name: String
    let handle: CLObject
    private let api: OpenCLAPI

    init(name: String, handle: CLObject, api: OpenCLAPI) {
        self.name = name
        self.handle = handle
        self.api = api
    }

    deinit { _ = api.releaseKernel(handle) }
}

final class OpenCLDevice: ComputeDevice, @unchecked Sendable {
    /// Options every program is built with: the dialect's OpenCL C, and division/sqrt
    /// correctly rounded as on the CPU (quantizing activations divides by a scale, and a
    /// result one ulp off can round a value to a different integer).
    static let buildOptions = "-cl-std=CL1.2 -cl-fp32-correctly-rounded-divide-sqrt"

    let api: GPUAPI = .opencl
    let name: String
    /// The device's own name, e.g. "NVIDIA GeForce RTX 4090" or PoCL's "pthread-…".
    let deviceName: String
    let totalMemory: Int
    var freeMemory: Int? { nil }  // OpenCL 1.2 has no portable query for it
    let dialect: KernelDialect
    /// Whether this is a CPU OpenCL device (PoCL) rather than a GPU.
    let isCPU: Bool
    /// Largest single allocation the device accepts (CL_DEVICE_MAX_MEM_ALLOC_SIZE).
    let maxAllocation: Int
    let maxGroupSize: Int

    private let cl: OpenCLAPI
    private let device: CLObject
    private let context: CLObject
    private let queue: CLObject

    /// Opens the first GPU of the first platform that has one; with `allowCPU`, a CPU device
    /// (PoCL) when there is no GPU. Throws a one-line reason when there is nothing usable.
    static func open(allowCPU: Bool) throws -> OpenCLDevice {
        let cl = try OpenCLAPI.shared.get()
        var count: CLUInt = 0
        let status = cl.getPlatformIDs(0, nil, &count)
        if status == -1001 || (status == CL.success && count == 0) {
            throw DeviceError("OpenCL: no platform installed (no ICD in /etc/OpenCL/vendors)")
        }
        try cl.check(status, "clGetPlatformIDs")
        var platforms = [CLObject?](repeating: nil, count: Int(count))
        try cl.check(cl.getPlatformIDs(count, &platforms, nil), "clGetPlatformIDs")

        // Every GPU of every platform first, then (if allowed) CPU devices; the first that
        // opens wins, so an unusable GPU (say OpenCL C 1.1) does not hide a usable one.
        var gpus: [(CLObject, CLObject)] = [], cpus: [(CLObject, CLObject)] = []  // (platform, device)
        for platform in platforms {
            guard let platform else { continue }
            gpus += devices(cl, platform, type: CL.deviceTypeGPU).map { (platform, $0) }
            cpus += devices(cl, platform, type: CL.deviceTypeCPU).map { (platform, $0) }
        }
        if gpus.isEmpty && !allowCPU {
            let others = cpus.map { cl.deviceString($0.1, CL.deviceName) }
            throw DeviceError("OpenCL: no GPU device" + (others.isEmpty ? "" : " (only the CPU device \(others.joined(separator: ", ")))"))
        }
        let candidates = gpus.map { ($0, false) } + (allowCPU ? cpus.map { ($0, true) } : [])
        var firstError: Error?
        for ((platform, device), isCPU) in candidates {
            do {
                return try OpenCLDevice(cl: cl, platform: platform, device: device, isCPU: isCPU)
            } catch {
                firstError = firstError ?? error
            }
        }
        throw firstError ?? DeviceError("OpenCL: no GPU or CPU device on \(platforms.count) platform(s)")
    }

    /// The devices of `type` on `platform` (none when the query fails: CL_DEVICE_NOT_FOUND).
    private static func devices(_ cl: OpenCLAPI, _ platform: CLObject, type: UInt64) -> [CLObject] {
        var count: CLUInt = 0
        guard cl.getDeviceIDs(platform, type, 0, nil, &count) == CL.success, count > 0 else { return [] }
        var ids = [CLObject?](repeating: nil, count: Int(count))
        guard cl.getDeviceIDs(platform, type, count, &ids, nil) == CL.success else { return [] }
        return ids.compactMap { $0 }
    }

    private init(cl: OpenCLAPI, platform: CLObject, device: CLObject, isCPU: Bool) throws {
        self.cl = cl
        self.device = device
        self.isCPU = isCPU
        deviceName = cl.deviceString(device, CL.deviceName)
        let languageVersion = cl.deviceString(device, CL.deviceOpenCLCVersion)  // "OpenCL C 1.2 …"
        let driver = cl.deviceString(device, CL.driverVersion)
        let platformName = cl.platformString(platform, CL.platformName)
        name = "\(deviceName) (\(languageVersion), driver \(driver), \(platformName))"
        totalMemory = Int(cl.deviceValue(device, CL.deviceGlobalMemSize, as: UInt64.self) ?? 0)
        maxAllocation = Int(cl.deviceValue(device, CL.deviceMaxMemAllocSize, as: UInt64.self) ?? 0)
        maxGroupSize = cl.deviceValue(device, CL.deviceMaxWorkGroupSize, as: Int.self) ?? 0

        // "OpenCL C 1.2 ..." → (1, 2); the kernels need 1.2 (vload_half, -cl-std=CL1.2).
        let numbers = languageVersion.split(separator: " ").dropFirst(2).first?.split(separator: ".").compactMap { Int($0) } ?? []
        guard numbers.count >= 2, (numbers[0], numbers[1]) >= (1, 2) else {
            throw DeviceError("OpenCL: \(deviceName) supports \(languageVersion.isEmpty ? "an unknown OpenCL C" : languageVersion), the kernels need OpenCL C 1.2")
        }
        guard maxGroupSize >= GPUKernelSource.maxGroup else {
            throw DeviceError("OpenCL: \(deviceName) runs work-groups of at most \(maxGroupSize) threads, the kernels need \(GPUKernelSource.maxGroup)")
        }

        var status: CLInt = 0
        var devices: [CLObject?] = [device]
        guard let context = cl.createContext(nil, 1, &devices, nil, nil, &status), status == CL.success else {
            throw DeviceError("OpenCL clCreateContext on \(deviceName): \(CL.errorName(status))")
        }
        guard let queue = cl.createCommandQueue(context, device, 0, &status), status == CL.success else {
            _ = cl.releaseContext(context)
            throw DeviceError("OpenCL clCreateCommandQueue on \(deviceName): \(CL.errorName(status))")
        }
        self.context = context
        self.queue = queue

        // Sub-group reductions only where the extension is advertised AND the compiler accepts
        // them in OpenCL C 1.2 mode (some drivers list cl_khr_subgroups but only expose the
        // built-ins to OpenCL C 2.x); a failed probe falls back to local-memory trees.
        let extensions = cl.deviceString(device, CL.deviceExtensions).split(separator: " ")
        var dialect = KernelDialect.opencl(subgroups: false)
        if extensions.contains("cl_khr_subgroups") {
            let probe = GPUKernelSource.dialectProbe(.opencl(subgroups: true))
            if (try? Self.build(cl, context, device, deviceName, source: probe, kernels: ["stepwise_probe"])) != nil {
                dialect = .opencl(subgroups: true)
            }
        }
        self.dialect = dialect
    }

    deinit {
        _ = cl.finish(queue)
        _ = cl.releaseCommandQueue(queue)
        _ = cl.releaseContext(context)
    }

    // MARK: Memory

    func allocate(bytes: Int, what: String) throws -> DeviceMemory {
        precondition(bytes >= 0, "allocate: negative size")
        if maxAllocation > 0 && bytes > maxAllocation {
            throw DeviceError("OpenCL: \(what) needs \(bytes) bytes, \(deviceName) allocates at most \(maxAllocation) at once")
        }
        var status: CLInt = 0
        // A zero-byte buffer is CL_INVALID_BUFFER_SIZE; allocate a token few bytes instead.
        guard let buffer = cl.createBuffer(context, CL.memReadWrite, max(bytes, 16), nil, &status), status == CL.success else {
            throw DeviceError("OpenCL cannot allocate \(bytes) bytes for \(what): \(CL.errorName(status))")
        }
        let release = cl.releaseMemObject
        return DeviceMemory(byteCount: bytes, handle: UInt64(UInt(bitPattern: buffer))) { handle in
            _ = release(CLObject(bitPattern: UInt(handle)))
        }
    }

    private func memory(_ m: DeviceMemory) -> CLObject? { CLObject(bitPattern: UInt(m.handle)) }

    func upload(_ bytes: UnsafeRawBufferPointer, to memory: DeviceMemory, offset: Int) throws {
        precondition(offset >= 0 && offset + bytes.count <= memory.byteCount, "upload past the end of a device buffer")
        guard bytes.count > 0 else { return }
        // Blocking, so the caller may reuse its bytes as soon as this returns.
        try cl.check(cl.enqueueWriteBuffer(queue, self.memory(memory), 1, offset, bytes.count, bytes.baseAddress, 0, nil, nil),
                     "write of \(bytes.count) bytes")
    }

    func download(_ memory: DeviceMemory, offset: Int, into destination: UnsafeMutableRawBufferPointer) throws {
        precondition(offset >= 0 && offset + destination.count <= memory.byteCount, "download past the end of a device buffer")
        guard destination.count > 0 else { return try synchronize() }
        // A blocking read on an in-order queue also waits for every command queued before it.
        try cl.check(cl.enqueueReadBuffer(queue, self.memory(memory), 1, offset, destination.count, destination.baseAddress, 0, nil, nil),
                     "read of \(destination.count) bytes")
    }

    func copy(_ source: DeviceMemory, offset: Int, to target: DeviceMemory, offset targetOffset: Int, bytes: Int) throws {
        precondition(offset >= 0 && offset + bytes <= source.byteCount && targetOffset >= 0 && targetOffset + bytes <= target.byteCount,
                     "copy past the end of a device buffer")
        guard bytes > 0 else { return }
        try cl.check(cl.enqueueCopyBuffer(queue, memory(source), memory(target), offset, targetOffset, bytes, 0, nil, nil),
                     "copy of \(bytes) bytes")
    }

    // MARK: Kernels

    func compile(source: String, kernels: [String]) throws -> [String: DeviceKernel] {
        try Self.build(cl, context, device, deviceName, source: source, kernels: kernels)
    }

    private static func build(_ cl: OpenCLAPI, _ context: CLObject, _ device: CLObject, _ deviceName: String,
                              source: String, kernels: [String]) throws -> [String: DeviceKernel] {
        var status: CLInt = 0
        let created: CLObject? = source.withCString { text in
            var strings: [UnsafePointer<CChar>?] = [text]
            return cl.createProgramWithSource(context, 1, &strings, nil, &status)
        }
        guard let program = created, status == CL.success else {
            throw DeviceError("OpenCL clCreateProgramWithSource: \(CL.errorName(status))")
        }
        defer { _ = cl.releaseProgram(program) }  // the kernels keep the program alive
        var devices: [CLObject?] = [device]
        status = Self.buildOptions.withCString { cl.buildProgram(program, 1, &devices, $0, nil, nil) }
        if status != CL.success {
            // The first lines of the log say what is wrong; the rest is usually consequences.
            let log = cl.buildLog(program, device).split(separator: "\n").prefix(4)
                .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " | ")
            throw DeviceError("OpenCL build failed on \(deviceName): \(CL.errorName(status))\(log.isEmpty ? "" : ": " + log)")
        }
        var result: [String: DeviceKernel] = [:]
        for kernelName in kernels {
            guard let kernel = cl.createKernel(program, kernelName, &status), status == CL.success else {
                throw DeviceError("OpenCL clCreateKernel \(kernelName): \(CL.errorName(status))")
            }
            result[kernelName] = OpenCLKernel(name: kernelName, handle: kernel, api: cl)
        }
        return result
    }

    func launch(_ kernel: DeviceKernel, groups: (x: Int, y: Int), groupSize: Int, arguments: [KernelArgument]) throws {
        guard let kernel = kernel as? OpenCLKernel else { preconditionFailure("launch: a kernel of another device") }
        precondition(groupSize > 0 && groupSize <= GPUKernelSource.maxGroup, "launch: group size \(groupSize)")
        guard groups.x > 0 && groups.y > 0 else { return }
        for (index, argument) in arguments.enumerated() {
            let status: CLInt
            switch argument {
            case .memory(let m):
                var handle = memory(m)
                status = cl.setKernelArg(kernel.handle, CLUInt(index), MemoryLayout<CLObject?>.size, &handle)
            case .int32(let value):
                var v = value
                status = cl.setKernelArg(kernel.handle, CLUInt(index), 4, &v)
            case .float32(let value):
                var v = value
                status = cl.setKernelArg(kernel.handle, CLUInt(index), 4, &v)
            }
            try cl.check(status, "\(kernel.name) argument \(index)")
        }
        let global = [groups.x * groupSize, groups.y]
        let local = [groupSize, 1]
        try cl.check(cl.enqueueNDRangeKernel(queue, kernel.handle, 2, nil, global, local, 0, nil, nil),
                     "launch of \(kernel.name) (\(groups.x)x\(groups.y) groups of \(groupSize))")
    }

    func synchronize() throws {
        try cl.check(cl.finish(queue), "clFinish")
    }
}

extension GPUKernelSource {
    /// A one-kernel program that exercises the dialect's reductions, to find out whether a
    /// device's compiler accepts the dialect before the real program is built.
    static func dialectProbe(_ dialect: KernelDialect) -> String {
        let prelude: String
        switch dialect {
        case .cuda: prelude = cudaPrelude
        case .opencl(let subgroups): prelude = (subgroups ? "#define STEPWISE_SUBGROUPS 1\n" : "") + openCLPrelude
        }
        return "#define MAX_GROUP \(maxGroup)\n" + prelude + #"""
KERNEL void stepwise_probe(GLOBAL float *x) {
    SHARED float scratch[MAX_GROUP];
    const float v = x[THREAD_ID];
    const float s = group_sum(v, scratch);
    x[THREAD_ID] = s + group_max(v, scratch);
}

"""#
    }
}
