/// # The metrics report
///
/// `Metrics.report(_:options:)` turns a session's plain values (`MetricsInput`: problems,
/// solutions, critiques, tournament comparisons, annotations) into a `Report`: a Codable value
/// (`stepwise report --json` prints it) that `renderTable()` lays out as an aligned plain-text
/// table. Everything is a pure function of its input; nothing is read or written.
///
/// The definitions follow "Mind the Gap" (Song et al.) and are reported per verifier, a verifier
/// being a kind plus blind/informed (`VerifierID`):
///
/// - **Accuracy** J(f): for each problem, the fraction of its samples (solutions of the chosen
///   round, 0 by default) that are correct; then the mean over problems. Solutions whose
///   correctness is unknown (`grade.correct == nil`) are left out and counted.
/// - **Gap** of a filter: J(filtered) − J(f), both means over the same problems. A problem whose
///   filter keeps nothing has no J(filtered); it is left out of *both* terms, and the count of
///   such problems is reported ("k problems kept nothing; excluded"). Two filters per verifier:
///   a global threshold τ (keep samples whose critique accepts at τ) and "top n" (keep each
///   problem's n highest-scored samples; every sample tied with the n-th score is kept too, so
///   a problem can keep more than n). A sample the verifier never judged is outside that
///   verifier's population (counted as uncritiqued); an unreadable critique (parse status
///   unparseable, or no score for top n, or neither score nor verdict for τ) stays in the
///   population, is never kept, and is counted.
/// - **Relative gap**: per problem (J_x(filtered) − J_x) / (1 − J_x), averaged over problems;
///   problems with J_x = 1 (no room to improve) and problems that kept nothing are excluded and
///   counted.
/// - **Ensemble AND**: a sample is kept when every listed verifier accepts it at its threshold;
///   a sample missing a critique from any of them is left out and counted.
/// - **Tournament**: per round, the final winner of a problem's bracket is the winner at its
///   highest comparison level (when both orders were run there, they must agree; an unfinished
///   bracket, whose top level still holds different pairs, names several winners; either way
///   the problem is undecided and counted); winner accuracy is the fraction of decided problems whose
///   winner is correct, shown beside J(f) of the same problems. Position bias: among pairs shown
///   in both orders, how often the first-shown solution won.
/// - **pass@k** = 1 − C(n−c, k)/C(n, k), computed as 1 − Π_{i=n−c+1..n}(1 − k/i), averaged over
///   problems with n ≥ k graded samples; problems with fewer are excluded and counted.
/// - **Rounds**: per refinement round, accuracy beside each verifier's mean score (score
///   inflation shows as a rising score with flat accuracy), and the fixed (wrong parent → right
///   child) and broken (right → wrong) counts through `parentID`.
/// - **Verifier vs ground truth** (all rounds): precision and recall of rejecting, the positive
///   class being "incorrect"; a critique rejects when it does not accept at its threshold.
/// - **Localisation** (step-critique verifiers, all rounds) against first-error labels from one
///   annotation source (`human` by default): exact first-error match rate (a named step, or
///   none, equal to the label) and ProcessBench F1, the harmonic mean of the accuracy on
///   erroneous solutions (predicted step == label) and on correct ones (predicted none). An
///   unparseable critique counts as a miss, and how many there were is reported.
/// - **Blind vs informed**: for each solution and kind judged both ways, how often the verdict
///   (acceptance at threshold) or the named first-error step differ.
///
/// A solution's round is its own `round` (a critique's `round` field is not consulted).
/// Where a critique was recorded twice for the same solution and verifier, the later one in
/// input order counts (the earlier is counted as replaced). Every ratio whose denominator is
/// zero is nil (its key left out of the JSON, "–" in the table), never NaN.
import Reasoning

public struct Report: Codable, Sendable, Equatable {
    public var settings: Settings
    public var counts: Counts
    public var accuracy: Accuracy
    public var generators: [GeneratorAccuracy]
    public var labelAgreement: LabelAgreement
    public var passAtK: [PassAtK]
    public var rounds: [RoundFigures]
    public var verifiers: [VerifierFigures]
    public var ensembles: [EnsembleFigures]
    public var tournaments: [TournamentFigures]
    public var positionBias: [PositionBias]
    public var blindVsInformed: [BlindInformedDisagreement]
    /// Plain sentences about exclusions ("mc/blind τ=0.5: 2 problems kept nothing; excluded").
    public var notes: [String]

    public struct Settings: Codable, Sendable, Equatable {
        public var round: Int
        public var topN: Int
        public var ks: [Int]
        public var labelSource: String
    }

    public struct SourceCount: Codable, Sendable, Equatable {
        public var source: String
        /// Distinct (solution, step) pairs carrying at least one annotation from this source.
        public var annotatedSteps: Int
        /// Solutions whose annotations from this source amount to a label (error or none).
        public var labelledSolutions: Int
        /// Of those, the ones labelled with a first wrong step.
        public var labelledFirstErrors: Int
    }

    public struct Counts: Codable, Sendable, Equatable {
        public var problems: Int
        public var solutions: Int
        public var critiques: Int
        public var comparisons: Int
        public var annotations: Int
        /// Critiques of a solution that is not in the input (ignored everywhere else).
        public var orphanCritiques: Int
        /// Critiques superseded by a later one for the same solution and verifier.
        public var replacedCritiques: Int
        /// Per annotation source, `human` first when present.
        public var sources: [SourceCount]
    }

    public struct Accuracy: Codable, Sendable, Equatable {
        public var round: Int
        /// Problems with at least one graded sample in the round.
        public var problems: Int
        public var samples: Int
        public var correct: Int
        /// Samples of the round whose correctness is unknown: excluded.
        public var unknownCorrectness: Int
        /// J(f).
        public var value: Double?
    }

    public struct GeneratorAccuracy: Codable, Sendable, Equatable {
        /// `Origin.label`: `sampled`, `refined`, or an imported system's name. All rounds.
        public var generator: String
        public var problems: Int
        public var samples: Int
        public var correct: Int
        public var unknownCorrectness: Int
        /// Mean over problems of the fraction correct.
        public var value: Double?
    }

    public struct LabelAgreement: Codable, Sendable, Equatable {
        /// Solutions with both our grade and the dataset's `labelledCorrect`.
        public var compared: Int
        public var agreeing: Int
        public var rate: Double?
        /// Solutions with a dataset label but no grade of ours.
        public var labelledButUngraded: Int
        /// Ids of the solutions where the two disagree, sorted.
        public var disagreeing: [String]
    }

    public struct PassAtK: Codable, Sendable, Equatable {
        public var k: Int
        public var problems: Int
        /// Problems with fewer than k graded samples.
        public var excludedTooFewSamples: Int
        public var value: Double?
    }

    public struct MeanScore: Codable, Sendable, Equatable {
        public var verifier: VerifierID
        /// Critiques with a score, among this round's solutions.
        public var scored: Int
        public var value: Double?
    }

    public struct RoundFigures: Codable, Sendable, Equatable {
        public var round: Int
        public var problems: Int
        public var samples: Int
        public var unknownCorrectness: Int
        public var accuracy: Double?
        /// Accuracy of the loop's answer after this round: each first attempt as it stands once
        /// this round is done (its latest rewrite up to this round; an attempt that was accepted
        /// or stopped keeps its last version), averaged per problem like `accuracy`. Round 0's
        /// equals `accuracy`; a rise over the rounds is what refinement bought.
        public var accuracyAfter: Double?
        public var meanScores: [MeanScore]
        /// Solutions of this round whose parent is in the input.
        public var withParent: Int
        /// Wrong parent, right child.
        public var fixed: Int
        /// Right parent, wrong child.
        public var broken: Int
        public var stayedRight: Int
        public var stayedWrong: Int
        /// Parent–child pairs where either correctness is unknown.
        public var unknownPairs: Int
    }

    public struct GapFigures: Codable, Sendable, Equatable {
        /// Graded samples in the filter's population.
        public var samples: Int
        public var kept: Int
        /// Samples never kept because the critique could not be read (no score / no verdict).
        public var unreadable: Int
        /// Problems with at least one sample in the population.
        public var problems: Int
        /// Problems where the filter kept nothing: excluded from both terms.
        public var keptNothing: Int
        /// J(f) over the problems that kept something.
        public var accuracy: Double?
        /// J(filtered) over the same problems.
        public var filteredAccuracy: Double?
        public var gap: Double?
        public var relativeGap: Double?
        /// Problems averaged in the relative gap.
        public var relativeGapProblems: Int
        /// Problems with J_x = 1, excluded from the relative gap.
        public var allCorrect: Int
    }

    public struct Confusion: Codable, Sendable, Equatable {
        /// Positive class: the solution is incorrect. "Predicted positive": the verifier rejects.
        public var truePositives: Int
        public var falsePositives: Int
        public var falseNegatives: Int
        public var trueNegatives: Int
        /// Critiques without a readable decision, or of ungraded solutions: left out.
        public var unreadable: Int
        public var ungraded: Int
        public var precision: Double?
        public var recall: Double?
    }

    public struct Localisation: Codable, Sendable, Equatable {
        public var labelSource: String
        /// Labelled solutions this verifier critiqued.
        public var solutions: Int
        /// Of those, unparseable critiques (counted as misses).
        public var unparseable: Int
        public var exactMatches: Int
        public var exactMatchRate: Double?
        /// Solutions labelled with a first wrong step, and how many the verifier pinned exactly.
        public var erroneous: Int
        public var erroneousHits: Int
        /// Solutions labelled error-free, and how many the verifier called error-free.
        public var correct: Int
        public var correctHits: Int
        public var accuracyErroneous: Double?
        public var accuracyCorrect: Double?
        /// ProcessBench F1; nil when either class is empty.
        public var f1: Double?
    }

    public struct VerifierFigures: Codable, Sendable, Equatable {
        public var verifier: VerifierID
        public var threshold: Double
        /// Critiques of known solutions, all rounds, after replacement.
        public var critiques: Int
        /// Graded samples of the round with no critique from this verifier.
        public var uncritiqued: Int
        public var thresholdGap: GapFigures
        public var topNGap: GapFigures
        public var confusion: Confusion
        /// Only for step-critique verifiers.
        public var localisation: Localisation?
    }

    public struct EnsembleFigures: Codable, Sendable, Equatable {
        public var members: [VerifierID]
        public var thresholds: [Double]
        /// Graded samples of the round lacking a critique from at least one member: excluded.
        public var missingCritique: Int
        public var gap: GapFigures
    }

    public struct TournamentFigures: Codable, Sendable, Equatable {
        public var informed: Bool
        public var round: Int
        /// Problems with at least one comparison in this round.
        public var problems: Int
        /// Problems whose final comparisons disagree or could not be read.
        public var undecided: Int
        /// Problems whose winner has unknown correctness.
        public var winnerUngraded: Int
        public var decided: Int
        public var winnersCorrect: Int
        public var winnerAccuracy: Double?
        /// J(f) of the same decided problems' samples, for comparison.
        public var baseline: Double?
        public var gap: Double?
    }

    public struct PositionBias: Codable, Sendable, Equatable {
        public var informed: Bool
        /// Unordered pairs compared in both orders (same problem, round and level).
        public var pairs: Int
        /// Readable comparisons among those pairs.
        public var comparisons: Int
        public var firstShownWins: Int
        public var firstShownWinRate: Double?
        /// Pairs whose two orders picked the same winner.
        public var consistentPairs: Int
    }

    public struct BlindInformedDisagreement: Codable, Sendable, Equatable {
        public var kind: VerifierKind
        /// Solutions judged by both the blind and the informed verifier of this kind.
        public var pairs: Int
        public var verdictDiffers: Int
        public var firstErrorDiffers: Int
        public var eitherDiffers: Int
        /// Pairs where either side's verdict could not be read (verdict not compared).
        public var unreadable: Int
    }
}
