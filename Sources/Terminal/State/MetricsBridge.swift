import Journal
import Reasoning
import Verification

// The metrics line and the rounds strip read their figures from the Verification module's
// report (one implementation of the metrics for the whole program). Computed outside the
// renderer, at most once per frame and only when the session or the settings changed.
extension UIState {
    public mutating func refreshMetrics() {
        guard metricsStale else { return }
        metricsStale = false
        let kind = activeVerifier
        let id = kind.map { VerifierID($0, informed: false) }
        var options = MetricsOptions(round: round, globalThreshold: threshold)
        options.ks = [1, 4]
        // The whole-session report only changes with the session or the settings, not with the
        // problem on screen: reuse it while those stay the same.
        let key = "\(session.eventCount)|\(round)|\(threshold.map { "\($0)" } ?? "-")|\(kind?.rawValue ?? "-")"
        var summary: MetricsSummary
        if let cached = metricsCache, cached.key == key {
            summary = cached.summary
        } else {
            let all = MetricsInput(problems: session.problems, solutions: session.allSolutions, critiques: session.allCritiques,
                                   comparisons: session.allComparisons, annotations: session.allAnnotations)
            let report = Metrics.report(all, options: options)
            summary = MetricsSummary(accuracy: report.accuracy.value)
            summary.passAtK = report.passAtK.map { (k: $0.k, value: $0.value) }
            if let id {
                // Prefer the blind verifier; fall back to the informed one when only it ran.
                let row = report.verifiers.first { $0.verifier == id } ?? report.verifiers.first { $0.verifier.kind == id.kind }
                if let row {
                    summary.verifier = row.verifier.description
                    summary.threshold = row.threshold
                    summary.gap = row.thresholdGap.gap
                    summary.relativeGap = row.thresholdGap.relativeGap
                }
            }
            summary.scoreScale = kind == .cotScore ? 10 : 1
            metricsCache = MetricsCache(key: key, summary: summary)
        }
        summary.rounds = []
        if let p = problem {
            let sols = session.solutions(of: p.id)
            let ids = Set(sols.map(\.id))
            let input = MetricsInput(problems: [p], solutions: sols,
                                     critiques: sols.flatMap { session.critiques[$0.id] ?? [] },
                                     comparisons: session.comparisons[p.id] ?? [],
                                     annotations: session.annotations.values.filter { ids.contains($0.solutionID) })
            let perProblem = Metrics.report(input, options: options)
            summary.rounds = perProblem.rounds.map { r in
                let score = r.meanScores.first { $0.verifier == (summary.verifier.flatMap(VerifierID.init(parsing:)) ?? id) }?.value
                return MetricsSummary.RoundPoint(round: r.round, samples: r.samples, accuracy: r.accuracy, meanScore: score)
            }
        }
        metrics = summary
    }
}
