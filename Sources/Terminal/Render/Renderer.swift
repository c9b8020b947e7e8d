/// render(state) → cell grid: the whole screen as a pure function of the UI state. The ncurses
/// backend only copies what changed to the terminal.
public enum Renderer {
    public static func render(_ state: UIState) -> CellGrid {
        var grid = CellGrid(size: state.size)
        let layout = state.layout
        if layout.tooSmall {
            drawTooSmall(&grid, state)
            return grid
        }
        HeaderView.draw(&grid, state, layout.header)
        ProblemPane.draw(&grid, state, layout.frame(.problem))
        SamplesPane.draw(&grid, state, layout.frame(.samples))
        SolutionPane.draw(&grid, state, layout.frame(.solution))
        CritiquePane.draw(&grid, state, layout.frame(.critique))
        let sep = layout.separator
        if !sep.isEmpty {
            let g = Glyphs.forState(state.ascii)
            for r in sep.row..<sep.bottom { grid.put(g.vertical, row: r, col: sep.col, style: .border) }
        }
        RoundsStrip.draw(&grid, state, layout.frame(.rounds))
        MetricsLine.draw(&grid, state, layout.metrics)
        StatusLine.draw(&grid, state, layout.status)
        if state.mode == .help { HelpOverlay.draw(&grid, state) }
        return grid
    }

    static func drawTooSmall(_ grid: inout CellGrid, _ state: UIState) {
        let need = Layout.minimum
        let lines = ["terminal too small", "need \(need.cols)×\(need.rows), have \(state.size.cols)×\(state.size.rows)", "q quits"]
        let top = max(0, state.size.rows / 2 - 1)
        for (i, l) in lines.enumerated() {
            let text = state.ascii ? l.replacingOccurrences(of: "×", with: "x") : l
            let col = max(0, (state.size.cols - DisplayWidth.of(text)) / 2)
            grid.put(text, row: top + i, col: col, style: i == 0 ? .error : .text)
        }
    }
}
