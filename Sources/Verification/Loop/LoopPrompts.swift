import Foundation
import Reasoning

/// The prompts of one run: which template each step uses, filled for a problem and a solution,
/// as raw text for a base model or as a conversation for a chat model.
public struct LoopPrompts: Sendable {
    public let set: PromptSet
    public let chat: Bool

    public init(set: PromptSet, chat: Bool) {
        self.set = set
        self.chat = chat
    }

    /// The sentence that tells a chat model (and the refinement prompt) how to end its answer,
    /// in the form the grader reads.
    public static func answerFormat(_ kind: ProblemKind) -> String {
        switch kind {
        case .gsm8k, .arith: return "End with \"The answer is N.\""
        case .math: return "Put the final answer in \\boxed{}."
        case .sudoku4: return "End with \"Answer:\" followed by the completed grid, four lines of the form ab cd."
        case .freeform: return "End with \"The answer is X.\""
        }
    }

    /// Stop strings for a base model, which would otherwise go on to write the next few-shot
    /// question; a chat model stops at its end-of-turn token.
    func stops(generation kind: ProblemKind?) -> [String] {
        if chat { return [] }
        switch kind {
        case .gsm8k?: return ["\nQuestion:", "\n\n\n"]
        case .math?: return ["\nProblem:", "\n\n\n"]
        case .arith?, .sudoku4?, .freeform?: return ["\n\n\n"]
        case nil: return ["\nProblem:", "\n\n\n"]
        }
    }

    private func generationTemplate(_ kind: ProblemKind) -> String {
        switch kind {
        case .gsm8k: return "generate-gsm8k"
        case .math: return "generate-math"
        case .arith: return "generate-arith"
        case .sudoku4: return "generate-sudoku4"
        case .freeform: return "generate-chat"
        }
    }

    private func chatTurn(_ problem: Problem) throws -> String {
        try set.render("generate-chat", ["problem": problem.text, "answer_format": Self.answerFormat(problem.kind)])
    }

    /// The prompt that asks for a first attempt.
    public func generation(_ problem: Problem) throws -> LoopPrompt {
        if chat { return .chat([LoopMessage(.user, try chatTurn(problem))]) }
        return .raw(try set.render(generationTemplate(problem.kind),
                                   ["problem": problem.text, "answer_format": Self.answerFormat(problem.kind)]))
    }

    /// The reference solution as an informed verifier sees it; nil when the problem has none.
    public static func reference(_ problem: Problem) -> String? {
        if let r = problem.referenceSolution, !r.isEmpty { return r }
        if let a = problem.referenceAnswer, !a.isEmpty { return "The answer is \(a)." }
        return nil
    }

    private func wrap(_ text: String) -> LoopPrompt {
        chat ? .chat([LoopMessage(.user, text)]) : .raw(text)
    }

    /// The prompt of a per-attempt verifier (MC, CoT-Binary, CoT-Score, critique).
    public func verification(_ verifier: VerifierID, problem: Problem, solution: Solution) throws -> LoopPrompt {
        var values = ["problem": problem.text, "steps": VerifierScoring.numberedSteps(solution)]
        if verifier.informed {
            guard let r = Self.reference(problem) else { throw LoopError.noReference(problem.id) }
            values["reference"] = r
        }
        return wrap(try set.render("verify-\(verifier.kind.rawValue)" + (verifier.informed ? "-informed" : ""), values))
    }

    /// The two answers an MC verifier's probabilities are read from (after `Answer:` in raw
    /// text a word follows a space; a chat reply starts without one).
    public var mcContinuations: [String] { chat ? ["Correct", "Incorrect"] : [" Correct", " Incorrect"] }

    /// The pairwise prompt with `first` shown as A and `second` as B.
    public func comparison(problem: Problem, first: Solution, second: Solution, informed: Bool) throws -> LoopPrompt {
        var values = ["problem": problem.text, "solution_a": VerifierScoring.numberedSteps(first),
                      "solution_b": VerifierScoring.numberedSteps(second)]
        if informed {
            guard let r = Self.reference(problem) else { throw LoopError.noReference(problem.id) }
            values["reference"] = r
        }
        return wrap(try set.render(informed ? "verify-tournament-informed" : "verify-tournament", values))
    }

    /// The prompt that asks for a rewrite of `attempt` given a critique: the `refine` template
    /// for a base model; for a chat model the conversation so far (the problem, the attempt as
    /// the model's own turn) and the critique as the next user turn.
    public func refinement(problem: Problem, attempt: Solution, critique: Critique) throws -> LoopPrompt {
        let feedback = VerifierScoring.feedback(critique)
        let format = Self.answerFormat(problem.kind)
        if chat {
            return .chat([
                LoopMessage(.user, try chatTurn(problem)),
                LoopMessage(.assistant, attempt.text),
                LoopMessage(.user, try set.render("refine-chat", ["critique": feedback, "answer_format": format])),
            ])
        }
        return .raw(try set.render("refine", ["problem": problem.text, "generation": attempt.text,
                                              "critique": feedback, "answer_format": format]))
    }
}

/// Problems of a run that are not engine failures.
public enum LoopError: Error, CustomStringConvertible, Equatable {
    case noReference(String)
    case badConfiguration(String)
    case journal(String)
    /// The engine itself stopped working (not one failed request).
    case engine(String)

    public var description: String {
        switch self {
        case .noReference(let p): return "\(p): no reference solution or answer for an informed verifier"
        case .badConfiguration(let m): return m
        case .journal(let m): return m
        case .engine(let m): return "engine: \(m)"
        }
    }
}
