import Reasoning

/// The problem text, wrapped; the reference solution and answer behind `i` (hidden while blind).
enum ProblemPane {
    static func draw(_ grid: inout CellGrid, _ s: UIState, _ rect: Rect) {
        guard !rect.isEmpty else { return }
        let focused = s.focus == .problem
        guard let p = s.problem else {
            grid.title(rect, "Problem", focused: focused, ascii: s.ascii)
            grid.put(" no problems in this session yet", row: rect.row + 1, col: rect.col, style: .dim, limit: rect.right, ascii: s.ascii)
            return
        }
        grid.title(rect, "Problem \(p.id)", focused: focused, ascii: s.ascii,
                   detail: [Segment(s.showReference ? "[i] hide reference" : "[i] reference", .text)])
        let content = rect.droppingTop(1)
        let lines = self.lines(s, p, width: content.cols - 1)
        grid.lines(lines, in: content, top: s.problemTop, ascii: s.ascii)
    }

    static func lines(_ s: UIState, _ p: Problem, width: Int) -> [Line] {
        var lines = wrapped(p.text, width: width, style: .text).map { [Segment(" ", .text)] + $0 }
        if s.showReference {
            lines.append([])
            if s.blind {
                lines.append([Segment(" reference hidden (blind; h to show)", .dim)])
            } else {
                lines.append([Segment(" Reference", .title)])
                if let r = p.referenceSolution, !r.isEmpty {
                    lines += wrapped(r, width: width, style: .dim).map { [Segment(" ", .text)] + $0 }
                }
                lines.append([Segment(" Answer: ", .dim), Segment(p.referenceAnswer ?? "–", .correct)])
            }
        }
        return lines
    }
}
