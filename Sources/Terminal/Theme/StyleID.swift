/// Every kind of thing the workbench draws, each styled by one theme line. The raw value is the
/// key used in `Themes/*.theme`; `code` is the one-letter name used in snapshot files.
public enum StyleID: String, CaseIterable, Sendable, Hashable {
    case text
    case dim
    case header
    case title
    case titleFocused = "title.focused"
    case border
    case selected
    case selectedUnfocused = "selected.unfocused"
    case correct
    case wrong
    case running
    case failed
    case unknown
    case verifierMC = "verifier.mc"
    case verifierCoTBinary = "verifier.cot-binary"
    case verifierCoTScore = "verifier.cot-score"
    case verifierTournament = "verifier.tournament"
    case verifierCritique = "verifier.critique"
    case humanBad = "human.bad"
    case humanGood = "human.good"
    case humanNeutral = "human.neutral"
    case note
    case label
    case disagree
    case agree
    case chartAccuracy = "chart.accuracy"
    case chartScore = "chart.score"
    case metrics
    case status
    case statusKey = "status.key"
    case message
    case error
    case help
    case helpKey = "help.key"
    case searchMatch = "search.match"
    case editor
    case streaming

    /// One character per style for text snapshots of a rendered grid.
    public var code: Character {
        switch self {
        case .text: return "."
        case .dim: return "d"
        case .header: return "H"
        case .title: return "t"
        case .titleFocused: return "T"
        case .border: return "|"
        case .selected: return "S"
        case .selectedUnfocused: return "s"
        case .correct: return "C"
        case .wrong: return "W"
        case .running: return "R"
        case .failed: return "F"
        case .unknown: return "u"
        case .verifierMC: return "1"
        case .verifierCoTBinary: return "2"
        case .verifierCoTScore: return "3"
        case .verifierTournament: return "4"
        case .verifierCritique: return "5"
        case .humanBad: return "x"
        case .humanGood: return "+"
        case .humanNeutral: return "0"
        case .note: return "n"
        case .label: return "L"
        case .disagree: return "!"
        case .agree: return "="
        case .chartAccuracy: return "a"
        case .chartScore: return "c"
        case .metrics: return "m"
        case .status: return "_"
        case .statusKey: return "k"
        case .message: return "g"
        case .error: return "E"
        case .help: return "h"
        case .helpKey: return "K"
        case .searchMatch: return "/"
        case .editor: return "e"
        case .streaming: return "~"
        }
    }

    /// The style a verifier's marks are drawn in.
    public static func verifier(_ kind: String) -> StyleID {
        switch kind {
        case "mc": return .verifierMC
        case "cot-binary": return .verifierCoTBinary
        case "cot-score": return .verifierCoTScore
        case "tournament": return .verifierTournament
        default: return .verifierCritique
        }
    }
}
