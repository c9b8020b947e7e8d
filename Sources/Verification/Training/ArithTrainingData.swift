import Foundation
import Reasoning

/// Training examples for the demo model, made from the `builtin:arith` generator with exactly
/// the prompts the loop uses (base-model, raw text), so what the model learns is what the
/// workbench asks of it: solve; verify in every format, blind and shown the reference, over
/// correct attempts and attempts with one injected mistake; compare two attempts; rewrite an
/// attempt from a critique. scripts/demo-model trains on the JSON lines this writes.
public enum ArithTrainingData {
    public struct Example: Sendable, Equatable {
        /// generate, critique, cot-binary, cot-score, mc, tournament, refine
        public var task: String
        public var informed: Bool
        public var prompt: String
        /// What the model should write after the prompt (the trainer appends end-of-sequence).
        /// Text answers start on a new line after the prompt's last word (`Critique:`).
        public var completion: String
        /// For verification examples: whether the attempt shown is correct.
        public var attemptCorrect: Bool?

        public var jsonObject: [String: Any] {
            var o: [String: Any] = ["task": task, "informed": informed, "prompt": prompt, "completion": completion]
            if let c = attemptCorrect { o["attempt_correct"] = c }
            return o
        }
    }

    /// The examples made from problem `index` of `split`; the same arguments give the same
    /// examples.
    public static func examples(split: ArithTask.Split, index: Int, seed: UInt64 = 0) throws -> [Example] {
        let problem = ArithTask.generate(seed: split.seed(index))
        var rng = SplitMix64(seed: seed ^ (split.seed(index) &* 0x9E37_79B9_7F4A_7C15))
        let p = Problem(id: "arith-\(split.rawValue)-\(index)", source: ArithTask.source, text: problem.text,
                        referenceSolution: problem.solutionText, referenceAnswer: String(problem.answer), kind: .arith)
        let prompts = LoopPrompts(set: .builtin, chat: false)
        var out: [Example] = []

        out.append(Example(task: "generate", informed: false, prompt: try raw(prompts.generation(p)),
                           completion: "\n" + problem.solutionText))

        // A flawed attempt of a random kind at a random step (some combinations cannot be made).
        var flawed: FlawedArithSolution?
        for _ in 0..<6 where flawed == nil {
            let kind = rng.pick(FlawedArithSolution.Kind.allCases)
            flawed = ArithTask.injectError(into: problem, kind: kind, at: rng.int(in: 0...(problem.steps.count - 1)), rng: &rng)
        }
        let correctAttempt = solution(problem.solutionText, p, id: "correct")
        let flawedAttempt = flawed.map { solution($0.text, p, id: "flawed") }

        // One verification example per attempt, in a format drawn at random (the step critique,
        // which the refinement loop relies on, twice as often), blind or informed half the time.
        let kinds: [VerifierKind] = [.critique, .critique, .cotBinary, .cotScore, .mc]
        for (attempt, flaw) in [(correctAttempt, FlawedArithSolution?.none)] + (flawedAttempt.map { [($0, flawed)] } ?? []) {
            let kind = rng.pick(kinds)
            let informed = rng.int(in: 0...1) == 1
            let prompt = try raw(prompts.verification(VerifierID(kind, informed: informed), problem: p, solution: attempt))
            out.append(Example(task: kind.rawValue, informed: informed, prompt: prompt,
                               completion: (kind == .mc ? "" : "\n") + verdict(kind, flaw: flaw, rng: &rng), attemptCorrect: flaw == nil))
        }

        if let flawed, let flawedAttempt {
            // Refinement from the blind critique the model is trained to write.
            let critiqueText = verdict(.critique, flaw: flawed, rng: &rng)
            let critique = Critique(id: "c", solutionID: flawedAttempt.id, verifier: .critique, score: 0, verdict: .incorrect,
                                    firstErrorStep: flawed.firstError, explanation: flawed.explanation, raw: critiqueText)
            out.append(Example(task: "refine", informed: false,
                               prompt: try raw(prompts.refinement(problem: p, attempt: flawedAttempt, critique: critique)),
                               completion: "\n" + problem.solutionText))
            // A pairwise comparison, in a random order.
            let informed = rng.int(in: 0...1) == 1
            let correctFirst = rng.int(in: 0...1) == 1
            let (a, b) = correctFirst ? (correctAttempt, flawedAttempt) : (flawedAttempt, correctAttempt)
            let wrongName = correctFirst ? "B" : "A", rightName = correctFirst ? "A" : "B"
            out.append(Example(task: "tournament", informed: informed,
                               prompt: try raw(prompts.comparison(problem: p, first: a, second: b, informed: informed)),
                               completion: "\nSolution \(wrongName): \(flawed.explanation)\nBetter: \(rightName)"))
        }
        return out
    }

    /// The answer a verifier of `kind` should give: `flaw` nil for a correct attempt.
    static func verdict(_ kind: VerifierKind, flaw: FlawedArithSolution?, rng: inout SplitMix64) -> String {
        let allRight = "Every step is correct."
        switch kind {
        case .critique:
            if let flaw { return "First wrong step: \(flaw.firstError + 1)\nWhy: \(flaw.explanation)" }
            return "First wrong step: none\nWhy: \(allRight)"
        case .cotBinary:
            if let flaw { return "\(flaw.explanation)\nCorrectness: <incorrect>" }
            return "\(allRight)\nCorrectness: <correct>"
        case .cotScore:
            if let flaw { return "\(flaw.explanation)\nScore: \(rng.int(in: 1...3))" }
            return "\(allRight)\nScore: \(rng.int(in: 9...10))"
        case .mc:
            return flaw == nil ? " Correct" : " Incorrect"
        case .tournament:
            return ""
        }
    }

    static func solution(_ text: String, _ problem: Problem, id: String) -> Solution {
        Solution(id: id, problemID: problem.id, text: text, steps: StepSegmenter.segment(text),
                 grade: Grader.grade(text: text, problem: problem), origin: .sampled)
    }

    static func raw(_ prompt: LoopPrompt) throws -> String {
        switch prompt {
        case .raw(let text): return text
        case .chat: throw LoopError.badConfiguration("arith training data uses raw prompts")
        }
    }
}
