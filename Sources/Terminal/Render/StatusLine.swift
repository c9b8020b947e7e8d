/// The bottom line: the open editor (`:`, `/`, note), else the last message, else key hints.
enum StatusLine {
    static let hints = "?:help  j/k:move  Tab:pane  n/p:problem  [/]:round  x:first error  N:note  /:search  :cmd  q:quit"

    static func draw(_ grid: inout CellGrid, _ s: UIState, _ rect: Rect) {
        grid.fill(rect, style: .status)
        switch s.mode {
        case .command(let e): editor(&grid, s, rect, ":", e)
        case .search(let e): editor(&grid, s, rect, "/", e)
        case .note(let e, let target): editor(&grid, s, rect, "note on step \(target.stepIndex + 1): ", e)
        case .normal, .help:
            if let m = s.message {
                grid.put(" " + m.text, row: rect.row, col: rect.col, style: m.isError ? .error : .message, limit: rect.right, ascii: s.ascii)
            } else {
                grid.put(" " + hints, row: rect.row, col: rect.col, style: .statusKey, limit: rect.right, ascii: s.ascii)
            }
        }
    }

    /// The prompt, the text, and a block cursor on the character under it (kept in view).
    static func editor(_ grid: inout CellGrid, _ s: UIState, _ rect: Rect, _ prompt: String, _ e: LineEditor) {
        var c = grid.put(prompt, row: rect.row, col: rect.col, style: .editor, limit: rect.right, ascii: s.ascii)
        let room = rect.right - c - 1
        let before = e.characters[..<e.cursor]
        var shown = before.reduce(0) { $0 + DisplayWidth.of($1) }
        var first = 0
        while shown > room && first < e.cursor {
            shown -= DisplayWidth.of(e.characters[first])
            first += 1
        }
        c = grid.put(String(e.characters[first..<e.cursor]), row: rect.row, col: c, style: .editor, limit: rect.right, ascii: s.ascii)
        let under = e.cursor < e.characters.count ? String(e.characters[e.cursor]) : " "
        let after = grid.put(under, row: rect.row, col: c, style: .selected, limit: rect.right, ascii: s.ascii)
        if e.cursor + 1 < e.characters.count {
            grid.put(String(e.characters[(e.cursor + 1)...]), row: rect.row, col: after, style: .editor, limit: rect.right, ascii: s.ascii)
        }
    }
}
