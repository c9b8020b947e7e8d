import XCTest
import Foundation
@testable import Journal
import Reasoning

final class JournalTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// A varied run of events, with times at journal precision so they compare equal after a trip.
    func sampleEvents() -> [SessionEvent] {
        let t = Date(timeIntervalSince1970: 1_790_000_000.125)
        let p = Problem(id: "p0", source: "test", text: "What is 2+3×4?", referenceSolution: "3×4=12\n2+12=14",
                        referenceAnswer: "14", kind: .gsm8k, metadata: ["level": "1"])
        let s = Solution(id: "p0/s0", problemID: "p0", text: "2+3=5\n5×4=20\nThe answer is 20",
                         steps: [Step(index: 0, text: "2+3=5"), Step(index: 1, text: "5×4=20"), Step(index: 2, text: "The answer is 20")],
                         grade: Grade(strictAnswer: "20", flexibleAnswer: "20", strictCorrect: false, flexibleCorrect: false),
                         origin: .sampled, tokenCount: 17, seed: 42)
        let r = Solution(id: "p0/s0/r1", problemID: "p0", round: 1, parentID: "p0/s0", text: "3×4=12\n2+12=14",
                         steps: [Step(index: 0, text: "3×4=12"), Step(index: 1, text: "2+12=14")],
                         grade: Grade(flexibleAnswer: "14", flexibleCorrect: true), origin: .refined)
        let imported = Solution(id: "p0/x", problemID: "p0", text: "A: 14", steps: [Step(index: 0, text: "A: 14")],
                                origin: .imported(generator: "175b_verification"), labelledCorrect: true)
        let c = Critique(id: "p0/s0/critique", solutionID: "p0/s0", verifier: .critique, informed: true, score: 0,
                         verdict: .incorrect, firstErrorStep: 0, explanation: "Multiplication comes first.",
                         raw: "Step 1 is wrong: …\n", parse: .ok)
        let cmp = Comparison(problemID: "p0", round: 0, level: 0, first: "p0/s0", second: "p0/x", winner: "p0/x", raw: "B")
        let a = Annotation(solutionID: "p0/s0", stepIndex: 0, rating: .bad, firstError: true, note: "order of operations ✗ 漢字", time: t)
        return [
            .problemLoaded(p), .roundStarted(problemID: "p0", round: 0), .solutionAdded(s), .solutionAdded(imported),
            .critiqueFinished(c), .comparisonFinished(cmp), .sampleFailed(problemID: "p0", round: 0, message: "cancelled"),
            .roundFinished(problemID: "p0", round: 0, outcomes: ["p0/s0": .continuing]), .annotationAdded(a),
            .roundStarted(problemID: "p0", round: 1), .solutionAdded(r),
            .annotationRemoved(solutionID: "p0/s0", stepIndex: 0, source: "human", time: t),
            .note(text: "first look", time: t),
        ]
    }

    func testRoundTripReplaysTheSameEventsInOrder() throws {
        let url = dir.appendingPathComponent("s.jsonl")
        let header = JournalHeader(created: Date(timeIntervalSince1970: 1_790_000_000.5), model: "m.gguf", backend: "cpu",
                                   dataset: "gsm8k", settings: ["samples": "4"])
        let writer = try JournalWriter.create(at: url, header: header)
        let events = sampleEvents()
        for e in events { try writer.append(e) }
        let read = try JournalReader.read(url)
        XCTAssertEqual(read.header, header)
        XCTAssertEqual(read.events, events)
        XCTAssertTrue(read.warnings.isEmpty)
        XCTAssertFalse(read.hasTornTail)
        // One event per line, after the header.
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").count, events.count + 1)
    }

    func testCreateRefusesToOverwrite() throws {
        let url = dir.appendingPathComponent("s.jsonl")
        _ = try JournalWriter.create(at: url, header: JournalHeader())
        XCTAssertThrowsError(try JournalWriter.create(at: url, header: JournalHeader()))
    }

    func testTornLastLineIsRecoveredAndCutBeforeAppending() throws {
        let url = dir.appendingPathComponent("torn.jsonl")
        let events = sampleEvents()
        do {
            let writer = try JournalWriter.create(at: url, header: JournalHeader())
            for e in events { try writer.append(e) }
        }
        // Cut the file in the middle of the last line, as a crash mid-write would.
        var bytes = try Data(contentsOf: url)
        let lastLineStart = bytes.dropLast().lastIndex(of: 0x0A)! + 1
        let cut = lastLineStart + (bytes.count - lastLineStart) / 2
        bytes = bytes.prefix(cut)
        try bytes.write(to: url)

        let read = try JournalReader.read(url)
        XCTAssertEqual(read.events, Array(events.dropLast()), "every complete event is recovered")
        XCTAssertTrue(read.hasTornTail)
        XCTAssertEqual(read.warnings.count, 1, "warns once")
        XCTAssertTrue(read.warnings[0].contains("torn"))

        // Append after it: the torn bytes are cut first, and the new event follows.
        let (writer, contents) = try JournalWriter.openForAppend(at: url)
        XCTAssertEqual(contents.events.count, events.count - 1)
        let extra = SessionEvent.note(text: "after the crash", time: Date(timeIntervalSince1970: 1_790_000_100))
        try writer.append(extra)
        let again = try JournalReader.read(url)
        XCTAssertEqual(again.events, Array(events.dropLast()) + [extra])
        XCTAssertFalse(again.hasTornTail)
        XCTAssertTrue(again.warnings.isEmpty)
    }

    func testCompleteLastLineWithoutNewlineIsKept() throws {
        let url = dir.appendingPathComponent("nonl.jsonl")
        let events = sampleEvents()
        do {
            let writer = try JournalWriter.create(at: url, header: JournalHeader())
            for e in events { try writer.append(e) }
        }
        try Data(try Data(contentsOf: url).dropLast()).write(to: url)
        let (writer, contents) = try JournalWriter.openForAppend(at: url)
        XCTAssertEqual(contents.events, events)
        let extra = SessionEvent.note(text: "next", time: Date(timeIntervalSince1970: 1_790_000_200))
        try writer.append(extra)
        XCTAssertEqual(try JournalReader.read(url).events, events + [extra])
    }

    func testMalformedMiddleLineNamesFileAndLine() throws {
        let url = dir.appendingPathComponent("bad.jsonl")
        let writer = try JournalWriter.create(at: url, header: JournalHeader())
        for e in sampleEvents().prefix(3) { try writer.append(e) }
        var text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[2] = #"{"event":"solution","solution":{"id":3}}"#
        text = lines.joined(separator: "\n")
        try text.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JournalReader.read(url)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("bad.jsonl:3:"), message)
            XCTAssertFalse(message.contains("\n"))
        }
    }

    func testNewerFormatIsRefused() throws {
        let url = dir.appendingPathComponent("new.jsonl")
        try #"{"stepwise":"journal","format":99,"created":"2026-01-01T00:00:00.000Z","settings":{}}"#.appending("\n")
            .write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JournalReader.read(url)) { error in
            XCTAssertEqual(error as? JournalError, .newerFormat(path: url.relativePath, found: 99, supported: 1))
            XCTAssertTrue(String(describing: error).contains("newer"))
        }
    }

    func testNotAJournalAndEmptyFile() throws {
        let empty = dir.appendingPathComponent("empty.jsonl")
        try Data().write(to: empty)
        XCTAssertThrowsError(try JournalReader.read(empty)) { XCTAssertTrue(String(describing: $0).contains("empty")) }
        let other = dir.appendingPathComponent("other.jsonl")
        try #"{"question":"1+1?"}"#.appending("\n").write(to: other, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JournalReader.read(other)) { XCTAssertTrue(String(describing: $0).contains("not a Stepwise journal")) }
        let garbage = dir.appendingPathComponent("garbage.jsonl")
        try Data([0xFF, 0xFE, 0x00, 0x0A, 0x01]).write(to: garbage)
        XCTAssertThrowsError(try JournalReader.read(garbage))
    }

    func testFollowerSeesOnlyCompleteNewEvents() throws {
        let url = dir.appendingPathComponent("live.jsonl")
        let writer = try JournalWriter.create(at: url, header: JournalHeader())
        let events = sampleEvents()
        try writer.append(events[0])
        let follower = JournalFollower(url: url, after: try JournalReader.read(url))
        XCTAssertEqual(try follower.poll(), [])
        try writer.append(events[1])
        try writer.append(events[2])
        XCTAssertEqual(try follower.poll(), [events[1], events[2]])
        // A half-written line is held back until it is complete.
        let line = try JournalCodec.encoder().encode(events[3]) + Data([0x0A])
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: line.prefix(10))
        XCTAssertEqual(try follower.poll(), [])
        try handle.write(contentsOf: line.dropFirst(10))
        try handle.close()
        XCTAssertEqual(try follower.poll(), [events[3]])
    }

    func testSessionStateReplay() throws {
        let state = SessionState(header: JournalHeader(), events: sampleEvents())
        XCTAssertEqual(state.problems.map(\.id), ["p0"])
        XCTAssertEqual(state.solutions(of: "p0").map(\.id), ["p0/s0", "p0/x", "p0/s0/r1"])
        XCTAssertEqual(state.solutions(of: "p0", round: 1).map(\.parentID), ["p0/s0"])
        XCTAssertEqual(state.critiques["p0/s0"]?.first?.firstErrorStep, 0)
        XCTAssertEqual(state.comparisons["p0"]?.count, 1)
        // Added then removed: gone.
        XCTAssertTrue(state.annotations.isEmpty)
        XCTAssertEqual(state.rounds["p0"], RoundProgress(started: 1, finished: 0, outcomes: [0: ["p0/s0": .continuing]]))
        XCTAssertEqual(state.lastRound(of: "p0"), 1)
        XCTAssertEqual(state.notes.map(\.text), ["first look"])
        XCTAssertEqual(state.failures["p0"]?.first?.message, "cancelled")
    }

    func testLaterAnnotationOfSameStepReplacesEarlier() {
        var state = SessionState(header: JournalHeader())
        state.apply(.annotationAdded(Annotation(solutionID: "s", stepIndex: 2, rating: .good)))
        state.apply(.annotationAdded(Annotation(solutionID: "s", stepIndex: 2, rating: .bad, firstError: true)))
        state.apply(.annotationAdded(Annotation(solutionID: "s", stepIndex: 2, rating: .good, source: "big-bench-mistake")))
        XCTAssertEqual(state.annotations(of: "s", source: "human").map(\.rating), [.bad])
        XCTAssertEqual(state.annotations(of: "s").count, 2)
        XCTAssertEqual(FirstErrorLabel.from(annotations: state.annotations(of: "s", source: "human"), stepCount: 3), .step(2))
    }

    func testConcurrentAppendsNeverInterleave() throws {
        let url = dir.appendingPathComponent("conc.jsonl")
        let writer = try JournalWriter.create(at: url, header: JournalHeader())
        let long = String(repeating: "x", count: 20_000)
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            try? writer.append(.note(text: "\(i) \(long)", time: Date(timeIntervalSince1970: 1)))
        }
        let read = try JournalReader.read(url)
        XCTAssertEqual(read.events.count, 200)
        let ids = Set(read.events.compactMap { e -> Int? in
            if case .note(let text, _) = e { return Int(text.split(separator: " ")[0]) }
            return nil
        })
        XCTAssertEqual(ids, Set(0..<200))
    }
}
