import Foundation
import Journal
import Reasoning
import Terminal

/// Test sessions. The problems, traces and human first-mistake labels come from the shared
/// BIG-Bench-Mistake files; the verifier critiques and the refinement round added on top are
/// fixtures written here (there is no recorded verifier output to read), chosen to exercise
/// every mark the screen can show: agreement and disagreement with the label, blind vs
/// informed, an unparseable critique, a refined child beside its parent.
enum FixtureSession {
    /// Events importing the first `count` records of a BIG-Bench-Mistake file through the
    /// dataset reader: problems, the traces as solutions, and the human first-mistake labels as
    /// annotations of source `big-bench-mistake`.
    static func bigBenchMistake(_ file: String = "multistep_arithmetic.jsonl", count: Int) throws -> [SessionEvent] {
        let url = Paths.bigBenchMistake.appendingPathComponent(file)
        let data = try DatasetReader.read(format: .bigBenchMistake, url: url, strict: true)
        let problems = Array(data.problems.prefix(count))
        let ids = Set(problems.map(\.id))
        let solutions = data.solutions.filter { ids.contains($0.problemID) }
        let sids = Set(solutions.map(\.id))
        let labels = data.annotations.filter { sids.contains($0.solutionID) }
        return problems.map { .problemLoaded($0) } + solutions.map { .solutionAdded($0) } + labels.map { .annotationAdded($0) }
    }

    static let header = JournalHeader(created: Date(timeIntervalSince1970: 1_700_000_000), model: "fixture-model",
                                      backend: "cpu", dataset: "big-bench-mistake", settings: [:])

    /// The BIG-Bench-Mistake records plus fixture critiques and one refinement round.
    static func busy(count: Int = 6) throws -> [SessionEvent] {
        var events = try bigBenchMistake(count: count)
        let solutions: [Solution] = events.compactMap { if case .solutionAdded(let s) = $0 { return s }; return nil }
        for (n, s) in solutions.enumerated() {
            let label = firstMistake(events, s)
            // Critique: right about the first two, one step late on the third, says "all
            // correct" otherwise; an informed critique beside it that finds the label.
            let named: Int? = n < 2 ? label : (n == 2 ? label.map { min($0 + 1, s.steps.count - 1) } : nil)
            events.append(.critiqueFinished(Critique(
                id: "\(s.id)/critique", solutionID: s.id, verifier: .critique, informed: false,
                score: named == nil ? 1 : 0, verdict: named == nil ? .correct : .incorrect, firstErrorStep: named,
                explanation: named.map { "Step \($0 + 1) does not follow from the numbers before it." } ?? "All steps are correct.")))
            events.append(.critiqueFinished(Critique(
                id: "\(s.id)/critique+ref", solutionID: s.id, verifier: .critique, informed: true,
                score: label == nil ? 1 : 0, verdict: label == nil ? .correct : .incorrect, firstErrorStep: label,
                explanation: label.map { "Compared with the reference, step \($0 + 1) is where the result goes wrong." }
                    ?? "Matches the reference answer.")))
            events.append(.critiqueFinished(Critique(
                id: "\(s.id)/cot-score", solutionID: s.id, verifier: .cotScore, score: Double(9 - (n % 4) * 2),
                explanation: "The arithmetic looks careful.", raw: "Score: \(9 - (n % 4) * 2)")))
            if n == 4 {
                events.append(.critiqueFinished(Critique(
                    id: "\(s.id)/mc", solutionID: s.id, verifier: .mc, explanation: "", raw: "Maybe.", parse: .unparseable)))
            }
        }
        // Round 1 for the first problem: its trace rewritten with the first mistake fixed.
        if let first = solutions.first {
            var steps = first.steps
            if let i = firstMistake(events, first) { steps[i].text = "(rewritten) " + steps[i].text }
            let child = Solution(id: first.id + "/r1", problemID: first.problemID, round: 1, parentID: first.id,
                                 text: steps.map(\.text).joined(separator: "\n"), steps: steps,
                                 grade: Grade(strictAnswer: first.grade.strictAnswer, strictCorrect: true), origin: .refined)
            events.append(.roundStarted(problemID: first.problemID, round: 1))
            events.append(.solutionAdded(child))
            events.append(.critiqueFinished(Critique(id: child.id + "/cot-score", solutionID: child.id, verifier: .cotScore,
                                                     score: 10, explanation: "Now correct.", round: 1)))
            events.append(.roundFinished(problemID: first.problemID, round: 1, outcomes: [child.id: .accepted]))
        }
        return events
    }

    static func firstMistake(_ events: [SessionEvent], _ s: Solution) -> Int? {
        let labels: [Annotation] = events.compactMap {
            if case .annotationAdded(let a) = $0, a.solutionID == s.id { return a }
            return nil
        }
        if case .step(let i) = FirstErrorLabel.from(annotations: labels, stepCount: s.steps.count) { return i }
        return nil
    }

    static func state(_ events: [SessionEvent], size: Size = Size(cols: 120, rows: 36)) -> UIState {
        var s = UIState(session: SessionState(header: header, events: events), sessionName: "fixture.jsonl", size: size)
        s.refreshMetrics()
        return s
    }

    /// Writes the events as a journal file.
    static func writeJournal(_ events: [SessionEvent], to url: URL) throws {
        let w = try JournalWriter.create(at: url, header: header)
        try w.append(contentsOf: events)
        try w.flush()
    }
}
