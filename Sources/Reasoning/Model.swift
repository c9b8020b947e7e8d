import Foundation

// The domain model every other module speaks: problems, solutions split into steps, what a
// verifier said about a solution, and what a person (or a dataset's labeller) said about a step.
// All of it is Codable because the journal stores these values verbatim, one event per line.

/// What kind of task a problem is; decides how answers are extracted and graded.
public enum ProblemKind: String, Codable, Sendable, CaseIterable {
    case gsm8k
    case math
    case sudoku4
    case arith
    /// Free-form tasks imported with their own labels (BIG-Bench-Mistake, ProcessBench, …):
    /// graded by comparing normalised final answers.
    case freeform
}

public struct Problem: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    /// Where it came from: a dataset name and file, or `builtin:sudoku4`.
    public var source: String
    public var text: String
    public var referenceSolution: String?
    public var referenceAnswer: String?
    public var kind: ProblemKind
    /// Extra fields a dataset carries (MATH `level` and `type`, a Sudoku puzzle's clue string, …).
    public var metadata: [String: String]

    public init(id: String, source: String, text: String, referenceSolution: String? = nil,
                referenceAnswer: String? = nil, kind: ProblemKind, metadata: [String: String] = [:]) {
        self.id = id
        self.source = source
        self.text = text
        self.referenceSolution = referenceSolution
        self.referenceAnswer = referenceAnswer
        self.kind = kind
        self.metadata = metadata
    }
}

public struct Step: Codable, Sendable, Hashable {
    /// 0-based position in the solution.
    public var index: Int
    /// The text as displayed and graded (GSM8K calculator notes removed).
    public var text: String

    public init(index: Int, text: String) {
        self.index = index
        self.text = text
    }
}

/// How a solution came to exist.
public enum Origin: Codable, Sendable, Hashable {
    case sampled
    case refined
    /// Brought in from a dataset, with the name of the system that wrote it.
    case imported(generator: String)

    public var generatorName: String? {
        if case .imported(let g) = self { return g }
        return nil
    }

    public var label: String {
        switch self {
        case .sampled: return "sampled"
        case .refined: return "refined"
        case .imported(let g): return g
        }
    }

    private enum CodingKeys: String, CodingKey { case kind, generator }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "sampled": self = .sampled
        case "refined": self = .refined
        case "imported": self = .imported(generator: try c.decode(String.self, forKey: .generator))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown origin '\(other)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .sampled: try c.encode("sampled", forKey: .kind)
        case .refined: try c.encode("refined", forKey: .kind)
        case .imported(let g):
            try c.encode("imported", forKey: .kind)
            try c.encode(g, forKey: .generator)
        }
    }
}

/// The outcome of grading one solution against its problem's reference answer. Both the strict
/// and the flexible extraction are kept, as lm-evaluation-harness reports both.
public struct Grade: Codable, Sendable, Hashable {
    /// Answer found by the strict rule (`The answer is N`, `\boxed{…}`, a full Sudoku grid).
    public var strictAnswer: String?
    /// Answer found by the flexible rule (last number in the text), where the kind has one.
    public var flexibleAnswer: String?
    public var strictCorrect: Bool?
    public var flexibleCorrect: Bool?

    public init(strictAnswer: String? = nil, flexibleAnswer: String? = nil,
                strictCorrect: Bool? = nil, flexibleCorrect: Bool? = nil) {
        self.strictAnswer = strictAnswer
        self.flexibleAnswer = flexibleAnswer
        self.strictCorrect = strictCorrect
        self.flexibleCorrect = flexibleCorrect
    }

    /// The answer shown in the workbench: strict when present, else flexible.
    public var answer: String? { strictAnswer ?? flexibleAnswer }
    /// Correctness by ground truth: the strict verdict when the strict rule found an answer,
    /// otherwise the flexible one; nil when there is no reference to grade against.
    public var correct: Bool? {
        if strictAnswer != nil, let s = strictCorrect { return s }
        return flexibleCorrect ?? strictCorrect
    }
}

public struct Solution: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var problemID: String
    /// Refinement round: 0 for a first attempt, r+1 for a rewrite of a round-r attempt.
    public var round: Int
    /// The solution this one rewrites (refinements only).
    public var parentID: String?
    public var text: String
    public var steps: [Step]
    public var grade: Grade
    public var origin: Origin
    /// Correctness as a dataset labelled it (e.g. GSM8K example solutions' `is_correct`), kept
    /// beside our own grade so the two can be compared.
    public var labelledCorrect: Bool?
    /// Generated tokens, when the engine wrote it.
    public var tokenCount: Int?
    /// Sampling seed, when the engine wrote it, so the sample can be reproduced.
    public var seed: UInt64?

    public init(id: String, problemID: String, round: Int = 0, parentID: String? = nil, text: String,
                steps: [Step], grade: Grade = Grade(), origin: Origin, labelledCorrect: Bool? = nil,
                tokenCount: Int? = nil, seed: UInt64? = nil) {
        self.id = id
        self.problemID = problemID
        self.round = round
        self.parentID = parentID
        self.text = text
        self.steps = steps
        self.grade = grade
        self.origin = origin
        self.labelledCorrect = labelledCorrect
        self.tokenCount = tokenCount
        self.seed = seed
    }

    public var extractedAnswer: String? { grade.answer }
    public var correct: Bool? { grade.correct }
}

/// The verification mechanisms of "Mind the Gap" plus the step critique of self-trained
/// verification.
public enum VerifierKind: String, Codable, Sendable, CaseIterable, Comparable {
    /// P("Correct") / (P("Correct") + P("Incorrect")) from next-token probabilities.
    case mc
    /// Justification ending in a correct/incorrect verdict.
    case cotBinary = "cot-binary"
    /// Justification ending in a 1–10 score.
    case cotScore = "cot-score"
    /// Pairwise comparisons in a single-elimination tournament.
    case tournament
    /// Names the first wrong step and says why, or says every step is right.
    case critique

    public static func < (a: VerifierKind, b: VerifierKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The score at or above which a solution counts as accepted, when no threshold is given.
    public var defaultThreshold: Double {
        switch self {
        case .mc: return 0.5
        case .cotBinary: return 1
        case .cotScore: return 8
        case .tournament: return 1
        case .critique: return 1
        }
    }
}

public enum Verdict: String, Codable, Sendable, Hashable {
    case correct
    case incorrect
}

/// Whether a verifier's raw output could be read.
public enum ParseStatus: String, Codable, Sendable, Hashable {
    case ok
    /// Read, but with a fallback rule (e.g. a score found without its `Score:` label).
    case lenient
    /// Nothing could be read; the raw text is kept and nothing is guessed.
    case unparseable
}

public struct Critique: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var solutionID: String
    public var verifier: VerifierKind
    /// True when the verifier was shown the reference solution (the STV "informed" verifier).
    public var informed: Bool
    /// The verifier's score on its own scale: a probability for MC, 1/0 for verdicts, 1–10 for
    /// CoT-Score, 1/0 for a critique (1 = every step right).
    public var score: Double?
    public var verdict: Verdict?
    /// 0-based index of the first wrong step the verifier names; nil when it names none.
    public var firstErrorStep: Int?
    public var explanation: String
    public var raw: String
    public var parse: ParseStatus
    /// Refinement round of the solution it judged, for quick per-round summaries.
    public var round: Int

    public init(id: String, solutionID: String, verifier: VerifierKind, informed: Bool = false,
                score: Double? = nil, verdict: Verdict? = nil, firstErrorStep: Int? = nil,
                explanation: String = "", raw: String = "", parse: ParseStatus = .ok, round: Int = 0) {
        self.id = id
        self.solutionID = solutionID
        self.verifier = verifier
        self.informed = informed
        self.score = score
        self.verdict = verdict
        self.firstErrorStep = firstErrorStep
        self.explanation = explanation
        self.raw = raw
        self.parse = parse
        self.round = round
    }

    /// Whether the verifier accepts the solution at a threshold on its score (verdict when it
    /// has no score).
    public func accepts(threshold: Double? = nil) -> Bool? {
        if let s = score { return s >= (threshold ?? verifier.defaultThreshold) }
        if let v = verdict { return v == .correct }
        return nil
    }
}

/// One pairwise comparison of a tournament.
public struct Comparison: Codable, Sendable, Hashable {
    public var problemID: String
    public var round: Int
    /// Tournament bracket level, 0 for the first pairings.
    public var level: Int
    /// The solution shown first and the one shown second (order matters: position bias).
    public var first: String
    public var second: String
    /// The winner's id, or nil when the verifier's output could not be read.
    public var winner: String?
    public var raw: String
    public var informed: Bool

    public init(problemID: String, round: Int, level: Int, first: String, second: String,
                winner: String?, raw: String = "", informed: Bool = false) {
        self.problemID = problemID
        self.round = round
        self.level = level
        self.first = first
        self.second = second
        self.winner = winner
        self.raw = raw
        self.informed = informed
    }
}

/// PRM800K's step ratings.
public enum StepRating: Int, Codable, Sendable, Hashable {
    case bad = -1
    case neutral = 0
    case good = 1
}

/// A judgement of one step by a person or by a dataset's labels.
public struct Annotation: Codable, Sendable, Hashable {
    public var solutionID: String
    public var stepIndex: Int
    public var rating: StepRating?
    /// This step is the first wrong one.
    public var firstError: Bool
    public var note: String?
    public var time: Date
    /// Who made it: `human`, or the dataset the label came from (`big-bench-mistake`, …).
    public var source: String

    public init(solutionID: String, stepIndex: Int, rating: StepRating? = nil, firstError: Bool = false,
                note: String? = nil, time: Date = Date(), source: String = Annotation.human) {
        self.solutionID = solutionID
        self.stepIndex = stepIndex
        self.rating = rating
        self.firstError = firstError
        self.note = note
        self.time = time
        self.source = source
    }

    public static let human = "human"
    public var isHuman: Bool { source == Annotation.human }
}
