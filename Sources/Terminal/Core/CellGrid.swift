/// One screen cell: a grapheme cluster and its style. A character two columns wide sits in its
/// left cell; the right cell holds an empty `text` and says it continues the one before.
public struct Cell: Equatable, Sendable {
    public var text: String
    public var style: StyleID

    public init(_ text: String, _ style: StyleID) {
        self.text = text
        self.style = style
    }

    public static let blank = Cell(" ", .text)

    /// The right half of a wide character.
    public var isContinuation: Bool { text.isEmpty }
}

/// The whole screen as the renderer sees it: rows × cols cells, written by the render functions
/// and compared frame to frame by `Diff`. Writes are clipped to the grid (and to an optional
/// right edge), so a pane can never paint into its neighbour.
public struct CellGrid: Equatable, Sendable {
    public let size: Size
    public private(set) var cells: [Cell]

    public init(size: Size, fill: Cell = .blank) {
        self.size = size
        self.cells = Array(repeating: fill, count: size.cols * size.rows)
    }

    public subscript(row: Int, col: Int) -> Cell {
        cells[row * size.cols + col]
    }

    /// Fills a rectangle with blanks of one style.
    public mutating func fill(_ rect: Rect, style: StyleID, text: String = " ") {
        let r0 = max(0, rect.row), r1 = min(size.rows, rect.bottom)
        let c0 = max(0, rect.col), c1 = min(size.cols, rect.right)
        guard r0 < r1, c0 < c1 else { return }
        for r in r0..<r1 {
            for c in c0..<c1 { set(row: r, col: c, Cell(text, style)) }
        }
    }

    /// Writes `text` from (row, col) and returns the column after the last cell written. Stops
    /// at `limit` (exclusive; default the grid's right edge). A wide character that does not fit
    /// before the limit is replaced by a space. Control characters are shown as `�`; tabs as a
    /// space.
    @discardableResult
    public mutating func put(_ text: String, row: Int, col: Int, style: StyleID, limit: Int? = nil, ascii: Bool = false) -> Int {
        guard row >= 0, row < size.rows else { return col }
        let end = min(limit ?? size.cols, size.cols)
        var c = col
        for ch in text {
            if c >= end { break }
            var glyph = String(ch)
            var w = DisplayWidth.of(ch)
            if ch == "\t" { glyph = " "; w = 1 } else if w == 0 { glyph = "\u{FFFD}"; w = 1 }
            if ascii && !(ch.isASCII) { glyph = "?"; w = 1 }
            if c < 0 { c += w; continue }
            if w == 2 {
                if c + 1 >= end {
                    set(row: row, col: c, Cell(" ", style))
                    c += 1
                    break
                }
                set(row: row, col: c, Cell(glyph, style))
                set(row: row, col: c + 1, Cell("", style))
            } else {
                set(row: row, col: c, Cell(glyph, style))
            }
            c += w
        }
        return c
    }

    /// Changes the style of cells already written (a highlight over text).
    public mutating func restyle(row: Int, from c0: Int, to c1: Int, style: StyleID) {
        guard row >= 0, row < size.rows else { return }
        for c in max(0, c0)..<min(size.cols, max(c0, c1)) {
            cells[row * size.cols + c].style = style
        }
    }

    /// Sets one cell, repairing a wide character it cuts in half.
    private mutating func set(row: Int, col: Int, _ cell: Cell) {
        let i = row * size.cols + col
        let old = cells[i]
        if old.isContinuation && col > 0 && !cell.isContinuation {
            cells[i - 1] = Cell(" ", cells[i - 1].style)
        }
        if !old.isContinuation && col + 1 < size.cols && cells[i + 1].isContinuation && !cell.isContinuation
            && DisplayWidth.of(old.text) == 2 {
            cells[i + 1] = Cell(" ", cells[i + 1].style)
        }
        cells[i] = cell
    }

    // MARK: Text views (snapshots, tests, tmux comparisons)

    /// A row as text, wide characters once each.
    public func rowText(_ row: Int) -> String {
        var s = ""
        for c in 0..<size.cols {
            let cell = self[row, c]
            if !cell.isContinuation { s += cell.text }
        }
        return s
    }

    /// A row's styles, one code letter per column.
    public func rowStyles(_ row: Int) -> String {
        String((0..<size.cols).map { self[row, $0].style.code })
    }

    /// The whole grid as text, rows joined by newlines, trailing spaces kept.
    public var text: String {
        (0..<size.rows).map(rowText).joined(separator: "\n")
    }
}

extension Character {
    var isASCII: Bool { unicodeScalars.allSatisfy(\.isASCII) }
}
