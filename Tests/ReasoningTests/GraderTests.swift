import Foundation
import XCTest
@testable import Reasoning

final class NumericAnswerTests: XCTestCase {
    func testCleanStripsDollarsCommasAndFullStop() {
        XCTAssertEqual(NumericAnswer.clean("$1,000."), "1000")
        XCTAssertEqual(NumericAnswer.clean(" +18.00 "), "18.00")
        XCTAssertNil(NumericAnswer.clean("12abc"))
        XCTAssertNil(NumericAnswer.clean("-"))
        XCTAssertNil(NumericAnswer.clean(""))
    }

    func testNumericEquality() {
        XCTAssertTrue(NumericAnswer.equal("18.00", "18"))
        XCTAssertTrue(NumericAnswer.equal("1,000", "1000"))
        XCTAssertTrue(NumericAnswer.equal("$5", "5."))
        XCTAssertTrue(NumericAnswer.equal("0.50", ".5"))
        XCTAssertFalse(NumericAnswer.equal("18.01", "18"))
        XCTAssertFalse(NumericAnswer.equal("-18", "18"))
    }

    func testNumbersInText() {
        XCTAssertEqual(NumericAnswer.numbers(in: "She makes 9 * 2 = $18 every day."), ["9", "2", "18"])
        XCTAssertEqual(NumericAnswer.numbers(in: "16-3=13 and a loss of -5"), ["16", "3", "13", "-5"])
        XCTAssertEqual(NumericAnswer.numbers(in: "It costs $1,234,567.89."), ["1234567.89"])
        XCTAssertEqual(NumericAnswer.numbers(in: "the list 1,2,3"), ["1", "2", "3"])
        XCTAssertEqual(NumericAnswer.numbers(in: "A: -1.8 billion"), ["-1.8"])
        XCTAssertEqual(NumericAnswer.numbers(in: "no digits here"), [])
        XCTAssertEqual(NumericAnswer.numbers(in: "about .5 of it"), ["0.5"])
    }
}

final class GSM8KAnswerTests: XCTestCase {
    func testReferenceFromHashesAndFromA() {
        XCTAssertEqual(GSM8KAnswer.reference(fromSolution: "step\n#### 70,000"), "70000")
        XCTAssertEqual(GSM8KAnswer.reference(fromSolution: "She makes $<<9*2=18>>18.\nA: 18"), "18")
        XCTAssertNil(GSM8KAnswer.reference(fromSolution: "no marker 5"))
    }

    func testStrictIsTheAnswerIs() {
        XCTAssertEqual(GSM8KAnswer.strict(in: "3 + 4 = 7. The answer is 7."), "7")
        XCTAssertEqual(GSM8KAnswer.strict(in: "So the final answer is: $1,250.50"), "1250.50")
        XCTAssertEqual(GSM8KAnswer.strict(in: "the answer is **42**"), "42")
        XCTAssertEqual(GSM8KAnswer.strict(in: "The answer is 3. Wait, no. The answer is 5."), "5")
        XCTAssertEqual(GSM8KAnswer.strict(in: "work\n#### 12"), "12")
        XCTAssertNil(GSM8KAnswer.strict(in: "A: 18"))
        XCTAssertNil(GSM8KAnswer.strict(in: "The answer is unclear"))
    }

    func testFlexibleIsLastNumberWithoutCalculatorNotes() {
        XCTAssertEqual(GSM8KAnswer.flexible(in: "He runs 9*60=<<9*60=540>>540 meters\nA: 540"), "540")
        XCTAssertEqual(GSM8KAnswer.flexible(in: "So she pays $1,000."), "1000")
        XCTAssertNil(GSM8KAnswer.flexible(in: "I cannot tell."))
    }

    func testGradeRecordsBothAndPrefersStrict() {
        let g = GSM8KAnswer.grade(text: "The answer is 18. Check: 20", reference: "18")
        XCTAssertEqual(g.strictAnswer, "18")
        XCTAssertEqual(g.flexibleAnswer, "20")
        XCTAssertEqual(g.strictCorrect, true)
        XCTAssertEqual(g.flexibleCorrect, false)
        XCTAssertEqual(g.correct, true)

        let flex = GSM8KAnswer.grade(text: "so 1,000.00 in all", reference: "#### 1,000")
        XCTAssertNil(flex.strictAnswer)
        XCTAssertEqual(flex.strictCorrect, false)
        XCTAssertEqual(flex.flexibleCorrect, true)
        XCTAssertEqual(flex.correct, true)

        let noReference = GSM8KAnswer.grade(text: "The answer is 4", reference: nil)
        XCTAssertEqual(noReference.answer, "4")
        XCTAssertNil(noReference.correct)
    }
}

final class MathAnswerTests: XCTestCase {
    func testLastBoxedBalancesBraces() {
        XCTAssertEqual(MathAnswer.lastBoxed(in: "so $\\boxed{\\frac{1}{2}}$ and then \\boxed{x^{2}+1}."), "x^{2}+1")
        XCTAssertEqual(MathAnswer.lastBoxed(in: "answer $\\boxed 5$."), "5")
        XCTAssertEqual(MathAnswer.lastBoxed(in: "\\fbox{7}"), "7")
        XCTAssertEqual(MathAnswer.lastBoxed(in: "\\boxed{\\{1,2\\}}"), "\\{1,2\\}")
        XCTAssertEqual(MathAnswer.lastBoxed(in: "\\boxed{3} then \\boxed{unclosed"), "3")
        XCTAssertNil(MathAnswer.lastBoxed(in: "no box"))
    }

    func testNormalisationVariants() {
        let pairs: [(String, String)] = [
            ("\\dfrac{1}{2}", "\\frac{1}{2}"),
            ("\\tfrac12", "\\frac{1}{2}"),
            ("0.5", "\\frac{1}{2}"),
            ("1/2", "\\frac12"),
            ("\\left( 3, 4 \\right)", "(3,4)"),
            ("90^\\circ", "90"),
            ("90^{\\circ}", "90"),
            ("\\$18.90", "18.9"),
            ("10\\%", "10"),
            ("5 \\text{ cm}", "5"),
            ("\\text{(B)}", "(B)"),
            ("x = 3", "3"),
            ("3.", "3"),
            ("\\sqrt2", "\\sqrt{2}"),
            ("2\\sqrt 3", "2\\sqrt{3}"),
            ("\\frac 12", "\\frac{1}{2}"),
            ("\\text{(C)}", "C"),
            ("y = 2x+3", "2x+3"),
            ("40,\\!000", "40000"),
            ("\\$5.00", "5"),
            ("\\textbf{Evelyn}", "Evelyn"),
            ("-\\frac{3}{4}", "-0.75"),
            ("1,000", "1000"),
            ("\\frac{\\sqrt{3}}{2}", "\\dfrac{\\sqrt{3}}{2}"),
        ]
        for (a, b) in pairs {
            XCTAssertTrue(MathAnswer.equivalent(a, b), "\(a) should equal \(b): \(MathAnswer.normalize(a)) vs \(MathAnswer.normalize(b))")
        }
        XCTAssertFalse(MathAnswer.equivalent("\\frac{1}{3}", "0.33"))
        XCTAssertFalse(MathAnswer.equivalent("(3,4)", "(4,3)"))
        XCTAssertFalse(MathAnswer.equivalent("2\\sqrt{2}", "\\sqrt{2}"))
        XCTAssertFalse(MathAnswer.equivalent("(C)", "(D)"))
        XCTAssertFalse(MathAnswer.equivalent("a=2,b=3", "3"))
    }

    func testGradeAgainstReferenceSolution() {
        let g = MathAnswer.grade(text: "Thus the probability is $\\boxed{\\dfrac{1}{4}}$.",
                                 reference: "Hence $\\boxed{0.25}$.")
        XCTAssertEqual(g.strictAnswer, "\\dfrac{1}{4}")
        XCTAssertEqual(g.correct, true)
        let prm = MathAnswer.grade(text: "So x is 5.\n\n# Answer\n\n5", reference: "5")
        XCTAssertNil(prm.strictAnswer)
        XCTAssertEqual(prm.flexibleAnswer, "5")
        XCTAssertEqual(prm.correct, true)
        let minerva = MathAnswer.grade(text: "Final Answer: The final answer is $\\frac{3}{2}$. I hope it is correct.",
                                       reference: "1.5")
        XCTAssertEqual(minerva.flexibleAnswer, "\\frac{3}{2}")
        XCTAssertEqual(minerva.correct, true)
    }
}

final class FreeformAnswerTests: XCTestCase {
    func testNormalisedComparison() {
        XCTAssertTrue(FreeformAnswer.equivalent("(A).", "(a)"))
        XCTAssertTrue(FreeformAnswer.equivalent("  apple   banana ", "apple banana"))
        XCTAssertTrue(FreeformAnswer.equivalent("**-2116**", "-2116"))
        XCTAssertTrue(FreeformAnswer.equivalent("12.0", "12"))
        XCTAssertFalse(FreeformAnswer.equivalent("(A), (B), (C), or (D).", "(A)"))
        XCTAssertFalse(FreeformAnswer.equivalent("apple banana", "banana apple"))
    }

    func testExtraction() {
        let text = "Let's compute.\nSo the answer is 1244."
        XCTAssertEqual(FreeformAnswer.strict(in: text), "1244.")
        XCTAssertEqual(FreeformAnswer.grade(text: text, reference: "1244").correct, true)
        XCTAssertEqual(FreeformAnswer.flexible(in: "first\nlast line\n\n"), "last line")
    }
}

final class GraderTests: XCTestCase {
    func testDispatchByKind() {
        let arith = Problem(id: "a", source: "t", text: "1+2", referenceAnswer: "3", kind: .arith)
        XCTAssertEqual(Grader.grade(text: "1+2=3. The answer is 3.", problem: arith).correct, true)
        let math = Problem(id: "m", source: "t", text: "?", referenceAnswer: "\\frac{1}{2}", kind: .math)
        XCTAssertEqual(Grader.grade(text: "\\boxed{0.5}", problem: math).correct, true)
        XCTAssertEqual(Grader.grade(text: "\\boxed{0.6}", problem: math).correct, false)
        let free = Problem(id: "f", source: "t", text: "?", referenceAnswer: "(E)", kind: .freeform)
        XCTAssertEqual(Grader.grade(text: "So the answer is (D)", problem: free).correct, false)
        XCTAssertEqual(Grader.grade(text: "So the answer is (E).", problem: free).correct, true)
    }

    func testLongRunawayOutputIsGraded() {
        // A model that rambles: 100 KB of text (longer than any sampling budget here), the
        // answer at the very end.
        let filler = String(repeating: "and then we check it again, ", count: 4_000)
        let cases: [(ProblemKind, String, String, String)] = [
            (.gsm8k, "12", filler + "The answer is 12.", "12"),
            (.arith, "-3", filler + "So the answer is -3", "-3"),
            (.math, "\\frac{1}{2}", filler + "$\\boxed{\\dfrac12}$", "\\dfrac12"),
            (.freeform, "(B)", filler + "\nSo the answer is (B).", "(B)."),
            (.sudoku4, "12 34\n34 12\n21 43\n43 21", filler + "Answer:\n12 34\n34 12\n21 43\n43 21", "12 34\n34 12\n21 43\n43 21"),
        ]
        for (kind, reference, text, answer) in cases {
            let p = Problem(id: "p", source: "t", text: "?", referenceAnswer: reference, kind: kind)
            let g = Grader.grade(text: text, problem: p)
            XCTAssertEqual(g.answer, answer, "\(kind)")
            XCTAssertEqual(g.correct, true, "\(kind)")
            // The same text without an answer is graded wrong, not crashed on.
            XCTAssertNotEqual(Grader.grade(text: filler, problem: p).correct, true, "\(kind)")
        }
    }

    func testGradedFillsSolution() {
        let p = Problem(id: "g", source: "t", text: "?", referenceAnswer: "18", kind: .gsm8k)
        let s = Solution(id: "s", problemID: "g", text: "9 * 2 = 18\nA: 18", steps: [], origin: .sampled)
        XCTAssertEqual(Grader.graded(s, problem: p).correct, true)
        XCTAssertEqual(Grader.graded(s, problem: p).extractedAnswer, "18")
    }
}
