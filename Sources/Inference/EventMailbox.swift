import Foundation

/// A thread-safe queue of engine events for a consumer on another thread.
///
/// The engine calls `post` on its own thread; the consumer drains with `drain()` (a UI thread
/// woken through `onPost`, e.g. by writing a byte to its self-pipe) or blocks in `next(timeout:)`
/// (command line tools, tests).
public final class EngineEventMailbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [EngineEvent] = []
    private var head = 0
    private let onPost: (@Sendable () -> Void)?

    /// `onPost` runs on the posting thread after each event is queued; keep it tiny and
    /// non-blocking (write one byte to a pipe whose write end is non-blocking).
    public init(onPost: (@Sendable () -> Void)? = nil) {
        self.onPost = onPost
    }

    /// The sink to hand to `Engine`.
    public var sink: @Sendable (EngineEvent) -> Void {
        { [self] event in self.post(event) }
    }

    public func post(_ event: EngineEvent) {
        condition.lock()
        queue.append(event)
        condition.signal()
        condition.unlock()
        onPost?()
    }

    /// Every queued event, oldest first, without waiting.
    public func drain() -> [EngineEvent] {
        condition.lock()
        defer { condition.unlock() }
        let events = Array(queue[head...])
        queue.removeAll(keepingCapacity: true)
        head = 0
        return events
    }

    /// The oldest event, waiting up to `timeout` seconds (nil: forever); nil on timeout.
    public func next(timeout: TimeInterval? = nil) -> EngineEvent? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while head >= queue.count {
            if let deadline {
                if !condition.wait(until: deadline) && head >= queue.count { return nil }
            } else {
                condition.wait()
            }
        }
        let event = queue[head]
        head += 1
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return event
    }

    /// Waits for the events of `id` up to and including its `.finished` or `.failed`, returning
    /// them in order; events of other requests met on the way are dropped.
    public func collect(_ id: RequestID, timeout: TimeInterval? = nil) -> [EngineEvent] {
        var events: [EngineEvent] = []
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while true {
            let remaining = deadline.map { max(0, $0.timeIntervalSinceNow) }
            guard let event = next(timeout: remaining) else { return events }
            guard event.requestID == id else { continue }
            events.append(event)
            switch event {
            case .finished, .failed: return events
            default: continue
            }
        }
    }
}
