import Foundation

/// Answer extraction and comparison for MATH-style problems (LaTeX answers).
///
/// - strict: the content of the last `\boxed{…}` (balanced braces), `\boxed N`, or `\fbox{…}`;
/// - flexible: the strict answer when there is one, else PRM800K's `# Answer` section, else
///   `the (final) answer is X`, else the last number in the text.
///
/// Comparison follows the normalisation of Hendrycks et al.'s MATH `is_equiv` (written afresh
/// here): `\dfrac`/`\tfrac` → `\frac`, `\left`/`\right` dropped, `^\circ`, `\$`, `%` and unit
/// `\text{ …}` dropped, other `\text{…}` unwrapped, a leading `x =` dropped, `\frac12` →
/// `\frac{1}{2}`, `a/b` → `\frac{a}{b}`, spaces and a trailing full stop removed. On top of it,
/// two answers that both evaluate to plain numbers (decimals, fractions, negative fractions)
/// are equal when the numbers are, so `0.5`, `1/2`, `\frac{1}{2}` and `\dfrac12` all agree.
public enum MathAnswer {
    /// The content of the last `\boxed{…}` / `\boxed N` / `\fbox{…}`; nil when there is none
    /// (or only unbalanced ones).
    public static func lastBoxed(in text: String) -> String? {
        let b = Array(text.utf8)
        let starts = (TextScan.occurrences(of: "\\boxed", in: b).map { $0 + 6 }
                      + TextScan.occurrences(of: "\\fbox", in: b).map { $0 + 5 }).sorted(by: >)
        for start in starts {
            if let content = boxedContent(b, after: start) { return content }
        }
        return nil
    }

    /// The argument of a `\boxed` whose keyword ends at byte `start`.
    static func boxedContent(_ b: [UInt8], after start: Int) -> String? {
        guard start < b.count else { return nil }
        if b[start] == UInt8(ascii: "{") {
            var depth = 0
            var i = start
            while i < b.count {
                switch b[i] {
                case UInt8(ascii: "\\"):
                    // An escaped character (`\{`, `\}`) is not a brace.
                    i += 2
                    continue
                case UInt8(ascii: "{"):
                    depth += 1
                case UInt8(ascii: "}"):
                    depth -= 1
                    if depth == 0 { return TextScan.trim(TextScan.string(b[(start + 1)..<i])) }
                default:
                    break
                }
                i += 1
            }
            return nil
        }
        if b[start] == UInt8(ascii: " ") {
            // `\boxed 5$`: the argument runs to the closing `$` or the end of the line.
            var i = start
            while i < b.count && b[i] == UInt8(ascii: " ") { i += 1 }
            var j = i
            while j < b.count && b[j] != UInt8(ascii: "$") && b[j] != 0x0A { j += 1 }
            let arg = TextScan.trim(TextScan.string(b[i..<j]))
            return arg.isEmpty ? nil : arg
        }
        return nil
    }

    /// The strict answer: the last boxed expression.
    public static func strict(in text: String) -> String? { lastBoxed(in: text) }

    /// The flexible answer: boxed, else `# Answer`, else `the answer is X`, else the last number.
    public static func flexible(in text: String) -> String? {
        if let boxed = lastBoxed(in: text) { return boxed }
        let b = Array(text.utf8)
        if let at = TextScan.lastOccurrence(of: "# Answer", in: b) {
            // The first non-empty line after the heading.
            var i = at + 8
            while i < b.count {
                let end = TextScan.endOfLine(b, from: i)
                let line = TextScan.trim(TextScan.string(b[i..<end]))
                if !line.isEmpty { return line }
                i = end + 1
            }
        }
        if let at = TextScan.lastOccurrence(of: "answer is", in: b, caseInsensitive: true) {
            let start = at + 9
            var line = TextScan.string(b[start..<TextScan.endOfLine(b, from: start)])
            if let stop = line.range(of: ". I hope") { line = String(line[..<stop.lowerBound]) }
            line = TextScan.trim(line)
            if line.hasPrefix(":") { line = TextScan.trim(line.dropFirst()) }
            while line.hasSuffix(".") { line.removeLast() }
            line = line.trimmingCharacters(in: CharacterSet(charactersIn: "$ *"))
            if !line.isEmpty { return line }
        }
        return NumericAnswer.numbers(in: text).last
    }

    /// Grades a generated solution against a reference answer (already extracted, or a whole
    /// reference solution with a `\boxed{}`).
    public static func grade(text: String, reference: String?) -> Grade {
        let strictAnswer = strict(in: text)
        let flexibleAnswer = flexible(in: text)
        guard let reference else { return Grade(strictAnswer: strictAnswer, flexibleAnswer: flexibleAnswer) }
        let ref = lastBoxed(in: reference) ?? reference
        return Grade(strictAnswer: strictAnswer, flexibleAnswer: flexibleAnswer,
                     strictCorrect: strictAnswer.map { equivalent($0, ref) } ?? false,
                     flexibleCorrect: flexibleAnswer.map { equivalent($0, ref) } ?? false)
    }

    /// Whether two answers are the same after normalisation, or are equal numbers.
    public static func equivalent(_ a: String, _ b: String) -> Bool {
        // No real answer is this long; a runaway "answer" is compared as it stands rather than
        // pushed through a dozen regular expressions.
        if a.utf8.count > 10_000 || b.utf8.count > 10_000 { return TextScan.trim(a) == TextScan.trim(b) }
        let na = normalize(a), nb = normalize(b)
        if na == nb { return true }
        if let x = numericValue(na), let y = numericValue(nb) {
            return abs(x - y) <= 1e-9 * max(1, abs(x), abs(y))
        }
        return false
    }

    /// The normalised form of an answer (see the type's comment for the rules).
    public static func normalize(_ answer: String) -> String {
        var s = answer.replacingOccurrences(of: "\n", with: "")
        s = s.replacingOccurrences(of: "\\!", with: "")
        for thin in ["\\,", "\\;", "\\:", "\\quad", "\\qquad", "\\displaystyle"] {
            s = s.replacingOccurrences(of: thin, with: " ")
        }
        s = s.replacingOccurrences(of: "\\\\", with: "\\")
        s = s.replacingOccurrences(of: "tfrac", with: "frac").replacingOccurrences(of: "dfrac", with: "frac")
        s = replace(leftRight, in: s, with: "")
        for degree in ["^{\\circ}", "^\\circ", "°"] { s = s.replacingOccurrences(of: degree, with: "") }
        s = s.replacingOccurrences(of: "\\$", with: "").replacingOccurrences(of: "$", with: "")
        // Units: `5 \text{ cm}`, `\mbox{ inches}` (a text group opening with a space after a
        // value); then any remaining text group is unwrapped.
        s = replace(unitText, in: s, with: "")
        while true {
            let unwrapped = replace(textGroup, in: s, with: "$1")
            if unwrapped == s { break }
            s = unwrapped
        }
        s = s.replacingOccurrences(of: "\\%", with: "").replacingOccurrences(of: "%", with: "")
        s = s.replacingOccurrences(of: " .", with: " 0.").replacingOccurrences(of: "{.", with: "{0.")
        s = s.trimmingCharacters(in: .whitespaces)
        if s.hasPrefix(".") { s = "0" + s }
        // `x = 5`, `k=3`: a short left-hand side is a variable name.
        let sides = s.components(separatedBy: "=")
        if sides.count == 2, sides[0].trimmingCharacters(in: .whitespaces).count <= 2 {
            s = sides[1]
        }
        // Spaces go before the `\sqrt3` fix so that `\sqrt 3` is caught too.
        s = s.replacingOccurrences(of: " ", with: "")
        s = replace(sqrtShort, in: s, with: "\\\\sqrt{$1}")
        s = fixFracs(s)
        while s.hasSuffix(".") { s.removeLast() }
        s = s.replacingOccurrences(of: "{,}", with: "")
        if let m = firstMatch(thousands, in: s) { s = m.replacingOccurrences(of: ",", with: "") }
        if let m = slashFraction.firstMatch(in: s, range: NSRange(location: 0, length: (s as NSString).length)) {
            let ns = s as NSString
            s = "\\frac{\(ns.substring(with: m.range(at: 1)))}{\(ns.substring(with: m.range(at: 2)))}"
        }
        // A multiple-choice letter in parentheses is the letter: `(B)` = `B`.
        if s.count == 3, s.first == "(", s.last == ")", let letter = s.dropFirst().first, letter.isLetter, letter.isUppercase {
            s = String(letter)
        }
        return s
    }

    /// `\frac12` → `\frac{1}{2}`, `\frac1{2}` → `\frac{1}{2}`, `\frac{1}2` → `\frac{1}{2}`.
    static func fixFracs(_ s: String) -> String {
        guard s.contains("\\frac") else { return s }
        let parts = s.components(separatedBy: "\\frac")
        var out = parts[0]
        for part in parts.dropFirst() {
            out += "\\frac"
            var rest = Substring(part)
            // Two arguments, each either a braced group or one character.
            for _ in 0..<2 {
                guard let c = rest.first else { break }
                if c == "{" {
                    guard let group = bracedGroup(rest) else { break }
                    out += group
                    rest = rest.dropFirst(group.count)
                } else {
                    out += "{\(c)}"
                    rest = rest.dropFirst()
                }
            }
            out += rest
        }
        return out
    }

    /// The balanced `{…}` group at the start of `s`, braces included.
    static func bracedGroup(_ s: Substring) -> String? {
        var depth = 0
        for (offset, c) in s.enumerated() {
            if c == "{" { depth += 1 }
            if c == "}" {
                depth -= 1
                if depth == 0 { return String(s.prefix(offset + 1)) }
            }
        }
        return nil
    }

    /// The value of a normalised answer that is a plain number: `-3`, `2.5`, `\frac{1}{2}`,
    /// `-\frac{3}{4}`, `\frac{-3}{4}`.
    static func numericValue(_ s: String) -> Double? {
        if let c = NumericAnswer.clean(s) { return Double(c) }
        var body = Substring(s)
        var sign = 1.0
        if body.hasPrefix("-") { sign = -1; body = body.dropFirst() }
        guard body.hasPrefix("\\frac{"), body.hasSuffix("}") else { return nil }
        body = body.dropFirst(5)
        guard let num = bracedGroup(body) else { return nil }
        let denBody = body.dropFirst(num.count)
        guard let den = bracedGroup(denBody), den.count == denBody.count,
              let n = NumericAnswer.clean(String(num.dropFirst().dropLast())).flatMap(Double.init),
              let d = NumericAnswer.clean(String(den.dropFirst().dropLast())).flatMap(Double.init),
              d != 0 else { return nil }
        return sign * n / d
    }

    // MARK: - Regexes (fixed patterns, never built from input)

    private static func replace(_ regex: NSRegularExpression, in s: String, with template: String) -> String {
        regex.stringByReplacingMatches(in: s, range: NSRange(location: 0, length: (s as NSString).length), withTemplate: template)
    }

    private static func firstMatch(_ regex: NSRegularExpression, in s: String) -> String? {
        let ns = s as NSString
        guard let m = regex.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) else { return nil }
        return ns.substring(with: m.range)
    }

    private static let leftRight = try! NSRegularExpression(pattern: #"\\(?:left|right)(?![A-Za-z])"#)
    private static let unitText = try! NSRegularExpression(
        pattern: #"(?<=\S)\s*\\(?:text|mbox|mathrm)\{\s[^{}]*\}"#)
    private static let textGroup = try! NSRegularExpression(
        pattern: #"\\(?:text|textbf|textit|mbox|mathrm|mathbf|operatorname)\{([^{}]*)\}"#)
    private static let sqrtShort = try! NSRegularExpression(pattern: #"\\sqrt([0-9A-Za-z])"#)
    private static let thousands = try! NSRegularExpression(pattern: #"^-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$"#)
    private static let slashFraction = try! NSRegularExpression(pattern: #"^(-?[0-9]+)/([0-9]+)$"#)
}
