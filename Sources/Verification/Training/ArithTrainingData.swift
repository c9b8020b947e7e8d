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
    /// `prompts` are the templates the model will be asked with (the demo model ships its own
    /// compact set in its folder; see `PromptSet.load(overridesIn:)`).
    public static func examples(split: ArithTask.Split, index: Int, seed: UInt64 = 0,
                                prompts promptSet: PromptSet = .builtin) throws -> [Example] {
        let problem = ArithTask.generate(seed: split.seed(index))
        var rng = SplitMix64(seed: seed ^ (split.seed(index) &* 0x9E37_79B9_7F4A_7C15))
        let p = Problem(id: "arith-\(split.rawValue)-\(index)", source: ArithTask.source, text: problem.text,
                        referenceSolution: problem.solutionText, referenceAnswer: String(problem.answer), kind: .arith)
        let prompts = LoopPrompts(set: promptSet, chat: false)
        var out: [Example] = []

        out.append(Example(task: "generate", informed: false, prompt: try raw(prompts.generation(p)),
                           completion: "\n" + problem.solutionText))

        // A flawed attempt at a random step (some combinations cannot be made).
        let flawed = flawedSolution(problem, rng: &rng)
        let correctAttempt = solution(problem.solutionText, p, id: "correct")
        let flawedAttempt = flawed.map { solution($0.text, p, id: "flawed") }

        // Verification: the flawed attempt always, a second flawed attempt half the time (the
        // step that differs is what the check must learn to see; a right step is most of every
        // check), the correct one three times in five (a verifier must also learn to accept);
        // the step critique, which the refinement loop relies on, for all; blind or informed
        // half the time each.
        var verifications: [(Solution, FlawedArithSolution?)] = []
        if let flawedAttempt { verifications.append((flawedAttempt, flawed)) }
        if rng.int(in: 0...1) == 1, let second = flawedSolution(problem, rng: &rng) {
            verifications.append((solution(second.text, p, id: "flawed-2"), second))
        }
        if rng.int(in: 0...4) < 3 || flawedAttempt == nil { verifications.append((correctAttempt, nil)) }
        for (attempt, flaw) in verifications {
            out.append(try verification(.critique, informed: rng.int(in: 0...1) == 1, attempt: attempt, flaw: flaw,
                                        problem: problem, p, prompts, rng: &rng))
        }
        // One more verification in another format, half the time, of any of those attempts.
        if rng.int(in: 0...1) == 1 {
            let (attempt, flaw) = rng.pick(verifications)
            let kind = rng.pick([VerifierKind.cotBinary, .cotScore, .mc])
            out.append(try verification(kind, informed: rng.int(in: 0...1) == 1, attempt: attempt, flaw: flaw,
                                        problem: problem, p, prompts, rng: &rng))
        }

        // Three drills, each with its own wrong results: recomputing a line rather than copying
        // it is what the blind verifier learns last (see lineCheckDrill).
        for _ in 0..<3 { out.append(lineCheckDrill(problem: problem, flawed: flawed, rng: &rng)) }

        if let flawed, let flawedAttempt {
            // Refinement from the blind critique the model is trained to write.
            let critiqueText = verdict(.critique, problem: problem, flaw: flawed, rng: &rng)
            let critique = Critique(id: "c", solutionID: flawedAttempt.id, verifier: .critique, score: 0, verdict: .incorrect,
                                    firstErrorStep: flawed.firstError, explanation: flawed.explanation, raw: critiqueText)
            out.append(Example(task: "refine", informed: false,
                               prompt: try raw(prompts.refinement(problem: p, attempt: flawedAttempt, critique: critique)),
                               completion: "\n" + problem.solutionText))
            // A pairwise comparison, in a random order, one time in four.
            if rng.int(in: 0...3) == 0 {
                let informed = rng.int(in: 0...1) == 1
                let correctFirst = rng.int(in: 0...1) == 1
                let (a, b) = correctFirst ? (correctAttempt, flawedAttempt) : (flawedAttempt, correctAttempt)
                let wrongName = correctFirst ? "B" : "A", rightName = correctFirst ? "A" : "B"
                out.append(Example(task: "tournament", informed: informed,
                                   prompt: try raw(prompts.comparison(problem: p, first: a, second: b, informed: informed)),
                                   completion: "\nSolution \(wrongName): \(flawed.explanation)\nBetter: \(rightName)"))
            }
        }
        return out
    }

    static func verification(_ kind: VerifierKind, informed: Bool, attempt: Solution, flaw: FlawedArithSolution?,
                             problem: ArithProblem, _ p: Problem, _ prompts: LoopPrompts,
                             rng: inout SplitMix64) throws -> Example {
        let prompt = try raw(prompts.verification(VerifierID(kind, informed: informed), problem: p, solution: attempt))
        return Example(task: kind.rawValue, informed: informed, prompt: prompt,
                       completion: (kind == .mc ? "" : "\n") + verdict(kind, problem: problem, flaw: flaw, rng: &rng),
                       attemptCorrect: flaw == nil)
    }

    /// A flawed version of `problem`'s solution: a wrong result three times in five (nearly
    /// every mistake the demo model makes itself is a wrong result with the right operands),
    /// otherwise a wrong operand or operation; nil when none of six tries can be made there.
    static func flawedSolution(_ problem: ArithProblem, rng: inout SplitMix64) -> FlawedArithSolution? {
        for _ in 0..<6 {
            let kind: FlawedArithSolution.Kind = rng.int(in: 0...4) < 3 ? .wrongResult
                : rng.pick([.wrongOperand, .wrongOperation])
            if let f = ArithTask.injectError(into: problem, kind: kind, at: rng.int(in: 0...(problem.steps.count - 1)),
                                             rng: &rng) { return f }
        }
        return nil
    }

    /// The check a verifier writes before its verdict, one line per step up to the first wrong
    /// one: the attempt's step as it stands, then the number that step should give (worked out
    /// from the problem and the steps before it, or read off the reference), then `right` when
    /// the two agree and `wrong` when not — `Step 2: 158 - 99 = 69 | 59, wrong.`. The verdict
    /// sits right after the two numbers it compares: a small model cannot compare a number it
    /// writes with one far back in the prompt, nor judge a step it has not recomputed.
    static func recheck(problem: ArithProblem, flaw: FlawedArithSolution?) -> String {
        var lines: [String] = []
        for (i, step) in problem.steps.enumerated() {
            let wrong = flaw?.firstError == i
            lines.append("Step \(i + 1): \((flaw?.steps[i] ?? step).line) | \(step.result), \(wrong ? "wrong" : "right").")
            if wrong { break }
        }
        return lines.joined(separator: "\n")
    }

    /// A drill in the check every verifier answer starts with, without the rest of a verdict:
    /// the operations of the problem's solution and of its flawed version, each shown with
    /// its right result or, half the time, a wrong one, and checked line by line
    /// (`37 - 29 = 9 | 8, wrong.`). In a verifier's answer a verdict is about one token in
    /// thirty and most are `right`; here every other line is `wrong`, so the comparison of the two
    /// numbers — the part a small model learns last — gets a dense signal.
    static func lineCheckDrill(problem: ArithProblem, flawed: FlawedArithSolution?, rng: inout SplitMix64) -> Example {
        var steps = problem.steps
        for s in flawed?.steps ?? [] where !steps.contains(where: { $0.line == s.line }) { steps.append(s) }
        var shown: [String] = [], checked: [String] = []
        for step in steps.prefix(8) {
            // The flawed version's own wrong result is not the truth: recompute every line.
            guard let truth = step.op.apply(step.a, step.b) else { continue }
            var claimed = step
            claimed.result = truth
            if rng.int(in: 0...1) == 1 {
                // The offsets of injectError's wrong results, and ±20 (a carry missed twice).
                let wrong = truth + rng.pick([1, -1, 2, -2, 10, -10, 20, -20, 100, -100])
                if wrong >= 0 { claimed.result = wrong }
            }
            shown.append(claimed.line)
            checked.append("\(claimed.line) | \(truth), \(claimed.result == truth ? "right" : "wrong").")
        }
        return Example(task: "check-lines", informed: false, prompt: "Check:\n" + shown.joined(separator: "\n") + "\nChecked:",
                       completion: "\n" + checked.joined(separator: "\n"))
    }

    /// The answer a verifier of `kind` should give: `flaw` nil for a correct attempt.
    static func verdict(_ kind: VerifierKind, problem: ArithProblem, flaw: FlawedArithSolution?, rng: inout SplitMix64) -> String {
        let allRight = "Every step is correct."
        let check = recheck(problem: problem, flaw: flaw)
        switch kind {
        case .critique:
            if let flaw { return "\(check)\nFirst wrong step: \(flaw.firstError + 1)\nWhy: \(flaw.explanation)" }
            return "\(check)\nFirst wrong step: none\nWhy: \(allRight)"
        case .cotBinary:
            if let flaw { return "\(check)\n\(flaw.explanation)\nCorrectness: <incorrect>" }
            return "\(check)\n\(allRight)\nCorrectness: <correct>"
        case .cotScore:
            if let flaw { return "\(check)\n\(flaw.explanation)\nScore: \(rng.int(in: 1...3))" }
            return "\(check)\n\(allRight)\nScore: \(rng.int(in: 9...10))"
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
