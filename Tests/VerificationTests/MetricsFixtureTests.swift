import Foundation
import Reasoning
import XCTest
@testable import Verification

/// The base of the metrics test cases: builders for small hand-made sessions. Kept as members
/// (not globals) so that nothing here can clash with other tests of the module.
class MetricsTestCase: XCTestCase {
    /// A solution whose grade says `correct` (nil = unknown correctness).
    func solution(_ id: String, _ problem: String, _ correct: Bool?, round: Int = 0, parent: String? = nil,
                  origin: Origin = .sampled, labelled: Bool? = nil, steps: Int = 0) -> Solution {
        let grade = correct.map { Grade(strictAnswer: $0 ? "right" : "wrong", strictCorrect: $0) } ?? Grade()
        return Solution(id: id, problemID: problem, round: round, parentID: parent, text: "",
                        steps: (0..<steps).map { Step(index: $0, text: "step \($0)") },
                        grade: grade, origin: origin, labelledCorrect: labelled)
    }

    /// A critique of `solutionID`; `parse` defaults to unparseable when there is neither score nor verdict.
    func critique(_ solutionID: String, _ kind: VerifierKind, _ score: Double?, informed: Bool = false,
                  step: Int? = nil, parse: ParseStatus? = nil, round: Int = 0) -> Critique {
        Critique(id: "\(solutionID)-\(kind.rawValue)-\(informed)", solutionID: solutionID, verifier: kind,
                 informed: informed, score: score, verdict: nil, firstErrorStep: step,
                 parse: parse ?? (score == nil ? .unparseable : .ok), round: round)
    }

    func problem(_ id: String) -> Problem {
        Problem(id: id, source: "hand-made", text: "problem \(id)", kind: .freeform)
    }

    /// Asserts an optional figure equals a hand-computed value.
    func assertClose(_ actual: Double?, _ expected: Double, _ message: String = "", accuracy: Double = 1e-12,
                     file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else { return XCTFail("nil, expected \(expected) \(message)", file: file, line: line) }
        XCTAssertEqual(actual, expected, accuracy: accuracy, message, file: file, line: line)
    }

    static let mcBlind = VerifierID(.mc)
    static let binaryBlind = VerifierID(.cotBinary)
    static let scoreBlind = VerifierID(.cotScore)
    static let critiqueBlind = VerifierID(.critique)
    static let critiqueInformed = VerifierID(.critique, informed: true)
}

final class MetricsFixtureTests: MetricsTestCase {
    func testVerifierNamesParseAndRoundTrip() throws {
        XCTAssertEqual(VerifierID(parsing: "mc"), VerifierID(.mc))
        XCTAssertEqual(VerifierID(parsing: "cot-score/informed"), VerifierID(.cotScore, informed: true))
        XCTAssertEqual(VerifierID(parsing: "critique+ref"), VerifierID(.critique, informed: true))
        XCTAssertEqual(VerifierID(parsing: "cot-binary/blind"), VerifierID(.cotBinary))
        XCTAssertNil(VerifierID(parsing: "oracle"))
        XCTAssertEqual(VerifierID(.cotScore, informed: true).description, "cot-score/informed")
        let ids = [VerifierID(.critique, informed: true), VerifierID(.mc, informed: true), VerifierID(.mc)]
        XCTAssertEqual(ids.sorted(), [VerifierID(.mc), VerifierID(.mc, informed: true), VerifierID(.critique, informed: true)])
        let data = try JSONEncoder().encode(ids)
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"["critique\/informed","mc\/informed","mc\/blind"]"#)
        XCTAssertEqual(try JSONDecoder().decode([VerifierID].self, from: data), ids)
        XCTAssertThrowsError(try JSONDecoder().decode([VerifierID].self, from: Data(#"["nope"]"#.utf8)))
    }

    func testThresholdResolution() {
        // Per-verifier entry > global τ > the kind's default.
        var options = MetricsOptions()
        XCTAssertEqual(options.threshold(for: Self.scoreBlind), 8)
        XCTAssertEqual(options.threshold(for: Self.mcBlind), 0.5)
        options.globalThreshold = 0.7
        XCTAssertEqual(options.threshold(for: Self.scoreBlind), 0.7)
        options.thresholds[Self.scoreBlind] = 6
        XCTAssertEqual(options.threshold(for: Self.scoreBlind), 6)
        XCTAssertEqual(options.threshold(for: VerifierID(.cotScore, informed: true)), 0.7)
    }
}
