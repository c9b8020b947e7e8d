import Foundation
import XCTest
@testable import Reasoning

final class StepSegmenterTests: XCTestCase {
    func texts(_ s: String) -> [String] { StepSegmenter.segment(s).map(\.text) }

    func testCalculatorNotesAreRemoved() {
        XCTAssertEqual(StepSegmenter.removeCalculatorNotes("She makes 9 * 2 = $<<9*2=18>>18 every day."),
                       "She makes 9 * 2 = $18 every day.")
        XCTAssertEqual(StepSegmenter.removeCalculatorNotes("a << b and c >> d"), "a  d")
        XCTAssertEqual(StepSegmenter.removeCalculatorNotes("open << only"), "open << only")
    }

    func testLinesAndParagraphsAreSteps() {
        let text = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n\n  She makes $<<9*2=18>>18.  \n\n#### 18\n"
        XCTAssertEqual(texts(text), ["Janet sells 16 - 3 - 4 = 9 duck eggs a day.", "She makes $18.", "#### 18"])
        XCTAssertEqual(StepSegmenter.segment(text).map(\.index), [0, 1, 2])
        XCTAssertEqual(texts(""), [])
        XCTAssertEqual(texts("\n \n"), [])
    }

    func testStepLabelsGroupContinuationLines() {
        let text = """
        Let's solve it.
        Step 1: Add the apples.
        3 + 4 = 7
        Step 2: Double it.
        7 * 2 = 14

        The answer is 14.
        """
        XCTAssertEqual(texts(text), ["Let's solve it.", "Add the apples.\n3 + 4 = 7", "Double it.\n7 * 2 = 14", "The answer is 14."])
        XCTAssertEqual(texts("**Step 1:** a\n**Step 2:** b"), ["a", "b"])
        XCTAssertEqual(texts("1. first\n2) second\n3. third"), ["first", "second", "third"])
    }

    func testNumbersThatAreNotLabelsStay() {
        XCTAssertEqual(texts("1.5 apples\nthen 2.5 more"), ["1.5 apples", "then 2.5 more"])
        // A lone numbered line, or numbering that does not count up, is left as it is.
        XCTAssertEqual(texts("3. only one\nnext"), ["3. only one", "next"])
        XCTAssertEqual(texts("1. a\n5. b"), ["1. a", "5. b"])
    }

    func testDisplayMathStaysInOneStep() {
        let text = "We have\n$$\nx = 1\n$$\nso done.\n\\begin{align}\na &= b\n\\end{align}"
        XCTAssertEqual(texts(text), ["We have", "$$\nx = 1\n$$", "so done.", "\\begin{align}\na &= b\n\\end{align}"])
    }

    func testImportedListsKeptAsGiven() {
        let steps = StepSegmenter.steps(from: ["  a  ", "", "b"])
        XCTAssertEqual(steps.map(\.text), ["  a  ", "", "b"])
        XCTAssertEqual(steps.map(\.index), [0, 1, 2])
    }
}
