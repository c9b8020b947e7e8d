import Foundation
import Journal
import Reasoning
import XCTest

/// A live run in a real terminal: tmux runs `stepwise tui --model … --dataset builtin:arith`
/// (the verification–refinement loop inside the workbench), and the test works it as a
/// researcher would. `R` runs the first problem through a refinement round while tokens
/// stream into the panes; on the second problem Space pauses the engine and `R` queues its
/// run; back on the first problem a step is marked as the first error and given a note, and
/// the journal is read while the workbench is still up: the annotation is on disk and the
/// paused engine has written nothing. Space resumes (another step is rated as the engine
/// starts), the second problem finishes its round, `q` quits with status 0, and the journal
/// holds the engine's events and the human annotations, in the order they happened.
///
/// Synchronisation is by polling the screen and the journal with generous deadlines (a loaded
/// two-core machine can be slow to load and run even a tiny model), never by sleeping.
final class LiveRunEndToEndTests: TmuxTestCase {
    /// The model the loop runs: the smallest fixture model. Its weights are random, so it
    /// writes nonsense (a run of colons), which is all this test needs: the machinery, not the
    /// answers. The demo model (Models/arith-llama-2.5m) can replace it here.
    static let model = Paths.root.appendingPathComponent("Tests/InferenceTests/Fixtures/models/qwen2-q8_0.gguf")

    static let samples = 4
    /// Minutes, not seconds: model load and every step share two cores with other work.
    static let slow: TimeInterval = 180

    override func setUp() {
        super.setUp()
        socket = "stepwise-live-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Prompt overrides that fit the fixture model's 256-token context: an arith problem alone
    /// is ~200 tokens of it, so the verifier and refinement prompts leave the problem out.
    /// The generation prompt is the built-in one (the problem, then "Solution:").
    static func writePrompts(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let files = [
            "verify-critique": "{steps}\nOK?",
            "verify-critique-informed": "Ref: {reference}\n{steps}\nOK?",
            "refine": "{generation}\nReview: {critique}\nFix:",
            "refine-chat": "Review: {critique}",
        ]
        for (name, text) in files {
            try text.write(to: dir.appendingPathComponent("\(name).txt"), atomically: true, encoding: .utf8)
        }
    }

    /// `stepwise tui` running the loop live on the first two builtin:arith problems.
    static func arguments(journal: URL, prompts: URL) -> [String] {
        ["tui", "--model", model.path, "--dataset", "builtin:arith", "--problems", "0..1",
         "--samples", String(samples), "--rounds", "1", "--verifiers", "critique", "--max-tokens", "40",
         // Raw prompts: the fixture's chat template would make refinement a conversation longer
         // than its context.
         "--template", "raw", "--threads", "1", "--prompts", prompts.path, "--out", journal.path]
    }

    /// The exit status the wrapping shell wrote (waits for it a while).
    func exitStatus(_ statusFile: URL) -> String {
        let deadline = Date().addingTimeInterval(30)
        var exit = ""
        while Date() < deadline && exit.isEmpty {
            exit = ((try? String(contentsOf: statusFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if exit.isEmpty { usleep(50_000) }
        }
        return exit
    }

    /// Waits until the journal on disk satisfies `condition`; returns what it read.
    @discardableResult
    func waitForJournal(_ url: URL, _ what: String, timeout: TimeInterval = slow,
                        file: StaticString = #filePath, line: UInt = #line,
                        _ condition: (SessionState) -> Bool) throws -> JournalContents {
        let deadline = Date().addingTimeInterval(timeout)
        var last: JournalContents?
        while Date() < deadline {
            if let c = try? JournalReader.read(url) {
                last = c
                if condition(SessionState(c)) { return c }
            }
            usleep(50_000)
        }
        let events = last.map { "\($0.events.count) events" } ?? "no readable journal"
        XCTFail("the journal never showed \(what) (\(events)); the screen shows:\n\((try? screen()) ?? "")", file: file, line: line)
        throw XCTSkip("stopping after the failure above")
    }

    func testPauseAnnotateResumeQuitAndTheJournalHoldsBoth() throws {
        let stepwise = try prerequisites()
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.model.path), "no model at \(Self.model.path)")
        let dir = try Paths.temporaryDirectory("live")
        defer { try? FileManager.default.removeItem(at: dir) }
        let prompts = dir.appendingPathComponent("prompts")
        try Self.writePrompts(to: prompts)
        let journal = dir.appendingPathComponent("live.jsonl")
        let statusFile = dir.appendingPathComponent("status")
        let terminalOutput = dir.appendingPathComponent("terminal-output.txt")
        let set = ArithTask.builtinSet(split: .test, count: 2).problems
        let (p0, p1) = (set[0], set[1])

        try start(stepwise, arguments: Self.arguments(journal: journal, prompts: prompts),
                  environment: "LANG=C.UTF-8 LC_ALL=C.UTF-8", statusFile: statusFile)
        defer { _ = try? tmux(["kill-server"]) }
        try record(to: terminalOutput)

        // 1. Open on the first problem, engine idle; the journal has the problems, no work yet.
        try waitFor("builtin:arith 1/2", timeout: Self.slow)
        var shown = try waitFor("(in-process) │ idle", timeout: Self.slow)
        XCTAssertTrue(shown.contains("Problem \(p0.id)"), shown)
        XCTAssertTrue(shown.contains(String(p0.text.prefix(30))), "the problem text is not on screen:\n\(shown)")
        XCTAssertTrue(shown.contains(Self.model.lastPathComponent), shown)
        var state = SessionState(try JournalReader.read(journal))
        XCTAssertEqual(state.problems.map(\.id), [p0.id, p1.id])
        XCTAssertEqual(state.problems.first?.text, p0.text)
        XCTAssertTrue(state.solutions.isEmpty)

        // 2. R: the first problem through round 0 (samples, critiques) and refinement round 1.
        try send("R")
        try waitForJournal(journal, "round 1 of \(p0.id) finished") { $0.rounds[p0.id]?.finished == 1 }
        state = SessionState(try JournalReader.read(journal))
        let firsts = state.solutions(of: p0.id, round: 0)
        XCTAssertEqual(firsts.map(\.id), (0..<Self.samples).map { "\(p0.id)/s\($0)" })
        // The screen catches up (the journal follower polls): round 1 exists, the samples are
        // finished, and the selected (first) one is in the solution pane, as the journal has it.
        try waitFor("round 0/1", timeout: Self.slow)
        try waitFor("· \(p0.id)/s0", timeout: Self.slow)
        let s0 = try XCTUnwrap(firsts.first)
        let visible = String(s0.steps.first?.text.prefix { ($0.asciiValue ?? 0) >= 0x20 && $0.asciiValue != 0x7F }.prefix(16) ?? "")
        XCTAssertGreaterThanOrEqual(visible.count, 4, "the first step has too little printable text to look for: \(s0.text.debugDescription)")
        shown = try waitFor(visible, timeout: Self.slow)
        XCTAssertTrue(shown.contains("Samples r0 (\(Self.samples))"), shown)
        XCTAssertFalse(shown.contains("writing…"), "a finished sample still shown as being written:\n\(shown)")

        // 3. The second problem: Space pauses the engine, then R queues its run. (With this
        // model a step takes milliseconds, too short to time a key inside one; pausing first
        // makes what the paused engine may do exact: start the round, then nothing.)
        try send("n")
        try waitFor("builtin:arith 2/2", timeout: Self.slow)
        try send("Space")
        try waitFor("│ paused", timeout: Self.slow)
        try send("R")
        try waitFor("running \(p1.id) to the round limit", timeout: Self.slow)
        // The loop took the command (its round started) and waits at the pause.
        try waitForJournal(journal, "round 0 of \(p1.id) started") { ($0.rounds[p1.id]?.started ?? -1) >= 0 }

        // 4. Back on the first problem, while the engine is paused: the second sample's first
        // step marked as the first error, then a note on it.
        try send("p")
        try waitFor("builtin:arith 1/2", timeout: Self.slow)
        try send("j", "Enter")
        try waitFor("· \(p0.id)/s1", timeout: Self.slow)
        try send("x")
        shown = try waitFor("H@1", timeout: Self.slow)
        XCTAssertTrue(shown.contains("│ paused"), "the engine should still be paused:\n\(shown)")
        let s1 = "\(p0.id)/s1"
        // On disk at once, while the workbench runs (the writer fsyncs annotations).
        var contents = try waitForJournal(journal, "the first-error mark on \(s1)", timeout: 10) {
            $0.annotations(of: s1, source: Annotation.human).first?.firstError == true
        }
        try send("N")
        try waitFor("note on step 1:", timeout: Self.slow)
        try send("-l", "carry slipped")
        try send("Enter")
        try waitFor("note saved on step 1", timeout: Self.slow)
        try waitFor("✎ carry slipped", timeout: Self.slow)
        contents = try waitForJournal(journal, "the note on \(s1)", timeout: 10) {
            $0.annotations(of: s1, source: Annotation.human).first?.note == "carry slipped"
        }
        // Paused means paused: nothing of the second problem was written, verified or finished…
        state = SessionState(contents)
        XCTAssertEqual(state.solutions(of: p1.id).map(\.id), [], "the paused engine wrote samples")
        XCTAssertLessThan(state.rounds[p1.id]?.finished ?? -1, 0, "the paused engine finished a round")
        // …and its screen says so: no sample shown as being written.
        try send("n")
        try waitFor("builtin:arith 2/2", timeout: Self.slow)
        shown = try waitFor("no samples in round 0", timeout: Self.slow)
        XCTAssertFalse(shown.contains("writing…"), "a sample shows as being written while paused:\n\(shown)")
        XCTAssertTrue(shown.contains("│ paused"), shown)

        // 5. Space resumes; in the same breath, back on the first problem, its first sample's
        // step is rated bad while the engine works on the second.
        try send("Space", "p", "Escape", "Enter", "-")
        try waitForJournal(journal, "round 1 of \(p1.id) finished") { $0.rounds[p1.id]?.finished == 1 }
        try waitForJournal(journal, "the bad rating on \(p0.id)/s0", timeout: 10) {
            $0.annotations(of: "\(p0.id)/s0", source: Annotation.human).first?.rating == .bad
        }
        try waitFor("(in-process) │ idle", timeout: Self.slow)

        // The second problem's round 1 on screen: a refinement beside its parent.
        try send("n")
        try waitFor("builtin:arith 2/2", timeout: Self.slow)
        try send("]")
        try waitFor("round 1/1", timeout: Self.slow)
        try waitFor("parent \(p1.id)/s0", timeout: Self.slow)

        // Tokens on screen as samples are written. A step of this model can begin and end
        // between two frames on a starved machine, so until the terminal output shows a sample
        // row with streamed characters, ask for one more sample (s), at most ten times.
        try send("[")
        try waitFor("round 0/1", timeout: Self.slow)
        var extra = 0
        func streamed() throws -> [Int] { Self.streamedCharacterCounts(Self.text(ofTerminalOutput: try Data(contentsOf: terminalOutput))) }
        while try !streamed().contains(where: { $0 > 0 }) && extra < 10 {
            extra += 1
            try send("s")
            try waitForJournal(journal, "sample \(Self.samples + extra) of \(p1.id)") {
                $0.solutions(of: p1.id, round: 0).count == Self.samples + extra
            }
            try waitFor("Samples r0 (\(Self.samples + extra))", timeout: Self.slow)
        }
        let extras = Set((Self.samples..<(Self.samples + extra)).map { "\(p1.id)/s\($0)" })

        // 6. q: a clean exit.
        try send("q")
        try waitForExit(timeout: Self.slow)
        XCTAssertEqual(exitStatus(statusFile), "0", "the workbench should exit with status 0")

        // The journal: whole, with the engine's events for both problems…
        contents = try JournalReader.read(journal)
        XCTAssertFalse(contents.hasTornTail)
        XCTAssertEqual(contents.warnings, [])
        state = SessionState(contents)
        let events = contents.events
        for p in [p0.id, p1.id] {
            XCTAssertTrue(events.contains(.roundStarted(problemID: p, round: 0)), p)
            XCTAssertTrue(events.contains(.roundStarted(problemID: p, round: 1)), p)
            XCTAssertEqual(state.rounds[p]?.finished, 1, p)
            XCTAssertEqual(state.solutions(of: p, round: 0).count, Self.samples + (p == p1.id ? extra : 0), p)
            let refined = state.solutions(of: p, round: 1)
            XCTAssertFalse(refined.isEmpty, "\(p): no refinement")
            for r in refined {
                XCTAssertEqual(r.origin, .refined)
                XCTAssertEqual(r.parentID.flatMap { state.solutions[$0]?.round }, 0, r.id)
            }
            for s in state.solutions(of: p) where !extras.contains(s.id) {
                XCTAssertEqual(state.critiques[s.id]?.map(\.verifier), [.critique], "\(s.id): its critique")
            }
            XCTAssertNil(state.failures[p], "\(p): \(state.failures[p] ?? [])")
        }
        // …and the human annotations, each journaled once, exactly as made.
        let human: [Annotation] = events.compactMap {
            if case .annotationAdded(let a) = $0, a.source == Annotation.human { return a }
            return nil
        }
        XCTAssertEqual(human.map(\.solutionID), [s1, s1, "\(p0.id)/s0"])
        XCTAssertEqual(human.map(\.stepIndex), [0, 0, 0])
        let mark = try XCTUnwrap(state.annotations(of: s1, source: Annotation.human).first)
        XCTAssertTrue(mark.firstError)
        XCTAssertEqual(mark.rating, .bad)
        XCTAssertEqual(mark.note, "carry slipped")
        XCTAssertEqual(state.annotations(of: "\(p0.id)/s0", source: Annotation.human).map(\.rating), [.bad])
        // The marks made while paused lie between the second problem's round start (the loop
        // took R) and its first sample (written only after Space).
        let marks = events.indices.filter {
            if case .annotationAdded(let a) = events[$0] { return a.solutionID == s1 }
            return false
        }
        let p1Started = try XCTUnwrap(events.firstIndex(of: .roundStarted(problemID: p1.id, round: 0)))
        let p1FirstSample = try XCTUnwrap(events.firstIndex {
            if case .solutionAdded(let s) = $0 { return s.problemID == p1.id }
            return false
        })
        XCTAssertEqual(marks.count, 2)
        XCTAssertLessThan(p1Started, marks.first ?? -1)
        XCTAssertLessThan(marks.last ?? Int.max, p1FirstSample)

        // What the terminal showed between captures: samples being written, tokens arriving.
        // (A fresh problem's first sample streaming into the solution pane is checked on the
        // renderer in LiveKeyTests; here it shows only when a frame falls inside that step.)
        let counts = try streamed()
        XCTAssertTrue(counts.contains { $0 > 0 }, "no streamed token reached the screen: \(counts)")
        let inPane = Self.text(ofTerminalOutput: try Data(contentsOf: terminalOutput)).contains("/s0 writing…")
        print("LiveRunEndToEnd: \(extra) extra sample(s) asked for; frames of rows being written: \(counts); "
              + "solution pane seen streaming: \(inPane)")
    }

    /// Terminal output with its escape sequences (cursor moves, colours, charset switches) taken
    /// out: the characters drawn, in the order drawn.
    static func text(ofTerminalOutput data: Data) -> String {
        var out: [UInt8] = []
        var i = data.startIndex
        while i < data.endIndex {
            guard data[i] == 0x1B, i + 1 < data.endIndex else {
                if data[i] != 0x1B { out.append(data[i]) }
                i += 1
                continue
            }
            switch data[i + 1] {
            case UInt8(ascii: "["):
                // CSI: parameters and intermediates, then one final byte in @…~.
                i += 2
                while i < data.endIndex && !(0x40...0x7E).contains(data[i]) { i += 1 }
                i += 1
            case UInt8(ascii: "]"):
                // OSC: up to BEL (or the ESC of ST).
                i += 2
                while i < data.endIndex && data[i] != 0x07 && data[i] != 0x1B { i += 1 }
                i += 1
            case UInt8(ascii: "("), UInt8(ascii: ")"):
                i += 3
            default:
                i += 2
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `q` while the engine is paused with a run queued: the workbench exits at once with
    /// status 0 (the waiting loop is let go, not left hanging), and the journal is whole.
    func testQuitWhilePausedWithWorkQueued() throws {
        let stepwise = try prerequisites()
        let dir = try Paths.temporaryDirectory("live-quit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let prompts = dir.appendingPathComponent("prompts")
        try Self.writePrompts(to: prompts)
        let journal = dir.appendingPathComponent("live.jsonl")
        let statusFile = dir.appendingPathComponent("status")
        let p0 = "arith-test-0"
        try start(stepwise, arguments: Self.arguments(journal: journal, prompts: prompts),
                  environment: "LANG=C.UTF-8 LC_ALL=C.UTF-8", statusFile: statusFile)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("(in-process) │ idle", timeout: Self.slow)
        try send("Space")
        try waitFor("│ paused", timeout: Self.slow)
        try send("R")
        try waitForJournal(journal, "round 0 of \(p0) started") { ($0.rounds[p0]?.started ?? -1) >= 0 }
        try send("q")
        try waitForExit(timeout: 30)
        XCTAssertEqual(exitStatus(statusFile), "0", "the workbench should exit with status 0")
        let contents = try JournalReader.read(journal)
        XCTAssertFalse(contents.hasTornTail)
        XCTAssertEqual(contents.warnings, [])
        let state = SessionState(contents)
        XCTAssertEqual(state.solutions(of: p0).count, 0, "the paused engine wrote samples")
        XCTAssertEqual(state.rounds[p0]?.finished, -1)
    }

    /// The N of every "writing… N chars" (a sample row while its tokens arrive) in terminal output.
    static func streamedCharacterCounts(_ output: String) -> [Int] {
        var counts: [Int] = []
        var rest = Substring(output)
        while let r = rest.range(of: "writing… ") {
            rest = rest[r.upperBound...]
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            if !digits.isEmpty, rest.dropFirst(digits.count).hasPrefix(" chars"), let n = Int(digits) { counts.append(n) }
        }
        return counts
    }
}
