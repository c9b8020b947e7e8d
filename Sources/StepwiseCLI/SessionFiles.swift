import Foundation
import Journal

/// Where sessions live and how commands open them.
enum SessionFiles {
    /// `Sessions/` under the current directory.
    static var directory: URL {
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Sessions")
    }

    /// A path under Sessions/ named after `stem` that does not exist yet (`stem.jsonl`,
    /// `stem-2.jsonl`, …), so an import never overwrites an earlier session.
    static func freshPath(stem: String) -> URL {
        let clean = stem.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" }
        let base = String(clean)
        var url = directory.appendingPathComponent("\(base).jsonl")
        var n = 2
        while FileManager.default.fileExists(atPath: url.path) {
            url = directory.appendingPathComponent("\(base)-\(n).jsonl")
            n += 1
        }
        return url
    }

    /// The most recently modified journal in Sessions/, if any.
    static func newest() -> URL? {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return nil }
        return names.filter { $0.hasSuffix(".jsonl") }
            .map { directory.appendingPathComponent($0) }
            .max { a, b in
                let da = (try? fm.attributesOfItem(atPath: a.path)[.modificationDate] as? Date) ?? .distantPast
                let db = (try? fm.attributesOfItem(atPath: b.path)[.modificationDate] as? Date) ?? .distantPast
                return da < db
            }
    }

    /// Reads a session named on the command line; any problem with it is bad input (exit 2).
    /// Recovery warnings (a torn last line) go to standard error.
    static func load(_ path: String) throws -> SessionState {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError.badInput("\(path): no such session file")
        }
        let contents = try readingInput { try JournalReader.read(url) }
        for w in contents.warnings { console.err("stepwise: warning: \(w)") }
        return SessionState(contents)
    }

    /// Writes a new session holding `events` and flushes it; an existing file is never
    /// overwritten (bad input). The import command and the starter session both make one so.
    @discardableResult
    static func create(at url: URL, header: JournalHeader, events: [SessionEvent]) throws -> URL {
        let writer = try readingInput { try JournalWriter.create(at: url, header: header) }
        do {
            try writer.append(contentsOf: events)
            try writer.flush()
        } catch {
            throw CLIError.failure(oneLine(error))
        }
        return url
    }
}
