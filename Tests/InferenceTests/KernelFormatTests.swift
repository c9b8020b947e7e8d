// Block formats against gguf-py's reference (de)quantizers (fixtures from
// scripts/kernel-golden): dequantization, dot products at every SIMD level, Q8_0 quantization
// and float16/bfloat16 conversion.
import Foundation
import Inference
import XCTest

final class KernelFormatTests: XCTestCase {
    func testDequantizeMatchesReference() throws {
        for name in KernelFixtures.allWeightFixtures {
            let f = try KernelFixtures.weights(name)
            for r in 0..<f.rows {
                let row = f.bytes.withUnsafeBytes { Kernels.dequantizeRow(f.format, $0.baseAddress! + r * f.rowBytes, count: f.columns) }
                let expected = f.dequantized[r * f.columns ..< (r + 1) * f.columns]
                for (i, (got, want)) in zip(row, expected).enumerated() where abs(got - want) > abs(want) * 1e-6 {
                    XCTFail("\(name) row \(r) element \(i): \(got) != \(want)")
                    return
                }
            }
        }
    }

    func testDotProductsMatchReferenceAtEveryLevel() throws {
        try KernelFixtures.atEveryLevel { level in
            for name in KernelFixtures.allWeightFixtures {
                let f = try KernelFixtures.weights(name)
                let integer = ![.f32, .f16, .bf16].contains(f.format)
                for xr in 0..<f.xRows {
                    let x = Array(f.x[xr * f.columns ..< (xr + 1) * f.columns])
                    for r in 0..<f.rows {
                        let want = f.y[xr * f.rows + r]
                        let w = f.dequantized[r * f.columns ..< (r + 1) * f.columns]
                        let tolerance = integer
                            ? KernelFixtures.activationQuantizationBound(w: w, x: x[...], format: f.format)
                            : zip(w, x).map { abs($0 * $1) }.reduce(0, +) * 2e-6 + 1e-6
                        let (fast, scalar) = f.bytes.withUnsafeBytes { raw -> (Float, Float) in
                            let row = raw.baseAddress! + r * f.rowBytes
                            return (Kernels.dot(f.format, row, x), Kernels.dotScalar(f.format, row, x))
                        }
                        XCTAssertEqual(fast, want, accuracy: tolerance, "\(name) [\(level)] x\(xr) row \(r)")
                        XCTAssertEqual(scalar, want, accuracy: tolerance, "\(name) scalar x\(xr) row \(r)")
                        // Both integer paths quantize x identically, so they may differ only by
                        // float summation order.
                        XCTAssertEqual(fast, scalar, accuracy: abs(scalar) * 1e-5 + 1e-4, "\(name) [\(level)] vs scalar")
                    }
                }
            }
        }
    }

    /// The activation quantizer has a vector version per SIMD level; all must round exactly
    /// alike (as llama.cpp does), so the scalar kernel gives the same dot at every level.
    func testActivationQuantizationIsTheSameAtEveryLevel() throws {
        for name in ["q8_0", "q4_0", "q4_k", "q6_k"] {
            let f = try KernelFixtures.weights(name)
            var results: [[Float]] = []
            KernelFixtures.atEveryLevel { _ in
                var dots: [Float] = []
                for xr in 0..<f.xRows {
                    let x = Array(f.x[xr * f.columns ..< (xr + 1) * f.columns])
                    for r in 0..<f.rows {
                        dots.append(f.bytes.withUnsafeBytes { Kernels.dotScalar(f.format, $0.baseAddress! + r * f.rowBytes, x) })
                    }
                }
                results.append(dots)
            }
            for level in results.dropFirst() {
                XCTAssertEqual(level, results[0], "\(name): scalar dot differs between SIMD levels")
            }
        }
    }

    func testQ8_0QuantizationIsBitExact() throws {
        var reader = KernelFixtures.Reader(data: try KernelFixtures.load("q8_0_quantize.bin"))
        XCTAssertEqual(reader.bytes(4), Array("CKQ8".utf8))
        let n = Int(reader.u32())
        let input = reader.floats(n)
        let expected = reader.bytes(n / 32 * 34)
        let got = Kernels.quantizeQ8_0(input)
        for block in 0..<(n / 32) where got[block * 34 ..< (block + 1) * 34] != expected[block * 34 ..< (block + 1) * 34] {
            XCTFail("Q8_0 block \(block): \(Array(got[block * 34 ..< block * 34 + 6])) != \(Array(expected[block * 34 ..< block * 34 + 6]))")
        }
    }

    func testFloatConversionsMatchNumpyAndGguf() throws {
        var reader = KernelFixtures.Reader(data: try KernelFixtures.load("float_convert.bin"))
        XCTAssertEqual(reader.bytes(4), Array("CKFC".utf8))
        let n = Int(reader.u32())
        let input = reader.floats(n), half = reader.u16s(n), bfloat = reader.u16s(n)
        for i in 0..<n {
            XCTAssertEqual(Kernels.floatToHalf(input[i]), half[i], "f16 of \(input[i])")
            XCTAssertEqual(Kernels.floatToBFloat16(input[i]), bfloat[i], "bf16 of \(input[i])")
        }
    }

    func testEveryHalfRoundTrips() {
        for bits in 0...UInt16.max {
            let value = Kernels.halfToFloat(bits)
            if value.isNaN { continue }
            XCTAssertEqual(Kernels.floatToHalf(value), bits, "half \(String(bits, radix: 16))")
            XCTAssertEqual(Float(Float16(bitPattern: bits)), value, "half \(String(bits, radix: 16)) vs Swift's Float16")
        }
    }
}
