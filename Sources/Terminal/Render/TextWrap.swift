/// A run of text in one style.
public struct Segment: Equatable, Sendable {
    public var text: String
    public var style: StyleID

    public init(_ text: String, _ style: StyleID) {
        self.text = text
        self.style = style
    }
}

public typealias Line = [Segment]

/// Wrapping by display width: breaks at spaces where it can, splits a word longer than the line,
/// honours newlines. Wide characters count two columns.
public enum TextWrap {
    public static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            wrapParagraph(Substring(paragraph), width: width, into: &lines)
        }
        return lines
    }

    private static func wrapParagraph(_ text: Substring, width: Int, into lines: inout [String]) {
        var ascii = true
        for b in text.utf8 where b >= 0x80 { ascii = false; break }
        if ascii {
            wrapASCII(Array(text.utf8), width: width, into: &lines)
            return
        }
        var line = ""
        var lineWidth = 0
        // Where the line may be broken: the index just after the last space, and the width
        // up to it.
        var breakIndex: String.Index?
        var breakWidth = 0
        for ch in text {
            let w = ch.asciiValue != nil ? 1 : max(DisplayWidth.of(ch), ch.isWhitespace ? 1 : 0)
            if lineWidth + w > width {
                if ch == " " {
                    lines.append(trimTrailing(line))
                    line = ""; lineWidth = 0; breakIndex = nil
                    continue
                }
                if let b = breakIndex, b < line.endIndex {
                    let head = String(line[..<b])
                    let tail = String(line[b...])
                    lines.append(trimTrailing(head))
                    line = tail
                    lineWidth -= breakWidth
                } else {
                    lines.append(trimTrailing(line))
                    line = ""
                    lineWidth = 0
                }
                breakIndex = nil
            }
            line.append(ch)
            lineWidth += w
            if ch == " " {
                breakIndex = line.endIndex
                breakWidth = lineWidth
            }
        }
        lines.append(line)
    }

    /// The same rule on bytes, for ASCII text (one byte, one column): most steps are ASCII.
    private static func wrapASCII(_ bytes: [UInt8], width: Int, into lines: inout [String]) {
        let space: UInt8 = 0x20
        var start = 0
        let n = bytes.count
        if n == 0 { lines.append(""); return }
        while start < n {
            if n - start <= width {
                lines.append(String(decoding: bytes[start..<n], as: UTF8.self))
                return
            }
            // The last space within the line's width (a space right at the limit counts).
            var cut = -1
            var i = start + width
            while i > start {
                if bytes[i] == space { cut = i; break }
                i -= 1
            }
            var end: Int
            var next: Int
            if cut > start {
                end = cut
                next = cut + 1
            } else {
                end = start + width
                next = end
            }
            while end > start && bytes[end - 1] == space { end -= 1 }
            lines.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = next
        }
    }

    private static func trimTrailing(_ s: String) -> String {
        var t = s
        while t.last == " " { t.removeLast() }
        return t
    }

    /// Cuts text to at most `width` columns, ending with `ellipsis` when cut.
    public static func truncate(_ text: String, width: Int, ellipsis: String = "…") -> String {
        guard width > 0 else { return "" }
        if DisplayWidth.of(text) <= width { return text }
        var out = ""
        var w = 0
        let limit = width - DisplayWidth.of(ellipsis)
        for ch in text {
            let cw = DisplayWidth.of(ch)
            if w + cw > limit { break }
            out.append(ch)
            w += cw
        }
        return out + ellipsis
    }

    /// Pads with spaces to exactly `width` columns (cutting when longer).
    public static func pad(_ text: String, _ width: Int) -> String {
        let t = truncate(text, width: width, ellipsis: "")
        return t + String(repeating: " ", count: max(0, width - DisplayWidth.of(t)))
    }
}
