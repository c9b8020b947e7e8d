import Foundation
import Journal
import Reasoning

/// The panes of the body, in Tab order.
public enum Pane: Int, CaseIterable, Sendable {
    case problem, samples, solution, critique, rounds

    public var title: String {
        switch self {
        case .problem: return "Problem"
        case .samples: return "Samples"
        case .solution: return "Solution"
        case .critique: return "Critique"
        case .rounds: return "Rounds"
        }
    }
}

public enum SampleSort: String, CaseIterable, Sendable {
    /// In the order the samples arrived.
    case arrival
    /// Highest score of the selected verifier first; unscored last.
    case score
}

public enum SampleFilter: String, CaseIterable, Sendable {
    case all, wrong, right
    /// The verifier disagrees with ground truth, or with the human (or dataset) first-error label.
    case disagreement
}

/// What the keyboard is talking to.
public enum Mode: Equatable, Sendable {
    case normal
    case help
    case command(LineEditor)
    case search(LineEditor)
    /// Editing the note of one step; the target is fixed when the editor opens, so samples
    /// arriving meanwhile (and moving the selection) cannot redirect the note.
    case note(LineEditor, target: AnnotationKey)
}

public struct StatusMessage: Equatable, Sendable {
    public var text: String
    public var isError: Bool
}

/// A sample the engine is still writing.
public struct StreamingSample: Equatable, Sendable {
    public var id: String
    public var problemID: String
    public var round: Int
    public var parentID: String?
    public var text: String
}

/// Figures the metrics line and the rounds strip show, computed from the session outside the
/// renderer (see `UIState.refreshMetrics`) because the report reads every solution.
public struct MetricsSummary: Equatable, Sendable {
    public struct RoundPoint: Equatable, Sendable {
        public var round: Int
        public var samples: Int
        public var accuracy: Double?
        public var meanScore: Double?
    }
    public var verifier: String?
    public var threshold: Double?
    public var accuracy: Double?
    public var gap: Double?
    public var relativeGap: Double?
    public var passAtK: [(k: Int, value: Double?)]
    /// The current problem's rounds, for the selected verifier.
    public var rounds: [RoundPoint]
    /// The score scale's top, for the chart (1 for probabilities and verdicts, 10 for CoT-Score).
    public var scoreScale: Double

    public static func == (a: MetricsSummary, b: MetricsSummary) -> Bool {
        a.verifier == b.verifier && a.threshold == b.threshold && a.accuracy == b.accuracy && a.gap == b.gap
            && a.relativeGap == b.relativeGap && a.rounds == b.rounds && a.scoreScale == b.scoreScale
            && a.passAtK.map(\.k) == b.passAtK.map(\.k) && a.passAtK.map(\.value) == b.passAtK.map(\.value)
    }

    public init(verifier: String? = nil, threshold: Double? = nil, accuracy: Double? = nil, gap: Double? = nil,
                relativeGap: Double? = nil, passAtK: [(k: Int, value: Double?)] = [], rounds: [RoundPoint] = [],
                scoreScale: Double = 1) {
        self.verifier = verifier
        self.threshold = threshold
        self.accuracy = accuracy
        self.gap = gap
        self.relativeGap = relativeGap
        self.passAtK = passAtK
        self.rounds = rounds
        self.scoreScale = scoreScale
    }
}

public struct MetricsCache: Sendable {
    public var key: String
    public var summary: MetricsSummary
}

/// Everything the screen shows, as plain values. Changed only by `Reducer.reduce`; drawn only
/// by `Renderer.render`.
public struct UIState: Sendable {
    public var session: SessionState
    /// The journal's file name, for the header.
    public var sessionName: String
    public var size: Size

    public var problemIndex = 0
    public var round = 0
    /// The selected sample, by id so that samples arriving do not move the selection.
    public var selectedID: String?
    /// The selected step of the selected solution (0-based).
    public var step = 0
    public var focus: Pane = .samples
    /// `Enter` on the solution pane gives it the whole body; `Esc` gives it back.
    public var maximized = false

    /// First visible row of the samples list, first visible step, first visible line of the
    /// problem and critique panes.
    public var sampleTop = 0
    public var stepTop = 0
    public var problemTop = 0
    public var critiqueTop = 0

    public var sort: SampleSort = .arrival
    public var filter: SampleFilter = .all
    public var showReference = false
    /// Blind annotation: ground truth, verifier output and dataset labels are hidden.
    public var blind = false
    /// The verifier whose critique, scores and metrics are shown; nil = the first one present.
    public var verifier: VerifierKind?
    /// Acceptance threshold for the metrics line; nil = the verifier's default.
    public var threshold: Double?

    public var mode: Mode = .normal
    public var message: StatusMessage?
    public var lastSearch = ""

    /// A live loop is attached: `s v r R` and space go to it.
    public var live = false
    public var streaming: [String: StreamingSample] = [:]
    public var engine: EngineStatus?

    public var themeName = "default"
    /// True under a non-UTF-8 locale: every non-ASCII glyph is drawn as ASCII.
    public var ascii = false

    public var metrics: MetricsSummary?
    /// The last whole-session figures and what they were computed for.
    public var metricsCache: MetricsCache?
    /// Set when the session or the metric settings changed since `metrics` was computed.
    public var metricsStale = true
    public var quitRequested = false

    public init(session: SessionState, sessionName: String, size: Size) {
        self.session = session
        self.sessionName = sessionName
        self.size = size
    }

    // MARK: Derived views

    public var problem: Problem? {
        session.problems.indices.contains(problemIndex) ? session.problems[problemIndex] : nil
    }

    /// Highest round with anything in it for the current problem.
    public var lastRound: Int {
        guard let p = problem else { return 0 }
        let streamed = streaming.values.filter { $0.problemID == p.id }.map(\.round).max() ?? 0
        let started = session.rounds[p.id]?.started ?? 0
        return max(session.lastRound(of: p.id), streamed, started, 0)
    }

    /// Verifier kinds with a critique of any solution of the current problem. (Read several
    /// times a frame: flags instead of a set, and it stops once every kind is found.)
    public var verifiersPresent: [VerifierKind] {
        guard let p = problem else { return [] }
        let all = VerifierKind.allCases
        var seen = [Bool](repeating: false, count: all.count)
        var found = 0
        outer: for id in session.solutionIDs[p.id] ?? [] {
            for c in session.critiques[id] ?? [] {
                let i = all.firstIndex(of: c.verifier) ?? 0
                if !seen[i] {
                    seen[i] = true
                    found += 1
                    if found == all.count { break outer }
                }
            }
        }
        return all.indices.filter { seen[$0] }.map { all[$0] }
    }

    /// The verifier in force: the chosen one, else the first present.
    public var activeVerifier: VerifierKind? {
        verifier ?? verifiersPresent.first
    }

    public var rows: [SampleRow] { SampleRows.build(self) }

    public var selectedRowIndex: Int? {
        let r = rows
        guard let id = selectedID else { return r.isEmpty ? nil : 0 }
        return r.firstIndex { $0.id == id } ?? (r.isEmpty ? nil : 0)
    }

    public var selectedSolution: Solution? {
        guard let id = selectedID else {
            if case .solution(let s)? = rows.first { return s }
            return nil
        }
        return session.solutions[id]
    }

    /// The sample being written that is selected; with nothing selected, the first row when it
    /// is one (as for `selectedSolution`), so a fresh problem's tokens stream into the solution
    /// pane without a key press.
    public var selectedStreaming: StreamingSample? {
        guard let id = selectedID else {
            if case .streaming(let s)? = rows.first { return s }
            return nil
        }
        return streaming[id]
    }
}
