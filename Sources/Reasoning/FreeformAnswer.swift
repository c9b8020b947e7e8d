import Foundation

/// Answers of free-form tasks (BIG-Bench-Mistake, ProcessBench, …): a short phrase, an option
/// letter, a list of words, or a number.
///
/// - strict: the rest of the line after the last `the answer is` (any case);
/// - flexible: the strict answer when there is one, else the last non-empty line.
///
/// Two answers agree when their normalised forms do (surrounding space, case, markdown
/// emphasis, quotes and trailing punctuation ignored; runs of spaces are one space), or when
/// both are numbers and equal.
public enum FreeformAnswer {
    public static func strict(in text: String) -> String? {
        guard let r = text.range(of: "the answer is", options: [.backwards, .caseInsensitive]) else { return nil }
        var line = String(text[r.upperBound...].prefix(while: { $0 != "\n" }))
        line = line.trimmingCharacters(in: .whitespaces)
        if line.hasPrefix(":") { line = String(line.dropFirst()).trimmingCharacters(in: .whitespaces) }
        return line.isEmpty ? nil : line
    }

    public static func flexible(in text: String) -> String? {
        if let s = strict(in: text) { return s }
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.last(where: { !$0.isEmpty })
    }

    /// Lower case, single spaces, without surrounding `*`, quotes, `$`, or trailing `.,;:!`.
    public static func normalize(_ answer: String) -> String {
        var s = answer.lowercased()
        s = s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        let strip = CharacterSet(charactersIn: " *\"'`").union(.whitespacesAndNewlines)
        var previous = ""
        while s != previous {
            previous = s
            s = s.trimmingCharacters(in: strip)
            while let last = s.last, ".,;:!".contains(last) { s.removeLast() }
        }
        return s
    }

    public static func equivalent(_ a: String, _ b: String) -> Bool {
        let na = normalize(a), nb = normalize(b)
        if na == nb { return true }
        if let x = NumericAnswer.value(na), let y = NumericAnswer.value(nb) { return x == y }
        return false
    }

    /// Grades a generated text against a reference answer.
    public static func grade(text: String, reference: String?) -> Grade {
        grade(strictAnswer: strict(in: text), flexibleAnswer: flexible(in: text), reference: reference)
    }

    /// Grades answers already extracted (a dataset's own `answer` field, for instance).
    public static func grade(strictAnswer: String?, flexibleAnswer: String?, reference: String?) -> Grade {
        guard let reference else { return Grade(strictAnswer: strictAnswer, flexibleAnswer: flexibleAnswer) }
        return Grade(strictAnswer: strictAnswer, flexibleAnswer: flexibleAnswer,
                     strictCorrect: strictAnswer.map { equivalent($0, reference) } ?? false,
                     flexibleCorrect: flexibleAnswer.map { equivalent($0, reference) } ?? false)
    }
}
