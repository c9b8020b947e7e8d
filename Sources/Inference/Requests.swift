import Foundation

/// Identifies a submitted request in the events it produces and in `Engine.cancel`.
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public var description: String { "#\(value)" }
}

/// How tokens are chosen. Filters apply in this order to the temperature-scaled distribution:
/// min-p, then top-k, then top-p (nucleus) over what min-p kept; the survivors are
/// renormalised and one is drawn.
/// `temperature == 0` is greedy decoding (argmax, lowest token id on a tie) and ignores the rest.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Double
    /// Keep the smallest set of most likely tokens whose probability reaches `topP` (1 = off).
    public var topP: Double
    /// Keep the `topK` most likely tokens (0 = off).
    public var topK: Int
    /// Drop tokens whose probability is below `minP` × the top token's (0 = off).
    public var minP: Double
    /// Sample `i` of a request draws from its own generator seeded with `seed &+ i`, so every
    /// sample is reproducible on its own whatever else shares the batch.
    public var seed: UInt64
    /// Generated tokens per sample at most (finish reason `.length`).
    public var maxTokens: Int
    /// Generation stops when the text contains one of these (finish reason `.stop`); the stop
    /// string and what follows it are not part of the text. Matched across token boundaries.
    public var stop: [String]
    /// Report the log-probabilities of this many most likely tokens at each generated position
    /// (0 = none; the chosen token's own log-probability is always reported).
    public var logprobs: Int
    /// Keep generating past the end-of-sequence token (benchmarks).
    public var ignoreEOS: Bool

    public init(temperature: Double = 0.8, topP: Double = 1, topK: Int = 0, minP: Double = 0,
                seed: UInt64 = 0, maxTokens: Int = 256, stop: [String] = [], logprobs: Int = 0,
                ignoreEOS: Bool = false) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.seed = seed
        self.maxTokens = maxTokens
        self.stop = stop
        self.logprobs = logprobs
        self.ignoreEOS = ignoreEOS
    }

    /// Greedy decoding.
    public static let greedy = SamplingParameters(temperature: 0)

    /// A one-line problem with the values, or nil when they are usable.
    public func problem() -> String? {
        if !(temperature >= 0 && temperature.isFinite) { return "temperature \(temperature) must be ≥ 0" }
        if !(topP > 0 && topP <= 1) { return "top-p \(topP) must be in (0, 1]" }
        if topK < 0 { return "top-k \(topK) must be ≥ 0" }
        if !(minP >= 0 && minP <= 1) { return "min-p \(minP) must be in [0, 1]" }
        if maxTokens < 1 { return "max tokens \(maxTokens) must be ≥ 1" }
        if logprobs < 0 || logprobs > 100 { return "logprobs \(logprobs) must be in 0...100" }
        if stop.contains(where: \.isEmpty) { return "a stop string is empty" }
        return nil
    }
}

/// What to feed the model: text (tokenized with the model's tokenizer, no BOS added unless the
/// model asks for it) or token ids as they are.
public enum PromptInput: Sendable, Equatable {
    case text(String)
    case tokens([Int32])
}

/// Generate `n` samples continuing one prompt. The prompt is computed once and its KV shared.
public struct GenerationRequest: Sendable {
    public var prompt: PromptInput
    public var n: Int
    public var sampling: SamplingParameters
    /// Send a `.token` event per generated token (off: only `.sampleFinished`).
    public var streamTokens: Bool

    public init(prompt: PromptInput, n: Int = 1, sampling: SamplingParameters = SamplingParameters(),
                streamTokens: Bool = true) {
        self.prompt = prompt
        self.n = n
        self.sampling = sampling
        self.streamTokens = streamTokens
    }
}

/// Teacher-forced log-probabilities of each continuation after one shared prompt, e.g.
/// `prompt: "...Is the solution correct? Answer:"`, `continuations: [" Correct", " Incorrect"]`.
/// Each continuation is tokenized on its own (without BOS) and appended to the prompt's tokens.
public struct ScoringRequest: Sendable {
    public var prompt: PromptInput
    public var continuations: [PromptInput]

    public init(prompt: PromptInput, continuations: [PromptInput]) {
        self.prompt = prompt
        self.continuations = continuations
    }
}

/// Log-probability of a token, natural log, under the model's own distribution (softmax of the
/// logits before temperature or filtering).
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int32
    public var text: String
    public var logprob: Double
    public init(token: Int32, text: String, logprob: Double) {
        self.token = token
        self.text = text
        self.logprob = logprob
    }
}

/// One generated position: the chosen token's log-probability and, on request, the top ones.
public struct GeneratedTokenLogprobs: Sendable, Equatable {
    public var chosen: TokenLogprob
    public var top: [TokenLogprob]
    public init(chosen: TokenLogprob, top: [TokenLogprob]) {
        self.chosen = chosen
        self.top = top
    }
}

public enum FinishReason: String, Sendable, Equatable {
    /// The model produced its end-of-sequence token.
    case eos
    /// A stop string appeared.
    case stop
    /// `maxTokens` reached.
    case length
    /// The sequence reached the context length.
    case contextFull = "context_full"
    /// `Engine.cancel`.
    case cancelled
}

/// A finished sample.
public struct SampleResult: Sendable {
    public var index: Int
    public var text: String
    /// Generated token ids (including one that completed a stop string, excluding EOS).
    public var tokens: [Int32]
    public var promptTokenCount: Int
    public var finishReason: FinishReason
    /// One entry per token of `tokens`.
    public var logprobs: [GeneratedTokenLogprobs]
    /// Sum of the chosen tokens' log-probabilities.
    public var cumulativeLogprob: Double
}

/// The score of one continuation.
public struct ContinuationScore: Sendable {
    public var index: Int
    public var tokens: [Int32]
    /// Log-probability of each continuation token given everything before it.
    public var tokenLogprobs: [Double]
    /// Their sum: log P(continuation | prompt).
    public var logprob: Double
}

/// What the engine reports. Events of one request arrive in order; `.finished` (or `.failed`)
/// is the last event of a request.
public enum EngineEvent: Sendable {
    /// New text of sample `sample` (may be empty while a multi-byte character or a possible
    /// stop string is held back). Only with `streamTokens`.
    case token(RequestID, sample: Int, token: Int32, text: String, logprob: GeneratedTokenLogprobs?)
    /// One sample is done.
    case sampleFinished(RequestID, SampleResult)
    /// The scores of a `ScoringRequest`, in continuation order.
    case scored(RequestID, [ContinuationScore])
    /// Every sample of the request is done (or it was cancelled).
    case finished(RequestID)
    /// The request could not run; `message` is one line. No further events for it.
    case failed(RequestID, message: String)

    public var requestID: RequestID {
        switch self {
        case .token(let id, _, _, _, _), .sampleFinished(let id, _), .scored(let id, _),
             .finished(let id), .failed(let id, _):
            return id
        }
    }
}

/// An engine-level problem: a request that cannot run, a model that cannot load. One line.
public struct InferenceError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
