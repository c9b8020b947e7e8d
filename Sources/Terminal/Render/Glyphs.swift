/// The symbols the screen uses, with ASCII stand-ins for a terminal whose locale is not UTF-8.
public struct Glyphs: Sendable {
    public var correct, wrong, running, failed, unknown: String
    public var firstError, bad, neutral, good, note: String
    public var pointer, cursor, vertical, horizontal, hidden, ellipsis, disagree, agree, selectedRow: String
    /// Eight bar heights, lowest first, for the rounds chart.
    public var bars: [String]

    public static let unicode = Glyphs(
        correct: "✓", wrong: "✗", running: "⟳", failed: "!", unknown: "?",
        firstError: "✗", bad: "−", neutral: "○", good: "+", note: "✎",
        pointer: "◀", cursor: "▌", vertical: "│", horizontal: "─", hidden: "·", ellipsis: "…",
        disagree: "≠", agree: "=", selectedRow: "▸",
        bars: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"])

    public static let ascii = Glyphs(
        correct: "+", wrong: "x", running: "~", failed: "!", unknown: "?",
        firstError: "X", bad: "-", neutral: "0", good: "+", note: "*",
        pointer: "<", cursor: "|", vertical: "|", horizontal: "-", hidden: ".", ellipsis: "~",
        disagree: "#", agree: "=", selectedRow: ">",
        bars: ["_", ".", ":", "-", "=", "+", "*", "#"])

    public static func forState(_ ascii: Bool) -> Glyphs { ascii ? .ascii : .unicode }
}
