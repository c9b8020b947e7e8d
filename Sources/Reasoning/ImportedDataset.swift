import Foundation

/// What a dataset reader produces: problems, the solutions that came with them (already graded
/// with `Grader`), the labels they carried as annotations, and the records it had to skip.
public struct ImportedDataset: Sendable, Hashable {
    public var problems: [Problem]
    public var solutions: [Solution]
    public var annotations: [Annotation]
    /// Records that could not be read; each names its file, line and field.
    public var issues: [DatasetIssue]

    public init(problems: [Problem] = [], solutions: [Solution] = [], annotations: [Annotation] = [],
                issues: [DatasetIssue] = []) {
        self.problems = problems
        self.solutions = solutions
        self.annotations = annotations
        self.issues = issues
    }
}

/// One record a reader could not use. Its description is a single line: `file:line: field: message`.
public struct DatasetIssue: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// The file's name (last path component), as shown to people.
    public var file: String
    /// 1-based line number (for a JSON array: the line where the element starts); 0 when the
    /// file as a whole is at fault.
    public var line: Int
    /// The JSON path of the field at fault (`answer`, `label.steps[2].completions`), or nil when
    /// the record as a whole is at fault (not JSON, blank line, …).
    public var field: String?
    public var message: String

    public init(file: String, line: Int, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        // Line 0 means the file as a whole (it could not be read at all).
        let place = line > 0 ? "\(file):\(line)" : file
        let text = DatasetIssue.oneLine(message)
        if let field { return "\(place): field '\(field)': \(text)" }
        return "\(place): \(text)"
    }

    public var errorDescription: String? { description }

    /// Keeps an error message to one short line (a 10 MB bad line must not be echoed back).
    static func oneLine(_ s: String, limit: Int = 200) -> String {
        let flat = s.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if flat.count <= limit { return flat }
        return String(flat.prefix(limit)) + "…"
    }
}
