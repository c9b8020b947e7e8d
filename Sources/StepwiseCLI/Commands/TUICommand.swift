import Foundation
import Terminal

/// `stepwise tui [SESSION] [--theme NAME]`: the workbench on a session journal (the newest in
/// Sessions/ when none is named), following the file while another process appends to it.
enum TUICommand {
    static let command = Command(
        name: "tui",
        summary: "open the terminal workbench on a session (default: the newest in Sessions/)",
        help: """
        Usage: stepwise tui [SESSION] [--theme NAME] [--no-follow]

        Opens the workbench on SESSION (a journal, e.g. Sessions/run.jsonl), or on the most
        recently modified journal in Sessions/. Annotations you make are appended to the
        journal and flushed at once. Press ? inside for every key.

        Options:
          --theme NAME   default, light, high-contrast, mono, or a path to a .theme file
                         (looked up in $STEPWISE_THEMES, ./Themes, ~/.config/stepwise/themes)
          --no-follow    do not watch the journal for events another process appends
        Environment:
          NO_COLOR       when set and not empty, no colours (bold, reverse, underline stay)
        """,
        run: run
    )

    static func run(_ argv: [String]) throws -> Int32 {
        let args = try Arguments(argv, command: "tui", valued: ["theme"], flags: ["no-follow"])
        try args.expectPositionals(atMost: 1)
        let url: URL
        if let path = args.positionals.first {
            url = URL(fileURLWithPath: path)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw CLIError.badInput("\(path): no such session file")
            }
        } else {
            guard let newest = SessionFiles.newest() else {
                throw CLIError.usage("no sessions in \(SessionFiles.directory.path); name one, or create one with 'stepwise import'",
                                     command: "tui")
            }
            url = newest
        }
        let options = Workbench.Options(session: url, theme: args.value("theme") ?? "default", follow: !args.flag("no-follow"))
        let workbench = try readingInput { try Workbench(options) }
        do {
            try workbench.run()
        } catch let e as TerminalError {
            throw CLIError.failure(e.description)
        }
        return 0
    }
}
