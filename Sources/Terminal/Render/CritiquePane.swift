import Reasoning

/// The selected verifier's critique of the selected solution; blind and reference-informed
/// side by side when both exist, with their disagreement called out.
enum CritiquePane {
    static func draw(_ grid: inout CellGrid, _ s: UIState, _ rect: Rect) {
        guard !rect.isEmpty else { return }
        let kind = s.activeVerifier
        grid.title(rect, "Critique", focused: s.focus == .critique, ascii: s.ascii,
                   detail: [Segment(kind.map { "\($0.rawValue)  [V] next verifier" } ?? "", .text)])
        let content = rect.droppingTop(1)
        func say(_ text: String) {
            grid.put(" " + text, row: content.row, col: content.col, style: .dim, limit: content.right, ascii: s.ascii)
        }
        if s.blind { return say("hidden (blind annotation; h to show)") }
        guard let sol = s.selectedSolution else { return say("no solution selected") }
        guard let kind else { return say("no verifier output for this problem") }
        let blind = SampleFacts.critique(s, sol.id, kind, informed: false)
        let informed = SampleFacts.critique(s, sol.id, kind, informed: true)
        guard blind != nil || informed != nil else { return say("no \(kind.rawValue) critique of this sample") }

        var area = content
        if let b = blind, let i = informed {
            var differences: [String] = []
            if b.accepts(threshold: s.threshold) != i.accepts(threshold: s.threshold) { differences.append("verdict") }
            if b.firstErrorStep != i.firstErrorStep {
                differences.append("first error \(stepName(b.firstErrorStep)) vs \(stepName(i.firstErrorStep))")
            }
            if !differences.isEmpty {
                let g = Glyphs.forState(s.ascii)
                grid.fill(Rect(row: area.row, col: area.col, rows: 1, cols: area.cols), style: .disagree)
                grid.put(" \(g.disagree) blind and informed disagree: " + differences.joined(separator: "; "),
                         row: area.row, col: area.col, style: .disagree, limit: area.right, ascii: s.ascii)
                area = area.droppingTop(1)
            }
            let half = (area.cols - 1) / 2
            let left = Rect(row: area.row, col: area.col, rows: area.rows, cols: half)
            let right = Rect(row: area.row, col: area.col + half + 1, rows: area.rows, cols: area.cols - half - 1)
            column(&grid, s, b, "blind", left)
            let g = Glyphs.forState(s.ascii)
            for r in area.row..<area.bottom { grid.put(g.vertical, row: r, col: left.right, style: .border) }
            column(&grid, s, i, "informed", right)
        } else if let c = blind ?? informed {
            column(&grid, s, c, c.informed ? "informed" : "blind", area)
        }
    }

    static func stepName(_ i: Int?) -> String { i.map { "step \($0 + 1)" } ?? "none" }

    static func column(_ grid: inout CellGrid, _ s: UIState, _ c: Critique, _ label: String, _ rect: Rect) {
        guard !rect.isEmpty else { return }
        grid.lines(columnLines(s, c, label, width: rect.cols), in: rect, top: s.critiqueTop, ascii: s.ascii)
    }

    /// Rows the critique pane's text takes (its longest column), for scrolling.
    static func lineCount(_ s: UIState, width: Int) -> Int {
        guard !s.blind, let sol = s.selectedSolution, let kind = s.activeVerifier else { return 0 }
        let blind = SampleFacts.critique(s, sol.id, kind, informed: false)
        let informed = SampleFacts.critique(s, sol.id, kind, informed: true)
        if let b = blind, let i = informed {
            let half = (width - 1) / 2
            return 1 + max(columnLines(s, b, "blind", width: half).count, columnLines(s, i, "informed", width: width - half - 1).count)
        }
        return (blind ?? informed).map { columnLines(s, $0, "", width: width).count } ?? 0
    }

    static func columnLines(_ s: UIState, _ c: Critique, _ label: String, width columns: Int) -> [Line] {
        let style = StyleID.verifier(c.verifier.rawValue)
        var head: Line = [Segment(" " + label + ": ", style)]
        if let score = c.score { head.append(Segment("score \(scoreText(score)) ", .text)) }
        if let accepts = c.accepts(threshold: s.threshold) {
            head.append(Segment(accepts ? "accepts " : "rejects ", accepts ? .correct : .wrong))
        }
        head.append(Segment("first error: \(stepName(c.firstErrorStep))", c.firstErrorStep == nil ? .dim : style))
        if c.parse != .ok { head.append(Segment(" (\(c.parse.rawValue))", c.parse == .unparseable ? .failed : .dim)) }
        let width = max(1, columns - 1)
        let body = c.explanation.isEmpty ? c.raw : c.explanation
        var lines: [Line] = []
        let headWidth = head.reduce(0) { $0 + DisplayWidth.of($1.text) }
        if headWidth <= columns { lines.append(head) } else {
            lines += wrapped(head.map(\.text).joined(), width: width, style: style).map { [Segment(" ", .text)] + $0 }
        }
        lines += wrapped(body, width: width, style: .text).map { [Segment(" ", .text)] + $0 }
        return lines
    }
}
