import Reasoning
import XCTest
@testable import Verification

/// Session A, round 0. Scores are mc (τ = 0.5) and cot-binary (τ = 1, 1/0); "c" = correct,
/// "w" = wrong, "?" = unknown correctness, "–" = no critique, "nil" = unparseable critique.
///
///   problem  sample  truth  mc    cot-binary
///   p1       s1      c      0.9   1
///   p1       s2      c      0.6   0
///   p1       s3      w      0.7   1
///   p1       s4      w      0.2   –
///   p1       s5      ?      0.99  1
///   p2       t1      c      0.4   1
///   p2       t2      w      0.3   1
///   p2       t3      w      0.45  0
///   p3       u1      c      0.8   1
///   p3       u2      c      0.55  1
///   p4       v1      w      0.95  0
///   p4       v2      c      0.5   1      (exactly at τ: kept)
///   p4       v3      w      0.1   1
///   p4       v4      c      nil   1
///   p5       w1      c      –     1
///   (ghost)  —       —      —     1      (critique of a solution not in the session)
extension MetricsTestCase {
    func sessionA() -> MetricsInput {
        let rows: [(String, String, Bool?, Double??, Double?)] = [
            ("s1", "p1", true, 0.9, 1), ("s2", "p1", true, 0.6, 0), ("s3", "p1", false, 0.7, 1),
            ("s4", "p1", false, 0.2, nil), ("s5", "p1", nil, 0.99, 1),
            ("t1", "p2", true, 0.4, 1), ("t2", "p2", false, 0.3, 1), ("t3", "p2", false, 0.45, 0),
            ("u1", "p3", true, 0.8, 1), ("u2", "p3", true, 0.55, 1),
            ("v1", "p4", false, 0.95, 0), ("v2", "p4", true, 0.5, 1), ("v3", "p4", false, 0.1, 1),
            ("v4", "p4", true, .some(nil), 1),
            ("w1", "p5", true, nil, 1),
        ]
        var input = MetricsInput(problems: ["p1", "p2", "p3", "p4", "p5"].map(problem))
        for (id, p, correct, mc, binary) in rows {
            input.solutions.append(solution(id, p, correct))
            if let mc { input.critiques.append(critique(id, .mc, mc)) }
            if let binary { input.critiques.append(critique(id, .cotBinary, binary)) }
        }
        input.critiques.append(critique("ghost", .cotBinary, 1))
        return input
    }
}

final class MetricsGapTests: MetricsTestCase {
    func testAccuracyExcludesUnknownCorrectness() {
        let a = Metrics.report(sessionA()).accuracy
        // p1 2/4 (s5 unknown: out), p2 1/3, p3 2/2, p4 2/4, p5 1/1
        // J = (1/2 + 1/3 + 1 + 1/2 + 1) / 5 = (10/3) / 5 = 2/3
        assertClose(a.value, 2.0 / 3)
        XCTAssertEqual(a.problems, 5)
        XCTAssertEqual(a.samples, 14)
        XCTAssertEqual(a.correct, 8)
        XCTAssertEqual(a.unknownCorrectness, 1)
    }

    func testThresholdGapExcludesProblemsThatKeptNothing() throws {
        let report = Metrics.report(sessionA())
        let mc = try XCTUnwrap(report.verifiers.first { $0.verifier == Self.mcBlind })
        XCTAssertEqual(mc.threshold, 0.5)
        XCTAssertEqual(mc.uncritiqued, 1)                  // w1
        let g = mc.thresholdGap
        // kept at τ = 0.5: p1 {s1 c, s2 c, s3 w}; p2 none; p3 {u1, u2}; p4 {v1 w, v2 c}; v4 unreadable
        XCTAssertEqual(g.samples, 13)                       // 4 + 3 + 2 + 4
        XCTAssertEqual(g.kept, 7)                           // 3 + 0 + 2 + 2
        XCTAssertEqual(g.unreadable, 1)                     // v4
        XCTAssertEqual(g.problems, 4)
        XCTAssertEqual(g.keptNothing, 1)                    // p2: out of both terms
        // J(f) over p1, p3, p4 = (1/2 + 1 + 1/2) / 3 = 2/3
        assertClose(g.accuracy, 2.0 / 3)
        // J(filtered) = (2/3 + 1 + 1/2) / 3 = 13/18
        assertClose(g.filteredAccuracy, 13.0 / 18)
        // gap = 13/18 − 12/18 = 1/18
        assertClose(g.gap, 1.0 / 18)
        // relative: p1 (2/3 − 1/2)/(1 − 1/2) = 1/3; p4 (1/2 − 1/2)/(1/2) = 0; p3 has J_x = 1: out
        // mean = (1/3 + 0) / 2 = 1/6
        assertClose(g.relativeGap, 1.0 / 6)
        XCTAssertEqual(g.relativeGapProblems, 2)
        XCTAssertEqual(g.allCorrect, 1)
        XCTAssertTrue(report.notes.contains("mc/blind τ=0.5: 1 problem kept nothing; excluded"), "\(report.notes)")
        XCTAssertTrue(report.notes.contains("mc/blind τ=0.5: 1 problem with J_x = 1 excluded from the relative gap"))
    }

    func testTopOneGap() throws {
        let g = try XCTUnwrap(Metrics.report(sessionA()).verifiers.first { $0.verifier == Self.mcBlind }).topNGap
        // top-1 by mc: p1 s1 (c), p2 t3 (w), p3 u1 (c), p4 v1 (w); v4 has no score: never kept
        XCTAssertEqual(g.kept, 4)
        XCTAssertEqual(g.keptNothing, 0)
        XCTAssertEqual(g.unreadable, 1)
        // J(f) = (1/2 + 1/3 + 1 + 1/2) / 4 = 7/12; J(top-1) = (1 + 0 + 1 + 0) / 4 = 1/2
        assertClose(g.accuracy, 7.0 / 12)
        assertClose(g.filteredAccuracy, 0.5)
        assertClose(g.gap, -1.0 / 12)
        // relative: p1 (1 − 1/2)/(1/2) = 1; p2 (0 − 1/3)/(2/3) = −1/2; p4 (0 − 1/2)/(1/2) = −1
        // mean = (1 − 1/2 − 1) / 3 = −1/6; p3 out (J_x = 1)
        assertClose(g.relativeGap, -1.0 / 6)
        XCTAssertEqual(g.allCorrect, 1)
    }

    func testTopNKeepsEveryTieAtTheCut() {
        // n = 2 over 9, 7, 7, 3, nil: the 2nd score is 7, both 7s kept, nil never.
        XCTAssertEqual(Metrics.topNKept(scores: [9, 7, 7, 3, nil], n: 2), [true, true, true, false, false])
        // a tie at the very top with n = 1 keeps both
        XCTAssertEqual(Metrics.topNKept(scores: [8, 2, 8], n: 1), [true, false, true])
        // fewer scores than n: every score kept
        XCTAssertEqual(Metrics.topNKept(scores: [5, nil], n: 3), [true, false])
        XCTAssertEqual(Metrics.topNKept(scores: [nil, nil], n: 1), [false, false])
    }

    func testTopTwoWithTieThroughTheReport() throws {
        // One problem, cot-score: x1 9 w, x2 7 c, x3 7 w, x4 3 c. Top-2 keeps x1, x2, x3 (tie at 7).
        var input = MetricsInput(problems: [problem("p")])
        for (id, correct, score) in [("x1", false, 9.0), ("x2", true, 7), ("x3", false, 7), ("x4", true, 3)] {
            input.solutions.append(solution(id, "p", correct))
            input.critiques.append(critique(id, .cotScore, score))
        }
        let report = Metrics.report(input, options: MetricsOptions(topN: 2))
        let g = try XCTUnwrap(report.verifiers.first).topNGap
        XCTAssertEqual(g.kept, 3)
        // J = 2/4; J(top-2) = 1/3; gap = 1/3 − 1/2 = −1/6; relative = (−1/6)/(1/2) = −1/3
        assertClose(g.accuracy, 0.5)
        assertClose(g.filteredAccuracy, 1.0 / 3)
        assertClose(g.gap, -1.0 / 6)
        assertClose(g.relativeGap, -1.0 / 3)
        // At the default τ = 8 only x1 (9, wrong) is kept: J(filtered) = 0, gap = −1/2
        assertClose(report.verifiers[0].thresholdGap.gap, -0.5)
        // With τ overridden to 7 for this verifier: x1, x2, x3 kept, as top-2
        let lowered = Metrics.report(input, options: MetricsOptions(thresholds: [Self.scoreBlind: 7]))
        XCTAssertEqual(lowered.verifiers[0].threshold, 7)
        assertClose(lowered.verifiers[0].thresholdGap.filteredAccuracy, 1.0 / 3)
    }

    func testNothingKeptAnywhere() throws {
        // Two problems; no mc score reaches 0.5, so every problem kept nothing.
        var input = MetricsInput(problems: [problem("p"), problem("q")])
        for (id, p, correct, score) in [("a", "p", true, 0.1), ("b", "p", false, 0.2), ("c", "q", true, 0.3)] {
            input.solutions.append(solution(id, p, correct))
            input.critiques.append(critique(id, .mc, score))
        }
        let report = Metrics.report(input)
        let g = try XCTUnwrap(report.verifiers.first).thresholdGap
        XCTAssertEqual(g.keptNothing, 2)
        XCTAssertEqual(g.kept, 0)
        XCTAssertNil(g.accuracy)
        XCTAssertNil(g.filteredAccuracy)
        XCTAssertNil(g.gap)
        XCTAssertNil(g.relativeGap)
        XCTAssertTrue(report.notes.contains("mc/blind τ=0.5: 2 problems kept nothing; excluded"))
        XCTAssertTrue(report.renderTable().contains("2 problems kept nothing; excluded"))
        // top-1 still keeps the best of each: p b (0.2, wrong), q c (0.3, right)
        // J = (1/2 + 1)/2 = 3/4; J(top-1) = (0 + 1)/2 = 1/2; gap = −1/4
        assertClose(report.verifiers[0].topNGap.gap, -0.25)
        // relative: p (0 − 1/2)/(1/2) = −1; q has J_x = 1: excluded → −1
        assertClose(report.verifiers[0].topNGap.relativeGap, -1)
        XCTAssertEqual(report.verifiers[0].topNGap.allCorrect, 1)
    }

    func testUnparseableCritiqueIsNeverKeptEvenWithAStoredScore() throws {
        // a c 0.9 (unparseable, yet a score was stored), b w 0.8, c c 0.2
        var input = MetricsInput(problems: [problem("p")])
        input.solutions = [solution("a", "p", true), solution("b", "p", false), solution("c", "p", true)]
        input.critiques = [critique("a", .mc, 0.9, parse: .unparseable), critique("b", .mc, 0.8), critique("c", .mc, 0.2)]
        let v = try XCTUnwrap(Metrics.report(input).verifiers.first)
        // τ 0.5 keeps b only; top-1 ranks b (0.8) over c; a is unreadable in both
        // J = 2/3, J(filtered) = 0, gap = −2/3, relative = (0 − 2/3)/(1/3) = −2
        for g in [v.thresholdGap, v.topNGap] {
            XCTAssertEqual([g.samples, g.kept, g.unreadable], [3, 1, 1])
            assertClose(g.gap, -2.0 / 3)
            assertClose(g.relativeGap, -2)
        }
        // and it is neither a true nor a false rejection
        XCTAssertEqual(v.confusion.unreadable, 1)
        XCTAssertEqual(v.confusion.truePositives + v.confusion.falsePositives
                       + v.confusion.falseNegatives + v.confusion.trueNegatives, 2)
    }

    func testAllCorrectLeavesNoRelativeGap() throws {
        var input = MetricsInput(problems: [problem("p"), problem("q")])
        for (id, p, score) in [("a", "p", 0.9), ("b", "p", 0.2), ("c", "q", 0.7)] {
            input.solutions.append(solution(id, p, true))
            input.critiques.append(critique(id, .mc, score))
        }
        let g = try XCTUnwrap(Metrics.report(input).verifiers.first).thresholdGap
        // every J_x = 1: J = J(filtered) = 1, gap 0, both problems out of the relative gap
        assertClose(g.accuracy, 1)
        assertClose(g.filteredAccuracy, 1)
        assertClose(g.gap, 0)
        XCTAssertNil(g.relativeGap)
        XCTAssertEqual(g.relativeGapProblems, 0)
        XCTAssertEqual(g.allCorrect, 2)
    }

    func testEnsembleAndExcludesSamplesMissingACritique() throws {
        let report = Metrics.report(sessionA())
        // Default ensemble = every scoring verifier present: mc AND cot-binary.
        let e = try XCTUnwrap(report.ensembles.first)
        XCTAssertEqual(e.members, [Self.mcBlind, Self.binaryBlind])
        XCTAssertEqual(e.thresholds, [0.5, 1])
        // s4 (no cot-binary) and w1 (no mc) are out: missing 2; s5 is ungraded anyway.
        XCTAssertEqual(e.missingCritique, 2)
        // p1 {s1 c ✓✓ kept, s2 c ✓✗, s3 w ✓✓ kept}: J 2/3, kept 1/2
        // p2 {t1 ✗, t2 ✗, t3 ✗}: kept nothing → out
        // p3 {u1 ✓✓, u2 ✓✓}: J 1, kept 1
        // p4 {v1 ✓✗, v2 ✓✓ kept c, v3 ✗, v4 mc unreadable}: J 1/2, kept 1
        let g = e.gap
        XCTAssertEqual(g.samples, 12)
        XCTAssertEqual(g.kept, 5)
        XCTAssertEqual(g.unreadable, 1)
        XCTAssertEqual(g.keptNothing, 1)
        // J(f) = (2/3 + 1 + 1/2)/3 = 13/18; J(and) = (1/2 + 1 + 1)/3 = 5/6 = 15/18; gap = 1/9
        assertClose(g.accuracy, 13.0 / 18)
        assertClose(g.filteredAccuracy, 5.0 / 6)
        assertClose(g.gap, 1.0 / 9)
        // relative: p1 (1/2 − 2/3)/(1/3) = −1/2; p4 (1 − 1/2)/(1/2) = 1; mean 1/4
        assertClose(g.relativeGap, 0.25)
        XCTAssertTrue(report.notes.contains("mc/blind AND cot-binary/blind: 2 samples missing a member's critique excluded"))

        // The same ensemble asked for explicitly (with a repeated member) gives the same figures.
        let explicit = Metrics.report(sessionA(), options: MetricsOptions(ensembles: [[Self.binaryBlind, Self.mcBlind, Self.mcBlind]]))
        XCTAssertEqual(explicit.ensembles.first?.members, [Self.binaryBlind, Self.mcBlind])
        XCTAssertEqual(explicit.ensembles.first?.gap, g)
        XCTAssertTrue(Metrics.report(sessionA(), options: MetricsOptions(ensembles: [[]])).ensembles.isEmpty)
    }

    func testPassAtKProductFormAndExclusions() {
        // round 0 (n, c): p1 (4, 2), p2 (3, 1), p3 (2, 2), p4 (4, 2), p5 (1, 1)
        let p = Metrics.report(sessionA(), options: MetricsOptions(ks: [1, 2, 4, 8])).passAtK
        XCTAssertEqual(p.map(\.k), [1, 2, 4, 8])
        // k = 1: c/n per problem; mean = J = 2/3
        assertClose(p[0].value, 2.0 / 3)
        XCTAssertEqual(p[0].problems, 5)
        // k = 2 (p5 out): p1 1 − C(2,2)/C(4,2) = 5/6; p2 1 − C(2,2)/C(3,2) = 2/3; p3 1; p4 5/6
        // mean = (5/6 + 4/6 + 6/6 + 5/6)/4 = 5/6
        assertClose(p[1].value, 5.0 / 6)
        XCTAssertEqual(p[1].excludedTooFewSamples, 1)
        // k = 4: only p1, p4 (n = 4), both 1 − C(2,4)/C(4,4) = 1
        assertClose(p[2].value, 1)
        XCTAssertEqual(p[2].problems, 2)
        XCTAssertEqual(p[2].excludedTooFewSamples, 3)
        // k = 8 > every n: no value, all five excluded, and the report says so
        XCTAssertNil(p[3].value)
        XCTAssertEqual(p[3].excludedTooFewSamples, 5)
        XCTAssertTrue(Metrics.report(sessionA(), options: MetricsOptions(ks: [8])).notes
            .contains("pass@8: 5 problems with fewer than 8 graded samples excluded"))
    }

    func testPassAtKMatchesTheBinomialDefinition() {
        func choose(_ n: Int, _ k: Int) -> Double {
            guard k >= 0, k <= n else { return 0 }
            var r = 1.0
            for i in 0..<k { r = r * Double(n - i) / Double(i + 1) }
            return r
        }
        for n in 1...20 {
            for c in 0...n {
                for k in 1...n {
                    let expected = 1 - choose(n - c, k) / choose(n, k)
                    assertClose(Metrics.passAtK(n: n, c: c, k: k), expected, "n=\(n) c=\(c) k=\(k)", accuracy: 1e-9)
                }
            }
        }
        // a hand case: n = 4, c = 1, k = 2: 1 − C(3,2)/C(4,2) = 1 − 3/6 = 1/2
        assertClose(Metrics.passAtK(n: 4, c: 1, k: 2), 0.5)
        // n = 200, c = 3, k = 100 stays finite (the binomials alone would be ~1e58)
        assertClose(Metrics.passAtK(n: 200, c: 3, k: 100), 1 - (100.0 * 99 * 98) / (200.0 * 199 * 198))
        // k > n, k < 1 and c > n have no estimate
        XCTAssertNil(Metrics.passAtK(n: 3, c: 1, k: 4))
        XCTAssertNil(Metrics.passAtK(n: 3, c: 1, k: 0))
        XCTAssertNil(Metrics.passAtK(n: 3, c: 4, k: 1))
    }
}
