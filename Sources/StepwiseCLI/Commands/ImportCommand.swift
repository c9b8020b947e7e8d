import Foundation
import Journal
import Reasoning

/// `stepwise import FORMAT FILE`: a dataset into a new session journal.
enum ImportCommand {
    static let formats = DatasetFormat.allCases.map(\.rawValue)

    static let command = Command(
        name: "import",
        summary: "import a dataset (or the built-in 4×4 Sudoku set) into a new session",
        help: """
        Usage: stepwise import FORMAT FILE [--out Sessions/NAME.jsonl] [--strict]
               stepwise import sudoku4 [--out Sessions/NAME.jsonl]

        Reads a dataset into a new session journal under Sessions/. Solutions that come with the
        dataset are graded against its reference answers; labels it carries (first-mistake
        indices, step ratings) become annotations naming the dataset as their source.

        FORMAT: \(formats.joined(separator: ", ")), or sudoku4 (the built-in set: 288 puzzles,
                one per valid 4×4 grid, clues removed while the solution stays unique)

        Options:
          --out PATH   the session file to write (default: Sessions/<file name>.jsonl, never
                       overwriting an existing one)
          --strict     stop at the first malformed record instead of skipping it

        A malformed record is reported as FILE:LINE: field: problem. Without --strict the other
        records are imported and the exit code is 2 when any record was skipped.
        """,
        run: run
    )

    static func run(_ argv: [String]) throws -> Int32 {
        let args = try Arguments(argv, command: "import", valued: ["out"], flags: ["strict"])
        let formatName = try args.positional(0, "FORMAT (one of: \(formats.joined(separator: ", ")), sudoku4)")
        let dataset: ImportedDataset
        let sourceName: String
        var stem: String
        if formatName == "sudoku4" {
            try args.expectPositionals(atMost: 1)
            dataset = Sudoku4.builtinSet()
            sourceName = "builtin:sudoku4"
            stem = "sudoku4"
        } else {
            guard let format = DatasetFormat(rawValue: formatName) else {
                throw CLIError.usage("unknown format '\(formatName)'; use one of: \(formats.joined(separator: ", ")), sudoku4", command: "import")
            }
            let path = try args.positional(1, "FILE")
            try args.expectPositionals(atMost: 2)
            let url = URL(fileURLWithPath: path)
            dataset = try readingInput { try DatasetReader.read(format: format, url: url, strict: args.flag("strict")) }
            sourceName = path
            stem = url.deletingPathExtension().lastPathComponent
            if stem != formatName && !stem.hasPrefix(formatName) { stem = "\(formatName)-\(stem)" }
        }
        for issue in dataset.issues { console.err("stepwise: skipped \(issue)") }
        guard !dataset.problems.isEmpty else {
            throw CLIError.badInput("\(sourceName): no problems could be read")
        }

        let out = args.value("out").map { URL(fileURLWithPath: $0) } ?? SessionFiles.freshPath(stem: stem)
        let header = JournalHeader(dataset: sourceName, settings: ["imported": formatName])
        var events: [SessionEvent] = dataset.problems.map { .problemLoaded($0) }
        events += dataset.solutions.map { .solutionAdded($0) }
        events += dataset.annotations.map { .annotationAdded($0) }
        try SessionFiles.create(at: out, header: header, events: events)
        let generators = Set(dataset.solutions.map(\.origin.label)).sorted()
        console.out("imported \(dataset.problems.count) problems, \(dataset.solutions.count) solutions"
            + (generators.isEmpty ? "" : " (\(generators.joined(separator: ", ")))")
            + ", \(dataset.annotations.count) labels → \(out.relativePath)")
        if !dataset.issues.isEmpty {
            console.err("stepwise: \(dataset.issues.count) malformed record(s) skipped; the rest were imported")
            return 2
        }
        return 0
    }
}
