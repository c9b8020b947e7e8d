import XCTest
@testable import Inference

/// The engine's scheduling behaviour on a real (small) model: shared prompts, seeds,
/// continuous batching, scoring, cancellation, stop strings and refusals.
final class EngineTests: XCTestCase {
    private let fixture = "llama-f32"

    private func makeEngine(maxSequences: Int = 8, context: Int = 128) throws -> (Engine, EngineEventMailbox) {
        let mailbox = EngineEventMailbox()
        let engine = try Engine(model: try Fixtures.model(fixture),
                                options: EngineOptions(contextLength: context, maxSequences: maxSequences),
                                events: mailbox.sink)
        return (engine, mailbox)
    }

    private func samples(_ events: [EngineEvent]) -> [SampleResult] {
        events.compactMap { if case .sampleFinished(_, let r) = $0 { return r } else { return nil } }
            .sorted { $0.index < $1.index }
    }

    private func greedy(_ maxTokens: Int) -> SamplingParameters {
        var p = SamplingParameters.greedy
        p.maxTokens = maxTokens
        p.ignoreEOS = true
        return p
    }

    func testSamplesOfOnePromptShareItAndMatchTheGoldenGreedyRun() throws {
        let golden = try Fixtures.golden(fixture)
        let (engine, mailbox) = try makeEngine()
        defer { engine.shutdown() }
        let id = engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), n: 5, sampling: greedy(golden.greedy_ids.count)))
        let events = mailbox.collect(id, timeout: 60)
        let results = samples(events)
        XCTAssertEqual(results.count, 5)
        // The 25-token prompt ends inside a 16-token KV block, so samples 1...4 decode on copies of it.
        for r in results { XCTAssertEqual(r.tokens, golden.greedy_ids, "sample \(r.index)") }
        XCTAssertEqual(engine.statistics.promptTokens, golden.prompt_ids.count, "the prompt is computed once")
        XCTAssertEqual(engine.statistics.generatedTokens, 5 * golden.greedy_ids.count)
        guard case .finished = events.last else { return XCTFail("last event is not .finished") }
        // Streamed deltas add up to each sample's text.
        var streamed = [String](repeating: "", count: 5)
        for case .token(_, let s, _, let text, _) in events { streamed[s] += text }
        XCTAssertEqual(streamed, results.map(\.text))
    }

    func testPromptsLongerThanAStepAreChunkedBesideRunningDecodes() throws {
        let golden = try Fixtures.golden(fixture)
        let mailbox = EngineEventMailbox()
        // 6 rows per step: the 25-token prompt takes five steps, sharing them with the decode
        // rows of the request already running.
        let engine = try Engine(model: try Fixtures.model(fixture),
                                options: EngineOptions(contextLength: 128, maxSequences: 4, maxStepTokens: 6),
                                events: mailbox.sink)
        defer { engine.shutdown() }
        let first = engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), n: 2, sampling: greedy(golden.greedy_ids.count)))
        let second = engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), n: 1, sampling: greedy(golden.greedy_ids.count)))
        let score = engine.submit(ScoringRequest(prompt: .tokens(golden.prompt_ids), continuations: [.tokens(Array(golden.greedy_ids.prefix(9)))]))
        var all: [RequestID: [EngineEvent]] = [:]
        var done: Set<RequestID> = []
        while done.count < 3, let event = mailbox.next(timeout: 60) {
            all[event.requestID, default: []].append(event)
            if case .finished(let id) = event { done.insert(id) }
        }
        XCTAssertEqual(samples(all[first] ?? []).map(\.tokens), [golden.greedy_ids, golden.greedy_ids])
        XCTAssertEqual(samples(all[second] ?? []).map(\.tokens), [golden.greedy_ids])
        let scored = (all[score] ?? []).compactMap { if case .scored(_, let s) = $0 { return s.first } else { return nil } }.first
        XCTAssertEqual(scored?.tokenLogprobs.count, 9)
        // Each greedy token is the argmax, so its log-probability is the largest of its step.
        for (i, logprob) in (scored?.tokenLogprobs ?? []).enumerated() {
            let row = golden.greedy_logits[i].map(Double.init)
            let maximum = row.max() ?? 0
            let logZ = maximum + log(row.reduce(0) { $0 + exp($1 - maximum) })
            XCTAssertEqual(logprob, row[Int(golden.greedy_ids[i])] - logZ, accuracy: 1e-3, "token \(i)")
        }
    }

    func testEachSampleIsReproducibleFromItsOwnSeed() throws {
        let golden = try Fixtures.golden(fixture)
        let (engine, mailbox) = try makeEngine()
        defer { engine.shutdown() }
        var p = SamplingParameters(temperature: 1.5, topP: 0.95, seed: 77, maxTokens: 24)
        p.ignoreEOS = true
        let together = samples(mailbox.collect(engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), n: 3, sampling: p)), timeout: 60))
        XCTAssertEqual(together.count, 3)
        XCTAssertNotEqual(together[0].tokens, together[1].tokens, "different seeds should differ at temperature 1.5")
        for i in 0..<3 {
            var alone = p
            alone.seed = 77 + UInt64(i)
            let solo = samples(mailbox.collect(engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), n: 1, sampling: alone)), timeout: 60))
            XCTAssertEqual(solo.first?.tokens, together[i].tokens, "sample \(i) alone with seed 77+\(i)")
        }
    }

    func testRequestsJoinAndLeaveARunningBatch() throws {
        let golden = try Fixtures.golden(fixture)
        let (engine, mailbox) = try makeEngine()
        defer { engine.shutdown() }
        // A long request, then shorter ones with other prompts while it runs.
        let long = engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), n: 2, sampling: greedy(golden.greedy_ids.count)))
        let shortPrompt = Array(golden.prompt_ids.prefix(9))
        let short = engine.submit(GenerationRequest(prompt: .tokens(shortPrompt), n: 1, sampling: greedy(6)))
        let score = engine.submit(ScoringRequest(prompt: .tokens(golden.prompt_ids),
                                                 continuations: [.tokens(Array(golden.greedy_ids.prefix(3)))]))
        var all: [RequestID: [EngineEvent]] = [:]
        var done: Set<RequestID> = []
        while done.count < 3, let event = mailbox.next(timeout: 60) {
            all[event.requestID, default: []].append(event)
            switch event {
            case .finished(let id), .failed(let id, _): done.insert(id)
            default: break
            }
        }
        XCTAssertEqual(samples(all[long] ?? []).map(\.tokens), [golden.greedy_ids, golden.greedy_ids])
        // The short request gives what it gives alone.
        let alone = samples(mailbox.collect(engine.submit(GenerationRequest(prompt: .tokens(shortPrompt), n: 1, sampling: greedy(6))), timeout: 60))
        XCTAssertEqual(samples(all[short] ?? []).first?.tokens, alone.first?.tokens)
        XCTAssertEqual(alone.first?.tokens.count, 6)
        XCTAssertEqual(alone.first?.finishReason, .length)
        XCTAssertTrue((all[score] ?? []).contains { if case .scored = $0 { return true } else { return false } })
    }

    func testScoringMatchesTheReferenceLogits() throws {
        let golden = try Fixtures.golden(fixture)
        let (engine, mailbox) = try makeEngine()
        defer { engine.shutdown() }
        // Continuation = the first 4 greedy tokens; its log-probability from the golden logits.
        let continuation = Array(golden.greedy_ids.prefix(4))
        var expected = 0.0
        for (i, token) in continuation.enumerated() {
            let row = golden.greedy_logits[i].map(Double.init)
            let maximum = row.max() ?? 0
            let logZ = maximum + log(row.reduce(0) { $0 + exp($1 - maximum) })
            expected += row[Int(token)] - logZ
        }
        let other = [golden.greedy_ids[0], (golden.greedy_ids[1] + 1) % Int32(golden.logits[0].count)]
        let id = engine.submit(ScoringRequest(prompt: .tokens(golden.prompt_ids), continuations: [.tokens(continuation), .tokens(other)]))
        let events = mailbox.collect(id, timeout: 60)
        guard let scores = events.compactMap({ if case .scored(_, let s) = $0 { return s } else { return nil } }).first else {
            return XCTFail("no scores: \(events)")
        }
        XCTAssertEqual(scores.count, 2)
        XCTAssertEqual(scores[0].tokenLogprobs.count, 4)
        XCTAssertEqual(scores[0].logprob, expected, accuracy: 1e-2)
        XCTAssertGreaterThan(scores[0].logprob, scores[1].logprob, "the greedy path is the likelier one")
    }

    func testTextPromptsAndTheMailboxWakeUp() throws {
        let golden = try Fixtures.golden(fixture)
        let model = try Fixtures.model(fixture)
        final class Counter: @unchecked Sendable {
            let lock = NSLock()
            var value = 0
            func bump() { lock.lock(); value += 1; lock.unlock() }
        }
        let wakeUps = Counter()
        let mailbox = EngineEventMailbox(onPost: { wakeUps.bump() })
        let engine = try Engine(model: model, options: EngineOptions(contextLength: 128, maxSequences: 4), events: mailbox.sink)
        defer { engine.shutdown() }
        // Text is tokenized with the model's tokenizer: the same scores as the token ids.
        let continuation = model.detokenize(Array(golden.greedy_ids.prefix(3)))
        let byText = engine.submit(ScoringRequest(prompt: .text(golden.prompt), continuations: [.text(continuation)]))
        let byTokens = engine.submit(ScoringRequest(prompt: .tokens(golden.prompt_ids),
                                                    continuations: [.tokens(try model.tokenize(continuation, addBOS: false))]))
        var scores: [RequestID: Double] = [:]
        var events = 0
        while scores.count < 2 {
            guard let e = mailbox.next(timeout: 60) else { return XCTFail("timed out") }
            events += 1
            if case .scored(let id, let s) = e { scores[id] = s[0].logprob }
        }
        events += mailbox.collect(byTokens, timeout: 60).count + mailbox.collect(byText, timeout: 1).count
        XCTAssertEqual(try XCTUnwrap(scores[byText]), try XCTUnwrap(scores[byTokens]), accuracy: 1e-6)
        wakeUps.lock.lock()
        XCTAssertGreaterThanOrEqual(wakeUps.value, events, "every event woke the consumer")
        wakeUps.lock.unlock()
    }

    func testCancelStopsARunningRequestAndTheEngineGoesOn() throws {
        let golden = try Fixtures.golden(fixture)
        // The sink cancels on the request's third token, from the engine thread itself, so the
        // cancellation lands at a known point however the test thread is scheduled.
        final class Box: @unchecked Sendable {
            var engine: Engine?
            var tokens = 0
        }
        let box = Box()
        let mailbox = EngineEventMailbox()
        let engine = try Engine(model: try Fixtures.model(fixture), options: EngineOptions(contextLength: 128, maxSequences: 8),
                                events: { event in
                                    if case .token(let id, 0, _, _, _) = event {
                                        box.tokens += 1
                                        if box.tokens == 3 { box.engine?.cancel(id) }
                                    }
                                    mailbox.post(event)
                                })
        box.engine = engine
        defer { engine.shutdown() }
        let id = engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), n: 3, sampling: greedy(100)))
        let seen = mailbox.collect(id, timeout: 60)
        let results = samples(seen)
        XCTAssertEqual(results.count, 3)
        for r in results {
            XCTAssertEqual(r.finishReason, .cancelled)
            XCTAssertEqual(r.tokens, Array(golden.greedy_ids.prefix(3)), "sample \(r.index) stops after the step that was running")
        }
        guard case .finished = seen.last else { return XCTFail("no .finished after cancel") }
        // Blocks and sequences were given back: a full-width request still runs.
        let after = samples(mailbox.collect(engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), n: 8, sampling: greedy(3))), timeout: 60))
        XCTAssertEqual(after.count, 8)
        XCTAssertEqual(engine.statistics.activeSequences, 0)
        // Cancelling a finished or unknown request is harmless.
        engine.cancel(id)
        engine.cancel(RequestID(999))
        XCTAssertEqual(samples(mailbox.collect(engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), sampling: greedy(2))), timeout: 60)).count, 1)
    }

    func testManyRequestsFromTwoThreadsWithCancellationsAllEndCleanly() throws {
        let golden = try Fixtures.golden(fixture)
        let (engine, mailbox) = try makeEngine(maxSequences: 6, context: 64)
        defer { engine.shutdown() }
        final class Submitted: @unchecked Sendable {
            let lock = NSLock()
            var ids: [RequestID: Int] = [:]   // id → samples expected (0 for scoring)
            var cancelled: Set<RequestID> = []
        }
        let submitted = Submitted()
        let prompt = golden.prompt_ids
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            var rng = SeededGenerator(seed: UInt64(thread + 1))
            for i in 0..<20 {
                let length = Int(rng.next() % UInt64(prompt.count)) + 1
                let id: RequestID
                var expected = 0
                if i % 4 == 3 {
                    let continuations = (0..<Int(rng.next() % 3 + 1)).map { c in
                        PromptInput.tokens(Array(golden.greedy_ids[c..<(c + Int(rng.next() % 5) + 1)]))
                    }
                    id = engine.submit(ScoringRequest(prompt: .tokens(Array(prompt.prefix(length))), continuations: continuations))
                } else {
                    expected = Int(rng.next() % 3) + 1
                    var p = SamplingParameters(temperature: 0.9, seed: rng.next(), maxTokens: Int(rng.next() % 12) + 1)
                    p.ignoreEOS = true
                    id = engine.submit(GenerationRequest(prompt: .tokens(Array(prompt.prefix(length))), n: expected, sampling: p))
                }
                submitted.lock.lock()
                submitted.ids[id] = expected
                submitted.lock.unlock()
                if rng.next() % 4 == 0 {
                    if rng.next() % 2 == 0 { usleep(UInt32(rng.next() % 3000)) }
                    engine.cancel(id)
                    submitted.lock.lock()
                    submitted.cancelled.insert(id)
                    submitted.lock.unlock()
                }
            }
        }
        var events: [RequestID: [EngineEvent]] = [:]
        var ended: Set<RequestID> = []
        while ended.count < submitted.ids.count {
            guard let event = mailbox.next(timeout: 120) else { return XCTFail("timed out with \(ended.count) of \(submitted.ids.count) ended") }
            XCTAssertFalse(ended.contains(event.requestID), "event after the end of \(event.requestID)")
            events[event.requestID, default: []].append(event)
            switch event {
            case .finished(let id), .failed(let id, _): ended.insert(id)
            default: break
            }
        }
        for (id, expected) in submitted.ids {
            let list = events[id] ?? []
            if case .failed(_, let message) = list.last { XCTFail("\(id) failed: \(message)"); continue }
            let finishedSamples = samples(list)
            if submitted.cancelled.contains(id) {
                XCTAssertLessThanOrEqual(finishedSamples.count, expected)
            } else if expected > 0 {
                XCTAssertEqual(finishedSamples.map(\.index), Array(0..<expected), "\(id)")
                XCTAssertTrue(finishedSamples.allSatisfy { $0.finishReason == .length })
            } else {
                XCTAssertTrue(list.contains { if case .scored = $0 { return true } else { return false } }, "\(id) has no scores")
            }
        }
        // Every block came back: the widest, longest request still runs to the end.
        let full = samples(mailbox.collect(engine.submit(GenerationRequest(prompt: .tokens(prompt), n: 6, sampling: greedy(64 - prompt.count))), timeout: 60))
        XCTAssertEqual(full.count, 6)
        XCTAssertTrue(full.allSatisfy { $0.finishReason == .contextFull || $0.finishReason == .length }, "\(full.map(\.finishReason))")
    }

    func testStopStringsCutTheTextAcrossTokens() throws {
        // The llama fixture's greedy text varies from token to token.
        let golden = try Fixtures.golden("llama-f32")
        let model = try Fixtures.model("llama-f32")
        let mailbox = EngineEventMailbox()
        let engine = try Engine(model: model, options: EngineOptions(contextLength: 128, maxSequences: 2), events: mailbox.sink)
        defer { engine.shutdown() }
        // Stop at the text of greedy tokens 5 and 6 together (straddling a token boundary).
        let before = model.detokenize(Array(golden.greedy_ids.prefix(5)))
        let stop = model.detokenize(Array(golden.greedy_ids[5..<7]))
        try XCTSkipIf(stop.isEmpty || before.contains(stop), "fixture text unsuitable for this check")
        var p = greedy(40)
        p.stop = [stop]
        let result = samples(mailbox.collect(engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), sampling: p)), timeout: 60)).first
        XCTAssertEqual(result?.finishReason, .stop)
        XCTAssertEqual(result?.text, before)
    }

    func testImpossibleRequestsFailWithOneLine() throws {
        let golden = try Fixtures.golden(fixture)
        let (engine, mailbox) = try makeEngine(maxSequences: 4, context: 32)
        defer { engine.shutdown() }
        func failure(_ r: GenerationRequest) -> String? {
            for case .failed(_, let message) in mailbox.collect(engine.submit(r), timeout: 30) { return message }
            return nil
        }
        let long = Array(repeating: golden.prompt_ids[0], count: 40)
        XCTAssertEqual(failure(GenerationRequest(prompt: .tokens(long), sampling: greedy(4))),
                       "the prompt has 40 tokens; the context length is 32")
        XCTAssertEqual(failure(GenerationRequest(prompt: .tokens(golden.prompt_ids), n: 5, sampling: greedy(4))),
                       "n = 5 samples exceed the engine's batch of 4 sequences")
        XCTAssertNotNil(failure(GenerationRequest(prompt: .tokens([99_999]), sampling: greedy(4))))
        XCTAssertNotNil(failure(GenerationRequest(prompt: .tokens([]), sampling: greedy(4))))
        XCTAssertNotNil(failure(GenerationRequest(prompt: .tokens(golden.prompt_ids), sampling: SamplingParameters(temperature: -1))))
        // A generation that reaches the context length ends cleanly.
        let r = samples(mailbox.collect(engine.submit(GenerationRequest(prompt: .tokens(golden.prompt_ids), sampling: greedy(100))), timeout: 30)).first
        XCTAssertEqual(r?.finishReason, .contextFull)
        XCTAssertEqual(r.map { $0.promptTokenCount + $0.tokens.count }, 33)
    }

    func testKVCacheThatCannotFitIsRefusedBeforeAllocation() throws {
        let model = try Fixtures.model(fixture)
        let plan = KVCachePlan(config: model.config, contextLength: 256, maxSequences: 1_000_000)
        XCTAssertThrowsError(try plan.check(modelContextLength: 256, available: 1 << 30)) { error in
            XCTAssertTrue("\(error)".contains("lower the context length or the batch size"), "\(error)")
        }
        XCTAssertThrowsError(try Engine(model: model, options: EngineOptions(contextLength: 4096), events: { _ in })) { error in
            XCTAssertTrue("\(error)".contains("exceeds the model's 256"), "\(error)")
        }
        let first = try Engine(model: model, options: EngineOptions(contextLength: 64, maxSequences: 2), events: { _ in })
        XCTAssertThrowsError(try Engine(model: model, options: EngineOptions(contextLength: 64, maxSequences: 2), events: { _ in }))
        first.shutdown()
        try Engine(model: model, options: EngineOptions(contextLength: 64, maxSequences: 2), events: { _ in }).shutdown()
    }
}
