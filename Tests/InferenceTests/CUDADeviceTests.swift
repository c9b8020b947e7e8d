// The CUDA host path, tested without a GPU.
//
// - The kernel cache: SHA-256 against the standard's test vectors, keys, the directory rules,
//   a store/load round trip; the packing of cuLaunchKernel's parameters.
// - Opening with no driver library: a one-line error (and, on a machine that has a GPU, a real
//   smoke test instead).
// - `CUDADevice` end to end against a fake libcuda: a small C library compiled here (clang/cc)
//   that implements the driver entry points we use on host memory, with a real NVRTC (the
//   PyPI wheel, STEPWISE_TEST_NVRTC) producing the cubins it "loads". It checks every error
//   `open` can give, memory and copies, module loading and the cache, kernel lookup, argument
//   passing and grid sizes of launches, asynchronous faults, and that the context and every
//   allocation are released. What it cannot check is the real driver's behaviour: that needs a
//   GPU (see `testRealDeviceWhenPresent`).
import Foundation
@testable import Inference
import XCTest

final class CUDADeviceTests: XCTestCase {
    // MARK: SHA-256 and the kernel cache

    func testSHA256MatchesStandardVectors() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Array(("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                                         + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu").utf8)),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        // Lengths around the padding boundary (55, 56, 64 bytes) must all hash distinctly.
        let hashes = Set([55, 56, 63, 64, 65].map { SHA256.hex([UInt8](repeating: 0x61, count: $0)) })
        XCTAssertEqual(hashes.count, 5)
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 1_000)),
                       "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    func testCacheKeyCoversSourceOptionsCompilerAndKind() {
        let base = KernelCache.key(source: "k", options: ["--gpu-architecture=sm_80"], compiler: "nvrtc 12.9", kind: "cubin")
        XCTAssertEqual(base.count, 64)
        XCTAssertTrue(base.allSatisfy { $0.isHexDigit })
        XCTAssertEqual(base, KernelCache.key(source: "k", options: ["--gpu-architecture=sm_80"], compiler: "nvrtc 12.9", kind: "cubin"))
        let variants = [
            KernelCache.key(source: "k ", options: ["--gpu-architecture=sm_80"], compiler: "nvrtc 12.9", kind: "cubin"),
            KernelCache.key(source: "k", options: ["--gpu-architecture=sm_90"], compiler: "nvrtc 12.9", kind: "cubin"),
            KernelCache.key(source: "k", options: ["--gpu-architecture=sm_80"], compiler: "nvrtc 12.8", kind: "cubin"),
            KernelCache.key(source: "k", options: ["--gpu-architecture=sm_80"], compiler: "nvrtc 12.9", kind: "ptx"),
            // Field boundaries matter: moving text between fields changes the key.
            KernelCache.key(source: "", options: ["--gpu-architecture=sm_80", "k"], compiler: "nvrtc 12.9", kind: "cubin"),
        ]
        XCTAssertEqual(Set(variants + [base]).count, variants.count + 1)
    }

    func testCacheDirectoryAndRoundTrip() throws {
        XCTAssertEqual(KernelCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/h"]).path,
                       "/x/cache/stepwise/kernels")
        XCTAssertEqual(KernelCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"]).path,
                       "/h/.cache/stepwise/kernels")
        XCTAssertEqual(KernelCache.defaultDirectory(environment: ["HOME": "/h"]).path, "/h/.cache/stepwise/kernels")

        let directory = try temporaryDirectory().appendingPathComponent("a/b/kernels")
        let cache = KernelCache(directory: directory)
        let key = KernelCache.key(source: "s", options: [], compiler: "c", kind: "cubin")
        XCTAssertNil(cache.load(key: key, kind: "cubin"))
        let code = Data([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3])
        XCTAssertTrue(cache.store(code, key: key, kind: "cubin"))
        XCTAssertEqual(cache.load(key: key, kind: "cubin"), code)
        XCTAssertNil(cache.load(key: key, kind: "ptx"))
        XCTAssertTrue(cache.store(Data([9]), key: key, kind: "cubin"), "replacing an entry")
        XCTAssertEqual(cache.load(key: key, kind: "cubin"), Data([9]))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [])
        cache.remove(key: key, kind: "cubin")
        XCTAssertNil(cache.load(key: key, kind: "cubin"))

        // An unwritable place is not an error, just no cache.
        let blocked = KernelCache(directory: URL(fileURLWithPath: "/proc/stepwise-no-such-dir/kernels"))
        XCTAssertFalse(blocked.store(code, key: key, kind: "cubin"))
    }

    // MARK: Launch parameters

    func testKernelParametersPointAtEachValue() {
        let memory = DeviceMemory(byteCount: 4, handle: 0x1234_5678_9abc_def0) { _ in }
        let arguments: [KernelArgument] = [.memory(memory), .int32(-7), .float32(2.5), .int(1 << 20)]
        KernelParameters.with(arguments) { parameters in
            guard let parameters else { return XCTFail("no parameter array") }
            XCTAssertEqual(parameters[0]?.load(as: UInt64.self), 0x1234_5678_9abc_def0)
            XCTAssertEqual(parameters[1]?.load(as: Int32.self), -7)
            XCTAssertEqual(parameters[2]?.load(as: Float.self), 2.5)
            XCTAssertEqual(parameters[3]?.load(as: Int32.self), 1 << 20)
            // Each value in its own 8-aligned slot.
            for i in 0..<4 { XCTAssertEqual(Int(bitPattern: parameters[i]) % 8, 0) }
            XCTAssertEqual(Set((0..<4).map { parameters[$0] }).count, 4)
        }
        KernelParameters.with([]) { XCTAssertNil($0) }
    }

    // MARK: Opening without a driver

    func testMissingDriverIsOneLineError() {
        XCTAssertThrowsError(try CUDADevice.open(ordinal: 0, driverCandidates: ["/nonexistent/libcuda.so.1"],
                                                 nvrtcCandidates: [], cache: nil)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("CUDA driver not found"), text)
            XCTAssertTrue(text.contains("/nonexistent/libcuda.so.1"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
    }

    /// On this machine's real driver: without a GPU `open` must fail with one line; with one,
    /// the device must run a kernel.
    func testRealDeviceWhenPresent() throws {
        let device: CUDADevice
        do {
            device = try CUDADevice.open()
        } catch {
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertTrue(text.hasPrefix("CUDA") || text.hasPrefix("NVRTC"), text)
            throw XCTSkip("no usable CUDA device: \(text)")
        }
        let source = #"""
            extern "C" __global__ void scale_add(float *x, int n, float s) {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) x[i] = x[i] * s + (float)blockIdx.y;
            }
            """#
        let kernels = try device.compile(source: source, kernels: ["scale_add"])
        let values = (0..<1000).map { Float($0) }
        let memory = try device.allocate(bytes: values.count * 4, what: "test")
        try values.withUnsafeBytes { try device.upload($0, to: memory, offset: 0) }
        try device.launch(try XCTUnwrap(kernels["scale_add"]), groups: (4, 1), groupSize: 256,
                          arguments: [.memory(memory), .int(values.count), .float32(2)])
        var out = [Float](repeating: 0, count: values.count)
        try out.withUnsafeMutableBytes { try device.download(memory, offset: 0, into: $0) }
        XCTAssertEqual(out, values.map { $0 * 2 })
        print("CUDA device: \(device.name)")
    }

    // MARK: The fake driver

    func testOpenReportsEachFailureInOneLine() throws {
        let fake = try FakeCUDA.shared()
        func openError(_ configure: () -> Void, ordinal: Int = 0) -> String {
            configure()
            do {
                _ = try fake.open(ordinal: ordinal)
                return "opened"
            } catch {
                XCTAssertFalse("\(error)".contains("\n"), "\(error)")
                return "\(error)"
            }
        }
        var message = openError { fake.configure(initResult: 100) }
        XCTAssertEqual(message, "CUDA cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)")
        message = openError { fake.configure(initResult: 34) }
        XCTAssertTrue(message.hasPrefix("CUDA cuInit failed: CUDA_ERROR_STUB_LIBRARY"), message)
        message = openError { fake.configure(driverVersion: 10020) }
        XCTAssertEqual(message, "CUDA driver too old: it supports CUDA 10.2, Stepwise needs 11.2 or newer (update the NVIDIA driver)")
        message = openError { fake.configure(driverVersion: 11080) }
        XCTAssertTrue(message.hasPrefix("CUDA driver too old: it supports CUDA 11.8, but NVRTC 12."), message)
        message = openError { fake.configure(deviceCount: 0) }
        XCTAssertEqual(message, "CUDA: no CUDA device found")
        message = openError({ fake.configure(deviceCount: 2) }, ordinal: 2)
        XCTAssertEqual(message, "CUDA: there is no device 2 (2 devices: 0...1)")
        message = openError { fake.configure(computeCapability: (1, 0)) }
        XCTAssertTrue(message.hasPrefix("CUDA: NVRTC 12."), message)
        XCTAssertTrue(message.contains("cannot compile for Fake GPU (compute capability 1.0"), message)
        message = openError { fake.configure() }
        XCTAssertEqual(message, "opened")

        fake.configure()
        XCTAssertThrowsError(try CUDADevice.open(ordinal: 0, driverCandidates: [fake.path],
                                                 nvrtcCandidates: ["/nonexistent/libnvrtc.so.12"], cache: nil)) { error in
            XCTAssertTrue("\(error)".hasPrefix("NVRTC not found"), "\(error)")
        }
        // Candidates that do not load are passed over.
        fake.configure()
        XCTAssertNoThrow(try CUDADevice.open(ordinal: 0, driverCandidates: [fake.path],
                                             nvrtcCandidates: ["/nonexistent/libnvrtc.so.13", fake.nvrtcPath], cache: nil))
        XCTAssertEqual(fake.counter("primary_refs"), 0, "a failed open must release the context")
    }

    func testDeviceDescribesItselfAndChoosesCubinOrPTX() throws {
        let fake = try FakeCUDA.shared()
        fake.configure(computeCapability: (9, 0))
        let h100 = try fake.open()
        XCTAssertEqual(h100.target, CompileTarget(architecture: 90, kind: .cubin))
        XCTAssertEqual(h100.totalMemory, 80 << 30)
        XCTAssertEqual(h100.multiprocessors, 132)
        XCTAssertEqual(h100.peakMemoryBandwidth, 3_352_320_000_000)  // H100 SXM: 3.35 TB/s
        XCTAssertTrue(h100.name.hasPrefix("Fake GPU (compute capability 9.0, driver CUDA 12.4, NVRTC 12."), h100.name)
        XCTAssertTrue(h100.name.hasSuffix("sm_90 cubin)"), h100.name)
        XCTAssertEqual(h100.api, .cuda)
        XCTAssertEqual(h100.dialect, .cuda)

        // A GPU newer than every architecture NVRTC knows gets PTX the driver compiles.
        fake.configure(computeCapability: (99, 0))
        let future = try fake.open()
        XCTAssertEqual(future.target.kind, .ptx)
        XCTAssertTrue(future.name.hasSuffix("PTX)"), future.name)
    }

    func testMemoryUploadDownloadCopyAndRelease() throws {
        let fake = try FakeCUDA.shared()
        fake.configure()
        do {
            let device = try fake.open()
            let a = try device.allocate(bytes: 64, what: "a")
            let b = try device.allocate(bytes: 64, what: "b")
            let empty = try device.allocate(bytes: 0, what: "empty")
            XCTAssertEqual(empty.byteCount, 0)
            XCTAssertEqual(fake.counter("live_allocations"), 3)
            XCTAssertEqual(device.freeMemory, (80 << 30) - 64 - 64 - 16)

            let values = (0..<16).map { Float($0) + 0.5 }
            try values.withUnsafeBytes { try device.upload($0, to: a, offset: 0) }
            try values[0..<4].withUnsafeBytes { try device.upload($0, to: b, offset: 48) }  // b[12..<16]
            try device.copy(a, offset: 8, to: b, offset: 0, bytes: 16)                        // b[0..<4] = a[2..<6]
            var out = [Float](repeating: 0, count: 16)
            try out.withUnsafeMutableBytes { try device.download(b, offset: 0, into: $0) }
            XCTAssertEqual(Array(out[0..<4]), Array(values[2..<6]))
            XCTAssertEqual(Array(out[12..<16]), Array(values[0..<4]))
            var part = [Float](repeating: 0, count: 3)
            try part.withUnsafeMutableBytes { try device.download(a, offset: 20, into: $0) }
            XCTAssertEqual(part, Array(values[5..<8]))

            // Allocation failure: one line with what, how much and what is free.
            XCTAssertThrowsError(try device.allocate(bytes: 2 << 40, what: "the KV cache")) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("CUDA cannot allocate 2097152.0 MiB for the KV cache on Fake GPU: CUDA_ERROR_OUT_OF_MEMORY"), text)
                XCTAssertTrue(text.contains("MiB free"), text)
            }

            // Another thread: the context is made current there before the driver is called.
            let done = expectation(description: "other thread")
            // One thread at a time uses the device, as ComputeDevice requires; this one waits.
            nonisolated(unsafe) let shared = device
            let thread = Thread {
                do {
                    let c = try shared.allocate(bytes: 8, what: "c")
                    try [Float(1), 2].withUnsafeBytes { try shared.upload($0, to: c, offset: 0) }
                    var back = [Float](repeating: 0, count: 2)
                    try back.withUnsafeMutableBytes { try shared.download(c, offset: 0, into: $0) }
                    XCTAssertEqual(back, [1, 2])
                } catch {
                    XCTFail("\(error)")
                }
                done.fulfill()
            }
            thread.start()
            wait(for: [done], timeout: 10)
            XCTAssertGreaterThan(fake.counter("set_current"), 0)
        }
        XCTAssertEqual(fake.counter("live_allocations"), 0, "every allocation freed")
        XCTAssertEqual(fake.counter("primary_refs"), 0, "primary context released")
        XCTAssertEqual(fake.counter("live_streams"), 0, "stream destroyed")
    }

    func testCompileLaunchAndCache() throws {
        let fake = try FakeCUDA.shared()
        fake.configure()
        let cacheDirectory = try temporaryDirectory().appendingPathComponent("kernels")
        let source = #"""
            extern "C" __global__ void record_args(float *out, int n, float x) { out[threadIdx.x] = n * x; }
            extern "C" __global__ void fault(float *out) { out[0] = 0.0f; }
            """#
        // The fake is shared by every test in the process (CUBLASTests load modules too), so
        // its counters are compared with where they stood when this test began.
        let loadsBefore = fake.counter("module_loads")
        do {
            let device = try fake.open(cache: KernelCache(directory: cacheDirectory))
            let kernels = try device.compile(source: source, kernels: ["record_args", "fault"])
            XCTAssertNil((kernels["record_args"] as? CUDAKernel)?.parameterSizes, "the fake reports no sizes for cubins")
            XCTAssertEqual(fake.counter("module_loads"), loadsBefore + 1)
            XCTAssertEqual(fake.counter("last_image_was_cubin"), 1)
            let cached = try FileManager.default.contentsOfDirectory(atPath: cacheDirectory.path)
            XCTAssertEqual(cached.count, 1)
            XCTAssertTrue(cached[0].hasSuffix(".cubin"), "\(cached)")

            // Arguments reach the kernel as values: the fake's record_args writes what it got
            // (CUdeviceptr, int, float) and the launch shape into `out`.
            let out = try device.allocate(bytes: 64, what: "out")
            try device.launch(try XCTUnwrap(kernels["record_args"]), groups: (3, 5), groupSize: 128,
                              arguments: [.memory(out), .int(-42), .float32(0.25)])
            var recorded = [Int64](repeating: 0, count: 8)
            try recorded.withUnsafeMutableBytes { try device.download(out, offset: 0, into: $0) }
            XCTAssertEqual(UInt64(bitPattern: recorded[0]), out.handle)
            XCTAssertEqual(recorded[1], -42)
            XCTAssertEqual(Float(bitPattern: UInt32(recorded[2])), 0.25)
            XCTAssertEqual(Array(recorded[3..<8]), [3, 5, 1, 128, 1], "grid x, y, z, block x, y")

            // Nothing to do: no launch. Too many rows of groups: an error, not a launch.
            let launches = fake.counter("launches")
            try device.launch(try XCTUnwrap(kernels["record_args"]), groups: (0, 5), groupSize: 128,
                              arguments: [.memory(out), .int(0), .float32(0)])
            XCTAssertThrowsError(try device.launch(try XCTUnwrap(kernels["record_args"]), groups: (1, 70_000), groupSize: 128,
                                                   arguments: [.memory(out), .int(0), .float32(0)]))
            XCTAssertEqual(fake.counter("launches"), launches)

            // A kernel fault surfaces at the next synchronisation, named.
            try device.launch(try XCTUnwrap(kernels["fault"]), groups: (1, 1), groupSize: 32, arguments: [.memory(out)])
            XCTAssertThrowsError(try device.synchronize()) { error in
                XCTAssertEqual("\(error)", "CUDA cuStreamSynchronize failed: CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was encountered)")
            }

            XCTAssertThrowsError(try device.compile(source: source, kernels: ["absent"])) { error in
                XCTAssertTrue("\(error)".hasPrefix("CUDA cuModuleGetFunction(absent) failed: CUDA_ERROR_NOT_FOUND"), "\(error)")
            }
            // That compile came from the cache: a second module load, no new cache entry.
            XCTAssertEqual(fake.counter("module_loads"), loadsBefore + 2)

            XCTAssertThrowsError(try device.compile(source: "extern \"C\" __global__ void k() { nope; }", kernels: ["k"])) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("NVRTC 12."), text)
                XCTAssertTrue(text.contains("could not compile the kernels for sm_90"), text)
                XCTAssertTrue(text.contains("nope"), text)
                XCTAssertFalse(text.contains("\n"), text)
            }
        }
        XCTAssertEqual(fake.counter("live_modules"), 0, "modules unloaded with their kernels")

        // A corrupt cache entry: the driver rejects it (with its JIT log in the error, were it
        // not retried), the entry is dropped and the source compiled again.
        let entries = try FileManager.default.contentsOfDirectory(atPath: cacheDirectory.path)
        XCTAssertEqual(entries.count, 1)
        let entry = cacheDirectory.appendingPathComponent(entries[0])
        try Data("garbage".utf8).write(to: entry)
        let device = try fake.open(cache: KernelCache(directory: cacheDirectory))
        let before = fake.counter("module_loads")
        let kernels = try device.compile(source: source, kernels: ["record_args"])
        XCTAssertNotNil(kernels["record_args"])
        XCTAssertEqual(fake.counter("module_loads"), before + 2, "rejected cached image, then the fresh one")
        XCTAssertEqual(try Data(contentsOf: entry).prefix(4), Data([0x7f, 0x45, 0x4c, 0x46]), "entry rewritten")
    }

    func testPTXLoadAndJITErrorLog() throws {
        let fake = try FakeCUDA.shared()
        fake.configure(computeCapability: (99, 0))
        let device = try fake.open(cache: nil)
        let kernels = try device.compile(source: #"extern "C" __global__ void record_args(float *o, int n, float x) { o[0] = n * x; }"#,
                                         kernels: ["record_args"])
        let recordArgs = try XCTUnwrap(kernels["record_args"] as? CUDAKernel)
        XCTAssertEqual(fake.counter("last_image_was_cubin"), 0, "PTX for a GPU NVRTC does not know")

        // Where the driver reports parameter sizes (the fake does for PTX), a launch whose
        // arguments do not fit the kernel is refused instead of reading past them.
        XCTAssertEqual(recordArgs.parameterSizes, [8, 4, 4])
        let out = try device.allocate(bytes: 64, what: "out")
        XCTAssertNoThrow(try device.launch(recordArgs, groups: (1, 1), groupSize: 32,
                                           arguments: [.memory(out), .int(3), .float32(1)]))
        let launches = fake.counter("launches")
        XCTAssertThrowsError(try device.launch(recordArgs, groups: (1, 1), groupSize: 32,
                                               arguments: [.memory(out), .int(3)])) { error in
            XCTAssertEqual("\(error)", "CUDA launch of record_args: arguments of [8, 4] bytes for parameters of [8, 4, 4] bytes")
        }
        XCTAssertThrowsError(try device.launch(recordArgs, groups: (1, 1), groupSize: 32,
                                               arguments: [.int(0), .int(3), .float32(1)]))
        XCTAssertEqual(fake.counter("launches"), launches, "refused launches never reach the driver")

        // The fake's JIT rejects PTX that declares `.version 99.9`; its log must reach the error.
        fake.configure(computeCapability: (99, 0), rejectPTX: true)
        let rejecting = try fake.open(cache: nil)
        XCTAssertThrowsError(try rejecting.compile(source: #"extern "C" __global__ void k(float *o) { o[0] = 1.0f; }"#, kernels: ["k"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("CUDA cannot load the compiled kernels on Fake GPU: CUDA_ERROR_UNSUPPORTED_PTX_VERSION"), text)
            XCTAssertTrue(text.hasSuffix(": ptxas fatal: fake JIT refuses this PTX"), text)
        }
    }

    // MARK: Helpers

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-cuda-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// The fake libcuda, built once per test process, and the NVRTC the device under test uses.
final class FakeCUDA: @unchecked Sendable {
    let path: String
    let nvrtcPath: String
    private let library: DynamicLibrary
    private let configureFn: @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32) -> Void
    private let counterFn: @convention(c) (UnsafePointer<CChar>) -> Int64

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: Result<FakeCUDA, Error>?

    static func shared() throws -> FakeCUDA {
        let result = lock.withLock {
            if let built { return built }
            let outcome = Result { try FakeCUDA() }
            built = outcome
            return outcome
        }
        return try result.get()
    }

    private init() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let nvrtc = environment["STEPWISE_TEST_NVRTC"], !nvrtc.isEmpty else {
            let why = "STEPWISE_TEST_NVRTC is not set; the fake-driver tests compile real cubins with NVRTC"
            if environment["STEPWISE_REQUIRE_NVRTC"] == "1" { throw DeviceError("STEPWISE_REQUIRE_NVRTC=1 but " + why) }
            throw XCTSkip(why)
        }
        nvrtcPath = nvrtc
        path = try buildFakeLibrary(folder: "stepwise-fake-cuda", fileName: "libcuda.so.1", source: Self.cSource)
        library = try DynamicLibrary(candidates: [path])
        configureFn = try library.symbol("fake_cuda_configure", as: (@convention(c) (Int32, Int32, Int32, Int32, Int32, Int32) -> Void).self)
        counterFn = try library.symbol("fake_cuda_counter", as: (@convention(c) (UnsafePointer<CChar>) -> Int64).self)
    }

    func configure(initResult: Int32 = 0, driverVersion: Int32 = 12040, deviceCount: Int32 = 1,
                   computeCapability: (Int32, Int32) = (9, 0), rejectPTX: Bool = false) {
        configureFn(initResult, driverVersion, deviceCount, computeCapability.0, computeCapability.1, rejectPTX ? 1 : 0)
    }

    func counter(_ name: String) -> Int { Int(counterFn(name)) }

    func open(ordinal: Int = 0, cache: KernelCache? = nil) throws -> CUDADevice {
        try CUDADevice.open(ordinal: ordinal, driverCandidates: [path], nvrtcCandidates: [nvrtcPath], cache: cache)
    }

    /// The fake driver. Device memory is host memory (a CUdeviceptr is a malloc'd address),
    /// the context current per thread as in the real driver, copies are memcpy, modules are the
    /// images NVRTC produced (kernels found by name in them), and two kernels are "run":
    /// record_args writes its arguments and launch shape to its first argument; fault makes the
    /// next stream synchronisation fail with CUDA_ERROR_ILLEGAL_ADDRESS.
    static let cSource = #"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

static int init_result, driver_version = 12040, device_count = 1, cc_major = 9, cc_minor = 0, reject_ptx;
static long long primary_refs, live_allocations, allocated_bytes, live_streams, live_modules;
static long long module_loads, launches, set_current, last_image_was_cubin;
static int pending_error;
static int primary_context;            /* its address is the CUcontext */
static __thread void *current_context;
static const size_t total_memory = 80ull << 30;

void fake_cuda_configure(int init, int version, int count, int major, int minor, int rejectPTX) {
    init_result = init; driver_version = version; device_count = count;
    cc_major = major; cc_minor = minor; reject_ptx = rejectPTX; pending_error = 0;
}

long long fake_cuda_counter(const char *name) {
    if (!strcmp(name, "primary_refs")) return primary_refs;
    if (!strcmp(name, "live_allocations")) return live_allocations;
    if (!strcmp(name, "live_streams")) return live_streams;
    if (!strcmp(name, "live_modules")) return live_modules;
    if (!strcmp(name, "module_loads")) return module_loads;
    if (!strcmp(name, "launches")) return launches;
    if (!strcmp(name, "set_current")) return set_current;
    if (!strcmp(name, "last_image_was_cubin")) return last_image_was_cubin;
    return -1;
}

static const char *names[][2] = {
    {"CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {"CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {"CUDA_ERROR_STUB_LIBRARY", "CUDA driver is a stub library"},
    {"CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {"CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {"CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {"CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {"CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain."},
    {"CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {"CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
};
static int name_index(CUresult r) {
    switch (r) {
    case 1: return 0; case 2: return 1; case 34: return 2; case 100: return 3; case 101: return 4;
    case 200: return 5; case 201: return 6; case 222: return 7; case 500: return 8; case 700: return 9;
    default: return -1;
    }
}
CUresult cuGetErrorName(CUresult r, const char **s) {
    int i = name_index(r); if (i < 0) { *s = 0; return 1; } *s = names[i][0]; return 0;
}
CUresult cuGetErrorString(CUresult r, const char **s) {
    int i = name_index(r); if (i < 0) { *s = 0; return 1; } *s = names[i][1]; return 0;
}

CUresult cuInit(unsigned flags) { return flags ? 1 : init_result; }
CUresult cuDriverGetVersion(int *v) { *v = driver_version; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = device_count; return 0; }
CUresult cuDeviceGet(CUdevice *d, int ordinal) {
    if (ordinal < 0 || ordinal >= device_count) return 101;
    *d = ordinal; return 0;
}
CUresult cuDeviceGetName(char *name, int length, CUdevice d) {
    (void)d; strncpy(name, "Fake GPU", (size_t)length); return 0;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice d) {
    (void)d;
    switch (attribute) {
    case 1: *value = 1024; return 0;        /* max threads per block */
    case 6: *value = 65535; return 0;       /* max grid y */
    case 16: *value = 132; return 0;        /* multiprocessors */
    case 36: *value = 2619000; return 0;    /* memory clock, kHz (H100 SXM) */
    case 37: *value = 5120; return 0;       /* memory bus width, bits */
    case 75: *value = cc_major; return 0;
    case 76: *value = cc_minor; return 0;
    default: return 1;
    }
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice d) { (void)d; *bytes = total_memory; return 0; }
CUresult cuDevicePrimaryCtxRetain(void **context, CUdevice d) { (void)d; primary_refs++; *context = &primary_context; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) { (void)d; primary_refs--; return 0; }
CUresult cuCtxSetCurrent(void *context) { set_current++; current_context = context; return 0; }
CUresult cuCtxGetCurrent(void **context) { *context = current_context; return 0; }
#define NEED_CONTEXT if (current_context != &primary_context) return 201

CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total) {
    NEED_CONTEXT; *free_bytes = total_memory - allocated_bytes; *total = total_memory; return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
    NEED_CONTEXT;
    if (bytes == 0) return 1;
    if (bytes > total_memory - allocated_bytes) return 2;
    size_t *block = malloc(bytes + 16);
    if (!block) return 2;
    block[0] = bytes;
    *pointer = (CUdeviceptr)(uintptr_t)(block + 2);
    live_allocations++; allocated_bytes += bytes;
    return 0;
}
CUresult cuMemFree_v2(CUdeviceptr pointer) {
    NEED_CONTEXT;
    size_t *block = (size_t *)(uintptr_t)pointer - 2;
    live_allocations--; allocated_bytes -= block[0];
    free(block); return 0;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, void *stream) {
    NEED_CONTEXT; if (!stream) return 400; memcpy((void *)(uintptr_t)dst, src, n); return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, void *stream) {
    NEED_CONTEXT; if (!stream) return 400; memcpy(dst, (void *)(uintptr_t)src, n); return 0;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void *stream) {
    NEED_CONTEXT; if (!stream) return 400; memmove((void *)(uintptr_t)dst, (void *)(uintptr_t)src, n); return 0;
}

CUresult cuStreamCreate(void **stream, unsigned flags) {
    NEED_CONTEXT; if (flags != 1) return 1; *stream = malloc(1); live_streams++; return 0;
}
CUresult cuStreamDestroy_v2(void *stream) { NEED_CONTEXT; free(stream); live_streams--; return 0; }
CUresult cuStreamSynchronize(void *stream) {
    NEED_CONTEXT; if (!stream) return 400;
    int e = pending_error; pending_error = 0; return e;
}

typedef struct { char *image; size_t size; int is_cubin; } Module;
typedef struct { char name[64]; int parameters; int sizes[32]; } Function;

CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned count, int *options, void **values) {
    NEED_CONTEXT;
    module_loads++;
    char *log = 0; size_t log_size = 0;
    for (unsigned i = 0; i < count; i++) {
        if (options[i] == 5) log = values[i];
        if (options[i] == 6) log_size = (size_t)(uintptr_t)values[i];
    }
    const unsigned char *bytes = image;
    size_t size;
    if (!memcmp(bytes, "\x7f" "ELF", 4)) {
        /* ELF64: the section header table ends the file. */
        uint64_t shoff; uint16_t shentsize, shnum;
        memcpy(&shoff, bytes + 0x28, 8); memcpy(&shentsize, bytes + 0x3a, 2); memcpy(&shnum, bytes + 0x3c, 2);
        size = shoff + (size_t)shentsize * shnum;
        last_image_was_cubin = 1;
    } else if (strstr(image, ".version") && strstr(image, ".entry")) {
        if (reject_ptx) {
            if (log && log_size) { strncpy(log, "ptxas fatal: fake JIT refuses this PTX", log_size); log[log_size - 1] = 0; }
            return 222;
        }
        size = strlen(image) + 1;
        last_image_was_cubin = 0;
    } else {
        if (log && log_size) { strncpy(log, "not an image", log_size); log[log_size - 1] = 0; }
        return 200;
    }
    Module *m = malloc(sizeof(Module));
    m->image = malloc(size); memcpy(m->image, image, size); m->size = size; m->is_cubin = last_image_was_cubin;
    *module = m; live_modules++;
    return 0;
}
CUresult cuModuleUnload(void *module) {
    NEED_CONTEXT; Module *m = module; free(m->image); free(m); live_modules--; return 0;
}
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
    NEED_CONTEXT;
    Module *m = module;
    char needle[80];
    size_t n = strlen(name);
    if (n > 60) return 1;
    /* cubin: the symbol in the string table; PTX: the entry declaration. */
    needle[0] = 0; memcpy(needle + 1, name, n + 1);
    int found = 0;
    for (size_t i = 0; i + n + 2 <= m->size && !found; i++) found = !memcmp(m->image + i, needle, n + 2);
    char entry[80]; memcpy(entry, ".entry ", 7); memcpy(entry + 7, name, n); entry[7 + n] = '('; entry[8 + n] = 0;
    const char *declaration = m->is_cubin ? 0 : strstr(m->image, entry);
    if (!found && declaration) found = 1;
    if (!found) return 500;
    Function *f = malloc(sizeof(Function));   /* leaked: functions live as long as the module in CUDA */
    strcpy(f->name, name);
    /* Parameter sizes from the PTX declaration (".param .u64 name_param_0, ..."); a cubin's
       are not parsed (parameters = -1: "unknown", as with a driver before CUDA 12.4). */
    f->parameters = -1;
    if (declaration) {
        const char *end = strchr(declaration, ')');
        f->parameters = 0;
        for (const char *p = strstr(declaration, ".param ."); p && p < end && f->parameters < 32; p = strstr(p + 1, ".param .")) {
            int bits = atoi(p + 9);   /* ".param .u64": the digits after the type letter */
            f->sizes[f->parameters++] = bits / 8;
        }
    }
    *function = f;
    return 0;
}
CUresult cuFuncGetParamInfo(void *function, size_t index, size_t *offset, size_t *size) {
    Function *f = function;
    if (f->parameters < 0) return 801;   /* CUDA_ERROR_NOT_SUPPORTED */
    if (index >= (size_t)f->parameters) return 1;
    size_t at = 0;
    for (size_t i = 0; i < index; i++) at += (size_t)f->sizes[i];
    if (offset) *offset = at;
    if (size) *size = (size_t)f->sizes[index];
    return 0;
}
CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *stream, void **params, void **extra) {
    NEED_CONTEXT;
    if (!stream || extra || shared || gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return 1;
    launches++;
    Function *f = function;
    if (!strcmp(f->name, "record_args")) {
        int64_t *out = (int64_t *)(uintptr_t)*(CUdeviceptr *)params[0];
        out[0] = (int64_t)*(CUdeviceptr *)params[0];
        out[1] = *(int *)params[1];
        uint32_t bits; memcpy(&bits, params[2], 4); out[2] = bits;
        out[3] = gx; out[4] = gy; out[5] = gz; out[6] = bx; out[7] = by;
    } else if (!strcmp(f->name, "fault")) {
        pending_error = 700;
    }
    return 0;
}
"""#
}
