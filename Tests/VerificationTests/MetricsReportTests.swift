import Foundation
import Journal
import Reasoning
import XCTest
@testable import Verification

final class MetricsReportTests: MetricsTestCase {
    func testJSONRoundTripsAndLeavesOutUndefinedFigures() throws {
        var input = sessionA()
        input.comparisons = [Comparison(problemID: "p1", round: 0, level: 0, first: "s1", second: "s3", winner: "s1")]
        let report = Metrics.report(input, options: MetricsOptions(ks: [1, 8]))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(report)
        let decoded = try JSONDecoder().decode(Report.self, from: data)
        XCTAssertEqual(decoded, report)
        let text = String(decoding: data, as: UTF8.self)
        // pass@8 has no value: the key is left out (never NaN, which JSON cannot carry)
        XCTAssertTrue(text.contains(#"{"excludedTooFewSamples":5,"k":8,"problems":0}"#), text)
        XCTAssertTrue(text.contains(#"{"excludedTooFewSamples":0,"k":1,"problems":5,"value":0.6666666666666666}"#), text)
        XCTAssertTrue(text.contains(#""verifier":"mc\/blind""#))
    }

    func testReplayedJournalGivesTheSameReport() {
        // Session A as journal events, with one extra mc critique of s3 arriving later (0.1,
        // replacing 0.7) and an annotation added then removed.
        let direct = sessionA()
        var events: [SessionEvent] = direct.problems.map { .problemLoaded($0) }
        events += direct.solutions.map { .solutionAdded($0) }
        events += direct.critiques.map { .critiqueFinished($0) }
        var later = critique("s3", .mc, 0.1)
        later.id = "s3-mc-rerun"
        events.append(.critiqueFinished(later))
        let mark = Annotation(solutionID: "s3", stepIndex: 0, firstError: true, time: Date(timeIntervalSince1970: 0))
        events.append(.annotationAdded(mark))
        events.append(.annotationRemoved(solutionID: "s3", stepIndex: 0, source: Annotation.human, time: mark.time))
        let state = SessionState(header: JournalHeader(), events: events)
        let replayed = Metrics.report(MetricsInput(session: state))

        var expectedInput = direct
        expectedInput.critiques.removeAll { $0.solutionID == "ghost" }   // a journal keeps no orphan
        expectedInput.critiques.append(later)
        let expected = Metrics.report(expectedInput)
        XCTAssertEqual(replayed, expected)
        XCTAssertEqual(replayed.counts.replacedCritiques, 1)
        XCTAssertEqual(replayed.counts.annotations, 0)
        // s3 (wrong) is now rejected by mc: p1 keeps {s1, s2}, both right
        // J(filtered) = (1 + 1 + 1/2)/3 = 5/6 over p1, p3, p4; J(f) = 2/3; gap = 1/6
        assertClose(replayed.verifiers.first { $0.verifier == Self.mcBlind }?.thresholdGap.gap, 1.0 / 6)
    }

    func testRenderedJSONIsReadableAndDecodes() throws {
        let report = Metrics.report(sessionA())
        let json = try report.renderJSON()
        XCTAssertTrue(json.contains(#""verifier" : "mc/blind""#), json)
        XCTAssertTrue(json.contains(#""keptNothing" : 1"#))
        XCTAssertEqual(try JSONDecoder().decode(Report.self, from: Data(json.utf8)), report)
        // a non-finite threshold cannot be written as JSON: an error, not a crash
        let odd = Metrics.report(sessionA(), options: MetricsOptions(thresholds: [Self.mcBlind: .infinity]))
        XCTAssertThrowsError(try odd.renderJSON())
    }

    func testTableIsAlignedAndSaysWhatWasExcluded() {
        var input = sessionA()
        input.solutions += [solution("r1", "p1", true, round: 1, parent: "s3", origin: .refined)]
        let table = Metrics.report(input).renderTable()
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The gap section: header plus one τ row and one top-1 row per verifier, plus the ensemble.
        guard let header = lines.firstIndex(where: { $0.hasPrefix("  verifier") && $0.contains("J(filtered)") }) else {
            return XCTFail(table)
        }
        let section = Array(lines[header...header + 5])
        // J(f) 2/3, J(filtered) 13/18, gap 1/18, relative gap 1/6 (see MetricsGapTests)
        XCTAssertEqual(section[1], "  mc/blind                        τ=0.5       13     7         4             1  0.667        0.722  +0.056    +0.167      1", table)
        // right-aligned columns: every row ends at the same column
        XCTAssertEqual(Set(section.map(\.count)).count, 1, section.joined(separator: "\n"))
        XCTAssertTrue(section[5].hasPrefix("  mc/blind AND cot-binary/blind  τ each"), section[5])
        XCTAssertTrue(table.contains("Accuracy J(f), round 0: 0.667 over 5 problems (8/14 graded samples correct, 1 of unknown correctness excluded)"), table)
        XCTAssertTrue(table.contains("  - mc/blind τ=0.5: 1 problem kept nothing; excluded"))
        XCTAssertTrue(table.contains("  - round 0: 1 solution of unknown correctness excluded"))
        XCTAssertTrue(table.contains("1 critique of an unknown solution ignored; 0 replaced by a later critique"), table)
        // the refinement round shows its fix (s3 wrong → r1 right) and no scores; after it, p1's
        // four attempts stand at 3/4 right instead of 2/4, so the mean over 5 problems gains 0.05
        XCTAssertTrue(lines.contains("  1             1        1     1.000              –                      –       0.717            1      1       0             0             0"), table)
    }

    func testNumberFormatting() {
        XCTAssertEqual(Report.rate(2.0 / 3), "0.667")
        XCTAssertEqual(Report.rate(1), "1.000")
        XCTAssertEqual(Report.rate(nil), "–")
        XCTAssertEqual(Report.rate(.nan), "–")
        XCTAssertEqual(Report.signed(-1.0 / 12), "-0.083")
        XCTAssertEqual(Report.signed(1.0 / 18), "+0.056")
        XCTAssertEqual(Report.signed(-0.0001), "0.000")
        XCTAssertEqual(Report.fixed(0.0005), "0.001")
        XCTAssertEqual(Metrics.formatNumber(8), "8")
        XCTAssertEqual(Metrics.formatNumber(0.5), "0.5")
    }
}
