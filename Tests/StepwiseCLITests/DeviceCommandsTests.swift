import XCTest
import Foundation
@testable import StepwiseCLI
@testable import Inference

/// `--device` on the commands that load a model, and `stepwise selftest`, from the command line.
final class DeviceCommandsTests: XCTestCase {
    static let demoModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Models/arith-llama-2.5m").path

    func run(_ args: String...) -> (code: Int32, out: String, err: String) {
        let c = Console.capturing()
        let code = CLI.run(args, console: c)
        return (code, c.capturedOut, c.capturedErr)
    }

    func testUnknownDeviceIsAUsageError() {
        let r = run("generate", "--model", Self.demoModel, "--prompt", "x", "--device", "tpu")
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.err.contains("--device takes auto, cpu, cuda or opencl, not 'tpu'"), r.err)
        let cpu = run("selftest", "--device", "cpu")
        XCTAssertEqual(cpu.code, 2)
        XCTAssertTrue(cpu.err.contains("reference"), cpu.err)
    }

    /// Without an NVIDIA driver, `--device cuda` is one line naming the missing driver (exit 2),
    /// and `--device auto` quietly runs on the CPU.
    func testCUDAWithoutADriver() throws {
        if BackendSelection.cudaDriverPresent() { throw XCTSkip("this machine has a CUDA driver") }
        let r = run("generate", "--model", Self.demoModel, "--prompt", "Question: 2 + 2?\nStep 1:", "--device", "cuda", "--max-tokens", "4")
        XCTAssertEqual(r.code, 2)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertTrue(r.err.contains("--device cuda") && r.err.contains("libcuda.so.1"), r.err)
        let auto = run("generate", "--model", Self.demoModel, "--prompt", "Question: 2 + 2?\nStep 1:", "--max-tokens", "4", "--temperature", "0")
        XCTAssertEqual(auto.code, 0, auto.err)
        XCTAssertFalse(auto.err.contains("warning"), "no warning when there is no driver at all: \(auto.err)")
    }

    /// `selftest --device opencl` on PoCL: the table, every check passing, the whole-model line.
    func testSelftestOnOpenCL() throws {
        do {
            _ = try BackendSelection.backend(.opencl)
        } catch {
            if ProcessInfo.processInfo.environment["STEPWISE_REQUIRE_OPENCL"] == "1" { XCTFail("\(error)") }
            throw XCTSkip("no OpenCL device: \(error)")
        }
        let r = run("selftest", "--device", "opencl", "--ops", "rmsNorm", "--model", Self.demoModel)
        XCTAssertEqual(r.code, 0, r.out + r.err)
        XCTAssertTrue(r.out.hasPrefix("selftest on opencl ("), r.out)
        XCTAssertTrue(r.out.contains("backend-ops checks passed"), r.out)
        XCTAssertFalse(r.out.contains("FAILED"), r.out)
        XCTAssertTrue(r.out.contains("greedy identical (32/32)"), r.out)
        let json = run("selftest", "--device", "opencl", "--ops", "add", "--model", Self.demoModel, "--json")
        XCTAssertEqual(json.code, 0, json.err)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let ops = try XCTUnwrap(object["ops"] as? [[String: Any]])
        XCTAssertFalse(ops.isEmpty)
        XCTAssertTrue(ops.allSatisfy { $0["passed"] as? Bool == true })
        XCTAssertEqual((object["whole_model"] as? [String: Any])?["passed"] as? Bool, true)
    }
}
