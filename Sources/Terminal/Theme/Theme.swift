import Foundation

/// A colour as a theme file writes it.
public enum ThemeColor: Equatable, Sendable {
    /// The terminal's own foreground or background.
    case terminalDefault
    /// One of the 16 ANSI colours (0–7 normal, 8–15 bright).
    case ansi(Int)
    /// A 256-colour palette index.
    case indexed(Int)
    case rgb(UInt8, UInt8, UInt8)

    static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// Reads `default`, a colour name (`red`, `bright-red`, `gray`), `#RRGGBB`, or `0`–`255`.
    public init?(parsing word: String) {
        let w = word.lowercased()
        if w == "default" || w == "none" { self = .terminalDefault; return }
        if let i = ThemeColor.names.firstIndex(of: w) { self = .ansi(i); return }
        if w.hasPrefix("bright-"), let i = ThemeColor.names.firstIndex(of: String(w.dropFirst(7))) { self = .ansi(i + 8); return }
        if w == "gray" || w == "grey" { self = .ansi(8); return }
        if w.hasPrefix("#"), w.count == 7, let v = UInt32(w.dropFirst(), radix: 16) {
            self = .rgb(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
            return
        }
        if let n = Int(w), (0...255).contains(n) { self = .indexed(n); return }
        return nil
    }
}

public struct ThemeAttributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = ThemeAttributes(rawValue: 1)
    public static let dim = ThemeAttributes(rawValue: 2)
    public static let underline = ThemeAttributes(rawValue: 4)
    public static let reverse = ThemeAttributes(rawValue: 8)
    public static let italic = ThemeAttributes(rawValue: 16)

    static let names: [String: ThemeAttributes] = [
        "bold": .bold, "dim": .dim, "underline": .underline, "reverse": .reverse, "italic": .italic,
    ]
}

public struct ThemeStyle: Equatable, Sendable {
    public var foreground: ThemeColor
    public var background: ThemeColor
    public var attributes: ThemeAttributes

    public init(_ foreground: ThemeColor, _ background: ThemeColor, _ attributes: ThemeAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }
}

/// A bad theme line: names the file and the line.
public struct ThemeError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var message: String

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// How every `StyleID` looks. A theme file has one `key = fg bg [attributes…]` per line; `#`
/// starts a comment line; keys a file leaves out keep the built-in default's style.
public struct Theme: Equatable, Sendable {
    public var name: String
    public var styles: [StyleID: ThemeStyle]

    public subscript(id: StyleID) -> ThemeStyle {
        styles[id] ?? Theme.builtin.styles[id] ?? ThemeStyle(.terminalDefault, .terminalDefault)
    }

    /// Parses theme text. `file` names it in errors; `base` gives the styles of keys left out.
    public static func parse(_ text: String, name: String, file: String, base: Theme? = nil) throws -> Theme {
        var styles = base?.styles ?? [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            func fail(_ m: String) -> ThemeError { ThemeError(file: file, line: n + 1, message: m) }
            guard let eq = line.firstIndex(of: "=") else { throw fail("expected 'key = fg bg [attributes]'") }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard let id = StyleID(rawValue: key) else { throw fail("unknown key '\(key)'") }
            let words = line[line.index(after: eq)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count >= 2 else { throw fail("'\(key)' needs a foreground and a background colour") }
            guard let fg = ThemeColor(parsing: words[0]) else { throw fail("unknown colour '\(words[0])'") }
            guard let bg = ThemeColor(parsing: words[1]) else { throw fail("unknown colour '\(words[1])'") }
            var attrs: ThemeAttributes = []
            for w in words.dropFirst(2) {
                guard let a = ThemeAttributes.names[w.lowercased()] else { throw fail("unknown attribute '\(w)'") }
                attrs.insert(a)
            }
            styles[id] = ThemeStyle(fg, bg, attrs)
        }
        return Theme(name: name, styles: styles)
    }

    /// The default theme, compiled in so the workbench always has one; `Themes/default.theme`
    /// holds the same lines (a test keeps them equal).
    public static let builtin: Theme = {
        // The text is fixed and known good; a failure here is a programming error.
        do { return try parse(builtinText, name: "default", file: "built-in default") } catch {
            preconditionFailure("built-in theme: \(error)")
        }
    }()

    public static let builtinText = """
    # Stepwise default theme (dark terminal). key = foreground background [attributes]
    text = default default
    dim = bright-black default
    header = black cyan bold
    title = white bright-black
    title.focused = black cyan bold
    border = bright-black default
    selected = black cyan bold
    selected.unfocused = default bright-black
    correct = green default bold
    wrong = red default bold
    running = yellow default bold
    failed = magenta default bold
    unknown = bright-black default
    verifier.mc = #5fafff default bold
    verifier.cot-binary = #d7af5f default bold
    verifier.cot-score = #ff8700 default bold
    verifier.tournament = #af87ff default bold
    verifier.critique = #ff5f87 default bold underline
    human.bad = red default bold reverse
    human.good = green default bold
    human.neutral = yellow default
    note = cyan default italic
    label = #87d7ff default underline
    disagree = black yellow bold
    agree = green default
    chart.accuracy = green default
    chart.score = #ff8700 default
    metrics = white #262626
    status = default #262626
    status.key = bright-black #262626
    message = cyan #262626 bold
    error = white red bold
    help = default #303030
    help.key = cyan #303030 bold
    search.match = black yellow
    editor = default #262626
    streaming = yellow default italic
    """

    /// Where theme files are looked for: `$STEPWISE_THEMES`, `./Themes`, the `Themes` folder of
    /// the source tree the executable was built in, `~/.config/stepwise/themes`.
    public static func searchDirectories() -> [URL] {
        var dirs: [URL] = []
        if let env = ProcessInfo.processInfo.environment["STEPWISE_THEMES"], !env.isEmpty {
            dirs.append(URL(fileURLWithPath: env))
        }
        dirs.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Themes"))
        var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            exe = exe.deletingLastPathComponent()
            dirs.append(exe.appendingPathComponent("Themes"))
        }
        dirs.append(FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config/stepwise/themes"))
        return dirs
    }

    /// Loads a theme by name (`light` → `light.theme` in the search directories) or by path.
    /// `default` without a file is the built-in theme.
    public static func load(_ nameOrPath: String, directories: [URL] = Theme.searchDirectories()) throws -> Theme {
        let url: URL?
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".theme") {
            url = URL(fileURLWithPath: nameOrPath)
        } else {
            url = directories.map { $0.appendingPathComponent(nameOrPath + ".theme") }
                .first { FileManager.default.fileExists(atPath: $0.path) }
        }
        guard let url else {
            if nameOrPath == "default" { return builtin }
            throw ThemeError(file: nameOrPath + ".theme", line: 0, message: "no such theme (looked in \(directories.map(\.path).joined(separator: ", ")))")
        }
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ThemeError(file: url.path, line: 0, message: "cannot read: \(error.localizedDescription)")
        }
        let name = url.deletingPathExtension().lastPathComponent
        return try parse(text, name: name, file: url.path, base: builtin)
    }
}
