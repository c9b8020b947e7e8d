// The embedding and matrix-product kernels (GPUMatmulKernels.swift, launched by GPUMatmul) on
// OpenCL — PoCL in CI — against the CPU backend:
// - activation quantization on the device is byte-for-byte the CPU backend's (which is itself
//   byte-for-byte ggml-cpu's, KernelActivationQuantTests), including rounding ties, zero
//   blocks, float16-subnormal scales and equal magnitudes of both signs;
// - GPUMatmul on raw device memory against CPUBackend for every format: the decode kernels
//   (up to 8 rows), the tiled ones with the columns split and not, embedding rows, and NaN
//   rows for tokens outside the table;
// - every BackendOpsCheck.matmulCases() case through the OpenCL GPUBackend (what
//   `stepwise selftest --device opencl` runs), printed as a table;
// - the kernels' float16 decoding on every bit pattern.
// Run: swift test --filter GPUMatmulTests (skips without an OpenCL platform unless
// STEPWISE_REQUIRE_OPENCL=1).
import Foundation
@testable import Inference
import XCTest

final class GPUMatmulTests: XCTestCase {
    /// The device and the matmul kernels, compiled once per process (PoCL takes seconds).
    private static let lock = NSLock()
    nonisolated(unsafe) private static var compiled: (OpenCLDevice, GPUMatmul)?

    private func matmulOnDevice() throws -> (OpenCLDevice, GPUMatmul) {
        let device = try openCLTestDevice()
        return try GPUMatmulTests.lock.withLock {
            if let compiled = GPUMatmulTests.compiled { return compiled }
            let kernels = try device.compile(source: GPUKernelSource.program(device.dialect), kernels: GPUMatmul.kernelNames)
            let made = (device, try GPUMatmul(device: device, kernels: kernels))
            GPUMatmulTests.compiled = made
            return made
        }
    }

    private func upload(_ device: OpenCLDevice, _ bytes: [UInt8], what: String) throws -> DeviceMemory {
        let memory = try device.allocate(bytes: max(bytes.count, 4), what: what)
        try bytes.withUnsafeBytes { try device.upload($0, to: memory, offset: 0) }
        return memory
    }

    private func download(_ device: OpenCLDevice, _ memory: DeviceMemory, bytes: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: bytes)
        try out.withUnsafeMutableBytes { try device.download(memory, offset: 0, into: $0) }
        return out
    }

    private func floatBytes(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    /// Activation rows with the awkward cases: random, tiny (float16-subnormal Q8_0 scales), a
    /// zero block, exact ties (with amax 127 the factor is exactly 1, so x.5 must round to
    /// even), large values, and a negative extreme (the Q8_K scale takes its sign).
    private func awkwardRows(columns: Int, rng: inout SplitMix64) -> [[Float]] {
        var rows: [[Float]] = []
        rows.append(rng.floats(columns))
        rows.append(rng.floats(columns, scale: 0.004))
        var zero = rng.floats(columns)
        for i in 0..<256 { zero[i] = 0 }
        rows.append(zero)
        var ties = (0..<columns).map { Float($0 % 64) - 31.5 }
        for block in stride(from: 0, to: columns, by: 32) { ties[block + 5] = 127 }
        rows.append(ties)
        var negative = (0..<columns).map { Float(($0 * 7) % 253) - 126.5 }
        for block in stride(from: 0, to: columns, by: 256) { negative[block + 9] = -127 }
        rows.append(negative)
        rows.append(rng.floats(columns, scale: 300))
        // Equal magnitudes of both signs: the first one decides the sign of a Q8_K scale.
        var signs = rng.floats(columns)
        for block in stride(from: 0, to: columns - 255, by: 256) {
            let first: Float = (block / 256) % 2 == 0 ? -50 : 50
            signs[block + 3] = first
            signs[block + 100] = -first
        }
        rows.append(signs)
        return rows
    }

    func testActivationQuantizationIsBitIdenticalToCPU() throws {
        let (device, matmul) = try matmulOnDevice()
        var rng = SplitMix64(seed: 7)
        // 768: whole 256-value groups; 288: Q8_0 rows ending in a partial group.
        for (format, columns) in [(WeightFormat.q8_0, 768), (.q8_0, 288), (.q4_K, 768)] {
            let rows = awkwardRows(columns: columns, rng: &rng)
            let input = try upload(device, floatBytes(rows.flatMap { $0 }), what: "activations")
            let rowBytes = GPUMatmul.activationRowBytes(columns: columns)
            let bytes = GPUMatmul.scratchBytes(format: format, rows: rows.count, columns: columns)
            XCTAssertEqual(bytes, rows.count * rowBytes)
            let scratch = try device.allocate(bytes: bytes, what: "scratch")
            try matmul.quantizeActivations(for: format, input: input, rows: rows.count, columns: columns, into: scratch)
            let got = try download(device, scratch, bytes: bytes)
            for (r, values) in rows.enumerated() {
                let blocks = try XCTUnwrap(Kernels.quantizeActivations(for: format, values))
                let want = deviceLayout(format, ggmlBlocks: blocks, columns: columns)
                let device = Array(got[(r * rowBytes)..<(r * rowBytes + want.count)])
                let differing = zip(device, want).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
                XCTAssertTrue(differing.isEmpty, "\(format) activations of \(columns), row \(r): \(differing.count) bytes differ from the CPU backend's, first at \(differing.first ?? -1)")
            }
        }
    }

    /// The CPU backend's activation blocks in ggml's layout (Kernels.quantizeActivations:
    /// block_q8_0 = f16 d, 32 qs for Q8_0/Q4_0 weights; block_q8_K = f32 d, 256 qs, 16 i16 sums
    /// for the K-quants) rewritten in the device's row layout (qs | f32 d per 32 | i32 sum per
    /// 16, padding excluded), so the device's float scales are compared bit for bit.
    private func deviceLayout(_ format: WeightFormat, ggmlBlocks blocks: [UInt8], columns: Int) -> [UInt8] {
        var qs: [UInt8] = [], scales: [Float] = [], sums: [Int32] = []
        func i8(_ byte: UInt8) -> Int32 { Int32(Int8(bitPattern: byte)) }
        if format == .q8_0 {
            for u in 0..<(columns / 32) {
                let block = Array(blocks[(34 * u)..<(34 * u + 34)])
                scales.append(Kernels.halfToFloat(UInt16(block[0]) | UInt16(block[1]) << 8))
                qs += block[2...]
                sums.append(block[2..<18].map(i8).reduce(0, +))
                sums.append(block[18..<34].map(i8).reduce(0, +))
            }
        } else {
            for b in 0..<(columns / 256) {
                let block = Array(blocks[(292 * b)..<(292 * b + 292)])
                let d = block.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: Float.self) }
                scales += [Float](repeating: d, count: 8)
                qs += block[4..<260]
                for s in 0..<16 {
                    sums.append(Int32(block.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 260 + 2 * s, as: Int16.self) }))
                }
            }
        }
        return qs + scales.withUnsafeBytes { Array($0) } + sums.withUnsafeBytes { Array($0) }
    }

    /// Every embedding and matmul backend-ops case on the OpenCL GPUBackend against the CPU
    /// backend (what `stepwise selftest --device opencl` runs for these ops), as a table.
    func testMatmulCasesOnOpenCLBackend() throws {
        let backend = try openCLTestBackend()
        let started = Date()
        let results = BackendOpsCheck.run(backend, cases: BackendOpsCheck.matmulCases())
        XCTAssertGreaterThan(results.count, 60)
        print("matmul backend-ops on \(backend.description): \(results.count) cases in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        print(GPUBackendOpsTests.table(results))
        for r in results {
            XCTAssertTrue(r.passed, "\(r.op) [\(r.shape)]: error \(r.error) > \(r.threshold)\(r.failure.map { " (\($0))" } ?? "")")
        }
    }

    /// The kernels' own float16 decoding (half_to_float, used by the F16 matmul and embedding)
    /// against the CPU's for all 65536 bit patterns: subnormals, signed zeros, inf, NaN payloads.
    func testHalfConversionIsExactForEveryBitPattern() throws {
        let (device, matmul) = try matmulOnDevice()
        let halves = (0...UInt16.max).map { $0 }
        let table = try upload(device, halves.withUnsafeBytes { Array($0) }, what: "halves")
        let tokens = try upload(device, [Int32(0)].withUnsafeBytes { Array($0) }, what: "token")
        let out = try device.allocate(bytes: halves.count * 4, what: "floats")
        try matmul.embed(table: table, format: .f16, tableRows: 1, columns: halves.count, tokens: tokens, count: 1, into: out)
        let got = try download(device, out, bytes: halves.count * 4).withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
        let differing = halves.filter { got[Int($0)] != Kernels.halfToFloat($0).bitPattern }
        XCTAssertTrue(differing.isEmpty, "\(differing.count) float16 values decode differently, first 0x\(String(differing.first ?? 0, radix: 16))")
    }

    /// A token outside the table gives a row of NaNs (and no read outside the table), not
    /// another row's values.
    func testEmbedOfATokenOutsideTheTableGivesNaN() throws {
        let (device, matmul) = try matmulOnDevice()
        var rng = SplitMix64(seed: 3)
        let columns = 64, tableRows = 4
        let table = try upload(device, BackendOpsCheck.randomWeightBytes(.q8_0, rows: tableRows, columns: columns, rng: &rng), what: "table")
        let tokens = try upload(device, [Int32(-1), 1, Int32(tableRows)].withUnsafeBytes { Array($0) }, what: "tokens")
        let out = try device.allocate(bytes: 3 * columns * 4, what: "rows")
        try matmul.embed(table: table, format: .q8_0, tableRows: tableRows, columns: columns, tokens: tokens, count: 3, into: out)
        let got = try download(device, out, bytes: 3 * columns * 4).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertTrue(got[0..<columns].allSatisfy(\.isNaN))
        XCTAssertTrue(got[columns..<(2 * columns)].allSatisfy(\.isFinite))
        XCTAssertTrue(got[(2 * columns)...].allSatisfy(\.isNaN))
    }

    func testColumnSplits() {
        // A 1536-wide projection of a 8960-wide row (24 output blocks): 22 ranges of 416.
        XCTAssert(GPUMatmul.columnSplits(columns: 8960, blocks: 24, targetGroups: 512) == (22, 416))
        // Enough blocks, or rows too short to split: one range covering the row.
        XCTAssert(GPUMatmul.columnSplits(columns: 1536, blocks: 1120, targetGroups: 512) == (1, 1536))
        XCTAssert(GPUMatmul.columnSplits(columns: 255, blocks: 1, targetGroups: 512) == (1, 256))
        // Ranges of at least 256 columns.
        XCTAssert(GPUMatmul.columnSplits(columns: 768, blocks: 1, targetGroups: 512) == (3, 256))
    }

    /// GPUMatmul on raw device memory (no GPUBackend involved) against CPUBackend, every format.
    func testMatmulAndEmbedOnRawDeviceMemoryMatchCPU() throws {
        let (device, matmul) = try matmulOnDevice()
        let cpu = CPUBackend(threads: 1)
        var rng = SplitMix64(seed: 11)
        for format in WeightFormat.allCases {
            // Float rows of a length that is not a multiple of 8 take the one-at-a-time path;
            // more than 8 rows the tiled kernels, with the columns split in ranges (target 512
            // groups) or not (target 1).
            let oddFloat = format.blockElements == 1 ? [(7, 37, 3, true, 512)] : []
            let shapes = [(33, 512, 9, true, 512), (65, 768, 70, true, 1), (65, 768, 70, false, 512), (1, 256, 1, false, 512)]
            for (outRows, columns, rows, withBias, targetGroups) in shapes + oddFloat {
                matmul.targetGroups = targetGroups
                defer { matmul.targetGroups = 512 }
                let weightBytes = BackendOpsCheck.randomWeightBytes(format, rows: outRows, columns: columns, rng: &rng)
                let x = rng.floats(rows * columns)
                let bias = rng.floats(outRows)
                // CPU reference.
                let box = ByteBox(weightBytes)
                let cw = try cpu.uploadWeight(name: "w", format: format, rows: outRows, columns: columns,
                                              bytes: UnsafeRawBufferPointer(box.bytes), owner: box, storeAs: nil)
                let biasBox = ByteBox(floatBytes(bias))
                let cb = try cpu.uploadWeight(name: "b", format: .f32, rows: 1, columns: outRows,
                                              bytes: UnsafeRawBufferPointer(biasBox.bytes), owner: biasBox, storeAs: nil)
                let cx = try cpu.makeBuffer(capacity: x.count), cy = try cpu.makeBuffer(capacity: rows * outRows)
                x.withUnsafeBufferPointer { cpu.write($0, to: cx, offset: 0) }
                cpu.matmul(cw, cx, rows: rows, bias: withBias ? cb : nil, into: cy)
                var want = [Float](repeating: 0, count: rows * outRows)
                want.withUnsafeMutableBufferPointer { cpu.read(cy, offset: 0, into: $0) }
                // Device.
                let w = try upload(device, weightBytes, what: "weight")
                let gx = try upload(device, floatBytes(x), what: "x")
                let gb = try upload(device, floatBytes(bias), what: "bias")
                let gy = try device.allocate(bytes: rows * outRows * 4, what: "y")
                let scratchBytes = GPUMatmul.scratchBytes(format: format, rows: rows, columns: columns)
                let scratch = scratchBytes > 0 ? try device.allocate(bytes: scratchBytes, what: "scratch") : nil
                try matmul.matmul(weight: w, format: format, outRows: outRows, columns: columns, input: gx, rows: rows,
                                  bias: withBias ? gb : nil, output: gy, scratch: scratch)
                let got = try download(device, gy, bytes: rows * outRows * 4).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                let error = BackendOpsCheck.normalisedError(got, want)
                print("GPUMatmul \(format) \(outRows)x\(columns), \(rows) rows, target \(targetGroups) groups: error \(error)")
                let threshold = GPUMatmul.isInteger(format) ? BackendOpsCheck.integerMatmulThreshold : BackendOpsCheck.floatMatmulThreshold
                XCTAssertLessThanOrEqual(error, threshold, "matmul \(format) \(outRows)x\(columns), \(rows) rows, target \(targetGroups)")

                // Embedding rows 0, last, and a repeat.
                let tokens: [Int32] = [0, Int32(outRows - 1), 0]
                let gt = try upload(device, tokens.withUnsafeBytes { Array($0) }, what: "tokens")
                let ge = try device.allocate(bytes: tokens.count * columns * 4, what: "embedded")
                try matmul.embed(table: w, format: format, tableRows: outRows, columns: columns, tokens: gt,
                                 count: tokens.count, into: ge)
                let embedded = try download(device, ge, bytes: tokens.count * columns * 4).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                let rowBytes = try XCTUnwrap(format.rowBytes(columns))
                let expected = weightBytes.withUnsafeBytes { raw in
                    tokens.flatMap { Kernels.dequantizeRow(format, raw.baseAddress! + Int($0) * rowBytes, count: columns) }
                }
                XCTAssertEqual(embedded.map(\.bitPattern), expected.map(\.bitPattern), "embed \(format) \(outRows)x\(columns)")
            }
        }
    }
}
