import Foundation
import Reasoning
import XCTest
@testable import Verification

/// Localisation and rejection figures on real labelled solutions: BIG-Bench-Mistake's
/// multistep arithmetic traces, judged by a synthetic step critique whose predictions are known,
/// checked against a direct count done here.
final class MetricsBigBenchMistakeTests: MetricsTestCase {
    struct Record: Decodable {
        var input: String
        var steps: [String]
        var answer: String?
        var target: String
        var mistake_index: Int?
    }

    static let file = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/datasets/big-bench-mistake/multistep_arithmetic.jsonl")
        .standardizedFileURL

    func records() throws -> [Record] {
        let text = try String(contentsOf: Self.file, encoding: .utf8)
        return try text.split(separator: "\n").enumerated().map { line, json in
            do {
                return try JSONDecoder().decode(Record.self, from: Data(json.utf8))
            } catch {
                throw NSError(domain: "test", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(Self.file.path):\(line + 1): \(error)"])
            }
        }
    }

    /// The synthetic verifier: on two lines in three it names the labelled step (or none); on
    /// every third line it is off by one: the step after the labelled one, or step 0 when the
    /// label is "no error".
    func predicted(line: Int, label: Int?) -> Int? {
        if line % 3 != 0 { return label }
        return label.map { $0 + 1 } ?? 0
    }

    func testLocalisationOnMultistepArithmetic() throws {
        let records = try records()
        XCTAssertEqual(records.count, 300)
        var input = MetricsInput()
        let t = Date(timeIntervalSince1970: 0)
        for (n, r) in records.enumerated() {
            let id = "bbm-\(n)"
            input.problems.append(Problem(id: id, source: "big-bench-mistake", text: r.input,
                                          referenceAnswer: r.target, kind: .freeform))
            let correct = r.answer.map { $0 == r.target }
            input.solutions.append(Solution(
                id: "\(id)-s", problemID: id, text: r.steps.joined(separator: "\n"),
                steps: r.steps.enumerated().map { Step(index: $0, text: $1) },
                grade: Grade(strictAnswer: r.answer, strictCorrect: correct), origin: .imported(generator: "palm-2")))
            // the label as annotations: steps before the mistake +1, the mistake −1 and first error;
            // no mistake: every step +1
            let rated = r.mistake_index.map { 0..<($0 + 1) } ?? 0..<r.steps.count
            for step in rated {
                let wrong = step == r.mistake_index
                input.annotations.append(Annotation(solutionID: "\(id)-s", stepIndex: step, rating: wrong ? .bad : .good,
                                                    firstError: wrong, time: t, source: "big-bench-mistake"))
            }
            let p = predicted(line: n, label: r.mistake_index)
            input.critiques.append(Critique(id: "\(id)-c", solutionID: "\(id)-s", verifier: .critique,
                                            score: p == nil ? 1 : 0, verdict: p == nil ? .correct : .incorrect,
                                            firstErrorStep: p))
        }

        // Direct count over the records.
        var exact = 0, erroneous = 0, erroneousHits = 0, clean = 0, cleanHits = 0
        var tp = 0, fp = 0, fn = 0, tn = 0
        for (n, r) in records.enumerated() {
            let p = predicted(line: n, label: r.mistake_index)
            if p == r.mistake_index { exact += 1 }
            if let m = r.mistake_index {
                erroneous += 1
                if p == m { erroneousHits += 1 }
            } else {
                clean += 1
                if p == nil { cleanHits += 1 }
            }
            let rejects = p != nil, wrongAnswer = r.answer != r.target
            switch (rejects, wrongAnswer) {
            case (true, true): tp += 1
            case (true, false): fp += 1
            case (false, true): fn += 1
            case (false, false): tn += 1
            }
        }
        XCTAssertEqual(erroneous + clean, 300)
        XCTAssertGreaterThan(erroneousHits, 0)
        XCTAssertLessThan(erroneousHits, erroneous)
        let a = Double(erroneousHits) / Double(erroneous), b = Double(cleanHits) / Double(clean)

        let report = Metrics.report(input, options: MetricsOptions(labelSource: "big-bench-mistake"))
        let v = try XCTUnwrap(report.verifiers.first { $0.verifier == Self.critiqueBlind })
        let l = try XCTUnwrap(v.localisation)
        XCTAssertEqual(l.solutions, 300)
        XCTAssertEqual(l.exactMatches, exact)
        XCTAssertEqual(l.erroneous, erroneous)
        XCTAssertEqual(l.correct, clean)
        assertClose(l.exactMatchRate, Double(exact) / 300)
        assertClose(l.f1, 2 * a * b / (a + b))
        XCTAssertEqual([v.confusion.truePositives, v.confusion.falsePositives, v.confusion.falseNegatives,
                        v.confusion.trueNegatives], [tp, fp, fn, tn])

        let source = try XCTUnwrap(report.counts.sources.first)
        XCTAssertEqual(source.source, "big-bench-mistake")
        XCTAssertEqual(source.labelledSolutions, 300)
        XCTAssertEqual(source.labelledFirstErrors, erroneous)
        // With human labels asked for, nothing is labelled.
        let human = Metrics.report(input).verifiers.first?.localisation
        XCTAssertEqual(human?.solutions, 0)
        XCTAssertNil(human?.f1)
    }
}
