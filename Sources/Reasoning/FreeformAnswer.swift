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
        let b = Array(text.utf8)
        guard let at = TextScan.lastOccurrence(of: "the answer is", in: b, caseInsensitive: true) else { return nil }
        let start = at + 13
        var line = TextScan.trim(TextScan.string(b[start..<TextScan.endOfLine(b, from: start)]))
        if line.hasPrefix(":") { line = TextScan.trim(line.dropFirst()) }
        return line.isEmpty ? nil : line
    }

    public static func flexible(in text: String) -> String? {
        if let s = strict(in: text) { return s }
        return lastNonEmptyLine(text)
    }

    /// The last line with something other than white space on it, trimmed.
    static func lastNonEmptyLine(_ text: String) -> String? {
        let b = Array(text.utf8)
        var end = b.count
        while end > 0 {
            var start = end
            while start > 0 && b[start - 1] != 0x0A { start -= 1 }
            let line = TextScan.trim(TextScan.string(b[start..<end]))
            if !line.isEmpty { return line }
            end = start - 1
        }
        return nil
    }

    /// Lower case, single spaces, without surrounding `*`, quotes, `$`, or trailing `.,;:!`.
    public static func normalize(_ answer: String) -> String {
        // Lower case, with every run of white space one space.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(answer.utf8.count)
        var pendingSpace = false
        let ascii = !answer.utf8.contains(where: { $0 >= 0x80 })
        let lowered = ascii ? answer.utf8.map { Unicode.Scalar(TextScan.lower($0)) } : Array(answer.lowercased().unicodeScalars)
        for u in lowered {
            if ascii ? TextScan.isSpace(UInt8(u.value)) : u.properties.isWhitespace {
                pendingSpace = !scalars.isEmpty
                continue
            }
            if pendingSpace { scalars.append(" "); pendingSpace = false }
            scalars.append(u)
        }
        // Emphasis and quotes at both ends; punctuation too at the end.
        let wrap: Set<Unicode.Scalar> = [" ", "*", "\"", "'", "`"]
        let trailing = wrap.union([".", ",", ";", ":", "!"])
        var lo = 0, hi = scalars.count
        while lo < hi && wrap.contains(scalars[lo]) { lo += 1 }
        while hi > lo && trailing.contains(scalars[hi - 1]) { hi -= 1 }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[lo..<hi])
        return String(view)
    }

    public static func equivalent(_ a: String, _ b: String) -> Bool {
        let na = normalize(a), nb = normalize(b)
        if na == nb { return true }
        if let x = NumericAnswer.canonical(na), let y = NumericAnswer.canonical(nb) { return x == y }
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
