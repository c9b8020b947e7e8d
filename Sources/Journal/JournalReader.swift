import Foundation

/// What a journal file holds, as far as it could be read.
public struct JournalContents: Sendable {
    public var header: JournalHeader
    public var events: [SessionEvent]
    /// Things the reader recovered from (a torn last line); each said once.
    public var warnings: [String]
    /// Byte length of the complete, newline-terminated lines: where the next append belongs.
    public var validLength: Int
    /// True when the file ends in a partial line that was not read.
    public var hasTornTail: Bool
    /// True when the last event was complete but its newline was lost; the writer adds it.
    public var missingFinalNewline: Bool
}

/// Reads journals. A journal written by a process that crashed mid-append ends in a partial
/// line; everything before it is recovered and the torn tail is reported once, so the writer can
/// cut it off before appending. A malformed line anywhere else means the file was edited or
/// corrupted, and is an error naming the line: guessing past it could silently drop human work.
public enum JournalReader {
    public static func read(_ url: URL) throws -> JournalContents {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw JournalError.cannotOpen(path: url.relativePath, reason: (error as NSError).localizedDescription)
        }
        return try parse(data, path: url.relativePath)
    }

    /// Parses journal bytes. `path` names the file in errors.
    public static func parse(_ data: Data, path: String) throws -> JournalContents {
        let lines = splitLines(data)
        guard let first = lines.first, !(lines.count == 1 && first.range.isEmpty && !first.terminated) else {
            throw JournalError.empty(path: path)
        }
        let decoder = JournalCodec.decoder()

        // The header must be complete: without it nothing else can be trusted.
        guard first.terminated else {
            throw JournalError.notAJournal(path: path, reason: "header line is incomplete (file cut during creation)")
        }
        let header = try decodeHeader(data[first.range], path: path, decoder: decoder)

        var events: [SessionEvent] = []
        var warnings: [String] = []
        var validLength = first.range.upperBound + 1 - data.startIndex
        var torn = false
        var missingNewline = false
        for (i, line) in lines.enumerated().dropFirst() {
            let bytes = data[line.range]
            if !line.terminated {
                // The last line without its newline: a crash mid-append (or, when it is
                // empty, simply the end of the file).
                if bytes.isEmpty { break }
                if let event = try? decoder.decode(SessionEvent.self, from: bytes) {
                    // Complete JSON whose newline was lost: keep it; the writer re-terminates it.
                    events.append(event)
                    missingNewline = true
                    validLength = line.range.upperBound - data.startIndex
                    warnings.append("\(path):\(i + 1): last line had no newline; recovered it")
                } else {
                    torn = true
                    warnings.append("\(path):\(i + 1): torn last line (\(bytes.count) bytes) ignored; it will be cut before the next append")
                }
                break
            }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                validLength = line.range.upperBound + 1 - data.startIndex
                continue
            }
            do {
                events.append(try decoder.decode(SessionEvent.self, from: bytes))
            } catch {
                throw JournalError.malformedEvent(path: path, line: i + 1, reason: describe(error))
            }
            validLength = line.range.upperBound + 1 - data.startIndex
        }
        return JournalContents(header: header, events: events, warnings: warnings,
                               validLength: validLength, hasTornTail: torn, missingFinalNewline: missingNewline)
    }

    static func decodeHeader(_ bytes: Data, path: String, decoder: JSONDecoder) throws -> JournalHeader {
        guard let object = (try? JSONSerialization.jsonObject(with: bytes)) as? [String: Any] else {
            throw JournalError.notAJournal(path: path, reason: "first line is not a JSON object")
        }
        guard object["stepwise"] as? String == "journal" else {
            throw JournalError.notAJournal(path: path, reason: "missing \"stepwise\": \"journal\"")
        }
        if let format = object["format"] as? Int, format > JournalHeader.currentFormat {
            throw JournalError.newerFormat(path: path, found: format, supported: JournalHeader.currentFormat)
        }
        do {
            return try decoder.decode(JournalHeader.self, from: bytes)
        } catch {
            throw JournalError.notAJournal(path: path, reason: describe(error))
        }
    }

    struct Line {
        var range: Range<Data.Index>
        var terminated: Bool
    }

    /// Splits on '\n', remembering whether the last piece had its newline.
    static func splitLines(_ data: Data) -> [Line] {
        var lines: [Line] = []
        var start = data.startIndex
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = data.startIndex
            for (offset, byte) in raw.enumerated() where byte == 0x0A {
                lines.append(Line(range: start..<(base + offset), terminated: true))
                start = base + offset + 1
            }
        }
        lines.append(Line(range: start..<data.endIndex, terminated: false))
        return lines
    }
}
