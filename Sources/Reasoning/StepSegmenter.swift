import Foundation

/// Splits a free-text solution into steps.
///
/// The rule is line based: every non-empty line is a step (blank lines separate paragraphs and
/// so separate steps too). Two refinements keep steps meaningful:
/// - When the text labels its steps (`Step 1:`, `Step 2.`, or a numbered list `1.`, `2)` …
///   counting up from 0 or 1, at least two labels), a labelled step runs on to the next label
///   or blank line, so a labelled step that wraps onto several lines stays one step; the label
///   itself is dropped because the workbench numbers steps on its own. Unlabelled lines outside
///   labelled steps stay one step per line.
/// - Display maths (`$$ … $$`, `\[ … \]`, `\begin{…} … \end{…}`) and fenced code blocks that
///   span several lines stay inside one step.
///
/// GSM8K calculator notes `<<expr=val>>` are removed from every step. Imported datasets that
/// carry their own step lists use `steps(from:)`, which keeps them as given.
public enum StepSegmenter {
    /// Removes GSM8K calculator annotations: `$<<9*2=18>>18` → `$18`.
    public static func removeCalculatorNotes(_ text: String) -> String {
        let lt = UInt8(ascii: "<"), gt = UInt8(ascii: ">")
        guard text.utf8.contains(lt) else { return text }
        let b = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == lt && i + 1 < b.count && b[i + 1] == lt {
                // Find the closing `>>`; a note never contains another `<<`, and if one comes
                // first this `<<` is not a note.
                var j = i + 2
                var close: Int?
                while j + 1 < b.count {
                    if b[j] == lt && b[j + 1] == lt { break }
                    if b[j] == gt && b[j + 1] == gt { close = j; break }
                    j += 1
                }
                if let close {
                    i = close + 2
                    continue
                }
                out.append(lt)
                out.append(lt)
                i += 2
                continue
            }
            out.append(b[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The steps of a free-text solution.
    public static func segment(_ text: String) -> [Step] {
        let lines = joinBlocks(TextScan.lines(removeCalculatorNotes(text)))
        let labelled = lines.map(label(of:))
        let texts: [String]
        if isLabelledSequence(labelled.compactMap { $0?.number }) {
            // A labelled step takes the lines that follow it up to the next label or the next
            // blank line; unlabelled lines after a blank line are steps of their own (a closing
            // "The answer is 5" line does not vanish into the last numbered step).
            var groups: [String] = []
            var current: [String] = []
            var inLabelledStep = false
            for (line, lab) in zip(lines, labelled) {
                if let lab {
                    if !current.isEmpty { groups.append(current.joined(separator: "\n")) }
                    current = [lab.rest]
                    inLabelledStep = true
                } else if TextScan.trim(line).isEmpty {
                    if !current.isEmpty { groups.append(current.joined(separator: "\n")) }
                    current = []
                    inLabelledStep = false
                } else if inLabelledStep {
                    current.append(line)
                } else {
                    groups.append(line)
                }
            }
            if !current.isEmpty { groups.append(current.joined(separator: "\n")) }
            texts = groups
        } else {
            texts = lines
        }
        return texts
            .map { TextScan.trim($0) }
            .filter { !$0.isEmpty }
            .enumerated()
            .map { Step(index: $0.offset, text: $0.element) }
    }

    /// Steps from a dataset's own list, kept exactly as given (only numbered).
    public static func steps(from list: [String]) -> [Step] {
        list.enumerated().map { Step(index: $0.offset, text: $0.element) }
    }

    // MARK: - Labels

    struct Label { var number: Int; var rest: String }

    /// `Step 3: text`, `Step 3. text`, `3. text`, `3) text` (the space after the label is
    /// required, so `1.5 apples` is no label).
    static func label(of line: String) -> Label? {
        // Markdown emphasis and headings around a label (`**Step 1:**`, `### Step 2`) are
        // dropped with it.
        // Fast path: a label starts with a digit, `S`/`s`, `*` or `#` after spaces.
        guard let firstByte = line.utf8.first(where: { $0 != 0x20 && $0 != 0x09 }),
              TextScan.isDigit(firstByte) || "Ss*#".utf8.contains(firstByte) else { return nil }
        var s = Substring(line).drop(while: { $0 == "*" || $0 == "#" || $0 == " " || $0 == "\t" })
        var hadWord = false
        if s.lowercased().hasPrefix("step") {
            s = s.dropFirst(4)
            hadWord = true
            let afterWord = s.drop(while: { $0 == " " })
            guard afterWord.count < s.count || afterWord.first?.isNumber == true else { return nil }
            s = afterWord
        }
        let digits = s.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, digits.count <= 3, let n = Int(digits) else { return nil }
        s = s.dropFirst(digits.count)
        guard let mark = s.first else { return hadWord ? Label(number: n, rest: "") : nil }
        if hadWord {
            guard mark == ":" || mark == "." || mark == ")" || mark == " " else { return nil }
        } else {
            guard mark == "." || mark == ")" else { return nil }
        }
        s = s.dropFirst()
        guard hadWord || s.first == " " || s.first == "\t" else { return nil }
        let rest = s.drop(while: { $0 == "*" || $0 == " " || $0 == "\t" })
        return Label(number: n, rest: TextScan.trim(rest))
    }

    /// At least two labels, counting up by one from 0 or 1.
    static func isLabelledSequence(_ numbers: [Int]) -> Bool {
        guard numbers.count >= 2, let first = numbers.first, first == 0 || first == 1 else { return false }
        return zip(numbers, numbers.dropFirst()).allSatisfy { $1 == $0 + 1 }
    }

    // MARK: - Multi-line blocks

    /// Joins the lines of a display-maths or code block that spans several lines into one.
    static func joinBlocks(_ lines: [String]) -> [String] {
        var out: [String] = []
        var open: String?   // the closer we are waiting for
        var buffer: [String] = []
        for line in lines {
            if let closer = open {
                buffer.append(line)
                if closes(line, closer) {
                    out.append(buffer.joined(separator: "\n"))
                    buffer = []
                    open = nil
                }
                continue
            }
            if let closer = opener(of: line) {
                open = closer
                buffer = [line]
            } else {
                out.append(line)
            }
        }
        // An unclosed block keeps its lines as they were.
        out.append(contentsOf: buffer)
        return out
    }

    /// The closing mark a line leaves open, if any.
    static func opener(of line: String) -> String? {
        // Fast path: every opener has a `$`, a backslash or a backquote.
        guard line.utf8.contains(where: { $0 == 0x24 || $0 == 0x5C || $0 == 0x60 }) else { return nil }
        let t = TextScan.trim(line)
        if t.hasPrefix("```") { return t.count > 3 && t.dropFirst(3).contains("```") ? nil : "```" }
        if count(of: "$$", in: t) % 2 == 1 { return "$$" }
        if count(of: "\\[", in: t) > count(of: "\\]", in: t) { return "\\]" }
        if let r = t.range(of: "\\begin{") , let close = t[r.upperBound...].firstIndex(of: "}") {
            let env = t[r.upperBound..<close]
            if !t.contains("\\end{\(env)}") { return "\\end{\(env)}" }
        }
        return nil
    }

    static func closes(_ line: String, _ closer: String) -> Bool {
        if closer == "$$" { return count(of: "$$", in: line) % 2 == 1 }
        return line.contains(closer)
    }

    static func count(of needle: String, in text: String) -> Int {
        TextScan.occurrences(of: needle, in: Array(text.utf8)).count
    }
}
