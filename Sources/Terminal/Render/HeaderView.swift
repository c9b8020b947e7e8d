import Foundation

/// Top line: dataset and problem position, round, model and backend, engine state, file name.
enum HeaderView {
    static func draw(_ grid: inout CellGrid, _ s: UIState, _ rect: Rect) {
        grid.fill(rect, style: .header)
        let g = Glyphs.forState(s.ascii)
        let sep = " " + g.vertical + " "
        var parts: [String] = ["stepwise"]
        var dataset = s.session.header.dataset ?? s.problem?.source ?? "no dataset"
        // A dataset given as a path: its file name is enough here.
        if dataset.contains("/") { dataset = String(dataset.split(separator: "/").last ?? Substring(dataset)) }
        parts.append("\(dataset) \(s.session.problems.isEmpty ? 0 : s.problemIndex + 1)/\(s.session.problems.count)")
        parts.append("round \(s.round)/\(s.lastRound)")
        let model = s.engine?.model ?? s.session.header.model
        let backend = s.engine?.backend ?? s.session.header.backend
        if let model { parts.append(backend.map { "\(model) (\($0))" } ?? model) }
        if let e = s.engine {
            parts.append(e.state + (e.tokensPerSecond.map { String(format: " %.1f tok/s", $0) } ?? ""))
        } else {
            parts.append("recorded")
        }
        if s.blind { parts.append("BLIND") }
        parts.append(s.sessionName)
        grid.put(" " + parts.joined(separator: sep), row: rect.row, col: rect.col, style: .header, limit: rect.right, ascii: s.ascii)
    }
}
