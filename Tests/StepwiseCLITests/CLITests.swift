import XCTest
import Foundation
@testable import StepwiseCLI
import Journal
import Reasoning

/// The command line as a user meets it: exit codes, help, and the foundation's acceptance runs
/// on the real datasets in ../shared.
final class CLITests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func run(_ args: String...) -> (code: Int32, out: String, err: String) {
        let c = Console.capturing()
        let code = CLI.run(args, console: c)
        return (code, c.capturedOut, c.capturedErr)
    }

    func sharedFile(_ path: String) throws -> String {
        let url = Self.shared.appendingPathComponent(path)
        try XCTSkipUnless(FileManager.default.fileExists(atPath: url.path), "\(url.path) not present")
        return url.path
    }

    func testHelpVersionAndUsageErrors() {
        let help = run("--help")
        XCTAssertEqual(help.code, 0)
        for name in ["import", "report", "export"] { XCTAssertTrue(help.out.contains(name), name) }
        XCTAssertEqual(run("--version").out, "stepwise \(CLI.version)\n")
        let importHelp = run("help", "import")
        XCTAssertEqual(importHelp.code, 0)
        XCTAssertTrue(importHelp.out.contains("Usage: stepwise import"))
        XCTAssertEqual(run("report", "--help").code, 0)

        let unknown = run("frobnicate")
        XCTAssertEqual(unknown.code, 2)
        XCTAssertTrue(unknown.err.contains("no command 'frobnicate'"))
        XCTAssertEqual(run("help", "frobnicate").code, 2)
        XCTAssertEqual(run("report").code, 2, "missing SESSION")
        let badOption = run("report", "x.jsonl", "--bogus")
        XCTAssertEqual(badOption.code, 2)
        XCTAssertTrue(badOption.err.contains("--bogus"))
        XCTAssertEqual(run("report", "x.jsonl", "--top").code, 2, "option without its value")
        XCTAssertEqual(run("report", "x.jsonl", "--top", "zero").code, 2)
        XCTAssertEqual(run("export", "x.jsonl", "--format", "csv").code, 2)
    }

    func testMissingAndCorruptSessionsAreBadInput() throws {
        let missing = run("report", dir.appendingPathComponent("none.jsonl").path)
        XCTAssertEqual(missing.code, 2)
        XCTAssertTrue(missing.err.contains("none.jsonl"))

        let torn = dir.appendingPathComponent("torn.jsonl")
        try Data(#"{"stepwise":"journal","form"#.utf8).write(to: torn)
        let r = run("report", torn.path)
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.err.contains("torn.jsonl"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, "one line: \(r.err)")
    }

    /// The foundation's acceptance run: 1,319 problems × 4 real solutions; our grader agrees
    /// with the dataset's own `is_correct` on at least 99% of them.
    func testImportGSM8KSolutionsAndReport() throws {
        let file = try sharedFile("datasets/gsm8k/example_model_solutions.jsonl")
        let session = dir.appendingPathComponent("gsm8k.jsonl")
        let imported = run("import", "gsm8k-solutions", file, "--out", session.path)
        XCTAssertEqual(imported.code, 0, imported.err)
        XCTAssertTrue(imported.out.contains("1319 problems, 5276 solutions"), imported.out)

        let state = SessionState(try JournalReader.read(session))
        XCTAssertEqual(state.problems.count, 1319)
        XCTAssertEqual(state.allSolutions.count, 5276)
        XCTAssertTrue(state.problems.allSatisfy { state.solutions(of: $0.id).count == 4 })
        XCTAssertEqual(Set(state.allSolutions.compactMap(\.origin.generatorName)),
                       ["6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"])

        let table = run("report", session.path)
        XCTAssertEqual(table.code, 0, table.err)
        for g in ["6b_finetuning", "175b_verification"] { XCTAssertTrue(table.out.contains(g), table.out) }

        let json = run("report", session.path, "--json")
        XCTAssertEqual(json.code, 0)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let agreement = try XCTUnwrap(object["labelAgreement"] as? [String: Any])
        let compared = try XCTUnwrap(agreement["compared"] as? Int)
        let agreeing = try XCTUnwrap(agreement["agreeing"] as? Int)
        XCTAssertEqual(compared, 5276)
        XCTAssertGreaterThanOrEqual(Double(agreeing) / Double(compared), 0.99, "grader vs is_correct")
        // Per-system accuracy straight from the labels, recomputed here by a direct count.
        let generators = try XCTUnwrap(object["generators"] as? [[String: Any]])
        XCTAssertEqual(generators.count, 4)
        var labelled: [String: (Int, Int)] = [:]
        for s in state.allSolutions {
            let g = s.origin.label
            labelled[g, default: (0, 0)].0 += s.correct == true ? 1 : 0
            labelled[g, default: (0, 0)].1 += 1
        }
        for g in generators {
            let name = try XCTUnwrap(g["generator"] as? String)
            let value = try XCTUnwrap(g["value"] as? Double)
            let (c, n) = try XCTUnwrap(labelled[name])
            XCTAssertEqual(value, Double(c) / Double(n), accuracy: 1e-9, name)
        }
    }

    /// BIG-Bench-Mistake first-mistake labels survive import → ProcessBench export exactly.
    func testBigBenchMistakeRoundTripsThroughProcessBench() throws {
        let file = try sharedFile("datasets/big-bench-mistake/multistep_arithmetic.jsonl")
        let session = dir.appendingPathComponent("bbm.jsonl")
        XCTAssertEqual(run("import", "big-bench-mistake", file, "--out", session.path).code, 0)
        let out = dir.appendingPathComponent("pb.json")
        let exported = run("export", session.path, "--format", "processbench", "--out", out.path)
        XCTAssertEqual(exported.code, 0, exported.err)

        let records = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [[String: Any]])
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(records.count, lines.count)
        for (line, record) in zip(lines, records) {
            let source = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let expected = (source["mistake_index"] as? Int) ?? -1
            XCTAssertEqual(record["label"] as? Int, expected)
            XCTAssertEqual(record["steps"] as? [String], source["steps"] as? [String])
        }
    }

    func testMalformedDatasetLinesAreReportedAndTheRestImported() throws {
        let file = dir.appendingPathComponent("mini.jsonl")
        let good = #"{"question": "What is 2+2?", "answer": "2+2=<<2+2=4>>4\n#### 4"}"#
        try [good, #"{"question": "broken"#, good].joined(separator: "\n").appending("\n").write(to: file, atomically: true, encoding: .utf8)
        let session = dir.appendingPathComponent("mini-session.jsonl")
        let r = run("import", "gsm8k", file.path, "--out", session.path)
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.err.contains("mini.jsonl:2"), r.err)
        XCTAssertEqual(SessionState(try JournalReader.read(session)).problems.count, 2, "the good lines are kept")

        let strict = run("import", "gsm8k", file.path, "--strict", "--out", dir.appendingPathComponent("strict.jsonl").path)
        XCTAssertEqual(strict.code, 2)
        XCTAssertTrue(strict.err.contains("mini.jsonl:2"), strict.err)

        let empty = dir.appendingPathComponent("empty.jsonl")
        try Data().write(to: empty)
        let e = run("import", "gsm8k", empty.path, "--out", dir.appendingPathComponent("e.jsonl").path)
        XCTAssertEqual(e.code, 2)
        XCTAssertTrue(e.err.contains("empty.jsonl"), e.err)
    }

    /// Every format's reader, driven from the command line with broken files: exit 2, one line
    /// per problem naming the file and line, never a crash.
    func testEveryFormatRejectsMalformedFilesWithExitCode2() throws {
        let broken: [(String, Data)] = [
            ("truncated", Data(#"{"question": "What is"#.utf8)),
            ("wrong-types", Data(#"{"question": 7, "answer": [1], "problem": false, "input": 3, "steps": "x", "id": []}"#.utf8 + [0x0A])),
            ("invalid-utf8", Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D, 0x0A])),
            ("empty", Data()),
            ("huge-line", Data(("{\"question\": \"" + String(repeating: "x", count: 10_000_000)).utf8)),
        ]
        for format in ["gsm8k", "math", "gsm8k-solutions", "big-bench-mistake", "processbench", "prm800k"] {
            for (name, data) in broken {
                let file = dir.appendingPathComponent("\(format)-\(name).jsonl")
                try data.write(to: file)
                let r = run("import", format, file.path, "--out", dir.appendingPathComponent("\(format)-\(name)-s.jsonl").path)
                XCTAssertEqual(r.code, 2, "\(format) \(name)")
                XCTAssertTrue(r.err.contains("\(format)-\(name).jsonl"), "\(format) \(name): \(r.err.prefix(300))")
                XCTAssertLessThan(r.err.count, 2_000, "\(format) \(name): the message must not echo the input")
            }
        }
    }

    func testImportNeverOverwritesASession() throws {
        let session = dir.appendingPathComponent("s.jsonl")
        XCTAssertEqual(run("import", "sudoku4", "--out", session.path).code, 0)
        let before = try Data(contentsOf: session)
        XCTAssertEqual(run("import", "sudoku4", "--out", session.path).code, 2)
        XCTAssertEqual(try Data(contentsOf: session), before)
        XCTAssertEqual(SessionState(try JournalReader.read(session)).problems.count, 288)
    }

    /// A fresh checkout has no session: the workbench starts on the held-out arithmetic problems.
    func testStarterSessionForAFreshCheckout() throws {
        let fm = FileManager.default
        let previous = fm.currentDirectoryPath
        XCTAssertTrue(fm.changeCurrentDirectoryPath(dir.path))
        defer { _ = fm.changeCurrentDirectoryPath(previous) }
        XCTAssertNil(SessionFiles.newest())
        let url = try TUICommand.starterSession()
        XCTAssertEqual(url.lastPathComponent, "arith.jsonl")
        let state = SessionState(try JournalReader.read(url))
        XCTAssertEqual(state.problems.count, 500)
        XCTAssertTrue(state.problems.allSatisfy { $0.kind == .arith && $0.referenceSolution != nil })
        XCTAssertEqual(SessionFiles.newest()?.lastPathComponent, "arith.jsonl")
    }

    /// The real executable's exit codes, as a shell sees them.
    func testExecutableExitCodes() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("stepwise")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            // The test bundle sits beside the products; if not, look in the bundle's folder.
            throw XCTSkip("stepwise executable not found beside the test bundle at \(binary.path)")
        }
        func status(_ args: [String]) throws -> Int32 {
            let p = Process()
            p.executableURL = binary
            p.arguments = args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        XCTAssertEqual(try status(["--version"]), 0)
        XCTAssertEqual(try status(["--help"]), 0)
        XCTAssertEqual(try status(["no-such-command"]), 2)
        XCTAssertEqual(try status(["report", dir.appendingPathComponent("missing.jsonl").path]), 2)
    }
}
