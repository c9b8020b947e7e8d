import Foundation
import Reasoning

/// Several loops working on different problems at once over one engine and one journal, so
/// that the engine batches the samples and verifications of several problems together (one
/// problem's N samples rarely fill a batch). Problems are dealt round-robin; each loop is
/// a `RefinementLoop` of its own (ids, seeds and resume are per problem, so the journal holds
/// the same events as a one-loop run, interleaved differently).
public final class LoopGroup: @unchecked Sendable {
    public let loops: [RefinementLoop]

    public init(_ loops: [RefinementLoop]) {
        precondition(!loops.isEmpty, "a loop group needs a loop")
        self.loops = loops
    }

    /// Runs every problem; returns when all loops are done or stopped. The first error a loop
    /// throws stops the others and is rethrown.
    public func run(problems: [Problem]) throws -> LoopSummary {
        let count = loops.count
        let tally = Tally()
        let group = DispatchGroup()
        for (w, loop) in loops.enumerated() {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                for i in stride(from: w, to: problems.count, by: count) {
                    if loop.stopRequested {
                        tally.update { $0.stopped = true }
                        return
                    }
                    do {
                        let finished = try loop.runProblem(problems[i], index: i, of: problems.count)
                        tally.update { if finished { $0.done += 1 } else { $0.stopped = true } }
                        if !finished { return }
                    } catch {
                        tally.update { if $0.error == nil { $0.error = error } }
                        self.cancelNow()
                        return
                    }
                }
            }
            thread.name = "stepwise-loop-\(w)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        let result = tally.value
        if let error = result.error { throw error }
        let failures = loops.reduce(0) { $0 + $1.failureCount }
        return LoopSummary(finished: !result.stopped && result.done == problems.count, problemsDone: result.done,
                           failures: failures)
    }

    /// What the worker threads report, under a lock.
    private final class Tally: @unchecked Sendable {
        struct Value {
            var done = 0
            var stopped = false
            var error: Error?
        }
        private let lock = NSLock()
        private var current = Value()

        func update(_ change: (inout Value) -> Void) {
            lock.lock()
            change(&current)
            lock.unlock()
        }

        var value: Value {
            lock.lock()
            defer { lock.unlock() }
            return current
        }
    }

    public func requestStop() {
        for loop in loops { loop.requestStop() }
    }

    public func cancelNow() {
        for loop in loops { loop.cancelNow() }
    }

    public var paused: Bool {
        get { loops[0].paused }
        set { for loop in loops { loop.paused = newValue } }
    }
}
