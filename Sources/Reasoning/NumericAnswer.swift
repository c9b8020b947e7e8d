import Foundation

/// Plain numbers as they appear in answers: `18`, `-3.5`, `$1,000`, `18.00`, `7.` at the end of a
/// sentence. Used by every grader that compares numbers (GSM8K, arith, freeform, MATH's numeric
/// fallback).
public enum NumericAnswer {
    /// The number written in `text` with `$`, thousands commas, a leading `+`, surrounding spaces
    /// and a trailing full stop removed (`"$1,000."` → `"1000"`); nil when what is left is not a
    /// plain decimal number.
    public static func clean(_ text: String) -> String? {
        if isPlainDecimal(text) { return text }   // already clean: the common case
        // Quick rejection of anything with a byte no number has (letters, most of a long text).
        guard text.utf8.allSatisfy({ TextScan.isDigit($0) || TextScan.isSpace($0) || $0 == 0x2E || $0 == 0x2C
                                     || $0 == 0x24 || $0 == 0x2B || $0 == 0x2D }) else { return nil }
        var scalars = Array(TextScan.trim(text).unicodeScalars)
        while scalars.last == "." { scalars.removeLast() }
        scalars.removeAll { $0 == "$" || $0 == "," }
        var s = TextScan.trim(String(String.UnicodeScalarView(scalars)))
        if s.hasPrefix("+") { s.removeFirst() }
        return isPlainDecimal(s) ? s : nil
    }

    /// The exact decimal value of a number as `clean` accepts it.
    public static func value(_ text: String) -> Decimal? {
        guard let s = clean(text) else { return nil }
        // Decimal(string:) accepts a valid prefix ("12abc" → 12); `clean` has already checked
        // that the whole string is a number.
        return Decimal(string: s, locale: posix)
    }

    private static let posix = Locale(identifier: "en_US_POSIX")

    /// The canonical spelling of a number as `clean` accepts it: no leading zeros, no trailing
    /// fraction zeros, no `-0` (`"-007.50"` → `"-7.5"`). Two numbers are equal exactly when
    /// their canonical spellings are.
    public static func canonical(_ text: String) -> String? {
        guard var s = clean(text) else { return nil }
        var negative = false
        if s.hasPrefix("-") { negative = true; s.removeFirst() }
        var whole = Substring(s), fraction = Substring("")
        if let point = s.firstIndex(of: ".") {
            whole = s[..<point]
            fraction = s[s.index(after: point)...]
        }
        whole = whole.drop(while: { $0 == "0" })
        while fraction.last == "0" { fraction = fraction.dropLast() }
        var out = whole.isEmpty ? "0" : String(whole)
        if !fraction.isEmpty { out += "." + fraction }
        if negative && out != "0" { out = "-" + out }
        return out
    }

    /// Numeric equality: `"18.00" == "18"`, `"1,000" == "1000"`, `"$5" == "5"`. Falls back to
    /// comparing the trimmed strings when either side is not a number.
    public static func equal(_ a: String, _ b: String) -> Bool {
        if let x = canonical(a), let y = canonical(b) { return x == y }
        return TextScan.trim(a) == TextScan.trim(b)
    }

    /// `-?digits(.digits)?` or `-?.digits`.
    static func isPlainDecimal(_ s: String) -> Bool {
        var bytes = Substring(s).utf8[...]
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        guard !bytes.isEmpty else { return false }
        var digitsBefore = 0, digitsAfter = 0, sawPoint = false
        for b in bytes {
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                if sawPoint { digitsAfter += 1 } else { digitsBefore += 1 }
            } else if b == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else {
                return false
            }
        }
        return sawPoint ? digitsAfter > 0 : digitsBefore > 0
    }

    /// Every number written in `text`, in order, cleaned (`$` and thousands commas dropped).
    ///
    /// A number is an optional sign, an optional `$`, digits with optional thousands commas
    /// (a comma counts only when exactly three digits follow it, so a list `1,2,3` stays three numbers), and an optional fraction part. A `-` is a
    /// sign only when it does not follow a letter or digit, so `16-3` reads as 16 and 3, and
    /// `10-15` as 10 and 15. A full stop ending a sentence is never part of the number.
    public static func numbers(in text: String) -> [String] {
        let b = Array(text.utf8)
        var out: [String] = []
        var i = 0
        func isDigit(_ k: Int) -> Bool { k < b.count && b[k] >= 48 && b[k] <= 57 }
        func isWordByte(_ k: Int) -> Bool {
            guard k >= 0 && k < b.count else { return false }
            let c = b[k]
            return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
        }
        while i < b.count {
            // Where a number could start: a digit, `.digit`, `$digit`, or a sign before those.
            var j = i
            var negative = false
            if b[j] == UInt8(ascii: "-") && !isWordByte(j - 1) {
                negative = true
                j += 1
            }
            if j < b.count && b[j] == UInt8(ascii: "$") { j += 1 }
            let startsWithPoint = j < b.count && b[j] == UInt8(ascii: ".") && isDigit(j + 1) && !isDigit(j - 1)
            guard isDigit(j) || startsWithPoint else {
                i += 1
                continue
            }
            // A digit glued to letters before it (`x2`, `A1`) is still read: lm-eval does too.
            var digits: [UInt8] = negative ? [UInt8(ascii: "-")] : []
            var k = j
            if !startsWithPoint {
                while k < b.count {
                    if isDigit(k) {
                        digits.append(b[k]); k += 1
                    } else if b[k] == UInt8(ascii: ","), isDigit(k + 1), isDigit(k + 2), isDigit(k + 3), !isDigit(k + 4) {
                        k += 1
                    } else {
                        break
                    }
                }
            } else {
                digits.append(UInt8(ascii: "0"))
            }
            if k < b.count && b[k] == UInt8(ascii: ".") && isDigit(k + 1) {
                digits.append(UInt8(ascii: ".")); k += 1
                while isDigit(k) { digits.append(b[k]); k += 1 }
            }
            out.append(String(decoding: digits, as: UTF8.self))
            i = k
        }
        return out
    }
}
