import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Appends events to a journal. Each event is one line written with a single `write(2)` on an
/// `O_APPEND` descriptor, so a crash leaves at most one torn line at the end, and a reader in
/// another process (`stepwise tui` following a live run) never sees two events interleaved.
/// Annotations and round ends are `fsync`ed at once: human work must survive a power cut.
/// Safe to share between threads (the loop and the UI both append).
public final class JournalWriter: Sendable {
    public let url: URL
    private let fd: Mutex<Int32>

    private init(url: URL, fd: Int32) {
        self.url = url
        self.fd = Mutex(fd)
    }

    deinit {
        fd.withLock { if $0 >= 0 { close($0) } }
    }

    /// Creates a new journal with its header. Fails if the file already exists, so a session is
    /// never overwritten by accident.
    public static func create(at url: URL, header: JournalHeader) throws -> JournalWriter {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw JournalError.cannotOpen(path: url.relativePath, reason: String(cString: strerror(errno)))
        }
        let writer = JournalWriter(url: url, fd: fd)
        let line: Data
        do {
            line = try JournalCodec.encoder().encode(header) + Data([0x0A])
        } catch {
            throw JournalError.writeFailed(path: url.relativePath, reason: describe(error))
        }
        try writer.write(line, sync: true)
        return writer
    }

    /// Opens an existing journal to append to it: reads it, cuts a torn last line off (after
    /// the reader recovered everything before it), and returns what was there.
    public static func openForAppend(at url: URL) throws -> (JournalWriter, JournalContents) {
        let contents = try JournalReader.read(url)
        let fd = open(url.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else {
            throw JournalError.cannotOpen(path: url.relativePath, reason: String(cString: strerror(errno)))
        }
        let writer = JournalWriter(url: url, fd: fd)
        if contents.hasTornTail {
            guard ftruncate(fd, off_t(contents.validLength)) == 0 else {
                throw JournalError.writeFailed(path: url.relativePath, reason: "cannot cut torn tail: \(String(cString: strerror(errno)))")
            }
            _ = fsync(fd)
        } else if contents.missingFinalNewline {
            try writer.write(Data([0x0A]), sync: true)
        }
        return (writer, contents)
    }

    /// Opens the journal at `url` for appending, creating it with `header` when it does not exist.
    public static func openOrCreate(at url: URL, header: @autoclosure () -> JournalHeader) throws -> (JournalWriter, JournalContents) {
        if FileManager.default.fileExists(atPath: url.path) {
            return try openForAppend(at: url)
        }
        let h = header()
        let writer = try create(at: url, header: h)
        return (writer, JournalContents(header: h, events: [], warnings: [], validLength: 0,
                                        hasTornTail: false, missingFinalNewline: false))
    }

    /// Appends one event; flushes to disk when the event carries human work or ends a round.
    public func append(_ event: SessionEvent) throws {
        try write(line(event, JournalCodec.encoder()), sync: event.needsFlush)
    }

    /// Appends many events, flushing once at the end if any of them needs it.
    public func append(contentsOf events: [SessionEvent]) throws {
        let encoder = JournalCodec.encoder()
        var sync = false
        for event in events {
            try write(line(event, encoder), sync: false)
            sync = sync || event.needsFlush
        }
        if sync { try flush() }
    }

    /// One event as one newline-terminated JSON line.
    private func line(_ event: SessionEvent, _ encoder: JSONEncoder) throws -> Data {
        do {
            return try encoder.encode(event) + Data([0x0A])
        } catch {
            throw JournalError.writeFailed(path: url.relativePath, reason: describe(error))
        }
    }

    /// Forces everything appended so far onto the disk.
    public func flush() throws {
        try fd.withLock { fd in
            guard fsync(fd) == 0 else {
                throw JournalError.writeFailed(path: url.relativePath, reason: "fsync: \(String(cString: strerror(errno)))")
            }
        }
    }

    private func write(_ data: Data, sync: Bool) throws {
        try fd.withLock { fd in
            guard fd >= 0 else { throw JournalError.writeFailed(path: url.relativePath, reason: "journal is closed") }
            let written = data.withUnsafeBytes { raw -> Int in
                var done = 0
                // One write normally takes it all; loop only for signals and short writes.
                while done < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return -1
                    }
                    done += n
                }
                return done
            }
            guard written == data.count else {
                throw JournalError.writeFailed(path: url.relativePath, reason: String(cString: strerror(errno)))
            }
            if sync && fsync(fd) != 0 {
                throw JournalError.writeFailed(path: url.relativePath, reason: "fsync: \(String(cString: strerror(errno)))")
            }
        }
    }
}
