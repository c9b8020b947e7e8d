import Foundation
import Reasoning
import XCTest
@testable import Verification

final class MetricsLocalisationTests: MetricsTestCase {
    func testPrecisionAndRecallOfRejection() throws {
        let report = Metrics.report(sessionA())
        // mc at τ 0.5, positive = incorrect, "predicted positive" = score < 0.5:
        //   TP (w, rejected): s4 .2, t2 .3, t3 .45, v3 .1  = 4
        //   FP (c, rejected): t1 .4                          = 1
        //   FN (w, accepted): s3 .7, v1 .95                  = 2
        //   TN (c, accepted): s1, s2, u1, u2, v2             = 5
        //   unreadable: v4; ungraded: s5
        let mc = try XCTUnwrap(report.verifiers.first { $0.verifier == Self.mcBlind }).confusion
        XCTAssertEqual([mc.truePositives, mc.falsePositives, mc.falseNegatives, mc.trueNegatives], [4, 1, 2, 5])
        XCTAssertEqual(mc.unreadable, 1)
        XCTAssertEqual(mc.ungraded, 1)
        assertClose(mc.precision, 4.0 / 5)
        assertClose(mc.recall, 4.0 / 6)
        // cot-binary (accept = 1): TP t3, v1 = 2; FP s2 = 1; FN s3, t2, v3 = 3; TN s1 t1 u1 u2 v2 v4 w1 = 7
        let binary = try XCTUnwrap(report.verifiers.first { $0.verifier == Self.binaryBlind }).confusion
        XCTAssertEqual([binary.truePositives, binary.falsePositives, binary.falseNegatives, binary.trueNegatives], [2, 1, 3, 7])
        assertClose(binary.precision, 2.0 / 3)
        assertClose(binary.recall, 2.0 / 5)
        // the critique of "ghost" (no such solution) is counted and otherwise ignored
        XCTAssertEqual(report.counts.orphanCritiques, 1)
        XCTAssertNil(report.verifiers.first { $0.verifier == Self.mcBlind }?.localisation)
    }

    /// Five-step solutions with human labels (and one dataset label), judged by a blind and an
    /// informed step critique (score 1 = all steps right, 0 = names a wrong step).
    ///   sol  human label                     blind pred        informed pred
    ///   L1   step 2 (first-error mark)       2                 2
    ///   L2   step 1 (rated −1 at 1 and 3)    3                 1
    ///   L3   none (all five rated +1)        none              2
    ///   L4   none (all five rated +1)        0                 none
    ///   L5   step 0 (first-error mark)       unparseable       0
    ///   L6   unlabelled (steps 0, 1 +1 only) 4                 –
    ///   L7   (big-bench-mistake: step 4)     4                 –
    ///   L8   none (all five +1)              –                 –
    func labelledSession() -> MetricsInput {
        let ids = (1...8).map { "L\($0)" }
        var input = MetricsInput(problems: [problem("p")],
                                 solutions: ids.map { solution($0, "p", $0 != "L2", steps: 5) })
        let t = Date(timeIntervalSince1970: 0)
        func good(_ id: String, _ steps: ClosedRange<Int>) -> [Annotation] {
            steps.map { Annotation(solutionID: id, stepIndex: $0, rating: .good, time: t) }
        }
        input.annotations += [Annotation(solutionID: "L1", stepIndex: 2, firstError: true, time: t),
                              Annotation(solutionID: "L1", stepIndex: 2, note: "carry dropped", time: t)]
        input.annotations += [Annotation(solutionID: "L2", stepIndex: 3, rating: .bad, time: t),
                              Annotation(solutionID: "L2", stepIndex: 1, rating: .bad, time: t)]
        input.annotations += good("L3", 0...4) + good("L4", 0...4) + good("L6", 0...1) + good("L8", 0...4)
        input.annotations.append(Annotation(solutionID: "L5", stepIndex: 0, firstError: true, time: t))
        input.annotations.append(Annotation(solutionID: "L7", stepIndex: 4, rating: .bad, firstError: true,
                                            time: t, source: "big-bench-mistake"))
        let blind: [(String, Double?, Int?)] = [("L1", 0, 2), ("L2", 0, 3), ("L3", 1, nil), ("L4", 0, 0),
                                                ("L5", nil, nil), ("L6", 0, 4), ("L7", 0, 4)]
        let informed: [(String, Double?, Int?)] = [("L1", 0, 2), ("L2", 0, 1), ("L3", 0, 2), ("L4", 1, nil), ("L5", 0, 0)]
        input.critiques += blind.map { critique($0.0, .critique, $0.1, step: $0.2) }
        input.critiques += informed.map { critique($0.0, .critique, $0.1, informed: true, step: $0.2) }
        return input
    }

    func testExactMatchAndProcessBenchF1AgainstHumanLabels() throws {
        let report = Metrics.report(labelledSession())
        let blind = try XCTUnwrap(report.verifiers.first { $0.verifier == Self.critiqueBlind }?.localisation)
        // labelled and critiqued: L1..L5 (L6 unlabelled, L7 other source, L8 not critiqued)
        XCTAssertEqual(blind.labelSource, "human")
        XCTAssertEqual(blind.solutions, 5)
        XCTAssertEqual(blind.unparseable, 1)
        // erroneous L1 hit, L2 miss (3 ≠ 1), L5 miss (unparseable) → 1/3
        XCTAssertEqual([blind.erroneous, blind.erroneousHits], [3, 1])
        assertClose(blind.accuracyErroneous, 1.0 / 3)
        // correct L3 hit (none), L4 miss (0) → 1/2
        XCTAssertEqual([blind.correct, blind.correctHits], [2, 1])
        assertClose(blind.accuracyCorrect, 0.5)
        // exact = (1 + 1)/5; F1 = 2 · (1/3)(1/2) / (1/3 + 1/2) = (1/3)/(5/6) = 2/5
        XCTAssertEqual(blind.exactMatches, 2)
        assertClose(blind.exactMatchRate, 0.4)
        assertClose(blind.f1, 0.4)

        let informed = try XCTUnwrap(report.verifiers.first { $0.verifier == Self.critiqueInformed }?.localisation)
        // erroneous L1, L2, L5 all hit → 1; correct L3 miss, L4 hit → 1/2
        // exact 4/5; F1 = 2 · 1 · (1/2) / (3/2) = 2/3
        assertClose(informed.accuracyErroneous, 1)
        assertClose(informed.accuracyCorrect, 0.5)
        assertClose(informed.exactMatchRate, 0.8)
        assertClose(informed.f1, 2.0 / 3)
    }

    func testLabelsFromANamedDatasetSource() throws {
        let report = Metrics.report(labelledSession(), options: MetricsOptions(labelSource: "big-bench-mistake"))
        let blind = try XCTUnwrap(report.verifiers.first { $0.verifier == Self.critiqueBlind }?.localisation)
        // only L7 (label step 4, predicted 4): exact 1/1; no error-free solution, so no F1
        XCTAssertEqual(blind.solutions, 1)
        assertClose(blind.exactMatchRate, 1)
        assertClose(blind.accuracyErroneous, 1)
        XCTAssertNil(blind.accuracyCorrect)
        XCTAssertNil(blind.f1)
        XCTAssertEqual(report.settings.labelSource, "big-bench-mistake")
    }

    func testAnnotationCounts() {
        let c = Metrics.report(labelledSession()).counts
        // human steps: L1 {2} (two annotations, one step), L2 {1, 3}, L3 5, L4 5, L5 {0}, L6 {0, 1}, L8 5 = 21
        // labelled: L1, L2, L3, L4, L5, L8 = 6, of which with a first error L1, L2, L5 = 3
        XCTAssertEqual(c.sources.map(\.source), ["human", "big-bench-mistake"])
        XCTAssertEqual([c.sources[0].annotatedSteps, c.sources[0].labelledSolutions, c.sources[0].labelledFirstErrors], [21, 6, 3])
        XCTAssertEqual([c.sources[1].annotatedSteps, c.sources[1].labelledSolutions, c.sources[1].labelledFirstErrors], [1, 1, 1])
        XCTAssertEqual(c.annotations, 23)
        XCTAssertEqual(c.solutions, 8)
        XCTAssertEqual(c.critiques, 12)
        XCTAssertEqual(c.problems, 1)
    }

    func testBlindAndInformedDisagreement() throws {
        let d = try XCTUnwrap(Metrics.report(labelledSession()).blindVsInformed.first)
        XCTAssertEqual(d.kind, .critique)
        // L1 same; L2 step 3 vs 1; L3 accept vs reject and none vs 2; L4 reject vs accept and 0 vs none;
        // L5 blind unparseable → unreadable, not compared
        XCTAssertEqual(d.pairs, 5)
        XCTAssertEqual(d.verdictDiffers, 2)
        XCTAssertEqual(d.firstErrorDiffers, 3)
        XCTAssertEqual(d.eitherDiffers, 3)
        XCTAssertEqual(d.unreadable, 1)
        // only kinds judged both ways get a row
        XCTAssertTrue(Metrics.report(sessionA()).blindVsInformed.isEmpty)
    }

    func testLaterCritiqueReplacesEarlierOne() throws {
        var input = labelledSession()
        // L2 re-judged by the blind critique: now step 1, a hit.
        input.critiques.append(critique("L2", .critique, 0, step: 1))
        let report = Metrics.report(input)
        XCTAssertEqual(report.counts.replacedCritiques, 1)
        let blind = try XCTUnwrap(report.verifiers.first { $0.verifier == Self.critiqueBlind }?.localisation)
        XCTAssertEqual(blind.erroneousHits, 2)
        XCTAssertEqual(blind.solutions, 5)
    }
}
