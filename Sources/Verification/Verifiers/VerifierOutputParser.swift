import Foundation
import Reasoning

/// What a verifier's text says, read with rules that tolerate the usual variations. When no
/// rule matches, the result is `.unparseable` with nothing filled in: a verdict is never guessed.
public struct ParsedVerification: Sendable, Equatable {
    public var score: Double?
    public var verdict: Verdict?
    public var firstErrorStep: Int?
    public var explanation: String
    public var parse: ParseStatus

    public static func unparseable(_ explanation: String) -> ParsedVerification {
        ParsedVerification(score: nil, verdict: nil, firstErrorStep: nil, explanation: explanation, parse: .unparseable)
    }
}

/// Readers for the answers of CoT-Binary, CoT-Score, step-critique and tournament prompts.
public enum VerifierOutputParser {
    // MARK: CoT-Binary

    /// Reads `Correctness: <correct>` / `<incorrect>` (the prompt's format; the last such line
    /// wins), else a final sentence saying the solution is correct or incorrect.
    public static func binary(_ text: String) -> ParsedVerification {
        let lower = text.lowercased()
        if let r = lastMatch(#"correctness\s*[:=]\s*[<\[(*"']*\s*(incorrect|correct|wrong|right)\b"#, in: lower) {
            let word = r[1]
            let v: Verdict = (word == "correct" || word == "right") ? .correct : .incorrect
            return ParsedVerification(score: v == .correct ? 1 : 0, verdict: v, firstErrorStep: nil,
                                      explanation: explanationBefore(marker: "correctness", in: text), parse: .ok)
        }
        if let r = lastMatch(#"\b(?:solution|answer|it)\s+is\s+(?:not\s+)?(incorrect|correct|wrong|right)\b"#, in: lower) {
            let negated = r[0].contains(" not ")
            var correct = r[1] == "correct" || r[1] == "right"
            if negated { correct.toggle() }
            let v: Verdict = correct ? .correct : .incorrect
            return ParsedVerification(score: correct ? 1 : 0, verdict: v, firstErrorStep: nil,
                                      explanation: text.trimmingCharacters(in: .whitespacesAndNewlines), parse: .lenient)
        }
        return .unparseable(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    // MARK: CoT-Score

    /// Reads `Score: N` (also `N/10`), N from 1 to 10; the last such line wins. A number outside
    /// 1–10 is unparseable, not clamped.
    public static func score(_ text: String) -> ParsedVerification {
        let lower = text.lowercased()
        if let r = lastMatch(#"score\s*(?:of)?\s*[:=]?\s*\**\s*(\d+(?:\.\d+)?)\s*(?:/\s*10|out of 10)?"#, in: lower),
           let n = Double(r[1]), (1...10).contains(n) {
            return ParsedVerification(score: n, verdict: n >= VerifierKind.cotScore.defaultThreshold ? .correct : .incorrect,
                                      firstErrorStep: nil, explanation: explanationBefore(marker: "score", in: text),
                                      parse: r[0].hasPrefix("score:") || r[0].hasPrefix("score :") ? .ok : .lenient)
        }
        if let r = lastMatch(#"\b(\d+(?:\.\d+)?)\s*(?:/\s*10|out of 10)\b"#, in: lower), let n = Double(r[1]), (1...10).contains(n) {
            return ParsedVerification(score: n, verdict: n >= VerifierKind.cotScore.defaultThreshold ? .correct : .incorrect,
                                      firstErrorStep: nil, explanation: text.trimmingCharacters(in: .whitespacesAndNewlines),
                                      parse: .lenient)
        }
        return .unparseable(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    // MARK: Step critique

    /// Reads the first wrong step of a critique of a solution shown as `Step 1: …`, `Step 2: …`.
    /// Accepts `First wrong step: 3` / `none` (the prompt's format), and looser forms such as
    /// `Step 3 is wrong`, `the first error is in step 3`, `All steps are correct`. Step numbers
    /// are 1-based in the text and 0-based in the result; a number outside the solution is
    /// unparseable.
    public static func critique(_ text: String, stepCount: Int) -> ParsedVerification {
        let lower = text.lowercased()
        let why = explanationAfterWhy(text)

        func found(_ number: Int, _ status: ParseStatus) -> ParsedVerification {
            guard number >= 1 && number <= stepCount else {
                return .unparseable(text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return ParsedVerification(score: 0, verdict: .incorrect, firstErrorStep: number - 1, explanation: why, parse: status)
        }
        let allCorrect = ParsedVerification(score: 1, verdict: .correct, firstErrorStep: nil, explanation: why, parse: .ok)

        // The labelled line the prompt asks for.
        if let r = lastMatch(#"first (?:wrong|incorrect|erroneous) step\s*(?:is)?\s*[:=]?\s*\**\s*(?:step\s*)?(\d+|none|no\b|n/a|-)"#, in: lower) {
            if let n = Int(r[1]) { return found(n, .ok) }
            return allCorrect
        }
        // Looser phrasings, most specific first.
        let noError = [
            #"\ball (?:the )?steps are (?:correct|right|valid)"#,
            #"\b(?:there (?:is|are) )?no (?:wrong|incorrect|erroneous) steps?\b"#,
            #"\bno (?:errors?|mistakes?)\b"#,
            #"\bevery step is (?:correct|right|valid)"#,
        ]
        let stepError = [
            #"\b(?:first )?(?:error|mistake) (?:is |occurs )?(?:in|at) step\s*(\d+)"#,
            #"\bstep\s*(\d+)\s*(?:is|was)\s*(?:wrong|incorrect|erroneous|the first (?:wrong|incorrect) step)"#,
            #"\bstep\s*(\d+)\s*(?:contains|has|makes) (?:an? )?(?:error|mistake)"#,
        ]
        for p in stepError {
            if let r = firstMatch(p, in: lower), let n = Int(r[1]) { return found(n, .lenient) }
        }
        for p in noError where firstMatch(p, in: lower) != nil {
            var r = allCorrect
            r.parse = .lenient
            return r
        }
        return .unparseable(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    // MARK: Tournament

    public enum Preference: String, Sendable, Equatable {
        case first = "A"
        case second = "B"
    }

    /// Reads which of two solutions, shown as A and B, the verifier prefers: `Better: A`
    /// (the prompt's format), else `Solution B is better` / `(A)` as the last word.
    public static func preference(_ text: String) -> (Preference?, ParseStatus) {
        let lower = text.lowercased()
        if let r = lastMatch(#"(?:better|preferred|winner|answer)(?: solution)?\s*[:=]\s*\**\s*(?:solution\s*)?\(?([ab])\b"#, in: lower) {
            return (r[1] == "a" ? .first : .second, .ok)
        }
        if let r = lastMatch(#"solution\s*\(?([ab])\)?\s*is\s*(?:better|more correct|correct|preferred)"#, in: lower) {
            return (r[1] == "a" ? .first : .second, .lenient)
        }
        return (nil, .unparseable)
    }

    // MARK: Helpers

    /// Capture groups (0 = whole match) of the last match of `pattern` in `text`.
    static func lastMatch(_ pattern: String, in text: String) -> [String]? {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return nil }
        let ns = text as NSString
        guard let m = re.matches(in: text, range: NSRange(location: 0, length: ns.length)).last else { return nil }
        return groups(m, ns)
    }

    static func firstMatch(_ pattern: String, in text: String) -> [String]? {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return nil }
        let ns = text as NSString
        guard let m = re.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) else { return nil }
        return groups(m, ns)
    }

    private static func groups(_ m: NSTextCheckingResult, _ ns: NSString) -> [String] {
        (0..<m.numberOfRanges).map { i in
            let r = m.range(at: i)
            return r.location == NSNotFound ? "" : ns.substring(with: r)
        }
    }

    /// The justification: everything before the last line naming the verdict.
    static func explanationBefore(marker: String, in text: String) -> String {
        let lines = text.components(separatedBy: "\n")
        if let i = lines.lastIndex(where: { $0.lowercased().contains(marker) }) {
            let before = lines[..<i].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if !before.isEmpty { return before }
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The text after `Why:` / `Reason:` / `Explanation:` when the critique has one, else the
    /// whole critique.
    static func explanationAfterWhy(_ text: String) -> String {
        for label in ["why:", "reason:", "explanation:"] {
            if let r = text.range(of: label, options: .caseInsensitive) {
                let rest = text[r.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
                if !rest.isEmpty { return rest }
            }
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
