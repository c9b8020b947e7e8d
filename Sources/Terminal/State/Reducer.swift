import Foundation
import Journal
import Reasoning

/// The one place the UI state changes: (state, input) → state, plus the effects (journal
/// appends, export, theme, quit) the runner must carry out. Pure apart from the clock, which
/// the caller passes in so tests are repeatable.
public enum Reducer {
    public static func reduce(_ s: inout UIState, _ input: UIInput, now: Date = Date()) -> [Effect] {
        var effects: [Effect] = []
        switch input {
        case .key(let key):
            effects = handleKey(&s, key, now: now)
        case .mouse(let m):
            handleMouse(&s, m)
        case .resize(let size):
            s.size = size
        case .session(let event):
            applySession(&s, event)
        case .live(let event):
            applyLive(&s, event)
        case .notice(let text, let isError):
            s.message = StatusMessage(text: text, isError: isError)
        }
        clampSelection(&s)
        keepInView(&s)
        return effects
    }

    /// A journaled event, from the follower or the live loop, or one the UI itself made.
    static func applySession(_ s: inout UIState, _ event: SessionEvent) {
        s.session.apply(event)
        s.metricsStale = true
        if case .solutionAdded(let sol) = event { s.streaming[sol.id] = nil }
    }

    static func applyLive(_ s: inout UIState, _ event: LiveEvent) {
        switch event {
        case .sampleStarted(let id, let problemID, let round, let parentID):
            s.streaming[id] = StreamingSample(id: id, problemID: problemID, round: round, parentID: parentID, text: "")
        case .tokens(let id, let delta):
            s.streaming[id]?.text += delta
        case .sampleEnded(let id):
            s.streaming[id] = nil
        case .engine(let status):
            s.engine = status
        }
    }

    // MARK: Keeping the state consistent

    /// Indices stay inside what exists: problem, round, step.
    static func clampSelection(_ s: inout UIState) {
        s.problemIndex = min(max(0, s.problemIndex), max(0, s.session.problems.count - 1))
        s.round = min(max(0, s.round), s.lastRound)
        let count = s.selectedSolution?.steps.count ?? 0
        s.step = min(max(0, s.step), max(0, count - 1))
        if s.focus == .solution && s.layout.frame(.solution).isEmpty { s.focus = .samples }
    }

    /// Scrolls the samples list and the solution pane so the selection is visible.
    static func keepInView(_ s: inout UIState) {
        let layout = s.layout
        let sampleRows = layout.content(.samples).rows
        if sampleRows > 0, let row = s.selectedRowIndex {
            if row < s.sampleTop { s.sampleTop = row }
            if row >= s.sampleTop + sampleRows { s.sampleTop = row - sampleRows + 1 }
        }
        s.sampleTop = max(0, min(s.sampleTop, max(0, s.rows.count - sampleRows)))

        // The problem and critique panes scroll by line, never past their last page.
        // (Measured only when scrolled: most inputs leave both at the top.)
        let problem = layout.content(.problem)
        if s.problemTop > 0 {
            if let p = s.problem, problem.rows > 0 {
                let count = ProblemPane.lines(s, p, width: problem.cols - 1).count
                s.problemTop = max(0, min(s.problemTop, count - problem.rows))
            } else {
                s.problemTop = 0
            }
        }
        let critique = layout.content(.critique)
        if critique.rows > 0 && s.critiqueTop > 0 {
            s.critiqueTop = max(0, min(s.critiqueTop, CritiquePane.lineCount(s, width: critique.cols) - critique.rows))
        }

        let area = s.solutionTextArea
        guard let sol = s.selectedSolution, area.rows > 0 else { s.stepTop = 0; return }
        if s.step < s.stepTop { s.stepTop = s.step }
        // Move the top down until the selected step fits, measuring only the steps on screen.
        let context = StepLines.Context(s, sol)
        var used = 0
        var i = s.step
        while i >= s.stepTop {
            used += StepLines.height(s, sol, i, context: context, width: area.cols)
            if used > area.rows { break }
            i -= 1
        }
        if used > area.rows { s.stepTop = min(s.step, i + 1) }
        s.stepTop = max(0, min(s.stepTop, max(0, sol.steps.count - 1)))
    }
}

extension UIState {
    public var layout: Layout { Layout(size: size, maximized: maximized) }

    /// The selected solution's parent, shown beside it when it is a refinement.
    public var parentOfSelected: Solution? {
        if let p = selectedSolution?.parentID { return session.solutions[p] }
        if let p = selectedStreaming?.parentID { return session.solutions[p] }
        return nil
    }

    /// Where the selected solution's steps are drawn (the right column when split).
    public var solutionTextArea: Rect {
        Layout.solutionColumns(layout.content(.solution), split: parentOfSelected != nil).child
    }
}
