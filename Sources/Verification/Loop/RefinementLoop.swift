import Foundation
import Inference
import Journal
import Reasoning

/// What the loop tells an observer (the workbench, the progress bar). Session events are also
/// journaled; token deltas, progress and warnings are not.
public enum LoopEvent: Sendable {
    case session(SessionEvent)
    /// A solution is about to be written (its tokens follow as `.token` with this id); it ends
    /// with `.session(.solutionAdded)` of the same id, or with `.sampleEnded` when it failed or
    /// was cancelled.
    case sampleStarted(id: String, problemID: String, round: Int, parentID: String?)
    case sampleEnded(id: String)
    /// New text of what is being written: a solution (its id), a critique (its id) or a
    /// comparison (`<problem>/<round>/<level>/<first>~<second>`).
    case token(target: String, text: String)
    case progress(LoopProgress)
    /// A request that failed, a verifier that could not run; one line.
    case warning(String)
}

/// Where a run stands.
public struct LoopProgress: Sendable, Equatable {
    public enum Phase: String, Sendable { case sample, verify, tournament, refine, done }
    /// Index of the problem being worked on, among `problemCount`.
    public var problemIndex: Int
    public var problemCount: Int
    public var problemID: String
    public var round: Int
    public var rounds: Int
    public var phase: Phase

    /// Rough fraction done, for a progress bar: problems done plus the share of this one's rounds.
    public var fraction: Double {
        guard problemCount > 0 else { return 1 }
        if phase == .done { return Double(problemIndex + 1) / Double(problemCount) }
        let within = Double(round) / Double(rounds + 1)
        return min(1, (Double(problemIndex) + within) / Double(problemCount))
    }
}

/// How a run ended.
public struct LoopSummary: Sendable, Equatable {
    /// False when it stopped early on request.
    public var finished: Bool
    public var problemsDone: Int
    /// Requests that failed (samples, verifications, comparisons).
    public var failures: Int
}

/// The verification–refinement loop. Per problem: sample N first attempts (round 0); run the
/// chosen verifiers over them (blind, and shown the reference with `informed`); run a
/// tournament over them; decide per attempt whether it is accepted (the refinement verifier
/// says so), at the round limit, or continuing; then rewrite each continuing attempt from its
/// critique (round r+1), verify the rewrites, and so on.
///
/// Everything it produces has a deterministic id and seed (`LoopIDs`), and it starts from a
/// replayed journal (`SessionState`): it computes only what the state lacks, so rerunning a
/// stopped or killed run finishes it without recomputing or duplicating anything. Each event
/// is appended to the journal as soon as its request completes.
///
/// `run` works on the calling thread; `requestStop` and `cancelNow` may be called from any.
public final class RefinementLoop: @unchecked Sendable {
    public let engine: any LoopEngine
    public let prompts: LoopPrompts
    public let configuration: LoopConfiguration
    private let journal: JournalWriter?
    private let observer: (@Sendable (LoopEvent) -> Void)?
    /// The session as the journal holds it, kept current as events are emitted.
    public private(set) var state: SessionState

    /// Guards `stopFlag` and `pausedFlag`; waited on while paused.
    private let control = NSCondition()
    private var stopFlag = false
    private var pausedFlag = false
    private var failures = 0

    public init(engine: any LoopEngine, prompts: LoopPrompts, configuration: LoopConfiguration,
                journal: JournalWriter?, state: SessionState, observer: (@Sendable (LoopEvent) -> Void)? = nil) throws {
        if let p = configuration.problem() { throw LoopError.badConfiguration(p) }
        if !engine.canScore && configuration.attemptVerifiers.contains(where: { $0.kind == .mc }) {
            throw LoopError.badConfiguration("the mc verifier needs the log-probabilities of given continuations, which \(engine.summary) cannot give")
        }
        self.engine = engine
        self.prompts = prompts
        self.configuration = configuration
        self.journal = journal
        self.state = state
        self.observer = observer
    }

    // MARK: Stopping

    /// Stop after the step under way (its results are journaled); any thread.
    public func requestStop() {
        control.lock()
        stopFlag = true
        control.broadcast()
        control.unlock()
    }

    /// Stop now: the step under way is cancelled and its unfinished results dropped.
    public func cancelNow() {
        requestStop()
        engine.cancel()
    }

    public var stopRequested: Bool {
        control.lock()
        defer { control.unlock() }
        return stopFlag
    }

    /// Paused, the loop starts no new step (the one under way finishes); any thread.
    public var paused: Bool {
        get {
            control.lock()
            defer { control.unlock() }
            return pausedFlag
        }
        set {
            control.lock()
            pausedFlag = newValue
            control.broadcast()
            control.unlock()
        }
    }

    /// Blocks while paused; returns false when a stop was requested.
    private func waitWhilePaused() -> Bool {
        control.lock()
        defer { control.unlock() }
        while pausedFlag && !stopFlag { control.wait() }
        return !stopFlag
    }

    /// Requests that failed so far.
    public var failureCount: Int {
        control.lock()
        defer { control.unlock() }
        return failures
    }

    // MARK: Running

    /// Runs every problem in order. Throws only when the journal cannot be written or a prompt
    /// cannot be built; a failing request is counted and warned about, and the run goes on.
    @discardableResult
    public func run(problems: [Problem]) throws -> LoopSummary {
        var done = 0
        for (i, problem) in problems.enumerated() {
            if stopRequested { break }
            let finished = try runProblem(problem, index: i, of: problems.count)
            if !finished { break }
            done += 1
        }
        return LoopSummary(finished: done == problems.count, problemsDone: done, failures: failureCount)
    }

    /// Brings one problem to the end of its rounds. Returns false when stopped first.
    @discardableResult
    public func runProblem(_ problem: Problem, index: Int = 0, of count: Int = 1) throws -> Bool {
        if state.problem(problem.id) == nil { try emit(.problemLoaded(problem)) }
        for round in 0...configuration.rounds {
            if stopRequested { return false }
            let started = state.rounds[problem.id]?.started ?? -1
            let finished = state.rounds[problem.id]?.finished ?? -1
            if round <= finished { continue }
            func report(_ phase: LoopProgress.Phase) {
                observer?(.progress(LoopProgress(problemIndex: index, problemCount: count, problemID: problem.id,
                                                 round: round, rounds: configuration.rounds, phase: phase)))
            }
            if round == 0 {
                if started < 0 { try emit(.roundStarted(problemID: problem.id, round: 0)) }
                report(.sample)
                try sampleMissing(problem)
            } else {
                let parents = continuingParents(problem, round: round)
                if parents.isEmpty { break }
                if started < round { try emit(.roundStarted(problemID: problem.id, round: round)) }
                report(.refine)
                try refineMissing(problem, round: round, parents: parents)
            }
            if stopRequested { return false }
            report(.verify)
            try verifyMissing(problem, round: round)
            if stopRequested { return false }
            if configuration.runsTournament {
                report(.tournament)
                let complete = try runTournaments(problem, round: round)
                if !complete { return false }
            }
            if stopRequested { return false }
            let outcomes = outcomes(problem, round: round)
            try emit(.roundFinished(problemID: problem.id, round: round, outcomes: outcomes))
            if !outcomes.values.contains(.continuing) { break }
        }
        observer?(.progress(LoopProgress(problemIndex: index, problemCount: count, problemID: problem.id,
                                         round: state.rounds[problem.id]?.finished ?? 0, rounds: configuration.rounds,
                                         phase: .done)))
        return true
    }

    // MARK: Interactive steps (the workbench's keys)

    /// Journals the problems the session does not hold yet, so a front end shows them before
    /// any work starts.
    public func loadProblems(_ problems: [Problem]) throws {
        for p in problems where state.problem(p.id) == nil { try emit(.problemLoaded(p)) }
    }

    /// `count` more first attempts of a problem, numbered after the highest so far and seeded
    /// by the same rule, so they are what a larger `--samples` would have drawn.
    public func sampleMore(_ problem: Problem, count: Int) throws {
        if state.problem(problem.id) == nil { try emit(.problemLoaded(problem)) }
        if (state.rounds[problem.id]?.started ?? -1) < 0 { try emit(.roundStarted(problemID: problem.id, round: 0)) }
        let prefix = problem.id + "/s"
        let highest = state.solutions(of: problem.id, round: 0).compactMap { s -> Int? in
            guard s.id.hasPrefix(prefix) else { return nil }
            return Int(s.id.dropFirst(prefix.count))
        }.max() ?? -1
        try sample(problem, indices: Array((highest + 1)..<(highest + 1 + max(0, count))))
    }

    /// The per-attempt verifiers on these solutions (only what is missing). Rounds are not
    /// closed here: `runProblem` (R) closes them over all of their attempts.
    public func verify(_ problem: Problem, solutionIDs: [String]) throws {
        let solutions = solutionIDs.compactMap { state.solutions[$0] }.filter { $0.problemID == problem.id }
        try verifyMissing(problem, solutions: ordered(solutions, problem: problem), verifiers: configuration.attemptVerifiers)
    }

    /// One refinement round for these attempts, whatever their outcome: each is critiqued by
    /// the refinement verifier if it has not been, rewritten, and the rewrite verified.
    public func refine(_ problem: Problem, solutionIDs: [String]) throws {
        let parents = ordered(solutionIDs.compactMap { state.solutions[$0] }.filter { $0.problemID == problem.id },
                              problem: problem)
        try verifyMissing(problem, solutions: parents, verifiers: [configuration.refineWith])
        for round in Set(parents.map { $0.round + 1 }).sorted() {
            if stopRequested { return }
            let group = parents.filter { $0.round + 1 == round }
            if (state.rounds[problem.id]?.started ?? -1) < round {
                try emit(.roundStarted(problemID: problem.id, round: round))
            }
            try refineMissing(problem, round: round, parents: group)
            if stopRequested { return }
            let children = group.compactMap { state.solutions[LoopIDs.refinement(parent: $0.id, round: round)] }
            try verifyMissing(problem, solutions: children, verifiers: configuration.attemptVerifiers)
        }
    }

    // MARK: Round bookkeeping (pure reads of the state)

    /// Attempts of `round - 1` whose outcome was `continuing`, in bracket order.
    func continuingParents(_ problem: Problem, round: Int) -> [Solution] {
        let outcomes = state.rounds[problem.id]?.outcomes[round - 1] ?? [:]
        return ordered(state.solutions(of: problem.id, round: round - 1), problem: problem)
            .filter { outcomes[$0.id] == .continuing }
    }

    /// Each attempt of a round: accepted by the refinement verifier; else a rewrite that repeats
    /// its parent; else at the round limit; else continuing.
    func outcomes(_ problem: Problem, round: Int) -> [String: RoundOutcome] {
        var result: [String: RoundOutcome] = [:]
        for s in state.solutions(of: problem.id, round: round) {
            let cid = LoopIDs.critique(solution: s.id, verifier: configuration.refineWith)
            let critique = state.critiques[s.id]?.last { $0.id == cid }
            if critique?.accepts() == true {
                result[s.id] = .accepted
            } else if let pid = s.parentID, let parent = state.solutions[pid],
                      VerifierScoring.normalised(parent.text) == VerifierScoring.normalised(s.text) {
                result[s.id] = .repeated
            } else if round >= configuration.rounds {
                result[s.id] = .limit
            } else {
                result[s.id] = .continuing
            }
        }
        return result
    }

    /// A round's attempts in a fixed order: by the index of the first attempt they descend from
    /// (`<problem>/s<i>…`), so brackets do not depend on the order results arrived in.
    func ordered(_ solutions: [Solution], problem: Problem) -> [Solution] {
        func key(_ s: Solution) -> Int {
            let rest = s.id.hasPrefix(problem.id + "/") ? s.id.dropFirst(problem.id.count + 1) : Substring(s.id)
            let first = rest.split(separator: "/").first ?? ""
            return first.hasPrefix("s") ? Int(first.dropFirst()) ?? Int.max : Int.max
        }
        return solutions.sorted { (key($0), $0.id) < (key($1), $1.id) }
    }

    // MARK: Steps

    private func sampleMissing(_ problem: Problem) throws {
        try sample(problem, indices: Array(0..<configuration.samples))
    }

    /// First attempts `indices` of a problem that the state lacks.
    private func sample(_ problem: Problem, indices: [Int]) throws {
        let n = indices.count
        let missing = indices.filter { state.solutions[LoopIDs.sample(problem: problem.id, index: $0)] == nil }
        if missing.isEmpty { return }
        let base = LoopIDs.sampleSeed(base: configuration.seed, problem: problem.id)
        let prompt = try prompts.generation(problem)
        var sampling = configuration.sampling
        sampling.stop = prompts.stops(generation: problem.kind)
        // All missing: one request of n (the prompt computed once); some: one request each, with
        // the seed the full request would have given that sample.
        let contiguous = missing.count == n && missing.last.map { $0 - missing[0] + 1 == n } == true
        let groups: [(first: Int, count: Int)] = contiguous ? [(missing[0], n)] : missing.map { ($0, 1) }
        let batch: [LoopRequest] = groups.map { g in
            var s = sampling
            s.seed = base &+ UInt64(g.first)
            return .generate(prompt: prompt, n: g.count, sampling: s)
        }
        try runBatch(batch, target: { r, sample in
            LoopIDs.sample(problem: problem.id, index: groups[r].first + sample)
        }, starting: {
            for i in missing {
                observer?(.sampleStarted(id: LoopIDs.sample(problem: problem.id, index: i), problemID: problem.id,
                                         round: 0, parentID: nil))
            }
        }, completed: { r, result in
            switch result {
            case .generated(let samples):
                for sample in samples {
                    let i = groups[r].first + sample.index
                    let id = LoopIDs.sample(problem: problem.id, index: i)
                    if sample.cancelled {
                        self.observer?(.sampleEnded(id: id))
                        continue
                    }
                    let solution = self.makeSolution(problem: problem, id: id, round: 0, parent: nil, sample: sample,
                                                     seed: base &+ UInt64(i))
                    try self.emit(.solutionAdded(solution))
                }
            case .failed(let message):
                for i in groups[r].first..<(groups[r].first + groups[r].count) {
                    self.observer?(.sampleEnded(id: LoopIDs.sample(problem: problem.id, index: i)))
                }
                try self.failedSample(problem, round: 0, message: message)
            case .scored:
                break
            }
        })
    }

    private func refineMissing(_ problem: Problem, round: Int, parents: [Solution]) throws {
        var jobs: [(id: String, parent: Solution, seed: UInt64, prompt: LoopPrompt)] = []
        for parent in parents {
            let id = LoopIDs.refinement(parent: parent.id, round: round)
            if state.solutions[id] != nil { continue }
            let cid = LoopIDs.critique(solution: parent.id, verifier: configuration.refineWith)
            guard let critique = state.critiques[parent.id]?.last(where: { $0.id == cid }) else {
                warn("\(parent.id): no \(configuration.refineWith) critique to refine from; not rewritten")
                continue
            }
            jobs.append((id, parent, LoopIDs.refinementSeed(base: configuration.seed, id: id),
                         try prompts.refinement(problem: problem, attempt: parent, critique: critique)))
        }
        if jobs.isEmpty { return }
        let batch: [LoopRequest] = jobs.map { job in
            var s = configuration.sampling
            s.seed = job.seed
            s.stop = prompts.stops(generation: nil)
            return .generate(prompt: job.prompt, n: 1, sampling: s)
        }
        try runBatch(batch, target: { r, _ in jobs[r].id }, starting: {
            for job in jobs {
                observer?(.sampleStarted(id: job.id, problemID: problem.id, round: round, parentID: job.parent.id))
            }
        }, completed: { r, result in
            switch result {
            case .generated(let samples):
                for sample in samples {
                    let job = jobs[r]
                    if sample.cancelled {
                        self.observer?(.sampleEnded(id: job.id))
                        continue
                    }
                    let solution = self.makeSolution(problem: problem, id: job.id, round: round, parent: job.parent.id,
                                                     sample: sample, seed: job.seed)
                    try self.emit(.solutionAdded(solution))
                }
            case .failed(let message):
                self.observer?(.sampleEnded(id: jobs[r].id))
                try self.failedSample(problem, round: round, message: "\(jobs[r].id): \(message)")
            case .scored:
                break
            }
        })
    }

    private func verifyMissing(_ problem: Problem, round: Int) throws {
        try verifyMissing(problem, solutions: ordered(state.solutions(of: problem.id, round: round), problem: problem),
                          verifiers: configuration.attemptVerifiers)
    }

    private func verifyMissing(_ problem: Problem, solutions: [Solution], verifiers: [VerifierID]) throws {
        let hasReference = LoopPrompts.reference(problem) != nil
        var skippedInformed = false
        var jobs: [(id: String, verifier: VerifierID, solution: Solution)] = []
        var batch: [LoopRequest] = []
        for solution in solutions {
            for verifier in verifiers {
                let id = LoopIDs.critique(solution: solution.id, verifier: verifier)
                if state.critiques[solution.id]?.contains(where: { $0.id == id }) == true { continue }
                if verifier.informed && !hasReference {
                    skippedInformed = true
                    continue
                }
                let prompt = try prompts.verification(verifier, problem: problem, solution: solution)
                if verifier.kind == .mc {
                    batch.append(.score(prompt: prompt, continuations: prompts.mcContinuations))
                } else {
                    var s = configuration.verifierSampling
                    s.seed = LoopIDs.verifierSeed(base: configuration.seed, id: id)
                    s.stop = prompts.stops(generation: nil)
                    batch.append(.generate(prompt: prompt, n: 1, sampling: s))
                }
                jobs.append((id, verifier, solution))
            }
        }
        if skippedInformed { warn("\(problem.id): no reference solution; informed verifiers skipped") }
        if batch.isEmpty { return }
        try runBatch(batch, target: { r, _ in jobs[r].id }, completed: { r, result in
            let job = jobs[r]
            switch result {
            case .scored(let logprobs) where logprobs.count == 2:
                try self.emit(.critiqueFinished(VerifierScoring.mcCritique(
                    id: job.id, solution: job.solution, informed: job.verifier.informed,
                    logCorrect: logprobs[0], logIncorrect: logprobs[1])))
            case .generated(let samples):
                guard let sample = samples.first, !sample.cancelled else { return }
                try self.emit(.critiqueFinished(VerifierScoring.textCritique(
                    id: job.id, kind: job.verifier.kind, solution: job.solution, informed: job.verifier.informed,
                    output: sample.text)))
            case .scored(let logprobs):
                self.failed("\(job.id): expected 2 scores, got \(logprobs.count)")
            case .failed(let message):
                self.failed("\(job.id): \(message)")
            }
        })
    }

    /// Runs the blind (and informed) bracket of a round level by level. Returns false when
    /// stopped before the last level.
    private func runTournaments(_ problem: Problem, round: Int) throws -> Bool {
        var kinds = [false]
        if configuration.informed {
            if LoopPrompts.reference(problem) != nil { kinds.append(true) }
        }
        let attempts = ordered(state.solutions(of: problem.id, round: round), problem: problem)
        let byID = Dictionary(uniqueKeysWithValues: attempts.map { ($0.id, $0) })
        for informed in kinds {
            var entrants = attempts.map(\.id)
            var level = 0
            while entrants.count > 1 {
                if stopRequested { return false }
                let (pairs, bye) = TournamentBracket.pairings(entrants)
                // The comparisons this level needs that the journal does not hold yet.
                var jobs: [TournamentBracket.Pairing] = []
                for pair in pairs {
                    for order in TournamentBracket.orders(pair, bothOrders: configuration.tournamentBothOrders)
                    where existingComparison(problem, round: round, level: level, informed: informed, order) == nil {
                        jobs.append(order)
                    }
                }
                if !jobs.isEmpty {
                    let batch: [LoopRequest] = try jobs.map { order in
                        guard let a = byID[order.first], let b = byID[order.second] else {
                            throw LoopError.journal("\(problem.id): tournament entrant missing")
                        }
                        var s = configuration.verifierSampling
                        s.seed = LoopIDs.verifierSeed(base: configuration.seed,
                                                      id: comparisonName(problem, round, level, informed, order))
                        s.stop = prompts.stops(generation: nil)
                        return .generate(prompt: try prompts.comparison(problem: problem, first: a, second: b, informed: informed),
                                         n: 1, sampling: s)
                    }
                    try runBatch(batch, target: { r, _ in
                        self.comparisonName(problem, round, level, informed, jobs[r])
                    }, completed: { r, result in
                        let order = jobs[r]
                        switch result {
                        case .generated(let samples):
                            guard let sample = samples.first, !sample.cancelled else { return }
                            let (preference, _) = VerifierOutputParser.preference(sample.text)
                            let winner = TournamentBracket.winner(of: preference, first: order.first, second: order.second)
                            try self.emit(.comparisonFinished(Comparison(
                                problemID: problem.id, round: round, level: level, first: order.first,
                                second: order.second, winner: winner, raw: sample.text, informed: informed)))
                        case .failed(let message):
                            self.failed("\(self.comparisonName(problem, round, level, informed, order)): \(message)")
                        case .scored:
                            break
                        }
                    })
                }
                if stopRequested { return false }
                let winners = pairs.map { pair in
                    TournamentBracket.advancing(TournamentBracket.orders(pair, bothOrders: configuration.tournamentBothOrders).map {
                        existingComparison(problem, round: round, level: level, informed: informed, $0)?.winner
                    })
                }
                entrants = TournamentBracket.nextLevel(winners: winners, bye: bye)
                level += 1
            }
        }
        return true
    }

    private func existingComparison(_ problem: Problem, round: Int, level: Int, informed: Bool,
                                    _ order: TournamentBracket.Pairing) -> Comparison? {
        state.comparisons[problem.id]?.last {
            $0.round == round && $0.level == level && $0.informed == informed
                && $0.first == order.first && $0.second == order.second
        }
    }

    private func comparisonName(_ problem: Problem, _ round: Int, _ level: Int, _ informed: Bool,
                                _ order: TournamentBracket.Pairing) -> String {
        "\(problem.id)/\(round)/\(level)/\(informed ? "informed" : "blind")/\(order.first)~\(order.second)"
    }

    // MARK: Plumbing

    private func makeSolution(problem: Problem, id: String, round: Int, parent: String?, sample: LoopSample,
                              seed: UInt64) -> Solution {
        let text = sample.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let solution = Solution(id: id, problemID: problem.id, round: round, parentID: parent, text: text,
                                steps: StepSegmenter.segment(text), origin: parent == nil ? .sampled : .refined,
                                tokenCount: sample.tokenCount, seed: seed)
        return Grader.graded(solution, problem: problem)
    }

    /// Runs a batch, forwarding token deltas to the observer under `target(request, sample)` and
    /// completions to `completed`. A stop request while it runs does not cut it short (the
    /// step finishes and is journaled); `cancelNow` does. `starting` runs once the pause is
    /// over, just before the engine does: a front end is told a sample started only when it
    /// really has (not while the loop waits, paused, to begin it).
    private func runBatch(_ batch: [LoopRequest], target: (Int, Int) -> String, starting: () -> Void = {},
                          completed: (Int, LoopResult) throws -> Void) throws {
        if paused && !waitWhilePaused() { return }
        starting()
        var thrown: Error?
        do {
            try engine.run(batch) { event in
                guard thrown == nil else { return }
                switch event {
                case .token(let r, let s, let text):
                    if let observer, !text.isEmpty { observer(.token(target: target(r, s), text: text)) }
                case .completed(let r, let result):
                    guard r >= 0 && r < batch.count else { return }
                    do { try completed(r, result) } catch { thrown = error; engine.cancel() }
                }
            }
        } catch {
            throw LoopError.engine(String(describing: error))
        }
        if let thrown { throw thrown }
    }

    private func failedSample(_ problem: Problem, round: Int, message: String) throws {
        if stopRequested && message.contains("cancel") { return }
        countFailure()
        try emit(.sampleFailed(problemID: problem.id, round: round, message: message))
        observer?(.warning("\(problem.id) round \(round): sample failed: \(message)"))
    }

    private func failed(_ message: String) {
        if stopRequested && message.contains("cancel") { return }
        countFailure()
        warn(message)
    }

    private func countFailure() {
        control.lock()
        failures += 1
        control.unlock()
    }

    private func warn(_ message: String) {
        observer?(.warning(message))
    }

    /// Journals an event, then applies it to the state and shows it to the observer.
    private func emit(_ event: SessionEvent) throws {
        if let journal {
            do {
                try journal.append(event)
            } catch {
                throw LoopError.journal("\(journal.url.path): cannot append: \(error)")
            }
        }
        state.apply(event)
        observer?(.session(event))
    }
}
