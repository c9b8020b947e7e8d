/// Every subcommand, in the order `stepwise --help` lists them.
enum CommandRegistry {
    static let all: [Command] = [
        ImportCommand.command,
        RunCommand.command,
        ReportCommand.command,
        ArithDataCommand.command,
        ExportCommand.command,
        TUICommand.command,
        BenchUICommand.command,
        ModelInfoCommand.command,
        TokenizeCommand.command,
        GenerateCommand.command,
        BenchCommand.command,
        SelftestCommand.command,
    ]

    static func find(_ name: String) -> Command? {
        all.first { $0.name == name }
    }
}
