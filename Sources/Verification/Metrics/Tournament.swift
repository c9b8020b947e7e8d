import Reasoning

// Tournaments: who won each problem's bracket, how often that winner is right, and whether the
// verifier favours the solution it is shown first.
extension Metrics {
    private struct BracketKey: Hashable, Comparable {
        var informed: Bool
        var round: Int
        var problemID: String

        static func < (a: BracketKey, b: BracketKey) -> Bool {
            (a.informed ? 1 : 0, a.round, a.problemID) < (b.informed ? 1 : 0, b.round, b.problemID)
        }
    }

    /// Winner accuracy per (blind/informed, round). The final winner of a bracket is the winner
    /// at its highest level; when that level holds several readable comparisons (both orders,
    /// or an unfinished bracket), they must name the same winner, otherwise the problem is
    /// undecided.
    static func tournaments(_ comparisons: [Comparison], index: Index) -> [Report.TournamentFigures] {
        let brackets = Dictionary(grouping: comparisons) {
            BracketKey(informed: $0.informed, round: $0.round, problemID: $0.problemID)
        }
        struct Acc {
            var problems = 0, undecided = 0, ungraded = 0, correct = 0
            var baselines: [String: Tally] = [:]
        }
        var acc: [BracketKey: Acc] = [:]   // keyed with an empty problem id: one per informed+round
        var samplesByRound: [Int: [String: Tally]] = [:]
        func tallies(round: Int) -> [String: Tally] {
            if let t = samplesByRound[round] { return t }
            let t = Tally.byProblem(index.samples(round: round)).tallies
            samplesByRound[round] = t
            return t
        }
        for key in brackets.keys.sorted() {
            let group = brackets[key] ?? []
            let slot = BracketKey(informed: key.informed, round: key.round, problemID: "")
            var a = acc[slot, default: Acc()]
            a.problems += 1
            let top = group.map(\.level).max() ?? 0
            let winners = Set(group.filter { $0.level == top }.compactMap(\.winner))
            if winners.count != 1 {
                a.undecided += 1
            } else if let w = winners.first, let correct = index.solutionByID[w]?.grade.correct {
                if correct { a.correct += 1 }
                if let t = tallies(round: key.round)[key.problemID] { a.baselines[key.problemID] = t }
            } else {
                a.ungraded += 1
            }
            acc[slot] = a
        }
        return acc.keys.sorted().compactMap { slot in
            guard let a = acc[slot] else { return nil }
            let decided = a.problems - a.undecided - a.ungraded
            let accuracy = ratio(a.correct, decided)
            let baseline = Tally.meanFraction(a.baselines)
            var gap: Double? = nil
            if let w = accuracy, let b = baseline { gap = w - b }
            return .init(informed: slot.informed, round: slot.round, problems: a.problems,
                         undecided: a.undecided, winnerUngraded: a.ungraded, decided: decided,
                         winnersCorrect: a.correct, winnerAccuracy: accuracy, baseline: baseline, gap: gap)
        }
    }

    /// Among pairs compared in both orders (same problem, round and level), how often the
    /// solution shown first won; one row for blind and one for informed comparisons.
    static func positionBias(_ comparisons: [Comparison]) -> [Report.PositionBias] {
        struct PairKey: Hashable {
            var informed: Bool, round: Int, level: Int, problemID: String, low: String, high: String
        }
        let pairs = Dictionary(grouping: comparisons) {
            PairKey(informed: $0.informed, round: $0.round, level: $0.level, problemID: $0.problemID,
                    low: min($0.first, $0.second), high: max($0.first, $0.second))
        }
        return [false, true].compactMap { informed in
            guard comparisons.contains(where: { $0.informed == informed }) else { return nil }
            var pairCount = 0, shown = 0, firstWins = 0, consistent = 0
            for (key, group) in pairs where key.informed == informed {
                let forward = group.filter { $0.first == key.low }
                let backward = group.filter { $0.first == key.high }
                guard !forward.isEmpty, !backward.isEmpty, key.low != key.high else { continue }
                pairCount += 1
                let readable = group.filter { $0.winner != nil }
                shown += readable.count
                firstWins += readable.filter { $0.winner == $0.first }.count
                let forwardWinners = Set(forward.compactMap(\.winner))
                let backwardWinners = Set(backward.compactMap(\.winner))
                if forwardWinners.count == 1, forwardWinners == backwardWinners { consistent += 1 }
            }
            return .init(informed: informed, pairs: pairCount, comparisons: shown, firstShownWins: firstWins,
                         firstShownWinRate: ratio(firstWins, shown), consistentPairs: consistent)
        }
    }
}
