import Foundation
import Journal
import Reasoning
import Terminal
import XCTest

/// The real program in a real terminal: tmux runs `stepwise tui` on a fixture session at
/// 120×36, the test types keys (move, step rounds, mark an error, add a note, quit), reads the
/// screen with capture-pane, and checks the journal on disk afterwards. (The tmux helpers are
/// in Support/TmuxTestCase.swift.)
final class TmuxEndToEndTests: TmuxTestCase {
    func testAnnotateAStepInTheRealTerminalAndFindItInTheJournal() throws {
        let stepwise = try prerequisites()
        let dir = try Paths.temporaryDirectory("e2e")
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = dir.appendingPathComponent("fixture.jsonl")
        try FixtureSession.writeJournal(try FixtureSession.busy(), to: journal)

        try start(stepwise, journal, environment: "LANG=C.UTF-8 LC_ALL=C.UTF-8")
        defer { _ = try? tmux(["kill-server"]) }

        try waitFor("round 0/1")
        try waitFor("Samples r0 (1)")
        // Step through rounds: the refined child appears beside its parent.
        try send("]")
        try waitFor("round 1/1")
        try waitFor("parent bbm-multistep")
        try send("[")
        try waitFor("round 0/1")
        // Focus the solution, move to step 3, mark it as the first error, add a note.
        try send("Enter", "j", "j")
        try waitFor("step 3/5")
        try send("x")
        try waitFor("H@3")
        try send("N")
        try waitFor("note on step 3:")
        try send("-l", "carry slipped")
        try send("Enter")
        try waitFor("note saved on step 3")
        try waitFor("✎ carry slipped")
        // Export the labels (the human mark wins over the dataset's for this trace).
        try send(":")
        try send("-l", "export prm800k")
        try send("Enter")
        try waitFor("exported 6 records to")
        let exported = dir.appendingPathComponent("fixture.prm800k.jsonl")
        let lines = try String(contentsOf: exported, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 6)
        // Next problem and back, then quit.
        try send("n")
        try waitFor("big-bench-mistake 2/6")
        try send("p", "q")
        try waitForExit()

        // On disk: the first-error mark and the note, from a human, on step index 2.
        let contents = try JournalReader.read(journal)
        let human = SessionState(contents).annotations(of: "bbm-multistep_arithmetic-0/big-bench-mistake", source: Annotation.human)
        XCTAssertEqual(human.count, 1)
        XCTAssertEqual(human.first?.stepIndex, 2)
        XCTAssertEqual(human.first?.firstError, true)
        XCTAssertEqual(human.first?.rating, .bad)
        XCTAssertEqual(human.first?.note, "carry slipped")

        // Reopened, the session shows the annotation.
        var reopened = UIState(session: SessionState(contents), sessionName: "fixture.jsonl", size: Size(cols: 120, rows: 36))
        reopened.refreshMetrics()
        let text = Renderer.render(reopened).text
        XCTAssertTrue(text.contains("H@3"))
        XCTAssertTrue(text.contains("✎ carry slipped"))
    }

    /// A non-UTF-8 locale, NO_COLOR and resizes: ASCII glyphs, attributes without colours, the
    /// layout following the terminal's size, the "too small" screen, and a clean quit.
    func testPlainLocaleNoColorAndResize() throws {
        let stepwise = try prerequisites()
        let dir = try Paths.temporaryDirectory("e2e-plain")
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = dir.appendingPathComponent("fixture.jsonl")
        try FixtureSession.writeJournal(try FixtureSession.busy(), to: journal)
        try start(stepwise, journal, environment: "LANG=C LC_ALL=C NO_COLOR=1")
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("stepwise | big-bench-mistake 1/6")
        let plain = try screen()
        XCTAssertTrue(plain.unicodeScalars.allSatisfy { $0.isASCII }, "non-ASCII glyph under LANG=C:\n\(plain)")
        let styled = try tmux(["capture-pane", "-p", "-e", "-t", "t"])
        let sgr = Self.sgrParameters(styled)
        XCTAssertFalse(sgr.contains { (30...37).contains($0) || (40...47).contains($0) || (90...107).contains($0) || $0 == 38 || $0 == 48 },
                       "colours under NO_COLOR: \(Set(sgr).sorted())")
        XCTAssertTrue(sgr.contains(7), "reverse video (selection) missing under NO_COLOR")
        XCTAssertTrue(sgr.contains(1), "bold missing under NO_COLOR")
        try tmux(["resize-window", "-t", "t", "-x", "80", "-y", "24"])
        try waitFor("Samples r0 (1)")
        XCTAssertTrue(try screen().split(separator: "\n").allSatisfy { $0.count <= 80 })
        try tmux(["resize-window", "-t", "t", "-x", "50", "-y", "12"])
        try waitFor("terminal too small")
        try tmux(["resize-window", "-t", "t", "-x", "120", "-y", "36"])
        try waitFor("Samples r0 (1)")
        try send("q")
        try waitForExit()
    }

    /// Every parameter of every SGR escape (`ESC [ … m`) in captured pane text.
    static func sgrParameters(_ text: String) -> [Int] {
        var out: [Int] = []
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i + 1 < scalars.count {
            if scalars[i] == "\u{1B}" && scalars[i + 1] == "[" {
                var j = i + 2
                var body = ""
                while j < scalars.count, scalars[j] == ";" || ("0"..."9").contains(scalars[j]) {
                    body.unicodeScalars.append(scalars[j])
                    j += 1
                }
                if j < scalars.count && scalars[j] == "m" {
                    out += body.split(separator: ";").compactMap { Int($0) }
                }
                i = j
            } else {
                i += 1
            }
        }
        return out
    }

    /// Following a journal another process appends to: new work reaches the screen through the
    /// follower thread and the mailbox's wake-up, with no key pressed.
    func testFollowsAJournalAnotherProcessAppendsTo() throws {
        let stepwise = try prerequisites()
        let dir = try Paths.temporaryDirectory("e2e-follow")
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = dir.appendingPathComponent("live.jsonl")
        try FixtureSession.writeJournal(try FixtureSession.busy(), to: journal)
        let statusFile = dir.appendingPathComponent("status")
        try start(stepwise, journal, environment: "LANG=C.UTF-8 LC_ALL=C.UTF-8", follow: true, statusFile: statusFile)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("big-bench-mistake 1/6")
        let (writer, _) = try JournalWriter.openForAppend(at: journal)
        try writer.append(.problemLoaded(Problem(id: "late", source: "test", text: "A problem that arrived later.", kind: .freeform)))
        try waitFor("big-bench-mistake 1/7")
        let first = "bbm-multistep_arithmetic-0"
        try writer.append(.critiqueFinished(Critique(id: "late-mc", solutionID: "\(first)/big-bench-mistake", verifier: .mc, score: 0.25)))
        try waitFor("mc 0.25")
        // SIGTERM asks the UI to quit the normal way (journal flushed, terminal restored): exit
        // status 0, where dying of the signal would give 143.
        var pid = try tmux(["list-panes", "-t", "t", "-F", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        // Down the shells to the workbench itself.
        for _ in 0..<4 {
            let name = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
            if name.hasPrefix("stepwise") { break }
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            guard let child = children.split(separator: " ").first else { break }
            pid = String(child)
        }
        let target = try XCTUnwrap(Int32(pid), "no workbench process in the pane")
        XCTAssertTrue(((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").hasPrefix("stepwise"))
        XCTAssertEqual(kill(target, SIGTERM), 0)
        let deadline = Date().addingTimeInterval(10)
        var dead = ""
        while Date() < deadline {
            dead = ((try? String(contentsOf: statusFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if !dead.isEmpty { break }
            usleep(50_000)
        }
        XCTAssertEqual(dead, "0", "SIGTERM should end the workbench cleanly with status 0")
    }
}
