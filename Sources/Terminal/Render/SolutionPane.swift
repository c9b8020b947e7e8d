import Reasoning

/// The selected solution as numbered steps (its parent beside it when it is a refinement), or
/// the text of a sample still being written.
enum SolutionPane {
    static func draw(_ grid: inout CellGrid, _ s: UIState, _ rect: Rect) {
        guard !rect.isEmpty else { return }
        let focused = s.focus == .solution
        let content = rect.droppingTop(1)
        if let st = s.selectedStreaming, s.session.solutions[st.id] == nil {
            grid.title(rect, "Solution \(st.id)", focused: focused, ascii: s.ascii, detail: [Segment("writing…", .running)])
            drawStreaming(&grid, s, st, content)
            return
        }
        guard let sol = s.selectedSolution else {
            grid.title(rect, "Solution", focused: focused, ascii: s.ascii)
            grid.put(" no solution selected", row: content.row, col: content.col, style: .dim, limit: content.right, ascii: s.ascii)
            return
        }
        // Most useful first: the title is cut at the pane's edge.
        var detail = "step \(s.step + 1)/\(sol.steps.count) · round \(sol.round)"
        if let a = sol.extractedAnswer { detail += " · answer \(a)" }
        if s.maximized { detail += " · Esc: back" }
        detail += " · \(sol.origin.label) · \(sol.id)"
        grid.title(rect, "Solution", focused: focused, ascii: s.ascii,
                   detail: [Segment(s.ascii ? detail.replacingOccurrences(of: "·", with: "-") : detail, .text)])
        let parent = s.parentOfSelected
        let columns = Layout.solutionColumns(content, split: parent != nil)
        if let parent, let left = columns.parent {
            grid.put(" parent " + parent.id, row: left.row, col: left.col, style: .dim, limit: left.right, ascii: s.ascii)
            drawSteps(&grid, s, parent, left.droppingTop(1), top: min(s.stepTop, max(0, parent.steps.count - 1)), cursor: nil, focused: false)
            let g = Glyphs.forState(s.ascii)
            for r in content.row..<content.bottom { grid.put(g.vertical, row: r, col: left.right, style: .border) }
            grid.put(" refined", row: columns.child.row, col: columns.child.col, style: .dim, limit: columns.child.right, ascii: s.ascii)
            drawSteps(&grid, s, sol, columns.child.droppingTop(1), top: s.stepTop, cursor: s.step, focused: focused)
        } else {
            drawSteps(&grid, s, sol, columns.child, top: s.stepTop, cursor: s.step, focused: focused)
        }
    }

    /// Steps from `top` until the area is full; only the visible steps are wrapped, so a
    /// solution of ten thousand steps costs what a screenful costs.
    static func drawSteps(_ grid: inout CellGrid, _ s: UIState, _ sol: Solution, _ area: Rect, top: Int, cursor: Int?, focused: Bool) {
        guard !area.isEmpty else { return }
        if sol.steps.isEmpty {
            grid.lines(wrapped(sol.text, width: area.cols, style: .text), in: area, top: 0, ascii: s.ascii)
            return
        }
        let context = StepLines.Context(s, sol)
        var y = area.row
        var i = max(0, top)
        while i < sol.steps.count && y < area.bottom {
            for line in StepLines.lines(s, sol, i, context: context, width: area.cols, cursor: i == cursor, focused: focused) {
                if y >= area.bottom { break }
                grid.draw(line, row: y, col: area.col, limit: area.right, ascii: s.ascii)
                y += 1
            }
            i += 1
        }
    }

    static func drawStreaming(_ grid: inout CellGrid, _ s: UIState, _ st: StreamingSample, _ area: Rect) {
        let g = Glyphs.forState(s.ascii)
        var lines = wrapped(st.text, width: max(1, area.cols - 1), style: .streaming)
        if lines.isEmpty { lines = [[]] }
        lines[lines.count - 1].append(Segment(g.cursor, .running))
        // Follow the tail as tokens arrive.
        grid.lines(lines, in: area, top: max(0, lines.count - area.rows), ascii: s.ascii)
    }
}
