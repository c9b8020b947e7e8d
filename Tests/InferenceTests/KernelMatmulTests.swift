// The CPU backend's matmul on every weight format against the reference products of the
// fixtures, for activation row counts around the kernels' tile size, on 1 and 2 threads and at
// every SIMD level; plus weight conversion at upload.
import Foundation
import Inference
import XCTest

final class KernelMatmulTests: XCTestCase {
    /// Row counts below, at and past the tile (4), and past the chunking of the quantizer.
    let rowCounts = [1, 3, 4, 5, 9, 17]

    func testMatmulMatchesReferenceForEveryFormat() throws {
        for threads in [1, 2] {
            let backend = CPUBackend(threads: threads)
            try KernelFixtures.atEveryLevel { level in
                for name in KernelFixtures.allWeightFixtures {
                    try check(name, backend: backend, label: "\(name) [\(level)] \(threads) threads")
                }
            }
        }
    }

    private func check(_ name: String, backend: CPUBackend, label: String) throws {
        let f = try KernelFixtures.weights(name)
        let weight = try f.bytes.withUnsafeBytes {
            try backend.uploadWeight(name: name, format: f.format, rows: f.rows, columns: f.columns,
                                     bytes: $0, owner: nil, storeAs: nil)
        }
        // A bias exercises the epilogue; its values are exact in float.
        let biasValues = (0..<f.rows).map { Float($0) * 0.25 - 1 }
        let bias = try biasValues.withUnsafeBytes {
            try backend.uploadWeight(name: "bias", format: .f32, rows: 1, columns: f.rows, bytes: $0, owner: nil, storeAs: nil)
        }
        let integer = ![.f32, .f16, .bf16].contains(f.format)
        // Tolerance of each (activation row, output) pair, computed once.
        var tolerances = [Float](repeating: 0, count: f.xRows * f.rows)
        for xr in 0..<f.xRows {
            let xs = f.x[xr * f.columns ..< (xr + 1) * f.columns]
            for o in 0..<f.rows {
                let w = f.dequantized[o * f.columns ..< (o + 1) * f.columns]
                tolerances[xr * f.rows + o] = integer
                    ? KernelFixtures.activationQuantizationBound(w: w, x: xs, format: f.format)
                    : zip(w, xs).map { abs($0 * $1) }.reduce(0, +) * 2e-6 + 1e-6
            }
        }
        for rows in rowCounts {
            // Activation row r is fixture row r % xRows.
            var x: [Float] = []
            for r in 0..<rows { x += f.x[(r % f.xRows) * f.columns ..< (r % f.xRows + 1) * f.columns] }
            let input = try backend.makeBuffer(capacity: x.count)
            let output = try backend.makeBuffer(capacity: rows * f.rows)
            x.withUnsafeBufferPointer { backend.write($0, to: input, offset: 0) }
            for withBias in [false, true] {
                backend.matmul(weight, input, rows: rows, bias: withBias ? bias : nil, into: output)
                var y = [Float](repeating: 0, count: rows * f.rows)
                y.withUnsafeMutableBufferPointer { backend.read(output, offset: 0, into: $0) }
                for r in 0..<rows {
                    let xr = r % f.xRows
                    for o in 0..<f.rows {
                        let tolerance = tolerances[xr * f.rows + o]
                        let want = f.y[xr * f.rows + o] + (withBias ? biasValues[o] : 0)
                        if abs(y[r * f.rows + o] - want) > tolerance {
                            XCTFail("\(label) rows \(rows) bias \(withBias): y[\(r), \(o)] = \(y[r * f.rows + o]), want \(want) ± \(tolerance)")
                            return
                        }
                    }
                }
            }
        }
    }

    func testUploadConvertsToF32AndQ8_0() throws {
        let backend = CPUBackend(threads: 2)
        // Any format to F32 (norm weights, biases): the reference dequantization.
        for name in ["q4_k", "q6_k", "bf16", "f16"] {
            let f = try KernelFixtures.weights(name)
            let w = try f.bytes.withUnsafeBytes {
                try backend.uploadWeight(name: name, format: f.format, rows: f.rows, columns: f.columns, bytes: $0, owner: nil, storeAs: .f32)
            }
            XCTAssertEqual(w.format, .f32)
            let output = try backend.makeBuffer(capacity: f.rows * f.columns)
            // Multiply by the identity to read the converted rows back through the backend.
            var identity = [Float](repeating: 0, count: f.columns * f.columns)
            for i in 0..<f.columns { identity[i * f.columns + i] = 1 }
            let input = try backend.makeBuffer(capacity: identity.count)
            identity.withUnsafeBufferPointer { backend.write($0, to: input, offset: 0) }
            backend.matmul(w, input, rows: f.columns, bias: nil, into: output)
            var y = [Float](repeating: 0, count: f.columns * f.rows)
            y.withUnsafeMutableBufferPointer { backend.read(output, offset: 0, into: $0) }
            for i in 0..<f.columns {
                for o in 0..<f.rows where y[i * f.rows + o] != f.dequantized[o * f.columns + i] {
                    XCTFail("\(name) as F32: [\(o), \(i)] \(y[i * f.rows + o]) != \(f.dequantized[o * f.columns + i])")
                    return
                }
            }
        }
        // BF16 to Q8_0 (--quantize q8_0): equal to quantizing the dequantized rows.
        let f = try KernelFixtures.weights("bf16")
        let padded = 64  // Q8_0 needs multiples of 32: use the first 64 columns of each row
        var bytes: [UInt8] = []
        var expected: [UInt8] = []
        for r in 0..<f.rows {
            let row = Array(f.dequantized[r * f.columns ..< r * f.columns + padded])
            for v in row { let b = Kernels.floatToBFloat16(v); bytes += [UInt8(b & 0xff), UInt8(b >> 8)] }
            expected += Kernels.quantizeQ8_0(row)
        }
        let q = try bytes.withUnsafeBytes {
            try backend.uploadWeight(name: "q", format: .bf16, rows: f.rows, columns: padded, bytes: $0, owner: nil, storeAs: .q8_0)
        }
        XCTAssertEqual(q.format, .q8_0)
        let x = (0..<padded).map { Float($0 % 7) - 3 }
        let input = try backend.makeBuffer(capacity: padded), output = try backend.makeBuffer(capacity: f.rows)
        x.withUnsafeBufferPointer { backend.write($0, to: input, offset: 0) }
        backend.matmul(q, input, rows: 1, bias: nil, into: output)
        var y = [Float](repeating: 0, count: f.rows)
        y.withUnsafeMutableBufferPointer { backend.read(output, offset: 0, into: $0) }
        for r in 0..<f.rows {
            let want = expected.withUnsafeBytes { Kernels.dotScalar(.q8_0, $0.baseAddress! + r * 68, x) }
            XCTAssertEqual(y[r], want, accuracy: abs(want) * 1e-5 + 1e-5)
        }
    }

    func testUploadRejectsWrongSizes() throws {
        let backend = CPUBackend(threads: 1)
        let bytes = [UInt8](repeating: 0, count: 100)
        try bytes.withUnsafeBytes { raw in
            XCTAssertThrowsError(try backend.uploadWeight(name: "w", format: .q8_0, rows: 2, columns: 40, bytes: raw, owner: nil, storeAs: nil)) {
                XCTAssertTrue("\($0)".contains("multiple of 32"), "\($0)")
            }
            XCTAssertThrowsError(try backend.uploadWeight(name: "w", format: .q8_0, rows: 3, columns: 32, bytes: raw, owner: nil, storeAs: nil)) {
                XCTAssertTrue("\($0)".contains("expected"), "\($0)")
            }
            XCTAssertThrowsError(try backend.uploadWeight(name: "w", format: .q4_K, rows: 1, columns: 256, bytes: UnsafeRawBufferPointer(rebasing: raw[0..<0]), owner: nil, storeAs: nil))
        }
    }
}
