// Whole-model check: the same model on two backends, compared logit by logit.
//
// The reference (the CPU backend, itself tested against llama.cpp and PyTorch) runs the prompt
// in one step and then decodes greedily one token per step; the model under test is fed the
// very same tokens, so every position is compared on identical input even after a near-tie
// would have sent two free-running continuations apart. The test model's own argmax at each
// step says whether its greedy continuation would have been the same.
// Used by Tests/InferenceTests/GPUWholeModelTests and `stepwise selftest`.

import Foundation

public struct WholeModelComparison: Sendable {
    public let promptTokens: Int
    public let greedyTokens: Int
    /// Largest |test - reference| over every logit compared.
    public let maxAbsDifference: Float
    /// Σ(test - reference)² / Σreference² over every logit compared.
    public let normalisedError: Double
    /// Greedy tokens (of `greedyTokens`) on which the test model picked the reference's token
    /// before the first disagreement; `greedyTokens` when they never disagree.
    public let greedyAgreement: Int
    /// At the first disagreement: the reference's gap between its top two logits (a small gap
    /// means a near-tie that rounding legitimately decides); nil when they agree throughout.
    public let marginAtDisagreement: Float?

    public var greedyMatches: Bool { greedyAgreement == greedyTokens }
}

public enum WholeModelCheck {
    /// Runs `prompt` then `greedyTokens` greedy steps on `reference`, feeding the same tokens to
    /// `test`. Both models must be the same file loaded on two backends.
    public static func compare(test: LoadedModel, reference: LoadedModel, prompt: [Int32],
                               greedyTokens: Int) throws -> WholeModelComparison {
        precondition(!prompt.isEmpty, "WholeModelCheck: empty prompt")
        guard test.config.vocabSize == reference.config.vocabSize, test.config.layerCount == reference.config.layerCount else {
            throw InferenceError("whole-model check: \(test.path) and \(reference.path) are not the same model")
        }
        guard prompt.count <= min(test.network.maxLogitRows, reference.network.maxLogitRows),
              prompt.count <= min(test.network.maxRows, reference.network.maxRows) else {
            throw InferenceError("whole-model check: a \(prompt.count)-token prompt is longer than the models were loaded for")
        }
        let vocabulary = reference.config.vocabSize
        let contextLength = prompt.count + greedyTokens + 1
        let testRun = try StepRunner(model: test, contextLength: contextLength)
        let referenceRun = try StepRunner(model: reference, contextLength: contextLength)

        var difference = 0.0, magnitude = 0.0
        var maxAbs: Float = 0
        func accumulate(_ got: [Float], _ want: [Float]) {
            for (g, w) in zip(got, want) {
                let d = g.isFinite ? abs(g - w) : .infinity
                maxAbs = max(maxAbs, d)
                difference += Double(d) * Double(d)
                magnitude += Double(w) * Double(w)
            }
        }

        let promptRows = Array(0..<prompt.count)
        let wantPrompt = try referenceRun.step(prompt, logitRows: promptRows)
        let gotPrompt = try testRun.step(prompt, logitRows: promptRows)
        accumulate(gotPrompt, wantPrompt)

        var want = Array(wantPrompt[((prompt.count - 1) * vocabulary)...])
        var got = Array(gotPrompt[((prompt.count - 1) * vocabulary)...])
        var agreement: Int?
        var margin: Float?
        for step in 0..<greedyTokens {
            let (token, gap) = topTwo(want)
            if agreement == nil, argmax(got) != token {
                agreement = step
                margin = gap
            }
            if step == greedyTokens - 1 { break }
            want = try referenceRun.step([token], logitRows: [0])
            got = try testRun.step([token], logitRows: [0])
            accumulate(got, want)
        }
        return WholeModelComparison(
            promptTokens: prompt.count, greedyTokens: greedyTokens, maxAbsDifference: maxAbs,
            normalisedError: magnitude > 0 ? difference / magnitude : difference,
            greedyAgreement: agreement ?? greedyTokens, marginAtDisagreement: margin)
    }

    private static func argmax(_ logits: [Float]) -> Int32 {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return Int32(best)
    }

    private static func topTwo(_ logits: [Float]) -> (Int32, Float) {
        let best = Int(argmax(logits))
        var second = -Float.infinity
        for i in logits.indices where i != best { second = max(second, logits[i]) }
        return (Int32(best), logits[best] - second)
    }
}

/// One sequence stepped directly through a model's forward pass (no engine, no sampling).
private final class StepRunner {
    let model: LoadedModel
    let cache: BackendKVCache
    let table: [Int32]
    var position = 0

    init(model: LoadedModel, contextLength: Int) throws {
        self.model = model
        let plan = KVCachePlan(config: model.config, contextLength: contextLength, maxSequences: 1)
        cache = try model.backend.makeKVCache(plan.spec)
        table = (0..<Int32(plan.blocksPerSequence)).map { $0 }
    }

    func step(_ tokens: [Int32], logitRows: [Int]) throws -> [Float] {
        let layout = BatchLayout(tokens: tokens, sequences: [
            SequenceSlice(firstRow: 0, rowCount: tokens.count, firstPosition: position, blockTable: table),
        ])
        let batch = try model.backend.makeBatch(layout, cache: cache)
        position += tokens.count
        return model.network.forward(batch, cache: cache, logitRows: logitRows)
    }
}
