import Foundation

/// The one entry point for grading a solution against its problem's ground truth.
///
/// | kind | strict answer | flexible answer | equal when |
/// | --- | --- | --- | --- |
/// | `gsm8k`, `arith` | `The answer is N` / `#### N` | last number | equal numbers |
/// | `math` | last `\boxed{…}` | boxed, `# Answer`, `answer is X`, last number | MATH `is_equiv` normalisation, or equal numbers |
/// | `sudoku4` | last 16-cell grid | — | grid solves the puzzle and keeps its clues |
/// | `freeform` | `the answer is X` | that, or the last line | normalised text, or equal numbers |
///
/// `Grade.correct` then prefers the strict verdict when the strict rule found an answer. With
/// no reference answer (and, for Sudoku, no clues) the answers are extracted but not judged.
public enum Grader {
    public static func grade(text: String, problem: Problem) -> Grade {
        switch problem.kind {
        case .gsm8k, .arith:
            return GSM8KAnswer.grade(text: text, reference: problem.referenceAnswer)
        case .math:
            return MathAnswer.grade(text: text, reference: problem.referenceAnswer)
        case .sudoku4:
            let clues = problem.metadata["clues"].flatMap(Sudoku4.parse)
            if clues == nil, problem.referenceAnswer == nil {
                let grid = Sudoku4.extractGrid(from: text)
                return Grade(strictAnswer: grid.map(Sudoku4.format), strictCorrect: grid.map { Sudoku4.check($0).solved })
            }
            // Without clues, the reference grid stands in for them (every cell is a clue).
            return Sudoku4.grade(text: text, clues: clues ?? problem.referenceAnswer.flatMap(Sudoku4.parse))
        case .freeform:
            return FreeformAnswer.grade(text: text, reference: problem.referenceAnswer)
        }
    }

    /// Grades a solution and returns it with `grade` filled in.
    public static func graded(_ solution: Solution, problem: Problem) -> Solution {
        var s = solution
        s.grade = grade(text: solution.text, problem: problem)
        return s
    }
}
