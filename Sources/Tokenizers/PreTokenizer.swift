/// The regex-based word splitting done before byte-level BPE, written as hand-made scanners.
///
/// Each pattern is an alternation tried left to right at the current position (regex
/// semantics, first alternative that matches wins), so the scanners below follow the
/// alternatives in the same order:
///
/// - GPT-2:   `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
///             ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// - Qwen2:   as Llama 3 but `\p{N}` (one digit per piece).
public enum PreTokenizerPattern: String, Sendable {
    case gpt2 = "gpt-2"
    case llama3 = "llama-bpe"
    case qwen2 = "qwen2"

    /// From `tokenizer.ggml.pre` (llama.cpp's names, including the aliases it accepts).
    public init?(ggufName: String) {
        switch ggufName {
        case "gpt-2", "gpt2", "default": self = .gpt2
        case "llama-bpe", "llama3", "llama-v3", "smaug-bpe": self = .llama3
        case "qwen2", "deepseek-r1-qwen": self = .qwen2
        default: return nil
        }
    }
}

/// Character classes the patterns use.
enum CharClass: UInt8 {
    case letter, number, whitespace, other
}

@inline(__always)
func charClass(_ s: Unicode.Scalar) -> CharClass {
    let v = s.value
    if v < 0x80 {
        // ASCII fast path.
        if (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) { return .letter }
        if v >= 0x30 && v <= 0x39 { return .number }
        if v == 0x20 || (v >= 0x09 && v <= 0x0D) { return .whitespace }
        return .other
    }
    let p = s.properties
    if p.isWhitespace { return .whitespace }
    switch p.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
        return .letter
    case .decimalNumber, .letterNumber, .otherNumber:
        return .number
    default:
        return .other
    }
}

/// Splits `text` into the pieces the pattern matches; returns index ranges into `text`.
func preTokenize(_ text: [Unicode.Scalar], pattern: PreTokenizerPattern) -> [Range<Int>] {
    let n = text.count
    var classes = [CharClass](repeating: .other, count: n)
    for i in 0..<n { classes[i] = charClass(text[i]) }
    @inline(__always) func cls(_ i: Int) -> CharClass { classes[i] }
    @inline(__always) func isNewline(_ i: Int) -> Bool { text[i] == "\r" || text[i] == "\n" }
    @inline(__always) func isSpace(_ i: Int) -> Bool { text[i] == " " }
    func run(from i: Int, _ c: CharClass, max: Int = Int.max) -> Int {
        var j = i
        while j < n && classes[j] == c && j - i < max { j += 1 }
        return j
    }
    /// Length of a contraction at i ('s 't 're 've 'm 'll 'd), 0 if none.
    func contraction(_ i: Int, caseInsensitive: Bool) -> Int {
        guard text[i] == "'", i + 1 < n else { return 0 }
        func lower(_ k: Int) -> UInt32? {
            guard k < n else { return nil }
            let v = text[k].value
            if caseInsensitive && v >= 0x41 && v <= 0x5A { return v + 32 }
            return v
        }
        switch lower(i + 1) {
        case 0x73, 0x74, 0x6D, 0x64: return 2 // s t m d
        case 0x72: return lower(i + 2) == 0x65 ? 3 : 0 // re
        case 0x76: return lower(i + 2) == 0x65 ? 3 : 0 // ve
        case 0x6C: return lower(i + 2) == 0x6C ? 3 : 0 // ll
        default: return 0
        }
    }

    var out: [Range<Int>] = []
    out.reserveCapacity(n / 3 + 1)
    var i = 0
    while i < n {
        let end: Int
        switch pattern {
        case .gpt2:
            end = gpt2Match(at: i)
        case .llama3, .qwen2:
            end = llama3Match(at: i, maxDigits: pattern == .llama3 ? 3 : 1)
        }
        out.append(i..<end)
        i = end
    }
    return out

    // GPT-2 alternatives at i; always returns an end > i.
    func gpt2Match(at i: Int) -> Int {
        let c = contraction(i, caseInsensitive: false)
        if c > 0 { return i + c }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
        let j = (isSpace(i) && i + 1 < n && cls(i + 1) != .whitespace) ? i + 1 : i
        if cls(j) != .whitespace { return run(from: j, cls(j)) }
        return whitespaceMatch(at: i, newlineRule: false)
    }

    // Llama 3 / Qwen2 alternatives at i.
    func llama3Match(at i: Int, maxDigits: Int) -> Int {
        let c = contraction(i, caseInsensitive: true)
        if c > 0 { return i + c }
        let ci = cls(i)
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if ci != .letter && ci != .number && !isNewline(i) && i + 1 < n && cls(i + 1) == .letter {
            return run(from: i + 1, .letter)
        }
        if ci == .letter { return run(from: i, .letter) }
        // `\p{N}{1,3}` or `\p{N}`
        if ci == .number { return run(from: i, .number, max: maxDigits) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let j = (isSpace(i) && i + 1 < n && cls(i + 1) == .other) ? i + 1 : i
        if cls(j) == .other {
            var k = run(from: j, .other)
            while k < n && isNewline(k) { k += 1 }
            return k
        }
        return whitespaceMatch(at: i, newlineRule: true)
    }

    // i is whitespace. `\s*[\r\n]+` (Llama 3 only), then `\s+(?!\S)`, then `\s+`.
    func whitespaceMatch(at i: Int, newlineRule: Bool) -> Int {
        let k = run(from: i, .whitespace)
        if newlineRule {
            var m = k - 1
            while m >= i && !isNewline(m) { m -= 1 }
            if m >= i { return m + 1 }
        }
        if k == n || k - i == 1 { return k }
        return k - 1
    }
}
