import Foundation
import Reasoning

/// The shapes a session's labels, critiques and attempts go out in.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// PRM800K-style per-step ratings, one solution per line.
    case prm800k
    /// ProcessBench: the earliest wrong step (or −1) per solution, as one JSON array.
    case processbench
    /// Everything known about each solution, one per line.
    case jsonl
    /// Self-trained-verification pairs: attempt, blind critique, informed critique, ground truth.
    case stv
}

/// Which annotations count as a solution's labels.
public enum LabelSource: Sendable, Equatable {
    /// Human annotations where a solution has any, otherwise the dataset's own labels.
    case auto
    /// Only the named source (`human`, `big-bench-mistake`, …).
    case only(String)

    public init(_ text: String) {
        self = text == "auto" ? .auto : .only(text)
    }
}

public struct ExportResult: Sendable {
    public var data: Data
    /// Records written.
    public var written: Int
    /// Solutions left out because no label of the chosen source covers them (label formats only).
    public var unlabelled: Int
}

/// Turns a session into the files other tools read. Pure: the caller writes the data where it wants.
public enum SessionExport {
    public static func export(_ state: SessionState, format: ExportFormat, labels: LabelSource = .auto) throws -> ExportResult {
        switch format {
        case .processbench: return try processBench(state, labels: labels)
        case .prm800k: return try prm800k(state, labels: labels)
        case .jsonl: return try solutionsJSONL(state)
        case .stv: return try stv(state)
        }
    }

    /// The annotations of a solution that count as its labels under `labels`.
    public static func labelAnnotations(_ state: SessionState, solutionID: String, labels: LabelSource) -> [Annotation] {
        let all = state.annotations(of: solutionID)
        switch labels {
        case .only(let source):
            return all.filter { $0.source == source }
        case .auto:
            let human = all.filter(\.isHuman)
            if !human.isEmpty { return human }
            // A dataset's labels: take one source consistently (the first by name) so two
            // label sets are never mixed into one verdict.
            guard let source = all.map(\.source).min() else { return [] }
            return all.filter { $0.source == source }
        }
    }

    static func processBench(_ state: SessionState, labels: LabelSource) throws -> ExportResult {
        var records: [[String: Any]] = []
        var unlabelled = 0
        for solution in state.allSolutions {
            let label = FirstErrorLabel.from(annotations: labelAnnotations(state, solutionID: solution.id, labels: labels),
                                             stepCount: solution.steps.count)
            guard let index = label.processBenchLabel else { unlabelled += 1; continue }
            var r: [String: Any] = [
                "id": solution.id,
                "generator": solution.origin.label,
                "problem": state.problem(solution.problemID)?.text ?? "",
                "steps": solution.steps.map(\.text),
                "label": index,
            ]
            r["final_answer_correct"] = (solution.correct ?? solution.labelledCorrect).map { $0 as Any } ?? NSNull()
            records.append(r)
        }
        let data = try JSONSerialization.data(withJSONObject: records, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return ExportResult(data: data + Data([0x0A]), written: records.count, unlabelled: unlabelled)
    }

    static func prm800k(_ state: SessionState, labels: LabelSource) throws -> ExportResult {
        var out = Data()
        var written = 0
        var unlabelled = 0
        for solution in state.allSolutions {
            let anns = labelAnnotations(state, solutionID: solution.id, labels: labels)
            guard !anns.isEmpty else { unlabelled += 1; continue }
            let byStep = Dictionary(anns.map { ($0.stepIndex, $0) }, uniquingKeysWith: { a, b in a.time >= b.time ? a : b })
            let label = FirstErrorLabel.from(annotations: anns, stepCount: solution.steps.count)
            var steps: [[String: Any]] = []
            for step in solution.steps {
                let a = byStep[step.index]
                // A first-error mark without an explicit rating is a −1 in PRM800K's terms.
                let rating: Int? = a?.rating?.rawValue ?? (a?.firstError == true ? -1 : nil)
                var completion: [String: Any] = ["text": step.text, "rating": rating.map { $0 as Any } ?? NSNull(), "flagged": NSNull()]
                if let note = a?.note { completion["note"] = note }
                steps.append(["completions": [completion], "chosen_completion": 0, "human_completion": NSNull()])
                if case .step(let i) = label, step.index == i { break }
            }
            let finish: String
            switch label {
            case .step: finish = "found_error"
            case .noError: finish = "solution"
            case .unlabelled: finish = "give_up"
            }
            let problem = state.problem(solution.problemID)
            let record: [String: Any] = [
                "labeler": anns.first?.source ?? "",
                "timestamp": (anns.map(\.time).max() ?? Date()).formatted(JournalCodec.dateStyle),
                "is_quality_control_question": false,
                "is_initial_screening_question": false,
                "question": [
                    "problem": problem?.text ?? "",
                    "ground_truth_answer": problem?.referenceAnswer.map { $0 as Any } ?? NSNull(),
                    "ground_truth_solution": problem?.referenceSolution.map { $0 as Any } ?? NSNull(),
                ] as [String: Any],
                "label": ["steps": steps, "total_time": 0, "finish_reason": finish] as [String: Any],
                "stepwise": ["solution_id": solution.id, "generator": solution.origin.label],
            ]
            out += try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes]) + Data([0x0A])
            written += 1
        }
        return ExportResult(data: out, written: written, unlabelled: unlabelled)
    }

    static func critiqueObject(_ c: Critique) -> [String: Any] {
        [
            "verifier": c.verifier.rawValue,
            "informed": c.informed,
            "score": c.score.map { $0 as Any } ?? NSNull(),
            "verdict": c.verdict?.rawValue as Any? ?? NSNull(),
            "first_error_step": c.firstErrorStep.map { $0 as Any } ?? NSNull(),
            "explanation": c.explanation,
            "raw": c.raw,
            "parse": c.parse.rawValue,
        ]
    }

    static func solutionsJSONL(_ state: SessionState) throws -> ExportResult {
        var out = Data()
        let solutions = state.allSolutions
        for s in solutions {
            let anns: [[String: Any]] = state.annotations(of: s.id).map { a in
                [
                    "step": a.stepIndex,
                    "rating": a.rating.map { $0.rawValue as Any } ?? NSNull(),
                    "first_error": a.firstError,
                    "note": a.note as Any? ?? NSNull(),
                    "source": a.source,
                    "time": a.time.formatted(JournalCodec.dateStyle),
                ]
            }
            let record: [String: Any] = [
                "problem_id": s.problemID,
                "solution_id": s.id,
                "round": s.round,
                "parent_id": s.parentID as Any? ?? NSNull(),
                "origin": s.origin.label,
                "text": s.text,
                "steps": s.steps.map(\.text),
                "answer": s.extractedAnswer as Any? ?? NSNull(),
                "correct": s.correct.map { $0 as Any } ?? NSNull(),
                "labelled_correct": s.labelledCorrect.map { $0 as Any } ?? NSNull(),
                "critiques": (state.critiques[s.id] ?? []).map(critiqueObject),
                "annotations": anns,
            ]
            out += try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes]) + Data([0x0A])
        }
        return ExportResult(data: out, written: solutions.count, unlabelled: 0)
    }

    static func stv(_ state: SessionState) throws -> ExportResult {
        var out = Data()
        var written = 0
        for s in state.allSolutions {
            let critiques = (state.critiques[s.id] ?? []).filter { $0.verifier == .critique }
            let blind = critiques.last { !$0.informed }
            let informed = critiques.last { $0.informed }
            let problem = state.problem(s.problemID)
            let record: [String: Any] = [
                "problem_id": s.problemID,
                "problem": problem?.text ?? "",
                "reference_solution": problem?.referenceSolution as Any? ?? NSNull(),
                "reference_answer": problem?.referenceAnswer as Any? ?? NSNull(),
                "solution_id": s.id,
                "round": s.round,
                "attempt": s.text,
                "steps": s.steps.map(\.text),
                "answer": s.extractedAnswer as Any? ?? NSNull(),
                "correct": s.correct.map { $0 as Any } ?? NSNull(),
                "blind_critique": blind.map { critiqueObject($0) as Any } ?? NSNull(),
                "informed_critique": informed.map { critiqueObject($0) as Any } ?? NSNull(),
            ]
            out += try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes]) + Data([0x0A])
            written += 1
        }
        return ExportResult(data: out, written: written, unlabelled: 0)
    }
}
