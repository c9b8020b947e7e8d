import Foundation

/// 4×4 Sudoku, the synthetic task of "Mind the Gap" (Song et al., 2024): grids, the checker that
/// grades an answer, the solver that keeps generated puzzles unique, and the built-in set.
///
/// A grid is 16 cells in row-major order, each 1…4, or 0 for an empty cell. It is written the
/// way the generation prompt shows it: one row per line, each row as two pairs of cells (the
/// row's halves in the left and right 2×2 boxes) separated by a space, empty cells as `*`:
///
///     1* 3*
///     *4 **
///     4* *3
///     ** 1*
public enum Sudoku4 {
    /// The checker's findings for one grid. Rows, columns and boxes are numbered 0…3 (boxes in
    /// reading order: top-left, top-right, bottom-left, bottom-right); cells 0…15 row-major.
    public struct Check: Sendable, Hashable {
        /// Every cell holds a digit 1…4.
        public var complete: Bool
        public var badRows: [Int]
        public var badColumns: [Int]
        public var badBoxes: [Int]
        /// Cells where the puzzle gave a digit and the grid holds another.
        public var changedClues: [Int]

        /// A complete grid, every unit a permutation of 1…4, every clue kept.
        public var solved: Bool {
            complete && badRows.isEmpty && badColumns.isEmpty && badBoxes.isEmpty && changedClues.isEmpty
        }
    }

    /// The four units of each kind as lists of cell indices.
    public static let rows: [[Int]] = (0..<4).map { r in (0..<4).map { r * 4 + $0 } }
    public static let columns: [[Int]] = (0..<4).map { c in (0..<4).map { $0 * 4 + c } }
    public static let boxes: [[Int]] = (0..<4).map { b in
        let r0 = (b / 2) * 2, c0 = (b % 2) * 2
        return [r0 * 4 + c0, r0 * 4 + c0 + 1, (r0 + 1) * 4 + c0, (r0 + 1) * 4 + c0 + 1]
    }

    /// Checks a grid against the rules and, when given, the puzzle's clues (0 = no clue).
    public static func check(_ grid: [Int], clues: [Int]? = nil) -> Check {
        let cells = grid.count == 16 ? grid : Array(repeating: 0, count: 16)
        let complete = grid.count == 16 && cells.allSatisfy { (1...4).contains($0) }
        func bad(_ units: [[Int]]) -> [Int] {
            units.indices.filter { Set(units[$0].map { cells[$0] }) != [1, 2, 3, 4] }
        }
        var changed: [Int] = []
        if let clues, clues.count == 16 {
            changed = (0..<16).filter { clues[$0] != 0 && clues[$0] != cells[$0] }
        }
        return Check(complete: complete, badRows: bad(rows), badColumns: bad(columns), badBoxes: bad(boxes),
                     changedClues: changed)
    }

    // MARK: - Text form

    /// `ab cd` rows, one per line; 0 written as `*`.
    public static func format(_ grid: [Int]) -> String {
        guard grid.count == 16 else { return "" }
        func cell(_ v: Int) -> String { (1...4).contains(v) ? String(v) : "*" }
        return (0..<4).map { r in
            let c = grid[(r * 4)..<(r * 4 + 4)].map(cell)
            return c[0] + c[1] + " " + c[2] + c[3]
        }.joined(separator: "\n")
    }

    /// Reads a puzzle or grid written as 16 cells (`1`…`4`, or `*`, `.`, `_`, `0` for empty)
    /// with any spaces, `/` or line breaks between them; nil when it is not exactly 16 cells.
    public static func parse(_ text: String) -> [Int]? {
        var cells: [Int] = []
        for ch in text {
            switch ch {
            case "1", "2", "3", "4": cells.append(Int(String(ch)) ?? 0)
            case "*", ".", "_", "0": cells.append(0)
            case " ", "\t", "\n", "\r", "/", "|": continue
            default: return nil
            }
        }
        return cells.count == 16 ? cells : nil
    }

    /// The completed grid a model's answer ends with: after the last `Answer:` when there is one
    /// (else anywhere), the last run of 16 digits 1…4 separated only by spaces, line breaks,
    /// `|`, `/`, `,` or `;`. `Row 1:`-style row labels and rule lines (`---+---`) are skipped.
    /// Nil when there is none.
    public static func extractGrid(from text: String) -> [Int]? {
        let bytes = Array(text.utf8)
        if let at = TextScan.lastOccurrence(of: "answer:", in: bytes, caseInsensitive: true),
           let grid = lastGrid(in: TextScan.string(bytes[(at + 7)...])) {
            return grid
        }
        return lastGrid(in: text)
    }

    static func lastGrid(in text: String) -> [Int]? {
        // Rule lines between the box rows (`---+---`, `|---|---|`) are skipped; row labels too.
        let ruled = TextScan.lines(text).map { line -> String in
            let t = TextScan.trim(line)
            let isRule = !t.isEmpty && t.contains("-") && t.allSatisfy { "-+|= ".contains($0) }
            return isRule ? "" : line
        }.joined(separator: "\n")
        let unlabelled = rowLabel.stringByReplacingMatches(
            in: ruled, range: NSRange(location: 0, length: (ruled as NSString).length), withTemplate: " ")
        var best: [Int]?
        var run: [Int] = []
        func endRun() {
            if run.count >= 16 { best = Array(run.suffix(16)) }
            run = []
        }
        for ch in unlabelled {
            switch ch {
            case "1", "2", "3", "4": run.append(Int(String(ch)) ?? 0)
            case " ", "\t", "\n", "\r", "|", "/", ",", ";": continue
            default: endRun()
            }
        }
        endRun()
        return best
    }

    private static let rowLabel = try! NSRegularExpression(pattern: #"(?i)\brow\s*[1-4]\s*:"#)

    /// Grades a generated answer: strict answer = the extracted grid; correct = solved and every
    /// clue kept (a 4×4 puzzle of this set has one solution, so this equals matching it).
    public static func grade(text: String, clues: [Int]?) -> Grade {
        guard let grid = extractGrid(from: text) else {
            return Grade(strictAnswer: nil, flexibleAnswer: nil, strictCorrect: false)
        }
        return Grade(strictAnswer: format(grid), strictCorrect: check(grid, clues: clues).solved)
    }

    // MARK: - Solving and generating

    /// Number of completions of a puzzle, counting no further than `limit`.
    public static func countSolutions(_ puzzle: [Int], limit: Int = 2) -> Int {
        guard puzzle.count == 16 else { return 0 }
        var grid = puzzle
        var count = 0
        func allowed(_ cell: Int, _ v: Int) -> Bool {
            let r = cell / 4, c = cell % 4, b = (r / 2) * 2 + c / 2
            for i in rows[r] where grid[i] == v { return false }
            for i in columns[c] where grid[i] == v { return false }
            for i in boxes[b] where grid[i] == v { return false }
            return true
        }
        func search(_ from: Int) {
            if count >= limit { return }
            guard let cell = (from..<16).first(where: { grid[$0] == 0 }) else {
                count += 1
                return
            }
            for v in 1...4 where allowed(cell, v) {
                grid[cell] = v
                search(cell + 1)
                grid[cell] = 0
                if count >= limit { return }
            }
        }
        // A puzzle whose clues already break a rule has no solution.
        for cell in 0..<16 where grid[cell] != 0 {
            let v = grid[cell]
            grid[cell] = 0
            let ok = (1...4).contains(v) && allowed(cell, v)
            grid[cell] = v
            if !ok { return 0 }
        }
        search(0)
        return count
    }

    /// Every valid 4×4 grid, in lexicographic order of their cells (there are 288).
    public static func allGrids() -> [[Int]] {
        var out: [[Int]] = []
        var grid = Array(repeating: 0, count: 16)
        func fill(_ cell: Int) {
            if cell == 16 { out.append(grid); return }
            let r = cell / 4, c = cell % 4, b = (r / 2) * 2 + c / 2
            for v in 1...4 {
                if rows[r].contains(where: { grid[$0] == v }) { continue }
                if columns[c].contains(where: { grid[$0] == v }) { continue }
                if boxes[b].contains(where: { grid[$0] == v }) { continue }
                grid[cell] = v
                fill(cell + 1)
                grid[cell] = 0
            }
        }
        fill(0)
        return out
    }

    /// Removes clues from a full grid in a seeded random order, each removal kept only while the
    /// puzzle still has exactly one solution; the result is minimal (no clue can go).
    public static func makePuzzle(from solution: [Int], seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        var order = Array(0..<16)
        // Fisher–Yates with our own generator, so the set is the same on every platform.
        for i in stride(from: 15, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
        var puzzle = solution
        for cell in order {
            let kept = puzzle[cell]
            puzzle[cell] = 0
            if countSolutions(puzzle, limit: 2) != 1 { puzzle[cell] = kept }
        }
        return puzzle
    }

    // MARK: - The built-in set

    /// The seed the built-in set's clue removal starts from; puzzle i uses `baseSeed + i`.
    public static let baseSeed: UInt64 = 20_241_203

    /// The prompt a model is given to solve a puzzle; `{puzzle}` stands for the grid.
    ///
    /// The exact wording of the "Mind the Gap" paper's Sudoku prompt could not be retrieved
    /// while this was written, so this prompt is our own, built to the paper's description of
    /// the task: a 4×4 puzzle shown in the `ab cd` row format, the three rules spelled out, the
    /// solver asked to reason and then give the completed grid in the same format so that the
    /// checker can read it.
    public static let generationPrompt = """
        Solve the following 4x4 Sudoku puzzle. Fill every empty cell, shown as *, with a digit \
        from 1 to 4 so that each row, each column, and each of the four 2x2 boxes contains the \
        digits 1, 2, 3 and 4 exactly once. Digits given in the puzzle must not be changed.

        The grid is written one row per line. Each row is written as two pairs of cells \
        separated by a space: the first pair lies in the left 2x2 box and the second pair in the \
        right 2x2 box. The first two rows form the top boxes and the last two rows the bottom \
        boxes.

        Puzzle:
        {puzzle}

        Reason step by step, one deduction per line. Then write "Answer:" followed by the \
        completed grid in the same format, four lines of the form ab cd.
        """

    /// The generation prompt filled in with a puzzle.
    public static func prompt(for puzzle: [Int]) -> String {
        generationPrompt.replacingOccurrences(of: "{puzzle}", with: format(puzzle))
    }

    /// The 288 built-in puzzles, one per valid grid, as problems of kind `sudoku4` with ids
    /// `sudoku4-000` … `sudoku4-287`. Each problem's text is the filled generation prompt; its
    /// reference answer is the solution grid; `metadata["clues"]` and `metadata["solution"]`
    /// hold the puzzle and the solution as 16-character strings (`*` = empty).
    public static func builtinSet() -> ImportedDataset {
        let problems = allGrids().enumerated().map { index, solution -> Problem in
            let puzzle = makePuzzle(from: solution, seed: baseSeed &+ UInt64(index))
            let id = "sudoku4-" + String(format: "%03d", index)
            return Problem(id: id, source: "builtin:sudoku4", text: prompt(for: puzzle),
                           referenceSolution: format(solution), referenceAnswer: format(solution),
                           kind: .sudoku4,
                           metadata: ["clues": compact(puzzle), "solution": compact(solution),
                                      "clueCount": String(puzzle.filter { $0 != 0 }.count)])
        }
        return ImportedDataset(problems: problems)
    }

    /// 16 characters, `*` for empty.
    public static func compact(_ grid: [Int]) -> String {
        grid.map { (1...4).contains($0) ? String($0) : "*" }.joined()
    }
}
