import Foundation
import Reasoning

/// A verifier as the metrics see it: a mechanism and whether it was shown the reference
/// solution. "cot-score blind" and "cot-score informed" are two verifiers with their own rows.
///
/// Encoded as one string, `kind/blind` or `kind/informed` (e.g. `mc/blind`), so that JSON
/// output stays flat and the command line can take the same spelling.
public struct VerifierID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var kind: VerifierKind
    public var informed: Bool

    public init(_ kind: VerifierKind, informed: Bool = false) {
        self.kind = kind
        self.informed = informed
    }

    /// The verifier that wrote a critique.
    public init(of critique: Critique) {
        self.init(critique.verifier, informed: critique.informed)
    }

    public var description: String { kind.rawValue + (informed ? "/informed" : "/blind") }

    /// Reads `mc`, `mc/blind`, `mc/informed` (also `mc+ref` for informed). Nil when unknown.
    public init?(parsing text: String) {
        var name = text.trimmingCharacters(in: .whitespaces)
        var informed = false
        if name.hasSuffix("/informed") {
            name.removeLast("/informed".count)
            informed = true
        } else if name.hasSuffix("+ref") {
            name.removeLast("+ref".count)
            informed = true
        } else if name.hasSuffix("/blind") {
            name.removeLast("/blind".count)
        }
        guard let kind = VerifierKind(rawValue: name) else { return nil }
        self.init(kind, informed: informed)
    }

    /// Kinds in their declared order, blind before informed.
    public static func < (a: VerifierID, b: VerifierID) -> Bool {
        if a.kind != b.kind { return a.kind < b.kind }
        return !a.informed && b.informed
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let id = VerifierID(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown verifier '\(text)'")
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Everything the metrics read: plain domain values, as a replayed session journal (or an
/// import) yields them. Nothing here is read from disk; building it is the caller's job.
public struct MetricsInput: Sendable {
    public var problems: [Problem]
    public var solutions: [Solution]
    public var critiques: [Critique]
    /// Pairwise comparisons of tournaments.
    public var comparisons: [Comparison]
    /// The annotations in force (removed ones already taken out), from people and datasets.
    public var annotations: [Annotation]

    public init(problems: [Problem] = [], solutions: [Solution] = [], critiques: [Critique] = [],
                comparisons: [Comparison] = [], annotations: [Annotation] = []) {
        self.problems = problems
        self.solutions = solutions
        self.critiques = critiques
        self.comparisons = comparisons
        self.annotations = annotations
    }
}

/// Knobs of a report. The defaults give what `stepwise report` prints with no flags.
public struct MetricsOptions: Sendable, Equatable {
    /// The round whose samples accuracy, the gaps, the ensembles and pass@k are computed on.
    public var round: Int
    /// A threshold applied to every verifier without its own entry in `thresholds`
    /// (`--threshold τ`); nil = each kind's `defaultThreshold`.
    public var globalThreshold: Double?
    /// Per-verifier thresholds; these win over `globalThreshold`.
    public var thresholds: [VerifierID: Double]
    /// Keep the n highest-scored samples of each problem (ties at the cut all kept); an n below
    /// 1 keeps nothing, so every problem is reported as having kept nothing.
    public var topN: Int
    /// The k of pass@k; values below 1 are skipped.
    public var ks: [Int]
    /// Which annotations give the first-error labels: `human` (default) or a dataset source
    /// such as `big-bench-mistake`.
    public var labelSource: String
    /// AND-ensembles to report, each a list of verifiers. Nil = one ensemble of every scoring
    /// verifier present (tournament aside) when there are at least two of them.
    public var ensembles: [[VerifierID]]?

    public init(round: Int = 0, globalThreshold: Double? = nil, thresholds: [VerifierID: Double] = [:],
                topN: Int = 1, ks: [Int] = [1, 2, 4, 8], labelSource: String = Annotation.human,
                ensembles: [[VerifierID]]? = nil) {
        self.round = round
        self.globalThreshold = globalThreshold
        self.thresholds = thresholds
        self.topN = topN
        self.ks = ks
        self.labelSource = labelSource
        self.ensembles = ensembles
    }

    /// The acceptance threshold in force for a verifier: its own entry, else the global one,
    /// else its kind's default.
    public func threshold(for verifier: VerifierID) -> Double {
        thresholds[verifier] ?? globalThreshold ?? verifier.kind.defaultThreshold
    }
}
