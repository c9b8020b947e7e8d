// The GPU backend on OpenCL (PoCL in CI) against the CPU backend: every backend-ops case, and
// the OpenCL device layer underneath it.
import Foundation
@testable import Inference
import XCTest

final class GPUBackendOpsTests: XCTestCase {
    /// Every backend-ops case (core ops and the matrix products of every format) on the OpenCL
    /// GPUBackend against the CPU backend; prints the table `stepwise selftest` prints.
    func testEveryBackendOpsCase() throws {
        let backend = try openCLTestBackend()
        let cases = BackendOpsCheck.cases()
        XCTAssertFalse(cases.isEmpty)
        let started = Date()
        let results = BackendOpsCheck.run(backend, cases: cases)
        print("backend-ops on \(backend.description): \(results.count) cases in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        print(Self.table(results))
        for r in results {
            XCTAssertTrue(r.passed, "\(r.op) [\(r.shape)]: error \(r.error) > \(r.threshold)\(r.failure.map { " (\($0))" } ?? "")")
        }
    }

    /// The whole program builds for both OpenCL dialects the device can take: the local-memory
    /// reductions always, sub-group reductions where the device has cl_khr_subgroups.
    func testProgramCompilesForEachDialect() throws {
        let device = try openCLTestDevice()
        var dialects: [KernelDialect] = [.opencl(subgroups: false)]
        if device.dialect == .opencl(subgroups: true) { dialects.append(.opencl(subgroups: true)) }
        for dialect in dialects {
            let kernels = try device.compile(source: GPUKernelSource.program(dialect), kernels: GPUKernelSource.kernelNames)
            XCTAssertEqual(Set(kernels.keys), Set(GPUKernelSource.kernelNames), "\(dialect)")
        }
        XCTAssertTrue(GPUKernelSource.kernelNames.contains("attention"))
    }

    /// Bad requests are one-line BackendErrors, as on the CPU backend.
    func testAllocationErrorsAreOneLine() throws {
        let backend = try openCLTestBackend()
        var spec = KVCacheSpec(layers: 2, kvHeads: 2, headDim: 64, blockSize: 16, blockCount: 4)
        spec.format = .f16
        var messages: [String] = []
        XCTAssertThrowsError(try backend.makeKVCache(spec)) { messages.append("\($0)") }
        spec.format = .f32
        spec.headDim = 512
        XCTAssertThrowsError(try backend.makeKVCache(spec)) { messages.append("\($0)") }
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 100).withUnsafeBytes {
            try backend.uploadWeight(name: "w", format: .q8_0, rows: 2, columns: 64, bytes: $0, owner: nil, storeAs: nil)
        }) { messages.append("\($0)") }
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 4 * 64).withUnsafeBytes {
            try backend.uploadWeight(name: "w", format: .f32, rows: 1, columns: 64, bytes: $0, owner: nil, storeAs: .q4_K)
        }) { messages.append("\($0)") }
        spec.headDim = 64
        let cache = try backend.makeKVCache(spec)
        XCTAssertThrowsError(try backend.makeBatch(BatchLayout(tokens: [1, 2], sequences: [
            SequenceSlice(firstRow: 0, rowCount: 2, firstPosition: 0, blockTable: [9]),
        ]), cache: cache)) { messages.append("\($0)") }
        XCTAssertThrowsError(try backend.makeRope(RopeConfig(dimensions: 7, base: 10000, layout: .halfSplit))) { messages.append("\($0)") }
        XCTAssertEqual(messages.count, 6)
        for m in messages {
            XCTAssertTrue(!m.isEmpty && !m.contains("\n"), m)
        }
        XCTAssertTrue(messages[0].contains("F32"), messages[0])
        XCTAssertTrue(messages[4].contains("KV block id 9"), messages[4])
    }

    /// A step with no rows and ops on zero elements launch nothing (CUDA would reject an empty
    /// grid) and leave the buffers alone.
    func testEmptyStepAndZeroCountsDoNothing() throws {
        let backend = try openCLTestBackend()
        let spec = KVCacheSpec(layers: 1, kvHeads: 2, headDim: 64, blockSize: 16, blockCount: 2)
        let cache = try backend.makeKVCache(spec)
        let batch = try backend.makeBatch(BatchLayout(tokens: [], sequences: []), cache: cache)
        let rope = try backend.makeRope(RopeConfig(dimensions: 64, base: 10000, layout: .halfSplit))
        let values: [Float] = (0..<256).map { Float($0) }
        let buffer = try backend.makeBuffer(capacity: 256)
        let other = try backend.makeBuffer(capacity: 256)
        values.withUnsafeBufferPointer { backend.write($0, to: buffer, offset: 0) }
        values.withUnsafeBufferPointer { backend.write($0, to: other, offset: 0) }
        backend.rope(buffer, heads: 2, headDim: 64, batch: batch, rope: rope)
        backend.storeKV(layer: 0, keys: buffer, values: buffer, batch: batch, cache: cache)
        backend.attention(layer: 0, queries: buffer, heads: 2, scale: 0.125, batch: batch, cache: cache, into: other)
        backend.add(buffer, buffer, count: 0, into: other)
        backend.siluMultiply(gate: buffer, up: buffer, count: 0, into: other)
        backend.gatherRows(buffer, rows: [], width: 64, into: other)
        backend.copyKVBlocks(cache, pairs: [])
        var read = [Float](repeating: 0, count: 256)
        read.withUnsafeMutableBufferPointer { backend.read(other, offset: 0, into: $0) }
        XCTAssertEqual(read, values)
    }

    /// Attention's key splits cover every key, in ranges of whole passes, none starting past
    /// the longest row; and the long-context backend-ops cases (decode rows over 300 to 1000
    /// keys) do take the split path, so it is executed in CI.
    func testAttentionSplitsCoverTheKeys() {
        for workGroups in [1, 2, 6, 8, 28, 63, 64, 500] {
            for longest in [1, 37, 256, 257, 301, 700, 1006, 4096, 32768] {
                let (splits, keys) = GPUBackend.attentionSplits(workGroups: workGroups, longest: longest)
                XCTAssertTrue(splits >= 1 && splits <= 32 && keys % 128 == 0, "\(workGroups) \(longest)")
                XCTAssertGreaterThanOrEqual(splits * keys, longest, "\(workGroups) \(longest)")
                XCTAssertLessThan((splits - 1) * keys, longest, "\(workGroups) \(longest)")
                if workGroups >= 64 || longest <= 256 { XCTAssertEqual(splits, 1) }
            }
        }
        // The long-context cases: 2 KV heads x 3 decode rows over 302 keys, 2 KV heads x 2 rows
        // over 1001, 1 KV head x 1 row over 701.
        XCTAssertGreaterThan(GPUBackend.attentionSplits(workGroups: 6, longest: 302).splits, 1)
        XCTAssertGreaterThan(GPUBackend.attentionSplits(workGroups: 4, longest: 1001).splits, 1)
        XCTAssertGreaterThan(GPUBackend.attentionSplits(workGroups: 1, longest: 701).splits, 1)
    }

    /// A result table: op, shape, error, threshold, verdict.
    static func table(_ results: [BackendOpResult]) -> String {
        let opWidth = max(2, results.map(\.op.count).max() ?? 0)
        let shapeWidth = max(5, results.map(\.shape.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var lines = [pad("op", opWidth) + "  " + pad("shape", shapeWidth) + "  error      threshold  result"]
        for r in results {
            let error = r.error.isFinite ? String(format: "%.2e", r.error) : "inf"
            let verdict = r.passed ? "ok" : "FAIL" + (r.failure.map { " (\($0))" } ?? "")
            lines.append(pad(r.op, opWidth) + "  " + pad(r.shape, shapeWidth) + "  " + pad(error, 9) + "  "
                         + pad(String(format: "%.0e", r.threshold), 9) + "  " + verdict)
        }
        return lines.joined(separator: "\n")
    }

    /// The device layer alone: upload, a kernel launch over several groups with a reduction,
    /// a device copy and a download.
    func testOpenCLDeviceRunsAKernel() throws {
        let device = try openCLTestDevice()
        let source = "#define MAX_GROUP \(GPUKernelSource.maxGroup)\n" + GPUKernelSource.openCLPrelude + """
        KERNEL void scale_and_sum(GLOBAL float *x, GLOBAL float *sums, float factor, int n) {
            SHARED float scratch[MAX_GROUP];
            const int i = GROUP_X * GROUP_SIZE + THREAD_ID;
            const float v = i < n ? x[i] * factor : 0.0f;
            if (i < n) x[i] = v;
            const float total = group_sum(v, scratch);
            if (THREAD_ID == 0) sums[GROUP_X] = total;
        }
        """
        let kernels = try device.compile(source: source, kernels: ["scale_and_sum"])
        let kernel = try XCTUnwrap(kernels["scale_and_sum"])
        let n = 1000, groupSize = 64, groups = (n + groupSize - 1) / groupSize
        let input = (0..<n).map { Float($0 % 17) - 8 }
        let x = try device.allocate(bytes: n * 4, what: "x")
        let sums = try device.allocate(bytes: groups * 4, what: "sums")
        try input.withUnsafeBytes { try device.upload($0, to: x, offset: 0) }
        try device.launch(kernel, groups: (groups, 1), groupSize: groupSize,
                          arguments: [.memory(x), .memory(sums), .float32(0.5), .int(n)])
        let copy = try device.allocate(bytes: n * 4, what: "copy")
        try device.copy(x, offset: 0, to: copy, offset: 0, bytes: n * 4)
        var scaled = [Float](repeating: 0, count: n)
        var groupSums = [Float](repeating: 0, count: groups)
        try scaled.withUnsafeMutableBytes { try device.download(copy, offset: 0, into: $0) }
        try groupSums.withUnsafeMutableBytes { try device.download(sums, offset: 0, into: $0) }
        XCTAssertEqual(scaled, input.map { $0 * 0.5 })
        for g in 0..<groups {
            let slice = input[(g * groupSize)..<min(n, (g + 1) * groupSize)]
            XCTAssertEqual(groupSums[g], slice.reduce(0) { $0 + $1 * 0.5 }, accuracy: 1e-4, "group \(g)")
        }
    }

    /// A build error comes back as a one-line DeviceError that quotes the compiler.
    func testOpenCLBuildErrorIsOneLine() throws {
        let device = try openCLTestDevice()
        XCTAssertThrowsError(try device.compile(source: "__kernel void broken(__global float *x) { x[0] = undefined_name; }",
                                                kernels: ["broken"])) { error in
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertTrue(text.contains("CL_BUILD_PROGRAM_FAILURE"), text)
            XCTAssertTrue(text.contains("undefined_name"), text)
        }
    }

    /// On a machine whose only OpenCL device is a CPU (PoCL), asking for a GPU is a one-line
    /// error naming the CPU device it would not take.
    func testOpenCLRefusesCPUDeviceUnlessAllowed() throws {
        let device = try openCLTestDevice()
        try XCTSkipUnless(device.isCPU, "the test device is a GPU (\(device.name))")
        XCTAssertThrowsError(try OpenCLDevice.open(allowCPU: false)) { error in
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertTrue(text.contains("no GPU device") && text.contains(device.deviceName), text)
        }
    }

    /// A library that does not exist gives a one-line error naming what was tried.
    func testMissingLibraryIsOneLineError() {
        XCTAssertThrowsError(try DynamicLibrary(candidates: ["libstepwise-does-not-exist.so.1", "/nonexistent/libx.so"])) { error in
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertTrue(text.contains("libstepwise-does-not-exist.so.1"), text)
            XCTAssertTrue(text.contains("/nonexistent/libx.so"), text)
        }
    }
}
