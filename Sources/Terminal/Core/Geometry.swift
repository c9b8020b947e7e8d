/// A terminal size or a rectangle of cells. Rows and columns count from 0 at the top left.
public struct Size: Equatable, Hashable, Sendable {
    public var cols: Int
    public var rows: Int

    public init(cols: Int, rows: Int) {
        self.cols = max(0, cols)
        self.rows = max(0, rows)
    }
}

public struct Rect: Equatable, Sendable {
    public var row: Int
    public var col: Int
    public var rows: Int
    public var cols: Int

    public init(row: Int, col: Int, rows: Int, cols: Int) {
        self.row = row
        self.col = col
        self.rows = max(0, rows)
        self.cols = max(0, cols)
    }

    public static let empty = Rect(row: 0, col: 0, rows: 0, cols: 0)

    public var isEmpty: Bool { rows == 0 || cols == 0 }
    public var bottom: Int { row + rows }
    public var right: Int { col + cols }

    public func contains(row r: Int, col c: Int) -> Bool {
        r >= row && r < bottom && c >= col && c < right
    }

    /// The rectangle without its first `n` rows.
    public func droppingTop(_ n: Int) -> Rect {
        let k = min(max(0, n), rows)
        return Rect(row: row + k, col: col, rows: rows - k, cols: cols)
    }
}
