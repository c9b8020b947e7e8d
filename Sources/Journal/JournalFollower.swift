import Foundation

/// Reads a journal that another process may still be appending to (`stepwise tui` on a live
/// run): each `poll()` returns the events completed since the last one. A line still being
/// written is left for the next poll rather than reported as torn.
public final class JournalFollower {
    public let url: URL
    private var offset: UInt64
    private var pending = Data()
    private var lineNumber: Int
    private let decoder = JournalCodec.decoder()

    /// Starts after what `contents` already holds (as returned by `JournalReader.read`).
    public init(url: URL, after contents: JournalContents) {
        self.url = url
        self.offset = UInt64(contents.validLength)
        // Header plus one line per event (blank lines aside, which only make this an estimate
        // for error messages).
        self.lineNumber = contents.events.count + 1
    }

    /// Events appended since the last call; empty when nothing new is complete.
    public func poll() throws -> [SessionEvent] {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        if size < offset {
            // The file was cut (a writer recovering a torn tail): re-read from the cut.
            offset = size
            pending.removeAll()
            return []
        }
        guard size > offset else { return [] }
        try handle.seek(toOffset: offset)
        let fresh = handle.readDataToEndOfFile()
        offset += UInt64(fresh.count)
        pending.append(fresh)

        var events: [SessionEvent] = []
        while let newline = pending.firstIndex(of: 0x0A) {
            let line = pending[pending.startIndex..<newline]
            lineNumber += 1
            if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                do {
                    events.append(try decoder.decode(SessionEvent.self, from: line))
                } catch {
                    pending.removeSubrange(pending.startIndex...newline)
                    throw JournalError.malformedEvent(path: url.relativePath, line: lineNumber, reason: describe(error))
                }
            }
            pending.removeSubrange(pending.startIndex...newline)
        }
        pending = Data(pending)
        return events
    }
}
