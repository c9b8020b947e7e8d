import Foundation
import Reasoning

// One session is one append-only file: a header line, then one event per line. The same
// events drive the screen during a live run and rebuild it when a session is reopened, so
// everything a view shows must be derivable from them. Token-by-token deltas are not events
// (they would bloat the file and add nothing a finished sample does not hold).

/// The first line of a journal.
public struct JournalHeader: Codable, Sendable, Equatable {
    /// Marks the file as a Stepwise journal, so a random JSONL file is refused clearly.
    public var stepwise: String = "journal"
    public var format: Int
    public var created: Date
    /// Model path or endpoint and backend, when the session ran a model.
    public var model: String?
    public var backend: String?
    /// The dataset or built-in set the problems came from.
    public var dataset: String?
    /// Run settings as given on the command line (samples, rounds, verifiers, seed, …).
    public var settings: [String: String]

    public static let currentFormat = 1

    public init(format: Int = JournalHeader.currentFormat, created: Date = Date(), model: String? = nil,
                backend: String? = nil, dataset: String? = nil, settings: [String: String] = [:]) {
        self.format = format
        self.created = created
        self.model = model
        self.backend = backend
        self.dataset = dataset
        self.settings = settings
    }
}

/// Where a solution's refinement stood when its round ended.
public enum RoundOutcome: String, Codable, Sendable {
    /// Rounds continue.
    case continuing
    /// The verifier accepted the attempt; no more rounds for it.
    case accepted
    /// The round limit was reached.
    case limit
    /// The new attempt repeated the old one.
    case repeated
}

public enum SessionEvent: Sendable, Equatable {
    case problemLoaded(Problem)
    /// A finished solution: sampled, refined, or imported.
    case solutionAdded(Solution)
    /// A sample that could not be produced (engine error, cancelled).
    case sampleFailed(problemID: String, round: Int, message: String)
    case critiqueFinished(Critique)
    case comparisonFinished(Comparison)
    case roundStarted(problemID: String, round: Int)
    case roundFinished(problemID: String, round: Int, outcomes: [String: RoundOutcome])
    /// A step judgement; replaces any earlier one of the same solution, step and source.
    case annotationAdded(Annotation)
    case annotationRemoved(solutionID: String, stepIndex: Int, source: String, time: Date)
    case note(text: String, time: Date)

    /// Events whose loss would cost human work or a round's bookkeeping: flushed to disk at once.
    public var needsFlush: Bool {
        switch self {
        case .annotationAdded, .annotationRemoved, .roundFinished, .note: return true
        default: return false
        }
    }

    /// The problem an event belongs to, when it names one directly.
    public var problemID: String? {
        switch self {
        case .problemLoaded(let p): return p.id
        case .solutionAdded(let s): return s.problemID
        case .sampleFailed(let p, _, _), .roundStarted(let p, _), .roundFinished(let p, _, _): return p
        case .comparisonFinished(let c): return c.problemID
        default: return nil
        }
    }
}

extension SessionEvent: Codable {
    private enum Kind: String, Codable {
        case problem, solution, sampleFailed = "sample-failed", critique, comparison
        case roundStarted = "round-started", roundFinished = "round-finished"
        case annotation, annotationRemoved = "annotation-removed", note
    }

    private enum CodingKeys: String, CodingKey {
        case event, problem, solution, critique, comparison, annotation
        case problemID, solutionID, round, message, outcomes, stepIndex, source, time, text
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kindName = try c.decode(String.self, forKey: .event)
        guard let kind = Kind(rawValue: kindName) else {
            throw DecodingError.dataCorruptedError(forKey: .event, in: c, debugDescription: "unknown event '\(kindName)'")
        }
        switch kind {
        case .problem: self = .problemLoaded(try c.decode(Problem.self, forKey: .problem))
        case .solution: self = .solutionAdded(try c.decode(Solution.self, forKey: .solution))
        case .sampleFailed:
            self = .sampleFailed(problemID: try c.decode(String.self, forKey: .problemID),
                                 round: try c.decode(Int.self, forKey: .round),
                                 message: try c.decode(String.self, forKey: .message))
        case .critique: self = .critiqueFinished(try c.decode(Critique.self, forKey: .critique))
        case .comparison: self = .comparisonFinished(try c.decode(Comparison.self, forKey: .comparison))
        case .roundStarted:
            self = .roundStarted(problemID: try c.decode(String.self, forKey: .problemID),
                                 round: try c.decode(Int.self, forKey: .round))
        case .roundFinished:
            self = .roundFinished(problemID: try c.decode(String.self, forKey: .problemID),
                                  round: try c.decode(Int.self, forKey: .round),
                                  outcomes: try c.decodeIfPresent([String: RoundOutcome].self, forKey: .outcomes) ?? [:])
        case .annotation: self = .annotationAdded(try c.decode(Annotation.self, forKey: .annotation))
        case .annotationRemoved:
            self = .annotationRemoved(solutionID: try c.decode(String.self, forKey: .solutionID),
                                      stepIndex: try c.decode(Int.self, forKey: .stepIndex),
                                      source: try c.decode(String.self, forKey: .source),
                                      time: try c.decode(Date.self, forKey: .time))
        case .note:
            self = .note(text: try c.decode(String.self, forKey: .text), time: try c.decode(Date.self, forKey: .time))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .problemLoaded(let p):
            try c.encode(Kind.problem, forKey: .event)
            try c.encode(p, forKey: .problem)
        case .solutionAdded(let s):
            try c.encode(Kind.solution, forKey: .event)
            try c.encode(s, forKey: .solution)
        case .sampleFailed(let p, let r, let m):
            try c.encode(Kind.sampleFailed, forKey: .event)
            try c.encode(p, forKey: .problemID)
            try c.encode(r, forKey: .round)
            try c.encode(m, forKey: .message)
        case .critiqueFinished(let x):
            try c.encode(Kind.critique, forKey: .event)
            try c.encode(x, forKey: .critique)
        case .comparisonFinished(let x):
            try c.encode(Kind.comparison, forKey: .event)
            try c.encode(x, forKey: .comparison)
        case .roundStarted(let p, let r):
            try c.encode(Kind.roundStarted, forKey: .event)
            try c.encode(p, forKey: .problemID)
            try c.encode(r, forKey: .round)
        case .roundFinished(let p, let r, let o):
            try c.encode(Kind.roundFinished, forKey: .event)
            try c.encode(p, forKey: .problemID)
            try c.encode(r, forKey: .round)
            if !o.isEmpty { try c.encode(o, forKey: .outcomes) }
        case .annotationAdded(let a):
            try c.encode(Kind.annotation, forKey: .event)
            try c.encode(a, forKey: .annotation)
        case .annotationRemoved(let s, let i, let src, let t):
            try c.encode(Kind.annotationRemoved, forKey: .event)
            try c.encode(s, forKey: .solutionID)
            try c.encode(i, forKey: .stepIndex)
            try c.encode(src, forKey: .source)
            try c.encode(t, forKey: .time)
        case .note(let text, let t):
            try c.encode(Kind.note, forKey: .event)
            try c.encode(text, forKey: .text)
            try c.encode(t, forKey: .time)
        }
    }
}
