/// Finds stop strings in streamed text and decides how much text is safe to show.
///
/// Text arrives a token at a time, so a stop string can straddle tokens. The matcher keeps the
/// whole generated text, searches only the region a new piece could have completed a match in,
/// and holds back a tail that might still become the start of a stop string — so the streamed
/// deltas never show text that is later cut off.
struct StopMatcher {
    let stops: [String]
    private(set) var text = ""
    /// Characters of `text` already released as deltas.
    private var released = 0
    private let longest: Int

    init(stops: [String]) {
        self.stops = stops
        self.longest = stops.map(\.count).max() ?? 0
    }

    enum Outcome: Equatable {
        /// Append `delta` to what was shown so far; keep going.
        case running(delta: String)
        /// A stop string matched: `delta` completes the shown text, which is final.
        case stopped(delta: String)
    }

    mutating func append(_ piece: String) -> Outcome {
        let searchFrom = max(0, text.count - max(longest - 1, 0))
        text += piece
        if !stops.isEmpty {
            let start = text.index(text.startIndex, offsetBy: searchFrom)
            var cut: String.Index?
            for stop in stops {
                if let range = text.range(of: stop, range: start..<text.endIndex) {
                    if cut == nil || range.lowerBound < cut! { cut = range.lowerBound }
                }
            }
            if let cut {
                text = String(text[..<cut])
                return .stopped(delta: takeRelease(upTo: text.count))
            }
        }
        return .running(delta: takeRelease(upTo: text.count - heldBack()))
    }

    /// Everything not yet shown (at the end of generation for another reason).
    mutating func flush() -> String { takeRelease(upTo: text.count) }

    /// Length of the longest suffix of `text` that is a proper prefix of some stop string.
    private func heldBack() -> Int {
        guard longest > 1 else { return 0 }
        let characters = Array(text.suffix(longest - 1))
        for length in stride(from: characters.count, through: 1, by: -1) {
            let suffix = String(characters[(characters.count - length)...])
            if stops.contains(where: { $0.count > length && $0.hasPrefix(suffix) }) { return length }
        }
        return 0
    }

    private mutating func takeRelease(upTo end: Int) -> String {
        guard end > released else { return "" }
        let from = text.index(text.startIndex, offsetBy: released)
        let to = text.index(text.startIndex, offsetBy: end)
        released = end
        return String(text[from..<to])
    }
}
