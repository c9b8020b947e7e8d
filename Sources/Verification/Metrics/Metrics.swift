import Reasoning

/// The metrics of the generation–verification gap, as pure functions of a session's values.
/// See Report.swift for the definitions.
public enum Metrics {
    /// Computes every figure of the report. Never traps on odd input: missing solutions,
    /// unknown correctness, unreadable critiques and empty sessions all end up as counts and
    /// nil figures.
    public static func report(_ input: MetricsInput, options: MetricsOptions = MetricsOptions()) -> Report {
        let index = Index(input)
        let labels = Labels(input: input, index: index, source: options.labelSource)
        var notes: [String] = []

        let accuracy = Metrics.accuracy(index, round: options.round)
        if accuracy.unknownCorrectness > 0 {
            notes.append("round \(options.round): \(plural(accuracy.unknownCorrectness, "solution")) of unknown correctness excluded")
        }
        let passAtK = Metrics.passAtK(index, round: options.round, ks: options.ks)
        for p in passAtK where p.excludedTooFewSamples > 0 {
            notes.append("pass@\(p.k): \(plural(p.excludedTooFewSamples, "problem")) with fewer than \(p.k) graded samples excluded")
        }

        var verifiers: [Report.VerifierFigures] = []
        for v in index.verifiers {
            let figures = Metrics.verifierFigures(v, index: index, labels: labels, options: options)
            let tau = "τ=\(formatNumber(figures.threshold))"
            notes += gapNotes(figures.thresholdGap, name: "\(v) \(tau)")
            notes += gapNotes(figures.topNGap, name: "\(v) top-\(options.topN)")
            if figures.uncritiqued > 0 {
                notes.append("\(v): \(plural(figures.uncritiqued, "graded sample")) of round \(options.round) not critiqued; outside its population")
            }
            verifiers.append(figures)
        }

        let ensembleLists = options.ensembles ?? defaultEnsembles(index)
        var ensembles: [Report.EnsembleFigures] = []
        for members in ensembleLists {
            guard let e = Metrics.ensemble(members, index: index, options: options) else { continue }
            let name = e.members.map(\.description).joined(separator: " AND ")
            notes += gapNotes(e.gap, name: name)
            if e.missingCritique > 0 {
                notes.append("\(name): \(plural(e.missingCritique, "sample")) missing a member's critique excluded")
            }
            ensembles.append(e)
        }

        let tournaments = Metrics.tournaments(input.comparisons, index: index)
        for t in tournaments where t.undecided > 0 {
            notes.append("tournament/\(t.informed ? "informed" : "blind") round \(t.round): \(plural(t.undecided, "problem")) undecided (final comparisons unreadable or disagreeing); excluded")
        }

        return Report(
            settings: .init(round: options.round, topN: options.topN, ks: options.ks, labelSource: options.labelSource),
            counts: counts(input, index: index),
            accuracy: accuracy,
            generators: Metrics.generators(index),
            labelAgreement: Metrics.labelAgreement(index),
            passAtK: passAtK,
            rounds: Metrics.rounds(index),
            verifiers: verifiers,
            ensembles: ensembles,
            tournaments: tournaments,
            positionBias: Metrics.positionBias(input.comparisons),
            blindVsInformed: Metrics.blindVsInformed(index, options: options),
            notes: notes)
    }

    /// One ensemble of every scoring verifier present (tournaments judge pairs, not samples),
    /// when there are at least two.
    static func defaultEnsembles(_ index: Index) -> [[VerifierID]] {
        let members = index.verifiers.filter { $0.kind != .tournament }
        return members.count >= 2 ? [members] : []
    }

    static func gapNotes(_ g: Report.GapFigures, name: String) -> [String] {
        var notes: [String] = []
        if g.keptNothing > 0 {
            notes.append("\(name): \(plural(g.keptNothing, "problem")) kept nothing; excluded")
        }
        if g.allCorrect > 0 {
            notes.append("\(name): \(plural(g.allCorrect, "problem")) with J_x = 1 excluded from the relative gap")
        }
        if g.unreadable > 0 {
            notes.append("\(name): \(plural(g.unreadable, "unreadable critique")) never kept")
        }
        return notes
    }

    static func counts(_ input: MetricsInput, index: Index) -> Report.Counts {
        var stepsBySource: [String: Set<StepKey>] = [:]
        var bySourceAndSolution: [String: [String: [Annotation]]] = [:]
        for a in input.annotations {
            stepsBySource[a.source, default: []].insert(StepKey(solutionID: a.solutionID, step: a.stepIndex))
            bySourceAndSolution[a.source, default: [:]][a.solutionID, default: []].append(a)
        }
        let sources = stepsBySource.keys.sorted { a, b in
            if (a == Annotation.human) != (b == Annotation.human) { return a == Annotation.human }
            return a < b
        }
        let perSource = sources.map { source -> Report.SourceCount in
            var labelled = 0, firstErrors = 0
            for (solutionID, annotations) in bySourceAndSolution[source] ?? [:] {
                guard let solution = index.solutionByID[solutionID] else { continue }
                switch FirstErrorLabel.from(annotations: annotations, stepCount: solution.steps.count) {
                case .unlabelled: break
                case .noError: labelled += 1
                case .step: labelled += 1; firstErrors += 1
                }
            }
            return .init(source: source, annotatedSteps: stepsBySource[source]?.count ?? 0,
                         labelledSolutions: labelled, labelledFirstErrors: firstErrors)
        }
        return .init(problems: input.problems.count, solutions: input.solutions.count,
                     critiques: input.critiques.count, comparisons: input.comparisons.count,
                     annotations: input.annotations.count, orphanCritiques: index.orphanCritiques,
                     replacedCritiques: index.replacedCritiques, sources: perSource)
    }
}
