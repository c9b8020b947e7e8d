import Foundation

/// Answer extraction for GSM8K-style problems (also the `arith` kind): a number at the end of a
/// worked solution.
///
/// Two rules, as lm-evaluation-harness reports two:
/// - strict: the last `The answer is N` (also `The final answer is N`, any case, an optional
///   `$`), or GSM8K's own `#### N` reference marker;
/// - flexible: the last number anywhere in the text (lm-eval's `flexible-extract`), after
///   calculator notes `<<expr=val>>` are removed. GSM8K's example model solutions end `A: N`,
///   which this rule reads as N.
public enum GSM8KAnswer {
    /// The reference answer of a GSM8K solution: the number after the last `#### `, or after a
    /// final `A: ` line (the example model solutions' ground truth), commas stripped.
    public static func reference(fromSolution text: String) -> String? {
        if let r = text.range(of: "####", options: .backwards) {
            let tail = text[r.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
            let firstLine = tail.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? tail
            return NumericAnswer.clean(firstLine) ?? nonEmpty(firstLine.replacingOccurrences(of: ",", with: ""))
        }
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let last = lines.last, last.hasPrefix("A:") {
            let value = last.dropFirst(2).trimmingCharacters(in: .whitespaces)
            return NumericAnswer.clean(value) ?? nonEmpty(value.replacingOccurrences(of: ",", with: ""))
        }
        return nil
    }

    /// The strict answer: the number after the last `the answer is` / `the final answer is`
    /// (any case, optional `:`, `$`, `**`), or after the last `#### `.
    public static func strict(in text: String) -> String? {
        let clean = StepSegmenter.removeCalculatorNotes(text)
        let ns = clean as NSString
        let full = NSRange(location: 0, length: ns.length)
        // The later of the two markers wins.
        var best: (location: Int, value: String)?
        for regex in [strictAnswerIs, strictHashes] {
            guard let m = regex.matches(in: clean, range: full).last, m.numberOfRanges > 1 else { continue }
            let r = m.range(at: 1)
            guard r.location != NSNotFound, let value = NumericAnswer.clean(ns.substring(with: r)) else { continue }
            if let b = best, b.location > m.range.location { continue }
            best = (m.range.location, value)
        }
        return best?.value
    }

    /// The flexible answer: the last number in the text, calculator notes removed.
    public static func flexible(in text: String) -> String? {
        NumericAnswer.numbers(in: StepSegmenter.removeCalculatorNotes(text)).last
    }

    /// Grades a generated solution against a reference answer (a number, or a full reference
    /// solution ending `#### N`). Correctness is numeric equality.
    public static func grade(text: String, reference: String?) -> Grade {
        let strictAnswer = strict(in: text)
        let flexibleAnswer = flexible(in: text)
        guard let reference, let ref = referenceValue(reference) else {
            return Grade(strictAnswer: strictAnswer, flexibleAnswer: flexibleAnswer)
        }
        return Grade(strictAnswer: strictAnswer, flexibleAnswer: flexibleAnswer,
                     strictCorrect: strictAnswer.map { NumericAnswer.equal($0, ref) } ?? false,
                     flexibleCorrect: flexibleAnswer.map { NumericAnswer.equal($0, ref) } ?? false)
    }

    /// A reference given either as the bare answer or as a whole solution.
    static func referenceValue(_ reference: String) -> String? {
        if reference.contains("####") || reference.contains("\n") { return self.reference(fromSolution: reference) }
        return nonEmpty(NumericAnswer.clean(reference) ?? reference.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private static func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }

    // Fixed patterns, never built from input, so `try!` cannot fail at run time.
    private static let strictAnswerIs = try! NSRegularExpression(
        pattern: #"(?i)\bthe\s+(?:final\s+)?answer\s+is\s*:?\s*(?:\*\*)?\s*\\?\$?\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?)"#)
    private static let strictHashes = try! NSRegularExpression(
        pattern: #"####\s*\$?\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?)"#)
}
