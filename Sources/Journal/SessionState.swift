import Foundation
import Reasoning

/// Identifies one step judgement: a later annotation with the same key replaces the earlier.
public struct AnnotationKey: Hashable, Sendable {
    public var solutionID: String
    public var stepIndex: Int
    public var source: String

    public init(solutionID: String, stepIndex: Int, source: String) {
        self.solutionID = solutionID
        self.stepIndex = stepIndex
        self.source = source
    }
}

/// How far refinement has gone for one problem.
public struct RoundProgress: Sendable, Equatable {
    /// Highest round started (-1 before any).
    public var started: Int = -1
    /// Highest round finished (-1 before any).
    public var finished: Int = -1
    /// Per-solution outcome at the end of each finished round.
    public var outcomes: [Int: [String: RoundOutcome]] = [:]
}

/// A session as its events build it: the one view of a run shared by the report, the exporter,
/// the loop (to resume) and the workbench (live or replayed). Pure: `apply` is the only way in.
public struct SessionState: Sendable {
    public var header: JournalHeader
    /// Problems in the order they were loaded.
    public private(set) var problems: [Problem] = []
    public private(set) var problemIndex: [String: Int] = [:]
    public private(set) var solutions: [String: Solution] = [:]
    /// Solution ids per problem, in the order they arrived.
    public private(set) var solutionIDs: [String: [String]] = [:]
    public private(set) var critiques: [String: [Critique]] = [:]
    public private(set) var comparisons: [String: [Comparison]] = [:]
    public private(set) var annotations: [AnnotationKey: Annotation] = [:]
    public private(set) var rounds: [String: RoundProgress] = [:]
    public private(set) var failures: [String: [(round: Int, message: String)]] = [:]
    public private(set) var notes: [(text: String, time: Date)] = []
    public private(set) var eventCount = 0

    public init(header: JournalHeader) {
        self.header = header
    }

    public init(header: JournalHeader, events: [SessionEvent]) {
        self.header = header
        for e in events { apply(e) }
    }

    public init(_ contents: JournalContents) {
        self.init(header: contents.header, events: contents.events)
    }

    public mutating func apply(_ event: SessionEvent) {
        eventCount += 1
        switch event {
        case .problemLoaded(let p):
            if let i = problemIndex[p.id] {
                problems[i] = p
            } else {
                problemIndex[p.id] = problems.count
                problems.append(p)
            }
        case .solutionAdded(let s):
            if solutions[s.id] == nil { solutionIDs[s.problemID, default: []].append(s.id) }
            solutions[s.id] = s
        case .sampleFailed(let p, let r, let m):
            failures[p, default: []].append((r, m))
        case .critiqueFinished(let c):
            var list = critiques[c.solutionID, default: []]
            if let i = list.firstIndex(where: { $0.id == c.id }) { list[i] = c } else { list.append(c) }
            critiques[c.solutionID] = list
        case .comparisonFinished(let c):
            comparisons[c.problemID, default: []].append(c)
        case .roundStarted(let p, let r):
            rounds[p, default: RoundProgress()].started = max(rounds[p]?.started ?? -1, r)
        case .roundFinished(let p, let r, let o):
            var progress = rounds[p, default: RoundProgress()]
            progress.finished = max(progress.finished, r)
            progress.started = max(progress.started, r)
            progress.outcomes[r, default: [:]].merge(o) { _, new in new }
            rounds[p] = progress
        case .annotationAdded(let a):
            annotations[AnnotationKey(solutionID: a.solutionID, stepIndex: a.stepIndex, source: a.source)] = a
        case .annotationRemoved(let s, let i, let src, _):
            annotations[AnnotationKey(solutionID: s, stepIndex: i, source: src)] = nil
        case .note(let text, let time):
            notes.append((text, time))
        }
    }

    // MARK: Views

    public func problem(_ id: String) -> Problem? {
        problemIndex[id].map { problems[$0] }
    }

    /// Solutions of a problem, optionally of one round, in arrival order.
    public func solutions(of problemID: String, round: Int? = nil) -> [Solution] {
        (solutionIDs[problemID] ?? []).compactMap { solutions[$0] }.filter { round == nil || $0.round == round }
    }

    /// All solutions in problem order, then arrival order.
    public var allSolutions: [Solution] {
        problems.flatMap { solutions(of: $0.id) }
    }

    public var allCritiques: [Critique] {
        allSolutions.flatMap { critiques[$0.id] ?? [] }
    }

    public var allComparisons: [Comparison] {
        problems.flatMap { comparisons[$0.id] ?? [] }
    }

    /// Annotations in a stable order (solution order, then step, then source).
    public var allAnnotations: [Annotation] {
        annotations.values.sorted {
            ($0.solutionID, $0.stepIndex, $0.source) < ($1.solutionID, $1.stepIndex, $1.source)
        }
    }

    /// The annotations of one solution, optionally from one source.
    public func annotations(of solutionID: String, source: String? = nil) -> [Annotation] {
        annotations.values.filter { $0.solutionID == solutionID && (source == nil || $0.source == source) }
            .sorted { ($0.stepIndex, $0.source) < ($1.stepIndex, $1.source) }
    }

    /// Highest round with a solution for this problem (0 when it has only first attempts).
    public func lastRound(of problemID: String) -> Int {
        solutions(of: problemID).map(\.round).max() ?? 0
    }

    /// Every label source present among the annotations (`human` and dataset names).
    public var annotationSources: [String] {
        Array(Set(annotations.values.map(\.source))).sorted()
    }
}
