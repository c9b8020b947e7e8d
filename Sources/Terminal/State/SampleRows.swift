import Journal
import Reasoning

/// One row of the samples pane.
public enum SampleRow: Equatable, Sendable {
    case solution(Solution)
    case streaming(StreamingSample)
    /// A sample the engine could not produce; `index` tells failures of one round apart.
    case failed(message: String, index: Int)

    public var id: String {
        switch self {
        case .solution(let s): return s.id
        case .streaming(let s): return s.id
        case .failed(_, let i): return "failed#\(i)"
        }
    }
}

/// The samples pane's rows for the current problem and round, filtered and sorted as the state
/// asks. Shared by the reducer (selection, clicks) and the renderer, so both see the same list.
public enum SampleRows {
    public static func build(_ state: UIState) -> [SampleRow] {
        guard let p = state.problem else { return [] }
        var rows: [SampleRow] = state.session.solutions(of: p.id, round: state.round).map { .solution($0) }
        let live = state.streaming.values
            .filter { $0.problemID == p.id && $0.round == state.round && state.session.solutions[$0.id] == nil }
            .sorted { $0.id < $1.id }
        rows += live.map { .streaming($0) }
        let failures = (state.session.failures[p.id] ?? []).filter { $0.round == state.round }
        rows += failures.enumerated().map { .failed(message: $0.element.message, index: $0.offset) }

        let active = state.activeVerifier
        if state.filter != .all {
            rows = rows.filter { row in
                guard case .solution(let s) = row else { return false }
                switch state.filter {
                case .all: return true
                case .wrong: return s.correct == false
                case .right: return s.correct == true
                case .disagreement: return SampleFacts.disagrees(state, s, kind: active)
                }
            }
        }
        if state.sort == .score, let kind = active {
            let keyed = rows.enumerated().map { (offset, row) -> (Int, Double?, SampleRow) in
                if case .solution(let s) = row { return (offset, SampleFacts.critique(state, s.id, kind)?.score, row) }
                return (offset, nil, row)
            }
            rows = keyed.sorted { a, b in
                switch (a.1, b.1) {
                case let (x?, y?): return x != y ? x > y : a.0 < b.0
                case (.some, nil): return true
                case (nil, .some): return false
                case (nil, nil): return a.0 < b.0
                }
            }.map(\.2)
        }
        return rows
    }
}

/// Facts about one solution that the panes and filters share.
public enum SampleFacts {
    /// The critique of a solution by a verifier kind: the blind one when both exist.
    public static func critique(_ state: UIState, _ solutionID: String, _ kind: VerifierKind, informed: Bool? = nil) -> Critique? {
        let list = (state.session.critiques[solutionID] ?? []).filter { $0.verifier == kind }
        if let informed { return list.last { $0.informed == informed } }
        return list.last { !$0.informed } ?? list.last
    }

    /// The human first-error label of a solution.
    public static func humanLabel(_ state: UIState, _ s: Solution) -> FirstErrorLabel {
        FirstErrorLabel.from(annotations: state.session.annotations(of: s.id, source: Annotation.human), stepCount: s.steps.count)
    }

    /// The first dataset label source with annotations on this solution, and its label.
    public static func datasetLabel(_ state: UIState, _ s: Solution) -> (source: String, label: FirstErrorLabel)? {
        let others = state.session.annotations(of: s.id).filter { !$0.isHuman }
        guard let source = others.map(\.source).min() else { return nil }
        let label = FirstErrorLabel.from(annotations: others.filter { $0.source == source }, stepCount: s.steps.count)
        return label == .unlabelled ? nil : (source, label)
    }

    /// Both labels of a solution from one pass over its annotations.
    public static func labels(_ state: UIState, _ s: Solution) -> (human: FirstErrorLabel, dataset: (source: String, label: FirstErrorLabel)?) {
        let all = state.session.annotations(of: s.id)
        let human = FirstErrorLabel.from(annotations: all.filter(\.isHuman), stepCount: s.steps.count)
        guard let source = all.filter({ !$0.isHuman }).map(\.source).min() else { return (human, nil) }
        let label = FirstErrorLabel.from(annotations: all.filter { $0.source == source }, stepCount: s.steps.count)
        return (human, label == .unlabelled ? nil : (source, label))
    }

    /// The label a verifier's critique amounts to: the step it names, or no error when it
    /// accepts without naming one.
    public static func verifierLabel(_ c: Critique) -> FirstErrorLabel {
        if let i = c.firstErrorStep { return .step(i) }
        if c.verifier == .critique, c.parse != .unparseable { return .noError }
        return .unlabelled
    }

    /// The selected verifier disagrees with ground truth, or its first-error step disagrees with
    /// the human label (or the dataset label when no human one exists).
    public static func disagrees(_ state: UIState, _ s: Solution, kind: VerifierKind?? = nil) -> Bool {
        guard let kind = kind ?? state.activeVerifier, let c = critique(state, s.id, kind) else { return false }
        if let correct = s.correct, let accepts = c.accepts(threshold: state.threshold), accepts != correct { return true }
        let predicted = verifierLabel(c)
        guard predicted != .unlabelled else { return false }
        var reference = humanLabel(state, s)
        if reference == .unlabelled { reference = datasetLabel(state, s)?.label ?? .unlabelled }
        return reference != .unlabelled && reference != predicted
    }
}
