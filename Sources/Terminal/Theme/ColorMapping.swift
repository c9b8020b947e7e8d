/// Turns theme colours into what the terminal can show: 256-colour indices, the 16 or 8 ANSI
/// colours, or nothing at all (`NO_COLOR`, or a terminal without colour) — in which case only
/// attributes remain, so selection and error marks stay visible.
public enum ColorMapping {
    /// Palette index for a terminal with `colors` colours; -1 is the terminal's default.
    public static func index(_ c: ThemeColor, colors: Int) -> Int {
        switch c {
        case .terminalDefault: return -1
        case .ansi(let n): return colors >= 16 ? n : n % 8
        case .indexed(let n):
            if n < colors { return n }
            return index(.rgb(rgbOfIndex(n)), colors: colors)
        case .rgb(let r, let g, let b):
            if colors >= 256 { return xterm256(r, g, b) }
            return nearest(r, g, b, in: colors >= 16 ? 16 : 8)
        }
    }

    /// The xterm 6×6×6 cube or grey ramp entry closest to a colour.
    static func xterm256(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        let levels = [0, 95, 135, 175, 215, 255]
        func level(_ v: UInt8) -> Int {
            var best = 0
            for (i, l) in levels.enumerated() where abs(l - Int(v)) < abs(levels[best] - Int(v)) { best = i }
            return best
        }
        let (ri, gi, bi) = (level(r), level(g), level(b))
        let cube = 16 + 36 * ri + 6 * gi + bi
        let cubeDistance = distance((levels[ri], levels[gi], levels[bi]), (Int(r), Int(g), Int(b)))
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let greyIndex = min(23, max(0, (average - 8 + 5) / 10))
        let grey = 8 + 10 * greyIndex
        let greyDistance = distance((grey, grey, grey), (Int(r), Int(g), Int(b)))
        return greyDistance < cubeDistance ? 232 + greyIndex : cube
    }

    /// Standard VGA-like values of the 16 ANSI colours.
    static let ansiRGB: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    static func nearest(_ r: UInt8, _ g: UInt8, _ b: UInt8, in count: Int) -> Int {
        var best = 0
        var bestDistance = Int.max
        for i in 0..<count {
            let d = distance(ansiRGB[i], (Int(r), Int(g), Int(b)))
            if d < bestDistance { best = i; bestDistance = d }
        }
        return best
    }

    static func rgbOfIndex(_ n: Int) -> (UInt8, UInt8, UInt8) {
        if n < 16 { let c = ansiRGB[n]; return (UInt8(c.0), UInt8(c.1), UInt8(c.2)) }
        if n >= 232 { let v = UInt8(8 + 10 * (n - 232)); return (v, v, v) }
        let levels: [UInt8] = [0, 95, 135, 175, 215, 255]
        let k = n - 16
        return (levels[k / 36], levels[(k / 6) % 6], levels[k % 6])
    }

    static func distance(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
        let dr = a.0 - b.0, dg = a.1 - b.1, db = a.2 - b.2
        return dr * dr * 2 + dg * dg * 4 + db * db * 3
    }
}

extension ThemeColor {
    /// Convenience for `.rgb` with a tuple.
    static func rgb(_ t: (UInt8, UInt8, UInt8)) -> ThemeColor { .rgb(t.0, t.1, t.2) }
}

/// A style as a particular terminal will show it: palette indices (-1 = terminal default; both
/// -1 when colour is off) and attributes, which are kept even without colour.
public struct TerminalStyle: Equatable, Sendable {
    public var foreground: Int
    public var background: Int
    public var attributes: ThemeAttributes

    /// Every style of a theme for a terminal with `colors` colours; `noColor` (the NO_COLOR
    /// convention, or a terminal without colour) drops colour and keeps attributes, turning a
    /// coloured background into reverse video.
    public static func resolve(_ theme: Theme, colors: Int, noColor: Bool) -> [StyleID: TerminalStyle] {
        var out: [StyleID: TerminalStyle] = [:]
        for id in StyleID.allCases {
            let s = theme[id]
            if noColor || colors < 8 {
                // A coloured background is what set the element apart (selection, header,
                // status bar): without colour it becomes reverse video.
                let attributes = s.background == .terminalDefault ? s.attributes : s.attributes.union(.reverse)
                out[id] = TerminalStyle(foreground: -1, background: -1, attributes: attributes)
            } else {
                out[id] = TerminalStyle(foreground: ColorMapping.index(s.foreground, colors: colors),
                                        background: ColorMapping.index(s.background, colors: colors),
                                        attributes: s.attributes)
            }
        }
        return out
    }
}
