import Reasoning
import XCTest
@testable import Verification

final class MetricsTournamentTests: MetricsTestCase {
    /// Brackets (c = correct, w = wrong, ? = unknown):
    ///   round 0, blind
    ///     q1  a c, b w, c w, d c   level 0: (a,b)→a, (c,d)→c; level 1: (a,c)→c      winner c: wrong
    ///     q2  e c, f w, f2 w        level 0: (e,f)→e and (f,e)→e                     winner e: right
    ///     q3  g w, h c              level 0: (g,h)→g and (h,g)→h                     disagree: undecided
    ///     q4  i c, j w              level 0: (i,j)→unreadable                         undecided
    ///     q5  k ?, l c              level 0: (k,l)→k                                  winner ungraded
    ///     q6  o c, p w, r w, s c   level 0 only: (o,p)→o, (r,s)→r  (unfinished)      undecided
    ///   round 1, blind: q1  m c, n w   (m,n)→m                                        winner m: right
    ///   round 0, informed: q1  (a,d)→a                                                winner a: right
    func tournamentSession() -> MetricsInput {
        var input = MetricsInput(problems: ["q1", "q2", "q3", "q4", "q5", "q6"].map(problem))
        let rows: [(String, String, Bool?, Int)] = [
            ("a", "q1", true, 0), ("b", "q1", false, 0), ("c", "q1", false, 0), ("d", "q1", true, 0),
            ("e", "q2", true, 0), ("f", "q2", false, 0), ("f2", "q2", false, 0),
            ("g", "q3", false, 0), ("h", "q3", true, 0), ("i", "q4", true, 0), ("j", "q4", false, 0),
            ("k", "q5", nil, 0), ("l", "q5", true, 0), ("m", "q1", true, 1), ("n", "q1", false, 1),
            ("o", "q6", true, 0), ("p", "q6", false, 0), ("r", "q6", false, 0), ("s", "q6", true, 0),
        ]
        input.solutions = rows.map { solution($0.0, $0.1, $0.2, round: $0.3) }
        func vs(_ p: String, _ first: String, _ second: String, _ winner: String?, level: Int = 0,
                round: Int = 0, informed: Bool = false) -> Comparison {
            Comparison(problemID: p, round: round, level: level, first: first, second: second, winner: winner,
                       informed: informed)
        }
        input.comparisons = [
            vs("q1", "a", "b", "a"), vs("q1", "c", "d", "c"), vs("q1", "a", "c", "c", level: 1),
            vs("q2", "e", "f", "e"), vs("q2", "f", "e", "e"),
            vs("q3", "g", "h", "g"), vs("q3", "h", "g", "h"),
            vs("q4", "i", "j", nil),
            vs("q5", "k", "l", "k"),
            vs("q6", "o", "p", "o"), vs("q6", "r", "s", "r"),
            vs("q1", "m", "n", "m", round: 1),
            vs("q1", "a", "d", "a", informed: true),
        ]
        return input
    }

    func testWinnerAccuracyPerRound() {
        let report = Metrics.report(tournamentSession())
        let t = report.tournaments
        XCTAssertEqual(t.map { "\($0.informed)/\($0.round)" }, ["false/0", "false/1", "true/0"])
        // blind round 0: 6 problems; undecided q3, q4, q6; ungraded q5; decided q1 (wrong), q2 (right) → 1/2
        XCTAssertEqual([t[0].problems, t[0].undecided, t[0].winnerUngraded, t[0].decided, t[0].winnersCorrect], [6, 3, 1, 2, 1])
        assertClose(t[0].winnerAccuracy, 0.5)
        // baseline J over q1 (2/4) and q2 (1/3) = 5/12; gap = 1/2 − 5/12 = 1/12
        assertClose(t[0].baseline, 5.0 / 12)
        assertClose(t[0].gap, 1.0 / 12)
        // blind round 1: q1 winner m right → 1; baseline q1 round 1 = 1/2
        assertClose(t[1].winnerAccuracy, 1)
        assertClose(t[1].baseline, 0.5)
        // informed round 0: q1 winner a right → 1
        assertClose(t[2].winnerAccuracy, 1)
        XCTAssertTrue(report.notes.contains(
            "tournament/blind round 0: 3 problems undecided (final comparisons unreadable or disagreeing); excluded"))
    }

    func testPositionBiasOnPairsShownInBothOrders() throws {
        let bias = Metrics.report(tournamentSession()).positionBias
        XCTAssertEqual(bias.map(\.informed), [false, true])
        // blind pairs in both orders: q2 (e,f): e first won, f first lost → 1 of 2;
        // q3 (g,h): g first won, h first won → 2 of 2. Together 3 of 4; only q2 consistent.
        XCTAssertEqual([bias[0].pairs, bias[0].comparisons, bias[0].firstShownWins, bias[0].consistentPairs], [2, 4, 3, 1])
        assertClose(bias[0].firstShownWinRate, 0.75)
        // informed: one order only → no pairs, no rate
        XCTAssertEqual(bias[1].pairs, 0)
        XCTAssertNil(bias[1].firstShownWinRate)
    }
}
