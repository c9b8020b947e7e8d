import CNcurses
import Foundation
import Journal
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `stepwise bench-ui`: how long a frame takes to render and diff, and how long a key takes to
/// reach the screen while other threads keep every core busy.
public enum UIBench {
    public struct Figures: Sendable {
        public var samples: Int
        public var p50: Double
        public var p99: Double
        public var max: Double

        init(_ millis: [Double]) {
            let sorted = millis.sorted()
            samples = sorted.count
            func at(_ q: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
            p50 = at(0.50)
            p99 = at(0.99)
            max = sorted.last ?? .nan
        }

        public var line: String { String(format: "p50 %.3f ms  p99 %.3f ms  max %.3f ms  (n=%d)", p50, p99, max, samples) }
    }

    /// Render + diff of a `size` frame of the busy session, with the selection moving and a
    /// sample streaming between frames (so every frame differs from the last).
    public static func renderAndDiff(size: Size = Size(cols: 200, rows: 60), iterations: Int = 2000) -> Figures {
        var state = UIState(session: SessionState(header: JournalHeader(dataset: "bench"), events: BusySession.events()),
                            sessionName: "bench.jsonl", size: size)
        state.refreshMetrics()
        let pid = state.problem?.id ?? ""
        _ = Reducer.reduce(&state, .live(.sampleStarted(id: "stream", problemID: pid, round: 0, parentID: nil)))
        var previous = Renderer.render(state)
        var times: [Double] = []
        times.reserveCapacity(iterations)
        for i in 0..<iterations {
            let key: Key = (i / 8) % 2 == 0 ? .char("j") : .char("k")
            _ = Reducer.reduce(&state, .key(i % 50 == 49 ? .tab : key))
            _ = Reducer.reduce(&state, .live(.tokens(id: "stream", delta: " token\(i)")))
            let t0 = Workbench.monotonic()
            let grid = Renderer.render(state)
            let runs = Diff.runs(from: previous, to: grid)
            let t1 = Workbench.monotonic()
            precondition(runs.count >= 0)
            previous = grid
            times.append((t1 - t0) * 1000)
        }
        return Figures(times)
    }

    /// Keys written to a pseudo-terminal running the real workbench loop (ncurses included);
    /// the time until the first byte of the answering frame comes out, while `loadThreads`
    /// threads spin.
    public static func inputToScreen(iterations: Int = 300, loadThreads: Int = ProcessInfo.processInfo.activeProcessorCount,
                                     size: Size = Size(cols: 200, rows: 60)) throws -> Figures {
        var slave: Int32 = -1
        let master = sw_open_pty(&slave)
        guard master >= 0 else { throw TerminalError.setup("cannot open a pseudo-terminal") }
        defer { close(slave); close(master) }
        _ = sw_set_winsize(slave, UInt16(size.rows), UInt16(size.cols))
        if (ProcessInfo.processInfo.environment["TERM"] ?? "dumb") == "dumb" { setenv("TERM", "xterm-256color", 1) }
        unsetenv("LINES")
        unsetenv("COLUMNS")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = dir.appendingPathComponent("bench.jsonl")
        let writer = try JournalWriter.create(at: journal, header: JournalHeader(dataset: "bench"))
        try writer.append(contentsOf: BusySession.events())

        let frames = FrameCounter()
        let output = OutputClock()
        var options = Workbench.Options(session: journal, follow: false, terminal: (slave, slave), handleSignals: false)
        options.onFrame = { frames.add() }
        let uiOptions = options
        let ui = Thread {
            do { try Workbench(uiOptions).run() } catch { output.fail("\(error)") }
        }
        ui.start()
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = read(master, &buffer, buffer.count)
                if n <= 0 { break }
                output.tick()
            }
        }
        reader.start()
        // Wait for the first frame.
        let start = Workbench.monotonic()
        while frames.value == 0 && Workbench.monotonic() - start < 10 {
            if let e = output.failure { throw TerminalError.setup(e) }
            usleep(1000)
        }
        guard frames.value > 0 else { throw TerminalError.setup("the workbench drew nothing in 10 s") }

        let stop = StopFlag()
        let spinners = (0..<loadThreads).map { _ in
            Thread {
                var x: UInt64 = 1
                while !stop.isSet {
                    for _ in 0..<10_000 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
                }
                if x == 0 { print("") }
            }
        }
        spinners.forEach { $0.start() }
        defer { stop.set() }

        var times: [Double] = []
        for i in 0..<iterations {
            usleep(40_000) // let the previous frame settle, so each key is answered by its own frame
            output.forgetSignals()
            let before = output.count
            let key: UInt8 = (i / 10) % 2 == 0 ? UInt8(ascii: "j") : UInt8(ascii: "k")
            var byte = key
            let t0 = Workbench.monotonic()
            _ = write(master, &byte, 1)
            // Sleep until the reader reports output (no busy wait: the measuring thread must not
            // be one more load on the cores).
            while output.count == before && Workbench.monotonic() - t0 < 1 { output.waitForOutput(until: t0 + 1) }
            if output.count == before { continue }
            times.append((output.time(before) - t0) * 1000)
        }
        stop.set()
        var q = UInt8(ascii: "q")
        _ = write(master, &q, 1)
        while !ui.isFinished && Workbench.monotonic() - start < 60 { usleep(1000) }
        return Figures(times)
    }
}

/// When the pseudo-terminal produced output: one timestamp per read.
private final class OutputClock: Sendable {
    private let state = Mutex<(times: [Double], failure: String?)>(([], nil))
    private let arrived = DispatchSemaphore(value: 0)
    func tick() {
        let now = Workbench.monotonic()
        state.withLock { $0.times.append(now) }
        arrived.signal()
    }
    func forgetSignals() {
        while arrived.wait(timeout: .now()) == .success {}
    }
    func waitForOutput(until deadline: Double) {
        let left = max(0, deadline - Workbench.monotonic())
        _ = arrived.wait(timeout: .now() + left)
    }
    var count: Int { state.withLock { $0.times.count } }
    func time(_ index: Int) -> Double { state.withLock { $0.times[index] } }
    func fail(_ m: String) { state.withLock { $0.failure = m } }
    var failure: String? { state.withLock { $0.failure } }
}

private final class FrameCounter: Sendable {
    private let n = Atomic<Int>(0)
    func add() { n.add(1, ordering: .relaxed) }
    var value: Int { n.load(ordering: .relaxed) }
}
