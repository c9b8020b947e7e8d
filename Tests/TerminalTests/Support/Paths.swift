import Foundation

/// Paths the tests read from, computed from this file's location.
enum Paths {
    /// The repository root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    /// ../shared next to the repository.
    static let shared = root.deletingLastPathComponent().appendingPathComponent("shared")
    static let bigBenchMistake = shared.appendingPathComponent("datasets/big-bench-mistake")
    static let snapshots = root.appendingPathComponent("Tests/TerminalTests/Snapshots")
    static let themes = root.appendingPathComponent("Themes")

    static func temporaryDirectory(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("stepwise-terminal-\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
