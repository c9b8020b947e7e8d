// Mouse: a click focuses the pane under it and selects the row, step or round there; the wheel
// moves through the pane under the pointer.
extension Reducer {
    static func handleMouse(_ s: inout UIState, _ m: MouseEvent) {
        guard s.mode == .normal || s.mode == .help else { return }
        if s.mode == .help { s.mode = .normal; return }
        let layout = s.layout
        guard let pane = layout.pane(atRow: m.row, col: m.col) else { return }
        s.focus = pane
        switch m.action {
        case .wheelUp: move(&s, -3)
        case .wheelDown: move(&s, 3)
        case .click: click(&s, pane, m, layout)
        }
    }

    static func click(_ s: inout UIState, _ pane: Pane, _ m: MouseEvent, _ layout: Layout) {
        let content = layout.content(pane)
        guard content.contains(row: m.row, col: m.col) else { return }
        let line = m.row - content.row
        switch pane {
        case .samples:
            let rows = s.rows
            let i = s.sampleTop + line
            if rows.indices.contains(i) {
                if rows[i].id != s.selectedID { s.step = 0 }
                s.selectedID = rows[i].id
            }
        case .solution:
            let area = s.solutionTextArea
            guard let sol = s.selectedSolution, area.contains(row: m.row, col: m.col) else { return }
            let context = StepLines.Context(s, sol)
            var y = area.row
            var i = s.stepTop
            while i < sol.steps.count && y < area.bottom {
                let h = StepLines.height(s, sol, i, context: context, width: area.cols)
                if m.row < y + h { s.step = i; return }
                y += h
                i += 1
            }
        case .rounds:
            // Round columns start after the row labels (see RoundsStrip).
            let r = (m.col - content.col - RoundsStrip.labelWidth) / RoundsStrip.columnWidth
            if r >= 0 && r <= s.lastRound && r != s.round { stepRound(&s, r - s.round) }
        case .problem, .critique:
            break
        }
    }
}
