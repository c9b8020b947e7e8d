// Reading the kernel fixtures written by scripts/kernel-golden/make_fixtures.py.
import Foundation
import Inference
import XCTest

enum KernelFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/kernels")

    /// One weight type: raw rows, their dequantized values, activation rows and x · Wᵀ.
    struct Weights {
        let format: WeightFormat
        let rows: Int
        let columns: Int
        let bytes: [UInt8]
        let dequantized: [Float]
        let xRows: Int
        let x: [Float]
        let y: [Float]  // [xRows, rows]
        var rowBytes: Int { format.rowBytes(columns)! }
    }

    static func load(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    static func weights(_ name: String) throws -> Weights {
        var reader = Reader(data: try load("\(name).bin"))
        XCTAssertEqual(reader.bytes(4), Array("CKF1".utf8))
        let type = reader.u32(), rows = Int(reader.u32()), columns = Int(reader.u32()), xRows = Int(reader.u32())
        let format = try XCTUnwrap(WeightFormat(rawValue: type))
        let bytes = reader.bytes(rows * format.rowBytes(columns)!)
        return Weights(format: format, rows: rows, columns: columns, bytes: bytes,
                       dequantized: reader.floats(rows * columns), xRows: xRows,
                       x: reader.floats(xRows * columns), y: reader.floats(xRows * rows))
    }

    struct Reader {
        let data: Data
        var offset = 0
        init(data: Data) { self.data = data }
        mutating func bytes(_ n: Int) -> [UInt8] {
            defer { offset += n }
            return Array(data[data.startIndex + offset ..< data.startIndex + offset + n])
        }
        mutating func u32() -> UInt32 {
            let b = bytes(4)
            return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        }
        mutating func u16s(_ n: Int) -> [UInt16] {
            let b = bytes(2 * n)
            return (0..<n).map { UInt16(b[2 * $0]) | UInt16(b[2 * $0 + 1]) << 8 }
        }
        mutating func floats(_ n: Int) -> [Float] {
            let b = bytes(4 * n)
            return (0..<n).map { i in
                Float(bitPattern: UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(b[4 * i + 3]) << 24)
            }
        }
    }

    static let allWeightFixtures = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q6_k"]

    /// The SIMD levels worth testing on this machine: scalar, then each level it supports.
    static var featureLevels: [Kernels.Features] {
        let detected = Kernels.detectedFeatures
        var levels: [Kernels.Features] = [[]]
        if detected.contains(.avx2) { levels.append(.avx2) }
        if detected.contains([.avx2, .avxVNNI]) { levels.append([.avx2, .avxVNNI]) }
        if detected.contains([.avx2, .avx512]) { levels.append([.avx2, .avx512]) }
        if detected.contains([.avx2, .avx512, .avx512VNNI]) { levels.append(detected) }
        return levels
    }

    /// Runs `body` at every SIMD level, restoring the detected features afterwards.
    static func atEveryLevel(_ body: (Kernels.Features) throws -> Void) rethrows {
        defer { Kernels.useFeatures(Kernels.detectedFeatures) }
        for level in featureLevels {
            Kernels.useFeatures(level)
            try body(level)
        }
    }

    /// Bound on |integer-kernel dot − exact dot| from quantizing x to 8 bits the way llama.cpp
    /// does: each x value moves by at most half a step plus the float16 rounding of the step
    /// (Q8_0/Q4_0: step amax/127 per 32 values, stored as float16: ≤ 0.5 + 127·2⁻¹¹ steps;
    /// Q4_K/Q6_K: step amax/127 per 256 values, float32), times Σ|w| over the block; plus
    /// float rounding slack.
    static func activationQuantizationBound(w: ArraySlice<Float>, x: ArraySlice<Float>, format: WeightFormat) -> Float {
        let w = Array(w), x = Array(x)
        let kQuant = format == .q4_K || format == .q6_K
        let blockSize = kQuant ? 256 : 32
        let steps: Float = kQuant ? 0.5 : 0.5 + 127.0 / 2048.0
        var bound: Float = 0, magnitude: Float = 0
        for start in stride(from: 0, to: x.count, by: blockSize) {
            let block = start..<min(start + blockSize, x.count)
            let amax = block.map { abs(x[$0]) }.max() ?? 0
            bound += amax / 127 * steps * block.map { abs(w[$0]) }.reduce(0, +)
            magnitude += block.map { abs(w[$0] * x[$0]) }.reduce(0, +)
        }
        return bound * 1.01 + magnitude * 1e-5 + 1e-6
    }
}
