import Foundation
import Journal
import Reasoning

extension Reducer {
    static func handleKey(_ s: inout UIState, _ key: Key, now: Date) -> [Effect] {
        if key == .interrupt {
            s.quitRequested = true
            return [.quit]
        }
        switch s.mode {
        case .normal: return normalKey(&s, key, now: now)
        case .help:
            // Any key closes help; `q` also quits.
            s.mode = .normal
            if key == .char("q") { s.quitRequested = true; return [.quit] }
            return []
        case .command(var editor):
            switch key {
            case .escape: s.mode = .normal
            case .enter:
                s.mode = .normal
                return runCommand(&s, editor.text)
            default:
                if editor.handle(key) { s.mode = .command(editor) }
            }
            return []
        case .search(var editor):
            switch key {
            case .escape: s.mode = .normal
            case .enter:
                s.mode = .normal
                let q = editor.text.isEmpty ? s.lastSearch : editor.text
                search(&s, q)
            default:
                if editor.handle(key) { s.mode = .search(editor) }
            }
            return []
        case .note(var editor, let target):
            switch key {
            case .escape:
                s.mode = .normal
                s.message = StatusMessage(text: "note cancelled", isError: false)
            case .enter:
                s.mode = .normal
                return saveNote(&s, editor.text, target: target, now: now)
            default:
                if editor.handle(key) { s.mode = .note(editor, target: target) }
            }
            return []
        }
    }

    static func normalKey(_ s: inout UIState, _ key: Key, now: Date) -> [Effect] {
        s.message = nil
        switch key {
        case .char("q"):
            s.quitRequested = true
            return [.quit]
        case .char("?"): s.mode = .help
        case .char("j"), .down: move(&s, 1)
        case .char("k"), .up: move(&s, -1)
        case .char("g"), .home: move(&s, Int.min / 2)
        case .char("G"), .end: move(&s, Int.max / 2)
        case .pageDown: move(&s, page(s))
        case .pageUp: move(&s, -page(s))
        case .tab: cycleFocus(&s, 1)
        case .backTab: cycleFocus(&s, -1)
        case .enter: enter(&s)
        case .escape: escape(&s)
        case .char("n"): goToProblem(&s, s.problemIndex + 1)
        case .char("p"): goToProblem(&s, s.problemIndex - 1)
        case .char("]"): stepRound(&s, 1)
        case .char("["): stepRound(&s, -1)
        case .char("/"): s.mode = .search(LineEditor())
        case .char(":"): s.mode = .command(LineEditor())
        case .char("i"): s.showReference.toggle()
        case .char("h"):
            s.blind.toggle()
            s.message = StatusMessage(text: s.blind ? "blind: ground truth and verifiers hidden" : "blind off", isError: false)
        case .char("o"):
            s.sort = s.sort == .arrival ? .score : .arrival
            s.message = StatusMessage(text: "sort: \(s.sort.rawValue)", isError: false)
        case .char("f"):
            let all = SampleFilter.allCases
            s.filter = all[(all.firstIndex(of: s.filter)! + 1) % all.count]
            s.message = StatusMessage(text: "filter: \(s.filter.rawValue)", isError: false)
        case .char("V"): cycleVerifier(&s)
        case .char("x"), .char("+"), .char("0"), .char("-"), .char("c"), .char("N"):
            return annotationKey(&s, key, now: now)
        case .char(let c) where "svrR ".contains(c):
            guard s.live else {
                s.message = StatusMessage(text: "no engine attached (recorded session; start one with --model)", isError: false)
                return []
            }
            return [.live(LiveRequest(key: c, problemID: s.problem?.id, selectedSolutionID: s.selectedSolution?.id))]
        default: break
        }
        return []
    }

    /// Rows a page moves in the focused pane.
    static func page(_ s: UIState) -> Int {
        max(1, s.layout.content(s.focus).rows - 1)
    }

    /// j/k/g/G/PgUp/PgDn in the focused pane.
    static func move(_ s: inout UIState, _ delta: Int) {
        switch s.focus {
        case .problem: s.problemTop = max(0, s.problemTop.addingClamped(delta))
        case .critique: s.critiqueTop = max(0, s.critiqueTop.addingClamped(delta))
        case .samples:
            let rows = s.rows
            guard !rows.isEmpty else { return }
            let current = s.selectedRowIndex ?? 0
            let next = min(max(0, current.addingClamped(delta)), rows.count - 1)
            if rows[next].id != rows[current].id || s.selectedID == nil { s.step = 0 }
            s.selectedID = rows[next].id
        case .solution:
            let count = s.selectedSolution?.steps.count ?? 0
            guard count > 0 else { return }
            s.step = min(max(0, s.step.addingClamped(delta)), count - 1)
        case .rounds:
            stepRound(&s, delta > 0 ? 1 : -1)
        }
    }

    static func cycleFocus(_ s: inout UIState, _ by: Int) {
        let visible = Pane.allCases.filter { !s.layout.frame($0).isEmpty }
        guard !visible.isEmpty else { return }
        let i = visible.firstIndex(of: s.focus) ?? 0
        s.focus = visible[(i + by + visible.count) % visible.count]
    }

    static func enter(_ s: inout UIState) {
        switch s.focus {
        case .samples: s.focus = .solution
        case .solution: s.maximized = true
        case .problem: s.showReference.toggle()
        case .rounds, .critique: s.focus = .samples
        }
    }

    static func escape(_ s: inout UIState) {
        if s.maximized {
            s.maximized = false
        } else if s.focus != .samples {
            s.focus = .samples
        }
    }

    static func goToProblem(_ s: inout UIState, _ index: Int) {
        let count = s.session.problems.count
        guard count > 0 else { return }
        let next = min(max(0, index), count - 1)
        guard next != s.problemIndex else { return }
        s.problemIndex = next
        s.round = 0
        s.selectedID = nil
        s.step = 0
        s.stepTop = 0
        s.sampleTop = 0
        s.problemTop = 0
        s.critiqueTop = 0
        s.metricsStale = true
    }

    /// Previous/next round, keeping the selection on the same line of descent: going forward
    /// selects the refinement of the selected solution, going back its parent.
    static func stepRound(_ s: inout UIState, _ by: Int) {
        let target = min(max(0, s.round + by), s.lastRound)
        guard target != s.round else { return }
        let current = s.selectedSolution
        s.round = target
        if by > 0, let id = current?.id,
           let child = s.rows.first(where: { row in
               if case .solution(let c) = row { return c.parentID == id }
               if case .streaming(let c) = row { return c.parentID == id }
               return false
           }) {
            s.selectedID = child.id
        } else if by < 0, let parent = current?.parentID, s.session.solutions[parent] != nil {
            s.selectedID = parent
        } else {
            s.selectedID = nil
        }
        s.critiqueTop = 0
        s.metricsStale = true
    }

    static func cycleVerifier(_ s: inout UIState) {
        let present = s.verifiersPresent
        guard !present.isEmpty else {
            s.message = StatusMessage(text: "no verifier output for this problem", isError: false)
            return
        }
        let current = s.activeVerifier.flatMap { present.firstIndex(of: $0) } ?? -1
        s.verifier = present[(current + 1) % present.count]
        s.metricsStale = true
        s.message = StatusMessage(text: "verifier: \(s.verifier!.rawValue)", isError: false)
    }
}

extension Int {
    func addingClamped(_ d: Int) -> Int {
        let (r, o) = addingReportingOverflow(d)
        return o ? (d > 0 ? Int.max : Int.min) : r
    }
}
