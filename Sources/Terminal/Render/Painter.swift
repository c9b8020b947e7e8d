// Small drawing helpers over the cell grid shared by the panes.
extension CellGrid {
    /// Draws styled segments from (row, col), clipped at `limit`; returns the column after.
    @discardableResult
    mutating func draw(_ line: Line, row: Int, col: Int, limit: Int, ascii: Bool) -> Int {
        var c = col
        for seg in line {
            if c >= limit { break }
            c = put(seg.text, row: row, col: c, style: seg.style, limit: limit, ascii: ascii)
        }
        return c
    }

    /// A pane's title row: the name, then details, filled to the pane's width.
    mutating func title(_ rect: Rect, _ text: String, focused: Bool, ascii: Bool, detail: Line = []) {
        guard !rect.isEmpty else { return }
        let style: StyleID = focused ? .titleFocused : .title
        fill(Rect(row: rect.row, col: rect.col, rows: 1, cols: rect.cols), style: style)
        var c = put(" " + text + " ", row: rect.row, col: rect.col, style: style, limit: rect.right, ascii: ascii)
        for seg in detail {
            c = put(seg.text, row: rect.row, col: c, style: seg.style == .text ? style : seg.style, limit: rect.right, ascii: ascii)
        }
    }

    /// Lines into a rectangle starting at line `top`; returns how many lines there were.
    mutating func lines(_ lines: [Line], in rect: Rect, top: Int, ascii: Bool) {
        guard !rect.isEmpty else { return }
        let first = max(0, min(top, max(0, lines.count - rect.rows)))
        for (i, line) in lines.dropFirst(first).prefix(rect.rows).enumerated() {
            draw(line, row: rect.row + i, col: rect.col, limit: rect.right, ascii: ascii)
        }
    }
}

/// Wraps plain text into lines of one style.
func wrapped(_ text: String, width: Int, style: StyleID) -> [Line] {
    TextWrap.wrap(text, width: width).map { [Segment($0, style)] }
}

func percent(_ v: Double?) -> String {
    guard let v else { return "–" }
    return String(format: "%.1f%%", v * 100)
}

func scoreText(_ v: Double?) -> String {
    guard let v else { return "–" }
    return v == v.rounded() && abs(v) < 1000 ? String(Int(v)) : String(format: "%.2f", v)
}
