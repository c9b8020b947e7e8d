import Foundation
import XCTest
@testable import Reasoning

/// Every reader against broken input: truncated JSON, wrong types, missing fields, invalid
/// UTF-8, an empty file, a 10 MB line, a blank line. Each must give a one-line error naming the
/// file and line (and field where there is one), keep the good records, and never crash.
final class DatasetMalformedInputTests: XCTestCase {
    /// One format's test material: a valid record maker and two broken variants.
    struct Case {
        var format: DatasetFormat
        var fileName: String
        /// A valid record, compact JSON on one line; `i` makes it distinct.
        var record: (Int) -> [String: Any]
        /// A record with a field of the wrong type, and that field's path.
        var wrongType: (record: [String: Any], field: String)
        var missing: (record: [String: Any], field: String)
        /// Puts a long text into a valid record.
        var withText: (String) -> [String: Any]

        var isArray: Bool { format == .processbench }

        /// The file holding these records, one per line; for an array the elements start on
        /// line 2, so element k is on line k + 2.
        func file(_ records: [[String: Any]], separator: String = "\n") -> Data {
            let lines = records.map { json($0) }
            if isArray { return Data(("[\n" + lines.joined(separator: "," + separator) + "\n]\n").utf8) }
            return Data((lines.joined(separator: separator) + "\n").utf8)
        }

        /// The line the middle one of three records is on.
        var middleLine: Int { isArray ? 3 : 2 }
    }

    static func json(_ o: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
    }
    func json(_ o: [String: Any]) -> String { Self.json(o) }

    static var cases: [Case] { [
        Case(format: .gsm8k, fileName: "gsm8k_bad.jsonl",
             record: { ["question": "Q\($0)", "answer": "1+1=<<1+1=2>>2\n#### 2"] },
             wrongType: (["question": "Q", "answer": 5], "answer"),
             missing: (["answer": "#### 2"], "question"),
             withText: { ["question": $0, "answer": "#### 2"] }),
        Case(format: .math, fileName: "math_bad.jsonl",
             record: { ["problem": "P\($0)", "solution": "so \\boxed{3}", "level": "Level 1"] },
             wrongType: (["problem": ["P"], "solution": "\\boxed{3}"], "problem"),
             missing: (["problem": "P"], "solution"),
             withText: { ["problem": $0, "solution": "\\boxed{3}"] }),
        Case(format: .gsm8kSolutions, fileName: "solutions_bad.jsonl",
             record: { ["question": "Q\($0)", "ground_truth": "2+2=4\nA: 4",
                        "sysA": ["is_correct": true, "solution": "2+2=4\nA: 4"]] },
             wrongType: (["question": "Q", "ground_truth": "A: 4", "sysA": ["is_correct": "yes", "solution": "A: 4"]],
                         "sysA.is_correct"),
             missing: (["question": "Q", "sysA": ["is_correct": true, "solution": "A: 4"]], "ground_truth"),
             withText: { ["question": $0, "ground_truth": "A: 4", "sysA": ["is_correct": false, "solution": "A: 3"]] }),
        Case(format: .bigBenchMistake, fileName: "multistep_bad.jsonl",
             record: { ["input": "I\($0)", "steps": ["a", "So the answer is 3"], "answer": "3", "target": "3",
                        "mistake_index": NSNull()] },
             wrongType: (["input": "I", "steps": [1, 2], "answer": "3", "target": "3", "mistake_index": 0], "steps[0]"),
             missing: (["input": "I", "steps": ["a"], "answer": "3", "mistake_index": 0], "target"),
             withText: { ["input": $0, "steps": ["a"], "answer": "3", "target": "3", "mistake_index": 0] }),
        Case(format: .processbench, fileName: "processbench_bad.json",
             record: { ["id": "x-\($0)", "generator": "g", "problem": "P", "steps": ["s1", "\\boxed{2}"],
                        "final_answer_correct": true, "label": -1] },
             wrongType: (["id": "y", "generator": "g", "problem": "P", "steps": ["s"], "final_answer_correct": true,
                          "label": "1"], "label"),
             missing: (["id": "y", "generator": "g", "problem": "P", "steps": ["s"], "label": 0], "final_answer_correct"),
             withText: { ["id": "big", "generator": "g", "problem": $0, "steps": ["s"], "final_answer_correct": true,
                          "label": -1] }),
        Case(format: .prm800k, fileName: "prm800k_bad.jsonl",
             record: { ["question": ["problem": "P\($0)", "ground_truth_answer": "3"],
                        "label": ["steps": [["completions": [["text": "# Answer\n\n3", "rating": 1]], "chosen_completion": 0]],
                                  "finish_reason": "solution"]] },
             wrongType: (["question": ["problem": "P", "ground_truth_answer": "3"],
                          "label": ["steps": [["completions": [["text": "x", "rating": "good"]], "chosen_completion": 0]],
                                    "finish_reason": "solution"]], "label.steps[0].completions[0].rating"),
             missing: (["question": ["problem": "P", "ground_truth_answer": "3"],
                        "label": ["steps": [["completions": [["text": "x", "rating": 1]], "chosen_completion": 0]]]],
                       "label.finish_reason"),
             withText: { ["question": ["problem": $0, "ground_truth_answer": "3"],
                          "label": ["steps": [["completions": [["text": "x", "rating": 1]], "chosen_completion": 0]],
                                    "finish_reason": "solution"]] }),
    ] }

    func read(_ c: Case, _ data: Data, strict: Bool = false) throws -> ImportedDataset {
        try DatasetReader.read(format: c.format, data: data, fileName: c.fileName, strict: strict)
    }

    /// The issue must be one line naming the file and the line.
    func assertNames(_ issue: DatasetIssue, _ c: Case, line: Int, field: String? = nil, containing text: String,
                     file: StaticString = #filePath, lineNumber: UInt = #line) {
        let d = issue.description
        XCTAssertTrue(d.hasPrefix("\(c.fileName):\(line):"), "\(c.format): \(d)", file: file, line: lineNumber)
        XCTAssertFalse(d.contains("\n"), "\(c.format): \(d)", file: file, line: lineNumber)
        XCTAssertLessThan(d.count, 400, "\(c.format)", file: file, line: lineNumber)
        XCTAssertTrue(d.contains(text), "\(c.format): '\(d)' lacks '\(text)'", file: file, line: lineNumber)
        if let field {
            XCTAssertEqual(issue.field, field, "\(c.format): \(d)", file: file, line: lineNumber)
            XCTAssertTrue(d.contains("'\(field)'"), "\(c.format): \(d)", file: file, line: lineNumber)
        }
    }

    func strictError(_ c: Case, _ data: Data) -> DatasetIssue? {
        do {
            _ = try read(c, data, strict: true)
            XCTFail("\(c.format): strict reading should throw")
            return nil
        } catch let issue as DatasetIssue {
            return issue
        } catch {
            XCTFail("\(c.format): unexpected error type \(error)")
            return nil
        }
    }

    func testValidFilesRead() throws {
        for c in Self.cases {
            let d = try read(c, c.file([c.record(0), c.record(1), c.record(2)]), strict: true)
            XCTAssertEqual(d.problems.count, 3, "\(c.format)")
            XCTAssertEqual(d.issues, [], "\(c.format)")
        }
    }

    func testEmptyFile() {
        for c in Self.cases {
            for empty in ["", "\n", "  \n\n"] {
                XCTAssertThrowsError(try read(c, Data(empty.utf8))) { error in
                    guard let issue = error as? DatasetIssue else { return XCTFail("\(error)") }
                    assertNames(issue, c, line: 1, containing: "empty")
                }
            }
        }
    }

    func testTruncatedJSON() throws {
        for c in Self.cases {
            let records = [c.record(0), c.record(1), c.record(2)]
            if c.isArray {
                // The file stops in the middle of the second element.
                let full = String(decoding: c.file(records), as: UTF8.self)
                let cut = full.range(of: json(records[1]))!.lowerBound
                let data = Data(full[..<full.index(cut, offsetBy: 20)].utf8)
                let d = try read(c, data)
                XCTAssertEqual(d.problems.count, 1, "\(c.format)")
                XCTAssertEqual(d.issues.count, 1, "\(c.format)")
                assertNames(d.issues[0], c, line: 3, containing: "truncated")
                if let e = strictError(c, data) { assertNames(e, c, line: 3, containing: "truncated") }
            } else {
                let middle = json(records[1])
                let lines = [json(records[0]), String(middle.prefix(middle.count / 2)), json(records[2])]
                let data = Data(lines.joined(separator: "\n").utf8)
                let d = try read(c, data)
                XCTAssertEqual(d.problems.count, 2, "\(c.format)")
                XCTAssertEqual(d.issues.count, 1, "\(c.format)")
                assertNames(d.issues[0], c, line: 2, containing: "not valid JSON")
                if let e = strictError(c, data) { assertNames(e, c, line: 2, containing: "not valid JSON") }
                // A file cut in its last line, with no line break after it.
                let tail = Data((json(records[0]) + "\n" + String(middle.prefix(10))).utf8)
                let t = try read(c, tail)
                XCTAssertEqual(t.problems.count, 1, "\(c.format)")
                assertNames(t.issues[0], c, line: 2, containing: "not valid JSON")
            }
        }
    }

    func testWrongTypesAndMissingFields() throws {
        for c in Self.cases {
            for (bad, field, text) in [(c.wrongType.record, c.wrongType.field, "expected"),
                                       (c.missing.record, c.missing.field, "missing")] {
                let data = c.file([c.record(0), bad, c.record(2)])
                let d = try read(c, data)
                XCTAssertEqual(d.problems.count, 2, "\(c.format) \(field)")
                XCTAssertEqual(d.issues.count, 1, "\(c.format) \(field)")
                if let issue = d.issues.first { assertNames(issue, c, line: c.middleLine, field: field, containing: text) }
                if let e = strictError(c, data) { assertNames(e, c, line: c.middleLine, field: field, containing: text) }
                // A bad record leaves nothing behind: no solution or label of line 2's record.
                let goodSolutions = try read(c, c.file([c.record(0), c.record(2)])).solutions.count
                XCTAssertEqual(d.solutions.count, goodSolutions, "\(c.format)")
            }
            // Not an object at all.
            let d = try read(c, c.file([c.record(0)]) + Data("[1, 2]\n".utf8))
            if !c.isArray {
                assertNames(d.issues[0], c, line: 2, containing: "expected a JSON object")
            }
        }
    }

    func testInvalidUTF8() throws {
        for c in Self.cases {
            var data = c.file([c.record(0), c.record(1), c.record(2)])
            // Break a string inside the middle record: "I1" → "I\u{FF}\u{FE}1" as raw bytes.
            let marker = Array(json(c.record(1)).utf8)
            let bytes = Array(data)
            guard let at = bytes.firstRange(of: marker) else { return XCTFail("\(c.format)") }
            var broken = bytes
            broken.insert(contentsOf: [0xFF, 0xFE], at: at.lowerBound + marker.count - 3)
            data = Data(broken)
            let d = try read(c, data)
            XCTAssertEqual(d.problems.count, 2, "\(c.format)")
            XCTAssertEqual(d.issues.count, 1, "\(c.format)")
            if let issue = d.issues.first { assertNames(issue, c, line: c.middleLine, containing: "invalid UTF-8") }
        }
    }

    func testTenMegabyteLine() throws {
        let big = String(repeating: "All work and no play. ", count: 10_000_000 / 22 + 1)
        XCTAssertGreaterThanOrEqual(big.utf8.count, 10_000_000)
        for c in Self.cases {
            // A valid record with a 10 MB field is read in full. (The record is serialised with a
            // placeholder that is then swapped for the text: serialising 10 MB is slow.)
            let parts = String(decoding: c.file([c.record(0), c.withText("@@BIG@@")]), as: UTF8.self)
                .components(separatedBy: "@@BIG@@")
            XCTAssertEqual(parts.count, 2)
            let d = try read(c, Data((parts[0] + big + parts[1]).utf8), strict: true)
            XCTAssertEqual(d.problems.count, 2, "\(c.format)")
            XCTAssertTrue(d.problems.contains { $0.text.utf8.count >= 10_000_000 }
                          || d.solutions.contains { $0.text.utf8.count >= 10_000_000 }, "\(c.format)")
            // A 10 MB line of junk is reported briefly, not echoed.
            let junk = "{\"\(c.isArray ? "id" : "question")\": \"" + big   // never closed
            let data = c.isArray ? Data(("[\n" + json(c.record(0)) + ",\n" + junk).utf8)
                                 : Data((json(c.record(0)) + "\n" + junk + "\n").utf8)
            let r = try read(c, data)
            XCTAssertEqual(r.problems.count, 1, "\(c.format)")
            XCTAssertEqual(r.issues.count, 1, "\(c.format)")
            if let issue = r.issues.first { assertNames(issue, c, line: c.isArray ? 3 : 2, containing: c.isArray ? "truncated" : "not valid JSON") }
            // Alone in its file, the junk line is an error.
            XCTAssertThrowsError(try read(c, Data((c.isArray ? "[\n" + junk : junk).utf8))) { error in
                XCTAssertLessThan("\(error)".count, 400)
                XCTAssertTrue("\(error)".hasPrefix(c.fileName + ":"), "\(error)")
            }
        }
    }

    func testBlankLine() throws {
        for c in Self.cases {
            let data = c.file([c.record(0), c.record(1)], separator: "\n\n")
            let d = try read(c, data)
            XCTAssertEqual(d.problems.count, 2, "\(c.format)")
            if c.isArray {
                // Blank lines inside a JSON array are only white space.
                XCTAssertEqual(d.issues, [], "\(c.format)")
            } else {
                XCTAssertEqual(d.issues.count, 1, "\(c.format)")
                if let issue = d.issues.first { assertNames(issue, c, line: 2, containing: "blank line") }
                if let e = strictError(c, data) { assertNames(e, c, line: 2, containing: "blank line") }
            }
        }
    }

    func testEitherShapeIsRead() throws {
        for c in Self.cases {
            let records = [c.record(0), c.record(1)]
            let lines = Data((records.map { json($0) }.joined(separator: "\n") + "\n").utf8)
            let array = Data(("[" + records.map { json($0) }.joined(separator: ",\n") + "]").utf8)
            let fromLines = try read(c, lines, strict: true)
            let fromArray = try read(c, array, strict: true)
            XCTAssertEqual(fromLines.problems.count, 2, "\(c.format)")
            // The same records get the same ids in either shape.
            XCTAssertEqual(fromLines.problems.map(\.id), fromArray.problems.map(\.id), "\(c.format)")
            XCTAssertEqual(fromLines.solutions.map(\.id), fromArray.solutions.map(\.id), "\(c.format)")
            // A byte-order mark and Windows line ends are accepted.
            let windows = Data([0xEF, 0xBB, 0xBF]) + Data((records.map { json($0) }.joined(separator: "\r\n") + "\r\n").utf8)
            XCTAssertEqual(try read(c, windows, strict: true).problems.map(\.id), fromLines.problems.map(\.id), "\(c.format)")
            XCTAssertEqual(try read(c, Data([0xEF, 0xBB, 0xBF]) + array, strict: true).problems.count, 2, "\(c.format)")
            XCTAssertThrowsError(try read(c, Data("[]".utf8))) { XCTAssertTrue("\($0)".contains("no records"), "\($0)") }
            // Trailing text after an array is reported, and the records are kept.
            let d = try read(c, array + Data("\n{\"x\": 1}".utf8))
            XCTAssertEqual(d.problems.count, 2, "\(c.format)")
            XCTAssertEqual(d.issues.count, 1, "\(c.format)")
        }
    }

    func testLabelsOutOfRange() throws {
        let bbm = Self.cases[3], pb = Self.cases[4]
        var record = bbm.record(1)
        record["mistake_index"] = 7
        let d = try read(bbm, bbm.file([bbm.record(0), record]))
        assertNames(d.issues[0], bbm, line: 2, field: "mistake_index", containing: "not a step")
        var pbRecord = pb.record(1)
        pbRecord["label"] = 2
        let p = try read(pb, pb.file([pb.record(0), pbRecord]))
        assertNames(p.issues[0], pb, line: 3, field: "label", containing: "neither -1 nor a step")
        var chosen = Self.cases[5].record(1)
        chosen["label"] = ["steps": [["completions": [["text": "x", "rating": 1]], "chosen_completion": 3]],
                           "finish_reason": "solution"]
        let q = try read(Self.cases[5], Self.cases[5].file([Self.cases[5].record(0), chosen]))
        assertNames(q.issues[0], Self.cases[5], line: 2, field: "label.steps[0].chosen_completion", containing: "not one of")
    }
}
