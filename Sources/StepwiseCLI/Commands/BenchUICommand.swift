import Foundation
import Terminal

/// `stepwise bench-ui`: the workbench's speed, measured (see `UIBench`).
enum BenchUICommand {
    static let command = Command(
        name: "bench-ui",
        summary: "measure the workbench: render+diff of a 200×60 frame, key-to-screen latency under load",
        help: """
        Usage: stepwise bench-ui [--frames N] [--keys N] [--load THREADS]

        Renders and diffs N frames (default 2000) of a busy made-up session at 200×60, then runs
        the real workbench on a pseudo-terminal and times N keys (default 300) from the write to
        the first byte of the answering frame while THREADS threads (default: one per core) spin.
        Targets: render+diff p99 ≤ 2 ms, key-to-screen p99 ≤ 16 ms. Build with -c release.
        """,
        run: run
    )

    static func run(_ argv: [String]) throws -> Int32 {
        let args = try Arguments(argv, command: "bench-ui", valued: ["frames", "keys", "load"])
        try args.expectPositionals(atMost: 0)
        let frames = try args.int("frames") ?? 2000
        let keys = try args.int("keys") ?? 300
        let load = try args.int("load") ?? ProcessInfo.processInfo.activeProcessorCount
        let render = UIBench.renderAndDiff(iterations: frames)
        console.out("render+diff 200x60:            \(render.line)   target p99 <= 2 ms: \(render.p99 <= 2 ? "met" : "MISSED")")
        do {
            let latency = try UIBench.inputToScreen(iterations: keys, loadThreads: load)
            console.out("key-to-screen, \(load) busy threads: \(latency.line)   target p99 <= 16 ms: \(latency.p99 <= 16 ? "met" : "MISSED")")
        } catch {
            throw CLIError.failure("key-to-screen benchmark: \(error)")
        }
        return 0
    }
}
