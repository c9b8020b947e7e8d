import Foundation
import XCTest
@testable import Inference

/// The small random-weight models and golden outputs made by scripts/engine-fixtures (llama.cpp
/// for GGUF, PyTorch/transformers for safetensors). See that script for how they were built.
enum Fixtures {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models")

    /// `name` is e.g. "qwen2-q8_0" (GGUF) or "llama-hf-bf16" (folder).
    static func modelPath(_ name: String) -> String {
        let folder = models.appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return folder.path
        }
        return models.appendingPathComponent(name + ".gguf").path
    }

    struct Golden: Decodable {
        var reference: String
        var architecture: String
        var type: String
        var prompt: String
        var prompt_ids: [Int32]
        var greedy_ids: [Int32]
        var greedy_min_margin: Double
        var logits: [[Float]]
        var greedy_logits: [[Float]]
        /// llama.cpp goldens: per prompt position / greedy step, how far the reference's own
        /// runs with activations nudged by about an ulp move these logits (rows that hinge on a
        /// rounding tie); see scripts/engine-fixtures.
        var logit_spread: [Float]?
        var greedy_logit_spread: [Float]?
    }

    static func golden(_ name: String) throws -> Golden {
        let data = try Data(contentsOf: models.appendingPathComponent(name + ".golden.json"))
        return try JSONDecoder().decode(Golden.self, from: data)
    }

    /// Loaded models are shared between tests (loading is cheap, but keeps tests quick).
    nonisolated(unsafe) private static var cache: [String: LoadedModel] = [:]
    private static let lock = NSLock()

    static func model(_ name: String, options: ModelLoadOptions = ModelLoadOptions(threads: 2)) throws -> LoadedModel {
        lock.lock()
        defer { lock.unlock() }
        let key = name + "/\(options.quantize.map { "\($0)" } ?? "")"
        if let m = cache[key] { return m }
        let m = try LoadedModel.load(path: modelPath(name), options: options)
        cache[key] = m
        return m
    }
}

/// The engine's free-running greedy continuation of `prompt`: `count` tokens, end of sequence
/// ignored (the references run that long too).
func engineGreedy(model: LoadedModel, prompt: [Int32], count: Int) throws -> [Int32] {
    let mailbox = EngineEventMailbox()
    let engine = try Engine(model: model, options: EngineOptions(contextLength: max(128, prompt.count + count + 16), maxSequences: 4),
                            events: mailbox.sink)
    defer { engine.shutdown() }
    var sampling = SamplingParameters.greedy
    sampling.maxTokens = count
    sampling.ignoreEOS = true
    let id = engine.submit(GenerationRequest(prompt: .tokens(prompt), n: 1, sampling: sampling))
    let results = mailbox.collect(id, timeout: 120).compactMap { event -> SampleResult? in
        if case .sampleFinished(_, let r) = event { return r }
        return nil
    }
    XCTAssertEqual(results.count, 1, "one finished sample")
    return results.first?.tokens ?? []
}

/// Runs the forward pass directly: a prompt in one step, then greedy tokens one step each,
/// returning the logits of every prompt position and of every decode step.
struct DirectRun {
    var promptLogits: [[Float]]
    var stepLogits: [[Float]]

    init(model: LoadedModel, prompt: [Int32], feed: [Int32]) throws {
        let config = model.config
        let plan = KVCachePlan(config: config, contextLength: 128, maxSequences: 1)
        let cache = try model.backend.makeKVCache(plan.spec)
        let table = (0..<Int32(plan.blocksPerSequence)).map { $0 }
        func run(_ tokens: [Int32], at position: Int, logitRows: [Int]) throws -> [[Float]] {
            let layout = BatchLayout(tokens: tokens, sequences: [
                SequenceSlice(firstRow: 0, rowCount: tokens.count, firstPosition: position, blockTable: table),
            ])
            let batch = try model.backend.makeBatch(layout, cache: cache)
            let flat = model.network.forward(batch, cache: cache, logitRows: logitRows)
            return (0..<logitRows.count).map { Array(flat[($0 * config.vocabSize)..<(($0 + 1) * config.vocabSize)]) }
        }
        promptLogits = try run(prompt, at: 0, logitRows: Array(0..<prompt.count))
        stepLogits = [promptLogits.last ?? []]
        for (i, token) in feed.enumerated() {
            stepLogits += try run([token], at: prompt.count + i, logitRows: [0])
        }
    }
}

func maxAbsDifference(_ a: [[Float]], _ b: [[Float]]) -> (value: Float, row: Int) {
    var worst: Float = 0
    var row = 0
    for (i, (x, y)) in zip(a, b).enumerated() {
        for (u, v) in zip(x, y) where abs(u - v) > worst {
            worst = abs(u - v)
            row = i
        }
    }
    return (worst, row)
}

/// The largest |a - b| of each row.
func rowMaxAbsDifferences(_ a: [[Float]], _ b: [[Float]]) -> [Float] {
    zip(a, b).map { x, y in zip(x, y).reduce(0) { max($0, abs($1.0 - $1.1)) } }
}
