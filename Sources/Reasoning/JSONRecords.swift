import Foundation

// The plumbing every dataset reader shares: cutting a file into records (JSON lines, or the
// elements of a top-level JSON array) with their line numbers, and typed field access whose
// failures name the file, the line and the field.

/// One JSON object from a dataset file, with where it came from. Accessors throw a
/// `DatasetIssue` naming the field (as a path, `label.steps[2].chosen_completion`) on a missing
/// field or a wrong type.
struct JSONRecord {
    let object: [String: Any]
    let file: String
    let line: Int
    /// Path of this object inside the line's record ("" for the record itself).
    let path: String
    /// The record's 0-based place in its file, used in ids: its line for JSON lines, its
    /// element number for a JSON array.
    var position: Int = 0

    func issue(_ key: String?, _ message: String) -> DatasetIssue {
        DatasetIssue(file: file, line: line, field: key.map(fieldPath), message: message)
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func value(_ key: String) throws -> Any {
        guard let v = object[key] else { throw issue(key, "missing") }
        return v
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func string(_ key: String) throws -> String {
        let v = try value(key)
        guard let s = v as? String else { throw issue(key, "expected a string, found \(JSONRecord.typeName(v))") }
        return s
    }

    /// Missing or null → nil; another type → error.
    func optionalString(_ key: String) throws -> String? {
        guard let v = object[key], !(v is NSNull) else { return nil }
        guard let s = v as? String else { throw issue(key, "expected a string or null, found \(JSONRecord.typeName(v))") }
        return s
    }

    func bool(_ key: String) throws -> Bool {
        let v = try value(key)
        guard JSONRecord.isBool(v), let b = v as? Bool else { throw issue(key, "expected true or false, found \(JSONRecord.typeName(v))") }
        return b
    }

    /// An integer; null → nil when `nullable`.
    func int(_ key: String, nullable: Bool = false) throws -> Int? {
        let v = try value(key)
        if v is NSNull {
            if nullable { return nil }
            throw issue(key, "expected an integer, found null")
        }
        guard !JSONRecord.isBool(v), let n = v as? NSNumber, let i = Int(exactly: n.doubleValue) else {
            throw issue(key, "expected an integer\(nullable ? " or null" : ""), found \(JSONRecord.typeName(v))")
        }
        return i
    }

    func object(_ key: String) throws -> JSONRecord {
        let v = try value(key)
        guard let o = v as? [String: Any] else { throw issue(key, "expected an object, found \(JSONRecord.typeName(v))") }
        return JSONRecord(object: o, file: file, line: line, path: fieldPath(key), position: position)
    }

    func array(_ key: String) throws -> [Any] {
        let v = try value(key)
        guard let a = v as? [Any] else { throw issue(key, "expected an array, found \(JSONRecord.typeName(v))") }
        return a
    }

    func stringArray(_ key: String) throws -> [String] {
        let items = try array(key)
        return try items.enumerated().map { i, item in
            guard let s = item as? String else {
                throw issue("\(key)[\(i)]", "expected a string, found \(JSONRecord.typeName(item))")
            }
            return s
        }
    }

    /// The objects of an array field, each as a record with its own path.
    func objectArray(_ key: String) throws -> [JSONRecord] {
        let items = try array(key)
        return try items.enumerated().map { i, item in
            guard let o = item as? [String: Any] else {
                throw issue("\(key)[\(i)]", "expected an object, found \(JSONRecord.typeName(item))")
            }
            return JSONRecord(object: o, file: file, line: line, path: fieldPath("\(key)[\(i)]"), position: position)
        }
    }

    /// JSON booleans arrive as NSNumber too; only their class tells them from 0 and 1.
    static func isBool(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return type(of: n) == type(of: NSNumber(value: true))
    }

    static func typeName(_ v: Any) -> String {
        if v is NSNull { return "null" }
        if isBool(v) { return "a boolean" }
        if v is NSNumber { return "a number" }
        if v is String { return "a string" }
        if v is [Any] { return "an array" }
        if v is [String: Any] { return "an object" }
        return "an unexpected value"
    }
}

/// Cuts a dataset file into JSON records, reporting each unreadable one.
enum JSONRecords {
    /// A record's bytes and its 1-based line number.
    struct Chunk {
        var line: Int
        var bytes: ArraySlice<UInt8>
        /// See `JSONRecord.position`.
        var position: Int
    }

    /// Reads a file, turning a read failure into an issue naming it.
    static func load(_ url: URL) throws -> [UInt8] {
        do {
            return Array(try Data(contentsOf: url))
        } catch {
            let reason = (error as NSError).localizedDescription
            throw DatasetIssue(file: url.lastPathComponent, line: 0, message: "cannot read the file: \(reason)")
        }
    }

    /// The lines of a JSON-lines file. Blank lines in the middle are reported (a trailing line
    /// break is not); CRLF line ends are accepted.
    static func lines(_ bytes: [UInt8], file: String, issues: inout [DatasetIssue]) -> [Chunk] {
        // Line ends are found with memchr: files reach many megabytes, and this must stay fast
        // even in a debug build.
        var ends: [Int] = []
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count, let hit = memchr(base + offset, 0x0A, buffer.count - offset) {
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                ends.append(at)
                offset = at + 1
            }
        }
        if (ends.last ?? -1) < bytes.count - 1 { ends.append(bytes.count) }
        var out: [Chunk] = []
        var blanks: [Int] = []
        // A byte-order mark before the first record is not part of it.
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        for (n, end) in ends.enumerated() {
            var e = end
            if e > start && bytes[e - 1] == UInt8(ascii: "\r") { e -= 1 }
            var k = start
            while k < e && (bytes[k] == 0x20 || bytes[k] == 0x09) { k += 1 }
            if k == e {
                blanks.append(n + 1)
            } else {
                out.append(Chunk(line: n + 1, bytes: bytes[start..<e], position: n))
            }
            start = end + 1
        }
        // Blank lines after the last record are only trailing line breaks.
        let lastRecordLine = out.last?.line ?? 0
        for b in blanks where b < lastRecordLine {
            issues.append(DatasetIssue(file: file, line: b, message: "blank line (skipped)"))
        }
        return out
    }

    /// The elements of a top-level JSON array, each with the line it starts on. A truncated
    /// array yields the complete elements and an issue for the rest.
    static func arrayElements(_ bytes: [UInt8], file: String, issues: inout [DatasetIssue]) -> [Chunk] {
        var i = 0
        var line = 1
        func skipSpace() {
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\n"): line += 1; i += 1
                case 0x20, 0x09, 0x0D: i += 1
                case 0xEF where i + 2 < bytes.count && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF: i += 3
                default: return
                }
            }
        }
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "[") else {
            issues.append(DatasetIssue(file: file, line: line, message: "expected a JSON array of records ('[' at the start)"))
            return []
        }
        i += 1
        var out: [Chunk] = []
        while true {
            skipSpace()
            guard i < bytes.count else {
                issues.append(DatasetIssue(file: file, line: line, message: "truncated JSON: the array is not closed"))
                return out
            }
            if bytes[i] == UInt8(ascii: "]") { break }
            let startLine = line
            let start = i
            // Scan one value: track nesting outside strings; stop at a `,` or `]` at depth 0.
            var depth = 0
            var inString = false
            var closed = false
            while i < bytes.count {
                let c = bytes[i]
                if inString {
                    // Jump to the closing quote (memchr: a string may be megabytes long).
                    guard let close = closingQuote(bytes, from: i) else { i = bytes.count; break }
                    line += countNewlines(bytes, i..<close)
                    i = close + 1
                    inString = false
                    continue
                }
                switch c {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { closed = true } else { depth -= 1 }
                case UInt8(ascii: ","):
                    if depth == 0 { closed = true }
                case UInt8(ascii: "\n"): line += 1
                default: break
                }
                if closed { break }
                i += 1
            }
            if !closed {
                issues.append(DatasetIssue(file: file, line: startLine, message: "truncated JSON: the file ends inside this record"))
                return out
            }
            out.append(Chunk(line: startLine, bytes: bytes[start..<i], position: out.count))
            if bytes[i] == UInt8(ascii: ",") { i += 1 }
        }
        i += 1
        skipSpace()
        if i < bytes.count {
            issues.append(DatasetIssue(file: file, line: line, message: "unexpected text after the closing ']'"))
        }
        return out
    }

    /// The offset of the `"` that ends a JSON string whose content starts at `from`.
    static func closingQuote(_ bytes: [UInt8], from: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            var offset = from
            while offset < buffer.count, let hit = memchr(base + offset, 0x22, buffer.count - offset) {
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                // Escaped when an odd number of backslashes precede it.
                var slashes = 0
                while at - slashes - 1 >= from && buffer[at - slashes - 1] == 0x5C { slashes += 1 }
                if slashes % 2 == 0 { return at }
                offset = at + 1
            }
            return nil
        }
    }

    static func countNewlines(_ bytes: [UInt8], _ range: Range<Int>) -> Int {
        bytes.withUnsafeBufferPointer { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            var n = 0
            var offset = range.lowerBound
            while offset < range.upperBound, let hit = memchr(base + offset, 0x0A, range.upperBound - offset) {
                n += 1
                offset = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
            }
            return n
        }
    }

    /// Parses one chunk as a JSON object.
    static func object(_ chunk: Chunk, file: String) throws -> JSONRecord {
        let parsed: Any
        do {
            let data = chunk.bytes.withUnsafeBufferPointer { Data(buffer: $0) }
            parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            // The parser refuses invalid UTF-8; say so precisely rather than "not JSON".
            if let bad = firstInvalidUTF8(chunk.bytes) {
                throw DatasetIssue(file: file, line: chunk.line, message: "invalid UTF-8 at byte \(bad + 1) of the record")
            }
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw DatasetIssue(file: file, line: chunk.line,
                               message: "not valid JSON" + (detail.map { " (\($0))" } ?? "") + " — truncated or corrupt record?")
        }
        guard let o = parsed as? [String: Any] else {
            throw DatasetIssue(file: file, line: chunk.line, message: "expected a JSON object, found \(JSONRecord.typeName(parsed))")
        }
        return JSONRecord(object: o, file: file, line: chunk.line, path: "", position: chunk.position)
    }

    /// Offset of the first byte that is not well-formed UTF-8, or nil.
    static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int? {
        // Fast path (Foundation's decoder, fast even in a debug build): valid as a whole.
        if bytes.withUnsafeBufferPointer({ String(bytes: $0, encoding: .utf8) }) != nil { return nil }
        var parser = Unicode.UTF8.ForwardParser()
        var it = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &it) {
            case .valid(let encoded): offset += encoded.count
            case .error: return offset
            case .emptyInput: return nil
            }
        }
    }
}
