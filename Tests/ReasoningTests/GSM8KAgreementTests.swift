import Foundation
import XCTest
@testable import Reasoning

/// The acceptance number: our grader against the dataset's own `is_correct` on the 5,276 real
/// model solutions of GSM8K's example_model_solutions.jsonl.
final class GSM8KAgreementTests: XCTestCase {
    func testGraderAgreesWithIsCorrectOnExampleSolutions() throws {
        let data = try Data(contentsOf: TestPaths.gsm8kSolutions)
        var total = 0, agree = 0
        var disagreements: [String] = []
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let truth = try XCTUnwrap(record["ground_truth"] as? String)
            let reference = try XCTUnwrap(GSM8KAnswer.reference(fromSolution: truth))
            for (system, value) in record.sorted(by: { $0.key < $1.key }) {
                guard let entry = value as? [String: Any], let text = entry["solution"] as? String,
                      let isCorrect = entry["is_correct"] as? Bool else { continue }
                let grade = GSM8KAnswer.grade(text: text, reference: reference)
                total += 1
                if grade.correct == isCorrect {
                    agree += 1
                } else {
                    disagreements.append("line \(n + 1) \(system): ours \(grade.answer ?? "nil") ref \(reference) is_correct \(isCorrect) | \(text.split(separator: "\n").last ?? "")")
                }
            }
        }
        let rate = Double(agree) / Double(total)
        print("GSM8K example solutions: \(agree)/\(total) agree (\(String(format: "%.4f", rate)))")
        for d in disagreements { print("  disagree: \(d)") }
        XCTAssertEqual(total, 5276)
        XCTAssertGreaterThanOrEqual(rate, 0.99)
    }
}
