import Reasoning

// The lookups and small helpers the metrics share. All of it lives inside `Metrics` so that
// none of these names can collide with other parts of the Verification module.
extension Metrics {
    /// Whether the metrics count a critique as accepting at a threshold: the domain's
    /// `accepts`, except that an unparseable critique decides nothing even if a number was
    /// stored with it. Nil = unreadable.
    static func decision(_ c: Critique, threshold: Double) -> Bool? {
        c.parse == .unparseable ? nil : c.accepts(threshold: threshold)
    }

    /// The score a ranking or a mean may use: nil when unparseable, missing, NaN or infinite.
    static func rankableScore(_ c: Critique) -> Double? {
        guard c.parse != .unparseable, let s = c.score, s.isFinite else { return nil }
        return s
    }

    struct StepKey: Hashable {
        var solutionID: String
        var step: Int
    }

    /// Lookups shared by every metric, built once per report.
    struct Index {
        /// Solutions by id, in input order (a repeated id: the later one wins).
        let solutions: [Solution]
        let solutionByID: [String: Solution]
        /// Per verifier: the critique in force for each solution it judged.
        let critiques: [VerifierID: [String: Critique]]
        /// Verifiers with at least one critique of a known solution, sorted.
        let verifiers: [VerifierID]
        let orphanCritiques: Int
        let replacedCritiques: Int
        /// Solutions per round, in input order.
        private let byRound: [Int: [Solution]]

        init(_ input: MetricsInput) {
            var byID: [String: Solution] = [:]
            var order: [String] = []
            for s in input.solutions {
                if byID.updateValue(s, forKey: s.id) == nil { order.append(s.id) }
            }
            solutionByID = byID
            solutions = order.compactMap { byID[$0] }
            byRound = Dictionary(grouping: solutions, by: \.round)

            var critiques: [VerifierID: [String: Critique]] = [:]
            var orphans = 0, replaced = 0
            for c in input.critiques {
                guard byID[c.solutionID] != nil else { orphans += 1; continue }
                if critiques[VerifierID(of: c), default: [:]].updateValue(c, forKey: c.solutionID) != nil {
                    replaced += 1
                }
            }
            self.critiques = critiques
            verifiers = critiques.keys.sorted()
            orphanCritiques = orphans
            replacedCritiques = replaced
        }

        /// The solutions of one round, in input order.
        func samples(round: Int) -> [Solution] {
            byRound[round] ?? []
        }

        func critique(_ verifier: VerifierID, of solutionID: String) -> Critique? {
            critiques[verifier]?[solutionID]
        }
    }

    /// Correct/total counts of one problem's samples.
    struct Tally {
        var samples = 0
        var correct = 0

        var fraction: Double { Double(correct) / Double(samples) }

        /// Per-problem tallies of graded solutions, plus how many had unknown correctness.
        static func byProblem(_ solutions: [Solution]) -> (tallies: [String: Tally], unknown: Int) {
            var tallies: [String: Tally] = [:]
            var unknown = 0
            for s in solutions {
                guard let ok = s.grade.correct else { unknown += 1; continue }
                tallies[s.problemID, default: Tally()].samples += 1
                if ok { tallies[s.problemID, default: Tally()].correct += 1 }
            }
            return (tallies, unknown)
        }

        /// Mean over problems of the fraction correct; problems summed in id order so the result
        /// does not depend on dictionary order.
        static func meanFraction(_ tallies: [String: Tally]) -> Double? {
            guard !tallies.isEmpty else { return nil }
            let sum = tallies.sorted { $0.key < $1.key }.reduce(0.0) { $0 + $1.value.fraction }
            return sum / Double(tallies.count)
        }
    }

    static func ratio(_ numerator: Int, _ denominator: Int) -> Double? {
        denominator == 0 ? nil : Double(numerator) / Double(denominator)
    }

    static func plural(_ n: Int, _ noun: String) -> String {
        "\(n) \(noun)\(n == 1 ? "" : "s")"
    }

    /// A threshold or score as people write it: `8`, `0.5`, `0.75`.
    static func formatNumber(_ x: Double) -> String {
        if x.isFinite, x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return String(x)
    }
}
