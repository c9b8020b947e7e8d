/// `?`: every key, in a box over the middle of the screen. Any key closes it.
public enum HelpOverlay {
    public static let entries: [(keys: String, what: String)] = [
        ("j k ↓ ↑", "move in the focused pane"),
        ("g G Home End", "top / bottom"),
        ("PgUp PgDn", "page up / down"),
        ("Tab Shift-Tab", "next / previous pane"),
        ("Enter", "focus: samples → solution → full screen"),
        ("Esc", "back out (full screen, pane, editor)"),
        ("n p", "next / previous problem"),
        ("[ ]", "previous / next round (follows parent/child)"),
        ("x", "mark selected step as the first error (−1)"),
        ("+ 0 -", "rate selected step good / neutral / bad"),
        ("c", "clear your annotation of the step"),
        ("N", "note on the step (Enter saves, Esc cancels)"),
        ("h", "blind: hide ground truth and verifiers"),
        ("i", "show / hide the reference solution"),
        ("V", "next verifier (critique, scores, metrics)"),
        ("o", "sort samples by score / arrival"),
        ("f", "filter: all, wrong, right, disagreement"),
        ("/", "search the session (Enter: next match)"),
        (":", "command line: threshold N, verifier K, export F, theme T, goto N"),
        ("s v r R Space", "live run: sample, verify, refine, run to limit, pause"),
        ("mouse", "click selects a row, step or round; wheel scrolls"),
        ("? q Ctrl-C", "this help / quit"),
    ]

    static func draw(_ grid: inout CellGrid, _ s: UIState) {
        let keyWidth = 15
        let width = min(grid.size.cols - 4, 84)
        let height = min(grid.size.rows - 2, entries.count + 3)
        let rect = Rect(row: (grid.size.rows - height) / 2, col: (grid.size.cols - width) / 2, rows: height, cols: width)
        grid.fill(rect, style: .help)
        grid.put(" Keys (any key closes)", row: rect.row, col: rect.col, style: .titleFocused, limit: rect.right, ascii: s.ascii)
        grid.restyle(row: rect.row, from: rect.col, to: rect.right, style: .titleFocused)
        for (i, e) in entries.prefix(height - 2).enumerated() {
            let y = rect.row + 1 + i
            let keys = s.ascii ? e.keys.replacingOccurrences(of: "↓ ↑", with: "Down Up") : e.keys
            let c = grid.put(" " + TextWrap.pad(keys, keyWidth), row: y, col: rect.col, style: .helpKey, limit: rect.right, ascii: s.ascii)
            grid.put(e.what, row: y, col: c, style: .help, limit: rect.right - 1, ascii: s.ascii)
        }
    }
}
