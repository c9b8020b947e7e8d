/// One screen cell: a grapheme cluster and its style. A character two columns wide sits in its
/// left cell; the right cell is a continuation (no text of its own).
///
/// Stored as the cluster's first code point plus, rarely, the rest of the cluster, so that a
/// 200×60 frame is built and compared without creating twelve thousand strings.
public struct Cell: Equatable, Sendable {
    /// First code point of the cluster; 0 marks the right half of a wide character.
    public var scalar: UInt32
    /// The cluster's remaining code points (combining marks, emoji modifiers), if any.
    public var rest: String?
    public var wide: Bool
    public var style: StyleID

    public init(_ text: String, _ style: StyleID) {
        self.style = style
        let scalars = text.unicodeScalars
        guard let first = scalars.first else {
            scalar = 0; rest = nil; wide = false
            return
        }
        scalar = first.value
        rest = scalars.count > 1 ? String(String.UnicodeScalarView(scalars.dropFirst())) : nil
        wide = rest == nil ? (first.value >= 0x1100 && DisplayWidth.of(Character(first)) == 2) : DisplayWidth.of(Character(text)) == 2
    }

    /// A one-column ASCII cell.
    @inline(__always)
    init(ascii byte: UInt8, _ style: StyleID) {
        scalar = UInt32(byte)
        rest = nil
        wide = false
        self.style = style
    }

    public static let blank = Cell(ascii: 0x20, .text)

    /// The right half of a wide character.
    public var isContinuation: Bool { scalar == 0 }

    /// The cluster as text ("" for a continuation).
    public var text: String {
        guard scalar != 0, let u = Unicode.Scalar(scalar) else { return "" }
        return rest.map { String(Character(u)) + $0 } ?? String(Character(u))
    }
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
    public mutating func fill(_ rect: Rect, style: StyleID) {
        let r0 = max(0, rect.row), r1 = min(size.rows, rect.bottom)
        let c0 = max(0, rect.col), c1 = min(size.cols, rect.right)
        guard r0 < r1, c0 < c1 else { return }
        let blank = Cell(ascii: 0x20, style)
        for r in r0..<r1 {
            for c in c0..<c1 { set(row: r, col: c, blank) }
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
        // Most text is ASCII: one byte, one cell, no grapheme breaking needed.
        var allASCII = true
        for b in text.utf8 where b >= 0x80 { allASCII = false; break }
        if allASCII {
            var c = col
            for b in text.utf8 {
                if c >= end { break }
                if c >= 0 {
                    let byte: UInt8 = b == 0x09 ? 0x20 : b
                    if byte < 0x20 || byte == 0x7F {
                        set(row: row, col: c, Cell(ascii ? "?" : "\u{FFFD}", style))
                    } else {
                        set(row: row, col: c, Cell(ascii: byte, style))
                    }
                }
                c += 1
            }
            return c
        }
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
                    set(row: row, col: c, Cell(ascii: 0x20, style))
                    c += 1
                    break
                }
                var cell = Cell(glyph, style)
                cell.wide = true
                set(row: row, col: c, cell)
                set(row: row, col: c + 1, Cell("", style))
            } else {
                var cell = Cell(glyph, style)
                cell.wide = false
                set(row: row, col: c, cell)
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
    @inline(__always)
    private mutating func set(row: Int, col: Int, _ cell: Cell) {
        let i = row * size.cols + col
        let old = cells[i]
        if old.isContinuation && col > 0 && !cell.isContinuation {
            cells[i - 1] = Cell(ascii: 0x20, cells[i - 1].style)
        }
        if old.wide && col + 1 < size.cols && cells[i + 1].isContinuation && !cell.isContinuation {
            cells[i + 1] = Cell(ascii: 0x20, cells[i + 1].style)
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
