import Foundation
import Inference

// The engine interface the refinement loop drives. The in-process engine is one implementation
// (`InProcessLoopEngine`); an HTTP client for an OpenAI-compatible server is meant to be a
// second one. The loop only ever hands over a batch of requests and waits for it: the N samples
// of a round, or the N×verifiers verifications of a round, go in together so that the engine
// can batch them.

/// One turn of a conversation, as the loop writes it. Kept free of any tokenizer type so that
/// a server client can send it as JSON as it is.
public struct LoopMessage: Sendable, Equatable {
    public enum Role: String, Sendable { case system, user, assistant }
    public var role: Role
    public var content: String

    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// A prompt before the engine formats it: raw text for a base model (few-shot completion), or
/// a conversation that a chat model's template turns into text.
public enum LoopPrompt: Sendable, Equatable {
    case raw(String)
    case chat([LoopMessage])
}

/// One request of a batch.
public enum LoopRequest: Sendable {
    /// `n` samples continuing one prompt; sample `i` uses `sampling.seed &+ i`.
    case generate(prompt: LoopPrompt, n: Int, sampling: SamplingParameters)
    /// Teacher-forced log-probability of each continuation after the prompt (multiple-choice
    /// verification: `" Correct"` and `" Incorrect"`).
    case score(prompt: LoopPrompt, continuations: [String])
}

/// One finished sample.
public struct LoopSample: Sendable, Equatable {
    public var index: Int
    public var text: String
    public var tokenCount: Int
    /// True when the sample was cut short by `cancel()`: its text is partial and must not be
    /// recorded as a finished solution.
    public var cancelled: Bool

    public init(index: Int, text: String, tokenCount: Int, cancelled: Bool = false) {
        self.index = index
        self.text = text
        self.tokenCount = tokenCount
        self.cancelled = cancelled
    }
}

/// What one request produced.
public enum LoopResult: Sendable, Equatable {
    /// The samples of a `.generate`, in index order.
    case generated([LoopSample])
    /// Natural-log probabilities of the continuations of a `.score`, in their order.
    case scored([Double])
    /// The request could not run (one line), or was cancelled before it produced anything.
    case failed(String)
}

/// What an engine reports while a batch runs. Delivered on the thread that called `run`, one at
/// a time, in order per request; `.completed` is the last event of its request.
public enum LoopEngineEvent: Sendable, Equatable {
    /// New text of sample `sample` of request `request` (index into the batch).
    case token(request: Int, sample: Int, text: String)
    case completed(request: Int, LoopResult)
}

/// The engine as the loop sees it.
public protocol LoopEngine: AnyObject, Sendable {
    /// One line naming the model and where it runs (for the journal header and progress).
    var summary: String { get }
    /// Whether prompts should be conversations (a chat model) rather than raw text.
    var usesChat: Bool { get }
    /// Whether `.score` requests can run (a server without prompt log-probabilities cannot:
    /// the MC verifier is then refused before the run starts). Default: true.
    var canScore: Bool { get }
    /// The text a prompt becomes for this model (its chat template applied), for display and
    /// for checking prompts before a run.
    func render(_ prompt: LoopPrompt) throws -> String
    /// Submits every request, reports events through `onEvent` as they happen, and returns
    /// when every request has completed (cancelled ones included). Throws only when the engine
    /// itself is unusable; a request that fails completes with `.failed`.
    func run(_ batch: [LoopRequest], onEvent: (LoopEngineEvent) -> Void) throws
    /// Cancels whatever `run` is waiting for; any thread. Unfinished samples complete with
    /// `cancelled` set. Requests of a later `run` are not affected.
    func cancel()
}

extension LoopEngine {
    public var canScore: Bool { true }

    /// Runs a batch and returns the results in request order (events other than completions
    /// go to `onToken`).
    public func results(_ batch: [LoopRequest], onToken: ((Int, Int, String) -> Void)? = nil) throws -> [LoopResult] {
        var results = [LoopResult?](repeating: nil, count: batch.count)
        try run(batch) { event in
            switch event {
            case .token(let r, let s, let text): onToken?(r, s, text)
            case .completed(let r, let result): if r >= 0 && r < results.count { results[r] = result }
            }
        }
        return results.map { $0 ?? .failed("no result") }
    }
}
