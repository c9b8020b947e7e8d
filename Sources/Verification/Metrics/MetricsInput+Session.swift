import Foundation
import Journal
import Reasoning

extension MetricsInput {
    /// The values of a replayed session journal: problems in load order, solutions in problem
    /// then arrival order, their critiques in arrival order (so a re-run critique comes later
    /// and wins), comparisons, and the annotations still in force — plus the labels the task
    /// itself gives (`builtin:arith`: see `taskLabels`).
    public init(session: SessionState) {
        self.init(problems: session.problems, solutions: session.allSolutions,
                  critiques: session.allCritiques, comparisons: session.allComparisons,
                  annotations: session.allAnnotations + Self.taskLabels(problems: session.problems, solutions: session.allSolutions))
    }

    /// First-error labels of solutions to `builtin:arith` problems, worked out from the
    /// generator (annotation source `builtin:arith`): the first wrong step marked, or every step
    /// rated right. They are derived on every replay rather than journaled, since they follow
    /// from the problem's seed and the solution's text alone.
    static func taskLabels(problems: [Problem], solutions: [Solution]) -> [Annotation] {
        let generated = Dictionary(problems.compactMap { p in ArithTask.generated(p).map { (p.id, $0) } },
                                   uniquingKeysWith: { a, _ in a })
        guard !generated.isEmpty else { return [] }
        var out: [Annotation] = []
        for solution in solutions where !solution.steps.isEmpty {
            guard let problem = generated[solution.problemID] else { continue }
            let texts = solution.steps.map(\.text)
            if let wrong = ArithTask.firstWrongStep(texts, problem: problem) {
                out.append(Annotation(solutionID: solution.id, stepIndex: min(wrong, texts.count - 1), rating: .bad,
                                      firstError: true, time: .distantPast, source: ArithTask.source))
            } else {
                out += texts.indices.map {
                    Annotation(solutionID: solution.id, stepIndex: $0, rating: .good, time: .distantPast, source: ArithTask.source)
                }
            }
        }
        return out
    }
}

extension MetricsOptions {
    /// The first-error labels a report uses when none are asked for: the human marks when
    /// there are any, else the task's own labels (`builtin:arith`) when the input has them,
    /// else `human` (no localisation figures).
    public static func defaultLabelSource(_ input: MetricsInput) -> String {
        if input.annotations.contains(where: \.isHuman) { return Annotation.human }
        if input.annotations.contains(where: { $0.source == ArithTask.source }) { return ArithTask.source }
        return Annotation.human
    }
}
