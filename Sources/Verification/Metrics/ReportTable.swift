import Foundation
import Reasoning

// The plain-text face of a report: sections of aligned columns, what `stepwise report` prints.

extension Metrics {
    /// Columns of text, the first left-aligned and the rest right-aligned, two spaces apart.
    struct TextTable {
        var header: [String]
        var rows: [[String]] = []

        func render(indent: String = "  ") -> String {
            let all = [header] + rows
            var widths = Array(repeating: 0, count: header.count)
            for row in all {
                for (i, cell) in row.enumerated() where i < widths.count {
                    widths[i] = max(widths[i], cell.count)
                }
            }
            return all.map { row in
                let cells = widths.indices.map { i -> String in
                    let cell = i < row.count ? row[i] : ""
                    let pad = String(repeating: " ", count: widths[i] - cell.count)
                    return i == 0 ? cell + pad : pad + cell
                }
                var line = indent + cells.joined(separator: "  ")
                while line.hasSuffix(" ") { line.removeLast() }
                return line
            }.joined(separator: "\n")
        }
    }
}

extension Report {
    /// How many disagreeing solution ids the table lists before pointing at `--json`.
    static let disagreementsShown = 10

    /// The report as aligned plain text, one section per group of metrics, sections without
    /// data left out, and the exclusion notes last.
    public func renderTable() -> String {
        var out: [String] = []
        out.append("Stepwise report · round \(settings.round) · top-\(settings.topN) · labels: \(settings.labelSource)")
        out.append("")
        out.append("Counts: \(counts.problems) problems, \(counts.solutions) solutions, \(counts.critiques) critiques, "
                   + "\(counts.comparisons) comparisons, \(counts.annotations) annotations")
        if counts.orphanCritiques > 0 || counts.replacedCritiques > 0 {
            let orphans = counts.orphanCritiques == 1 ? "1 critique of an unknown solution" : "\(counts.orphanCritiques) critiques of unknown solutions"
            out.append("  \(orphans) ignored; \(counts.replacedCritiques) replaced by a later critique")
        }
        if !counts.sources.isEmpty {
            var t = Metrics.TextTable(header: ["annotation source", "annotated steps", "labelled solutions", "labelled first errors"])
            for s in counts.sources {
                t.rows.append([s.source, "\(s.annotatedSteps)", "\(s.labelledSolutions)", "\(s.labelledFirstErrors)"])
            }
            out.append(t.render())
        }

        out.append("")
        out.append("Accuracy J(f), round \(accuracy.round): \(Report.rate(accuracy.value)) over \(accuracy.problems) problems "
                   + "(\(accuracy.correct)/\(accuracy.samples) graded samples correct, \(accuracy.unknownCorrectness) of unknown correctness excluded)")

        if !generators.isEmpty {
            out.append("")
            out.append("Per generator (all rounds)")
            var t = Metrics.TextTable(header: ["generator", "problems", "samples", "correct", "unknown", "accuracy"])
            for g in generators {
                t.rows.append([g.generator, "\(g.problems)", "\(g.samples)", "\(g.correct)", "\(g.unknownCorrectness)", Report.rate(g.value)])
            }
            out.append(t.render())
        }

        if labelAgreement.compared > 0 || labelAgreement.labelledButUngraded > 0 {
            let a = labelAgreement
            out.append("")
            out.append("Our grade vs the dataset's label: \(a.agreeing)/\(a.compared) agree (\(Report.rate(a.rate))), "
                       + "\(a.labelledButUngraded) labelled but ungraded")
            if !a.disagreeing.isEmpty {
                let shown = a.disagreeing.prefix(Report.disagreementsShown).joined(separator: ", ")
                let more = a.disagreeing.count > Report.disagreementsShown ? " … (\(a.disagreeing.count) in all; see --json)" : ""
                out.append("  disagreeing: \(shown)\(more)")
            }
        }

        if !passAtK.isEmpty {
            out.append("")
            out.append("pass@k, round \(settings.round) (problems with fewer than k graded samples excluded)")
            var t = Metrics.TextTable(header: ["k", "problems", "excluded", "pass@k"])
            for p in passAtK {
                t.rows.append(["\(p.k)", "\(p.problems)", "\(p.excludedTooFewSamples)", Report.rate(p.value)])
            }
            out.append(t.render())
        }

        if !rounds.isEmpty {
            out.append("")
            out.append("Per round: accuracy of the round's samples beside mean verifier score; accuracy after the round (every first attempt as it then stands); refinement fixes and breaks")
            let verifierNames = rounds.first?.meanScores.map { "mean \($0.verifier)" } ?? []
            var t = Metrics.TextTable(header: ["round", "problems", "samples", "accuracy"] + verifierNames
                              + ["acc. after", "with parent", "fixed", "broken", "stayed right", "stayed wrong"])
            for r in rounds {
                t.rows.append(["\(r.round)", "\(r.problems)", "\(r.samples)", Report.rate(r.accuracy)]
                              + r.meanScores.map { Report.rate($0.value) }
                              + [Report.rate(r.accuracyAfter), "\(r.withParent)", "\(r.fixed)", "\(r.broken)", "\(r.stayedRight)", "\(r.stayedWrong)"])
            }
            out.append(t.render())
        }

        if !verifiers.isEmpty || !ensembles.isEmpty {
            out.append("")
            out.append("Generation–verification gap, round \(settings.round) (problems that kept nothing excluded from both terms)")
            var t = Metrics.TextTable(header: ["verifier", "filter", "samples", "kept", "problems", "kept nothing",
                                       "J(f)", "J(filtered)", "gap", "rel. gap", "J_x=1"])
            func add(_ name: String, _ filter: String, _ g: GapFigures) {
                t.rows.append([name, filter, "\(g.samples)", "\(g.kept)", "\(g.problems)", "\(g.keptNothing)",
                               Report.rate(g.accuracy), Report.rate(g.filteredAccuracy), Report.signed(g.gap),
                               Report.signed(g.relativeGap), "\(g.allCorrect)"])
            }
            for v in verifiers {
                add(v.verifier.description, "τ=\(Metrics.formatNumber(v.threshold))", v.thresholdGap)
                add(v.verifier.description, "top-\(settings.topN)", v.topNGap)
            }
            for e in ensembles {
                add(e.members.map(\.description).joined(separator: " AND "), "τ each", e.gap)
            }
            out.append(t.render())

            if !verifiers.isEmpty {
                out.append("")
                out.append("Verifier vs ground truth, all rounds (positive = incorrect; the verifier rejects below τ)")
                var c = Metrics.TextTable(header: ["verifier", "TP", "FP", "FN", "TN", "unreadable", "ungraded", "precision", "recall"])
                for v in verifiers {
                    let m = v.confusion
                    c.rows.append([v.verifier.description, "\(m.truePositives)", "\(m.falsePositives)", "\(m.falseNegatives)",
                                   "\(m.trueNegatives)", "\(m.unreadable)", "\(m.ungraded)", Report.rate(m.precision), Report.rate(m.recall)])
                }
                out.append(c.render())
            }
        }

        let located = verifiers.compactMap { v in v.localisation.map { (v.verifier, $0) } }
        if !located.isEmpty {
            out.append("")
            out.append("First-error localisation against '\(settings.labelSource)' labels, all rounds (unparseable = miss)")
            var t = Metrics.TextTable(header: ["verifier", "labelled", "unparseable", "exact", "exact rate",
                                       "erroneous", "hit", "acc", "correct", "hit", "acc", "F1"])
            for (v, l) in located {
                t.rows.append([v.description, "\(l.solutions)", "\(l.unparseable)", "\(l.exactMatches)", Report.rate(l.exactMatchRate),
                               "\(l.erroneous)", "\(l.erroneousHits)", Report.rate(l.accuracyErroneous),
                               "\(l.correct)", "\(l.correctHits)", Report.rate(l.accuracyCorrect), Report.rate(l.f1)])
            }
            out.append(t.render())
        }

        if !tournaments.isEmpty {
            out.append("")
            out.append("Tournament winners (final winner = the highest level's)")
            var t = Metrics.TextTable(header: ["tournament", "round", "problems", "decided", "undecided", "winner ungraded",
                                       "winner acc", "J(f)", "gap"])
            for r in tournaments {
                t.rows.append([r.informed ? "informed" : "blind", "\(r.round)", "\(r.problems)", "\(r.decided)", "\(r.undecided)",
                               "\(r.winnerUngraded)", Report.rate(r.winnerAccuracy), Report.rate(r.baseline), Report.signed(r.gap)])
            }
            out.append(t.render())
        }

        if positionBias.contains(where: { $0.pairs > 0 }) {
            out.append("")
            out.append("Position bias (pairs shown in both orders)")
            var t = Metrics.TextTable(header: ["tournament", "pairs", "comparisons", "first shown wins", "rate", "consistent pairs"])
            for p in positionBias {
                t.rows.append([p.informed ? "informed" : "blind", "\(p.pairs)", "\(p.comparisons)", "\(p.firstShownWins)",
                               Report.rate(p.firstShownWinRate), "\(p.consistentPairs)"])
            }
            out.append(t.render())
        }

        if !blindVsInformed.isEmpty {
            out.append("")
            out.append("Blind vs informed on the same solutions")
            var t = Metrics.TextTable(header: ["kind", "pairs", "verdict differs", "first error differs", "either differs", "unreadable"])
            for d in blindVsInformed {
                t.rows.append([d.kind.rawValue, "\(d.pairs)", "\(d.verdictDiffers)", "\(d.firstErrorDiffers)",
                               "\(d.eitherDiffers)", "\(d.unreadable)"])
            }
            out.append(t.render())
        }

        if !notes.isEmpty {
            out.append("")
            out.append("Notes")
            out += notes.map { "  - " + $0 }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The report as JSON (`stepwise report --json`): keys sorted, indented, undefined figures
    /// left out. Throws only if a figure is not finite (a non-finite threshold given in options).
    public func renderJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// A ratio to three decimals, "–" when undefined.
    static func rate(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "–" }
        return fixed(x)
    }

    /// A difference with its sign, "–" when undefined.
    static func signed(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "–" }
        let text = fixed(abs(x))
        if text == fixed(0) { return text }
        return (x < 0 ? "-" : "+") + text
    }

    /// Three decimals without Foundation's locale-dependent formatting.
    static func fixed(_ x: Double) -> String {
        let scaled = (abs(x) * 1000).rounded()
        guard scaled < 1e15 else { return String(x) }
        let n = Int(scaled)
        let fraction = String(n % 1000)
        return (x < 0 && n != 0 ? "-" : "") + "\(n / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
