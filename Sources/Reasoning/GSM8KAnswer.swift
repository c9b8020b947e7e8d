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
        let b = Array(text.utf8)
        if let at = TextScan.lastOccurrence(of: "####", in: b) {
            var start = at + 4
            while start < b.count && TextScan.isSpace(b[start]) { start += 1 }
            return answerValue(TextScan.string(b[start..<TextScan.endOfLine(b, from: start)]))
        }
        let lastLine = TextScan.lines(text).map { TextScan.trim($0) }.last(where: { !$0.isEmpty })
        if let last = lastLine, last.hasPrefix("A:") {
            return answerValue(String(last.dropFirst(2)))
        }
        return nil
    }

    /// A final answer as written: the clean number, or the text without commas when it is not
    /// a number (`A: 10+John's age`).
    static func answerValue(_ raw: String) -> String? {
        let t = TextScan.trim(raw)
        return NumericAnswer.clean(t) ?? nonEmpty(String(t.unicodeScalars.filter { $0 != "," }))
    }

    /// The strict answer: the number after the last `the answer is` / `the final answer is`
    /// (any case, optional `:`, `$`, `**`), or after the last `#### `, whichever comes later.
    public static func strict(in text: String) -> String? {
        let b = Array(StepSegmenter.removeCalculatorNotes(text).utf8)
        var best: (at: Int, value: String)?
        for at in TextScan.occurrences(of: "answer", in: b, caseInsensitive: true).reversed() where precededByThe(b, at) {
            var i = at + 6
            let afterAnswer = i
            while i < b.count && TextScan.isSpace(b[i]) { i += 1 }
            guard i > afterAnswer, TextScan.matches(b, at: i, Array("is".utf8), caseInsensitive: true) else { continue }
            i += 2
            if let value = numberAfterMarker(b, from: i, allowColonAndBold: true) {
                best = (at, value)
                break
            }
        }
        for at in TextScan.occurrences(of: "####", in: b).reversed() {
            if let b0 = best, b0.at > at { break }
            if let value = numberAfterMarker(b, from: at + 4, allowColonAndBold: false) {
                best = (at, value)
                break
            }
        }
        return best?.value
    }

    /// `the answer`, `The final answer`: the word before `answer` (after white space) is `the`,
    /// or `final` preceded by `the`.
    static func precededByThe(_ b: [UInt8], _ at: Int) -> Bool {
        func wordBefore(_ end: Int) -> (word: String, start: Int)? {
            var j = end
            guard j > 0, TextScan.isSpace(b[j - 1]) else { return nil }
            while j > 0 && TextScan.isSpace(b[j - 1]) { j -= 1 }
            var k = j
            while k > 0 && isLetter(b[k - 1]) { k -= 1 }
            guard k < j else { return nil }
            return (String(decoding: b[k..<j].map(TextScan.lower), as: UTF8.self), k)
        }
        guard var w = wordBefore(at) else { return false }
        if w.word == "final" {
            guard let before = wordBefore(w.start) else { return false }
            w = before
        }
        return w.word == "the"
    }

    static func isLetter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }

    /// After a marker: spaces, an optional `:` and `**` (for `answer is`), an optional `\$`,
    /// then the number.
    static func numberAfterMarker(_ b: [UInt8], from start: Int, allowColonAndBold: Bool) -> String? {
        var i = start
        func skipSpaces() { while i < b.count && TextScan.isSpace(b[i]) { i += 1 } }
        skipSpaces()
        if allowColonAndBold {
            if i < b.count && b[i] == UInt8(ascii: ":") { i += 1 }
            skipSpaces()
            if TextScan.matches(b, at: i, Array("**".utf8), caseInsensitive: false) { i += 2 }
            skipSpaces()
            if i < b.count && b[i] == UInt8(ascii: "\\") { i += 1 }
        }
        if i < b.count && b[i] == UInt8(ascii: "$") { i += 1 }
        skipSpaces()
        guard let (text, _) = TextScan.number(b, at: i) else { return nil }
        return NumericAnswer.clean(text)
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
        let refCanonical = NumericAnswer.canonical(ref)
        func same(_ answer: String) -> Bool {
            if let r = refCanonical, let a = NumericAnswer.canonical(answer) { return a == r }
            return NumericAnswer.equal(answer, ref)
        }
        return Grade(strictAnswer: strictAnswer, flexibleAnswer: flexibleAnswer,
                     strictCorrect: strictAnswer.map(same) ?? false,
                     flexibleCorrect: flexibleAnswer.map(same) ?? false)
    }

    /// A reference given either as the bare answer or as a whole solution.
    static func referenceValue(_ reference: String) -> String? {
        if reference.contains("####") || reference.contains("\n") { return self.reference(fromSolution: reference) }
        return answerValue(reference)
    }

    private static func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }
}
