import Foundation
import Journal
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs the workbench on a session journal: one UI thread owns ncurses and the state; it waits in
/// `poll()` on the terminal and the mailbox, reduces every input, carries out the effects, and
/// redraws — at once after a key, and at most ~30 times a second for events from other threads.
///
/// Other threads talk to it only through `mailbox`: the journal follower (a session another
/// process is still writing), and later the live loop (token deltas as `LiveEvent`s, finished
/// work as `SessionEvent`s). Annotations made here are appended to the journal on a writer
/// queue (fsync'd), so neither disk nor engine can stall the screen.
public final class Workbench {
    public struct Options: Sendable {
        public var session: URL
        public var theme: String
        /// Tail the journal for events another process appends.
        public var follow: Bool
        /// Terminal descriptors (the benchmark runs the UI on a pseudo-terminal); nil = stdin/stdout.
        public var terminal: (input: Int32, output: Int32)?
        /// Catch INT/TERM/HUP and crash signals (off when the UI is not the program's terminal).
        public var handleSignals: Bool
        /// Called on the UI thread after each frame reaches the terminal (the benchmark's clock).
        public var onFrame: (@Sendable () -> Void)?
        /// The live loop's keys (`s v r R` and space); nil for a recorded session.
        public var onLive: (@Sendable (LiveRequest) -> Void)?

        public init(session: URL, theme: String = "default", follow: Bool = true,
                    terminal: (input: Int32, output: Int32)? = nil, handleSignals: Bool = true) {
            self.session = session
            self.theme = theme
            self.follow = follow
            self.terminal = terminal
            self.handleSignals = handleSignals
        }
    }

    public let mailbox: Mailbox
    public let options: Options
    private let writer: JournalWriter
    private let contents: JournalContents
    private let writerQueue = DispatchQueue(label: "stepwise.workbench.journal")
    private let stopFollowing = StopFlag()
    /// Events this UI appended and will read back through the follower: skipped once.
    private var ownEchoes: [SessionEvent] = []

    /// Opens the session journal for appending. A live loop that must post before the
    /// workbench exists creates the `Mailbox` first and passes it in.
    public init(_ options: Options, mailbox: Mailbox? = nil) throws {
        self.options = options
        self.mailbox = try mailbox ?? Mailbox()
        (writer, contents) = try JournalWriter.openForAppend(at: options.session)
    }

    /// Runs until the user quits. Throws only when the terminal cannot be set up.
    public func run() throws {
        var notices: [UIInput] = contents.warnings.map { .notice($0, isError: true) }
        var theme = Theme.builtin
        do { theme = try Theme.load(options.theme) } catch {
            notices.append(.notice("\(error); using the default theme", isError: true))
        }
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        let screen = try NcursesScreen(theme: theme, noColor: noColor,
                                       inputFD: options.terminal?.input ?? 0, outputFD: options.terminal?.output ?? 1)
        if options.handleSignals { TerminalGuard.install(wakeFD: mailbox.writeFD) }
        defer {
            stopFollowing.set()
            writerQueue.sync {}
            screen.end()
            if options.handleSignals { TerminalGuard.uninstall() }
        }
        var state = UIState(session: SessionState(contents), sessionName: options.session.lastPathComponent, size: screen.size)
        state.ascii = !screen.utf8
        state.themeName = theme.name
        state.live = options.onLive != nil
        if options.follow { startFollower() }
        loop(&state, screen, noColor: noColor, initial: notices)
    }

    private func loop(_ state: inout UIState, _ screen: NcursesScreen, noColor: Bool, initial: [UIInput]) {
        let keyInterval = 0.0
        let eventInterval = 1.0 / 30
        var lastFrame = -1.0
        var dirty = true
        var keyPending = false
        var pending = initial
        while !state.quitRequested {
            for input in pending {
                if case .key = input { keyPending = true }
                if case .mouse = input { keyPending = true }
                if case .session(let e) = input, let first = ownEchoes.first, first == e {
                    ownEchoes.removeFirst()
                    continue
                }
                let effects = Reducer.reduce(&state, input)
                for effect in effects { perform(effect, &state, screen, noColor: noColor) }
                dirty = true
            }
            pending.removeAll(keepingCapacity: true)
            if state.quitRequested { break }

            var timeout: Int32 = -1
            if dirty {
                let now = Self.monotonic()
                let due = lastFrame + (keyPending ? keyInterval : eventInterval)
                if now >= due {
                    state.refreshMetrics()
                    screen.draw(Renderer.render(state))
                    options.onFrame?()
                    lastFrame = Self.monotonic()
                    dirty = false
                    keyPending = false
                } else {
                    timeout = Int32(((due - now) * 1000).rounded(.up))
                }
            }
            var fds = [pollfd(fd: screen.inputFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: mailbox.readFD, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, timeout)
            // Always ask ncurses: a resize arrives as a signal (poll sees EINTR), not as input.
            pending += screen.readInputs()
            pending += mailbox.drain()
            if options.handleSignals && TerminalGuard.takeQuitSignal() != 0 { state.quitRequested = true }
        }
    }

    private func perform(_ effect: Effect, _ state: inout UIState, _ screen: NcursesScreen, noColor: Bool) {
        switch effect {
        case .quit:
            state.quitRequested = true
        case .live(let request):
            options.onLive?(request)
        case .journal(let event):
            if options.follow { ownEchoes.append(event) }
            let writer = self.writer, mailbox = self.mailbox
            writerQueue.async {
                do { try writer.append(event) } catch {
                    mailbox.post(.notice("journal write failed: \(error)", isError: true))
                }
            }
        case .loadTheme(let name):
            do {
                let theme = try Theme.load(name)
                screen.apply(theme: theme, noColor: noColor)
                screen.invalidate()
                state.themeName = theme.name
                state.message = StatusMessage(text: "theme \(theme.name)" + (noColor ? " (NO_COLOR: attributes only)" : ""), isError: false)
            } catch {
                state.message = StatusMessage(text: "\(error); theme unchanged", isError: true)
            }
        case .export(let name, let path):
            guard let format = ExportFormat(rawValue: name) else {
                state.message = StatusMessage(text: "unknown export format '\(name)' (\(ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")))",
                                              isError: true)
                return
            }
            let session = state.session
            let target = path.map { URL(fileURLWithPath: $0) } ?? Self.exportURL(options.session, format)
            let mailbox = self.mailbox
            // Wait for annotations still being appended, then write off the UI thread.
            writerQueue.async {
                do {
                    let result = try SessionExport.export(session, format: format)
                    try result.data.write(to: target, options: .atomic)
                    let left = result.unlabelled > 0 ? " (\(result.unlabelled) unlabelled left out)" : ""
                    mailbox.post(.notice("exported \(result.written) records to \(target.path)\(left)", isError: false))
                } catch {
                    mailbox.post(.notice("export failed: \(error)", isError: true))
                }
            }
        }
    }

    /// `Sessions/run.jsonl` → `Sessions/run.prm800k.jsonl` (ProcessBench: `.processbench.json`).
    static func exportURL(_ session: URL, _ format: ExportFormat) -> URL {
        let stem = session.deletingPathExtension().lastPathComponent
        let ext = format == .processbench ? "json" : "jsonl"
        return session.deletingLastPathComponent().appendingPathComponent("\(stem).\(format.rawValue).\(ext)")
    }

    private func startFollower() {
        let url = options.session, contents = self.contents, mailbox = self.mailbox
        let stop = stopFollowing
        let thread = Thread {
            let follower = JournalFollower(url: url, after: contents)
            while !stop.isSet {
                do {
                    let events = try follower.poll()
                    mailbox.post(contentsOf: events.map { .session($0) })
                } catch {
                    mailbox.post(.notice("\(error)", isError: true))
                }
                usleep(200_000)
            }
        }
        thread.name = "stepwise.follower"
        thread.start()
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A flag one thread sets and another reads (the follower's stop signal).
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
