import Foundation
import Journal
import Reasoning

/// The lines one step of a solution takes in the solution pane: a mark column (the human's
/// rating), the step number, the text wrapped under itself, then a line naming the verifiers
/// (and dataset label) that pinpoint this step, then the human note. Used by the renderer and,
/// for heights only, by the reducer to keep the selected step in view.
public enum StepLines {
    public static func numberWidth(_ stepCount: Int) -> Int {
        String(max(1, stepCount)).count
    }

    /// What the marks of every step of one solution depend on, gathered once per solution
    /// rather than once per step (a screen shows dozens of steps).
    public struct Context {
        /// Per step: the critiques naming it as the first error, the selected verifier first.
        var pins: [Int: [Critique]] = [:]
        /// The dataset label's first wrong step and its source.
        var datasetStep: Int?
        var datasetSource: String?

        public init(_ state: UIState, _ solution: Solution) {
            guard !state.blind else { return }
            let active = state.activeVerifier
            for c in state.session.critiques[solution.id] ?? [] {
                if let i = c.firstErrorStep { pins[i, default: []].append(c) }
            }
            for (i, list) in pins {
                pins[i] = list.sorted { a, b in
                    let ka = a.verifier == active ? 0 : 1, kb = b.verifier == active ? 0 : 1
                    return (ka, a.verifier, a.informed ? 1 : 0) < (kb, b.verifier, b.informed ? 1 : 0)
                }
            }
            if let (source, label) = SampleFacts.datasetLabel(state, solution), case .step(let i) = label {
                datasetStep = i
                datasetSource = source
            }
        }
    }

    public static func lines(_ state: UIState, _ solution: Solution, _ index: Int, context: Context, width: Int,
                             cursor: Bool, focused: Bool) -> [Line] {
        guard solution.steps.indices.contains(index), width > 0 else { return [] }
        let g = Glyphs.forState(state.ascii)
        let step = solution.steps[index]
        let nw = numberWidth(solution.steps.count)
        let prefix = 1 + nw + 1
        let textWidth = max(1, width - prefix)
        let human = state.session.annotations[AnnotationKey(solutionID: solution.id, stepIndex: index, source: Annotation.human)]
        let pins = context.pins[index] ?? []
        let dataset = context.datasetStep == index ? context.datasetSource : nil

        var mark = Segment(" ", .text)
        if let h = human {
            if h.firstError { mark = Segment(g.firstError, .humanBad) } else {
                switch h.rating {
                case .bad?: mark = Segment(g.bad, .humanBad)
                case .neutral?: mark = Segment(g.neutral, .humanNeutral)
                case .good?: mark = Segment(g.good, .humanGood)
                case nil: mark = Segment(h.note?.isEmpty == false ? g.note : " ", .note)
                }
            }
        }
        let numberText = String(repeating: " ", count: nw - String(index + 1).count) + String(index + 1) + " "
        let numberStyle: StyleID = cursor ? (focused ? .selected : .selectedUnfocused)
            : pins.first.map { StyleID.verifier($0.verifier.rawValue) } ?? (dataset != nil ? .label : .dim)
        let textStyle: StyleID = pins.first.map { StyleID.verifier($0.verifier.rawValue) } ?? (dataset != nil ? .label : .text)

        var out: [Line] = []
        let wrapped = TextWrap.wrap(step.text, width: textWidth)
        for (i, piece) in (wrapped.isEmpty ? [""] : wrapped).enumerated() {
            let text = highlight(piece, state.lastSearch, textStyle)
            if i == 0 {
                out.append([mark, Segment(numberText, numberStyle)] + text)
            } else {
                out.append([Segment(String(repeating: " ", count: prefix), .text)] + text)
            }
        }
        if !pins.isEmpty || dataset != nil {
            var tags: Line = [Segment(String(repeating: " ", count: prefix) + g.pointer + " ", .dim)]
            for (i, c) in pins.enumerated() {
                if i > 0 { tags.append(Segment(", ", .dim)) }
                tags.append(Segment(c.verifier.rawValue + (c.informed ? "/informed" : ""), StyleID.verifier(c.verifier.rawValue)))
            }
            if let source = dataset {
                if !pins.isEmpty { tags.append(Segment(", ", .dim)) }
                tags.append(Segment("label: " + source, .label))
            }
            if let h = human, pins.isEmpty == false || dataset != nil {
                let agrees = h.firstError
                tags.append(Segment(agrees ? "  " + g.agree + " human" : "", agrees ? .agree : .dim))
            }
            out.append(tags)
        }
        if let note = human?.note, !note.isEmpty {
            for (i, piece) in TextWrap.wrap(note, width: max(1, textWidth - 2)).enumerated() {
                let lead = String(repeating: " ", count: prefix) + (i == 0 ? g.note + " " : "  ")
                out.append([Segment(lead, .note), Segment(piece, .note)])
            }
        }
        return out
    }

    /// Splits a line so that each occurrence of the last search (any case) has the match style.
    static func highlight(_ text: String, _ query: String, _ style: StyleID) -> [Segment] {
        guard !query.isEmpty, text.range(of: query, options: .caseInsensitive) != nil else { return [Segment(text, style)] }
        var out: [Segment] = []
        var rest = text[...]
        while let r = rest.range(of: query, options: .caseInsensitive) {
            if r.lowerBound > rest.startIndex { out.append(Segment(String(rest[..<r.lowerBound]), style)) }
            out.append(Segment(String(rest[r]), .searchMatch))
            rest = rest[r.upperBound...]
        }
        if !rest.isEmpty { out.append(Segment(String(rest), style)) }
        return out
    }

    /// Rows a step takes, without building its styled lines twice where it can be avoided.
    public static func height(_ state: UIState, _ solution: Solution, _ index: Int, context: Context, width: Int) -> Int {
        max(1, lines(state, solution, index, context: context, width: width, cursor: false, focused: false).count)
    }
}
