// The CUDA compile check: every GPU kernel, with the CUDA prelude, compiled by NVRTC for sm_80
// (A100) and sm_90 (H100) must compile with an empty log (no error, no warning) and every
// kernel must be in the PTX and the cubin. No GPU is needed: NVRTC is a library.
//
// NVRTC comes from PyPI's nvidia-cuda-nvrtc-cu12 wheel; STEPWISE_TEST_NVRTC names its
// lib/libnvrtc.so.12. Without it the tests skip and say so, unless STEPWISE_REQUIRE_NVRTC=1
// (set by .ci/run when it installed the wheel): then they fail.
import Foundation
@testable import Inference
import XCTest

final class NVRTCCompileTests: XCTestCase {
    /// The NVRTC under test, or a skip (a failure when NVRTC is required).
    func nvrtcUnderTest() throws -> NVRTC {
        let environment = ProcessInfo.processInfo.environment
        let required = environment["STEPWISE_REQUIRE_NVRTC"] == "1"
        guard let path = environment["STEPWISE_TEST_NVRTC"], !path.isEmpty else {
            let why = "STEPWISE_TEST_NVRTC is not set (pip install nvidia-cuda-nvrtc-cu12 and point it at site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12)"
            if required { XCTFail("STEPWISE_REQUIRE_NVRTC=1 but " + why) }
            throw XCTSkip(why)
        }
        do {
            return try NVRTC(path: path)
        } catch {
            if required { XCTFail("STEPWISE_REQUIRE_NVRTC=1 but \(error)") }
            throw XCTSkip("\(error)")
        }
    }

    func checkProgram(architecture: Int) throws {
        let nvrtc = try nvrtcUnderTest()
        XCTAssertTrue(nvrtc.supportedArchitectures.contains(architecture),
                      "NVRTC \(nvrtc.versionString) does not list sm_\(architecture): \(nvrtc.supportedArchitectures)")
        let kernels = GPUKernelSource.kernelNames
        XCTAssertFalse(kernels.isEmpty, "GPUKernelSource has no kernels to check")
        let result = try NVRTCCompileCheck.run(architecture: architecture, nvrtc: nvrtc)
        print("NVRTC \(result.compilerVersion) \(result.architecture): \(kernels.count) kernels, "
              + "PTX \(result.ptxBytes) bytes, cubin \(result.cubinBytes) bytes, "
              + "\(result.diagnostics.count) log lines")
        XCTAssertTrue(result.compiled, "the CUDA program does not compile for \(result.architecture)")
        XCTAssertTrue(result.diagnostics.isEmpty, "NVRTC logged for \(result.architecture):\n"
                      + result.diagnostics.joined(separator: "\n"))
        XCTAssertEqual(result.missingKernels, [], "kernels missing from the compiled code")
        if result.compiled {
            XCTAssertGreaterThan(result.cubinBytes, 0, "no cubin for a real architecture")
        }
    }

    func testProgramCompilesForSM80() throws { try checkProgram(architecture: 80) }
    func testProgramCompilesForSM90() throws { try checkProgram(architecture: 90) }

    /// The check itself catches what it must: an error, a warning, a missing kernel.
    func testCheckReportsErrorsWarningsAndMissingKernels() throws {
        let nvrtc = try nvrtcUnderTest()
        let good = """
            extern "C" __global__ void scale(float *x, float s) { x[threadIdx.x] *= s; }
            extern "C" __global__ void scale_twice(float *x, float s) { x[threadIdx.x] *= 2.0f * s; }
            """
        let clean = try NVRTCCompileCheck.run(architecture: 80, nvrtc: nvrtc, source: good,
                                              kernels: ["scale", "scale_twice"])
        XCTAssertTrue(clean.passed, "\(clean)")

        // "scale" is a prefix/suffix of nothing else here, but "twice" is only part of a name.
        let missing = try NVRTCCompileCheck.run(architecture: 80, nvrtc: nvrtc, source: good,
                                                kernels: ["scale", "twice", "absent"])
        XCTAssertEqual(missing.missingKernels, ["twice", "absent"])
        XCTAssertFalse(missing.passed)

        let warning = try NVRTCCompileCheck.run(
            architecture: 80, nvrtc: nvrtc,
            source: #"extern "C" __global__ void k(float *x) { int unused; x[0] = 1.0f; }"#, kernels: ["k"])
        XCTAssertTrue(warning.compiled)
        XCTAssertTrue(warning.diagnostics.contains { $0.contains("unused") }, "\(warning.diagnostics)")
        XCTAssertFalse(warning.passed)

        let error = try NVRTCCompileCheck.run(
            architecture: 90, nvrtc: nvrtc,
            source: #"extern "C" __global__ void k(float *x) { x[0] = undeclared; }"#, kernels: ["k"])
        XCTAssertFalse(error.compiled)
        XCTAssertTrue(error.diagnostics.contains { $0.contains("undeclared") }, "\(error.diagnostics)")
        XCTAssertFalse(error.passed)
    }

    /// PTX for a virtual architecture has no cubin; a real one has both.
    func testTargetsAndOutputs() throws {
        let nvrtc = try nvrtcUnderTest()
        let source = #"extern "C" __global__ void k(float *x) { x[threadIdx.x] = 1.0f; }"#
        let ptxOnly = try nvrtc.compile(source: source, options: CompileTarget(architecture: 80, kind: .ptx).options)
        XCTAssertTrue(ptxOnly.succeeded)
        XCTAssertNil(ptxOnly.cubin)
        XCTAssertTrue(NVRTC.text(of: ptxOnly.ptx ?? Data()).contains(".target sm_80"))

        let both = try nvrtc.compile(source: source, options: CompileTarget(architecture: 90, kind: .cubin).options)
        XCTAssertNotNil(both.cubin)
        // A cubin is an ELF file.
        XCTAssertEqual(both.cubin.map { Array($0.prefix(4)) }, [0x7f, 0x45, 0x4c, 0x46])

        // A GPU NVRTC knows gets a cubin; one newer than NVRTC gets PTX for the newest it knows.
        XCTAssertEqual(nvrtc.target(forComputeCapability: 9, 0), CompileTarget(architecture: 90, kind: .cubin))
        let newest = try XCTUnwrap(nvrtc.supportedArchitectures.last)
        XCTAssertEqual(nvrtc.target(forComputeCapability: 99, 9), CompileTarget(architecture: newest, kind: .ptx))
        XCTAssertNil(nvrtc.target(forComputeCapability: 1, 0), "no NVRTC 12 targets compute 1.0")

        // An option NVRTC does not know is an NVRTC failure (thrown), not a compile result.
        XCTAssertThrowsError(try nvrtc.compile(source: source, options: ["--no-such-option"])) { error in
            XCTAssertTrue("\(error)".contains("NVRTC_ERROR_INVALID_OPTION"), "\(error)")
        }
    }

    func testMissingLibraryIsOneLineError() {
        XCTAssertThrowsError(try NVRTC(path: "/nonexistent/libnvrtc.so.12")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("NVRTC not found"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        XCTAssertEqual(NVRTC.candidates(environment: ["STEPWISE_NVRTC": "/x/libnvrtc.so"]), ["/x/libnvrtc.so"])
        XCTAssertEqual(NVRTC.candidates(environment: [:]),
                       ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2",
                        "/usr/local/cuda/lib64/libnvrtc.so.13", "/usr/local/cuda/lib64/libnvrtc.so.12",
                        "/usr/local/cuda/lib64/libnvrtc.so.11.2"])
        XCTAssertEqual(NVRTC.candidates(environment: ["CUDA_HOME": "/opt/cuda"]).dropFirst(3).first, "/opt/cuda/lib64/libnvrtc.so.13")
    }
}
