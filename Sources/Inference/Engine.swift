/// # The inference engine
///
/// `Engine` runs one loaded model on its own thread and serves many requests at once with
/// continuous batching. Everything is asynchronous: you submit requests, get a `RequestID`
/// back at once, and receive `EngineEvent`s through the sink you gave the engine.
///
/// ```swift
/// let model = try LoadedModel.load(path: "qwen2.5-0.5b-instruct-q8_0.gguf")
/// let mailbox = EngineEventMailbox(onPost: { wakeUI() })   // or any @Sendable closure
/// let engine = try Engine(model: model, options: EngineOptions(maxSequences: 16), events: mailbox.sink)
///
/// // 8 samples of one prompt: the prompt is computed once, its KV blocks are shared, and the
/// // 8 continuations decode together, one batched step per token.
/// var sampling = SamplingParameters(temperature: 0.7, topP: 0.95, seed: 42, maxTokens: 512)
/// sampling.stop = ["\n\nQuestion:"]
/// let solve = engine.submit(GenerationRequest(prompt: .text(prompt), n: 8, sampling: sampling))
///
/// // Multiple-choice verification: log P(" Correct") vs log P(" Incorrect") after a prompt.
/// let verify = engine.submit(ScoringRequest(prompt: .text(question),
///                                           continuations: [.text(" Correct"), .text(" Incorrect")]))
///
/// for event in mailbox.drain() {            // on the UI / loop thread
///     switch event {
///     case .token(let id, let sample, _, let text, _): ...      // streamed text of a sample
///     case .sampleFinished(let id, let result): ...            // text, tokens, logprobs, reason
///     case .scored(let id, let scores): ...                    // one ContinuationScore each
///     case .finished(let id): ...                              // last event of a request
///     case .failed(let id, let message): ...                   // one line; last event too
///     }
/// }
/// engine.cancel(solve)        // any time; unfinished samples end with reason .cancelled
/// engine.statistics           // tokens/s, tokens so far, queue depth
/// engine.shutdown()           // cancels everything and joins the engine thread
/// ```
///
/// One engine per `LoadedModel` at a time (the backend and the model's scratch buffers serve
/// one thread); a second `Engine` on the same model throws until the first is shut down. The
/// engine keeps itself alive while its thread runs: call `shutdown()` when done.
///
/// Guarantees:
/// - Events of one request arrive in order, and `.finished` or `.failed` is always its last.
///   The sink is called on the engine thread after each step, with that step's events: keep it
///   short (queue and wake, as the mailbox does). It may call `submit` and `cancel` (a cancel
///   from the sink takes effect before the next step), never `shutdown`.
/// - `statistics` already counts the work behind every event delivered so far.
/// - Sample `i` of a request with seed `s` draws from a generator seeded with `s + i`: the same
///   request gives the same samples whatever else is running (up to floating-point differences
///   between batch compositions, which greedy and low-temperature runs do not see in practice).
/// - A request that cannot run (prompt longer than the context, more samples than the batch
///   holds, invalid sampling values, text the tokenizer rejects) gets `.failed` with a one-line
///   message; the engine keeps serving the others. The KV cache is sized once, at `init`,
///   from the model, the context length and the batch size, and checked against the memory
///   available before it is allocated (`init` throws when it does not fit).
/// - Prompts longer than `maxStepTokens` are processed in chunks, interleaved with the decode
///   steps of running requests, so a long verification prompt does not stall running samples.
import Foundation
import ModelFormats

/// Engine sizing.
public struct EngineOptions: Sendable {
    /// Tokens per sequence, prompt included (nil: the model's context length, at most 4096).
    public var contextLength: Int?
    /// Sequences decoded together at most (samples of all running requests, plus the
    /// continuations of running scoring requests).
    public var maxSequences: Int
    /// Rows per step at most (prompt chunks plus decode rows).
    public var maxStepTokens: Int
    public var kvFormat: KVCacheSpec.Format

    public init(contextLength: Int? = nil, maxSequences: Int = 16, maxStepTokens: Int = 512,
                kvFormat: KVCacheSpec.Format = .f32) {
        self.contextLength = contextLength
        self.maxSequences = maxSequences
        self.maxStepTokens = maxStepTokens
        self.kvFormat = kvFormat
    }
}

/// Work done so far.
public struct EngineStatistics: Sendable, Equatable {
    /// Prompt tokens computed (a prompt shared by N samples counts once).
    public var promptTokens = 0
    /// Tokens generated, all samples together.
    public var generatedTokens = 0
    /// Continuation tokens scored.
    public var scoredTokens = 0
    /// Seconds spent computing steps.
    public var busySeconds = 0.0
    public var steps = 0
    /// Generated tokens per second over roughly the last five seconds of steps.
    public var recentGeneratedTokensPerSecond = 0.0
    public var activeSequences = 0
    public var queuedRequests = 0

    /// Generated tokens per busy second over the engine's life.
    public var generatedTokensPerSecond: Double { busySeconds > 0 ? Double(generatedTokens) / busySeconds : 0 }
}

public final class Engine: @unchecked Sendable {
    public let model: LoadedModel
    public let plan: KVCachePlan
    public let options: EngineOptions

    // Shared with submitters, guarded by `lock`.
    private let lock = NSCondition()
    private var inbox: [Job] = []
    private var cancellations: Set<RequestID> = []
    private var stopping = false
    private var nextID: UInt64 = 1
    private var sharedStatistics = EngineStatistics()
    private let exited = DispatchSemaphore(value: 0)

    // Engine thread only.
    private let sink: @Sendable (EngineEvent) -> Void
    private let cache: BackendKVCache
    private var pool: KVBlockPool
    private var waiting: [Job] = []
    private var running: [Job] = []
    private var reservedSequences = 0
    private var recent: [(time: Double, tokens: Int)] = []
    /// Tokens accepted by samples during the current step.
    private var stepGenerated = 0
    /// Events of the current loop iteration, delivered after the statistics are updated so a
    /// consumer that sees an event also sees the work behind it in `statistics`.
    private var outbox: [EngineEvent] = []

    private func emit(_ event: EngineEvent) { outbox.append(event) }

    private func deliver() {
        let events = outbox
        outbox.removeAll(keepingCapacity: true)
        for event in events { sink(event) }
    }

    /// Plans and allocates the KV cache (throws if it does not fit in available memory) and
    /// starts the engine thread.
    public init(model: LoadedModel, options: EngineOptions = EngineOptions(),
                events: @escaping @Sendable (EngineEvent) -> Void) throws {
        let config = model.config
        let context = options.contextLength ?? min(config.contextLength, 4096)
        guard options.maxSequences >= 1, options.maxSequences <= model.network.maxLogitRows,
              options.maxStepTokens >= options.maxSequences, options.maxStepTokens <= model.network.maxRows else {
            throw InferenceError("batch size \(options.maxSequences) and step size \(options.maxStepTokens) must satisfy "
                + "1 ≤ batch ≤ \(model.network.maxLogitRows) and batch ≤ step ≤ \(model.network.maxRows)")
        }
        let plan = KVCachePlan(config: config, contextLength: context, maxSequences: options.maxSequences,
                               format: options.kvFormat)
        // The cache lives where the backend computes: device memory on a GPU, else host memory.
        let available: Int?
        if let gpu = model.backend as? GPUBackend {
            available = gpu.device.freeMemory ?? gpu.device.totalMemory
        } else {
            available = availableSystemMemory()
        }
        try plan.check(modelContextLength: config.contextLength, available: available)
        guard model.attachEngine() else {
            throw InferenceError("\(model.path): another engine is using this model; shut it down first")
        }
        do {
            cache = try model.backend.makeKVCache(plan.spec)
        } catch let error as BackendError {
            model.detachEngine()
            throw InferenceError("cannot allocate the KV cache: \(error.description)")
        }
        self.model = model
        self.plan = plan
        self.options = options
        self.sink = events
        self.pool = KVBlockPool(blockCount: plan.spec.blockCount)
        let thread = Thread { [self] in
            self.run()
            self.exited.signal()
        }
        thread.name = "stepwise-engine"
        thread.stackSize = 8 << 20
        thread.start()
    }

    // MARK: Public API (any thread)

    @discardableResult
    public func submit(_ request: GenerationRequest) -> RequestID {
        enqueue { Job(id: $0, generation: request) }
    }

    @discardableResult
    public func submit(_ request: ScoringRequest) -> RequestID {
        enqueue { Job(id: $0, scoring: request) }
    }

    /// Cancels a queued or running request. Unknown or finished ids are ignored.
    public func cancel(_ id: RequestID) {
        lock.lock()
        cancellations.insert(id)
        lock.signal()
        lock.unlock()
    }

    public var statistics: EngineStatistics {
        lock.lock()
        defer { lock.unlock() }
        return sharedStatistics
    }

    /// Cancels every request (their events are still delivered) and stops the engine thread.
    /// The engine cannot be used afterwards.
    public func shutdown() {
        lock.lock()
        let already = stopping
        stopping = true
        lock.signal()
        lock.unlock()
        if !already {
            exited.wait()
            model.detachEngine()
        }
    }

    private func enqueue(_ make: (RequestID) -> Job) -> RequestID {
        lock.lock()
        let id = RequestID(nextID)
        nextID += 1
        let job = make(id)
        if stopping {
            lock.unlock()
            sink(.failed(id, message: "the engine has shut down"))
            return id
        }
        inbox.append(job)
        lock.signal()
        lock.unlock()
        return id
    }

    // MARK: The engine thread

    private func run() {
        while true {
            lock.lock()
            while inbox.isEmpty && cancellations.isEmpty && !stopping && waiting.isEmpty && running.isEmpty {
                lock.wait()
            }
            let arrived = inbox
            inbox.removeAll()
            var cancelled = cancellations
            cancellations.removeAll()
            let stop = stopping
            lock.unlock()

            for job in arrived { prepare(job) }
            if stop {
                for job in waiting + running { cancelled.insert(job.id) }
            }
            if !cancelled.isEmpty { cancel(cancelled) }
            if stop { break }
            admit()
            step()
            publishStatistics()
            deliver()
        }
        publishStatistics()
        deliver()
    }

    /// Tokenizes and validates a new request; queues it or fails it.
    private func prepare(_ job: Job) {
        do {
            try job.tokenize(model.codec)
            if let problem = job.problem(contextLength: plan.contextLength, maxSequences: plan.maxSequences,
                                         vocabularySize: model.config.vocabSize) {
                throw InferenceError(problem)
            }
            waiting.append(job)
        } catch {
            emit(.failed(job.id, message: "\(error)"))
        }
    }

    /// Moves waiting jobs to running, first come first served, while sequences are free.
    private func admit() {
        while let job = waiting.first, reservedSequences + job.sequenceCount <= plan.maxSequences {
            waiting.removeFirst()
            reservedSequences += job.sequenceCount
            running.append(job)
        }
    }

    private func cancel(_ ids: Set<RequestID>) {
        waiting.removeAll { job in
            guard ids.contains(job.id) else { return false }
            emit(.finished(job.id))
            return true
        }
        for job in running where ids.contains(job.id) && job.phase != .done {
            for index in job.samples.indices where !job.samples[index].finished {
                finish(job, sample: index, reason: .cancelled, completeRequest: false)
            }
            job.phase = .done
            release(job)
            emit(.finished(job.id))
        }
        running.removeAll { ids.contains($0.id) }
    }

    private func release(_ job: Job) {
        guard !job.released else { return }
        job.released = true
        pool.release(job.promptBlocks)
        job.promptBlocks = []
        for i in job.samples.indices {
            pool.release(job.samples[i].blocks)
            job.samples[i].blocks = []
        }
        for i in job.continuations.indices {
            pool.release(job.continuations[i].blocks)
            job.continuations[i].blocks = []
        }
        reservedSequences -= job.sequenceCount
    }

    // MARK: One step

    /// What a group of rows in the step is for, so its logits can be routed afterwards.
    private enum Purpose {
        case decode(Job, sample: Int)
        case prompt(Job, completes: Bool)
        case continuation(Job, index: Int, from: Int, count: Int)
    }

    private func step() {
        var tokens: [Int32] = []
        var slices: [SequenceSlice] = []
        var purposes: [Purpose] = []
        var logitRows: [Int] = []
        let budget = options.maxStepTokens
        let logitBudget = model.network.maxLogitRows
        let blockSize = plan.spec.blockSize

        func add(_ rowTokens: ArraySlice<Int32>, position: Int, blocks: inout [Int32], purpose: Purpose, logits: Range<Int>) -> Bool {
            let needed = (position + rowTokens.count + blockSize - 1) / blockSize
            while blocks.count < needed {
                guard let block = pool.allocate() else { return false }
                blocks.append(block)
            }
            let first = tokens.count
            slices.append(SequenceSlice(firstRow: first, rowCount: rowTokens.count, firstPosition: position, blockTable: blocks))
            tokens.append(contentsOf: rowTokens)
            for r in logits { logitRows.append(first + r) }
            purposes.append(purpose)
            return true
        }

        // Decode rows first: running samples never wait behind prompts.
        for job in running where job.phase == .decoding {
            for s in job.samples.indices where !job.samples[s].finished {
                guard let token = job.samples[s].pending else { continue }
                let position = job.prompt.count + job.samples[s].tokens.count - 1
                if !add([token], position: position, blocks: &job.samples[s].blocks, purpose: .decode(job, sample: s), logits: 0..<1) {
                    fail(job, "out of KV cache blocks")
                }
            }
        }
        // Then continuations being scored, then prompt chunks, within the row budgets.
        for job in running where job.phase == .scoring {
            for c in job.continuations.indices {
                let cont = job.continuations[c]
                let inputs = cont.tokens.count - 1   // the last token is only predicted, never fed
                let remaining = inputs - cont.fed
                let room = min(budget - tokens.count, logitBudget - logitRows.count, remaining)
                guard room > 0 else { continue }
                let rows = cont.tokens[cont.fed..<(cont.fed + room)]
                if !add(rows, position: job.prompt.count + cont.fed, blocks: &job.continuations[c].blocks,
                        purpose: .continuation(job, index: c, from: cont.fed, count: room), logits: 0..<room) {
                    fail(job, "out of KV cache blocks")
                }
                job.continuations[c].fed += room
            }
        }
        for job in running where job.phase == .prompt {
            let room = min(budget - tokens.count, job.prompt.count - job.prefilled)
            guard room > 0, logitRows.count < logitBudget else { continue }
            let completes = job.prefilled + room == job.prompt.count
            if !add(job.prompt[job.prefilled..<(job.prefilled + room)], position: job.prefilled, blocks: &job.promptBlocks,
                    purpose: .prompt(job, completes: completes), logits: completes ? (room - 1)..<room : 0..<0) {
                fail(job, "out of KV cache blocks")
            }
            job.prefilled += room
        }
        running.removeAll { $0.phase == .done }
        guard !tokens.isEmpty else { return }

        let layout = BatchLayout(tokens: tokens, sequences: slices)
        let started = DispatchTime.now().uptimeNanoseconds
        let logits: [Float]
        do {
            let batch = try model.backend.makeBatch(layout, cache: cache)
            logits = model.network.forward(batch, cache: cache, logitRows: logitRows)
        } catch {
            for purpose in purposes {
                switch purpose {
                case .decode(let job, _), .prompt(let job, _), .continuation(let job, _, _, _): fail(job, "\(error)")
                }
            }
            running.removeAll { $0.phase == .done }
            return
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9

        // Route the logits.
        let vocab = model.config.vocabSize
        var logitIndex = 0
        var promptTokens = 0
        stepGenerated = 0
        var copies: [(from: Int32, to: Int32)] = []
        logits.withUnsafeBufferPointer { all in
            func row() -> UnsafeBufferPointer<Float> {
                defer { logitIndex += 1 }
                return UnsafeBufferPointer(rebasing: all[(logitIndex * vocab)..<((logitIndex + 1) * vocab)])
            }
            for (purpose, slice) in zip(purposes, slices) {
                switch purpose {
                case .decode(let job, let s):
                    let r = row()
                    guard job.phase == .decoding else { continue }
                    sampleNext(job, sample: s, logits: r)
                case .prompt(let job, let completes):
                    promptTokens += slice.rowCount
                    guard completes else { continue }
                    let r = row()
                    guard job.phase == .prompt else { continue }
                    promptFinished(job, logits: r, copies: &copies)
                case .continuation(let job, let c, let from, let count):
                    for j in 0..<count {
                        let r = row()
                        let target = job.continuations[c].tokens[from + j + 1]
                        job.continuations[c].logprobs.append(Double(r[Int(target)]) - Sampler.logSumExp(r))
                    }
                    finishScoringIfDone(job)
                }
            }
        }
        if !copies.isEmpty { model.backend.copyKVBlocks(cache, pairs: copies) }
        running.removeAll { $0.phase == .done }

        lock.lock()
        sharedStatistics.steps += 1
        sharedStatistics.busySeconds += seconds
        sharedStatistics.promptTokens += promptTokens
        sharedStatistics.generatedTokens += stepGenerated
        lock.unlock()
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        recent.append((now, stepGenerated))
        recent.removeAll { now - $0.time > 5 }
    }

    private func publishStatistics() {
        let total = recent.reduce(0) { $0 + $1.tokens }
        let span = (recent.last?.time ?? 0) - (recent.first?.time ?? 0)
        lock.lock()
        sharedStatistics.recentGeneratedTokensPerSecond = span > 0 ? Double(total) / span : 0
        sharedStatistics.activeSequences = running.reduce(0) { $0 + $1.activeSequences }
        sharedStatistics.queuedRequests = waiting.count + inbox.count
        lock.unlock()
    }

    // MARK: Request progress

    /// The prompt is in the cache: fork it into the samples (or continuations), sharing every
    /// full block and copying the partly filled last one for all but the first.
    private func promptFinished(_ job: Job, logits: UnsafeBufferPointer<Float>, copies: inout [(from: Int32, to: Int32)]) {
        let count = job.sequenceCount
        let full = job.prompt.count / plan.spec.blockSize
        var tables: [[Int32]] = []
        for i in 0..<count {
            if i == 0 {
                tables.append(job.promptBlocks)
                continue
            }
            var table = Array(job.promptBlocks[0..<full])
            pool.retain(table)
            if job.promptBlocks.count > full {
                guard let block = pool.allocate() else {
                    for t in tables.dropFirst() { pool.release(t) }
                    pool.release(table)
                    fail(job, "out of KV cache blocks")
                    return
                }
                copies.append((job.promptBlocks[full], block))
                table.append(block)
            }
            tables.append(table)
        }
        job.promptBlocks = []
        switch job.kind {
        case .generation:
            job.phase = .decoding
            for s in 0..<count {
                job.samples[s].blocks = tables[s]
                sampleNext(job, sample: s, logits: logits)
            }
        case .scoring:
            job.phase = .scoring
            let logZ = Sampler.logSumExp(logits)
            for c in 0..<count {
                job.continuations[c].blocks = tables[c]
                job.continuations[c].logprobs = [Double(logits[Int(job.continuations[c].tokens[0])]) - logZ]
            }
            finishScoringIfDone(job)
        }
    }

    private func sampleNext(_ job: Job, sample s: Int, logits: UnsafeBufferPointer<Float>) {
        let params = job.sampling
        let (token, logprob) = job.samples[s].sampler.choose(from: logits)
        if model.codec.endOfGeneration.contains(token) && !params.ignoreEOS {
            finish(job, sample: s, reason: .eos)
            return
        }
        let codec = model.codec
        let top = Sampler.topLogprobs(logits, k: params.logprobs).map {
            TokenLogprob(token: $0.token, text: codec.tokenText($0.token), logprob: $0.logprob)
        }
        let entry = GeneratedTokenLogprobs(chosen: TokenLogprob(token: token, text: codec.tokenText(token), logprob: logprob), top: top)
        stepGenerated += 1
        job.samples[s].tokens.append(token)
        job.samples[s].logprobs.append(entry)
        job.samples[s].cumulativeLogprob += logprob
        let piece = job.samples[s].decoder.push(token)
        let outcome = job.samples[s].stopMatcher.append(piece)
        let delta: String
        var stopped = false
        switch outcome {
        case .running(let d): delta = d
        case .stopped(let d): delta = d; stopped = true
        }
        if job.streamTokens {
            emit(.token(job.id, sample: s, token: token, text: delta, logprob: entry))
        }
        let position = job.prompt.count + job.samples[s].tokens.count - 1
        if stopped {
            finish(job, sample: s, reason: .stop)
        } else if job.samples[s].tokens.count >= params.maxTokens {
            finish(job, sample: s, reason: .length)
        } else if position >= plan.contextLength {
            finish(job, sample: s, reason: .contextFull)
        } else {
            job.samples[s].pending = token
        }
    }

    private func finish(_ job: Job, sample s: Int, reason: FinishReason, completeRequest: Bool = true) {
        var state = job.samples[s]
        guard !state.finished else { return }
        state.finished = true
        state.pending = nil
        if reason != .stop {
            // Whatever the decoder and the stop matcher still hold is final text now.
            _ = state.stopMatcher.append(state.decoder.finish())
            let rest = state.stopMatcher.flush()
            if job.streamTokens && !rest.isEmpty, let last = state.tokens.last {
                emit(.token(job.id, sample: s, token: last, text: rest, logprob: nil))
            }
        }
        pool.release(state.blocks)
        state.blocks = []
        job.samples[s] = state
        emit(.sampleFinished(job.id, SampleResult(
            index: s, text: state.stopMatcher.text, tokens: state.tokens, promptTokenCount: job.prompt.count,
            finishReason: reason, logprobs: state.logprobs, cumulativeLogprob: state.cumulativeLogprob)))
        if completeRequest && job.samples.allSatisfy(\.finished) {
            job.phase = .done
            release(job)
            emit(.finished(job.id))
        }
    }

    private func finishScoringIfDone(_ job: Job) {
        guard job.phase == .scoring,
              job.continuations.allSatisfy({ $0.logprobs.count == $0.tokens.count }) else { return }
        let scores = job.continuations.enumerated().map { index, c in
            ContinuationScore(index: index, tokens: c.tokens, tokenLogprobs: c.logprobs, logprob: c.logprobs.reduce(0, +))
        }
        job.phase = .done
        release(job)
        // Counted here, once per scored token: a continuation's first token is read from the
        // prompt's last row, not from a continuation row of the step.
        lock.lock()
        sharedStatistics.scoredTokens += scores.reduce(0) { $0 + $1.tokens.count }
        lock.unlock()
        emit(.scored(job.id, scores))
        emit(.finished(job.id))
    }

    private func fail(_ job: Job, _ message: String) {
        guard job.phase != .done else { return }
        job.phase = .done
        release(job)
        emit(.failed(job.id, message: message))
    }
}

/// A request inside the engine (engine thread only).
private final class Job {
    enum Kind { case generation(GenerationRequest), scoring(ScoringRequest) }
    enum Phase { case queued, prompt, decoding, scoring, done }

    struct Sample {
        var sampler: Sampler
        var decoder: any StreamingTextDecoder
        var stopMatcher: StopMatcher
        var blocks: [Int32] = []
        var tokens: [Int32] = []
        var logprobs: [GeneratedTokenLogprobs] = []
        var cumulativeLogprob = 0.0
        /// Sampled but not yet fed to the model.
        var pending: Int32?
        var finished = false
    }

    struct Continuation {
        var tokens: [Int32]
        var blocks: [Int32] = []
        /// Continuation tokens already fed as input rows.
        var fed = 0
        var logprobs: [Double] = []
    }

    let id: RequestID
    let kind: Kind
    var phase = Phase.queued
    /// KV blocks and reserved sequences given back (exactly once).
    var released = false
    var prompt: [Int32] = []
    var prefilled = 0
    var promptBlocks: [Int32] = []
    var samples: [Sample] = []
    var continuations: [Continuation] = []

    init(id: RequestID, generation: GenerationRequest) {
        self.id = id
        self.kind = .generation(generation)
    }

    init(id: RequestID, scoring: ScoringRequest) {
        self.id = id
        self.kind = .scoring(scoring)
    }

    var sampling: SamplingParameters {
        if case .generation(let r) = kind { return r.sampling }
        return .greedy
    }

    var streamTokens: Bool {
        if case .generation(let r) = kind { return r.streamTokens }
        return false
    }

    /// Sequences the job occupies while it runs.
    var sequenceCount: Int {
        switch kind {
        case .generation(let r): return r.n
        case .scoring(let r): return r.continuations.count
        }
    }

    var activeSequences: Int {
        switch phase {
        case .prompt: return 1
        case .decoding: return samples.filter { !$0.finished }.count
        case .scoring: return continuations.count
        case .queued, .done: return 0
        }
    }

    func tokenize(_ codec: any TextCodec) throws {
        func tokens(_ input: PromptInput, isPrompt: Bool) throws -> [Int32] {
            switch input {
            case .tokens(let t): return t
            case .text(let s): return try codec.encode(s, addBOS: isPrompt)
            }
        }
        switch kind {
        case .generation(let r):
            prompt = try tokens(r.prompt, isPrompt: true)
            samples = (0..<max(r.n, 0)).map {
                Sample(sampler: Sampler(parameters: r.sampling, sampleIndex: $0), decoder: codec.makeStreamDecoder(),
                       stopMatcher: StopMatcher(stops: r.sampling.stop))
            }
        case .scoring(let r):
            prompt = try tokens(r.prompt, isPrompt: true)
            continuations = try r.continuations.map { Continuation(tokens: try tokens($0, isPrompt: false)) }
        }
        phase = .prompt
    }

    func problem(contextLength: Int, maxSequences: Int, vocabularySize: Int) -> String? {
        if prompt.isEmpty { return "the prompt is empty" }
        let all = prompt + continuations.flatMap(\.tokens)
        if let bad = all.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            return "token id \(bad) is outside the vocabulary (0..<\(vocabularySize))"
        }
        switch kind {
        case .generation(let r):
            if r.n < 1 { return "n = \(r.n): at least one sample is needed" }
            if r.n > maxSequences { return "n = \(r.n) samples exceed the engine's batch of \(maxSequences) sequences" }
            if let p = r.sampling.problem() { return p }
            if prompt.count >= contextLength {
                return "the prompt has \(prompt.count) tokens; the context length is \(contextLength)"
            }
        case .scoring(let r):
            if r.continuations.isEmpty { return "no continuations to score" }
            if r.continuations.count > maxSequences {
                return "\(r.continuations.count) continuations exceed the engine's batch of \(maxSequences) sequences"
            }
            if let empty = continuations.firstIndex(where: { $0.tokens.isEmpty }) { return "continuation \(empty) is empty" }
            let longest = continuations.map(\.tokens.count).max() ?? 0
            if prompt.count + longest - 1 > contextLength {
                return "the prompt (\(prompt.count) tokens) and its longest continuation (\(longest)) exceed the context length \(contextLength)"
            }
        }
        return nil
    }
}
