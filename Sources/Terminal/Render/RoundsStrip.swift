/// Rounds 0…R of the current problem: accuracy by ground truth and the selected verifier's mean
/// score, each as a bar and a figure, so a score that climbs while accuracy stays flat shows.
enum RoundsStrip {
    static let labelWidth = 7
    static let columnWidth = 10

    static func draw(_ grid: inout CellGrid, _ s: UIState, _ rect: Rect) {
        guard !rect.isEmpty else { return }
        let m = s.metrics
        let verifier = m?.verifier ?? s.activeVerifier?.rawValue
        grid.title(rect, "Rounds", focused: s.focus == .rounds, ascii: s.ascii,
                   detail: [Segment("accuracy (ground truth) vs mean \(verifier ?? "verifier") score  [ ] step", .text)])
        let g = Glyphs.forState(s.ascii)
        let r0 = rect.row + 1
        grid.put(" round", row: r0, col: rect.col, style: .dim, limit: rect.right)
        grid.put(" acc", row: r0 + 1, col: rect.col, style: .chartAccuracy, limit: rect.right)
        grid.put(" score", row: r0 + 2, col: rect.col, style: .chartScore, limit: rect.right)
        let points = m?.rounds ?? []
        let scale = max(m?.scoreScale ?? 1, 1e-9)
        for r in 0...s.lastRound {
            let col = rect.col + labelWidth + r * columnWidth
            if col + 4 > rect.right { break }
            let limit = min(rect.right, col + columnWidth - 1)
            let current = r == s.round
            grid.put("r\(r)" + (current ? " " + g.pointer : ""), row: r0, col: col,
                     style: current ? (s.focus == .rounds ? .selected : .selectedUnfocused) : .dim, limit: limit, ascii: s.ascii)
            let p = points.first { $0.round == r }
            if s.blind {
                grid.put(g.hidden, row: r0 + 1, col: col, style: .dim, limit: limit, ascii: s.ascii)
                grid.put(g.hidden, row: r0 + 2, col: col, style: .dim, limit: limit, ascii: s.ascii)
                continue
            }
            grid.put(bar(p?.accuracy, g) + " " + percentShort(p?.accuracy), row: r0 + 1, col: col,
                     style: .chartAccuracy, limit: limit, ascii: s.ascii)
            grid.put(bar(p?.meanScore.map { $0 / scale }, g) + " " + scoreShort(p?.meanScore), row: r0 + 2, col: col,
                     style: .chartScore, limit: limit, ascii: s.ascii)
        }
    }

    static func bar(_ fraction: Double?, _ g: Glyphs) -> String {
        guard let f = fraction, f.isFinite else { return " " }
        let i = Int((min(max(f, 0), 1) * Double(g.bars.count - 1)).rounded())
        return g.bars[i]
    }

    static func percentShort(_ v: Double?) -> String {
        guard let v else { return "–" }
        return "\(Int((v * 100).rounded()))%"
    }

    static func scoreShort(_ v: Double?) -> String {
        guard let v else { return "–" }
        return String(format: v >= 10 ? "%.0f" : (v >= 1 ? "%.1f" : "%.2f"), v)
    }
}
