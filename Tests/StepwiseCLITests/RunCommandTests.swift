import Foundation
import Journal
import Reasoning
import XCTest
@testable import StepwiseCLI
@testable import Verification

/// `stepwise run` on the real in-process engine with one of the engine's small random-weight
/// fixture models (its output is gibberish, so verifier answers are recorded as unparseable),
/// on real GSM8K problems: every verifier, blind and informed, two refinement rounds; the
/// journal replays into a report; a rerun resumes; kill -9 and Ctrl-C mid-run lose nothing and
/// duplicate nothing.
final class RunCommandTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let model = repo.appendingPathComponent("Tests/InferenceTests/Fixtures/models/llama-f32.gguf").path
    static let gsm8k = repo.appendingPathComponent("../shared/datasets/gsm8k/test.jsonl").standardizedFileURL.path
    /// Two of GSM8K's shortest test problems: the fixture model's context is 256 tokens.
    static let problems = "305,462"

    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try Self.writeShortPrompts(to: scratch.appendingPathComponent("prompts"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Prompt overrides short enough for a 256-token context (the built-in few-shot prompts are
    /// longer than that), covering every prompt the run uses with raw and chat layouts.
    static func writeShortPrompts(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var files: [String: String] = [
            "generate-gsm8k": "Q: {problem}\nA:",
            "generate-chat": "{problem}",
            "refine": "{problem}\n{generation}\nReview: {critique}\nFix:",
            "refine-chat": "Review: {critique}",
            "verify-tournament": "{problem}\nA: {solution_a}\nB: {solution_b}\nBetter:",
            "verify-tournament-informed": "{problem}\nRef: {reference}\nA: {solution_a}\nB: {solution_b}\nBetter:",
        ]
        for kind in ["mc", "cot-binary", "cot-score", "critique"] {
            files["verify-\(kind)"] = "{problem}\n{steps}\nOK?"
            files["verify-\(kind)-informed"] = "{problem}\nRef: {reference}\n{steps}\nOK?"
        }
        for (name, text) in files {
            try text.write(to: dir.appendingPathComponent("\(name).txt"), atomically: true, encoding: .utf8)
        }
    }

    func arguments(out: URL, samples: Int = 4, rounds: Int = 2) -> [String] {
        ["run", "--model", Self.model, "--dataset", Self.gsm8k, "--problems", Self.problems,
         "--samples", String(samples), "--rounds", String(rounds),
         "--verifiers", "mc,cot-binary,cot-score,tournament,critique", "--informed", "--both-orders",
         "--max-tokens", "12", "--seed", "5", "--threads", "1",
         "--prompts", scratch.appendingPathComponent("prompts").path, "--out", out.path]
    }

    // MARK: End to end, in process

    func testEveryVerifierTwoRoundsReplaysIntoAReportAndResumes() throws {
        let out = scratch.appendingPathComponent("e2e.jsonl")
        let console = Console.capturing()
        let code = CLI.run(arguments(out: out), console: console)
        XCTAssertEqual(code, 0, console.capturedErr)
        XCTAssertTrue(console.capturedOut.contains("Stepwise report"), console.capturedOut)

        let contents = try JournalReader.read(out)
        XCTAssertFalse(contents.hasTornTail)
        let state = SessionState(contents)
        XCTAssertEqual(state.problems.map(\.id), ["gsm8k-test-305", "gsm8k-test-462"])
        for p in state.problems {
            XCTAssertEqual(state.solutions(of: p.id, round: 0).count, 4)
            // Gibberish is never accepted, so every attempt is rewritten twice.
            XCTAssertEqual(state.solutions(of: p.id, round: 1).count, 4)
            XCTAssertEqual(state.solutions(of: p.id, round: 2).count, 4)
            XCTAssertEqual(state.rounds[p.id]?.finished, 2)
            XCTAssertEqual(Set(state.rounds[p.id]?.outcomes[2]?.values.map { $0 } ?? []), [.limit])
            for s in state.solutions(of: p.id) {
                XCTAssertNotNil(s.grade.strictCorrect ?? s.grade.flexibleCorrect, "graded: \(s.id)")
                let critiques = state.critiques[s.id] ?? []
                XCTAssertEqual(critiques.count, 8, s.id)
                for c in critiques where c.verifier != .mc {
                    // Whatever the model wrote is kept; unreadable answers are marked, not guessed.
                    XCTAssertEqual(c.raw.isEmpty && c.parse == .unparseable, false, "\(c.id) keeps raw text")
                    if c.parse == .unparseable { XCTAssertNil(c.score) }
                }
                let mc = try XCTUnwrap(critiques.first { $0.verifier == .mc })
                let p = try XCTUnwrap(mc.score)
                XCTAssertTrue(p >= 0 && p <= 1)
            }
            for r in 0...2 {
                let level0 = (state.comparisons[p.id] ?? []).filter { $0.round == r && $0.level == 0 }
                XCTAssertEqual(level0.count, 8, "2 pairs × 2 orders × blind/informed, round \(r)")
            }
        }
        let refined = try XCTUnwrap(state.solutions["gsm8k-test-305/s2/r1/r2"])
        XCTAssertEqual(refined.parentID, "gsm8k-test-305/s2/r1")
        XCTAssertEqual(refined.origin, .refined)

        // The journal replays into a report with per-round figures for rounds 0–2.
        let report = Metrics.report(MetricsInput(session: state), options: MetricsOptions())
        XCTAssertEqual(report.rounds.map(\.round), [0, 1, 2])
        let reportConsole = Console.capturing()
        XCTAssertEqual(CLI.run(["report", out.path], console: reportConsole), 0, reportConsole.capturedErr)

        // Rerunning the finished session computes and journals nothing.
        let again = Console.capturing()
        XCTAssertEqual(CLI.run(arguments(out: out), console: again), 0, again.capturedErr)
        XCTAssertTrue(again.capturedOut.contains("resuming"))
        XCTAssertEqual(try JournalReader.read(out).events, contents.events)
    }

    // MARK: Interruption, in a subprocess

    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("stepwise")
    }

    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = Self.executable
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Waits until the journal has at least `lines` lines (or the process ended).
    func waitForLines(_ url: URL, _ lines: Int, process: Process, timeout: TimeInterval = 60) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && process.isRunning {
            if let d = try? Data(contentsOf: url), d.filter({ $0 == 0x0A }).count >= lines { return }
            usleep(2_000)
        }
    }

    /// What identifies each event, so that two runs' journals can be compared when the texts
    /// of samples may differ in the last float bits.
    static func keys(_ events: [SessionEvent]) -> [String] {
        events.compactMap { e in
            switch e {
            case .problemLoaded(let p): return "problem \(p.id)"
            case .solutionAdded(let s): return "solution \(s.id)"
            case .critiqueFinished(let c): return "critique \(c.id)"
            case .comparisonFinished(let c):
                return "comparison \(c.problemID) \(c.round) \(c.level) \(c.informed) \(c.first) \(c.second)"
            case .roundStarted(let p, let r): return "started \(p) \(r)"
            case .roundFinished(let p, let r, _): return "finished \(p) \(r)"
            case .sampleFailed(let p, let r, let m): return "failed \(p) \(r) \(m)"
            default: return nil
            }
        }
    }

    /// Run as a base model (`--template raw`: the few-shot layout), so the raw path is covered
    /// on the real engine too (the in-process test above uses the fixture's ChatML template).
    func testKillNineMidRunThenResumeLosesAndDuplicatesNothing() throws {
        let reference = scratch.appendingPathComponent("reference.jsonl")
        let args = Array(arguments(out: reference, samples: 2, rounds: 1).dropFirst()) + ["--template", "raw"]
        let whole = try start(["run"] + args)
        whole.waitUntilExit()
        XCTAssertEqual(whole.terminationStatus, 0)
        let expected = Self.keys(try JournalReader.read(reference).events)
        XCTAssertGreaterThan(expected.count, 40)

        // Two problems at once (--parallel 2): the same events, in another order.
        let parallel = scratch.appendingPathComponent("parallel.jsonl")
        let console = Console.capturing()
        XCTAssertEqual(CLI.run(["run"] + Array(arguments(out: parallel, samples: 2, rounds: 1).dropFirst())
                               + ["--template", "raw", "--parallel", "2"], console: console), 0, console.capturedErr)
        let parallelKeys = Self.keys(try JournalReader.read(parallel).events)
        XCTAssertEqual(parallelKeys.count, expected.count)
        XCTAssertEqual(Set(parallelKeys), Set(expected))

        for cutAt in [expected.count / 4, expected.count / 2] {
            let out = scratch.appendingPathComponent("killed-\(cutAt).jsonl")
            let runArgs = ["run"] + Array(arguments(out: out, samples: 2, rounds: 1).dropFirst()) + ["--template", "raw"]
            let victim = try start(runArgs)
            waitForLines(out, cutAt, process: victim)
            XCTAssertTrue(victim.isRunning, "the run ended before it could be killed at \(cutAt) lines")
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            XCTAssertEqual(victim.terminationReason, .uncaughtSignal)
            let partial = try JournalReader.read(out)
            XCTAssertLessThan(partial.events.count, expected.count)

            let resumed = try start(runArgs)
            resumed.waitUntilExit()
            XCTAssertEqual(resumed.terminationStatus, 0)
            let keys = Self.keys(try JournalReader.read(out).events)
            XCTAssertEqual(keys.count, Set(keys).count, "no duplicate events (killed at \(cutAt))")
            XCTAssertEqual(Set(keys), Set(expected), "no missing or extra events (killed at \(cutAt))")
        }
    }

    func testCtrlCStopsCleanlyAndTheRerunFinishes() throws {
        let out = scratch.appendingPathComponent("interrupted.jsonl")
        let runArgs = ["run"] + Array(arguments(out: out, samples: 2, rounds: 1).dropFirst())
        let p = try start(runArgs)
        waitForLines(out, 12, process: p)
        XCTAssertTrue(p.isRunning)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, 130)
        let partial = try JournalReader.read(out)
        XCTAssertFalse(partial.hasTornTail, "a clean stop leaves whole lines")
        XCTAssertTrue(partial.warnings.isEmpty)

        let again = try start(runArgs)
        again.waitUntilExit()
        XCTAssertEqual(again.terminationStatus, 0)
        let keys = Self.keys(try JournalReader.read(out).events)
        XCTAssertEqual(keys.count, Set(keys).count)
        XCTAssertEqual(Array(keys.prefix(Self.keys(partial.events).count)), Self.keys(partial.events))
        let state = SessionState(try JournalReader.read(out))
        XCTAssertEqual(state.problems.compactMap { state.rounds[$0.id]?.finished }, [1, 1])
    }

    // MARK: Bad input

    func testBadInputExitsTwoWithOneLine() throws {
        let out = scratch.appendingPathComponent("bad.jsonl").path
        func check(_ args: [String], _ needle: String, file: StaticString = #filePath, line: UInt = #line) {
            let console = Console.capturing()
            XCTAssertEqual(CLI.run(args, console: console), 2, console.capturedErr, file: file, line: line)
            XCTAssertTrue(console.capturedErr.contains(needle), console.capturedErr, file: file, line: line)
            XCTAssertEqual(console.capturedErr.split(separator: "\n").count, 1, console.capturedErr, file: file, line: line)
        }
        check(["run", "--model", Self.model, "--dataset", "builtin:nope", "--out", out], "unknown built-in set")
        check(["run", "--model", Self.model, "--dataset", "/nonexistent/x.jsonl", "--out", out], "no such file")
        let garbage = scratch.appendingPathComponent("garbage.jsonl")
        try Data("not json\n{\"question\": 3}\n".utf8).write(to: garbage)
        check(["run", "--model", Self.model, "--dataset", garbage.path, "--out", out], "garbage.jsonl")
        let badPrompts = scratch.appendingPathComponent("bad-prompts")
        try FileManager.default.createDirectory(at: badPrompts, withIntermediateDirectories: true)
        try "Q: {problm}".write(to: badPrompts.appendingPathComponent("generate-gsm8k.txt"), atomically: true, encoding: .utf8)
        check(["run", "--model", Self.model, "--dataset", Self.gsm8k, "--prompts", badPrompts.path, "--out", out], "{problm}")
        let badModel = scratch.appendingPathComponent("model.gguf")
        try Data("GGUF but not really".utf8).write(to: badModel)
        check(["run", "--model", badModel.path, "--dataset", Self.gsm8k, "--problems", "0", "--out", out], "model.gguf")
        check(["run", "--model", Self.model, "--dataset", Self.gsm8k, "--problems", "0..5000", "--out", out], "--problems")
        check(["run", "--model", Self.model, "--dataset", Self.gsm8k, "--verifiers", "mc,oracle", "--out", out], "oracle")
        check(["run", "--model", Self.model, "--dataset", Self.gsm8k, "--refine-with", "tournament", "--out", out], "tournament")
        check(["run", "--dataset", Self.gsm8k], "--model")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing journaled on bad input")
    }

    /// Requests the engine refuses (here: the built-in few-shot prompt is longer than the
    /// fixture's 256-token context) are journaled as failures and the run exits 1.
    func testFailedRequestsAreJournaledAndExitOne() throws {
        let out = scratch.appendingPathComponent("failing.jsonl")
        let console = Console.capturing()
        let code = CLI.run(["run", "--model", Self.model, "--dataset", Self.gsm8k, "--problems", "305", "--samples", "2",
                            "--rounds", "0", "--template", "raw", "--max-tokens", "8", "--out", out.path], console: console)
        XCTAssertEqual(code, 1, console.capturedErr)
        XCTAssertTrue(console.capturedErr.contains("2 requests failed") || console.capturedErr.contains("1 requests failed"),
                      console.capturedErr)
        let state = SessionState(try JournalReader.read(out))
        let failures = try XCTUnwrap(state.failures["gsm8k-test-305"])
        XCTAssertFalse(failures.isEmpty)
        XCTAssertTrue(failures[0].message.contains("context"), failures[0].message)
        XCTAssertEqual(state.rounds["gsm8k-test-305"]?.finished, 0)
    }

    func testBuiltinSets() throws {
        let arith = try RunCommand.makePlan(["--model", "m", "--dataset", "builtin:arith", "--problems", "0..2"])
        XCTAssertEqual(arith.problems.map(\.id), ["arith-test-0", "arith-test-1", "arith-test-2"])
        XCTAssertTrue(arith.problems.allSatisfy { $0.kind == .arith && $0.referenceAnswer != nil })
        let sudoku = try RunCommand.makePlan(["--model", "m", "--dataset", "builtin:sudoku4", "--problems", "287"])
        XCTAssertEqual(sudoku.problems.map(\.id), ["sudoku4-287"])
        XCTAssertEqual(try RunCommand.makePlan(["--model", "m", "--dataset", "builtin:arith-train", "--problems", "0"])
            .problems.map(\.id), ["arith-train-0"])
    }

    func testProblemSelection() throws {
        XCTAssertEqual(try RunCommand.selection("0..2,5,1", count: 10), [0, 1, 2, 5])
        XCTAssertEqual(try RunCommand.selection("3..<6", count: 10), [3, 4, 5])
        XCTAssertEqual(try RunCommand.selection("9", count: 10), [9])
        XCTAssertThrowsError(try RunCommand.selection("10", count: 10))
        XCTAssertThrowsError(try RunCommand.selection("5..2", count: 10))
        XCTAssertThrowsError(try RunCommand.selection("a..b", count: 10))
    }
}
