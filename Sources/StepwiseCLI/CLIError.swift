import Foundation

/// Errors the command line turns into an exit code and one line on standard error.
public enum CLIError: Error, CustomStringConvertible {
    /// Wrong arguments: exit 2, with a pointer to the command's help.
    case usage(String, command: String?)
    /// A file or value that cannot be used (corrupt model, malformed dataset, torn journal
    /// header…): exit 2. The message already names the file and the place.
    case badInput(String)
    /// Something failed while running: exit 1.
    case failure(String)

    public var description: String {
        switch self {
        case .usage(let m, let c):
            return "\(m) (see 'stepwise help\(c.map { " \($0)" } ?? "")')"
        case .badInput(let m), .failure(let m):
            return m
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .usage, .badInput: return 2
        case .failure: return 1
        }
    }
}

/// Runs `body`, turning any error it throws into bad input (exit 2): for reading files the
/// user named, where every failure is a problem with that file.
func readingInput<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as CLIError {
        throw e
    } catch {
        throw CLIError.badInput(oneLine(error))
    }
}

/// An error's description on one line.
func oneLine(_ error: Error) -> String {
    String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
}
