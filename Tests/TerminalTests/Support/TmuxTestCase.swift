import Foundation
import XCTest

/// The real program in a real terminal: a base for tests that run `stepwise` inside tmux (on a
/// server of their own), type keys with send-keys and read the screen with capture-pane. It has
/// no tests of its own.
class TmuxTestCase: XCTestCase {
    var socket = "stepwise-e2e-\(ProcessInfo.processInfo.processIdentifier)"

    /// Exit status of the last tmux command.
    var status: Int32 = 0

    /// Runs a tmux command on the test's own server, with posix_spawn and waitpid (the tmux
    /// server daemonizes from the client, which trips up Foundation's Process), output to a file.
    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket)-out.txt").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ["tmux", "-L", socket, "-f", "/dev/null"] + args
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, "tmux", &actions, nil, &cargs, environ)
        guard rc == 0 else { throw XCTSkip("cannot run tmux: \(String(cString: strerror(rc)))") }
        var wstatus: Int32 = 0
        while waitpid(pid, &wstatus, 0) < 0 && errno == EINTR {}
        status = (wstatus & 0x7F) == 0 ? (wstatus >> 8) & 0xFF : 128 + (wstatus & 0x7F)
        defer { unlink(outPath) }
        return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", "t"]) }

    /// Waits until the screen contains `text` (or fails after `timeout` seconds, showing the
    /// screen). Returns the screen that showed it.
    @discardableResult
    func waitFor(_ text: String, timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try waitUntil("'\(text)'", timeout: timeout, file: file, line: line) { $0.contains(text) }
    }

    /// Waits until the screen satisfies `condition` (or fails after `timeout` seconds, showing
    /// the screen). Returns the screen that did.
    @discardableResult
    func waitUntil(_ what: String, timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line,
                   _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            usleep(50_000)
        }
        XCTFail("screen never showed \(what); it shows:\n\(last)", file: file, line: line)
        throw XCTSkip("stopping after the failure above")
    }

    func send(_ keys: String...) throws {
        try tmux(["send-keys", "-t", "t"] + keys)
    }

    static func binary() -> URL? {
        var dirs: [URL] = []
        if let exe = Bundle.main.executableURL { dirs.append(exe.deletingLastPathComponent()) }
        dirs.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        dirs.append(Bundle.main.bundleURL.deletingLastPathComponent())
        return dirs.map { $0.appendingPathComponent("stepwise") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    func prerequisites() throws -> URL {
        guard (try? tmux(["-V"]))?.hasPrefix("tmux") == true else {
            throw XCTSkip("tmux is not installed; the end-to-end terminal test needs it (apt-get install tmux)")
        }
        guard let stepwise = Self.binary() else {
            throw XCTSkip("the stepwise executable is not built next to the tests (swift build first)")
        }
        return stepwise
    }

    /// Starts the workbench on a journal in a tmux session `t`; with `statusFile`, under a
    /// shell that writes the program's exit status there (tmux itself does not always report it).
    func start(_ stepwise: URL, _ journal: URL, environment: String, size: (Int, Int) = (120, 36), follow: Bool = false,
               statusFile: URL? = nil) throws {
        try start(stepwise, arguments: ["tui", journal.path] + (follow ? [] : ["--no-follow"]), environment: environment,
                  size: size, statusFile: statusFile)
    }

    /// Starts `stepwise ARGUMENTS…` in a tmux session `t` (each argument single-quoted: no
    /// argument may hold a quote).
    func start(_ stepwise: URL, arguments: [String], environment: String, size: (Int, Int) = (120, 36),
               statusFile: URL? = nil) throws {
        var command = "env \(environment) TERM=xterm-256color STEPWISE_THEMES=\(Paths.themes.path) "
            + "'\(stepwise.path)'" + arguments.map { " '\($0)'" }.joined()
        if let statusFile { command = "sh -c \"\(command); echo \\$? > '\(statusFile.path)'\"" }
        try tmux(["new-session", "-d", "-x", String(size.0), "-y", String(size.1), "-s", "t", command])
        XCTAssertEqual(status, 0, "tmux could not start the session")
    }

    /// Appends everything the program writes to the terminal (escape sequences included) to
    /// `file`: the record of screens that came and went between two captures.
    func record(to file: URL) throws {
        try tmux(["pipe-pane", "-o", "-t", "t", "cat >> '\(file.path)'"])
        XCTAssertEqual(status, 0, "tmux could not record the pane")
    }

    func waitForExit(timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var running = true
        while Date() < deadline && running {
            try tmux(["has-session", "-t", "t"])
            running = status == 0
            if running { usleep(50_000) }
        }
        XCTAssertFalse(running, "q did not end the workbench", file: file, line: line)
    }
}
