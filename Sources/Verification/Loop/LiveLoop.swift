import Foundation
import Reasoning

/// The loop behind a live front end (the workbench): commands from the UI thread are queued
/// and carried out one after another on a worker thread, so a key press never waits for the
/// engine. Results reach the front end through the `RefinementLoop`'s observer (and journal).
///
/// Keys of issue 5 map to commands: `s` → `.sampleMore`, `v` → `.verify`, `r` → `.refine`,
/// `R` → `.runToLimit`; `Space` toggles `paused` (the step under way finishes, no new one
/// starts until resumed).
public final class LiveLoop: @unchecked Sendable {
    public enum Command: Sendable, Equatable {
        /// More first attempts of a problem.
        case sampleMore(problemID: String, count: Int)
        /// The per-attempt verifiers on these solutions.
        case verify(problemID: String, solutionIDs: [String])
        /// One refinement round for these attempts.
        case refine(problemID: String, solutionIDs: [String])
        /// The whole loop for a problem, up to the round limit.
        case runToLimit(problemID: String)
    }

    public let loop: RefinementLoop
    private let problems: [String: Problem]
    /// Called on the worker thread when a command fails (one line), e.g. to show it.
    private let onError: (@Sendable (String) -> Void)?
    private let condition = NSCondition()
    private var queue: [Command] = []
    private var busy = false
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)

    public init(loop: RefinementLoop, problems: [Problem], onError: (@Sendable (String) -> Void)? = nil) {
        self.loop = loop
        var byID: [String: Problem] = [:]
        for p in problems where byID[p.id] == nil { byID[p.id] = p }
        self.problems = byID
        self.onError = onError
        let thread = Thread { [self] in
            self.work()
            self.exited.signal()
        }
        thread.name = "stepwise-loop"
        thread.start()
    }

    /// Queues a command; returns at once.
    public func submit(_ command: Command) {
        condition.lock()
        if !stopping { queue.append(command) }
        condition.signal()
        condition.unlock()
    }

    /// Space: pause or resume.
    public var paused: Bool {
        get { loop.paused }
        set { loop.paused = newValue }
    }

    /// Commands queued or running.
    public var pending: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count + (busy ? 1 : 0)
    }

    /// Waits until every queued command is done (tests, headless use).
    public func waitUntilIdle() {
        condition.lock()
        while (!queue.isEmpty || busy) && !stopping { condition.wait() }
        condition.unlock()
    }

    /// Cancels the step under way, drops queued commands and joins the worker thread.
    public func shutdown() {
        condition.lock()
        let already = stopping
        stopping = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
        loop.cancelNow()
        if !already { exited.wait() }
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            let command = queue.removeFirst()
            busy = true
            condition.unlock()

            do {
                try perform(command)
            } catch {
                onError?("\(error)")
            }

            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }

    private func perform(_ command: Command) throws {
        func problem(_ id: String) throws -> Problem {
            guard let p = problems[id] else { throw LoopError.badConfiguration("\(id): not a problem of this run") }
            return p
        }
        switch command {
        case .sampleMore(let id, let count):
            try loop.sampleMore(try problem(id), count: count)
        case .verify(let id, let ids):
            try loop.verify(try problem(id), solutionIDs: ids)
        case .refine(let id, let ids):
            try loop.refine(try problem(id), solutionIDs: ids)
        case .runToLimit(let id):
            try loop.runProblem(try problem(id))
        }
    }
}
