import Foundation
import Journal
import Reasoning
import Terminal

/// `stepwise tui [SESSION] [--theme NAME]`: the workbench on a session journal (the newest in
/// Sessions/ when none is named), following the file while another process appends to it.
/// With `--model`, the workbench runs the refinement loop live (`LiveRun`).
enum TUICommand {
    static let command = Command(
        name: "tui",
        summary: "open the terminal workbench on a session (default: the newest in Sessions/)",
        help: """
        Usage: stepwise tui [SESSION] [--theme NAME] [--no-follow]
               stepwise tui --model PATH --dataset FILE|builtin:NAME [run options] [--theme NAME]
               stepwise tui --endpoint URL --served-model NAME --dataset … [run options] [--theme NAME]

        Opens the workbench on SESSION (a journal, e.g. Sessions/run.jsonl), or on the most
        recently modified journal in Sessions/. Annotations you make are appended to the
        journal and flushed at once. Press ? inside for every key. With no session at all, the
        held-out builtin:arith problems are imported into Sessions/arith.jsonl and opened.

        With --model, runs the verification–refinement loop live inside the workbench (the
        options of 'stepwise run'): s samples more, v verifies the selection, r refines it one
        round, R runs the problem to the round limit, Space pauses and resumes. With
        --endpoint URL --served-model NAME (and --concurrency N, --chat), the same on an
        OpenAI-compatible server instead of a local model; see 'stepwise help run'.

        Options:
          --theme NAME   default, light, high-contrast, mono, or a path to a .theme file
          --autorun      with --model/--endpoint: queue every problem to the round limit at
                         once, instead of waiting for R
                         (looked up in $STEPWISE_THEMES, ./Themes, ~/.config/stepwise/themes)
          --no-follow    do not watch the journal for events another process appends
        Environment:
          NO_COLOR       when set and not empty, no colours (bold, reverse, underline stay)
        """,
        run: run
    )

    static func run(_ argv: [String]) throws -> Int32 {
        if argv.contains(where: { $0 == "--model" || $0.hasPrefix("--model=") || $0 == "--endpoint" || $0.hasPrefix("--endpoint=") }) {
            return try LiveRun.workbench(argv)
        }
        let args = try Arguments(argv, command: "tui", valued: ["theme"], flags: ["no-follow"])
        try args.expectPositionals(atMost: 1)
        let url: URL
        if let path = args.positionals.first {
            url = URL(fileURLWithPath: path)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw CLIError.badInput("\(path): no such session file")
            }
        } else {
            url = try SessionFiles.newest() ?? starterSession()
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

    /// A first session for a fresh checkout: the held-out builtin:arith problems with their
    /// reference solutions, so the workbench opens on something real.
    static func starterSession() throws -> URL {
        let url = SessionFiles.directory.appendingPathComponent("arith.jsonl")
        let set = ArithTask.builtinSet(split: .test, count: 500)
        let header = JournalHeader(dataset: ArithTask.source, settings: ["imported": "builtin:arith"])
        try SessionFiles.create(at: url, header: header, events: set.problems.map { .problemLoaded($0) })
        return url
    }
}
