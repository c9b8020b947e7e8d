import Foundation
import XCTest
@testable import Reasoning

final class Sudoku4Tests: XCTestCase {
    let solution = [1, 2, 3, 4,
                    3, 4, 1, 2,
                    2, 1, 4, 3,
                    4, 3, 2, 1]

    func testCheckerAcceptsASolvedGrid() {
        XCTAssertTrue(Sudoku4.check(solution).solved)
        XCTAssertTrue(Sudoku4.check(solution, clues: [1] + Array(repeating: 0, count: 15)).solved)
    }

    func testCheckerNamesBrokenUnits() {
        var g = solution
        g.swapAt(0, 1)   // row 0 still fine, columns 0 and 1 broken, box 0 still fine
        let c = Sudoku4.check(g)
        XCTAssertEqual(c.badRows, [])
        XCTAssertEqual(c.badColumns, [0, 1])
        XCTAssertEqual(c.badBoxes, [])
        XCTAssertFalse(c.solved)

        // A grid that is a Latin square but breaks the boxes.
        let latin = [1, 2, 3, 4, 2, 3, 4, 1, 3, 4, 1, 2, 4, 1, 2, 3]
        let l = Sudoku4.check(latin)
        XCTAssertEqual(l.badRows, [])
        XCTAssertEqual(l.badColumns, [])
        XCTAssertEqual(l.badBoxes, [0, 1, 2, 3])

        // A valid grid that ignores a clue.
        var clues = Array(repeating: 0, count: 16)
        clues[5] = 3
        XCTAssertEqual(Sudoku4.check(solution, clues: clues).changedClues, [5])

        // Incomplete grids are never solved.
        var holes = solution
        holes[7] = 0
        XCTAssertFalse(Sudoku4.check(holes).complete)
        XCTAssertFalse(Sudoku4.check([1, 2, 3]).solved)
    }

    func testFormatAndParse() {
        let text = Sudoku4.format(solution)
        XCTAssertEqual(text, "12 34\n34 12\n21 43\n43 21")
        XCTAssertEqual(Sudoku4.parse(text), solution)
        XCTAssertEqual(Sudoku4.parse("1* 3* / *4 ** / 4* *3 / ** 1*"),
                       [1, 0, 3, 0, 0, 4, 0, 0, 4, 0, 0, 3, 0, 0, 1, 0])
        XCTAssertNil(Sudoku4.parse("12 34"))
        XCTAssertNil(Sudoku4.parse("12 35 34 12 21 43 43 21"))
    }

    func testExtractsTheLastGridFromAnAnswer() {
        let text = """
        Row 1 has 1 and 3, so the blanks are 2 and 4.
        First try:
        12 34
        34 21
        21 43
        43 12
        That breaks column 3. Answer:
        12 34
        34 12
        21 43
        43 21
        """
        XCTAssertEqual(Sudoku4.extractGrid(from: text), solution)
        XCTAssertEqual(Sudoku4.extractGrid(from: "Answer: 12 34 / 34 12 / 21 43 / 43 21."), solution)
        XCTAssertEqual(Sudoku4.extractGrid(from: "Row 1: 1 2 3 4\nRow 2: 3 4 1 2\nRow 3: 2 1 4 3\nRow 4: 4 3 2 1"), solution)
        XCTAssertNil(Sudoku4.extractGrid(from: "Answer: 12 34\n34 12"))
        XCTAssertEqual(Sudoku4.extractGrid(from: "Answer:\n1 2 | 3 4\n3 4 | 1 2\n----+----\n2 1 | 4 3\n4 3 | 2 1"), solution)
        XCTAssertEqual(Sudoku4.extractGrid(from: "| 1 | 2 | 3 | 4 |\n|---|---|---|---|\n| 3 | 4 | 1 | 2 |\n| 2 | 1 | 4 | 3 |\n| 4 | 3 | 2 | 1 |"), solution)
        // A digit other than 1–4 breaks a run: no grid here.
        XCTAssertNil(Sudoku4.extractGrid(from: "12 34 34 12 21 43 43 25"))
    }

    func testGrading() {
        let puzzle = Sudoku4.parse("1* *4 / ** 1* / 2* ** / *3 **")!
        let problem = Problem(id: "p", source: "t", text: Sudoku4.prompt(for: puzzle),
                              referenceAnswer: Sudoku4.format(solution), kind: .sudoku4,
                              metadata: ["clues": Sudoku4.compact(puzzle)])
        let good = Grader.grade(text: "Answer:\n12 34\n34 12\n21 43\n43 21", problem: problem)
        XCTAssertEqual(good.strictAnswer, Sudoku4.format(solution))
        XCTAssertEqual(good.correct, true)
        let bad = Grader.grade(text: "Answer:\n12 34\n34 12\n21 43\n43 12", problem: problem)
        XCTAssertEqual(bad.correct, false)
        let none = Grader.grade(text: "I give up", problem: problem)
        XCTAssertNil(none.answer)
        XCTAssertEqual(none.correct, false)
    }

    func testThereAre288GridsAllValidAndDistinct() {
        let grids = Sudoku4.allGrids()
        XCTAssertEqual(grids.count, 288)
        XCTAssertEqual(Set(grids).count, 288)
        XCTAssertTrue(grids.allSatisfy { Sudoku4.check($0).solved })
    }

    func testBuiltinSetIsUniqueMinimalAndDeterministic() throws {
        let set = Sudoku4.builtinSet()
        XCTAssertEqual(set.problems.count, 288)
        XCTAssertEqual(set.problems.first?.id, "sudoku4-000")
        XCTAssertEqual(set.problems.last?.id, "sudoku4-287")
        for p in set.problems {
            let clues = try XCTUnwrap(p.metadata["clues"].flatMap(Sudoku4.parse))
            let sol = try XCTUnwrap(p.metadata["solution"].flatMap(Sudoku4.parse))
            XCTAssertEqual(Sudoku4.countSolutions(clues), 1, p.id)
            XCTAssertTrue(Sudoku4.check(sol, clues: clues).solved, p.id)
            // Minimal: taking away any remaining clue makes the solution ambiguous.
            for cell in 0..<16 where clues[cell] != 0 {
                var fewer = clues
                fewer[cell] = 0
                XCTAssertEqual(Sudoku4.countSolutions(fewer), 2, "\(p.id) cell \(cell)")
            }
            XCTAssertTrue(p.text.contains(Sudoku4.format(clues)))
            XCTAssertEqual(Grader.grade(text: "Answer:\n" + (p.referenceAnswer ?? ""), problem: p).correct, true)
        }
        XCTAssertEqual(Sudoku4.builtinSet(), set)
        XCTAssertTrue(Sudoku4.generationPrompt.contains("{puzzle}"))
    }

    func testSolverCounts() {
        XCTAssertEqual(Sudoku4.countSolutions(Array(repeating: 0, count: 16), limit: 1000), 288)
        var broken = Array(repeating: 0, count: 16)
        broken[0] = 1
        broken[1] = 1
        XCTAssertEqual(Sudoku4.countSolutions(broken), 0)
    }
}
