import Foundation
import Reasoning
import XCTest
@testable import Verification

/// builtin:arith sessions need no hand labels for error localisation: the generator knows
/// each problem's steps, so the report scores a critique's named step against them.
final class ArithLabelsTests: XCTestCase {
    func testReportScoresCritiquesAgainstTheGeneratorsFirstWrongStep() throws {
        // Train problem 0: 5 * 13 = 65, 49 + 65 = 114.
        let problem = ArithTask.builtinSet(split: .train, count: 1).problems[0]
        func solution(_ id: String, _ text: String) -> Solution {
            Solution(id: id, problemID: problem.id, text: text, steps: StepSegmenter.segment(text),
                     grade: Grader.grade(text: text, problem: problem), origin: .sampled)
        }
        let right = solution("right", "5 * 13 = 65\n49 + 65 = 114\nThe answer is 114.")
        let wrongSecond = solution("wrong2", "5 * 13 = 65\n49 + 65 = 104\nThe answer is 104.")
        let wrongFirst = solution("wrong1", "5 * 13 = 75\n49 + 75 = 124\nThe answer is 124.")
        func critique(_ s: Solution, _ step: Int?, informed: Bool) -> Critique {
            Critique(id: "\(s.id)-\(informed)", solutionID: s.id, verifier: .critique, informed: informed,
                     score: step == nil ? 1 : 0, verdict: step == nil ? .correct : .incorrect, firstErrorStep: step)
        }
        let critiques = [
            critique(right, nil, informed: false), critique(wrongSecond, 0, informed: false), critique(wrongFirst, 0, informed: false),
            critique(right, nil, informed: true), critique(wrongSecond, 1, informed: true), critique(wrongFirst, 0, informed: true),
        ]
        let labels = MetricsInput.taskLabels(problems: [problem], solutions: [right, wrongSecond, wrongFirst])
        XCTAssertEqual(labels.filter { $0.solutionID == "right" }.map(\.rating), [.good, .good, .good])
        XCTAssertEqual(labels.filter { $0.firstError }.map { "\($0.solutionID)@\($0.stepIndex)" }.sorted(), ["wrong1@0", "wrong2@1"])

        let input = MetricsInput(problems: [problem], solutions: [right, wrongSecond, wrongFirst], critiques: critiques,
                                 annotations: labels)
        XCTAssertEqual(MetricsOptions.defaultLabelSource(input), ArithTask.source)
        let report = Metrics.report(input, options: MetricsOptions(labelSource: MetricsOptions.defaultLabelSource(input)))
        let blind = try XCTUnwrap(report.verifiers.first { $0.verifier == VerifierID(.critique) }?.localisation)
        let informed = try XCTUnwrap(report.verifiers.first { $0.verifier == VerifierID(.critique, informed: true) }?.localisation)
        XCTAssertEqual([blind.erroneous, blind.erroneousHits, blind.correct, blind.correctHits], [2, 1, 1, 1])
        XCTAssertEqual([informed.erroneous, informed.erroneousHits, informed.correct, informed.correctHits], [2, 2, 1, 1])

        // A human mark takes over as the default source.
        let marked = MetricsInput(problems: [problem], solutions: [right], annotations: labels + [Annotation(solutionID: "right", stepIndex: 0, rating: .bad)])
        XCTAssertEqual(MetricsOptions.defaultLabelSource(marked), Annotation.human)
        XCTAssertEqual(MetricsOptions.defaultLabelSource(MetricsInput()), Annotation.human)
    }
}
