import Foundation

/// The `stepwise` command line.
public enum CLI {
    public static let version = "0.1.0"

    /// Runs `stepwise` with `args` (without the program name) and returns the exit code:
    /// 0 success, 1 runtime failure, 2 bad usage or bad input.
    public static func run(_ args: [String], console out: Console = .standard) -> Int32 {
        console = out
        defer { console = .standard }
        do {
            return try dispatch(args)
        } catch let e as CLIError {
            out.err("stepwise: \(e.description)")
            return e.exitCode
        } catch {
            out.err("stepwise: \(oneLine(error))")
            return 1
        }
    }

    static func dispatch(_ args: [String]) throws -> Int32 {
        guard let first = args.first else {
            return try defaultAction()
        }
        switch first {
        case "--help", "-h":
            console.out(usage)
            return 0
        case "--version", "-V", "version":
            console.out("stepwise \(version)")
            return 0
        case "help":
            guard args.count > 1 else { console.out(usage); return 0 }
            guard let cmd = CommandRegistry.find(args[1]) else {
                throw CLIError.usage("no command '\(args[1])'", command: nil)
            }
            console.out(cmd.help)
            return 0
        default:
            guard let cmd = CommandRegistry.find(first) else {
                throw CLIError.usage("no command '\(first)'", command: nil)
            }
            let rest = Array(args.dropFirst())
            if rest.contains("--help") || rest.contains("-h") {
                console.out(cmd.help)
                return 0
            }
            return try cmd.run(rest)
        }
    }

    /// `stepwise` with no arguments: the workbench running the loop live on `builtin:arith` with
    /// the demo model Stepwise ships (`DemoModel`); without that model folder (a binary away
    /// from its checkout), the workbench on the newest session.
    static func defaultAction() throws -> Int32 {
        if let model = DemoModel.locate() {
            return try LiveRun.workbench(DemoModel.liveArguments(model: model))
        }
        if let tui = CommandRegistry.find("tui") {
            return try tui.run([])
        }
        console.out(usage)
        return 0
    }

    static var usage: String {
        let width = (CommandRegistry.all.map(\.name.count).max() ?? 8) + 2
        let list = CommandRegistry.all.map { "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + $0.summary }
        return """
        stepwise \(version) — a workbench for how a language model checks and repairs its own reasoning

        Usage: stepwise [COMMAND] [OPTIONS]
               stepwise help COMMAND

        Commands:
        \(list.joined(separator: "\n"))

        Options:
          -h, --help     show this help (or a command's, after its name)
          -V, --version  print the version

        Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input.
        """
    }
}
