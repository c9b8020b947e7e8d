import Reasoning

// The generation–verification gap: a filter keeps some of each problem's samples, and the gap
// is how much more often the kept ones are right than the samples as a whole.
extension Metrics {
    /// One graded sample as a filter saw it.
    struct Judged {
        var problemID: String
        var correct: Bool
        var kept: Bool
    }

    /// Gap, relative gap and their exclusions for one filter's decisions.
    /// A problem that kept nothing has no J(filtered), so it leaves both terms; a problem whose
    /// samples are all correct (J_x = 1) has no room to improve and leaves the relative gap.
    static func gap(_ samples: [Judged], unreadable: Int) -> Report.GapFigures {
        struct Counts { var n = 0, c = 0, kept = 0, keptCorrect = 0 }
        var byProblem: [String: Counts] = [:]
        for s in samples {
            var t = byProblem[s.problemID, default: Counts()]
            t.n += 1
            if s.correct { t.c += 1 }
            if s.kept {
                t.kept += 1
                if s.correct { t.keptCorrect += 1 }
            }
            byProblem[s.problemID] = t
        }
        var keptNothing = 0, considered = 0, allCorrect = 0, relativeN = 0
        var sumJ = 0.0, sumFiltered = 0.0, sumRelative = 0.0
        for (_, t) in byProblem.sorted(by: { $0.key < $1.key }) {
            guard t.kept > 0 else { keptNothing += 1; continue }
            let j = Double(t.c) / Double(t.n)
            let filtered = Double(t.keptCorrect) / Double(t.kept)
            considered += 1
            sumJ += j
            sumFiltered += filtered
            if t.c == t.n {
                allCorrect += 1
            } else {
                sumRelative += (filtered - j) / (1 - j)
                relativeN += 1
            }
        }
        let accuracy = considered == 0 ? nil : sumJ / Double(considered)
        let filtered = considered == 0 ? nil : sumFiltered / Double(considered)
        var gap: Double? = nil
        if let a = accuracy, let f = filtered { gap = f - a }
        return .init(samples: samples.count, kept: samples.filter(\.kept).count, unreadable: unreadable,
                     problems: byProblem.count, keptNothing: keptNothing, accuracy: accuracy,
                     filteredAccuracy: filtered, gap: gap,
                     relativeGap: relativeN == 0 ? nil : sumRelative / Double(relativeN),
                     relativeGapProblems: relativeN, allCorrect: allCorrect)
    }

    /// Which of one problem's scores the top-n filter keeps: the n highest, and every score tied
    /// with the n-th (so ties at the cut are all kept and a problem may keep more than n). Nil
    /// scores are never kept; with fewer than n scores, every score is kept.
    public static func topNKept(scores: [Double?], n: Int) -> [Bool] {
        let ranked = scores.compactMap { $0 }.sorted(by: >)
        guard n >= 1, !ranked.isEmpty else { return scores.map { _ in false } }
        let cut = ranked[min(n, ranked.count) - 1]
        return scores.map { score in score.map { $0 >= cut } ?? false }
    }

    /// A verifier's gaps at its threshold and at top n, its confusion against ground truth, and
    /// (for step critiques) its localisation against labels.
    static func verifierFigures(_ v: VerifierID, index: Index, labels: Labels,
                                options: MetricsOptions) -> Report.VerifierFigures {
        let threshold = options.threshold(for: v)
        var byThreshold: [Judged] = []
        var uncritiqued = 0, unreadableThreshold = 0, unscored = 0
        // Per problem, the samples and scores the top-n filter ranks.
        var ranked: [String: [(correct: Bool, score: Double?)]] = [:]
        for s in index.samples(round: options.round) {
            guard let correct = s.grade.correct else { continue }
            guard let c = index.critique(v, of: s.id) else { uncritiqued += 1; continue }
            let accepted = decision(c, threshold: threshold)
            if accepted == nil { unreadableThreshold += 1 }
            byThreshold.append(Judged(problemID: s.problemID, correct: correct, kept: accepted == true))
            let score = rankableScore(c)
            if score == nil { unscored += 1 }
            ranked[s.problemID, default: []].append((correct, score))
        }
        var byTopN: [Judged] = []
        for (problemID, samples) in ranked {
            let kept = topNKept(scores: samples.map(\.score), n: options.topN)
            for (sample, keep) in zip(samples, kept) {
                byTopN.append(Judged(problemID: problemID, correct: sample.correct, kept: keep))
            }
        }
        return .init(verifier: v, threshold: threshold, critiques: index.critiques[v]?.count ?? 0,
                     uncritiqued: uncritiqued,
                     thresholdGap: gap(byThreshold, unreadable: unreadableThreshold),
                     topNGap: gap(byTopN, unreadable: unscored),
                     confusion: confusion(v, threshold: threshold, index: index),
                     localisation: v.kind == .critique ? localisation(v, index: index, labels: labels) : nil)
    }

    /// AND of several verifiers at their thresholds, over the samples every member judged.
    /// Nil for an empty member list.
    static func ensemble(_ requested: [VerifierID], index: Index,
                         options: MetricsOptions) -> Report.EnsembleFigures? {
        var members: [VerifierID] = []
        for m in requested where !members.contains(m) { members.append(m) }
        guard !members.isEmpty else { return nil }
        let thresholds = members.map { options.threshold(for: $0) }
        var judged: [Judged] = []
        var missing = 0, unreadable = 0
        for s in index.samples(round: options.round) {
            guard let correct = s.grade.correct else { continue }
            let critiques = members.compactMap { index.critique($0, of: s.id) }
            guard critiques.count == members.count else { missing += 1; continue }
            let decisions = zip(critiques, thresholds).map { decision($0, threshold: $1) }
            if decisions.contains(where: { $0 == nil }) { unreadable += 1 }
            judged.append(Judged(problemID: s.problemID, correct: correct,
                                 kept: decisions.allSatisfy { $0 == true }))
        }
        return .init(members: members, thresholds: thresholds, missingCritique: missing,
                     gap: gap(judged, unreadable: unreadable))
    }
}
