import XCTest
@testable import Inference

/// The kernel program's text itself: what every OpenCL and CUDA compiler must accept.
final class GPUKernelSourceTests: XCTestCase {
    func testProgramIsASCIIInBothDialects() {
        // Older OpenCL compilers reject anything else, even inside comments.
        for dialect in [KernelDialect.cuda, .opencl(subgroups: false), .opencl(subgroups: true)] {
            let program = GPUKernelSource.program(dialect)
            let line = program.split(separator: "\n", omittingEmptySubsequences: false)
                .firstIndex { !$0.unicodeScalars.allSatisfy(\.isASCII) }
            XCTAssertNil(line, "\(dialect): a non-ASCII character on line \((line ?? 0) + 1)")
        }
    }

    func testKernelNamesAreUniqueAndCoverEveryOp() {
        let names = GPUKernelSource.kernelNames
        XCTAssertEqual(Set(names).count, names.count, "duplicate kernel names: \(names)")
        for required in ["rms_norm", "rope", "store_kv", "attention", "silu_mul", "add_f32"] {
            XCTAssertTrue(names.contains(required), "missing kernel \(required)")
        }
        for format in ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q6_k"] {
            XCTAssertTrue(names.contains { $0.lowercased().hasPrefix("matmul") && $0.lowercased().contains(format) },
                          "no matmul kernel for \(format): \(names)")
        }
    }
}
