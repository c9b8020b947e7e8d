import XCTest
@testable import Inference

/// Logits and greedy continuations against independent references, for every architecture
/// (llama with Llama-3 rope scaling and adjacent-pair RoPE, qwen2 with q/k/v bias, qwen3 with
/// q/k norm and an explicit head_dim) and every weight type.
///
/// Tolerances, max |Δlogit| over every prompt position and every decode step (the logits have a
/// standard deviation of about 10). Measured on this machine in brackets.
/// - F32 GGUF, HF F32, HF BF16: 1e-3 [≤ 7e-5] — the same arithmetic up to summation order.
/// - F16: 0.05 [≤ 0.025] — llama.cpp rounds activations to F16 for F16 weights; we keep F32
///   (llama.cpp's own decode and prompt pass differ by up to 0.014 here).
/// - Q8_0: 0.05 [≤ 0.018], Q4_K (Q4_K_M, with Q6_K tensors): 0.1 [≤ 0.055]; and at least 90% of
///   all rows within 1e-3 [all but one row ≤ 6.1e-5]. Activations are quantized to 8 bits
///   exactly as ggml-cpu does (Q8_0 blocks with FP16 scales; Q8_K for K-quant weights), so the
///   only differences are summation order — except where an activation sits within a few ulps of
///   a rounding tie: then the two implementations round it differently and that row moves by up
///   to ~0.7 in these random models (one flip each in llama-q8_0 position 23 and qwen3-q4_k
///   position 6). llama.cpp disagrees with itself the same way (its one-row and many-row Q4_K
///   matmuls sum in different orders), so scripts/engine-fixtures keeps only Q4_K weights on
///   which its decode and its prompt pass agree within 1e-3. A wrong block layout, scale or
///   rotation moves every row, by 1 and more.
///
/// Greedy: at every decode step where the reference's top-2 margin exceeds twice our measured
/// difference there (so the difference cannot reorder them), our argmax after the reference's
/// prefix is the reference's token; and the engine's free-running greedy continuation is
/// token-identical up to the first step where the reference is that close to a tie — which must
/// be at least 32 tokens in.
final class GoldenOutputTests: XCTestCase {
    static let tolerance: [String: Float] = [
        "f32": 1e-3, "hf-f32": 1e-3, "hf-bf16": 1e-3,
        "f16": 0.05, "q8_0": 0.05, "q4_k": 0.1,
    ]
    /// Types whose activations are quantized (see above): most rows must agree this closely.
    static let typicalTolerance: [String: Float] = ["q8_0": 1e-3, "q4_k": 1e-3]
    static let typicalShare = 0.9

    private func check(_ arch: String, _ kind: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let name = "\(arch)-\(kind)"
        let golden = try Fixtures.golden(name)
        let model = try Fixtures.model(name)
        let tolerance = try XCTUnwrap(Self.tolerance[kind])
        XCTAssertGreaterThanOrEqual(golden.greedy_ids.count, 32)

        // 1. Logits at every prompt position, and at every step of decoding the golden greedy
        //    tokens one at a time (the KV cache path).
        let direct = try DirectRun(model: model, prompt: golden.prompt_ids, feed: Array(golden.greedy_ids.dropLast()))
        let promptDiff = maxAbsDifference(direct.promptLogits, golden.logits)
        let stepDiffs = rowMaxAbsDifferences(direct.stepLogits, golden.greedy_logits)
        let stepDiff = maxAbsDifference(direct.stepLogits, golden.greedy_logits)
        let rows = rowMaxAbsDifferences(direct.promptLogits, golden.logits) + stepDiffs
        let typical = Self.typicalTolerance[kind] ?? tolerance
        let typicalRows = rows.filter { $0 <= typical }.count
        print("golden \(name): max |Δlogit| prompt \(promptDiff.value) (position \(promptDiff.row)), decode \(stepDiff.value) (step \(stepDiff.row)); tolerance \(tolerance); \(typicalRows)/\(rows.count) rows within \(typical)")
        XCTAssertEqual(direct.promptLogits.count, golden.logits.count, file: file, line: line)
        XCTAssertEqual(direct.stepLogits.count, golden.greedy_logits.count, file: file, line: line)
        XCTAssertLessThanOrEqual(promptDiff.value, tolerance, "\(name) prompt logits, position \(promptDiff.row)", file: file, line: line)
        XCTAssertLessThanOrEqual(stepDiff.value, tolerance, "\(name) decode logits, step \(stepDiff.row)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(Double(typicalRows), Self.typicalShare * Double(rows.count),
                                    "\(name): only \(typicalRows) of \(rows.count) rows within \(typical) (isolated rounding flips are expected, not many)",
                                    file: file, line: line)

        // 2. Teacher-forced greedy choices wherever the reference is decisive: its top-2 margin
        //    exceeds twice our difference at that step (at least twice the typical tolerance).
        let margins = golden.greedy_logits.map { row -> Float in
            let sorted = row.sorted(by: >)
            return sorted[0] - sorted[1]
        }
        let decisiveSteps = zip(margins, stepDiffs).map { $0 > 2 * max($1, typical) }
        for (step, logits) in direct.stepLogits.enumerated() where decisiveSteps[step] {
            let ours = logits.withUnsafeBufferPointer { Sampler.argmax($0) }
            XCTAssertEqual(Int32(ours), golden.greedy_ids[step], "\(name) greedy step \(step)", file: file, line: line)
        }

        // 3. The free-running greedy continuation through the engine.
        let mailbox = EngineEventMailbox()
        let engine = try Engine(model: model, options: EngineOptions(contextLength: 128, maxSequences: 4), events: mailbox.sink)
        defer { engine.shutdown() }
        var sampling = SamplingParameters.greedy
        sampling.maxTokens = golden.greedy_ids.count
        sampling.ignoreEOS = true
        let id = engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), n: 1, sampling: sampling))
        let results = mailbox.collect(id, timeout: 120).compactMap { event -> SampleResult? in
            if case .sampleFinished(_, let r) = event { return r }
            return nil
        }
        XCTAssertEqual(results.count, 1, file: file, line: line)
        let decisive = decisiveSteps.firstIndex(of: false) ?? decisiveSteps.count
        print("golden \(name): free-running greedy compared for \(decisive) of \(golden.greedy_ids.count) tokens")
        XCTAssertGreaterThanOrEqual(decisive, 32, "\(name): the reference has a near-tie at step \(decisive)", file: file, line: line)
        XCTAssertEqual(results.first.map { Array($0.tokens.prefix(decisive)) }, Array(golden.greedy_ids.prefix(decisive)),
                       "\(name) greedy continuation", file: file, line: line)
        XCTAssertEqual(results.first?.tokens.count, golden.greedy_ids.count, file: file, line: line)
    }

    func testLlamaF32() throws { try check("llama", "f32") }
    func testLlamaF16() throws { try check("llama", "f16") }
    func testLlamaQ8_0() throws { try check("llama", "q8_0") }
    func testLlamaQ4_K() throws { try check("llama", "q4_k") }
    func testLlamaHFF32() throws { try check("llama", "hf-f32") }
    func testLlamaHFBF16() throws { try check("llama", "hf-bf16") }

    func testQwen2F32() throws { try check("qwen2", "f32") }
    func testQwen2F16() throws { try check("qwen2", "f16") }
    func testQwen2Q8_0() throws { try check("qwen2", "q8_0") }
    func testQwen2Q4_K() throws { try check("qwen2", "q4_k") }
    func testQwen2HFF32() throws { try check("qwen2", "hf-f32") }
    func testQwen2HFBF16() throws { try check("qwen2", "hf-bf16") }

    func testQwen3F32() throws { try check("qwen3", "f32") }
    func testQwen3F16() throws { try check("qwen3", "f16") }
    func testQwen3Q8_0() throws { try check("qwen3", "q8_0") }
    func testQwen3Q4_K() throws { try check("qwen3", "q4_k") }
    func testQwen3HFF32() throws { try check("qwen3", "hf-f32") }
    func testQwen3HFBF16() throws { try check("qwen3", "hf-bf16") }

    /// The prompt's text tokenizes to the ids the references were fed, with our tokenizer.
    func testPromptTokenizesLikeTheReferences() throws {
        for name in ["llama-f32", "qwen3-hf-f32"] {
            let golden = try Fixtures.golden(name)
            XCTAssertEqual(try Fixtures.model(name).tokenize(golden.prompt, addBOS: false), golden.prompt_ids, name)
        }
    }
}

/// `--quantize q8_0`: F32/BF16 checkpoints converted at load.
final class QuantizeAtLoadTests: XCTestCase {
    /// The HF F32 folders hold the same weights as the F32 GGUFs, so converting them at load
    /// must give what llama.cpp's own Q8_0 conversion of those GGUFs gives.
    func testF32CheckpointConvertedToQ8_0MatchesLlamaCppsQ8_0() throws {
        for arch in ["llama", "qwen3"] {
            let golden = try Fixtures.golden("\(arch)-q8_0")
            let model = try Fixtures.model("\(arch)-hf-f32", options: ModelLoadOptions(quantize: .q8_0, threads: 2))
            let run = try DirectRun(model: model, prompt: golden.prompt_ids, feed: Array(golden.greedy_ids.prefix(8)))
            let diff = maxAbsDifference(run.promptLogits, golden.logits)
            print("quantize-at-load \(arch)-hf-f32 vs llama.cpp \(arch)-q8_0: max |Δlogit| \(diff.value)")
            XCTAssertLessThan(diff.value, 0.05, "\(arch), position \(diff.row)")
        }
    }

    func testBF16CheckpointConvertsAndOtherTargetsAreRefused() throws {
        let golden = try Fixtures.golden("llama-hf-bf16")
        let model = try Fixtures.model("llama-hf-bf16", options: ModelLoadOptions(quantize: .q8_0, threads: 2))
        let diff = maxAbsDifference(try DirectRun(model: model, prompt: golden.prompt_ids, feed: []).promptLogits, golden.logits).value
        // Quantization moves these logits by ~0.8 (llama.cpp's Q8_0 does the same to the F32 model).
        XCTAssertGreaterThan(diff, 1e-2)
        XCTAssertLessThan(diff, 1.5)
        XCTAssertThrowsError(try LoadedModel.load(path: Fixtures.modelPath("qwen3-f32"), options: ModelLoadOptions(quantize: .q4_K)))
    }
}
