import Foundation
import Journal
import Reasoning

// Annotation keys act on the selected step of the selected solution. Each change becomes a
// journal event (appended and fsync'd by the runner) and is applied to the state at once, so
// the screen and the file never disagree about human work.
extension Reducer {
    static func annotationKey(_ s: inout UIState, _ key: Key, now: Date) -> [Effect] {
        guard let sol = s.selectedSolution, sol.steps.indices.contains(s.step) else {
            s.message = StatusMessage(text: "select a finished solution's step to annotate", isError: true)
            return []
        }
        let target = AnnotationKey(solutionID: sol.id, stepIndex: s.step, source: Annotation.human)
        switch key {
        case .char("N"):
            let existing = s.session.annotations[target]?.note ?? ""
            s.mode = .note(LineEditor(existing), target: target)
            return []
        case .char("c"):
            guard s.session.annotations[target] != nil else { return [] }
            return emit(&s, .annotationRemoved(solutionID: sol.id, stepIndex: s.step, source: Annotation.human,
                                               time: now.roundedForJournal))
        case .char("x"):
            var effects: [Effect] = []
            let wasFirst = s.session.annotations[target]?.firstError == true
            if !wasFirst {
                // Only one first error per solution: an earlier mark elsewhere stays a bad step.
                for other in s.session.annotations(of: sol.id, source: Annotation.human)
                where other.firstError && other.stepIndex != s.step {
                    effects += change(&s, AnnotationKey(solutionID: sol.id, stepIndex: other.stepIndex, source: Annotation.human),
                                      now: now) { $0.firstError = false }
                }
            }
            effects += change(&s, target, now: now) { a in
                a.firstError = !wasFirst
                a.rating = wasFirst ? nil : .bad
            }
            return effects
        case .char("+"): return change(&s, target, now: now) { $0.rating = .good; $0.firstError = false }
        case .char("0"): return change(&s, target, now: now) { $0.rating = .neutral; $0.firstError = false }
        case .char("-"): return change(&s, target, now: now) { $0.rating = .bad }
        default: return []
        }
    }

    static func saveNote(_ s: inout UIState, _ text: String, target: AnnotationKey, now: Date) -> [Effect] {
        guard let sol = s.session.solutions[target.solutionID], sol.steps.indices.contains(target.stepIndex) else {
            s.message = StatusMessage(text: "the annotated solution is gone; note not saved", isError: true)
            return []
        }
        let note = text.trimmingCharacters(in: .whitespaces)
        let effects = change(&s, target, now: now) { $0.note = note.isEmpty ? nil : note }
        s.message = StatusMessage(text: note.isEmpty ? "note removed" : "note saved on step \(target.stepIndex + 1)", isError: false)
        return effects
    }

    /// Edits the human annotation at `key` (creating it if absent) and emits the event: an
    /// addition, or a removal when nothing is left on it.
    static func change(_ s: inout UIState, _ key: AnnotationKey, now: Date, _ edit: (inout Annotation) -> Void) -> [Effect] {
        let time = now.roundedForJournal
        let old = s.session.annotations[key]
        var a = old ?? Annotation(solutionID: key.solutionID, stepIndex: key.stepIndex, time: time, source: Annotation.human)
        edit(&a)
        a.time = time
        if a.rating == nil && !a.firstError && (a.note ?? "").isEmpty {
            guard old != nil else { return [] }
            return emit(&s, .annotationRemoved(solutionID: key.solutionID, stepIndex: key.stepIndex, source: key.source, time: time))
        }
        if a == old { return [] }
        return emit(&s, .annotationAdded(a))
    }

    static func emit(_ s: inout UIState, _ event: SessionEvent) -> [Effect] {
        applySession(&s, event)
        return [.journal(event)]
    }
}
