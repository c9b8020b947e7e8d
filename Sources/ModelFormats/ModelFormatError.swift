import Foundation

/// Every problem found while reading a model file.
///
/// `description` is always one line: `"<file>: <what> (at offset N / tensor NAME / key KEY)"`,
/// so a command line tool can print it as it is and exit 2.
public struct ModelFormatError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where in the file the problem is, when it can be pinned down.
    public enum Place: Sendable, Equatable {
        case none
        case offset(Int)
        case tensor(String)
        case key(String)
        case field(String)
    }

    /// The file (or folder) being read, as given by the caller.
    public let file: String
    /// What is wrong, in a few words.
    public let what: String
    public let place: Place

    public init(file: String, _ what: String, _ place: Place = .none) {
        self.file = file
        self.what = what
        self.place = place
    }

    public var description: String {
        // Keep it one line whatever the inputs contain.
        let clean = { (s: String) in s.replacingOccurrences(of: "\n", with: "\\n") }
        let suffix: String
        switch place {
        case .none: suffix = ""
        case .offset(let o): suffix = " (at offset \(o))"
        case .tensor(let n): suffix = " (tensor \(clean(n)))"
        case .key(let k): suffix = " (key \(clean(k)))"
        case .field(let f): suffix = " (field \(clean(f)))"
        }
        return "\(file): \(clean(what))\(suffix)"
    }
}
