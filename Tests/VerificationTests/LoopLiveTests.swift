import Foundation
import Journal
import Reasoning
import XCTest
@testable import Verification

/// The interactive side of the loop (the workbench's s/v/r/R/Space keys) on the scripted
/// engine: commands run in order on the worker thread, journal what they make once, and
/// stream sample text to the observer between a start and the finished solution.
final class LoopLiveTests: XCTestCase {
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [LoopEvent] = []
        func add(_ e: LoopEvent) { lock.lock(); list.append(e); lock.unlock() }
        var events: [LoopEvent] { lock.lock(); defer { lock.unlock() }; return list }
    }

    var problem: Problem!
    var url: URL!

    override func setUpWithError() throws {
        problem = try XCTUnwrap(try LoopFixtures.gsm8kProblems(1).first)
        url = LoopFixtures.temporaryJournal("live")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: url)
    }

    func makeLive(_ config: LoopConfiguration, recorder: Recorder? = nil) throws -> (LiveLoop, ScriptedLoopEngine) {
        let p = problem!
        let world = LoopTests.World(references: [p.text: p.referenceAnswer ?? ""],
                                    base: { _ in LoopIDs.sampleSeed(base: config.seed, problem: p.id) })
        let engine = ScriptedLoopEngine(respond: { world.respond($0, $1) }, score: { world.score($0, $1) })
        let writer = try JournalWriter.create(at: url, header: JournalHeader())
        var observer: (@Sendable (LoopEvent) -> Void)? = nil
        if let recorder { observer = { recorder.add($0) } }
        let loop = try RefinementLoop(engine: engine, prompts: LoopPrompts(set: .builtin, chat: false),
                                      configuration: config, journal: writer, state: SessionState(header: JournalHeader()),
                                      observer: observer)
        return (LiveLoop(loop: loop, problems: [p]), engine)
    }

    func testKeysSampleVerifyRefineAndRunToLimit() throws {
        let config = LoopConfiguration(samples: 2, rounds: 2, verifiers: [.critique, .mc], seed: 9)
        let recorder = Recorder()
        let (live, _) = try makeLive(config, recorder: recorder)
        defer { live.shutdown() }
        let p = problem.id
        let base = LoopIDs.sampleSeed(base: 9, problem: p)

        live.submit(.sampleMore(problemID: p, count: 2))          // s
        live.submit(.sampleMore(problemID: p, count: 1))          // s again: numbered after
        live.waitUntilIdle()
        var state = live.loop.state
        XCTAssertEqual(state.solutions(of: p).map(\.id), ["\(p)/s0", "\(p)/s1", "\(p)/s2"])
        XCTAssertEqual(state.solutions(of: p).map(\.seed), [base, base &+ 1, base &+ 2])
        XCTAssertTrue(state.critiques.isEmpty, "s samples only")

        live.submit(.verify(problemID: p, solutionIDs: ["\(p)/s0", "\(p)/s1"]))   // v
        live.waitUntilIdle()
        state = live.loop.state
        XCTAssertEqual(state.critiques["\(p)/s1"]?.map(\.id).sorted(), ["\(p)/s1/critique/blind", "\(p)/s1/mc/blind"])
        XCTAssertNil(state.critiques["\(p)/s2"])
        XCTAssertNil(state.rounds[p]?.outcomes[0], "v does not close the round; R does")

        live.submit(.refine(problemID: p, solutionIDs: ["\(p)/s1"]))   // r
        live.submit(.refine(problemID: p, solutionIDs: ["\(p)/s1"]))   // r again: nothing new
        live.waitUntilIdle()
        state = live.loop.state
        let child = try XCTUnwrap(state.solutions["\(p)/s1/r1"])
        XCTAssertEqual(child.parentID, "\(p)/s1")
        XCTAssertEqual(state.critiques[child.id]?.count, 2)

        live.submit(.runToLimit(problemID: p))                          // R
        live.waitUntilIdle()
        state = live.loop.state
        // R closes round 0 over all three attempts (verifying s2) and round 1 over the rewrite
        // made by r, without rewriting s1 again.
        XCTAssertEqual(state.rounds[p]?.outcomes[0], ["\(p)/s0": .accepted, "\(p)/s1": .continuing, "\(p)/s2": .accepted])
        XCTAssertEqual(state.rounds[p]?.outcomes[1], ["\(p)/s1/r1": .accepted])
        XCTAssertEqual(state.rounds[p]?.finished, 1)

        // Everything journaled once.
        let events = try JournalReader.read(url).events
        let solutionIDs = events.compactMap { e -> String? in if case .solutionAdded(let s) = e { return s.id }; return nil }
        XCTAssertEqual(solutionIDs, ["\(p)/s0", "\(p)/s1", "\(p)/s2", "\(p)/s1/r1"])
        let critiqueIDs = events.compactMap { e -> String? in if case .critiqueFinished(let c) = e { return c.id }; return nil }
        XCTAssertEqual(critiqueIDs.count, Set(critiqueIDs).count)
        XCTAssertEqual(Set(critiqueIDs).count, 8, "2 verifiers × (3 attempts + 1 rewrite)")

        // Each sample streamed between its start and its solution.
        let seen = recorder.events
        for id in solutionIDs {
            let started = seen.firstIndex { if case .sampleStarted(let x, _, _, _) = $0 { return x == id }; return false }
            let token = seen.firstIndex { if case .token(let x, _) = $0 { return x == id }; return false }
            let added = seen.firstIndex { if case .session(.solutionAdded(let s)) = $0 { return s.id == id }; return false }
            let (a, b, c) = (try XCTUnwrap(started, id), try XCTUnwrap(token, id), try XCTUnwrap(added, id))
            XCTAssertTrue(a < b && b < c, id)
        }
    }

    func testPauseHoldsTheNextStepUntilResumed() throws {
        let config = LoopConfiguration(samples: 2, rounds: 0, verifiers: [.critique], seed: 1)
        let (live, engine) = try makeLive(config)
        defer { live.shutdown() }
        live.paused = true
        live.submit(.runToLimit(problemID: problem.id))
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(engine.calls.count, 0, "paused: nothing sent to the engine")
        XCTAssertEqual(live.pending, 1)
        live.paused = false
        live.waitUntilIdle()
        XCTAssertEqual(live.loop.state.rounds[problem.id]?.finished, 0)
        XCTAssertEqual(live.pending, 0)
    }

    func testShutdownWhilePausedReturns() throws {
        let (live, engine) = try makeLive(LoopConfiguration(samples: 1, rounds: 0, verifiers: [.critique]))
        live.paused = true
        live.submit(.runToLimit(problemID: problem.id))
        Thread.sleep(forTimeInterval: 0.05)
        live.shutdown()
        XCTAssertEqual(engine.calls.count, 0)
        live.submit(.sampleMore(problemID: problem.id, count: 1))   // ignored after shutdown
        XCTAssertEqual(live.pending, 0)
    }
}
