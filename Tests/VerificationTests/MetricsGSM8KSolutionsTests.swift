import Foundation
import Reasoning
import XCTest
@testable import Verification

/// Per-system accuracy, agreement with the dataset's `is_correct`, J(f) and pass@k on GSM8K's
/// real example model solutions (1,319 problems × 4 systems), graded by the Reasoning grader and
/// checked against direct counts done here.
final class MetricsGSM8KSolutionsTests: MetricsTestCase {
    static let file = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/datasets/gsm8k/example_model_solutions.jsonl")
        .standardizedFileURL
    static let systems = ["6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"]

    func session() throws -> MetricsInput {
        let text = try String(contentsOf: Self.file, encoding: .utf8)
        var input = MetricsInput()
        for (n, line) in text.split(separator: "\n").enumerated() {
            let place = "\(Self.file.path):\(n + 1)"
            guard let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let question = record["question"] as? String,
                  let truth = record["ground_truth"] as? String else { throw CocoaError(.coderReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: place]) }
            let p = Problem(id: "gsm8k-\(n)", source: "gsm8k-solutions", text: question, referenceSolution: truth,
                            referenceAnswer: GSM8KAnswer.reference(fromSolution: truth), kind: .gsm8k)
            input.problems.append(p)
            for system in Self.systems {
                guard let s = record[system] as? [String: Any], let body = s["solution"] as? String,
                      let isCorrect = s["is_correct"] as? Bool else {
                    throw CocoaError(.coderReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "\(place): \(system)"])
                }
                input.solutions.append(Solution(id: "\(p.id)-\(system)", problemID: p.id, text: body, steps: [],
                                                grade: Grader.grade(text: body, problem: p),
                                                origin: .imported(generator: system), labelledCorrect: isCorrect))
            }
        }
        return input
    }

    func testPerSystemAccuracyAgreementAndPassAtK() throws {
        let input = try session()
        XCTAssertEqual(input.problems.count, 1319)
        XCTAssertEqual(input.solutions.count, 5276)
        let report = Metrics.report(input, options: MetricsOptions(ks: [1, 2, 4, 8]))

        // Per system: one solution per problem, so the problem mean is correct / graded.
        XCTAssertEqual(report.generators.map(\.generator), Self.systems.sorted())
        for g in report.generators {
            let mine = input.solutions.filter { $0.origin.generatorName == g.generator }
            let graded = mine.filter { $0.grade.correct != nil }
            let correct = graded.filter { $0.grade.correct == true }.count
            XCTAssertEqual(g.samples, graded.count)
            XCTAssertEqual(g.correct, correct)
            assertClose(g.value, Double(correct) / Double(graded.count), g.generator)
        }

        // Our grade against is_correct.
        let both = input.solutions.filter { $0.grade.correct != nil && $0.labelledCorrect != nil }
        let disagreeing = both.filter { $0.grade.correct != $0.labelledCorrect }.map(\.id).sorted()
        XCTAssertEqual(report.labelAgreement.compared, both.count)
        XCTAssertEqual(report.labelAgreement.disagreeing, disagreeing)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report.labelAgreement.rate), 0.99)

        // J(f), pass@2 and pass@4 by direct count over each problem's four graded samples.
        var j = 0.0, pass2 = 0.0, pass4 = 0.0, problems = 0
        let byProblem = Dictionary(grouping: input.solutions, by: \.problemID)
        for p in input.problems {
            let graded = (byProblem[p.id] ?? []).compactMap(\.grade.correct)
            guard graded.count == 4 else { continue }
            let c = graded.filter { $0 }.count
            problems += 1
            j += Double(c) / 4
            // pass@2 = 1 − C(4−c, 2)/C(4, 2); C(m, 2) = m(m−1)/2, C(4, 2) = 6
            pass2 += 1 - Double((4 - c) * (3 - c)) / 2 / 6
            // pass@4 = 1 − C(4−c, 4)/C(4, 4): 1 when any of the four is correct
            pass4 += c > 0 ? 1 : 0
        }
        XCTAssertEqual(report.accuracy.problems, problems)
        assertClose(report.accuracy.value, j / Double(problems))
        assertClose(report.passAtK[0].value, j / Double(problems))
        assertClose(report.passAtK[1].value, pass2 / Double(problems))
        assertClose(report.passAtK[2].value, pass4 / Double(problems))
        XCTAssertNil(report.passAtK[3].value)
        XCTAssertEqual(report.passAtK[3].excludedTooFewSamples, problems)
        XCTAssertTrue(report.renderTable().contains("175b_verification"))
    }
}
