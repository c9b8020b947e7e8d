import Foundation

/// A prompt with named slots: `{problem}`, `{generation}`, `{reference}`, `{critique}`, … A slot
/// is `{` + lowercase letters, digits or `_` + `}`; anything else in braces (LaTeX such as
/// `\frac{1}{2}` in a MATH prompt) is left alone, and `{{` / `}}` stand for literal braces where
/// a slot-shaped word must appear as text. Templates are plain text so a researcher can edit
/// them (`--prompts DIR`); a template that names a slot the program does not fill is refused when
/// it is loaded, not halfway through a run.
public struct PromptTemplate: Sendable, Equatable {
    public let name: String
    public let text: String
    /// Slots in order of first appearance.
    public let slots: [String]

    public init(name: String, text: String) {
        self.name = name
        self.text = text
        var seen: [String] = []
        for piece in Self.pieces(text) {
            if case .slot(let s) = piece, !seen.contains(s) { seen.append(s) }
        }
        self.slots = seen
    }

    /// Checks the template only uses slots from `allowed`.
    public func validate(allowed: Set<String>, file: String? = nil) throws {
        for s in slots where !allowed.contains(s) {
            throw PromptError.unknownSlot(template: file ?? name, slot: s, allowed: allowed.sorted())
        }
    }

    /// Fills every slot. A slot without a value is an error (the template and the caller
    /// disagree), never silently left empty.
    public func render(_ values: [String: String]) throws -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + values.values.reduce(0) { $0 + $1.utf8.count })
        for piece in Self.pieces(text) {
            switch piece {
            case .text(let t): out += t
            case .slot(let s):
                guard let v = values[s] else { throw PromptError.missingValue(template: name, slot: s) }
                out += v
            }
        }
        return out
    }

    enum Piece: Equatable {
        case text(String)
        case slot(String)
    }

    static func pieces(_ text: String) -> [Piece] {
        var pieces: [Piece] = []
        var buffer = ""
        let chars = Array(text)
        var i = 0
        func isSlotChar(_ c: Character) -> Bool {
            c == "_" || (c.isASCII && (c.isLowercase || c.isNumber))
        }
        while i < chars.count {
            let c = chars[i]
            if c == "{" && i + 1 < chars.count && chars[i + 1] == "{" {
                buffer.append("{"); i += 2; continue
            }
            if c == "}" && i + 1 < chars.count && chars[i + 1] == "}" {
                buffer.append("}"); i += 2; continue
            }
            if c == "{" {
                var j = i + 1
                while j < chars.count && isSlotChar(chars[j]) { j += 1 }
                // A slot starts with a letter: `{1}` in LaTeX is text.
                if j < chars.count && chars[j] == "}" && j > i + 1 && chars[i + 1].isLetter {
                    if !buffer.isEmpty { pieces.append(.text(buffer)); buffer = "" }
                    pieces.append(.slot(String(chars[(i + 1)..<j])))
                    i = j + 1
                    continue
                }
            }
            buffer.append(c)
            i += 1
        }
        if !buffer.isEmpty { pieces.append(.text(buffer)) }
        return pieces
    }
}

public enum PromptError: Error, CustomStringConvertible, Equatable {
    case unknownSlot(template: String, slot: String, allowed: [String])
    case missingValue(template: String, slot: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownSlot(let t, let s, let allowed):
            return "\(t): unknown slot {\(s)}; this template can use: \(allowed.map { "{\($0)}" }.joined(separator: ", "))"
        case .missingValue(let t, let s):
            return "\(t): no value for slot {\(s)}"
        case .unreadable(let p, let r):
            return "\(p): cannot read prompt template: \(r)"
        }
    }
}
