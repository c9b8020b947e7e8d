import Reasoning

// How a verifier's judgements compare with ground truth: its rejections against grading, its
// named first wrong step against labelled first errors, and blind against informed.

extension Metrics {
    /// First-error labels of the solutions in the input, from one annotation source.
    struct Labels {
        let source: String
        /// Only solutions whose annotations amount to a label (an error step or none).
        let labels: [String: FirstErrorLabel]

        init(input: MetricsInput, index: Index, source: String) {
            self.source = source
            let mine = Dictionary(grouping: input.annotations.filter { $0.source == source }, by: \.solutionID)
            var labels: [String: FirstErrorLabel] = [:]
            for (solutionID, annotations) in mine {
                guard let solution = index.solutionByID[solutionID] else { continue }
                let label = FirstErrorLabel.from(annotations: annotations, stepCount: solution.steps.count)
                if label != .unlabelled { labels[solutionID] = label }
            }
            self.labels = labels
        }
    }
}

extension Metrics {
    /// Precision and recall of rejection, the positive class being an incorrect solution.
    static func confusion(_ v: VerifierID, threshold: Double, index: Index) -> Report.Confusion {
        var tp = 0, fp = 0, fn = 0, tn = 0, unreadable = 0, ungraded = 0
        for (solutionID, c) in index.critiques[v] ?? [:] {
            guard let correct = index.solutionByID[solutionID]?.grade.correct else { ungraded += 1; continue }
            guard let accepted = decision(c, threshold: threshold) else { unreadable += 1; continue }
            switch (accepted, correct) {
            case (false, false): tp += 1
            case (false, true): fp += 1
            case (true, false): fn += 1
            case (true, true): tn += 1
            }
        }
        return .init(truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: tn,
                     unreadable: unreadable, ungraded: ungraded,
                     precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn))
    }

    /// Exact first-error match and ProcessBench F1 of a step-critique verifier against labels.
    /// The prediction is the critique's `firstErrorStep` (nil = "every step is right"); an
    /// unparseable critique predicts nothing, so it is a miss whatever the label.
    static func localisation(_ v: VerifierID, index: Index, labels: Labels) -> Report.Localisation {
        var solutions = 0, unparseable = 0
        var erroneous = 0, erroneousHits = 0, correct = 0, correctHits = 0
        for (solutionID, c) in index.critiques[v] ?? [:] {
            guard let label = labels.labels[solutionID] else { continue }
            solutions += 1
            let readable = c.parse != .unparseable
            if !readable { unparseable += 1 }
            switch label {
            case .step(let i):
                erroneous += 1
                if readable && c.firstErrorStep == i { erroneousHits += 1 }
            case .noError:
                correct += 1
                if readable && c.firstErrorStep == nil { correctHits += 1 }
            case .unlabelled:
                break
            }
        }
        let accErroneous = ratio(erroneousHits, erroneous)
        let accCorrect = ratio(correctHits, correct)
        var f1: Double? = nil
        if let a = accErroneous, let b = accCorrect { f1 = a + b == 0 ? 0 : 2 * a * b / (a + b) }
        return .init(labelSource: labels.source, solutions: solutions, unparseable: unparseable,
                     exactMatches: erroneousHits + correctHits,
                     exactMatchRate: ratio(erroneousHits + correctHits, solutions),
                     erroneous: erroneous, erroneousHits: erroneousHits, correct: correct,
                     correctHits: correctHits, accuracyErroneous: accErroneous,
                     accuracyCorrect: accCorrect, f1: f1)
    }

    /// For each kind judged both blind and informed: on the solutions both judged, how often the
    /// acceptance at threshold or the named first wrong step differ. A pair where either side
    /// is unparseable or has no decision is counted as unreadable and not compared.
    static func blindVsInformed(_ index: Index, options: MetricsOptions) -> [Report.BlindInformedDisagreement] {
        VerifierKind.allCases.compactMap { kind in
            let blindID = VerifierID(kind, informed: false), informedID = VerifierID(kind, informed: true)
            guard let blind = index.critiques[blindID], let informed = index.critiques[informedID] else { return nil }
            var pairs = 0, verdictDiffers = 0, stepDiffers = 0, either = 0, unreadable = 0
            for (solutionID, b) in blind {
                guard let i = informed[solutionID] else { continue }
                pairs += 1
                guard let ab = decision(b, threshold: options.threshold(for: blindID)),
                      let ai = decision(i, threshold: options.threshold(for: informedID)) else {
                    unreadable += 1
                    continue
                }
                let verdict = ab != ai, step = b.firstErrorStep != i.firstErrorStep
                if verdict { verdictDiffers += 1 }
                if step { stepDiffers += 1 }
                if verdict || step { either += 1 }
            }
            return .init(kind: kind, pairs: pairs, verdictDiffers: verdictDiffers,
                         firstErrorDiffers: stepDiffers, eitherDiffers: either, unreadable: unreadable)
        }
    }
}
