import Foundation

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable { case system, user, assistant }
    public var role: Role
    public var content: String
    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// Prompt layouts. Chat families are recognised from the model's own Jinja template (we do
/// not run Jinja; each family is a fixed, well-known layout reproduced here).
public enum ChatFormat: String, Sendable, CaseIterable {
    /// No template: message texts joined by blank lines (base models, few-shot prompts).
    case raw
    /// `<|im_start|>role\n…<|im_end|>\n` (Qwen2, Qwen2.5, Qwen3 and other ChatML models).
    case chatml
    /// `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>` (Llama 3.x).
    case llama3
    /// `<s>[INST] <<SYS>>\n…\n<</SYS>>\n\n… [/INST]` (Llama 2 chat).
    case llama2
    /// `<s>[INST] … [/INST]…</s>` without a system block (Mistral instruct).
    case mistral

    /// The names `--template` accepts.
    public static let optionList = "chatml|llama3|llama2|mistral|raw"

    /// `--template NAME`.
    public static func named(_ name: String) throws -> ChatFormat {
        guard let f = ChatFormat(rawValue: name.lowercased()) else {
            throw TokenizerError("unknown template \"\(name)\"; use --template \(optionList)")
        }
        return f
    }
}

/// A chat format plus the details a particular model's template adds (a default system prompt,
/// Llama 3.1's date header).
public struct ChatTemplate: Sendable, Equatable {
    public var format: ChatFormat
    /// System prompt the template inserts when the conversation has none (Qwen2/2.5).
    public var defaultSystemPrompt: String?
    /// Llama 3.1+: the system turn always starts with "Cutting Knowledge Date: …".
    public var knowledgeDateHeader: Bool
    /// The "Today Date:" of that header: Llama 3.1 templates default to "26 Jul 2024"; 3.2+
    /// templates use today's date (`strftime_now`), which `detect` fills in.
    public var todayDate: String

    public init(format: ChatFormat, defaultSystemPrompt: String? = nil, knowledgeDateHeader: Bool = false,
                todayDate: String = "26 Jul 2024") {
        self.format = format
        self.defaultSystemPrompt = defaultSystemPrompt
        self.knowledgeDateHeader = knowledgeDateHeader
        self.todayDate = todayDate
    }

    /// Today as Llama 3.2 templates print it ("22 Nov 2026").
    static func today() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "dd MMM yyyy"
        return f.string(from: Date())
    }

    /// Recognises the family of a model's `chat_template`; throws a one-line error suggesting
    /// `--template` when there is none or it is not one we know.
    public static func detect(template: String?) throws -> ChatTemplate {
        guard let t = template, !t.isEmpty else {
            throw TokenizerError("the model has no chat template; choose one with --template \(ChatFormat.optionList)")
        }
        if t.contains("<|im_start|>") {
            return ChatTemplate(format: .chatml, defaultSystemPrompt: defaultChatMLSystem(t))
        }
        if t.contains("<|start_header_id|>") {
            return ChatTemplate(format: .llama3, knowledgeDateHeader: t.contains("Cutting Knowledge Date"),
                                todayDate: t.contains("strftime_now") ? today() : "26 Jul 2024")
        }
        if t.contains("[INST]") {
            return ChatTemplate(format: t.contains("<<SYS>>") ? .llama2 : .mistral)
        }
        throw TokenizerError("unrecognised chat template (not ChatML, Llama 3, Llama 2 or Mistral); choose one with --template \(ChatFormat.optionList)")
    }

    /// The literal text of `'<|im_start|>system\n…<|im_end|>` in the template, if that system
    /// turn is fixed text rather than built from the messages.
    static func defaultChatMLSystem(_ t: String) -> String? {
        var search = t[...]
        while let r = search.range(of: "<|im_start|>system") {
            var rest = search[r.upperBound...]
            if rest.hasPrefix("\\n") { rest = rest.dropFirst(2) } else if rest.hasPrefix("\n") { rest = rest.dropFirst() } else {
                search = rest
                continue
            }
            if let end = rest.range(of: "<|im_end|>") {
                let body = rest[..<end.lowerBound]
                if !body.isEmpty, !body.contains("'"), !body.contains("\""), !body.contains("{"), !body.contains("+") {
                    return String(body)
                }
            }
            search = rest
        }
        return nil
    }

    /// The prompt text for a conversation. It includes the BOS token's text where the family
    /// puts one (`<|begin_of_text|>`, `<s>`), so tokenize it with `parseSpecial: true` and
    /// `addBOS: false`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        switch format {
        case .raw:
            out = messages.map(\.content).joined(separator: "\n\n")
        case .chatml:
            if messages.first?.role != .system, let sys = defaultSystemPrompt {
                out += "<|im_start|>system\n\(sys)<|im_end|>\n"
            }
            for m in messages { out += "<|im_start|>\(m.role.rawValue)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        case .llama3:
            out = "<|begin_of_text|>"
            var rest = messages[...]
            if knowledgeDateHeader {
                var sys = "Cutting Knowledge Date: December 2023\nToday Date: \(todayDate)\n\n"
                if let first = rest.first, first.role == .system {
                    sys += trim(first.content)
                    rest = rest.dropFirst()
                }
                out += "<|start_header_id|>system<|end_header_id|>\n\n\(sys)<|eot_id|>"
            }
            for m in rest { out += "<|start_header_id|>\(m.role.rawValue)<|end_header_id|>\n\n\(trim(m.content))<|eot_id|>" }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        case .llama2, .mistral:
            var rest = messages[...]
            var system: String?
            if let first = rest.first, first.role == .system {
                system = first.content
                rest = rest.dropFirst()
            }
            var firstUser = true
            if format == .mistral { out = "<s>" }
            for m in rest {
                switch m.role {
                case .user:
                    var content = m.content
                    if firstUser, let s = system {
                        content = format == .llama2 ? "<<SYS>>\n\(s)\n<</SYS>>\n\n\(content)" : "\(s)\n\n\(content)"
                    }
                    firstUser = false
                    out += format == .llama2 ? "<s>[INST] \(trim(content)) [/INST]" : "[INST] \(content) [/INST]"
                case .assistant:
                    out += format == .llama2 ? " \(trim(m.content)) </s>" : "\(m.content)</s>"
                case .system:
                    out += format == .llama2 ? "<s>[INST] \(trim(m.content)) [/INST]" : "[INST] \(m.content) [/INST]"
                }
            }
            // The generation prompt is the open [/INST] itself.
        }
        return out
    }

    private func trim(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }
}
