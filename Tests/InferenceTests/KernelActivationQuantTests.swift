// Activation quantization against llama.cpp's own: the 8-bit blocks an activation row becomes
// before integer matmuls (Q8_0 blocks for Q8_0/Q4_0 weights, Q8_K for Q4_K/Q6_K), byte for byte
// against ggml-cpu's conversion function (fixture from scripts/engine-fixtures/
// make_act_quant_fixture.py), at every SIMD level. The golden-logit tests depend on this: one
// activation rounded differently moves a logit of the small test models by up to ~0.7.
import Foundation
import Inference
import XCTest

final class KernelActivationQuantTests: XCTestCase {
    func testActivationBlocksAreBitIdenticalToGgmlCPU() throws {
        var reader = KernelFixtures.Reader(data: try KernelFixtures.load("act_quantize.bin"))
        XCTAssertEqual(reader.bytes(4), Array("CKAQ".utf8))
        let sections = Int(reader.u32())
        XCTAssertEqual(sections, 2)
        for _ in 0..<sections {
            let format = try XCTUnwrap(WeightFormat(rawValue: reader.u32()))
            let n = Int(reader.u32())
            let input = reader.floats(n)
            let expected = reader.bytes(Int(reader.u32()))
            let (block, blockBytes) = format == .q4_K ? (256, 292) : (32, 34)
            XCTAssertEqual(expected.count, n / block * blockBytes)
            KernelFixtures.atEveryLevel { level in
                guard let got = Kernels.quantizeActivations(for: format, input) else {
                    return XCTFail("\(format): no activation blocks")
                }
                XCTAssertEqual(got.count, expected.count)
                var mismatches = 0
                for b in 0..<(n / block) {
                    var range = b * blockBytes ..< (b + 1) * blockBytes
                    // A Q8_0 block whose float16 scale is 0 (values of subnormal size) contributes
                    // nothing; ggml-cpu's vector code then stores -128s (127/amax overflows to
                    // infinity), ours zeros. Only the scale matters there.
                    if format == .q8_0, expected[range.lowerBound] == 0, expected[range.lowerBound + 1] == 0 {
                        range = range.lowerBound ..< range.lowerBound + 2
                    }
                    if got[range] != expected[range] {
                        mismatches += 1
                        if mismatches <= 3 {
                            XCTFail("\(format) activations, \(level): block \(b) differs from ggml-cpu's")
                        }
                    }
                }
            }
        }
    }

    func testOtherFormatsHaveNoActivationBlocks() {
        XCTAssertNil(Kernels.quantizeActivations(for: .f32, [Float](repeating: 1, count: 32)))
        XCTAssertNil(Kernels.quantizeActivations(for: .q4_K, [Float](repeating: 1, count: 32)))
    }
}
