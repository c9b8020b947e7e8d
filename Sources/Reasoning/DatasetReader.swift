import Foundation

/// Dataset import: the one API the command line and the workbench call.
///
///     let data = try DatasetReader.read(format: .gsm8kSolutions, url: fileURL)        // lenient
///     let data = try DatasetReader.read(format: .bigBenchMistake, url: fileURL, strict: true)
///     let sudoku = Sudoku4.builtinSet()                                               // 288 puzzles
///
/// Every reader returns an `ImportedDataset`: problems, the solutions the file carries (graded
/// with `Grader`, so `Solution.grade` is our verdict and `Solution.labelledCorrect` the
/// dataset's, when it has one), the labels it carries as step `Annotation`s whose `source` is
/// the format's name, and `issues` — the records it skipped.
///
/// Formats (`DatasetFormat`, raw values as typed on the command line):
///
/// | format | file | problems (kind) | solutions | labels |
/// | --- | --- | --- | --- | --- |
/// | `gsm8k` | jsonl `{question, answer}` | `gsm8k-<stem>-<n>` (gsm8k) | — | — |
/// | `math` | jsonl `{problem, solution, level?, type?, answer?}` | `math-<stem>-<n>` (math) | — | — |
/// | `gsm8k-solutions` | jsonl `{question, ground_truth, <system>: {is_correct, solution}}` | `gsm8k-test-<n>` (gsm8k) | one per system, `<problem>/<system>` | `is_correct` → `labelledCorrect` |
/// | `big-bench-mistake` | jsonl `{input, steps[], answer, target, mistake_index}` | `bbm-<stem>-<n>` (freeform, reference = target) | one, `<problem>/big-bench-mistake` | first mistake |
/// | `processbench` | JSON array `{id, generator, problem, steps[], final_answer_correct, label}` | `processbench-<id>` (math, no reference) | one, `<problem>/<generator>` | first error (−1 = none); `final_answer_correct` → `labelledCorrect` |
/// | `prm800k` | jsonl `{question: {problem, ground_truth_answer}, label: {steps, finish_reason}}` | `prm800k-<stem>-<n>` (math; the first line with that problem) | one per line, `prm800k-<stem>-<n>/prm800k` | per-step ratings |
///
/// Imported step lists are kept as given. PRM800K's solution is the path the labeller took:
/// each step's chosen completion, else its human completion, else (where labelling stopped)
/// the completion rated −1, else the first.
///
/// Each file may be JSON lines or a single JSON array of the same records (detected from its
/// first character); in an array, "line" means the line where a record starts. A UTF-8
/// byte-order mark and CRLF line ends are accepted.
///
/// `<n>` is the record's 0-based line number in its file (its element number in a JSON array)
/// and `<stem>` the file name without its extension, so ids are the same on every import:
/// `gsm8k/test.jsonl` line 0 is `gsm8k-test-0`, and the example model solutions, which follow
/// test.jsonl line for line, use the same ids.
///
/// First-error labels become annotations: a first mistake at step i rates steps 0..<i `.good`
/// and step i `.bad` with `firstError`; "no mistake" (null, −1) rates every step `.good`.
/// PRM800K's own −1/0/+1 ratings are kept per step, its first −1 also marked `firstError`, and
/// its `finish_reason` is the note on the last step's annotation. `FirstErrorLabel.from`
/// turns these back into the dataset's index. Labels carry a fixed time (the Unix epoch): a
/// dataset does not say when it was labelled, and imports stay reproducible.
///
/// Errors: a record that cannot be used (not JSON, invalid UTF-8, a missing field, a wrong
/// type, a label out of range, a blank line) becomes a `DatasetIssue` whose one-line
/// description names file, line and field, e.g. `test.jsonl:12: field 'answer': expected a
/// string, found a number`. Lenient reading (`strict: false`) skips it and goes on; strict
/// reading throws the first one. Either way a file that yields no problem at all (empty, or
/// every record bad) throws. Nothing read from a file can crash the reader.
public enum DatasetFormat: String, CaseIterable, Sendable, Codable {
    case gsm8k
    case math
    case gsm8kSolutions = "gsm8k-solutions"
    case bigBenchMistake = "big-bench-mistake"
    case processbench
    case prm800k
}

public enum DatasetReader {
    /// The time given to labels that come from a dataset.
    public static let labelTime = Date(timeIntervalSince1970: 0)

    /// Reads a dataset file. Throws a `DatasetIssue` when the file cannot be read, is empty,
    /// yields nothing, or (strict) has any bad record.
    public static func read(format: DatasetFormat, url: URL, strict: Bool = false) throws -> ImportedDataset {
        let bytes = try JSONRecords.load(url)
        return try read(format: format, bytes: bytes, fileName: url.lastPathComponent, strict: strict)
    }

    /// Reads a dataset from memory; `fileName` names it in ids and messages.
    public static func read(format: DatasetFormat, data: Data, fileName: String, strict: Bool = false) throws -> ImportedDataset {
        try read(format: format, bytes: Array(data), fileName: fileName, strict: strict)
    }

    static func read(format: DatasetFormat, bytes: [UInt8], fileName: String, strict: Bool) throws -> ImportedDataset {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            throw DatasetIssue(file: fileName, line: 1, message: "the file is empty")
        }
        var cutting: [DatasetIssue] = []
        // Either shape is accepted for every format: JSON lines, or one JSON array of records
        // (ProcessBench ships arrays; Hugging Face exports of the others can be either).
        let firstByte = bytes.first(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 >= 0x80) })
        let chunks = firstByte == UInt8(ascii: "[")
            ? JSONRecords.arrayElements(bytes, file: fileName, issues: &cutting)
            : JSONRecords.lines(bytes, file: fileName, issues: &cutting)
        var importer = RecordImporter(format: format, file: fileName)
        var issues: [DatasetIssue] = []
        var pending = cutting.sorted { $0.line < $1.line }[...]
        for chunk in chunks {
            // Issues found while cutting the file (blank lines) come in line order with the rest.
            while let first = pending.first, first.line < chunk.line {
                if strict { throw first }
                issues.append(first)
                pending = pending.dropFirst()
            }
            do {
                try importer.add(try JSONRecords.object(chunk, file: fileName))
            } catch let issue as DatasetIssue {
                if strict { throw issue }
                issues.append(issue)
            }
        }
        if strict, let first = pending.first { throw first }
        issues.append(contentsOf: pending)
        var result = importer.dataset
        result.issues = issues
        if result.problems.isEmpty {
            if let first = issues.first {
                let more = issues.count > 1 ? " (and \(issues.count - 1) more bad records)" : ""
                throw DatasetIssue(file: first.file, line: first.line, field: first.field,
                                   message: first.message + "; no record could be read" + more)
            }
            throw DatasetIssue(file: fileName, line: 1, message: "no records found")
        }
        return result
    }

    /// The annotations that say "the first mistake is step `firstMistake`" (nil: no mistake)
    /// about a solution of `stepCount` steps.
    public static func firstMistakeAnnotations(solutionID: String, stepCount: Int, firstMistake: Int?,
                                               source: String) -> [Annotation] {
        let goodSteps = firstMistake.map { min($0, stepCount) } ?? stepCount
        var out = (0..<goodSteps).map {
            Annotation(solutionID: solutionID, stepIndex: $0, rating: .good, time: labelTime, source: source)
        }
        if let i = firstMistake, i >= 0, i < stepCount {
            out.append(Annotation(solutionID: solutionID, stepIndex: i, rating: .bad, firstError: true,
                                  time: labelTime, source: source))
        }
        return out
    }
}

/// Turns records into problems, solutions and annotations, one record at a time. A record is
/// checked completely before anything from it is kept, so a bad record leaves no trace.
struct RecordImporter {
    let format: DatasetFormat
    let file: String
    /// The file name without `.jsonl` / `.json`.
    let stem: String
    var dataset = ImportedDataset()
    /// PRM800K: problem text → its problem, so the many solutions of one problem share it.
    var problemByText: [String: Problem] = [:]

    init(format: DatasetFormat, file: String) {
        self.format = format
        self.file = file
        var s = file
        for ext in [".jsonl", ".json"] where s.hasSuffix(ext) { s = String(s.dropLast(ext.count)) }
        self.stem = s
    }

    var source: String { "\(format.rawValue):\(file)" }

    mutating func add(_ r: JSONRecord) throws {
        switch format {
        case .gsm8k: try addGSM8K(r)
        case .math: try addMath(r)
        case .gsm8kSolutions: try addGSM8KSolutions(r)
        case .bigBenchMistake: try addBigBenchMistake(r)
        case .processbench: try addProcessBench(r)
        case .prm800k: try addPRM800K(r)
        }
    }

    /// The record's 0-based line (element number in a JSON array), used in ids.
    func index(_ r: JSONRecord) -> Int { r.position }
}
