import Reasoning

// Accuracy by ground truth: J(f) of a round, per generator, our grade against a dataset's own
// correctness labels, pass@k, and the per-round table with refinement fixes and breaks.
extension Metrics {
    /// J(f) of one round: mean over problems of the fraction of graded samples that are correct.
    static func accuracy(_ index: Index, round: Int) -> Report.Accuracy {
        let (tallies, unknown) = Tally.byProblem(index.samples(round: round))
        return .init(round: round, problems: tallies.count,
                     samples: tallies.values.reduce(0) { $0 + $1.samples },
                     correct: tallies.values.reduce(0) { $0 + $1.correct },
                     unknownCorrectness: unknown, value: Tally.meanFraction(tallies))
    }

    /// Accuracy per origin label (`sampled`, `refined`, an imported system's name), all rounds.
    static func generators(_ index: Index) -> [Report.GeneratorAccuracy] {
        let groups = Dictionary(grouping: index.solutions, by: { $0.origin.label })
        return groups.keys.sorted().map { name in
            let (tallies, unknown) = Tally.byProblem(groups[name] ?? [])
            return .init(generator: name, problems: tallies.count,
                         samples: tallies.values.reduce(0) { $0 + $1.samples },
                         correct: tallies.values.reduce(0) { $0 + $1.correct },
                         unknownCorrectness: unknown, value: Tally.meanFraction(tallies))
        }
    }

    /// Our grade against the dataset's `labelledCorrect`, over every solution carrying both.
    static func labelAgreement(_ index: Index) -> Report.LabelAgreement {
        var compared = 0, agreeing = 0, ungraded = 0
        var disagreeing: [String] = []
        for s in index.solutions {
            guard let label = s.labelledCorrect else { continue }
            guard let ours = s.grade.correct else { ungraded += 1; continue }
            compared += 1
            if ours == label { agreeing += 1 } else { disagreeing.append(s.id) }
        }
        return .init(compared: compared, agreeing: agreeing, rate: ratio(agreeing, compared),
                     labelledButUngraded: ungraded, disagreeing: disagreeing.sorted())
    }

    /// Unbiased pass@k of n samples with c correct: 1 − C(n−c, k)/C(n, k), as the product
    /// 1 − Π_{i=n−c+1..n} (1 − k/i), which never forms a large binomial. Nil unless
    /// 1 ≤ k ≤ n and 0 ≤ c ≤ n (with k > n the estimator is undefined).
    public static func passAtK(n: Int, c: Int, k: Int) -> Double? {
        guard k >= 1, k <= n, c >= 0, c <= n else { return nil }
        var product = 1.0
        for i in stride(from: n - c + 1, through: n, by: 1) {
            product *= 1 - Double(k) / Double(i)
        }
        return 1 - product
    }

    /// pass@k of one round, averaged over the problems that have at least k graded samples.
    static func passAtK(_ index: Index, round: Int, ks: [Int]) -> [Report.PassAtK] {
        let (tallies, _) = Tally.byProblem(index.samples(round: round))
        let ordered = tallies.sorted { $0.key < $1.key }.map(\.value)
        return ks.filter { $0 >= 1 }.map { k in
            var sum = 0.0, used = 0, excluded = 0
            for t in ordered {
                guard let p = passAtK(n: t.samples, c: t.correct, k: k) else { excluded += 1; continue }
                sum += p
                used += 1
            }
            return .init(k: k, problems: used, excludedTooFewSamples: excluded,
                         value: used == 0 ? nil : sum / Double(used))
        }
    }

    /// Every round present: accuracy beside each verifier's mean score, and what refinement
    /// did to the parents of this round's solutions.
    static func rounds(_ index: Index) -> [Report.RoundFigures] {
        let roundNumbers = Set(index.solutions.map(\.round)).sorted()
        // Each solution's first attempt (following parents back to round 0), and each first
        // attempt's versions by round, for the accuracy after each round.
        func root(_ s: Solution) -> Solution? {
            var current = s
            var seen: Set<String> = [s.id]
            while let pid = current.parentID {
                guard let parent = index.solutionByID[pid], seen.insert(pid).inserted else { return nil }
                current = parent
            }
            return current.round == 0 ? current : nil
        }
        var versions: [String: [Solution]] = [:]
        for s in index.solutions {
            if let r = root(s) { versions[r.id, default: []].append(s) }
        }
        func after(_ round: Int) -> Double? {
            let latest = versions.values.compactMap { v in v.filter { $0.round <= round }.max { $0.round < $1.round } }
            return Tally.meanFraction(Tally.byProblem(latest).tallies)
        }
        return roundNumbers.map { round in
            let samples = index.samples(round: round)
            let (tallies, unknown) = Tally.byProblem(samples)
            let scores = index.verifiers.map { v -> Report.MeanScore in
                let values = samples.compactMap { index.critique(v, of: $0.id).flatMap(rankableScore) }
                return .init(verifier: v, scored: values.count,
                             value: values.isEmpty ? nil : values.reduce(0, +) / Double(values.count))
            }
            var withParent = 0, fixed = 0, broken = 0, stayedRight = 0, stayedWrong = 0, unknownPairs = 0
            for child in samples {
                guard let pid = child.parentID, let parent = index.solutionByID[pid] else { continue }
                withParent += 1
                switch (parent.grade.correct, child.grade.correct) {
                case (false?, true?): fixed += 1
                case (true?, false?): broken += 1
                case (true?, true?): stayedRight += 1
                case (false?, false?): stayedWrong += 1
                default: unknownPairs += 1
                }
            }
            return .init(round: round, problems: tallies.count,
                         samples: tallies.values.reduce(0) { $0 + $1.samples },
                         unknownCorrectness: unknown, accuracy: Tally.meanFraction(tallies), accuracyAfter: after(round),
                         meanScores: scores, withParent: withParent, fixed: fixed, broken: broken,
                         stayedRight: stayedRight, stayedWrong: stayedWrong, unknownPairs: unknownPairs)
        }
    }
}
