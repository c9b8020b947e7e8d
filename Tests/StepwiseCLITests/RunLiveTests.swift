import CNcurses
import Foundation
import Journal
import Reasoning
import Terminal
import XCTest
@testable import StepwiseCLI
@testable import Verification

/// The live loop the workbench drives (`LiveRun`), on the real engine and the fixture model,
/// without a terminal: keys in, workbench inputs out, finished work in the journal.
final class RunLiveTests: XCTestCase {
    final class Inbox: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [UIInput] = []
        func add(_ i: UIInput) { lock.lock(); list.append(i); lock.unlock() }
        var inputs: [UIInput] { lock.lock(); defer { lock.unlock() }; return list }
    }

    func testKeysDriveTheLoopAndStreamIntoTheWorkbench() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try RunCommandTests.writeShortPrompts(to: scratch.appendingPathComponent("prompts"))
        let out = scratch.appendingPathComponent("live.jsonl")
        let argv = ["--model", RunCommandTests.model, "--dataset", RunCommandTests.gsm8k, "--problems", "305",
                    "--samples", "2", "--rounds", "1", "--verifiers", "critique,mc", "--max-tokens", "10",
                    "--threads", "1", "--prompts", scratch.appendingPathComponent("prompts").path, "--out", out.path]
        let inbox = Inbox()
        let run = try LiveRun.start(argv, post: { inbox.add($0) })
        defer { run.shutdown() }
        let p = "gsm8k-test-305"
        XCTAssertEqual(run.journal, out)
        XCTAssertEqual(SessionState(try JournalReader.read(out)).problems.map(\.id), [p], "problems shown before any work")

        XCTAssertNotNil(run.handle(key: "R", problemID: p, selection: []))
        run.live.waitUntilIdle()
        var state = SessionState(try JournalReader.read(out))
        XCTAssertEqual(state.solutions(of: p, round: 0).map(\.id), ["\(p)/s0", "\(p)/s1"])
        XCTAssertEqual(state.rounds[p]?.finished, 1)
        XCTAssertEqual(state.solutions(of: p, round: 1).count, 2, "gibberish is never accepted")

        XCTAssertNotNil(run.handle(key: "s", problemID: p, selection: []))
        run.live.waitUntilIdle()
        XCTAssertNotNil(run.handle(key: "v", problemID: p, selection: ["\(p)/s2"]))
        XCTAssertNotNil(run.handle(key: "r", problemID: p, selection: ["\(p)/s2"]))
        run.live.waitUntilIdle()
        state = SessionState(try JournalReader.read(out))
        XCTAssertEqual(state.critiques["\(p)/s2"]?.count, 2)
        XCTAssertEqual(state.solutions["\(p)/s2/r1"]?.parentID, "\(p)/s2")
        XCTAssertEqual(state.critiques["\(p)/s2/r1"]?.count, 2)

        XCTAssertEqual(run.handle(key: " ", problemID: p, selection: []), "paused (the step under way finishes)")
        XCTAssertTrue(run.live.paused)
        XCTAssertEqual(run.handle(key: " ", problemID: p, selection: []), "resumed")
        XCTAssertNil(run.handle(key: "x", problemID: p, selection: []))

        // What the workbench received: every sample announced, then streamed; the engine state.
        var started: [String] = [], streamed = Set<String>(), states = Set<String>()
        for input in inbox.inputs {
            switch input {
            case .live(.sampleStarted(let id, _, _, _)): started.append(id)
            case .live(.tokens(let id, _)): streamed.insert(id)
            case .live(.engine(let s)): states.insert(s.state)
            case .session: XCTFail("session events come from the journal follower")
            default: break
            }
        }
        XCTAssertEqual(Set(started), Set(state.solutions(of: p).map(\.id)))
        XCTAssertTrue(Set(started).isSubset(of: streamed))
        XCTAssertTrue(states.isSuperset(of: ["idle", "running", "paused"]), "\(states)")
    }

    /// The real workbench (ncurses on a pseudo-terminal) with the live loop: `R` runs the
    /// problem shown to the round limit while the screen is up, space pauses, `q` quits; the
    /// journal holds the loop's work.
    func testLiveWorkbenchOnAPseudoTerminal() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-livetui-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try RunCommandTests.writeShortPrompts(to: scratch.appendingPathComponent("prompts"))
        let out = scratch.appendingPathComponent("live-tui.jsonl")

        var slaveFD: Int32 = -1
        let master = sw_open_pty(&slaveFD)
        let slave = slaveFD
        XCTAssertGreaterThanOrEqual(master, 0)
        defer { close(slave); close(master) }
        _ = sw_set_winsize(slave, 40, 120)
        let term = ProcessInfo.processInfo.environment["TERM"]
        if (term ?? "dumb") == "dumb" { setenv("TERM", "xterm-256color", 1) }
        defer { if let term { setenv("TERM", term, 1) } else { unsetenv("TERM") } }

        let argv = ["--model", RunCommandTests.model, "--dataset", RunCommandTests.gsm8k, "--problems", "305",
                    "--samples", "2", "--rounds", "1", "--verifiers", "critique", "--max-tokens", "10", "--threads", "1",
                    "--prompts", scratch.appendingPathComponent("prompts").path, "--out", out.path, "--theme", "mono"]
        final class Result: @unchecked Sendable { var code: Int32 = -1; var error: String?; let done = DispatchSemaphore(value: 0) }
        let result = Result()
        let ui = Thread {
            do { result.code = try LiveRun.workbench(argv, terminal: (slave, slave), handleSignals: false) } catch {
                result.error = "\(error)"
            }
            result.done.signal()
        }
        ui.stackSize = 8 << 20
        ui.start()
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while read(master, &buffer, buffer.count) > 0 {}
        }
        reader.start()

        func key(_ c: String) { _ = c.withCString { write(master, $0, strlen($0)) } }
        func waitFor(_ what: String, _ condition: (SessionState) -> Bool) {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let c = try? JournalReader.read(out), condition(SessionState(c)) { return }
                usleep(20_000)
            }
            XCTFail("timed out waiting for \(what)")
        }
        waitFor("the problem") { !$0.problems.isEmpty }
        usleep(300_000)   // the first frame
        key("R")
        waitFor("round 1 to finish") { $0.rounds["gsm8k-test-305"]?.finished == 1 }
        key(" ")
        key("q")
        XCTAssertEqual(result.done.wait(timeout: .now() + 30), .success, "the workbench quit")
        XCTAssertNil(result.error)
        XCTAssertEqual(result.code, 0)
        let state = SessionState(try JournalReader.read(out))
        XCTAssertEqual(state.solutions(of: "gsm8k-test-305", round: 0).count, 2)
        XCTAssertEqual(state.solutions(of: "gsm8k-test-305", round: 1).count, 2)
    }
}
