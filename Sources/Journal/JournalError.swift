import Foundation

/// Everything that can go wrong reading or writing a journal, each a one-line message naming
/// the file and the place.
public enum JournalError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case empty(path: String)
    case notAJournal(path: String, reason: String)
    case newerFormat(path: String, found: Int, supported: Int)
    case malformedEvent(path: String, line: Int, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): return "\(p): cannot open journal: \(r)"
        case .empty(let p): return "\(p): empty file, not a Stepwise journal (no header line)"
        case .notAJournal(let p, let r): return "\(p):1: not a Stepwise journal header: \(r)"
        case .newerFormat(let p, let f, let s):
            return "\(p):1: journal format \(f) is newer than this stepwise reads (format \(s)); upgrade stepwise"
        case .malformedEvent(let p, let l, let r): return "\(p):\(l): malformed event: \(r)"
        case .writeFailed(let p, let r): return "\(p): cannot append to journal: \(r)"
        }
    }
}

/// A short, one-line account of a decoding error (which field, what was wrong).
func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let ctx):
        return "missing field '\(path(ctx.codingPath + [key]))'"
    case DecodingError.typeMismatch(let type, let ctx):
        return "field '\(path(ctx.codingPath))' is not \(type)"
    case DecodingError.valueNotFound(let type, let ctx):
        return "field '\(path(ctx.codingPath))' is null, expected \(type)"
    case DecodingError.dataCorrupted(let ctx):
        let at = ctx.codingPath.isEmpty ? "" : " at '\(path(ctx.codingPath))'"
        let underlying = (ctx.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
        return (underlying ?? ctx.debugDescription).replacingOccurrences(of: "\n", with: " ") + at
    default:
        return String(describing: error).replacingOccurrences(of: "\n", with: " ")
    }
}

private func path(_ keys: [CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        .replacingOccurrences(of: ".[", with: "[")
}
