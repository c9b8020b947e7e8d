/// How many terminal columns a piece of text occupies. Computed from Unicode properties rather
/// than the C library's `wcwidth`, so the pure renderer gives the same grid under any locale:
/// East Asian wide and fullwidth characters and emoji take two columns, combining marks and
/// format characters ride on the character before them (Swift already groups them into one
/// `Character`), everything else takes one.
public enum DisplayWidth {
    /// Columns taken by one grapheme cluster: 0 (control or lone format character), 1 or 2.
    public static func of(_ c: Character) -> Int {
        let scalars = c.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if first.isASCII {
            return first.value < 0x20 || first.value == 0x7F ? 0 : 1
        }
        if first.properties.generalCategory == .control { return 0 }
        if isZeroWidth(first) && scalars.count == 1 { return 0 }
        if isWide(first) { return 2 }
        // A text-default emoji made to look like a picture (U+FE0F) is drawn two columns wide.
        if scalars.count > 1, first.properties.isEmoji, scalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        return 1
    }

    /// Columns taken by a string.
    public static func of(_ s: String) -> Int {
        // ASCII fast path: one column per printable byte.
        var printable = 0
        var ascii = true
        for b in s.utf8 {
            if b >= 0x80 { ascii = false; break }
            if b >= 0x20 && b != 0x7F { printable += 1 }
        }
        if ascii { return printable }
        var total = 0
        for c in s { total += of(c) }
        return total
    }

    static func isZeroWidth(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return true
        default: return (0x1160...0x11FF).contains(s.value)
        }
    }

    static func isWide(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x1100 { return false }
        if s.properties.isEmojiPresentation { return true }
        for r in wideRanges where r.contains(v) { return true }
        return false
    }

    /// East Asian Wide (W) and Fullwidth (F) blocks outside the emoji.
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF,
        0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF,
        0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4,
        0x17000...0x18AFF, 0x1B000...0x1B2FF, 0x1F200...0x1F251, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]
}
