import Foundation
import Inference
import Journal
import Reasoning
import XCTest
@testable import Verification

/// The loop's bookkeeping on a scripted engine: what it journals, what a rerun recomputes
/// (nothing finished), ids and seeds, the refinement stop rules, the tournament bracket and the
/// MC arithmetic. The scripted model writes "slip" into a wrong attempt; its verifiers judge an
/// attempt by that word, so every expected figure can be counted by hand.
final class LoopTests: XCTestCase {
    /// Answers of the scripted model. Attempt `i` of a problem is wrong when `wrong(i)`; a
    /// rewrite is produced by `rewrite` from the previous attempt's text.
    struct World {
        var references: [String: String]            // question text → reference answer
        var base: (String) -> UInt64                  // question text → seed of attempt 0
        var wrong: (Int) -> Bool = { $0 % 2 == 1 }
        var rewrite: (String) -> String = { $0.replacingOccurrences(of: "slip", with: "fix") }
        var verifierGibberish = false

        func question(in prompt: String) -> String? {
            references.keys.first { prompt.contains($0) }
        }

        /// The text after the last occurrence of `marker`, up to the next blank line.
        static func section(_ prompt: String, after marker: String) -> String {
            guard let r = prompt.range(of: marker, options: .backwards) else { return "" }
            let rest = prompt[r.upperBound...]
            return String(rest.components(separatedBy: "\n\n").first ?? "")
        }

        func respond(_ prompt: String, _ seed: UInt64) -> String {
            if prompt.hasSuffix("Comparison:") {
                let a = Self.section(prompt, after: "Solution A:\n"), b = Self.section(prompt, after: "Solution B:\n")
                if verifierGibberish { return "zzz qq" }
                return a.contains("slip") && !b.contains("slip") ? "B looks right.\nBetter: B" : "A looks fine.\nBetter: A"
            }
            let proposed = Self.section(prompt, after: "Proposed solution:\n")
            let bad = proposed.contains("slip")
            if prompt.hasSuffix("Critique:") {
                if verifierGibberish { return "blorp flib" }
                return bad ? "First wrong step: 1\nWhy: the total is off by one." : "First wrong step: none\nWhy: every step checks out."
            }
            if prompt.hasSuffix("Verification:") {
                if verifierGibberish { return "hmm" }
                if prompt.contains("Score: N") { return bad ? "Off by one.\nScore: 2" : "Fine.\nScore: 9" }
                return bad ? "Off by one.\nCorrectness: <incorrect>" : "Fine.\nCorrectness: <correct>"
            }
            if prompt.hasSuffix("Corrected solution:") {
                return rewrite(Self.section(prompt, after: "Previous attempt:\n"))
            }
            // A first attempt.
            guard let q = question(in: prompt), let ref = references[q], let answer = Int(ref) else { return "no idea" }
            let i = Int(seed &- base(q))
            return wrong(i) ? "I add the numbers and make a slip #\(i).\nThe answer is \(answer + 1)."
                            : "I add the numbers carefully #\(i).\nThe answer is \(answer)."
        }

        func score(_ prompt: String, _ continuations: [String]) -> [Double] {
            let bad = Self.section(prompt, after: "Proposed solution:\n").contains("slip")
            return bad ? [log(0.2), log(0.6)] : [log(0.9), log(0.05)]
        }
    }

    var problems: [Problem] = []
    var cleanup: [URL] = []

    override func setUpWithError() throws {
        problems = try LoopFixtures.gsm8kProblems(2)
    }

    override func tearDown() {
        for u in cleanup { try? FileManager.default.removeItem(at: u) }
    }

    func world(_ config: LoopConfiguration) -> World {
        var refs: [String: String] = [:]
        var ids: [String: String] = [:]
        for p in problems {
            refs[p.text] = p.referenceAnswer
            ids[p.text] = p.id
        }
        return World(references: refs, base: { LoopIDs.sampleSeed(base: config.seed, problem: ids[$0] ?? "") })
    }

    func engine(_ world: World, chat: Bool = false) -> ScriptedLoopEngine {
        ScriptedLoopEngine(chat: chat, respond: { world.respond($0, $1) }, score: { world.score($0, $1) })
    }

    /// Runs the loop into a journal (creating it or resuming it) and returns the journal's events.
    @discardableResult
    func run(_ config: LoopConfiguration, engine: ScriptedLoopEngine, journal url: URL,
             problems: [Problem]? = nil) throws -> [SessionEvent] {
        let (writer, contents) = try JournalWriter.openOrCreate(at: url, header: JournalHeader(settings: config.settings))
        let loop = try RefinementLoop(engine: engine, prompts: LoopPrompts(set: .builtin, chat: engine.usesChat),
                                      configuration: config, journal: writer, state: SessionState(contents))
        let summary = try loop.run(problems: problems ?? self.problems)
        XCTAssertTrue(summary.finished)
        XCTAssertEqual(summary.failures, 0)
        return try JournalReader.read(url).events
    }

    func fullConfig() -> LoopConfiguration {
        LoopConfiguration(samples: 4, rounds: 2, verifiers: [.mc, .cotBinary, .cotScore, .tournament, .critique],
                          informed: true, seed: 7)
    }

    // MARK: A whole run

    func testFullRunJournalsEveryAttemptCritiqueAndRound() throws {
        let config = fullConfig()
        let url = LoopFixtures.temporaryJournal()
        cleanup.append(url)
        let events = try run(config, engine: engine(world(config)), journal: url)
        let state = SessionState(try JournalReader.read(url))

        for p in problems {
            let first = state.solutions(of: p.id, round: 0)
            XCTAssertEqual(first.map(\.id), (0..<4).map { "\(p.id)/s\($0)" })
            // Odd attempts are wrong (graded by the real grader against GSM8K's answer).
            XCTAssertEqual(first.map { $0.grade.correct }, [true, false, true, false])
            XCTAssertEqual(first.map(\.seed), (0..<4).map { LoopIDs.sampleSeed(base: 7, problem: p.id) &+ UInt64($0) })
            // Every attempt: 4 per-attempt verifiers, blind and informed.
            for s in state.solutions(of: p.id) {
                let ids = Set((state.critiques[s.id] ?? []).map(\.id))
                XCTAssertEqual(ids.count, 8, s.id)
                for kind in ["mc", "cot-binary", "cot-score", "critique"] {
                    XCTAssertTrue(ids.contains("\(s.id)/\(kind)/blind"), "\(s.id) \(kind)")
                    XCTAssertTrue(ids.contains("\(s.id)/\(kind)/informed"), "\(s.id) \(kind)")
                }
            }
            // Round 0: right attempts accepted, wrong ones continue; round 1 rewrites them.
            let progress = try XCTUnwrap(state.rounds[p.id])
            XCTAssertEqual(progress.outcomes[0], ["\(p.id)/s0": .accepted, "\(p.id)/s1": .continuing,
                                                  "\(p.id)/s2": .accepted, "\(p.id)/s3": .continuing])
            let second = state.solutions(of: p.id, round: 1)
            XCTAssertEqual(second.map(\.id), ["\(p.id)/s1/r1", "\(p.id)/s3/r1"])
            XCTAssertEqual(second.map(\.parentID), ["\(p.id)/s1", "\(p.id)/s3"])
            XCTAssertTrue(second.allSatisfy { $0.origin == .refined && $0.round == 1 })
            // The rewrite replaced "slip" by "fix" but kept the wrong answer: still wrong by
            // ground truth, yet the scripted verifiers (which look for "slip") accept it.
            XCTAssertEqual(second.map { $0.grade.correct }, [false, false])
            XCTAssertEqual(progress.outcomes[1], ["\(p.id)/s1/r1": .accepted, "\(p.id)/s3/r1": .accepted])
            XCTAssertEqual(progress.finished, 1, "no attempt left to refine, so no round 2")
            // Tournament over 4 attempts: 2 + 1 comparisons, blind and informed, in round 0;
            // 1 in round 1 (two rewrites), blind and informed.
            let comparisons = state.comparisons[p.id] ?? []
            XCTAssertEqual(comparisons.filter { $0.round == 0 && !$0.informed }.count, 3)
            XCTAssertEqual(comparisons.filter { $0.round == 0 && $0.informed }.count, 3)
            XCTAssertEqual(comparisons.filter { $0.round == 1 }.count, 2)
            let final = try XCTUnwrap(comparisons.first { $0.round == 0 && $0.level == 1 && !$0.informed })
            XCTAssertEqual(final.winner, "\(p.id)/s0")
        }
        // MC scores from the scripted log-probabilities: 0.9/(0.9+0.05) and 0.2/(0.2+0.6).
        let mc = try XCTUnwrap(state.critiques["\(problems[0].id)/s0"]?.first { $0.verifier == .mc && !$0.informed })
        XCTAssertEqual(try XCTUnwrap(mc.score), 0.9 / 0.95, accuracy: 1e-12)
        let mcWrong = try XCTUnwrap(state.critiques["\(problems[0].id)/s1"]?.first { $0.verifier == .mc && !$0.informed })
        XCTAssertEqual(try XCTUnwrap(mcWrong.score), 0.25, accuracy: 1e-12)
        XCTAssertEqual(mcWrong.verdict, .incorrect)
        // The critique names step 1 (0-based 0) of a wrong attempt.
        let critique = try XCTUnwrap(state.critiques["\(problems[0].id)/s1"]?.first { $0.verifier == .critique && !$0.informed })
        XCTAssertEqual(critique.firstErrorStep, 0)
        XCTAssertEqual(critique.parse, .ok)

        // The journal replays into a report with per-round figures and tournaments.
        let report = Metrics.report(MetricsInput(session: state), options: MetricsOptions())
        XCTAssertFalse(report.rounds.isEmpty)
        XCTAssertFalse(report.renderTable().isEmpty)
        XCTAssertEqual(events.filter { if case .roundFinished = $0 { return true }; return false }.count, 4)
    }

    // MARK: Resume

    /// Cutting the journal after any event and rerunning gives exactly the events of an
    /// uninterrupted run: nothing duplicated, nothing missing, nothing finished recomputed.
    func testResumeFromEveryPrefixComputesOnlyWhatIsMissing() throws {
        let config = fullConfig()
        let reference = LoopFixtures.temporaryJournal()
        cleanup.append(reference)
        let full = try run(config, engine: engine(world(config)), journal: reference)
        // Every solution, critique and comparison is one sample (or one scoring) of the engine.
        func produced(_ events: some Sequence<SessionEvent>) -> Int {
            events.filter {
                switch $0 {
                case .solutionAdded, .critiqueFinished, .comparisonFinished: return true
                default: return false
                }
            }.count
        }
        func units(_ e: ScriptedLoopEngine) -> Int { e.calls.reduce(0) { $0 + ($1.scoring ? 1 : $1.n) } }
        XCTAssertGreaterThan(produced(full), 100)

        for cut in stride(from: 0, through: full.count, by: 3) {
            let url = LoopFixtures.temporaryJournal()
            cleanup.append(url)
            let writer = try JournalWriter.create(at: url, header: JournalHeader(settings: config.settings))
            try writer.append(contentsOf: Array(full.prefix(cut)))
            let e = engine(world(config))
            let events = try run(config, engine: e, journal: url)
            XCTAssertEqual(events, full, "resumed after \(cut) events")
            // The rerun asked the engine for exactly what the prefix lacked.
            XCTAssertEqual(units(e), produced(full) - produced(full.prefix(cut)), "cut \(cut)")
        }
    }

    // MARK: Several problems at once

    /// Two loops over one engine and one journal make the same solutions, critiques,
    /// comparisons and round outcomes as one loop (in another order in the file).
    func testLoopGroupMatchesOneLoop() throws {
        let config = fullConfig()
        let one = LoopFixtures.temporaryJournal()
        let two = LoopFixtures.temporaryJournal()
        cleanup += [one, two]
        try run(config, engine: engine(world(config)), journal: one)

        let shared = engine(world(config))
        let writer = try JournalWriter.create(at: two, header: JournalHeader(settings: config.settings))
        let loops = try (0..<2).map { _ in
            try RefinementLoop(engine: shared, prompts: LoopPrompts(set: .builtin, chat: false), configuration: config,
                               journal: writer, state: SessionState(header: JournalHeader()))
        }
        let summary = try LoopGroup(loops).run(problems: problems)
        XCTAssertEqual(summary, LoopSummary(finished: true, problemsDone: 2, failures: 0))
        let a = SessionState(try JournalReader.read(one)), b = SessionState(try JournalReader.read(two))
        XCTAssertEqual(a.solutions, b.solutions)
        XCTAssertEqual(Set(a.allCritiques), Set(b.allCritiques))
        XCTAssertEqual(Set(a.allComparisons), Set(b.allComparisons))
        for p in problems { XCTAssertEqual(a.rounds[p.id], b.rounds[p.id]) }
        XCTAssertEqual(a.eventCount, b.eventCount)
        // Each loop took one problem: the journal's first problems came from both.
        XCTAssertEqual(Set(b.problems.map(\.id)), Set(problems.map(\.id)))
    }

    func testEngineThatCannotScoreRefusesMC() throws {
        final class NoScores: LoopEngine, @unchecked Sendable {
            let summary = "a server without prompt log-probabilities"
            let usesChat = false
            var canScore: Bool { false }
            func render(_ prompt: LoopPrompt) throws -> String { "" }
            func run(_ batch: [LoopRequest], onEvent: (LoopEngineEvent) -> Void) throws {}
            func cancel() {}
        }
        XCTAssertThrowsError(try RefinementLoop(engine: NoScores(), prompts: LoopPrompts(set: .builtin, chat: false),
                                                configuration: LoopConfiguration(verifiers: [.mc]), journal: nil,
                                                state: SessionState(header: JournalHeader()))) { error in
            XCTAssertTrue("\(error)".contains("mc verifier"), "\(error)")
        }
        XCTAssertNoThrow(try RefinementLoop(engine: NoScores(), prompts: LoopPrompts(set: .builtin, chat: false),
                                            configuration: LoopConfiguration(verifiers: [.critique]), journal: nil,
                                            state: SessionState(header: JournalHeader())))
    }

    // MARK: Ids and seeds

    func testIDsAndSeedsAreDeterministic() throws {
        XCTAssertEqual(LoopIDs.sample(problem: "gsm8k-test-0", index: 3), "gsm8k-test-0/s3")
        XCTAssertEqual(LoopIDs.refinement(parent: "gsm8k-test-0/s3", round: 1), "gsm8k-test-0/s3/r1")
        XCTAssertEqual(LoopIDs.refinement(parent: "gsm8k-test-0/s3/r1", round: 2), "gsm8k-test-0/s3/r1/r2")
        XCTAssertEqual(LoopIDs.critique(solution: "p/s0", verifier: VerifierID(.cotScore, informed: true)), "p/s0/cot-score/informed")
        // FNV-1a test vectors.
        XCTAssertEqual(LoopIDs.hash(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(LoopIDs.hash("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertNotEqual(LoopIDs.sampleSeed(base: 1, problem: "a"), LoopIDs.sampleSeed(base: 1, problem: "b"))
        XCTAssertEqual(LoopIDs.sampleSeed(base: 5, problem: "a"), 5 &+ LoopIDs.hash("a"))

        let config = LoopConfiguration(samples: 3, rounds: 1, verifiers: [.critique], seed: 11)
        var journals: [[SessionEvent]] = []
        var engines: [ScriptedLoopEngine] = []
        for _ in 0..<2 {
            let url = LoopFixtures.temporaryJournal()
            cleanup.append(url)
            let e = engine(world(config))
            journals.append(try run(config, engine: e, journal: url))
            engines.append(e)
        }
        XCTAssertEqual(journals[0], journals[1])
        XCTAssertEqual(engines[0].calls, engines[1].calls)
        // Round 0 of a problem is one request of n samples with the problem's seed.
        let first = try XCTUnwrap(engines[0].batches.first)
        XCTAssertEqual(first.count, 1)
        XCTAssertEqual(first[0].n, 3)
        XCTAssertEqual(first[0].seed, LoopIDs.sampleSeed(base: 11, problem: problems[0].id))
        // A rewrite's seed comes from its id.
        let state = SessionState(header: JournalHeader(), events: journals[0])
        let child = try XCTUnwrap(state.solutions["\(problems[0].id)/s1/r1"])
        XCTAssertEqual(child.seed, LoopIDs.refinementSeed(base: 11, id: child.id))
    }

    /// Missing samples of a partly done round are asked for one by one with the seed the full
    /// request would have given them.
    func testMissingSamplesKeepTheirSeeds() throws {
        let config = LoopConfiguration(samples: 4, rounds: 0, verifiers: [.critique], seed: 3)
        let url = LoopFixtures.temporaryJournal()
        cleanup.append(url)
        let full = try run(config, engine: engine(world(config)), journal: url, problems: [problems[0]])
        // Keep the problem, round start and samples 0 and 2 only.
        let kept = full.filter {
            switch $0 {
            case .problemLoaded, .roundStarted: return true
            case .solutionAdded(let s): return s.id.hasSuffix("/s0") || s.id.hasSuffix("/s2")
            default: return false
            }
        }
        let partial = LoopFixtures.temporaryJournal()
        cleanup.append(partial)
        try JournalWriter.create(at: partial, header: JournalHeader()).append(contentsOf: kept)
        let e = engine(world(config))
        let events = try run(config, engine: e, journal: partial, problems: [problems[0]])
        let base = LoopIDs.sampleSeed(base: 3, problem: problems[0].id)
        let sampling = e.calls.filter { !$0.scoring && !$0.prompt.hasSuffix("Critique:") }
        XCTAssertEqual(sampling.map(\.seed), [base &+ 1, base &+ 3])
        XCTAssertEqual(sampling.map(\.n), [1, 1])
        let a = SessionState(header: JournalHeader(), events: full), b = SessionState(header: JournalHeader(), events: events)
        XCTAssertEqual(a.solutions, b.solutions)
    }

    // MARK: Stop rules

    /// Per attempt: accepted when the verifier accepts, repeated when the rewrite equals its
    /// parent (whitespace aside), at the limit after the last round, continuing otherwise.
    func testRefinementStopRules() throws {
        let config = LoopConfiguration(samples: 4, rounds: 3, verifiers: [.critique], seed: 1)
        var w = world(config)
        w.wrong = { $0 != 0 }
        w.rewrite = { text in
            if text.contains("#1") { return text.replacingOccurrences(of: "slip", with: "fix") }   // fixed → accepted
            if text.contains("#2") { return "  " + text.replacingOccurrences(of: "\n", with: "\n ") + "\n" } // same text
            return text + " again"                                                                  // still wrong
        }
        let url = LoopFixtures.temporaryJournal()
        cleanup.append(url)
        try run(config, engine: engine(w), journal: url, problems: [problems[0]])
        let state = SessionState(try JournalReader.read(url))
        let p = problems[0].id
        let progress = try XCTUnwrap(state.rounds[p])
        XCTAssertEqual(progress.outcomes[0], ["\(p)/s0": .accepted, "\(p)/s1": .continuing,
                                              "\(p)/s2": .continuing, "\(p)/s3": .continuing])
        XCTAssertEqual(progress.outcomes[1], ["\(p)/s1/r1": .accepted, "\(p)/s2/r1": .repeated,
                                              "\(p)/s3/r1": .continuing])
        XCTAssertEqual(progress.outcomes[2], ["\(p)/s3/r1/r2": .continuing])
        XCTAssertEqual(progress.outcomes[3], ["\(p)/s3/r1/r2/r3": .limit])
        XCTAssertEqual(progress.finished, 3)
        XCTAssertNil(state.solutions["\(p)/s3/r1/r2/r3/r4"])
        XCTAssertEqual(state.solutions["\(p)/s3/r1/r2"]?.parentID, "\(p)/s3/r1")
    }

    /// An answer no rule can read is kept raw, marked unparseable, never accepted, and shown to
    /// the generator as the critique it is.
    func testUnparseableCritiqueIsKeptAndDrivesRefinement() throws {
        let config = LoopConfiguration(samples: 2, rounds: 1, verifiers: [.critique, .cotBinary, .tournament], seed: 2)
        var w = world(config)
        w.verifierGibberish = true
        let e = engine(w)
        let url = LoopFixtures.temporaryJournal()
        cleanup.append(url)
        try run(config, engine: e, journal: url, problems: [problems[1]])
        let state = SessionState(try JournalReader.read(url))
        let p = problems[1].id
        let c = try XCTUnwrap(state.critiques["\(p)/s0"]?.first { $0.verifier == .critique })
        XCTAssertEqual(c.parse, .unparseable)
        XCTAssertEqual(c.raw, "blorp flib")
        XCTAssertNil(c.score)
        XCTAssertNil(c.firstErrorStep)
        XCTAssertEqual(state.rounds[p]?.outcomes[0]?["\(p)/s0"], .continuing)
        let refine = try XCTUnwrap(e.calls.first { $0.prompt.hasSuffix("Corrected solution:") })
        XCTAssertTrue(refine.prompt.contains("A reviewer's critique of the attempt:\nblorp flib"))
        // The unreadable comparison names no winner.
        XCTAssertEqual(state.comparisons[p]?.first?.winner, nil)
        XCTAssertEqual(state.comparisons[p]?.first?.raw, "zzz qq")
    }

    // MARK: Tournament

    func testBracketPairingsByesAndAdvancing() {
        let (pairs, bye) = TournamentBracket.pairings(["a", "b", "c", "d"])
        XCTAssertEqual(pairs, [.init(first: "a", second: "b"), .init(first: "c", second: "d")])
        XCTAssertNil(bye)
        let (pairs5, bye5) = TournamentBracket.pairings(["a", "b", "c", "d", "e"])
        XCTAssertEqual(pairs5.count, 2)
        XCTAssertEqual(bye5, "e")
        XCTAssertEqual(TournamentBracket.pairings(["a"]).pairs, [])
        XCTAssertEqual(TournamentBracket.orders(.init(first: "a", second: "b"), bothOrders: true),
                       [.init(first: "a", second: "b"), .init(first: "b", second: "a")])
        XCTAssertEqual(TournamentBracket.advancing(["a", "a"]), "a")
        XCTAssertNil(TournamentBracket.advancing(["a", "b"]), "orders disagree: no verdict")
        XCTAssertNil(TournamentBracket.advancing(["a", nil]), "one order unreadable")
        XCTAssertNil(TournamentBracket.advancing([]))
        XCTAssertEqual(TournamentBracket.nextLevel(winners: ["a", nil], bye: "e"), ["a", "e"])
        XCTAssertEqual(TournamentBracket.winner(of: .second, first: "x", second: "y"), "y")
    }

    /// Eight attempts: 4 + 2 + 1 comparisons; with both orders twice that at the first level,
    /// and a verifier that always prefers what it sees first decides nothing.
    func testTournamentOverEightAttemptsAndPositionBias() throws {
        var config = LoopConfiguration(samples: 8, rounds: 0, verifiers: [.tournament], seed: 4)
        var w = world(config)
        w.wrong = { $0 % 4 != 2 }          // only attempts 2 and 6 are right
        let url = LoopFixtures.temporaryJournal()
        cleanup.append(url)
        try run(config, engine: engine(w), journal: url, problems: [problems[0]])
        let p = problems[0].id
        var comparisons = SessionState(try JournalReader.read(url)).comparisons[p] ?? []
        XCTAssertEqual(comparisons.map(\.level), [0, 0, 0, 0, 1, 1, 2])
        // Level 0: s0 v s1 → A (both wrong), s2 v s3 → A (s2 right), s4 v s5 → A, s6 v s7 → A.
        XCTAssertEqual(comparisons.filter { $0.level == 1 }.map { "\($0.first)~\($0.second)" },
                       ["\(p)/s0~\(p)/s2", "\(p)/s4~\(p)/s6"])
        XCTAssertEqual(comparisons.last?.winner, "\(p)/s2")

        // Both orders with a first-position-loving verifier: every pair disagrees with itself.
        config.tournamentBothOrders = true
        var biased = w
        biased.references = w.references
        let e = ScriptedLoopEngine(respond: { prompt, seed in
            prompt.hasSuffix("Comparison:") ? "Better: A" : biased.respond(prompt, seed)
        })
        let url2 = LoopFixtures.temporaryJournal()
        cleanup.append(url2)
        try run(config, engine: e, journal: url2, problems: [problems[0]])
        comparisons = SessionState(try JournalReader.read(url2)).comparisons[p] ?? []
        XCTAssertEqual(comparisons.count, 8, "4 pairs × 2 orders, no one advances")
        let report = Metrics.report(MetricsInput(problems: [problems[0]], solutions: SessionState(try JournalReader.read(url2)).allSolutions,
                                                 comparisons: comparisons), options: MetricsOptions())
        let bias = try XCTUnwrap(report.positionBias.first)
        XCTAssertEqual(bias.firstShownWins, 8)
        XCTAssertEqual(bias.pairs, 4)
    }

    // MARK: MC arithmetic

    func testMCScoreArithmetic() {
        XCTAssertEqual(VerifierScoring.mcScore(logCorrect: log(0.6), logIncorrect: log(0.2))!, 0.75, accuracy: 1e-12)
        XCTAssertEqual(VerifierScoring.mcScore(logCorrect: log(0.1), logIncorrect: log(0.1))!, 0.5, accuracy: 1e-12)
        // Tiny probabilities do not underflow: only their ratio matters.
        XCTAssertEqual(VerifierScoring.mcScore(logCorrect: -1000, logIncorrect: -1001)!, 1 / (1 + exp(-1)), accuracy: 1e-12)
        XCTAssertEqual(VerifierScoring.mcScore(logCorrect: -.infinity, logIncorrect: -2), 0)
        XCTAssertEqual(VerifierScoring.mcScore(logCorrect: -2, logIncorrect: -.infinity), 1)
        XCTAssertNil(VerifierScoring.mcScore(logCorrect: -.infinity, logIncorrect: -.infinity))
        XCTAssertNil(VerifierScoring.mcScore(logCorrect: .nan, logIncorrect: -1))
        let s = Solution(id: "p/s0", problemID: "p", text: "x", steps: [], origin: .sampled)
        let c = VerifierScoring.mcCritique(id: "p/s0/mc/blind", solution: s, informed: false,
                                           logCorrect: log(0.3), logIncorrect: log(0.7))
        XCTAssertEqual(c.score!, 0.3, accuracy: 1e-12)
        XCTAssertEqual(c.verdict, .incorrect)
        XCTAssertEqual(c.accepts(), false)
    }

    // MARK: Prompts

    /// A chat model rewrites in a conversation: the problem, its own attempt, the critique.
    func testChatRefinementIsAConversation() throws {
        let prompts = LoopPrompts(set: .builtin, chat: true)
        let p = problems[0]
        let attempt = Solution(id: "\(p.id)/s0", problemID: p.id, text: "Step one.\nThe answer is 3.",
                               steps: StepSegmenter.segment("Step one.\nThe answer is 3."), origin: .sampled)
        let critique = Critique(id: "c", solutionID: attempt.id, verifier: .critique, raw: "First wrong step: 1\nWhy: no.")
        guard case .chat(let messages) = try prompts.refinement(problem: p, attempt: attempt, critique: critique) else {
            return XCTFail("expected a conversation")
        }
        XCTAssertEqual(messages.map(\.role), [.user, .assistant, .user])
        XCTAssertTrue(messages[0].content.contains(p.text))
        XCTAssertEqual(messages[1].content, attempt.text)
        XCTAssertTrue(messages[2].content.contains("First wrong step: 1\nWhy: no."))
        XCTAssertTrue(messages[2].content.contains("The answer is N"))
        XCTAssertEqual(prompts.mcContinuations, ["Correct", "Incorrect"])
        // Verifier prompts show numbered steps and, informed, the reference.
        guard case .chat(let v) = try prompts.verification(VerifierID(.critique, informed: true), problem: p, solution: attempt) else {
            return XCTFail("expected a conversation")
        }
        XCTAssertTrue(v[0].content.contains("Step 1: Step one.\nStep 2: The answer is 3."))
        XCTAssertTrue(v[0].content.contains(try XCTUnwrap(p.referenceSolution)))
        // A base model gets the few-shot text and stops before the next question.
        let base = LoopPrompts(set: .builtin, chat: false)
        guard case .raw(let text) = try base.generation(p) else { return XCTFail("expected raw text") }
        XCTAssertTrue(text.hasSuffix("Question: \(p.text)\nAnswer:"))
        XCTAssertEqual(base.stops(generation: .gsm8k), ["\nQuestion:", "\n\n\n"])
    }

    func testConfigurationProblems() {
        XCTAssertNil(LoopConfiguration().problem())
        XCTAssertNotNil(LoopConfiguration(samples: 0).problem())
        XCTAssertNotNil(LoopConfiguration(refineWith: VerifierID(.tournament)).problem())
        let c = LoopConfiguration(verifiers: [.mc, .tournament], informed: true, refineWith: VerifierID(.critique))
        XCTAssertEqual(c.attemptVerifiers, [VerifierID(.mc), VerifierID(.mc, informed: true), VerifierID(.critique)])
    }
}
