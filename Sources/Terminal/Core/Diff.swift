/// The cells that changed between two frames, grouped into runs of adjacent cells on one row,
/// so the backend moves the cursor once per run instead of once per cell.
public struct DiffRun: Equatable, Sendable {
    public var row: Int
    public var col: Int
    public var cells: [Cell]
}

public enum Diff {
    /// Runs that turn `old` into `new`. When the sizes differ everything is new. A changed wide
    /// character always brings its continuation cell, and a run never starts on a continuation.
    public static func runs(from old: CellGrid?, to new: CellGrid) -> [DiffRun] {
        let cols = new.size.cols
        var runs: [DiffRun] = []
        let same = old.map { $0.size == new.size } ?? false
        new.cells.withUnsafeBufferPointer { n in
            for r in 0..<new.size.rows {
                var c = 0
                let base = r * cols
                while c < cols {
                    if same, let o = old, o.cells[base + c] == n[base + c] {
                        c += 1
                        continue
                    }
                    var start = c
                    // Never start on the right half of a wide character: include its left half.
                    if start > 0 && n[base + start].isContinuation { start -= 1 }
                    var end = c + 1
                    while end < cols {
                        if n[base + end].isContinuation { end += 1; continue }
                        if same, let o = old, o.cells[base + end] == n[base + end] { break }
                        end += 1
                    }
                    if let last = runs.last, last.row == r, last.col + last.cells.count > start {
                        // Overlap from backing up onto a wide character already in the last run.
                        let keep = last.col + last.cells.count - start
                        runs[runs.count - 1].cells.append(contentsOf: n[(base + start + keep)..<(base + end)])
                    } else {
                        runs.append(DiffRun(row: r, col: start, cells: Array(n[(base + start)..<(base + end)])))
                    }
                    c = end
                }
            }
        }
        return runs
    }

    /// Number of cells the runs rewrite.
    public static func cellCount(_ runs: [DiffRun]) -> Int {
        runs.reduce(0) { $0 + $1.cells.count }
    }
}
