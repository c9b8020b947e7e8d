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
    /// Events importing the first `count` records of a BIG-Bench-Mistake file, the way the
    /// dataset reader names them: problem `bbm-<stem>-<line>`, solution
    /// `<problem>/big-bench-mistake`, steps before the first mistake rated good and the mistake
    /// rated bad and marked as the first error.
    static func bigBenchMistake(_ file: String = "multistep_arithmetic.jsonl", count: Int) throws -> [SessionEvent] {
        struct Record: Decodable {
            var input: String
            var steps: [String]
            var answer: String?
            var target: String
            var mistake_index: Int?
        }
        let url = Paths.bigBenchMistake.appendingPathComponent(file)
        let stem = url.deletingPathExtension().lastPathComponent
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").prefix(count)
        var events: [SessionEvent] = []
        var labels: [SessionEvent] = []
        for (n, line) in lines.enumerated() {
            let r = try JSONDecoder().decode(Record.self, from: Data(line.utf8))
            let p = Problem(id: "bbm-\(stem)-\(n)", source: "big-bench-mistake/\(file)", text: r.input,
                            referenceAnswer: r.target, kind: .freeform)
            let steps = r.steps.enumerated().map { Step(index: $0.offset, text: $0.element) }
            let s = Solution(id: p.id + "/big-bench-mistake", problemID: p.id, text: r.steps.joined(separator: "\n"),
                             steps: steps, grade: Grade(strictAnswer: r.answer, strictCorrect: r.answer == r.target),
                             origin: .imported(generator: "big-bench-mistake"))
            events += [.problemLoaded(p), .solutionAdded(s)]
            let last = r.mistake_index ?? (steps.count - 1)
            for i in 0...min(last, steps.count - 1) {
                let bad = i == r.mistake_index
                labels.append(.annotationAdded(Annotation(solutionID: s.id, stepIndex: i, rating: bad ? .bad : .good,
                                                          firstError: bad, time: Date(timeIntervalSince1970: 0),
                                                          source: "big-bench-mistake")))
            }
        }
        return events + labels
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
