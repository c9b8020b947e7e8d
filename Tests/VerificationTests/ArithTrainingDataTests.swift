import XCTest
import Reasoning
@testable import Verification

/// The demo model learns to answer in exactly the forms the loop reads back: every training
/// target must parse, with the verdict and step it was made from.
final class ArithTrainingDataTests: XCTestCase {
    func testEveryTargetReadsBackAsItsOwnVerdict() throws {
        var tasks: [String: Int] = [:]
        var informed = 0
        for index in 0..<300 {
            let examples = try ArithTrainingData.examples(split: .train, index: index)
            XCTAssertEqual(examples, try ArithTrainingData.examples(split: .train, index: index), "deterministic")
            let problem = ArithTask.generate(seed: ArithTask.Split.train.seed(index))
            for e in examples {
                tasks[e.task, default: 0] += 1
                if e.informed { informed += 1 }
                let steps = problem.steps.count + 1
                switch e.task {
                case "generate", "refine":
                    XCTAssertEqual(e.completion, "\n" + problem.solutionText)
                    if e.task == "refine" { XCTAssertTrue(e.prompt.contains("First wrong step:"), "refines from a critique") }
                case "critique":
                    let parsed = VerifierOutputParser.critique(e.completion, stepCount: steps)
                    XCTAssertEqual(parsed.parse, .ok, e.completion)
                    XCTAssertEqual(parsed.verdict, e.attemptCorrect == true ? .correct : .incorrect)
                    if e.attemptCorrect == false {
                        let line = try XCTUnwrap(e.prompt.split(separator: "\n").first { $0.hasPrefix("Step \(parsed.firstErrorStep! + 1): ") })
                        XCTAssertFalse(problem.solutionText.contains(line.split(separator: ": ", maxSplits: 1)[1]),
                                       "the named step differs from the reference: \(line)")
                    }
                case "cot-binary":
                    XCTAssertEqual(VerifierOutputParser.binary(e.completion).verdict, e.attemptCorrect == true ? .correct : .incorrect)
                    XCTAssertEqual(VerifierOutputParser.binary(e.completion).parse, .ok)
                case "cot-score":
                    let score = try XCTUnwrap(VerifierOutputParser.score(e.completion).score)
                    XCTAssertEqual(score >= VerifierKind.cotScore.defaultThreshold, e.attemptCorrect == true)
                case "mc":
                    XCTAssertTrue(LoopPrompts(set: .builtin, chat: false).mcContinuations.contains(e.completion))
                    XCTAssertEqual(e.completion == " Correct", e.attemptCorrect == true)
                case "tournament":
                    let (choice, status) = VerifierOutputParser.preference(e.completion)
                    XCTAssertEqual(status, .ok)
                    let shown = choice == .first ? "Solution A:" : "Solution B:"
                    let after = try XCTUnwrap(e.prompt.components(separatedBy: shown).last)
                    XCTAssertTrue(after.contains("The answer is \(problem.answer)."), "the preferred solution is the right one")
                default:
                    XCTFail("unknown task \(e.task)")
                }
                XCTAssertEqual(e.informed, e.prompt.contains("Reference solution:"))
            }
        }
        XCTAssertEqual(tasks["generate"], 300)
        XCTAssertGreaterThan(tasks["critique"] ?? 0, tasks["cot-binary"] ?? 0)
        for t in ["cot-binary", "cot-score", "mc", "refine", "tournament"] { XCTAssertGreaterThan(tasks[t] ?? 0, 30, t) }
        XCTAssertGreaterThan(informed, 200)
    }

    func testGenerationPromptIsTheLoopsOwn() throws {
        let set = ArithTask.builtinSet(split: .train, count: 3)
        for (i, p) in set.problems.enumerated() {
            let example = try XCTUnwrap(try ArithTrainingData.examples(split: .train, index: i).first)
            XCTAssertEqual(.raw(example.prompt), try LoopPrompts(set: .builtin, chat: false).generation(p))
        }
    }
}
