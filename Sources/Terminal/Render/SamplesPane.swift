import Journal
import Reasoning

/// One row per sample of the current round: selection, ground-truth glyph, id, answer, each
/// verifier's score or verdict with the step it pinpoints, the human mark and the dataset label.
enum SamplesPane {
    static let verifierColumn = 9

    static func abbreviation(_ k: VerifierKind) -> String {
        switch k {
        case .mc: return "mc"
        case .cotBinary: return "cb"
        case .cotScore: return "cs"
        case .tournament: return "tn"
        case .critique: return "cr"
        }
    }

    static func draw(_ grid: inout CellGrid, _ s: UIState, _ rect: Rect) {
        guard !rect.isEmpty else { return }
        let rows = s.rows
        let g = Glyphs.forState(s.ascii)
        var detail = "r\(s.round) (\(rows.count))"
        if s.sort != .arrival { detail += " sort:\(s.sort.rawValue)" }
        if s.filter != .all { detail += " filter:\(s.filter.rawValue)" }
        grid.title(rect, "Samples", focused: s.focus == .samples, ascii: s.ascii, detail: [Segment(detail, .text)])
        let content = rect.droppingTop(1)
        if rows.isEmpty {
            let why = s.filter == .all ? " no samples in round \(s.round)" : " no \(s.filter.rawValue) samples (f: filter)"
            grid.put(why, row: content.row, col: content.col, style: .dim, limit: content.right, ascii: s.ascii)
            return
        }
        let present = s.verifiersPresent
        let kinds = s.blind ? [] : present
        let active: VerifierKind? = s.verifier ?? present.first
        let selected: Int? = s.selectedID.flatMap { id in rows.firstIndex { $0.id == id } } ?? (rows.isEmpty ? nil : 0)
        for (i, row) in rows.enumerated().dropFirst(s.sampleTop).prefix(content.rows) {
            let y = content.row + i - s.sampleTop
            let line = self.line(s, row, kinds: kinds, active: active, glyphs: g, isSelected: i == selected)
            grid.draw(line, row: y, col: content.col, limit: content.right, ascii: s.ascii)
            if i == selected {
                grid.restyle(row: y, from: content.col, to: content.right, style: s.focus == .samples ? .selected : .selectedUnfocused)
            }
        }
    }

    static func line(_ s: UIState, _ row: SampleRow, kinds: [VerifierKind], active: VerifierKind?, glyphs g: Glyphs, isSelected: Bool) -> Line {
        var out: Line = [Segment(isSelected ? g.selectedRow : " ", .text)]
        switch row {
        case .streaming(let st):
            out.append(Segment(g.running + " ", .running))
            out.append(Segment(TextWrap.pad(st.id, 8) + " ", .dim))
            out.append(Segment("writing… \(st.text.count) chars", .streaming))
            return out
        case .failed(let message, _):
            out.append(Segment(g.failed + " ", .failed))
            out.append(Segment("failed: " + message, .failed))
            return out
        case .solution(let sol):
            if s.blind {
                out.append(Segment(g.hidden + " ", .dim))
            } else {
                switch sol.correct {
                case true?: out.append(Segment(g.correct + " ", .correct))
                case false?: out.append(Segment(g.wrong + " ", .wrong))
                case nil: out.append(Segment(g.unknown + " ", .unknown))
                }
            }
            out.append(Segment(TextWrap.pad(TextWrap.truncate(sol.id, width: 8, ellipsis: g.ellipsis), 8) + " ", .dim))
            let answer = sol.extractedAnswer ?? "–"
            out.append(Segment(TextWrap.pad(TextWrap.truncate(answer, width: 8, ellipsis: g.ellipsis), 8) + " ",
                               sol.extractedAnswer == nil ? .unknown : .text))
            for k in kinds { out.append(verifierCell(s, sol, k, g)) }
            out += marks(s, sol, active, g)
            return out
        }
    }

    static func verifierCell(_ s: UIState, _ sol: Solution, _ k: VerifierKind, _ g: Glyphs) -> Segment {
        let style = StyleID.verifier(k.rawValue)
        guard let c = SampleFacts.critique(s, sol.id, k) else {
            return Segment(TextWrap.pad(abbreviation(k) + " " + g.hidden, verifierColumn), .dim)
        }
        var text = abbreviation(k) + " "
        if c.parse == .unparseable {
            text += "??"
            return Segment(TextWrap.pad(text, verifierColumn), .failed)
        }
        switch k {
        case .cotBinary, .critique:
            if let accepts = c.accepts(threshold: nil) { text += accepts ? g.correct : g.wrong }
        default:
            text += scoreText(c.score)
        }
        if let e = c.firstErrorStep { text += "@\(e + 1)" }
        return Segment(TextWrap.pad(text, verifierColumn), style)
    }

    /// The human label (H), the dataset label (L), and a disagreement mark.
    static func marks(_ s: UIState, _ sol: Solution, _ active: VerifierKind?, _ g: Glyphs) -> Line {
        var out: Line = []
        let labels = SampleFacts.labels(s, sol)
        switch labels.human {
        case .step(let i): out.append(Segment("H@\(i + 1) ", .humanBad))
        case .noError: out.append(Segment("H" + g.correct + " ", .humanGood))
        case .unlabelled:
            if !s.session.annotations(of: sol.id, source: Annotation.human).isEmpty { out.append(Segment("H" + g.hidden + " ", .humanNeutral)) }
        }
        if !s.blind, let (_, label) = labels.dataset {
            switch label {
            case .step(let i): out.append(Segment("L@\(i + 1) ", .label))
            case .noError: out.append(Segment("L" + g.correct + " ", .label))
            case .unlabelled: break
            }
        }
        if !s.blind && SampleFacts.disagrees(s, sol, kind: active) { out.append(Segment(g.disagree, .disagree)) }
        return out
    }
}
