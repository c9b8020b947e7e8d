import Foundation
import Inference
import Tokenizers

/// The loop's engine interface on the in-process `Engine`. Raw prompts go to the engine as text
/// (its tokenizer adds BOS when the model asks for it); conversations are laid out with the
/// model's chat template and tokenized here with control tokens recognised, since the rendered
/// text already carries them (`<|im_start|>`, the BOS text of Llama families).
///
/// Several threads may call `run` at once (one loop per group of problems): each call gets the
/// events of its own requests only, and all their requests share the engine's batch.
public final class InProcessLoopEngine: LoopEngine, @unchecked Sendable {
    public let engine: Engine
    public let template: ChatTemplate?
    private let router: EventRouter
    private let tokenizer: Tokenizer?
    private let lock = NSLock()
    /// Requests of the `run` calls under way, by the thread's call.
    private var inFlight: [ObjectIdentifier: [RequestID]] = [:]

    /// Starts an engine on `model`. `template`: the chat layout for a chat model, nil (or
    /// `.raw`) for a base model given raw few-shot text. `onEvent` runs on the engine thread
    /// after each engine event is queued (a UI's wake-up); keep it tiny.
    public init(model: LoadedModel, options: EngineOptions, template: ChatTemplate?,
                onEvent: (@Sendable () -> Void)? = nil) throws {
        let router = EventRouter(onPost: onEvent)
        self.router = router
        self.template = template?.format == .raw ? nil : template
        if self.template != nil {
            tokenizer = try Tokenizer(try model.file.loadTokenizerData())
        } else {
            tokenizer = nil
        }
        engine = try Engine(model: model, options: options, events: { router.route($0) })
    }

    deinit {
        engine.shutdown()
    }

    public var summary: String { engine.model.summary }

    public var usesChat: Bool { template != nil }

    public func render(_ prompt: LoopPrompt) throws -> String {
        switch prompt {
        case .raw(let text):
            return text
        case .chat(let messages):
            let layout = template ?? ChatTemplate(format: .raw)
            return layout.render(messages.map { ChatMessage(Self.role($0.role), $0.content) }, addGenerationPrompt: true)
        }
    }

    private static func role(_ r: LoopMessage.Role) -> ChatMessage.Role {
        switch r {
        case .system: return .system
        case .user: return .user
        case .assistant: return .assistant
        }
    }

    private func input(_ prompt: LoopPrompt) throws -> PromptInput {
        switch prompt {
        case .raw(let text):
            return .text(text)
        case .chat:
            let text = try render(prompt)
            guard let tokenizer else { return .text(text) }
            return .tokens(tokenizer.encode(text, addBOS: false, parseSpecial: true))
        }
    }

    public func run(_ batch: [LoopRequest], onEvent: (LoopEngineEvent) -> Void) throws {
        if batch.isEmpty { return }
        let inbox = EngineEventMailbox()
        let key = ObjectIdentifier(inbox)
        var index: [RequestID: Int] = [:]
        var samples: [Int: [LoopSample]] = [:]
        var scores: [Int: [Double]] = [:]
        var ids: [RequestID] = []
        for (r, request) in batch.enumerated() {
            let id: RequestID
            do {
                switch request {
                case .generate(let prompt, let n, let sampling):
                    let input = try input(prompt)
                    id = router.submit(to: inbox) {
                        engine.submit(GenerationRequest(prompt: input, n: n, sampling: sampling, streamTokens: true))
                    }
                case .score(let prompt, let continuations):
                    let input = try input(prompt)
                    id = router.submit(to: inbox) {
                        engine.submit(ScoringRequest(prompt: input, continuations: continuations.map { .text($0) }))
                    }
                }
            } catch {
                onEvent(.completed(request: r, .failed(String(describing: error))))
                continue
            }
            index[id] = r
            ids.append(id)
        }
        lock.lock()
        inFlight[key] = ids
        lock.unlock()
        defer {
            lock.lock()
            inFlight[key] = nil
            lock.unlock()
            router.forget(ids)
        }
        var open = Set(ids)
        while !open.isEmpty {
            guard let event = inbox.next() else { continue }
            guard let r = index[event.requestID], open.contains(event.requestID) else { continue }
            switch event {
            case .token(_, let sample, _, let text, _):
                onEvent(.token(request: r, sample: sample, text: text))
            case .sampleFinished(_, let result):
                samples[r, default: []].append(LoopSample(index: result.index, text: result.text,
                                                          tokenCount: result.tokens.count,
                                                          cancelled: result.finishReason == .cancelled))
            case .scored(_, let list):
                scores[r] = list.sorted { $0.index < $1.index }.map(\.logprob)
            case .finished(let id):
                open.remove(id)
                if case .score = batch[r] {
                    if let s = scores[r] {
                        onEvent(.completed(request: r, .scored(s)))
                    } else {
                        onEvent(.completed(request: r, .failed("cancelled")))
                    }
                } else {
                    onEvent(.completed(request: r, .generated((samples[r] ?? []).sorted { $0.index < $1.index })))
                }
            case .failed(let id, let message):
                open.remove(id)
                onEvent(.completed(request: r, .failed(message)))
            }
        }
    }

    public func cancel() {
        lock.lock()
        let ids = inFlight.values.flatMap { $0 }
        lock.unlock()
        for id in ids { engine.cancel(id) }
    }
}

/// Hands each engine event to the inbox of the `run` call that submitted its request. An
/// event can arrive before `submit` has returned the id, so routes are set while the router's
/// lock is held around the submission.
private final class EventRouter: @unchecked Sendable {
    /// Recursive: a shut-down engine answers `submit` with `.failed` on the submitting thread,
    /// which is inside `submit(to:)` here.
    private let lock = NSRecursiveLock()
    private var routes: [RequestID: EngineEventMailbox] = [:]
    private let onPost: (@Sendable () -> Void)?

    init(onPost: (@Sendable () -> Void)?) {
        self.onPost = onPost
    }

    /// Called on the engine thread.
    func route(_ event: EngineEvent) {
        lock.lock()
        let inbox = routes[event.requestID]
        lock.unlock()
        inbox?.post(event)
        onPost?()
    }

    /// Submits with the route in place before any event of the request can be routed.
    func submit(to inbox: EngineEventMailbox, _ body: () -> RequestID) -> RequestID {
        lock.lock()
        defer { lock.unlock() }
        let id = body()
        routes[id] = inbox
        return id
    }

    func forget(_ ids: [RequestID]) {
        lock.lock()
        for id in ids { routes[id] = nil }
        lock.unlock()
    }
}
