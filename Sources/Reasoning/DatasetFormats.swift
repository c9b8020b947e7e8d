import Foundation

// One reader per dataset format (see DatasetReader.swift for the shapes and the ids).

extension RecordImporter {
    // MARK: GSM8K `{question, answer}`

    mutating func addGSM8K(_ r: JSONRecord) throws {
        let question = try r.string("question")
        let answer = try r.string("answer")
        guard let reference = GSM8KAnswer.reference(fromSolution: answer) else {
            throw r.issue("answer", "no final '#### N' answer")
        }
        dataset.problems.append(Problem(id: "gsm8k-\(stem)-\(index(r))", source: source, text: question,
                                        referenceSolution: answer, referenceAnswer: reference, kind: .gsm8k))
    }

    // MARK: MATH `{problem, solution, level?, type?}`

    mutating func addMath(_ r: JSONRecord) throws {
        let problem = try r.string("problem")
        let solution = try r.string("solution")
        // MATH-500 and similar carry the answer separately; the original MATH boxes it.
        let given = try r.optionalString("answer")
        guard let reference = given ?? MathAnswer.lastBoxed(in: solution) else {
            throw r.issue("solution", "no \\boxed{} answer")
        }
        var metadata: [String: String] = [:]
        for key in ["type", "subject", "unique_id"] {
            if let v = try r.optionalString(key) { metadata[key] = v }
        }
        // MATH writes the level as "Level 5", MATH-500 as the number 5.
        if r.object["level"] is String {
            metadata["level"] = try r.string("level")
        } else if r.has("level"), let level = try r.int("level", nullable: true) {
            metadata["level"] = "Level \(level)"
        }
        dataset.problems.append(Problem(id: "math-\(stem)-\(index(r))", source: source, text: problem,
                                        referenceSolution: solution, referenceAnswer: reference, kind: .math,
                                        metadata: metadata))
    }

    // MARK: GSM8K example model solutions `{question, ground_truth, <system>: {is_correct, solution}}`

    mutating func addGSM8KSolutions(_ r: JSONRecord) throws {
        let question = try r.string("question")
        let truth = try r.string("ground_truth")
        guard let reference = GSM8KAnswer.reference(fromSolution: truth) else {
            throw r.issue("ground_truth", "no final 'A: N' (or '#### N') answer")
        }
        // The file follows GSM8K's test.jsonl line for line, so its problems take those ids.
        let problem = Problem(id: "gsm8k-test-\(index(r))", source: source, text: question,
                              referenceSolution: truth, referenceAnswer: reference, kind: .gsm8k)
        var solutions: [Solution] = []
        for system in r.object.keys.sorted() where system != "question" && system != "ground_truth" {
            let entry = try r.object(system)
            let text = try entry.string("solution")
            let isCorrect = try entry.bool("is_correct")
            let solution = Solution(id: "\(problem.id)/\(system)", problemID: problem.id, text: text,
                                    steps: StepSegmenter.segment(text), origin: .imported(generator: system),
                                    labelledCorrect: isCorrect)
            solutions.append(Grader.graded(solution, problem: problem))
        }
        dataset.problems.append(problem)
        dataset.solutions.append(contentsOf: solutions)
    }

    // MARK: BIG-Bench-Mistake `{input, steps[], answer, target, mistake_index}`

    static let bigBenchMistakeSource = "big-bench-mistake"

    mutating func addBigBenchMistake(_ r: JSONRecord) throws {
        let input = try r.string("input")
        let steps = try r.stringArray("steps")
        let answer = try r.optionalString("answer")
        let target = try r.string("target")
        let mistake = try r.int("mistake_index", nullable: true)
        guard !steps.isEmpty else { throw r.issue("steps", "empty: nothing to label") }
        if let m = mistake, !(0..<steps.count).contains(m) {
            throw r.issue("mistake_index", "\(m) is not a step (the trace has \(steps.count) steps, counted from 0)")
        }
        let problem = Problem(id: "bbm-\(stem)-\(index(r))", source: source, text: input, referenceAnswer: target,
                              kind: .freeform, metadata: ["task": stem])
        let text = steps.joined(separator: "\n")
        // The dataset's own `answer` is the strict answer; our extraction is the fallback.
        let grade = FreeformAnswer.grade(strictAnswer: answer ?? FreeformAnswer.strict(in: text),
                                         flexibleAnswer: FreeformAnswer.flexible(in: text), reference: target)
        let solution = Solution(id: "\(problem.id)/\(Self.bigBenchMistakeSource)", problemID: problem.id, text: text,
                                steps: StepSegmenter.steps(from: steps), grade: grade,
                                origin: .imported(generator: Self.bigBenchMistakeSource))
        dataset.problems.append(problem)
        dataset.solutions.append(solution)
        dataset.annotations.append(contentsOf: DatasetReader.firstMistakeAnnotations(
            solutionID: solution.id, stepCount: steps.count, firstMistake: mistake, source: Self.bigBenchMistakeSource))
    }

    // MARK: ProcessBench `[{id, generator, problem, steps[], final_answer_correct, label}]`

    static let processBenchSource = "processbench"

    mutating func addProcessBench(_ r: JSONRecord) throws {
        let recordID: String
        if let s = r.object["id"] as? String {
            recordID = s
        } else {
            recordID = String(try r.int("id") ?? index(r))
        }
        let generator = try r.string("generator")
        let text = try r.string("problem")
        let steps = try r.stringArray("steps")
        let finalCorrect = try r.bool("final_answer_correct")
        guard let label = try r.int("label") else { throw r.issue("label", "missing") }
        guard !steps.isEmpty else { throw r.issue("steps", "empty: nothing to label") }
        guard label == -1 || (0..<steps.count).contains(label) else {
            throw r.issue("label", "\(label) is neither -1 nor a step (the solution has \(steps.count) steps, counted from 0)")
        }
        // ProcessBench problems are competition maths (GSM8K, MATH, OlympiadBench, Omni-MATH);
        // no reference answer comes with them, so the grade holds only extracted answers and the
        // dataset's verdict sits in `labelledCorrect`.
        let problem = Problem(id: "processbench-\(recordID)", source: source, text: text, kind: .math,
                              metadata: ["generator": generator])
        let solution = Grader.graded(
            Solution(id: "\(problem.id)/\(generator)", problemID: problem.id, text: steps.joined(separator: "\n\n"),
                     steps: StepSegmenter.steps(from: steps), origin: .imported(generator: generator),
                     labelledCorrect: finalCorrect),
            problem: problem)
        dataset.problems.append(problem)
        dataset.solutions.append(solution)
        dataset.annotations.append(contentsOf: DatasetReader.firstMistakeAnnotations(
            solutionID: solution.id, stepCount: steps.count, firstMistake: label >= 0 ? label : nil,
            source: Self.processBenchSource))
    }

    // MARK: PRM800K `{question: {problem, ground_truth_answer}, label: {steps: [...], finish_reason}}`

    static let prm800kSource = "prm800k"

    mutating func addPRM800K(_ r: JSONRecord) throws {
        let question = try r.object("question")
        let problemText = try question.string("problem")
        let groundTruth = try question.optionalString("ground_truth_answer")
        let label = try r.object("label")
        let finishReason = try label.string("finish_reason")
        var texts: [String] = []
        var ratings: [StepRating?] = []
        for step in try label.objectArray("steps") {
            let completions = try step.objectArray("completions")
            let chosen = try step.int("chosen_completion", nullable: true)
            // The step the labeller went on with: the chosen completion; else the labeller's own
            // (human) completion; else, where labelling stopped, the completion rated −1 (the
            // error that ended it); else the first.
            let picked: JSONRecord
            if let chosen {
                guard completions.indices.contains(chosen) else {
                    throw step.issue("chosen_completion", "\(chosen) is not one of the \(completions.count) completions")
                }
                picked = completions[chosen]
            } else if step.object["human_completion"] is [String: Any] {
                picked = try step.object("human_completion")
            } else if let text = step.object["human_completion"] as? String {
                // The README's reconstruction treats the human completion as the step's text.
                picked = JSONRecord(object: ["text": text, "rating": NSNull()], file: step.file, line: step.line,
                                    path: step.fieldPath("human_completion"), position: step.position)
            } else if let first = completions.first {
                picked = try completions.first(where: { try $0.int("rating", nullable: true) == -1 }) ?? first
            } else {
                throw step.issue("completions", "empty, and no human completion")
            }
            texts.append(try picked.string("text"))
            if let value = try picked.int("rating", nullable: true) {
                guard let rating = StepRating(rawValue: value) else {
                    throw picked.issue("rating", "\(value) is not -1, 0 or 1")
                }
                ratings.append(rating)
            } else {
                ratings.append(nil)
            }
        }
        guard !texts.isEmpty else { throw label.issue("steps", "empty: nothing to label") }

        // Many lines label solutions of the same problem: they share the problem of the first.
        let known = problemByText[problemText]
        let problem = known ?? Problem(id: "prm800k-\(stem)-\(index(r))", source: source, text: problemText,
                                       referenceAnswer: groundTruth, kind: .math)
        let problemID = problem.id
        let solutionID = "prm800k-\(stem)-\(index(r))/\(Self.prm800kSource)"
        let solution = Grader.graded(
            Solution(id: solutionID, problemID: problemID, text: texts.joined(separator: "\n\n"),
                     steps: StepSegmenter.steps(from: texts), origin: .imported(generator: Self.prm800kSource)),
            problem: problem)
        let firstBad = ratings.firstIndex(of: .bad)
        var annotations: [Annotation] = []
        for (i, rating) in ratings.enumerated() {
            let last = i == ratings.count - 1
            guard rating != nil || last else { continue }
            annotations.append(Annotation(solutionID: solutionID, stepIndex: i, rating: rating, firstError: i == firstBad,
                                          note: last ? "finish_reason: \(finishReason)" : nil,
                                          time: DatasetReader.labelTime, source: Self.prm800kSource))
        }
        if known == nil {
            problemByText[problemText] = problem
            dataset.problems.append(problem)
        }
        dataset.solutions.append(solution)
        dataset.annotations.append(contentsOf: annotations)
    }
}
