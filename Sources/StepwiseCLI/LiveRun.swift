import Foundation
import Journal
import Reasoning
import Terminal
import Verification

/// The live loop behind `stepwise tui --model PATH --dataset …`: the engine and the loop of
/// `stepwise run`, driven by the workbench's keys instead of running straight through.
///
/// How the workbench uses it:
/// - `LiveRun.start(argv, post:)` with the run options (as `stepwise run` takes them) and a
///   closure that posts to the workbench's mailbox; it loads the model, opens or creates the
///   journal (`--out`) and journals the problems. Open the workbench on `journal` afterwards,
///   following the file: the loop appends finished work to it and the follower delivers it as
///   session events, exactly as for a session another process writes.
/// - Token deltas, sample starts/ends and the engine's state are posted as `UIInput.live`,
///   warnings as `.notice` (none of them journaled).
/// - Keys: `handle(key:problemID:selection:)` with `s`, `v`, `r`, `R` or a space.
/// - On quit: `shutdown()` (cancels the step under way; the journal stays whole).
final class LiveRun: @unchecked Sendable {
    let live: LiveLoop
    let journal: URL
    let problems: [Problem]
    private let engine: any LoopEngine
    private let post: @Sendable (UIInput) -> Void
    private let status: StatusSource

    /// Samples added by one press of `s`.
    static let samplesPerPress = 1

    private init(live: LiveLoop, journal: URL, problems: [Problem], engine: any LoopEngine,
                 post: @escaping @Sendable (UIInput) -> Void, status: StatusSource) {
        self.live = live
        self.journal = journal
        self.problems = problems
        self.engine = engine
        self.post = post
        self.status = status
    }

    static func start(_ argv: [String], post: @escaping @Sendable (UIInput) -> Void) throws -> LiveRun {
        let plan = try RunCommand.makePlan(argv)
        let (engine, template) = try RunCommand.startEngine(plan)
        let (writer, contents) = try RunCommand.openJournal(plan, template: template)
        let status = StatusSource(model: plan.endpoint == nil ? URL(fileURLWithPath: plan.modelPath).lastPathComponent : plan.modelPath,
                                  engine: engine)
        let loop = try RefinementLoop(engine: engine, prompts: LoopPrompts(set: plan.prompts, chat: engine.usesChat),
                                      configuration: plan.configuration, journal: writer, state: SessionState(contents),
                                      observer: { event in
                                          status.serialized {
                                              for input in LiveRun.inputs(for: event, status: status) { post(input) }
                                          }
                                      })
        do {
            try loop.loadProblems(plan.problems)
        } catch {
            throw CLIError.failure("\(plan.out.path): \(error)")
        }
        let live = LiveLoop(loop: loop, problems: plan.problems, onError: { post(.notice($0, isError: true)) })
        post(.live(.engine(status.current(state: "idle"))))
        return LiveRun(live: live, journal: plan.out, problems: plan.problems, engine: engine, post: post, status: status)
    }

    /// What the workbench shows of a loop event. Session events are left to the journal
    /// follower (the loop has already appended them to the file).
    static func inputs(for event: LoopEvent, status: StatusSource) -> [UIInput] {
        switch event {
        case .session:
            return []
        case .sampleStarted(let id, let problemID, let round, let parentID):
            return [.live(.sampleStarted(id: id, problemID: problemID, round: round, parentID: parentID))]
        case .token(let target, let text):
            return [.live(.tokens(id: target, delta: text))]
        case .sampleEnded(let id):
            return [.live(.sampleEnded(id: id))]
        case .progress(let p):
            return [.live(.engine(status.current(state: status.paused ? "paused" : (p.phase == .done ? "idle" : "running"))))]
        case .warning(let message):
            return [.notice(message, isError: true)]
        }
    }

    /// A key of the live workbench, on the problem shown and the solutions selected. Returns
    /// the status line to show, or nil when the key is not one of the loop's.
    @discardableResult
    func handle(key: Character, problemID: String, selection: [String]) -> String? {
        switch key {
        case "s":
            live.submit(.sampleMore(problemID: problemID, count: Self.samplesPerPress))
            return "sampling \(Self.samplesPerPress) more for \(problemID)"
        case "v":
            guard !selection.isEmpty else { return "select a solution to verify" }
            live.submit(.verify(problemID: problemID, solutionIDs: selection))
            return "verifying \(selection.count) solution\(selection.count == 1 ? "" : "s")"
        case "r":
            guard !selection.isEmpty else { return "select a solution to refine" }
            live.submit(.refine(problemID: problemID, solutionIDs: selection))
            return "refining \(selection.count) solution\(selection.count == 1 ? "" : "s") one round"
        case "R":
            live.submit(.runToLimit(problemID: problemID))
            return "running \(problemID) to the round limit"
        case " ":
            var paused = false
            status.serialized {
                live.paused.toggle()
                paused = live.paused
                status.paused = paused
                post(.live(.engine(status.current(state: paused ? "paused" : (live.pending > 0 ? "running" : "idle")))))
            }
            return paused ? "paused (the step under way finishes)" : "resumed"
        default:
            return nil
        }
    }

    /// A live key from the workbench (`Workbench.Options.onLive`), answered on the status line.
    func handle(_ request: LiveRequest) {
        guard let problemID = request.problemID else {
            post(.notice("no problem selected", isError: true))
            return
        }
        if let message = handle(key: request.key, problemID: problemID,
                                selection: request.selectedSolutionID.map { [$0] } ?? []) {
            post(.notice(message, isError: false))
        }
    }

    func shutdown() {
        live.shutdown()
        post(.live(.engine(status.current(state: "stopped"))))
    }

    /// `stepwise tui --model PATH --dataset … [run options] [--theme NAME]`: the workbench on
    /// the session of a live loop (a new one, or `--out` to continue one). Returns when the
    /// user quits; the step under way is cancelled and the journal stays whole.
    static func workbench(_ argv: [String], terminal: (input: Int32, output: Int32)? = nil,
                          handleSignals: Bool = true) throws -> Int32 {
        var runArgs: [String] = []
        var theme = "default"
        var autorun = false
        var i = 0
        while i < argv.count {
            let a = argv[i]
            if a == "--theme", i + 1 < argv.count {
                theme = argv[i + 1]
                i += 2
                continue
            }
            if a.hasPrefix("--theme=") {
                theme = String(a.dropFirst("--theme=".count))
            } else if a == "--autorun" {
                autorun = true
            } else if a != "--no-follow" {
                runArgs.append(a)
            }
            i += 1
        }
        let mailbox: Mailbox
        do { mailbox = try Mailbox() } catch { throw CLIError.failure("\(error)") }
        let run = try LiveRun.start(runArgs, post: { mailbox.post($0) })
        defer { run.shutdown() }
        // --autorun: every problem queued to the round limit, in order, as `R` on each would
        // (Space pauses; the keys still add work to the queue).
        if autorun {
            for problem in run.problems { run.live.submit(.runToLimit(problemID: problem.id)) }
        }
        var options = Workbench.Options(session: run.journal, theme: theme, follow: true, terminal: terminal,
                                        handleSignals: handleSignals)
        options.onLive = { run.handle($0) }
        let workbench = try readingInput { try Workbench(options, mailbox: mailbox) }
        do {
            try workbench.run()
        } catch let e as TerminalError {
            throw CLIError.failure(e.description)
        }
        return 0
    }
}

/// The engine's state for the workbench header. Space and the loop's reports post through
/// `serialized`, so a report from the step under way cannot paint "running" over "paused".
final class StatusSource: @unchecked Sendable {
    let model: String
    private let engine: any LoopEngine
    private let lock = NSRecursiveLock()
    private var pausedFlag = false

    /// Whether the loop is paused (Space), as the header shows it.
    var paused: Bool {
        get { serialized { pausedFlag } }
        set { serialized { pausedFlag = newValue } }
    }

    /// Runs `body` (which may post) with no other report or pause change in between.
    func serialized<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    init(model: String, engine: any LoopEngine) {
        self.model = model
        self.engine = engine
    }

    func current(state: String) -> EngineStatus {
        EngineStatus(state: state, tokensPerSecond: EndpointArguments.recentTokensPerSecond(engine),
                     model: model, backend: engine is InProcessLoopEngine ? "in-process" : "endpoint")
    }
}
