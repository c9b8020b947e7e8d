// Byte-level text search for the extractors. Foundation's `range(of:)` and friends are slow on
// Linux (every call bridges through NSString), and the extractors run over thousands of
// solutions at import and over arbitrarily long model output; the markers they look for are all
// ASCII, so scanning UTF-8 bytes finds them exactly and in linear time.

enum TextScan {
    /// ASCII lower case of one byte (other bytes unchanged).
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 {
        (b >= 65 && b <= 90) ? b | 0x20 : b
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C
    }

    /// Whether `needle` (ASCII) occurs at `i`; `caseInsensitive` expects a lower-case needle.
    @inline(__always) static func matches(_ bytes: [UInt8], at i: Int, _ needle: [UInt8], caseInsensitive: Bool) -> Bool {
        guard i >= 0, i + needle.count <= bytes.count else { return false }
        for k in 0..<needle.count {
            let b = caseInsensitive ? lower(bytes[i + k]) : bytes[i + k]
            if b != needle[k] { return false }
        }
        return true
    }

    /// Start offsets of every occurrence of `needle`, in order.
    static func occurrences(of needle: String, in bytes: [UInt8], caseInsensitive: Bool = false) -> [Int] {
        let n = Array(caseInsensitive ? needle.lowercased().utf8 : needle.utf8)
        guard let first = n.first, bytes.count >= n.count else { return [] }
        var out: [Int] = []
        var i = 0
        let last = bytes.count - n.count
        while i <= last {
            let b = caseInsensitive ? lower(bytes[i]) : bytes[i]
            if b == first && matches(bytes, at: i, n, caseInsensitive: caseInsensitive) {
                out.append(i)
                i += n.count
            } else {
                i += 1
            }
        }
        return out
    }

    /// Start offset of the last occurrence of `needle`.
    static func lastOccurrence(of needle: String, in bytes: [UInt8], caseInsensitive: Bool = false) -> Int? {
        let n = Array(caseInsensitive ? needle.lowercased().utf8 : needle.utf8)
        guard !n.isEmpty, bytes.count >= n.count else { return nil }
        var i = bytes.count - n.count
        while i >= 0 {
            if matches(bytes, at: i, n, caseInsensitive: caseInsensitive) { return i }
            i -= 1
        }
        return nil
    }

    /// Offset of the end of the line that contains `i` (the `\n` or the end of the text).
    static func endOfLine(_ bytes: [UInt8], from i: Int) -> Int {
        var j = i
        while j < bytes.count && bytes[j] != 0x0A { j += 1 }
        return j
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// The text without white space (Unicode's definition) at either end.
    static func trim<S: StringProtocol>(_ s: S) -> String {
        let str = String(s)
        let scalars = str.unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[start...end])
    }

    /// The lines of a text (split at `\n`, a `\r` before it dropped), empty lines kept.
    static func lines(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var out: [String] = []
        var start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
            var end = i
            if end > start && bytes[end - 1] == 0x0D { end -= 1 }
            out.append(string(bytes[start..<end]))
            start = i + 1
        }
        return out
    }

    /// A plain number `-?[0-9][0-9,]*(\.[0-9]+)?` starting at `i`, and where it ends.
    static func number(_ bytes: [UInt8], at start: Int) -> (text: String, end: Int)? {
        var i = start
        if i < bytes.count && bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { return nil }
        while i < bytes.count && (isDigit(bytes[i]) || bytes[i] == UInt8(ascii: ",")) { i += 1 }
        if i + 1 < bytes.count && bytes[i] == UInt8(ascii: ".") && isDigit(bytes[i + 1]) {
            i += 1
            while i < bytes.count && isDigit(bytes[i]) { i += 1 }
        }
        return (string(bytes[start..<i]), i)
    }
}
