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
                    // The check before the verdict: the attempt's steps, in order, up to the
                    // named one, each with the number the reference's step gives, said to be
                    // right but the named one, where the attempt's step differs.
                    let check = e.completion.split(separator: "\n").filter { $0.hasPrefix("Step ") }.map(String.init)
                    let named = parsed.firstErrorStep ?? problem.steps.count
                    XCTAssertEqual(check.count, min(named + 1, problem.steps.count), e.completion)
                    // The attempt comes after the reference, whose steps are not numbered.
                    let promptLines = e.prompt.split(separator: "\n")
                    for (i, line) in check.enumerated() {
                        let shown = try XCTUnwrap(promptLines.last { $0.hasPrefix("Step \(i + 1): ") }, e.prompt)
                        let verdict = i == named ? "wrong" : "right"
                        XCTAssertEqual(line, "\(shown) | \(problem.steps[i].result), \(verdict).")
                        XCTAssertEqual(String(shown) == "Step \(i + 1): \(problem.steps[i].line)", i != named,
                                       "only the named step differs from the reference's: \(line)")
                    }
                case "check-lines":
                    // Every line shown is checked, in order: the claimed result against the true one.
                    let shown = e.prompt.split(separator: "\n").dropFirst().dropLast()
                    let checked = e.completion.split(separator: "\n")
                    XCTAssertEqual(checked.count, shown.count)
                    XCTAssertGreaterThanOrEqual(checked.count, problem.steps.count)
                    for (line, check) in zip(shown, checked) {
                        let parts = line.split(separator: " ")
                        let (a, b, claimed) = (Int(parts[0])!, Int(parts[2])!, Int(parts[4])!)
                        let op = try XCTUnwrap(ArithOp(rawValue: String(parts[1])))
                        let truth = try XCTUnwrap(op.apply(a, b))
                        XCTAssertEqual(String(check), "\(line) | \(truth), \(claimed == truth ? "right" : "wrong").")
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
        XCTAssertEqual(tasks["check-lines"], 900)
        for t in ["cot-binary", "cot-score", "mc", "refine", "tournament"] { XCTAssertGreaterThan(tasks[t] ?? 0, 30, t) }
        XCTAssertGreaterThan(informed, 200)
    }

    func testDemoModelPromptsAreCompactAndLoadable() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Models/arith-llama-2.5m/prompts")
        let set = try PromptSet.load(overridesIn: folder)
        XCTAssertTrue(set.overridden.isSuperset(of: ["generate-arith", "verify-critique", "verify-critique-informed", "refine"]))
        let examples = try (0..<20).flatMap { try ArithTrainingData.examples(split: .train, index: $0, prompts: set) }
        for e in examples {
            XCTAssertFalse(e.prompt.contains("Proposed solution:"), "the demo's own prompts, not the built-in ones")
            XCTAssertEqual(e.informed, e.prompt.contains("\nReference:\n"))
        }
        let builtin = try ArithTrainingData.examples(split: .train, index: 0)
        XCTAssertLessThan(examples.filter { $0.task == "critique" }.map(\.prompt.count).min() ?? 0,
                          builtin.filter { $0.task == "critique" }.map(\.prompt.count).min() ?? 0)
    }

    func testGenerationPromptIsTheLoopsOwn() throws {
        let set = ArithTask.builtinSet(split: .train, count: 3)
        for (i, p) in set.problems.enumerated() {
            let example = try XCTUnwrap(try ArithTrainingData.examples(split: .train, index: i).first)
            XCTAssertEqual(.raw(example.prompt), try LoopPrompts(set: .builtin, chat: false).generation(p))
        }
    }
}
