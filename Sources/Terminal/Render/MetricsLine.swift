/// Accuracy, gap and relative gap for the chosen verifier and threshold, and pass@k.
enum MetricsLine {
    static func draw(_ grid: inout CellGrid, _ s: UIState, _ rect: Rect) {
        grid.fill(rect, style: .metrics)
        let text: String
        if s.blind {
            text = " metrics hidden (blind)"
        } else if let m = s.metrics {
            var parts: [String] = []
            parts.append("acc \(percent(m.accuracy))")
            if let v = m.verifier {
                parts.append("\(v) τ=\(m.threshold.map(scoreText) ?? "–")")
                parts.append("gap \(signedPoints(m.gap))")
                parts.append("rel \(percent(m.relativeGap))")
            } else {
                parts.append("no verifier output")
            }
            let pass = m.passAtK.filter { $0.value != nil }.map { "pass@\($0.k) \(percent($0.value))" }
            parts += pass
            text = " " + parts.joined(separator: "  ")
        } else {
            text = " metrics: computing…"
        }
        grid.put(s.ascii ? text.replacingOccurrences(of: "τ", with: "t") : text,
                 row: rect.row, col: rect.col, style: .metrics, limit: rect.right, ascii: s.ascii)
    }

    static func signedPoints(_ v: Double?) -> String {
        guard let v else { return "–" }
        return (v >= 0 ? "+" : "") + String(format: "%.1fpp", v * 100)
    }
}
