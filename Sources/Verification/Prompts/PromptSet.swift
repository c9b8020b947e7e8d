import Foundation

/// The prompts a run uses, by name: the built-in defaults, each replaceable by a file
/// `NAME.txt` in a folder given with `--prompts DIR`. Every template is checked against the
/// slots its use fills when the set is loaded, so a typo fails before any sampling starts.
public struct PromptSet: Sendable {
    public private(set) var templates: [String: PromptTemplate]
    /// Names whose text came from the user's folder.
    public private(set) var overridden: Set<String> = []

    /// The built-in prompts.
    public static let builtin = PromptSet(templates: Dictionary(uniqueKeysWithValues:
        DefaultPrompts.all.map { ($0.name, PromptTemplate(name: $0.name, text: $0.text)) }))

    init(templates: [String: PromptTemplate]) {
        self.templates = templates
    }

    /// The built-in prompts with those in `directory` (files `NAME.txt`) put in their place.
    /// A file whose name is not a known prompt, or that uses a slot its prompt does not fill,
    /// is an error naming the file.
    public static func load(overridesIn directory: URL?) throws -> PromptSet {
        var set = builtin
        guard let directory else { return set }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".txt") }.sorted()
        } catch {
            throw PromptError.unreadable(path: directory.path, reason: (error as NSError).localizedDescription)
        }
        for file in names {
            let name = String(file.dropLast(4))
            let path = directory.appendingPathComponent(file)
            guard let slots = DefaultPrompts.slots[name] else {
                throw PromptError.unreadable(path: path.path, reason: "no prompt is named '\(name)'; known: \(DefaultPrompts.slots.keys.sorted().joined(separator: ", "))")
            }
            let text: String
            do {
                text = try String(contentsOf: path, encoding: .utf8)
            } catch {
                throw PromptError.unreadable(path: path.path, reason: "not UTF-8 text")
            }
            let template = PromptTemplate(name: name, text: text)
            try template.validate(allowed: slots, file: path.path)
            set.templates[name] = template
            set.overridden.insert(name)
        }
        return set
    }

    public subscript(name: String) -> PromptTemplate? { templates[name] }

    /// Renders the prompt `name`.
    public func render(_ name: String, _ values: [String: String]) throws -> String {
        guard let t = templates[name] else { throw PromptError.missingValue(template: name, slot: "(template)") }
        return try t.render(values)
    }

    /// Writes every prompt as `NAME.txt` into `directory`, for editing.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, t) in templates.sorted(by: { $0.key < $1.key }) {
            try t.text.write(to: directory.appendingPathComponent("\(name).txt"), atomically: true, encoding: .utf8)
        }
    }
}
