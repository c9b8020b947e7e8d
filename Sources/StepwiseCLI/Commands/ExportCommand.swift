import Foundation
import Journal

/// `stepwise export SESSION --format F`: labels, critiques and attempts in other tools' shapes.
enum ExportCommand {
    static let formats = ExportFormat.allCases.map(\.rawValue)

    static let command = Command(
        name: "export",
        summary: "write a session's labels, critiques and attempts as PRM800K, ProcessBench, JSONL or STV pairs",
        help: """
        Usage: stepwise export SESSION --format \(formats.joined(separator: "|")) [--out FILE] [--labels SOURCE]

        Formats:
          prm800k       per-step ratings, one labelled solution per line (PRM800K's shape)
          processbench  a JSON array with each labelled solution's earliest wrong step, or −1
          jsonl         every solution with its steps, grade, critiques and annotations
          stv           one record per attempt: problem, attempt, blind critique, informed
                        critique and ground truth (self-trained verification pairs)

        Options:
          --out FILE       where to write (default: standard output)
          --labels SOURCE  which annotations are labels: auto (default: human where a solution
                           has any, otherwise the dataset's), human, or a dataset source name
        """,
        run: run
    )

    static func run(_ argv: [String]) throws -> Int32 {
        let args = try Arguments(argv, command: "export", valued: ["format", "out", "labels"])
        let path = try args.positional(0, "SESSION")
        try args.expectPositionals(atMost: 1)
        guard let name = args.value("format") else {
            throw CLIError.usage("missing --format (\(formats.joined(separator: "|")))", command: "export")
        }
        guard let format = ExportFormat(rawValue: name) else {
            throw CLIError.usage("unknown format '\(name)'; use one of: \(formats.joined(separator: ", "))", command: "export")
        }
        let state = try SessionFiles.load(path)
        let result = try SessionExport.export(state, format: format, labels: LabelSource(args.value("labels") ?? "auto"))
        if let out = args.value("out") {
            do {
                try result.data.write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                throw CLIError.failure("\(out): cannot write: \((error as NSError).localizedDescription)")
            }
            console.err("wrote \(result.written) records to \(out)"
                + (result.unlabelled > 0 ? " (\(result.unlabelled) unlabelled solutions left out)" : ""))
        } else {
            FileHandle.standardOutput.write(result.data)
            if result.unlabelled > 0 { console.err("stepwise: \(result.unlabelled) unlabelled solutions left out") }
        }
        return 0
    }
}
