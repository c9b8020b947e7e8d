import Foundation

/// Everything a tokenizer is built from, read from GGUF `tokenizer.ggml.*` metadata or from a
/// Hugging Face `tokenizer.json` (+ `tokenizer_config.json`, `generation_config.json`).
/// The `Tokenizers` module turns this into a working tokenizer; this type only carries data.
public struct TokenizerData: Sendable {
    public enum Kind: String, Sendable {
        /// Byte-level BPE (GPT-2 style; GGUF `tokenizer.ggml.model = gpt2`).
        case byteLevelBPE = "gpt2"
        /// SentencePiece-style BPE with scores and `<0xNN>` byte fallback (GGUF `llama`).
        case sentencePiece = "llama"
    }

    /// GGUF `tokenizer.ggml.token_type` values.
    public enum TokenType: Int32, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public struct Merge: Sendable, Hashable {
        public let left: String
        public let right: String
        public init(left: String, right: String) { self.left = left; self.right = right }
    }

    /// Where it came from (file path), for error messages.
    public var source: String
    public var kind: Kind
    /// Pre-tokenizer name as llama.cpp spells `tokenizer.ggml.pre`: "gpt-2", "llama-bpe"
    /// (Llama 3), "qwen2", or "default". For tokenizer.json it is recognised from the regex.
    public var preTokenizer: String
    /// Token text by id. Byte-level BPE tokens use GPT-2's byte-to-character mapping.
    public var tokens: [String]
    public var tokenTypes: [TokenType]
    /// SentencePiece scores (GGUF `llama` vocabularies; empty otherwise).
    public var scores: [Float]
    /// BPE merges in priority order (rank 0 first). A SentencePiece-style tokenizer.json
    /// (Llama 2, Mistral exports) has merges instead of scores, and is then merged by rank as
    /// Hugging Face does.
    public var merges: [Merge]
    /// Apply Unicode NFC to text before tokenizing (tokenizer.json `"normalizer": NFC`, Qwen2).
    public var normalizeNFC: Bool = false
    /// Llama 3 style: a pre-token that is itself in the vocabulary is emitted whole.
    public var ignoreMerges: Bool
    public var bosID: Int?
    public var eosID: Int?
    public var unknownID: Int?
    public var paddingID: Int?
    /// End-of-generation ids besides `eosID` (`<|eot_id|>`, `<|im_end|>`, generation_config's list).
    public var extraEOSIDs: [Int]
    public var addBOS: Bool
    public var addEOS: Bool
    /// SentencePiece: put a space ("▁") before text that starts the input or follows a special
    /// token (GGUF `tokenizer.ggml.add_space_prefix`, default true as in llama.cpp).
    public var addSpacePrefix: Bool = true
    /// The model's own Jinja chat template, if it ships one.
    public var chatTemplate: String?

    public init(source: String, kind: Kind, preTokenizer: String, tokens: [String], tokenTypes: [TokenType],
                scores: [Float] = [], merges: [Merge] = [], ignoreMerges: Bool = false,
                bosID: Int? = nil, eosID: Int? = nil, unknownID: Int? = nil, paddingID: Int? = nil,
                extraEOSIDs: [Int] = [], addBOS: Bool = false, addEOS: Bool = false, chatTemplate: String? = nil) {
        self.source = source
        self.kind = kind
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.ignoreMerges = ignoreMerges
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.extraEOSIDs = extraEOSIDs
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.chatTemplate = chatTemplate
    }

    /// Token texts llama.cpp takes as end of generation (and so as control tokens) in GGUF
    /// vocabularies, checked against llama-cpp-python 0.3.36.
    static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>",
        "<|end_of_text|>", "</s>", "<end_of_utterance>", "<|return|>", "<|call|>",
    ]
    /// Fill-in-the-middle and padding markers llama.cpp also turns into control tokens: the first
    /// of each group found in the vocabulary.
    static let fillInTheMiddleTexts: [[String]] = [
        ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "\u{2581}<PRE>"],
        ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "\u{2581}<SUF>"],
        ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "\u{2581}<MID>"],
        ["<|fim_pad|>", "<fim-pad>", "<fim_pad>"],
        ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"],
        ["<|file_sep|>", "<file_sep>"],
        ["[PAD]"],
    ]

    /// All ids that end generation.
    public var endOfGenerationIDs: Set<Int> {
        var s = Set(extraEOSIDs)
        if let eosID { s.insert(eosID) }
        return s
    }

    /// Loads tokenizer data from a `.gguf` file or a Hugging Face folder, without needing a
    /// supported model architecture (the vocab-only GGUF fixtures are `gpt2`).
    public static func load(path: String) throws -> TokenizerData {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ModelFormatError(file: path, "no such file or folder")
        }
        if isDir.boolValue { return try fromHuggingFaceFolder(path) }
        if path.hasSuffix("tokenizer.json") { return try fromTokenizerJSON(path: path) }
        return try TokenizerData(gguf: GGUFFile(path: path))
    }

    // MARK: GGUF

    public init(gguf: GGUFFile) throws {
        let file = gguf.path
        let m = gguf.metadata
        guard let model = m["tokenizer.ggml.model"]?.string else {
            throw ModelFormatError(file: file, "no tokenizer in this file", .key("tokenizer.ggml.model"))
        }
        switch model {
        case "gpt2": kind = .byteLevelBPE
        case "llama": kind = .sentencePiece
        default:
            throw ModelFormatError(file: file, "unsupported tokenizer model \"\(model)\" (supported: gpt2, llama)", .key("tokenizer.ggml.model"))
        }
        source = file
        preTokenizer = m["tokenizer.ggml.pre"]?.string ?? "default"
        guard let tokenValues = m["tokenizer.ggml.tokens"]?.array, !tokenValues.isEmpty else {
            throw ModelFormatError(file: file, "missing or empty token list", .key("tokenizer.ggml.tokens"))
        }
        var toks: [String] = []
        toks.reserveCapacity(tokenValues.count)
        for v in tokenValues {
            guard let s = v.string else {
                throw ModelFormatError(file: file, "token list holds a non-string", .key("tokenizer.ggml.tokens"))
            }
            toks.append(s)
        }
        tokens = toks
        let n = toks.count
        if let types = m["tokenizer.ggml.token_type"]?.array {
            guard types.count == n else {
                throw ModelFormatError(file: file, "token_type has \(types.count) entries for \(n) tokens", .key("tokenizer.ggml.token_type"))
            }
            tokenTypes = types.map { TokenType(rawValue: Int32(truncatingIfNeeded: $0.int ?? 1)) ?? .normal }
        } else {
            tokenTypes = Array(repeating: .normal, count: n)
        }
        if let sc = m["tokenizer.ggml.scores"]?.array {
            guard sc.count == n else {
                throw ModelFormatError(file: file, "scores has \(sc.count) entries for \(n) tokens", .key("tokenizer.ggml.scores"))
            }
            scores = sc.map { Float($0.double ?? 0) }
        } else {
            scores = []
        }
        var mergeList: [Merge] = []
        if let ms = m["tokenizer.ggml.merges"]?.array {
            mergeList.reserveCapacity(ms.count)
            for (i, v) in ms.enumerated() {
                // Byte-level tokens never contain a raw space (it maps to "Ġ"), so the first
                // space separates the pair.
                guard let s = v.string, let sp = s.firstIndex(of: " ") else {
                    throw ModelFormatError(file: file, "merge \(i) is not \"left right\"", .key("tokenizer.ggml.merges"))
                }
                mergeList.append(Merge(left: String(s[..<sp]), right: String(s[s.index(after: sp)...])))
            }
        }
        merges = mergeList
        if kind == .byteLevelBPE && merges.isEmpty {
            throw ModelFormatError(file: file, "byte-level BPE tokenizer without merges", .key("tokenizer.ggml.merges"))
        }
        ignoreMerges = preTokenizer == "llama-bpe" || preTokenizer == "llama3"
        func id(_ key: String) throws -> Int? {
            guard let v = m[key] else { return nil }
            guard let i = v.int, i >= 0, i < n else {
                throw ModelFormatError(file: file, "token id out of range", .key(key))
            }
            return i
        }
        bosID = try id("tokenizer.ggml.bos_token_id")
        eosID = try id("tokenizer.ggml.eos_token_id")
        unknownID = try id("tokenizer.ggml.unknown_token_id")
        paddingID = try id("tokenizer.ggml.padding_token_id")
        var extra: [Int] = []
        if let eot = try id("tokenizer.ggml.eot_token_id") { extra.append(eot) }
        if let eom = try id("tokenizer.ggml.eom_token_id") { extra.append(eom) }
        // llama.cpp recognises end-of-generation and fill-in-the-middle tokens by their text and
        // treats them as control tokens whatever the file says (so with special tokens parsed,
        // Qwen2's plain "</s>" becomes one token). Do the same, and stop on the first group.
        let fimTexts = Set(Self.fillInTheMiddleTexts.joined())
        var fimFound: [String: Int] = [:]
        for (i, t) in toks.enumerated() where t.hasPrefix("<") || t.hasPrefix("_") || t.hasPrefix("[") || t.hasPrefix("\u{2581}") {
            if Self.endOfGenerationTexts.contains(t) {
                tokenTypes[i] = .control
                extra.append(i)
            } else if fimTexts.contains(t), fimFound[t] == nil {
                fimFound[t] = i
            }
        }
        for group in Self.fillInTheMiddleTexts {
            if let i = group.lazy.compactMap({ fimFound[$0] }).first { tokenTypes[i] = .control }
        }
        extraEOSIDs = Array(Set(extra)).sorted()
        addBOS = m["tokenizer.ggml.add_bos_token"]?.bool ?? (kind == .sentencePiece || ignoreMerges)
        addEOS = m["tokenizer.ggml.add_eos_token"]?.bool ?? false
        addSpacePrefix = m["tokenizer.ggml.add_space_prefix"]?.bool ?? true
        chatTemplate = m["tokenizer.chat_template"]?.string
    }

    // MARK: Hugging Face

    /// `tokenizer.json` plus, when present next to it, `tokenizer_config.json` and
    /// `generation_config.json`.
    public static func fromHuggingFaceFolder(_ folder: String) throws -> TokenizerData {
        let tj = (folder as NSString).appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: tj) else {
            throw ModelFormatError(file: folder, "missing tokenizer.json (needed to tokenize; a tokenizer.model alone is not supported)")
        }
        return try fromTokenizerJSON(path: tj)
    }

    public static func fromTokenizerJSON(path: String) throws -> TokenizerData {
        let root = try JSONValue.read(path: path)
        guard let model = root["model"], model.pairs != nil else {
            throw ModelFormatError(file: path, "missing model", .field("model"))
        }
        let modelType = model["type"]?.string ?? "BPE"
        guard modelType == "BPE" else {
            throw ModelFormatError(file: path, "unsupported tokenizer model type \(modelType) (only BPE)", .field("model.type"))
        }
        guard let vocab = model["vocab"]?.pairs else {
            throw ModelFormatError(file: path, "missing vocab", .field("model.vocab"))
        }
        var byID: [Int: String] = [:]
        for (tok, v) in vocab {
            guard let i = v.int, i >= 0, i < 1 << 24 else {
                throw ModelFormatError(file: path, "bad id for token \(tok.debugDescription)", .field("model.vocab"))
            }
            byID[i] = tok
        }
        var special: [Int: Bool] = [:]
        for a in root["added_tokens"]?.array ?? [] {
            guard let i = a["id"]?.int, i >= 0, i < 1 << 24, let content = a["content"]?.string else {
                throw ModelFormatError(file: path, "malformed added token", .field("added_tokens"))
            }
            byID[i] = content
            special[i] = a["special"]?.bool ?? true
        }
        let count = (byID.keys.max() ?? -1) + 1
        guard count > 0 else { throw ModelFormatError(file: path, "empty vocabulary", .field("model.vocab")) }
        var tokens = [String](repeating: "", count: count)
        var types = [TokenType](repeating: .unused, count: count)
        for (i, t) in byID {
            tokens[i] = t
            types[i] = special[i].map { $0 ? .control : .userDefined } ?? .normal
        }
        for i in 0..<count where byID[i] == nil { tokens[i] = "<unused\(i)>" }

        var merges: [Merge] = []
        if let ms = model["merges"]?.array {
            merges.reserveCapacity(ms.count)
            for (i, m) in ms.enumerated() {
                if let s = m.string, let sp = s.firstIndex(of: " ") {
                    merges.append(Merge(left: String(s[..<sp]), right: String(s[s.index(after: sp)...])))
                } else if let pair = m.array, pair.count == 2, let l = pair[0].string, let r = pair[1].string {
                    merges.append(Merge(left: l, right: r))
                } else {
                    throw ModelFormatError(file: path, "merge \(i) is malformed", .field("model.merges"))
                }
            }
        }

        // Byte-level (GPT-2 family: a ByteLevel step) vs SentencePiece-style (Llama 2 /
        // Mistral exports: spaces become "▁" in the normalizer or a Metaspace pre-tokenizer).
        let preTokenizer = root["pre_tokenizer"] ?? .null
        let normalizer = root["normalizer"] ?? .null
        let byteLevel = !preTokenizer.objects(ofType: "ByteLevel").isEmpty
        let metaspace = preTokenizer.objects(ofType: "Metaspace").first
        let kind: Kind
        let pre: String
        if !byteLevel && (metaspace != nil || normalizer.allStrings.contains { $0.contains("\u{2581}") }) {
            kind = .sentencePiece
            pre = "default"
        } else {
            kind = .byteLevelBPE
            pre = try classifyPreTokenizer(preTokenizer, file: path)
        }
        var data = TokenizerData(source: path, kind: kind, preTokenizer: pre, tokens: tokens, tokenTypes: types,
                                 merges: merges, ignoreMerges: model["ignore_merges"]?.bool ?? false)
        data.normalizeNFC = !normalizer.objects(ofType: "NFC").isEmpty
        if kind == .sentencePiece {
            if merges.isEmpty {
                throw ModelFormatError(file: path, "SentencePiece-style tokenizer without merges", .field("model.merges"))
            }
            // Where the leading "▁" comes from: a Prepend normalizer, or Metaspace's prefix.
            if let m = metaspace {
                data.addSpacePrefix = m["prepend_scheme"]?.string != "never" && m["add_prefix_space"]?.bool != false
            } else {
                data.addSpacePrefix = !normalizer.objects(ofType: "Prepend").isEmpty
            }
            for i in 0..<count where data.tokenTypes[i] == .normal {
                let t = tokens[i]
                if t.utf8.count == 6, t.hasPrefix("<0x"), t.hasSuffix(">") { data.tokenTypes[i] = .byte }
            }
            if let unk = model["unk_token"]?.string {
                data.unknownID = byID.first { $0.value.utf8.elementsEqual(unk.utf8) }?.key
            }
        }
        if kind == .byteLevelBPE && merges.isEmpty {
            throw ModelFormatError(file: path, "byte-level BPE tokenizer without merges", .field("model.merges"))
        }
        // A post-processor that puts a special token first (Llama 3, Llama 2 exports) is how
        // tokenizer.json says "add BOS"; tokenizer_config.json's add_bos_token may override it.
        if let template = root["post_processor"]?.objects(ofType: "TemplateProcessing").first,
           let first = template["single"]?.array?.first, let bos = first["SpecialToken"]?["id"]?.string,
           let id = byID.first(where: { $0.value.utf8.elementsEqual(bos.utf8) })?.key {
            data.bosID = id
            data.addBOS = true
        }
        let folder = (path as NSString).deletingLastPathComponent
        try data.applyHuggingFaceConfigs(folder: folder)
        return data
    }

    /// Recognises the three supported pre-tokenizer regexes in a tokenizer.json.
    static func classifyPreTokenizer(_ v: JSONValue, file: String) throws -> String {
        let patterns = v.objects(ofType: "Split").compactMap { $0["pattern"]?["Regex"]?.string }
        if patterns.contains(where: { $0.contains(#"\p{N}{1,3}"#) }) { return "llama-bpe" }
        if patterns.contains(where: { $0.contains(#"[^\r\n\p{L}\p{N}]?\p{L}+"#) && $0.contains(#"\p{N}"#) }) { return "qwen2" }
        if patterns.contains(where: { $0.contains(#"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+"#) }) { return "gpt-2" }
        if patterns.isEmpty, let bl = v.objects(ofType: "ByteLevel").first, bl["use_regex"]?.bool ?? true { return "gpt-2" }
        throw ModelFormatError(file: file, "unrecognised pre-tokenizer (supported: GPT-2, Llama 3, Qwen2 patterns)", .field("pre_tokenizer"))
    }

    mutating func applyHuggingFaceConfigs(folder: String) throws {
        let fm = FileManager.default
        func tokenID(_ v: Any?) -> Int? {
            let text = (v as? String) ?? ((v as? [String: Any])?["content"] as? String)
            guard let text else { return nil }
            return tokens.firstIndex(of: text)
        }
        let tcPath = (folder as NSString).appendingPathComponent("tokenizer_config.json")
        if fm.fileExists(atPath: tcPath) {
            let tc = try readJSONObject(path: tcPath)
            if let t = tc["chat_template"] as? String {
                chatTemplate = t
            } else if let list = tc["chat_template"] as? [[String: Any]] {
                chatTemplate = (list.first { ($0["name"] as? String) == "default" } ?? list.first)?["template"] as? String
            }
            if let b = jsonBool(tc["add_bos_token"]) { addBOS = b }
            if let b = jsonBool(tc["add_eos_token"]) { addEOS = b }
            if let i = tokenID(tc["bos_token"]) { bosID = i }
            if let i = tokenID(tc["eos_token"]) { eosID = i }
            if let i = tokenID(tc["unk_token"]) { unknownID = i }
            if let i = tokenID(tc["pad_token"]) { paddingID = i }
        } else if kind == .sentencePiece {
            addBOS = true
        }
        var extra = Set(extraEOSIDs)
        for name in ["generation_config.json", "config.json"] {
            let p = (folder as NSString).appendingPathComponent(name)
            guard fm.fileExists(atPath: p) else { continue }
            let obj = try readJSONObject(path: p)
            var ids: [Int] = []
            if let i = jsonInt(obj["eos_token_id"]) { ids = [i] }
            if let list = obj["eos_token_id"] as? [Any] { ids = list.compactMap { jsonInt($0) } }
            for i in ids where i >= 0 && i < tokens.count {
                if eosID == nil { eosID = i }
                extra.insert(i)
            }
            if bosID == nil, let b = jsonInt(obj["bos_token_id"]), b >= 0, b < tokens.count { bosID = b }
        }
        if let e = eosID { extra.remove(e) }
        extraEOSIDs = extra.sorted()
    }
}
