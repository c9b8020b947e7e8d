import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where other threads (journal follower, live loop, export, benchmark) leave inputs for the
/// UI thread. Posting appends under a lock and writes a byte to a non-blocking pipe whose read
/// end the UI waits on in `poll()`, so the UI sleeps until there is work and never blocks on
/// the producer.
public final class Mailbox: Sendable {
    private let pending = Mutex<[UIInput]>([])
    /// Read end: polled by the UI thread. Write end: poked by `post` (and by the quit-signal handler).
    public let readFD: Int32
    public let writeFD: Int32

    public init() throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw TerminalError.setup("cannot create the UI wake-up pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    public func post(_ input: UIInput) {
        pending.withLock { $0.append(input) }
        wake()
    }

    public func post(contentsOf inputs: [UIInput]) {
        guard !inputs.isEmpty else { return }
        pending.withLock { $0.append(contentsOf: inputs) }
        wake()
    }

    /// Everything posted so far, in order; empties the mailbox and the pipe.
    public func drain() -> [UIInput] {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readFD, &buffer, buffer.count) > 0 {}
        return pending.withLock { list in
            let out = list
            list.removeAll(keepingCapacity: true)
            return out
        }
    }

    private func wake() {
        var one: UInt8 = 1
        // A full pipe already means "wake up"; nothing to do on EAGAIN.
        _ = write(writeFD, &one, 1)
    }
}

public enum TerminalError: Error, CustomStringConvertible {
    case setup(String)
    case notATerminal

    public var description: String {
        switch self {
        case .setup(let m): return m
        case .notATerminal: return "the workbench needs a terminal (standard input and output are not one)"
        }
    }
}
