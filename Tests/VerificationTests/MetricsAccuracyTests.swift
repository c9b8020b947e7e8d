import Reasoning
import XCTest
@testable import Verification

final class MetricsAccuracyTests: MetricsTestCase {
    /// Imported solutions of two systems with the dataset's own correctness labels:
    ///   p1: a1 gpt c (label c), a2 llama w (label w)
    ///   p2: b1 gpt w (label c: disagrees), b2 llama c (label c)
    ///   p3: c1 gpt c (no label), c2 llama ? (label w: labelled but ungraded)
    func importedSession() -> MetricsInput {
        let gpt = Origin.imported(generator: "gpt"), llama = Origin.imported(generator: "llama")
        return MetricsInput(problems: ["p1", "p2", "p3"].map(problem), solutions: [
            solution("a1", "p1", true, origin: gpt, labelled: true),
            solution("a2", "p1", false, origin: llama, labelled: false),
            solution("b1", "p2", false, origin: gpt, labelled: true),
            solution("b2", "p2", true, origin: llama, labelled: true),
            solution("c1", "p3", true, origin: gpt),
            solution("c2", "p3", nil, origin: llama, labelled: false),
        ])
    }

    func testPerGeneratorAccuracy() {
        let g = Metrics.report(importedSession()).generators
        XCTAssertEqual(g.map(\.generator), ["gpt", "llama"])
        // gpt: p1 1, p2 0, p3 1 → 2/3
        assertClose(g[0].value, 2.0 / 3)
        XCTAssertEqual([g[0].problems, g[0].samples, g[0].correct, g[0].unknownCorrectness], [3, 3, 2, 0])
        // llama: p1 0, p2 1, p3 unknown (out) → 1/2
        assertClose(g[1].value, 0.5)
        XCTAssertEqual([g[1].problems, g[1].samples, g[1].correct, g[1].unknownCorrectness], [2, 2, 1, 1])
    }

    func testGradeAgainstDatasetLabel() {
        let a = Metrics.report(importedSession()).labelAgreement
        // compared: a1 ✓, a2 ✓, b1 ✗, b2 ✓ → 3/4; c2 labelled but ungraded; c1 unlabelled
        XCTAssertEqual(a.compared, 4)
        XCTAssertEqual(a.agreeing, 3)
        assertClose(a.rate, 0.75)
        XCTAssertEqual(a.disagreeing, ["b1"])
        XCTAssertEqual(a.labelledButUngraded, 1)
    }

    /// Two problems refined twice; cot-score critiques of every attempt.
    ///   round 0: r0a p1 w (4), r0b p1 c (6), r0c p2 w (5), r0d p2 c (7)
    ///   round 1: r1a ← r0a c (8), r1b ← r0b w (7), r1c ← r0c w (9), r1d ← r0d c (8)
    ///   round 2: r2a ← r1a ? (10), r2b ← r1b c (unparseable)
    func refinementSession() -> MetricsInput {
        let rows: [(String, String, Bool?, Int, String?, Double?)] = [
            ("r0a", "p1", false, 0, nil, 4), ("r0b", "p1", true, 0, nil, 6),
            ("r0c", "p2", false, 0, nil, 5), ("r0d", "p2", true, 0, nil, 7),
            ("r1a", "p1", true, 1, "r0a", 8), ("r1b", "p1", false, 1, "r0b", 7),
            ("r1c", "p2", false, 1, "r0c", 9), ("r1d", "p2", true, 1, "r0d", 8),
            ("r2a", "p1", nil, 2, "r1a", 10), ("r2b", "p1", true, 2, "r1b", nil),
        ]
        var input = MetricsInput(problems: ["p1", "p2"].map(problem))
        for (id, p, correct, round, parent, score) in rows {
            input.solutions.append(solution(id, p, correct, round: round, parent: parent,
                                            origin: round == 0 ? .sampled : .refined))
            input.critiques.append(critique(id, .cotScore, score, round: round))
        }
        return input
    }

    func testRoundsShowAccuracyBesideScoreAndFixesAndBreaks() {
        let r = Metrics.report(refinementSession()).rounds
        XCTAssertEqual(r.map(\.round), [0, 1, 2])
        // round 0: p1 1/2, p2 1/2 → 0.5; mean score (4 + 6 + 5 + 7)/4 = 5.5
        assertClose(r[0].accuracy, 0.5)
        assertClose(r[0].meanScores.first?.value, 5.5)
        XCTAssertEqual(r[0].withParent, 0)
        // round 1: p1 {c, w} 1/2, p2 {w, c} 1/2 → 0.5 while the score rises to (8+7+9+8)/4 = 8
        assertClose(r[1].accuracy, 0.5)
        assertClose(r[1].meanScores.first?.value, 8)
        XCTAssertEqual(r[1].meanScores.first?.verifier, Self.scoreBlind)
        // r0a w→c fixed, r0b c→w broken, r0c w→w, r0d c→c
        XCTAssertEqual([r[1].withParent, r[1].fixed, r[1].broken, r[1].stayedRight, r[1].stayedWrong, r[1].unknownPairs],
                       [4, 1, 1, 1, 1, 0])
        // round 2: only r2b graded (c) → p1 1/1 = 1; r2a unknown; mean score over scored: 10 (1 of 2)
        assertClose(r[2].accuracy, 1)
        XCTAssertEqual(r[2].unknownCorrectness, 1)
        XCTAssertEqual(r[2].problems, 1)
        assertClose(r[2].meanScores.first?.value, 10)
        XCTAssertEqual(r[2].meanScores.first?.scored, 1)
        // r1b w → r2b c fixed; r1a → r2a unknown
        XCTAssertEqual([r[2].withParent, r[2].fixed, r[2].broken, r[2].unknownPairs], [2, 1, 0, 1])
        // After each round, every first attempt as it stands: after 2, p1 {r2a unknown, r2b c}
        // → 1/1, p2 {r1c w, r1d c} (no round-2 rewrites) → 1/2; mean 0.75.
        assertClose(r[0].accuracyAfter, 0.5)
        assertClose(r[1].accuracyAfter, 0.5)
        assertClose(r[2].accuracyAfter, 0.75)
    }

    func testAccuracyAfterARoundCountsAcceptedAttemptsAsTheyStood() {
        // a0 right and accepted (no rewrite); b0 wrong → b1 right; c0 wrong → c1 wrong.
        var input = MetricsInput(problems: [problem("p")])
        input.solutions = [solution("a0", "p", true), solution("b0", "p", false), solution("c0", "p", false),
                           solution("b1", "p", true, round: 1, parent: "b0", origin: .refined),
                           solution("c1", "p", false, round: 1, parent: "c0", origin: .refined)]
        let r = Metrics.report(input).rounds
        assertClose(r[0].accuracy, 1.0 / 3)
        assertClose(r[1].accuracy, 0.5, "the rewrites alone")
        assertClose(r[1].accuracyAfter, 2.0 / 3, "a0 as it stood, b1, c1")
        XCTAssertTrue(Metrics.report(input).renderTable().contains("acc. after"))
    }

    func testAccuracyOfAChosenRound() {
        let report = Metrics.report(refinementSession(), options: MetricsOptions(round: 1))
        XCTAssertEqual(report.accuracy.round, 1)
        assertClose(report.accuracy.value, 0.5)
        XCTAssertEqual(report.accuracy.samples, 4)
        // per generator: sampled = round 0 (0.5); refined = rounds 1–2 together:
        // p1 {r1a c, r1b w, r2b c} 2/3, p2 {r1c w, r1d c} 1/2 → (2/3 + 1/2)/2 = 7/12
        let g = report.generators
        XCTAssertEqual(g.map(\.generator), ["refined", "sampled"])
        assertClose(g[0].value, 7.0 / 12)
        XCTAssertEqual(g[0].unknownCorrectness, 1)
        assertClose(g[1].value, 0.5)
    }

    func testEmptySessionHasNoFiguresAndNoCrash() throws {
        let report = Metrics.report(MetricsInput())
        XCTAssertNil(report.accuracy.value)
        XCTAssertEqual(report.accuracy.problems, 0)
        XCTAssertTrue(report.verifiers.isEmpty)
        XCTAssertTrue(report.rounds.isEmpty)
        XCTAssertEqual(report.passAtK.map(\.value), [nil, nil, nil, nil])
        XCTAssertNil(report.labelAgreement.rate)
        let table = report.renderTable()
        XCTAssertTrue(table.contains("Accuracy J(f), round 0: – over 0 problems"), table)
    }
}
