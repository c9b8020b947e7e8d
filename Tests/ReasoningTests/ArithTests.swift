import XCTest
@testable import Reasoning

final class ArithTests: XCTestCase {
    func testGenerationIsDeterministicAndWellFormed() {
        XCTAssertEqual(ArithTask.generate(seed: 7), ArithTask.generate(seed: 7))
        XCTAssertNotEqual(ArithTask.generate(seed: 7).text, ArithTask.generate(seed: 8).text)
        var adds = 0, carries = 0, subs = 0, borrows = 0
        var stepCounts = Set<Int>()
        for seed in 0..<2000 as Range<UInt64> {
            let p = ArithTask.generate(seed: seed)
            stepCounts.insert(p.steps.count)
            XCTAssertTrue((2...5).contains(p.steps.count), "seed \(seed)")
            XCTAssertEqual(p.answer, p.steps.last?.result)
            for (i, s) in p.steps.enumerated() {
                XCTAssertEqual(s.op.apply(s.a, s.b), s.result, "seed \(seed) step \(i)")
                XCTAssertTrue(s.result >= 0 && s.result <= ArithTask.maxValue, "seed \(seed) step \(i)")
                if let f = s.aFrom { XCTAssertTrue(f < i); XCTAssertEqual(p.steps[f].result, s.a) }
                if let f = s.bFrom { XCTAssertTrue(f < i); XCTAssertEqual(p.steps[f].result, s.b) }
                // Numbers not carried from a step are stated in the problem.
                if s.aFrom == nil { XCTAssertTrue(p.text.contains("\(s.a)"), "seed \(seed): \(s.a) in \(p.text)") }
                // …or, for a multiplier of 2–4, as a word ("doubles").
                let word = [2: "doubles", 3: "triples", 4: "quadruples"][s.b]
                if s.bFrom == nil && !(s.op == .mul && word.map(p.text.contains) == true) {
                    XCTAssertTrue(p.text.contains("\(s.b)"), "seed \(seed): \(s.b) in \(p.text)")
                }
                if s.op == .add && s.bFrom == nil { adds += 1; if s.a % 10 + s.b % 10 >= 10 { carries += 1 } }
                if s.op == .sub { subs += 1; if s.b % 10 > s.a % 10 { borrows += 1 } }
            }
            XCTAssertTrue(p.text.hasSuffix("have now?"))
        }
        XCTAssertEqual(stepCounts, [2, 3, 4, 5])
        XCTAssertGreaterThan(Double(carries) / Double(adds), 0.7, "most additions carry")
        XCTAssertGreaterThan(Double(borrows) / Double(subs), 0.7, "most subtractions borrow")
    }

    func testBuiltinSetSplitsAndGrading() {
        let test = ArithTask.builtinSet(split: .test, count: 500)
        XCTAssertEqual(test.problems.count, 500)
        XCTAssertEqual(test.problems.first?.id, "arith-test-0")
        XCTAssertEqual(Set(test.problems.map(\.id)).count, 500)
        let train = Set(ArithTask.builtinSet(split: .train, count: 5000).problems.map(\.text))
        XCTAssertTrue(test.problems.allSatisfy { !train.contains($0.text) }, "held-out problems never appear in training")
        for p in test.problems {
            XCTAssertEqual(p.kind, .arith)
            let reference = p.referenceSolution ?? ""
            let answer = p.referenceAnswer ?? "?"
            XCTAssertTrue(reference.hasSuffix("The answer is \(answer)."))
            XCTAssertEqual(Grader.grade(text: reference, problem: p).correct, true, p.id)
            XCTAssertEqual(Grader.grade(text: reference.replacingOccurrences(of: "The answer is", with: "The answer is 1"),
                                        problem: p).correct, false, p.id)
        }
    }

    func testInjectedErrorsAreFirstAtTheirStepAndCarriedForward() {
        var rng = SplitMix64(seed: 99)
        var made: [FlawedArithSolution.Kind: Int] = [:]
        for seed in 0..<600 as Range<UInt64> {
            let p = ArithTask.generate(seed: seed)
            for kind in FlawedArithSolution.Kind.allCases {
                let index = rng.int(in: 0...(p.steps.count - 1))
                guard let f = ArithTask.injectError(into: p, kind: kind, at: index, rng: &rng) else { continue }
                made[kind, default: 0] += 1
                XCTAssertEqual(f.firstError, index)
                XCTAssertEqual(Array(f.steps.prefix(index)), Array(p.steps.prefix(index)), "steps before the error are right")
                XCTAssertNotEqual(f.steps[index], p.steps[index])
                XCTAssertNotEqual(f.answer, p.answer)
                XCTAssertTrue(f.explanation.hasPrefix("Step \(index + 1) "), f.explanation)
                switch kind {
                case .wrongResult:
                    XCTAssertNotEqual(f.steps[index].op.apply(f.steps[index].a, f.steps[index].b), f.steps[index].result)
                case .wrongOperand, .wrongOperation:
                    XCTAssertEqual(f.steps[index].op.apply(f.steps[index].a, f.steps[index].b), f.steps[index].result)
                }
                for j in (index + 1)..<f.steps.count {
                    let s = f.steps[j]
                    XCTAssertEqual(s.op.apply(s.a, s.b), s.result, "later steps compute correctly from the mistake")
                    if let from = s.aFrom { XCTAssertEqual(s.a, f.steps[from].result) }
                    if let from = s.bFrom { XCTAssertEqual(s.b, f.steps[from].result) }
                }
                let problem = Problem(id: "x", source: "t", text: p.text, referenceAnswer: String(p.answer), kind: .arith)
                XCTAssertEqual(Grader.grade(text: f.text, problem: problem).correct, false)
            }
        }
        for kind in FlawedArithSolution.Kind.allCases {
            XCTAssertGreaterThan(made[kind] ?? 0, 300, "\(kind) can be made on most problems")
        }
    }

    // MARK: Checking a written solution

    private func steps(_ text: String) -> [String] { StepSegmenter.segment(text).map(\.text) }

    func testFirstWrongStepFindsEveryInjectedMistakeAndAcceptsTheReference() {
        var rng = SplitMix64(seed: 7)
        var checked = 0
        for seed in 0..<400 as Range<UInt64> {
            let p = ArithTask.generate(seed: seed)
            XCTAssertNil(ArithTask.firstWrongStep(steps(p.solutionText), problem: p), p.solutionText)
            for kind in FlawedArithSolution.Kind.allCases {
                let index = rng.int(in: 0...(p.steps.count - 1))
                guard let f = ArithTask.injectError(into: p, kind: kind, at: index, rng: &rng) else { continue }
                XCTAssertEqual(ArithTask.firstWrongStep(steps(f.text), problem: p), index, f.text)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 900)
    }

    func testFirstWrongStepOnHandWrittenAttempts() {
        // Seed 0: "Ava has 49 apples. She buys 5 packs with 13 apples in each." → 5 * 13 = 65, 49 + 65 = 114.
        let p = ArithTask.generate(seed: 0)
        XCTAssertEqual(p.steps.map(\.line), ["5 * 13 = 65", "49 + 65 = 114"])
        XCTAssertNil(ArithTask.firstWrongStep(["13 * 5 = 65", "65 + 49 = 114", "The answer is 114."], problem: p),
                     "either order of + and * is right")
        XCTAssertNil(ArithTask.firstWrongStep(["5*13=65", "49 + 65 = 114", "The answer is 114"], problem: p))
        XCTAssertEqual(ArithTask.firstWrongStep(["5 * 13 = 65", "49 + 65 = 104", "The answer is 104."], problem: p), 1)
        XCTAssertEqual(ArithTask.firstWrongStep(["5 * 13 = 65", "65 - 49 = 16", "The answer is 16."], problem: p), 1,
                       "subtraction does not commute")
        XCTAssertEqual(ArithTask.firstWrongStep(["5 * 13 = 65", "The answer is 65."], problem: p), 1, "a step left out")
        XCTAssertEqual(ArithTask.firstWrongStep(["5 * 13 = 65", "49 + 65 = 114"], problem: p), 2, "no answer line")
        XCTAssertEqual(ArithTask.firstWrongStep(["5 * 13 = 65", "49 + 65 = 114", "The answer is 115."], problem: p), 2)
        XCTAssertEqual(ArithTask.firstWrongStep(["5 * 13 = 65", "49 + 65 = 114", "The answer is 114.", "114 + 1 = 115"],
                                                problem: p), 3, "going on after the answer")
        XCTAssertEqual(ArithTask.firstWrongStep(["five times thirteen", "49 + 65 = 114"], problem: p), 0)
        XCTAssertEqual(ArithTask.firstWrongStep([], problem: p), 0)
    }

    func testGeneratedProblemIsFoundOnlyForBuiltinArith() {
        let set = ArithTask.builtinSet(split: .test, count: 3)
        for problem in set.problems {
            let g = ArithTask.generated(problem)
            XCTAssertEqual(g?.text, problem.text)
            XCTAssertEqual(g.map { String($0.answer) }, problem.referenceAnswer)
        }
        var other = set.problems[0]
        other.text += " (edited)"
        XCTAssertNil(ArithTask.generated(other), "a problem whose text no longer matches its seed is not checked")
        other = set.problems[0]
        other.metadata = [:]
        XCTAssertNil(ArithTask.generated(other))
    }
}
