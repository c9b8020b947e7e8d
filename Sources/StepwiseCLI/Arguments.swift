import Foundation

/// A small parser for `stepwise SUBCOMMAND [options] [arguments]`: `--name value`,
/// `--name=value`, boolean `--flag`, `-h`/`--help`, and positionals. Each command declares the
/// options it takes; anything else is a usage error (exit 2) rather than silently ignored.
public struct Arguments {
    public private(set) var positionals: [String] = []
    private var values: [String: [String]] = [:]
    private var flags: Set<String> = []
    public let command: String

    /// - Parameters:
    ///   - valued: option names (without `--`) that take a value.
    ///   - flags: option names that take none.
    public init(_ args: [String], command: String, valued: Set<String>, flags flagNames: Set<String> = []) throws {
        self.command = command
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" || Double(a) != nil {
                positionals.append(a)
                continue
            }
            if a == "--" { onlyPositionals = true; continue }
            if a == "-h" || a == "--help" { flags.insert("help"); continue }
            guard a.hasPrefix("--") else { throw CLIError.usage("unknown option '\(a)'", command: command) }
            var name = String(a.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if valued.contains(name) {
                if let v = inline {
                    values[name, default: []].append(v)
                } else {
                    guard i < args.count else { throw CLIError.usage("option --\(name) needs a value", command: command) }
                    values[name, default: []].append(args[i])
                    i += 1
                }
            } else if flagNames.contains(name) {
                guard inline == nil else { throw CLIError.usage("option --\(name) takes no value", command: command) }
                flags.insert(name)
            } else {
                throw CLIError.usage("unknown option '--\(name)'", command: command)
            }
        }
    }

    public var wantsHelp: Bool { flags.contains("help") }

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The last value given for an option.
    public func value(_ name: String) -> String? { values[name]?.last }

    /// Every value given for a repeatable option, comma lists split.
    public func list(_ name: String) -> [String] {
        (values[name] ?? []).flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty }
    }

    public func int(_ name: String) throws -> Int? {
        guard let v = value(name) else { return nil }
        guard let n = Int(v) else { throw CLIError.usage("--\(name) needs a whole number, got '\(v)'", command: command) }
        return n
    }

    public func double(_ name: String) throws -> Double? {
        guard let v = value(name) else { return nil }
        guard let d = Double(v), d.isFinite else { throw CLIError.usage("--\(name) needs a number, got '\(v)'", command: command) }
        return d
    }

    public func ints(_ name: String) throws -> [Int] {
        try list(name).map { v in
            guard let n = Int(v) else { throw CLIError.usage("--\(name) needs whole numbers, got '\(v)'", command: command) }
            return n
        }
    }

    /// The positional at `index`, or a usage error naming what is missing.
    public func positional(_ index: Int, _ what: String) throws -> String {
        guard index < positionals.count else { throw CLIError.usage("missing \(what)", command: command) }
        return positionals[index]
    }

    /// Fails when more positionals were given than the command takes.
    public func expectPositionals(atMost n: Int) throws {
        if positionals.count > n {
            throw CLIError.usage("unexpected argument '\(positionals[n])'", command: command)
        }
    }
}
