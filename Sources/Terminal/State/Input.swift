import Journal

/// A key as the reducer sees it, already decoded from the terminal's key codes.
public enum Key: Equatable, Hashable, Sendable {
    case char(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case tab, backTab, enter, escape, backspace, delete
    /// Ctrl-C: quits like `q`, from any mode.
    case interrupt
}

public struct MouseEvent: Equatable, Sendable {
    public enum Action: Equatable, Sendable { case click, wheelUp, wheelDown }
    public var action: Action
    public var row: Int
    public var col: Int

    public init(_ action: Action, row: Int, col: Int) {
        self.action = action
        self.row = row
        self.col = col
    }
}

/// What the engine is doing, for the header. Sent by the live loop; not journaled.
public struct EngineStatus: Equatable, Sendable {
    /// `idle`, `running`, `paused`, `stopped`, or an error in a few words.
    public var state: String
    public var tokensPerSecond: Double?
    public var model: String?
    public var backend: String?

    public init(state: String, tokensPerSecond: Double? = nil, model: String? = nil, backend: String? = nil) {
        self.state = state
        self.tokensPerSecond = tokensPerSecond
        self.model = model
        self.backend = backend
    }
}

/// Events of a live run that only the screen needs: a sample being written token by token and
/// the engine's state. None of them is journaled; the finished sample arrives as a
/// `SessionEvent.solutionAdded` with the same id, which replaces the streaming text (or a
/// `sampleFailed`, after which the loop sends `sampleEnded`).
public enum LiveEvent: Equatable, Sendable {
    case sampleStarted(id: String, problemID: String, round: Int, parentID: String?)
    /// Text generated since the last delta of this sample.
    case tokens(id: String, delta: String)
    /// The sample stopped streaming without (yet) a solution: failed or cancelled.
    case sampleEnded(id: String)
    case engine(EngineStatus)
}

/// Everything that can change the UI state. Keys and mouse come from the terminal; session
/// events from the journal follower or the live loop; live events from the loop.
public enum UIInput: Sendable {
    case key(Key)
    case mouse(MouseEvent)
    case resize(Size)
    case session(SessionEvent)
    case live(LiveEvent)
    /// A line for the status bar from outside the reducer (a failed journal write, an export's
    /// result).
    case notice(String, isError: Bool)
}

/// Work the reducer asks its runner to do; the reducer itself never touches disk or terminal.
public enum Effect: Equatable, Sendable {
    /// Append to the session journal (annotations: flushed at once by the writer).
    case journal(SessionEvent)
    /// Export the session in a format (`prm800k`, `stv`, …), optionally to a path.
    case export(format: String, path: String?)
    /// Load a theme by name or path and use it.
    case loadTheme(String)
    /// A key for the live loop (`s` sample, `v` verify, `r` refine, `R` run to the round
    /// limit, space pause/resume), with what it applies to.
    case live(LiveRequest)
    case quit
}

/// What a live-loop key applies to: the current problem and the selected solution.
public struct LiveRequest: Equatable, Sendable {
    public var key: Character
    public var problemID: String?
    public var selectedSolutionID: String?

    public init(key: Character, problemID: String?, selectedSolutionID: String?) {
        self.key = key
        self.problemID = problemID
        self.selectedSolutionID = selectedSolutionID
    }
}
