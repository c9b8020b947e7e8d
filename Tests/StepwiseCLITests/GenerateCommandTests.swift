import XCTest
import Foundation
@testable import StepwiseCLI

/// `stepwise generate` on the Inference fixture models (see scripts/engine-fixtures).
final class GenerateCommandTests: XCTestCase {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InferenceTests/Fixtures/models")

    func run(_ args: [String]) -> (code: Int32, out: String, err: String) {
        let c = Console.capturing()
        let code = CLI.run(args, console: c)
        return (code, c.capturedOut, c.capturedErr)
    }

    func testGreedySamplesAsJSONMatchTheReferenceContinuation() throws {
        let goldenData = try Data(contentsOf: Self.models.appendingPathComponent("qwen3-f32.golden.json"))
        let golden = try XCTUnwrap(try JSONSerialization.jsonObject(with: goldenData) as? [String: Any])
        let prompt = try XCTUnwrap(golden["prompt"] as? String)
        let greedy = try XCTUnwrap(golden["greedy_ids"] as? [Int])
        let r = run(["generate", "--model", Self.models.appendingPathComponent("qwen3-f32.gguf").path, "--prompt", prompt,
                     "--n", "2", "--temperature", "0", "--max-tokens", "8", "--logprobs", "3", "--json"])
        XCTAssertEqual(r.code, 0, r.err)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let samples = try XCTUnwrap(object["samples"] as? [[String: Any]])
        XCTAssertEqual(samples.count, 2)
        for s in samples {
            XCTAssertEqual(s["tokens"] as? [Int], Array(greedy.prefix(8)))
            XCTAssertEqual(s["finish_reason"] as? String, "length")
            let logprobs = try XCTUnwrap(s["logprobs"] as? [[String: Any]])
            XCTAssertEqual(logprobs.count, 8)
            XCTAssertEqual((logprobs[0]["top"] as? [[String: Any]])?.count, 3)
        }
        XCTAssertEqual(object["prompt_tokens"] as? Int, (golden["prompt_ids"] as? [Int])?.count)
    }

    func testBadModelAndImpossibleRequestExit2WithOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-gen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.gguf").path
        try Data("GGUF\u{3}\0\0\0".utf8).write(to: URL(fileURLWithPath: bad))
        let r = run(["generate", "--model", bad, "--prompt", "hi"])
        XCTAssertEqual(r.code, 2)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertTrue(r.err.contains(bad), r.err)

        let model = Self.models.appendingPathComponent("llama-f32.gguf").path
        let long = run(["generate", "--model", model, "--prompt", String(repeating: "Step 1: 3 + 4 = 7. ", count: 20), "--context", "16"])
        XCTAssertEqual(long.code, 2)
        XCTAssertEqual(long.err.split(separator: "\n").count, 1, long.err)
        XCTAssertTrue(long.err.contains("the context length is 16"), long.err)

        let usage = run(["generate", "--model", model, "--prompt", "x", "--top-p", "2"])
        XCTAssertEqual(usage.code, 2)
    }
}
