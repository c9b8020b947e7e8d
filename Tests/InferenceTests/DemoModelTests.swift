import Foundation
import XCTest
@testable import Inference

/// The model Stepwise ships (Models/arith-llama-2.5m, trained by scripts/demo-model) against
/// PyTorch: the logits transformers computes for a held-out builtin:arith problem and its greedy
/// continuation (scripts/demo-model/golden.py), the tokenizer's ids for the prompt, and the
/// engine's free-running greedy solution.
final class DemoModelTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let folder = root.appendingPathComponent("Models/arith-llama-2.5m")
    static let goldenFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/demo-model.golden.json")
    /// Both sides compute in F32 from the same BF16 weights: only summation order differs.
    static let tolerance: Float = 1e-3

    func testLogitsAndGreedySolutionMatchPyTorch() throws {
        let golden = try JSONDecoder().decode(Fixtures.Golden.self, from: Data(contentsOf: Self.goldenFile))
        let model = try LoadedModel.load(path: Self.folder.path, options: ModelLoadOptions(threads: 2))
        XCTAssertEqual(model.config.architecture.rawValue, "llama")

        XCTAssertEqual(try model.tokenize(golden.prompt), golden.prompt_ids, "Stepwise's tokenizer gives the trainer's ids")

        let direct = try DirectRun(model: model, prompt: golden.prompt_ids, feed: Array(golden.greedy_ids.dropLast()))
        let promptDiff = maxAbsDifference(direct.promptLogits, golden.logits)
        let stepDiff = maxAbsDifference(direct.stepLogits, golden.greedy_logits)
        print("demo model vs PyTorch: max |Δlogit| prompt \(promptDiff.value) (position \(promptDiff.row)), decode \(stepDiff.value) (step \(stepDiff.row))")
        XCTAssertEqual(direct.promptLogits.count, golden.logits.count)
        XCTAssertEqual(direct.stepLogits.count, golden.greedy_logits.count)
        XCTAssertLessThanOrEqual(promptDiff.value, Self.tolerance)
        XCTAssertLessThanOrEqual(stepDiff.value, Self.tolerance)

        // The engine's own greedy run writes the same solution, token for token, up to the
        // first step where PyTorch itself is within twice the tolerance of a tie.
        let tokens = try engineGreedy(model: model, prompt: golden.prompt_ids, count: golden.greedy_ids.count)
        let margins = golden.greedy_logits.map { row -> Float in
            let sorted = row.sorted(by: >)
            return sorted[0] - sorted[1]
        }
        let decisive = margins.firstIndex { $0 <= 2 * Self.tolerance } ?? margins.count
        XCTAssertGreaterThanOrEqual(decisive, 20, "the reference decides at least 20 tokens")
        XCTAssertEqual(Array(tokens.prefix(decisive)), Array(golden.greedy_ids.prefix(decisive)))
    }
}
