import Foundation
import Reasoning

/// Turning what a model answered into a `Critique`, and a critique back into the text a
/// refinement prompt shows. Pure functions: the loop calls them, the tests check them.
public enum VerifierScoring {
    /// The multiple-choice score P(Correct) / (P(Correct) + P(Incorrect)) from the two
    /// continuations' log-probabilities, computed as a logistic of their difference so that
    /// very small probabilities do not underflow. Nil when neither is finite (nothing to compare).
    public static func mcScore(logCorrect: Double, logIncorrect: Double) -> Double? {
        if logCorrect.isNaN || logIncorrect.isNaN || logCorrect == .infinity || logIncorrect == .infinity { return nil }
        if logCorrect == -.infinity && logIncorrect == -.infinity { return nil }
        if logIncorrect == -.infinity { return 1 }
        if logCorrect == -.infinity { return 0 }
        return 1 / (1 + exp(logIncorrect - logCorrect))
    }

    /// The critique an MC verifier gives from its two log-probabilities.
    public static func mcCritique(id: String, solution: Solution, informed: Bool,
                                  logCorrect: Double, logIncorrect: Double) -> Critique {
        let raw = String(format: "log P(Correct) = %.4f, log P(Incorrect) = %.4f", logCorrect, logIncorrect)
        guard let p = mcScore(logCorrect: logCorrect, logIncorrect: logIncorrect) else {
            return Critique(id: id, solutionID: solution.id, verifier: .mc, informed: informed,
                            explanation: "no finite log-probability", raw: raw, parse: .unparseable, round: solution.round)
        }
        return Critique(id: id, solutionID: solution.id, verifier: .mc, informed: informed, score: p,
                        verdict: p >= VerifierKind.mc.defaultThreshold ? .correct : .incorrect,
                        explanation: String(format: "P(Correct) = %.3f", p), raw: raw, parse: .ok, round: solution.round)
    }

    /// The critique a text-writing verifier (CoT-Binary, CoT-Score, step critique) gives. An
    /// answer no rule can read is kept with its raw text and marked unparseable.
    public static func textCritique(id: String, kind: VerifierKind, solution: Solution, informed: Bool,
                                    output: String) -> Critique {
        let parsed: ParsedVerification
        switch kind {
        case .cotBinary: parsed = VerifierOutputParser.binary(output)
        case .cotScore: parsed = VerifierOutputParser.score(output)
        case .critique: parsed = VerifierOutputParser.critique(output, stepCount: solution.steps.count)
        case .mc, .tournament: parsed = .unparseable(output)
        }
        return Critique(id: id, solutionID: solution.id, verifier: kind, informed: informed, score: parsed.score,
                        verdict: parsed.verdict, firstErrorStep: parsed.firstErrorStep, explanation: parsed.explanation,
                        raw: output, parse: parsed.parse, round: solution.round)
    }

    /// A solution as verifier prompts show it: `Step 1: …` per step, so a critique can name a
    /// step by its number (1-based here, 0-based in `Critique.firstErrorStep`).
    public static func numberedSteps(_ solution: Solution) -> String {
        if solution.steps.isEmpty { return "Step 1: \(solution.text.trimmingCharacters(in: .whitespacesAndNewlines))" }
        return solution.steps.map { "Step \($0.index + 1): \($0.text)" }.joined(separator: "\n")
    }

    /// What the refinement prompt shows as the reviewer's critique: the verifier's own words
    /// where it wrote some (even when they could not be parsed), else a sentence from its score.
    public static func feedback(_ critique: Critique) -> String {
        switch critique.verifier {
        case .mc:
            if let p = critique.score {
                return String(format: "A reviewer estimates the probability that this solution is correct at %.0f%%. Check every step.", p * 100)
            }
            return "A reviewer could not judge this solution. Check every step."
        case .cotBinary, .cotScore, .critique, .tournament:
            let text = critique.raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { return text }
            return critique.explanation.isEmpty ? "A reviewer found a problem. Check every step." : critique.explanation
        }
    }

    /// Whitespace-insensitive text, for telling whether a rewrite repeats its parent.
    public static func normalised(_ text: String) -> String {
        text.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
