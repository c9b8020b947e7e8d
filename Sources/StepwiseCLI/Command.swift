import Foundation

/// One subcommand of `stepwise`. Each lives in its own file under Commands/ and is listed in
/// `CommandRegistry.all`.
public struct Command: Sendable {
    public let name: String
    /// One line for the command list.
    public let summary: String
    /// The full help text: usage line, then options.
    public let help: String
    /// Runs with the arguments after the subcommand name; returns the exit code.
    public let run: @Sendable ([String]) throws -> Int32

    public init(name: String, summary: String, help: String, run: @escaping @Sendable ([String]) throws -> Int32) {
        self.name = name
        self.summary = summary
        self.help = help
        self.run = run
    }
}

/// Output streams, so tests can capture what a command prints.
public final class Console: @unchecked Sendable {
    public static let standard = Console()
    private let lock = NSLock()
    private var captureOut: String?
    private var captureErr: String?

    public init() {}

    /// A console that records instead of printing.
    public static func capturing() -> Console {
        let c = Console()
        c.captureOut = ""
        c.captureErr = ""
        return c
    }

    public func out(_ s: String) {
        lock.lock(); defer { lock.unlock() }
        if captureOut != nil { captureOut! += s + "\n"; return }
        FileHandle.standardOutput.write(Data((s + "\n").utf8))
    }

    public func err(_ s: String) {
        lock.lock(); defer { lock.unlock() }
        if captureErr != nil { captureErr! += s + "\n"; return }
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    public var capturedOut: String { lock.lock(); defer { lock.unlock() }; return captureOut ?? "" }
    public var capturedErr: String { lock.lock(); defer { lock.unlock() }; return captureErr ?? "" }
}

/// Where commands print; swapped by tests.
nonisolated(unsafe) var console = Console.standard
