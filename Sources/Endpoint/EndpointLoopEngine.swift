import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Inference
import Tokenizers
import Verification

/// One finished sample from the server, with what `stepwise generate` reports beyond the
/// loop's `LoopSample`.
public struct EndpointSample: Sendable, Equatable {
    public var index: Int
    public var text: String
    /// `usage.completion_tokens` where the server reports it, else the streamed chunks.
    public var tokenCount: Int
    public var finishReason: String?
    public var cancelled: Bool
    public var logprobs: [OpenAIWire.TokenLogprob]
}

/// Totals since the engine started.
public struct EndpointStatistics: Sendable, Equatable {
    public var requests = 0
    public var retries = 0
    public var generatedTokens = 0
    public var scoredContinuations = 0
    /// The most requests that were in flight at once (at most the concurrency).
    public var peakInFlight = 0
    /// Seconds during which at least one `run` was under way.
    public var busySeconds = 0.0

    public var generatedTokensPerSecond: Double { busySeconds > 0 ? Double(generatedTokens) / busySeconds : 0 }
}

/// The loop's engine interface on an OpenAI-compatible server (vLLM, SGLang, llama.cpp's
/// server, llama-cpp-python). Each sample is one streamed request (see
/// `OpenAIWire.generationBody` for why not `n`); each scored continuation one echo request.
///
/// Requests of every `run` share one bounded pool (`concurrency` in flight, the rest queued in
/// order). A request that meets 429, a 5xx, a timeout or a dropped connection is retried
/// with exponential backoff; one that still fails that way after the last try means the server
/// is gone, and `run` throws (after cancelling the rest of its batch) so that the loop stops
/// with its journal whole, ready for a rerun to resume. A request the server refuses (4xx,
/// a malformed answer) completes `.failed` and the run goes on.
public final class EndpointLoopEngine: LoopEngine, @unchecked Sendable {
    public let options: EndpointOptions
    /// The layout of conversations sent as text to `/v1/completions` (nil: raw prompts, or the
    /// chat API where the server lays them out).
    public let template: ChatTemplate?
    public let canScore: Bool
    /// Why `.score` requests cannot run, when they cannot.
    public let scoringUnavailable: String?

    private let transport: HTTPTransport
    private let lock = NSLock()
    private var queue: [Job] = []
    private var inFlight = 0
    private var runs: [ObjectIdentifier: RunInbox] = [:]
    private var stats = EndpointStatistics()
    private var busySince: Date?

    /// How this server spells "top-k off" (see `OpenAIWire.generationBody`).
    private let topKOff: Int

    /// Use `connect`, which probes the server; this takes the probe's findings as given.
    init(options: EndpointOptions, template: ChatTemplate?, transport: HTTPTransport,
         scoringUnavailable: String?, topKOff: Int) {
        self.topKOff = topKOff
        self.options = options
        self.template = template
        self.transport = transport
        self.scoringUnavailable = scoringUnavailable
        self.canScore = scoringUnavailable == nil
    }

    deinit {
        transport.invalidate()
    }

    /// Connects: checks that the server answers `/v1/models` and serves `servedModel`, then
    /// (completions API) asks for echoed prompt log-probabilities once to learn whether
    /// continuations can be scored. One-line errors: unreachable, refused, or the model not
    /// served.
    public static func connect(_ options: EndpointOptions, template: ChatTemplate? = nil) throws -> EndpointLoopEngine {
        if let p = options.problem() { throw EndpointError.badURL("\(options.baseURL.absoluteString): \(p)") }
        let transport = HTTPTransport(maxConnections: options.concurrency)
        var models = URLRequest(url: options.url("v1/models"), timeoutInterval: min(options.idleTimeout, 30))
        if let key = options.apiKey { models.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (status, data) = try fetch(models, transport: transport, options: options)
        guard status == 200 else {
            transport.invalidate()
            let hint = status == 401 || status == 403 ? " (set STEPWISE_API_KEY)" : ""
            throw EndpointError.http(status: status, message: "\(options.url("v1/models").absoluteString): \(OpenAIWire.errorSummary(data))\(hint)")
        }
        let served = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])
            .flatMap { $0["data"] as? [[String: Any]] }?.compactMap { $0["id"] as? String } ?? []
        if !served.isEmpty && !served.contains(options.servedModel) {
            transport.invalidate()
            throw EndpointError.badResponse("\(options.baseURL.absoluteString) does not serve '\(options.servedModel)'; it serves: \(served.joined(separator: ", "))")
        }
        // Older vLLM refuses top_k 0 ("must be -1 (disable), or at least 1"); ask once with one
        // token, and use -1 where 0 is refused.
        var topKOff = 0
        var probe = OpenAIWire.generationBody(model: options.servedModel, prompt: .raw("Hello"), api: options.api,
                                              sampling: SamplingParameters(temperature: 0, maxTokens: 1), sample: 0)
        probe["stream"] = false
        probe["stream_options"] = nil
        let probeRequest = try OpenAIWire.request(url: options.url(options.api == .chat ? "v1/chat/completions" : "v1/completions"),
                                                  body: probe, apiKey: options.apiKey, timeout: options.idleTimeout)
        let (probeStatus, probeData) = try fetch(probeRequest, transport: transport, options: options)
        if probeStatus == 400 || probeStatus == 422, OpenAIWire.errorSummary(probeData).contains("top_k") {
            topKOff = -1
        }
        var unavailable: String? = "the chat API gives no log-probabilities of given continuations"
        if options.api == .completions {
            let prompt = "Stepwise checks whether this server scores text:"
            let continuation = " yes"
            let body = OpenAIWire.scoringBody(model: options.servedModel, text: prompt + continuation)
            let request = try OpenAIWire.request(url: options.url("v1/completions"), body: body, apiKey: options.apiKey,
                                                 timeout: options.idleTimeout)
            let (status, data) = try fetch(request, transport: transport, options: options)
            if status != 200 {
                unavailable = "it refused echoed prompt log-probabilities (\(EndpointError.http(status: status, message: OpenAIWire.errorSummary(data))))"
            } else {
                let length = (prompt + continuation).unicodeScalars.count
                do {
                    _ = try OpenAIWire.continuationLogprob(data, continuationLength: continuation.unicodeScalars.count, textLength: length)
                    if try OpenAIWire.echoIsAligned(data, textLength: length) {
                        unavailable = nil
                    } else {
                        unavailable = "its echoed prompt log-probabilities are one token late (each token is scored with the distribution that follows it, as llama-cpp-python 0.3 does), so continuation probabilities would be wrong"
                    }
                } catch {
                    unavailable = "it gives no echoed prompt log-probabilities (\(error))"
                }
            }
        }
        return EndpointLoopEngine(options: options, template: template, transport: transport, scoringUnavailable: unavailable,
                                  topKOff: topKOff)
    }

    public var summary: String {
        "\(options.servedModel) at \(options.baseURL.absoluteString) (\(options.api == .chat ? "/v1/chat/completions" : "/v1/completions"))"
    }

    public var usesChat: Bool { options.api == .chat || template != nil }

    public var statistics: EndpointStatistics {
        lock.lock()
        defer { lock.unlock() }
        var s = stats
        if let since = busySince { s.busySeconds += Date().timeIntervalSince(since) }
        return s
    }

    /// The text a prompt becomes: raw text as it is; a conversation laid out with the template
    /// (completions API), or shown turn by turn where the server lays it out (chat API).
    public func render(_ prompt: LoopPrompt) throws -> String {
        switch prompt {
        case .raw(let text):
            return text
        case .chat(let messages):
            if options.api == .completions, let template {
                return template.render(messages.map { ChatMessage(Self.role($0.role), $0.content) }, addGenerationPrompt: true)
            }
            return OpenAIWire.completionText(prompt)
        }
    }

    private static func role(_ r: LoopMessage.Role) -> ChatMessage.Role {
        switch r {
        case .system: return .system
        case .user: return .user
        case .assistant: return .assistant
        }
    }

    // MARK: Running a batch

    public func run(_ batch: [LoopRequest], onEvent: (LoopEngineEvent) -> Void) throws {
        try perform(batch, onToken: { r, s, text in onEvent(.token(request: r, sample: s, text: text)) },
                    onCompleted: { r, outcome in
                        switch outcome {
                        case .samples(let list):
                            onEvent(.completed(request: r, .generated(list.map {
                                LoopSample(index: $0.index, text: $0.text, tokenCount: $0.tokenCount, cancelled: $0.cancelled)
                            })))
                        case .scores(let values): onEvent(.completed(request: r, .scored(values)))
                        case .failed(let message): onEvent(.completed(request: r, .failed(message)))
                        }
                    })
    }

    /// `n` samples of one prompt with their finish reasons and log-probabilities (`stepwise
    /// generate`). Throws when the request fails.
    public func generate(prompt: LoopPrompt, n: Int, sampling: SamplingParameters,
                         onToken: (Int, String) -> Void) throws -> [EndpointSample] {
        var result: Outcome = .failed("no result")
        try perform([.generate(prompt: prompt, n: n, sampling: sampling)], onToken: { _, s, text in onToken(s, text) },
                    onCompleted: { _, outcome in result = outcome })
        switch result {
        case .samples(let list): return list
        case .failed(let message): throw EndpointError.badResponse(message)
        case .scores: throw EndpointError.badResponse("scores for a generation")
        }
    }

    public func cancel() {
        lock.lock()
        let inboxes = Array(runs.values)
        lock.unlock()
        for inbox in inboxes { cancel(inbox) }
    }

    enum Outcome {
        case samples([EndpointSample])
        case scores([Double])
        case failed(String)
    }

    private func perform(_ batch: [LoopRequest], onToken: (Int, Int, String) -> Void,
                         onCompleted: (Int, Outcome) -> Void) throws {
        if batch.isEmpty { return }
        let inbox = RunInbox()
        var jobs: [Job] = []
        var expected: [Int: Int] = [:]
        for (r, request) in batch.enumerated() {
            do {
                switch request {
                case .generate(let prompt, let n, let sampling):
                    if let p = sampling.problem() { throw EndpointError.badResponse(p) }
                    guard n >= 1 else { throw EndpointError.badResponse("n \(n) must be ≥ 1") }
                    let api = options.api
                    let wirePrompt: LoopPrompt = api == .completions ? .raw(try render(prompt)) : prompt
                    for s in 0..<n {
                        let body = OpenAIWire.generationBody(model: options.servedModel, prompt: wirePrompt, api: api,
                                                             sampling: sampling, sample: s, topKOff: topKOff)
                        let url = options.url(api == .chat ? "v1/chat/completions" : "v1/completions")
                        let http = try OpenAIWire.request(url: url, body: body, apiKey: options.apiKey, timeout: options.idleTimeout)
                        jobs.append(Job(engine: self, inbox: inbox, request: r, part: s, kind: .sample, http: http))
                    }
                    expected[r] = n
                case .score(let prompt, let continuations):
                    if let why = scoringUnavailable { throw EndpointError.badResponse("cannot score: \(why)") }
                    let text = try render(prompt)
                    for (c, continuation) in continuations.enumerated() {
                        let body = OpenAIWire.scoringBody(model: options.servedModel, text: text + continuation)
                        let http = try OpenAIWire.request(url: options.url("v1/completions"), body: body,
                                                          apiKey: options.apiKey, timeout: options.idleTimeout)
                        jobs.append(Job(engine: self, inbox: inbox, request: r, part: c,
                                        kind: .score(continuation: continuation.unicodeScalars.count,
                                                     text: (text + continuation).unicodeScalars.count), http: http))
                    }
                    expected[r] = continuations.count
                    if continuations.isEmpty { onCompleted(r, .scores([])) }
                }
            } catch {
                jobs.removeAll { $0.request == r }
                expected[r] = nil
                onCompleted(r, .failed(String(describing: error)))
            }
        }
        if jobs.isEmpty { return }
        inbox.jobs = jobs
        lock.lock()
        runs[ObjectIdentifier(inbox)] = inbox
        if busySince == nil { busySince = Date() }
        queue.append(contentsOf: jobs)
        lock.unlock()
        defer {
            lock.lock()
            runs[ObjectIdentifier(inbox)] = nil
            if runs.isEmpty, let since = busySince {
                stats.busySeconds += Date().timeIntervalSince(since)
                busySince = nil
            }
            lock.unlock()
        }
        pump()

        var samples: [Int: [EndpointSample]] = [:]
        var scores: [Int: [Int: Double]] = [:]
        var failures: [Int: [String]] = [:]
        var received: [Int: Int] = [:]
        var open = jobs.count
        var fatal: EndpointError?
        while open > 0 {
            let message = inbox.next()
            let r: Int
            switch message {
            case .token(let request, let sample, let text):
                onToken(request, sample, text)
                continue
            case .sample(let request, let result):
                r = request
                switch result {
                case .success(let sample): samples[r, default: []].append(sample)
                case .failure(let error): failures[r, default: []].append(String(describing: error))
                }
            case .score(let request, let part, let result):
                r = request
                switch result {
                case .success(let value): scores[r, default: [:]][part] = value
                case .failure(let error): failures[r, default: []].append(String(describing: error))
                }
            case .serverGone(let request, let part, let error):
                r = request
                if fatal == nil {
                    fatal = error
                    cancel(inbox)
                }
                if case .generate = batch[r] {
                    samples[r, default: []].append(EndpointSample(index: part, text: "", tokenCount: 0, finishReason: nil,
                                                                  cancelled: true, logprobs: []))
                } else {
                    failures[r, default: []].append("cancelled: \(error)")
                }
            }
            open -= 1
            received[r, default: 0] += 1
            guard received[r] == expected[r] else { continue }
            if let f = failures[r], !f.isEmpty {
                let total = expected[r] ?? 0
                onCompleted(r, .failed(total > 1 ? "\(f.count) of \(total) requests failed; first: \(f[0])" : f[0]))
            } else if case .score = batch[r] {
                let values = scores[r] ?? [:]
                onCompleted(r, .scores((0..<(expected[r] ?? 0)).map { values[$0] ?? .nan }))
            } else {
                onCompleted(r, .samples((samples[r] ?? []).sorted { $0.index < $1.index }))
            }
        }
        if let fatal { throw fatal }
    }

    // MARK: The pool

    /// Starts queued jobs while there is room.
    fileprivate func pump() {
        var starting: [Job] = []
        lock.lock()
        while inFlight < options.concurrency, !queue.isEmpty {
            let job = queue.removeFirst()
            guard job.state == .queued else { continue }
            job.state = .active
            inFlight += 1
            stats.peakInFlight = max(stats.peakInFlight, inFlight)
            stats.requests += 1
            starting.append(job)
        }
        lock.unlock()
        for job in starting { job.start(transport) }
    }

    /// A job's attempt ended: frees its slot; retries it after a backoff when the failure is
    /// worth it and tries are left, else hands the outcome on.
    fileprivate func attemptEnded(_ job: Job, failure: EndpointError?) {
        lock.lock()
        inFlight -= 1
        let cancelled = job.state == .cancelled
        var retry = false
        if !cancelled, let failure, failure.isRetryable, job.attempt < options.maxAttempts {
            retry = true
            job.state = .backoff
            stats.retries += 1
        } else if !cancelled {
            job.state = .done
        }
        lock.unlock()
        if retry {
            let delay = min(options.maxBackoff, options.initialBackoff * pow(2, Double(job.attempt - 1)))
                * Double.random(in: 0.75...1.25)
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [weak self] in
                guard let self else { return }
                self.lock.lock()
                let stillWaiting = job.state == .backoff
                if stillWaiting {
                    job.state = .queued
                    self.queue.insert(job, at: 0)
                }
                self.lock.unlock()
                self.pump()
            }
        } else if cancelled {
            job.deliverCancelled()
        } else {
            job.deliver(failure: failure)
        }
        pump()
    }

    fileprivate func withLock(_ body: () -> Void) {
        lock.lock()
        body()
        lock.unlock()
    }

    fileprivate func countTokens(_ n: Int) {
        lock.lock()
        stats.generatedTokens += n
        lock.unlock()
    }

    fileprivate func countScored() {
        lock.lock()
        stats.scoredContinuations += 1
        lock.unlock()
    }

    /// Cancels every unfinished job of one run: queued and backing-off ones complete at once,
    /// active ones when their connection closes.
    private func cancel(_ inbox: RunInbox) {
        var closing: [URLSessionDataTask] = []
        var now: [Job] = []
        lock.lock()
        for job in inbox.jobs {
            switch job.state {
            case .queued, .backoff:
                job.state = .cancelled
                now.append(job)
            case .active:
                job.state = .cancelled
                if let task = job.task { closing.append(task) }
            case .cancelled, .done:
                break
            }
        }
        let dropped = Set(now.map(ObjectIdentifier.init))
        queue.removeAll { dropped.contains(ObjectIdentifier($0)) }
        lock.unlock()
        for job in now { job.deliverCancelled() }
        for task in closing { task.cancel() }
    }

    /// A request without streaming, collected whole, retried like the others (connecting).
    private static func fetch(_ request: URLRequest, transport: HTTPTransport, options: EndpointOptions) throws -> (Int, Data) {
        var attempt = 0
        while true {
            attempt += 1
            let collector = Collector()
            _ = transport.start(request, handler: collector)
            let (status, data, error) = collector.wait()
            let failure: EndpointError
            if let error {
                failure = .unreachable("\(request.url?.absoluteString ?? "?"): \(error.localizedDescription)")
            } else if EndpointError.http(status: status, message: "").isRetryable {
                failure = .http(status: status, message: OpenAIWire.errorSummary(data))
            } else {
                return (status, data)
            }
            if attempt >= options.maxAttempts { throw failure }
            Thread.sleep(forTimeInterval: min(options.maxBackoff, options.initialBackoff * pow(2, Double(attempt - 1))))
        }
    }
}

/// A whole answer, waited for.
private final class Collector: HTTPCallHandler, @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var status = 0
    private var data = Data()
    private var error: Error?

    func received(status: Int) { self.status = status }
    func received(_ data: Data) { self.data.append(data) }
    func finished(error: Error?) {
        self.error = error
        done.signal()
    }

    func wait() -> (Int, Data, Error?) {
        done.wait()
        return (status, data, error)
    }
}

/// What a run's jobs tell the thread waiting in `perform`.
private enum InboxMessage {
    case token(request: Int, sample: Int, text: String)
    case sample(request: Int, Result<EndpointSample, EndpointError>)
    case score(request: Int, part: Int, Result<Double, EndpointError>)
    /// Retries ran out on a failure that means the server is gone.
    case serverGone(request: Int, part: Int, EndpointError)
}

/// The messages of one `run`, in arrival order (per job, in the order the job sent them).
private final class RunInbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var messages: [InboxMessage] = []
    private var head = 0
    /// Set before the jobs start; read under the engine's lock.
    var jobs: [Job] = []

    func post(_ message: InboxMessage) {
        condition.lock()
        messages.append(message)
        condition.signal()
        condition.unlock()
    }

    func next() -> InboxMessage {
        condition.lock()
        defer { condition.unlock() }
        while head == messages.count { condition.wait() }
        let m = messages[head]
        head += 1
        if head > 1024 && head * 2 > messages.count {
            messages.removeFirst(head)
            head = 0
        }
        return m
    }
}

/// One HTTP request of a batch (one sample, or one continuation to score) across its
/// attempts. `state` and `task` are guarded by the engine's lock; the stream state is touched
/// only by the transport's serial callback queue.
private final class Job: HTTPCallHandler, @unchecked Sendable {
    enum Kind {
        case sample
        /// Scalar lengths of the continuation and of the whole echoed text.
        case score(continuation: Int, text: Int)
    }
    enum State { case queued, active, backoff, cancelled, done }

    unowned let engine: EndpointLoopEngine
    let inbox: RunInbox
    let request: Int
    let part: Int
    let kind: Kind
    let http: URLRequest
    var state = State.queued
    var task: URLSessionDataTask?
    var attempt = 0

    // The attempt under way.
    private var status = 0
    private var parser = ServerSentEventParser()
    private var body = Data()
    private var text = ""
    private var chunks = 0
    private var usageTokens: Int?
    private var finishReason: String?
    private var logprobs: [OpenAIWire.TokenLogprob] = []
    private var sawDone = false
    private var streamFailure: EndpointError?
    /// Text already shown as tokens, over every attempt: a retry's stream repeats it first.
    private var shown = 0

    init(engine: EndpointLoopEngine, inbox: RunInbox, request: Int, part: Int, kind: Kind, http: URLRequest) {
        self.engine = engine
        self.inbox = inbox
        self.request = request
        self.part = part
        self.kind = kind
        self.http = http
    }

    private var streams: Bool {
        if case .sample = kind { return true }
        return false
    }

    func start(_ transport: HTTPTransport) {
        attempt += 1
        status = 0
        parser = ServerSentEventParser()
        body = Data()
        text = ""
        chunks = 0
        usageTokens = nil
        finishReason = nil
        logprobs = []
        sawDone = false
        streamFailure = nil
        let t = transport.start(http, handler: self)
        var cancelNow = false
        engineLocked {
            task = t
            cancelNow = state == .cancelled
        }
        if cancelNow { t.cancel() }
    }

    private func engineLocked(_ body: () -> Void) {
        engine.withLock(body)
    }

    func received(status: Int) {
        self.status = status
    }

    func received(_ data: Data) {
        guard status == 200, streams else {
            if body.count < 1 << 20 { body.append(data) }
            return
        }
        for event in parser.feed(data) where streamFailure == nil && !sawDone {
            do {
                switch try OpenAIWire.streamItem(event) {
                case .done:
                    sawDone = true
                case .error(let message):
                    streamFailure = .http(status: 500, message: "in the stream: \(message)")
                case .chunk(let chunk):
                    // Without usage, a token count estimate: llama-cpp-python streams empty
                    // chunks besides the tokens, so count chunks with text (or their logprobs).
                    if chunk.carriesToken { chunks += chunk.logprobs.isEmpty ? (chunk.text.isEmpty ? 0 : 1) : chunk.logprobs.count }
                    if let n = chunk.completionTokens { usageTokens = n }
                    if let f = chunk.finishReason { finishReason = f }
                    logprobs += chunk.logprobs
                    if !chunk.text.isEmpty {
                        text += chunk.text
                        let count = text.unicodeScalars.count
                        if count > shown {
                            let fresh = String(String.UnicodeScalarView(text.unicodeScalars.suffix(count - shown)))
                            shown = count
                            inbox.post(.token(request: request, sample: part, text: fresh))
                        }
                    }
                }
            } catch let e as EndpointError {
                streamFailure = e
            } catch {
                streamFailure = .badResponse("\(error)")
            }
        }
    }

    func finished(error: Error?) {
        var failure: EndpointError?
        if let error {
            failure = .unreachable("\(http.url?.absoluteString ?? "?"): \(error.localizedDescription)")
        } else if status != 200 {
            failure = .http(status: status, message: OpenAIWire.errorSummary(body))
        } else if streams {
            if let streamFailure {
                failure = streamFailure
            } else if !sawDone && finishReason == nil {
                failure = .unreachable(parser.isMidEvent ? "the stream was cut in the middle of an event"
                                       : "the stream ended before its last chunk")
            }
        }
        engine.attemptEnded(self, failure: failure)
    }

    /// The outcome after the last attempt (called once, outside the engine's lock).
    func deliver(failure: EndpointError?) {
        if let failure {
            if failure.isRetryable {
                inbox.post(.serverGone(request: request, part: part, failure))
            } else if case .sample = kind {
                inbox.post(.sample(request: request, .failure(failure)))
            } else {
                inbox.post(.score(request: request, part: part, .failure(failure)))
            }
            return
        }
        switch kind {
        case .sample:
            let tokens = usageTokens ?? chunks
            engine.countTokens(tokens)
            inbox.post(.sample(request: request, .success(EndpointSample(
                index: part, text: text, tokenCount: tokens, finishReason: finishReason, cancelled: false, logprobs: logprobs))))
        case .score(let continuation, let text):
            do {
                let value = try OpenAIWire.continuationLogprob(body, continuationLength: continuation, textLength: text)
                engine.countScored()
                inbox.post(.score(request: request, part: part, .success(value)))
            } catch let e as EndpointError {
                inbox.post(.score(request: request, part: part, .failure(e)))
            } catch {
                inbox.post(.score(request: request, part: part, .failure(.badResponse("\(error)"))))
            }
        }
    }

    /// Cancelled: a sample completes with what it had, marked cancelled; a score fails.
    func deliverCancelled() {
        switch kind {
        case .sample:
            inbox.post(.sample(request: request, .success(EndpointSample(
                index: part, text: text, tokenCount: usageTokens ?? chunks, finishReason: nil, cancelled: true, logprobs: logprobs))))
        case .score:
            inbox.post(.score(request: request, part: part, .failure(.cancelled)))
        }
    }
}

