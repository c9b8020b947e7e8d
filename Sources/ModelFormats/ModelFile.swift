import Foundation

/// # ModelFormats — notes for the engine and CLI engineers
///
/// Open any supported model with `ModelFile.open(path:)` (a `.gguf` file or a Hugging Face
/// folder holding `config.json` + `model.safetensors` / `model.safetensors.index.json`).
///
/// - **Names.** Tensors are looked up by canonical (GGUF) names whatever the source:
///   `token_embd.weight`, `output_norm.weight`, `output.weight`, and per layer N
///   `blk.N.attn_norm.weight`, `blk.N.attn_q.weight` / `.bias`, `attn_k`, `attn_v`,
///   `attn_output`, `blk.N.attn_q_norm.weight`, `attn_k_norm`, `ffn_norm`, `ffn_gate`,
///   `ffn_up`, `ffn_down`. GGUF files may also carry `rope_freqs.weight` (Llama 3.1 rope
///   factors, F32 [headDim/2]); pass it to `ModelConfig.ropeInverseFrequencies(freqFactors:)`.
/// - **Shapes** are PyTorch order, outermost first: a weight is `[rows = out, cols = in]`, and
///   each row is contiguous (`type.rowBytes(columns:)` bytes; quantized blocks run along a row).
///   GGUF's ne[] was reversed for you.
/// - **Data** is `TensorView.data`, pointing into the read-only memory map; valid while the
///   `ModelFile` is alive. Safetensors data may be unaligned: use `loadUnaligned` or copy.
///   F16/BF16/Q* blocks are exactly GGML's layouts (see `TensorType.bytesPerBlock`).
/// - **RoPE.** `config.ropeLayout == .adjacentPairs` for GGUF llama/mistral (rotate dims 2i and
///   2i+1 — the converter permuted q/k rows; do not un-permute), `.halfSplit` for Qwen GGUFs
///   and all HF checkpoints (rotate dims i and i + headDim/2).
/// - **Attention window.** `config.slidingWindow` is set for Mistral v0.1 and Qwen2 configs
///   that ask for it (HF only; GGUF does not record it); nil means full attention.
/// - **Vocabulary.** `config.vocabSize` is the embedding's row count (logits width); the
///   tokenizer may have fewer tokens.
/// - **Tied output.** `config.tiedEmbeddings` is true exactly when `tensor("output.weight")` is
///   nil; then the logits use `token_embd.weight`.
/// - **Checked at open:** every tensor the config implies exists with the expected shape
///   (`[vocab, hidden]`, `[heads*headDim, hidden]`, …), so the engine can force-unwrap
///   `tensor(_:)` for those names only after `open` succeeded — better: use `require(_:)`.
///   Types are *not* checked at open (so `model-info` can describe any file); call
///   `checkComputeTypes()` before running.
/// - **Tokenizer.** `loadTokenizerData()` (GGUF metadata, or `tokenizer.json` and friends);
///   `chatTemplate` is the model's own template string. In module `Tokenizers`:
///   `let tok = try Tokenizer(file.loadTokenizerData())` (or `Tokenizer.load(path:)`);
///   `tok.encode(text, addBOS: tok.addsBOS, parseSpecial: false) -> [Int32]` — pass
///   `parseSpecial: true` only for prompts we formatted ourselves (chat templates), never for
///   model output or user text; `tok.tokenText(id)`; `tok.endOfGeneration: Set<Int32>`;
///   `var d = tok.makeStreamingDecoder(); d.push(id) -> String; d.finish() -> String` (holds
///   back partial UTF-8). `ChatTemplate.detect(template: file.chatTemplate)` then
///   `.render(messages, addGenerationPrompt: true)`; the result contains BOS text where the
///   family has one, so encode it with `addBOS: false, parseSpecial: true`.
/// - **Memory.** `memoryEstimate(context:batch:)` and `availableSystemMemory()`.
/// - **Errors** are `ModelFormatError`; its description is one line naming the file and the
///   place, fit to print as is (exit code 2).
public struct TensorView: @unchecked Sendable {
    /// Canonical name (see the notes above).
    public let name: String
    public let type: TensorType
    /// Outermost first; a 2-D weight is [out, in].
    public let shape: [Int]
    /// The raw bytes, in place in the memory-mapped file.
    public let data: UnsafeRawBufferPointer

    public init(name: String, type: TensorType, shape: [Int], data: UnsafeRawBufferPointer) {
        self.name = name
        self.type = type
        self.shape = shape
        self.data = data
    }

    public var elementCount: Int { shape.reduce(1, *) }
    /// Number of rows (first dimension; 1 for a scalar).
    public var rows: Int { shape.count > 1 ? shape[0] : 1 }
    /// Length of one row (last dimension).
    public var columns: Int { shape.last ?? 1 }
}

/// A model opened for inference or inspection.
public final class ModelFile: @unchecked Sendable {
    public enum Format: Sendable, Equatable {
        case gguf(version: UInt32)
        case huggingFace(shards: Int)
    }

    public let path: String
    public let format: Format
    public let config: ModelConfig
    /// All tensors the engine may use, under canonical names, in file order.
    public let tensors: [TensorView]
    /// GGUF metadata (empty for Hugging Face folders).
    public let metadata: [String: GGUFValue]
    /// The model's own chat template (GGUF `tokenizer.chat_template` or tokenizer_config.json).
    public let chatTemplate: String?
    public let generationDefaults: GenerationDefaults
    /// The model's own name when the file says (`general.name`), else the file name.
    public let name: String

    private let index: [String: Int]
    // Keep the mappings alive: every TensorView points into one of them.
    private let mappings: [AnyObject]

    /// "GGUF v3" / "Hugging Face safetensors (2 shards)".
    public var formatDescription: String {
        switch format {
        case .gguf(let v): return "GGUF v\(v)"
        case .huggingFace(let n): return "Hugging Face safetensors" + (n > 1 ? " (\(n) shards)" : "")
        }
    }

    public func tensor(_ canonicalName: String) -> TensorView? {
        index[canonicalName].map { tensors[$0] }
    }

    /// The tensor, or an error naming the file and the tensor.
    public func require(_ canonicalName: String) throws -> TensorView {
        guard let t = tensor(canonicalName) else {
            throw ModelFormatError(file: path, "missing tensor", .tensor(canonicalName))
        }
        return t
    }

    /// Throws "unsupported type Q5_K" for the first tensor the engine cannot compute with.
    public func checkComputeTypes(_ supported: Set<TensorType> = TensorType.computeTypes) throws {
        for t in tensors where !supported.contains(t.type) {
            throw ModelFormatError(file: path, "unsupported type \(t.type.name)", .tensor(t.name))
        }
    }

    /// Tensor count per type, for display.
    public var typeCounts: [(TensorType, Int)] {
        var c: [TensorType: Int] = [:]
        for t in tensors { c[t.type, default: 0] += 1 }
        return c.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key.rawValue < $1.key.rawValue) }
    }

    /// Tokenizer data for this model (GGUF metadata, or the folder's tokenizer.json).
    public func loadTokenizerData() throws -> TokenizerData {
        switch format {
        case .gguf:
            guard let g = mappings.first as? GGUFFile else {
                throw ModelFormatError(file: path, "internal: GGUF mapping missing")
            }
            return try TokenizerData(gguf: g)
        case .huggingFace:
            return try TokenizerData.fromHuggingFaceFolder(path)
        }
    }

    init(path: String, format: Format, config: ModelConfig, tensors: [TensorView], metadata: [String: GGUFValue],
         chatTemplate: String?, generationDefaults: GenerationDefaults, name: String, mappings: [AnyObject]) throws {
        self.path = path
        self.format = format
        self.config = config
        self.tensors = tensors
        self.metadata = metadata
        self.chatTemplate = chatTemplate
        self.generationDefaults = generationDefaults
        self.name = name
        self.mappings = mappings
        var idx: [String: Int] = [:]
        for (i, t) in tensors.enumerated() {
            if idx[t.name] != nil { throw ModelFormatError(file: path, "duplicate tensor", .tensor(t.name)) }
            idx[t.name] = i
        }
        self.index = idx
        try config.validate(file: path)
        try checkShapes()
    }

    /// Opens a `.gguf` file or a Hugging Face folder.
    public static func open(path: String) throws -> ModelFile {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ModelFormatError(file: path, "no such file or folder")
        }
        return isDir.boolValue ? try openHuggingFace(folder: path) : try openGGUF(path: path)
    }

    // MARK: - Shape checks

    private func checkShapes() throws {
        let c = config
        func expect(_ name: String, _ shape: [Int], optional: Bool = false) throws {
            guard let t = tensor(name) else {
                if optional { return }
                throw ModelFormatError(file: path, "missing tensor", .tensor(name))
            }
            // A 1-D vector may be stored as [1, n] by some writers; compare without leading 1s.
            let got = Array(t.shape.drop { $0 == 1 && t.shape.count > shape.count })
            guard got == shape else {
                throw ModelFormatError(file: path, "shape \(t.shape) disagrees with the config (expected \(shape))", .tensor(name))
            }
        }
        let q = c.headCount * c.headDim, kv = c.kvHeadCount * c.headDim
        try expect("token_embd.weight", [c.vocabSize, c.hiddenSize])
        try expect("output_norm.weight", [c.hiddenSize])
        if !c.tiedEmbeddings { try expect("output.weight", [c.vocabSize, c.hiddenSize]) }
        for l in 0..<c.layerCount {
            let p = "blk.\(l)."
            try expect(p + "attn_norm.weight", [c.hiddenSize])
            try expect(p + "attn_q.weight", [q, c.hiddenSize])
            try expect(p + "attn_k.weight", [kv, c.hiddenSize])
            try expect(p + "attn_v.weight", [kv, c.hiddenSize])
            try expect(p + "attn_output.weight", [c.hiddenSize, q])
            try expect(p + "ffn_norm.weight", [c.hiddenSize])
            try expect(p + "ffn_gate.weight", [c.intermediateSize, c.hiddenSize])
            try expect(p + "ffn_up.weight", [c.intermediateSize, c.hiddenSize])
            try expect(p + "ffn_down.weight", [c.hiddenSize, c.intermediateSize])
            if c.attentionBias {
                try expect(p + "attn_q.bias", [q])
                try expect(p + "attn_k.bias", [kv])
                try expect(p + "attn_v.bias", [kv])
            }
            if c.qkNorm {
                try expect(p + "attn_q_norm.weight", [c.headDim])
                try expect(p + "attn_k_norm.weight", [c.headDim])
            }
        }
        try expect("rope_freqs.weight", [c.headDim / 2], optional: true)
    }

    // MARK: - GGUF

    static func openGGUF(path: String) throws -> ModelFile {
        try openGGUF(GGUFFile(path: path))
    }

    /// Opens an already parsed GGUF (e.g. one built in memory by a test).
    public static func openGGUF(_ g: GGUFFile) throws -> ModelFile {
        let path = g.path
        guard let archName = g.string("general.architecture") else {
            throw ModelFormatError(file: path, "missing general.architecture", .key("general.architecture"))
        }
        guard let arch = Architecture(rawValue: archName) else {
            throw ModelFormatError(file: path, "unsupported architecture \(archName) (supported: llama, mistral, qwen2, qwen3)", .key("general.architecture"))
        }
        var views: [TensorView] = []
        views.reserveCapacity(g.tensorInfos.count)
        for info in g.tensorInfos {
            views.append(TensorView(name: info.name, type: info.type, shape: info.ne.reversed(), data: g.data(of: info)))
        }
        let names = Set(views.map(\.name))
        func int(_ suffix: String) throws -> Int {
            let key = "\(archName).\(suffix)"
            guard let v = g.int(key) else { throw ModelFormatError(file: path, "missing or non-integer value", .key(key)) }
            return v
        }
        func optInt(_ suffix: String) -> Int? { g.int("\(archName).\(suffix)") }
        func optFloat(_ suffix: String) -> Float? { g.double("\(archName).\(suffix)").map(Float.init) }

        let hidden = try int("embedding_length")
        let heads = try int("attention.head_count")
        guard heads > 0 else { throw ModelFormatError(file: path, "head count must be positive", .key("\(archName).attention.head_count")) }
        // The embedding matrix defines the vocabulary the network has (some files pad it past
        // the token list); metadata only fills in when it is missing.
        let vocab = views.first { $0.name == "token_embd.weight" }?.shape.first ?? optInt("vocab_size")
            ?? g.metadata["tokenizer.ggml.tokens"]?.array?.count ?? 0
        var scaling: RopeScaling?
        if let type = g.string("\(archName).rope.scaling.type"), type != "none" {
            guard type == "linear" else {
                throw ModelFormatError(file: path, "unsupported rope scaling \(type)", .key("\(archName).rope.scaling.type"))
            }
            scaling = RopeScaling(kind: .linear, factor: optFloat("rope.scaling.factor") ?? 1)
        }
        let config = ModelConfig(
            architecture: arch,
            vocabSize: vocab,
            hiddenSize: hidden,
            intermediateSize: try int("feed_forward_length"),
            layerCount: try int("block_count"),
            headCount: heads,
            kvHeadCount: optInt("attention.head_count_kv") ?? heads,
            headDim: optInt("attention.key_length") ?? hidden / heads,
            contextLength: optInt("context_length") ?? 4096,
            rmsNormEps: optFloat("attention.layer_norm_rms_epsilon") ?? 1e-5,
            ropeTheta: optFloat("rope.freq_base") ?? 10000,
            ropeScaling: scaling,
            ropeLayout: (arch == .llama || arch == .mistral) ? .adjacentPairs : .halfSplit,
            tiedEmbeddings: !names.contains("output.weight"),
            attentionBias: names.contains("blk.0.attn_q.bias"),
            qkNorm: names.contains("blk.0.attn_q_norm.weight"))
        return try ModelFile(path: path, format: .gguf(version: g.version), config: config, tensors: views,
                             metadata: g.metadata, chatTemplate: g.string("tokenizer.chat_template"),
                             generationDefaults: GenerationDefaults(),
                             name: g.string("general.name") ?? (path as NSString).lastPathComponent,
                             mappings: [g])
    }

    // MARK: - Hugging Face

    static func openHuggingFace(folder: String) throws -> ModelFile {
        let fm = FileManager.default
        func file(_ n: String) -> String { (folder as NSString).appendingPathComponent(n) }
        let configPath = file("config.json")
        guard fm.fileExists(atPath: configPath) else {
            throw ModelFormatError(file: folder, "missing config.json (not a Hugging Face model folder)")
        }
        var (config, _) = try HuggingFaceConfig.read(path: configPath)

        // Which shard files, and which tensors each should hold.
        var shardNames: [String] = []
        var expectedShard: [String: String] = [:]
        let indexPath = file("model.safetensors.index.json")
        if fm.fileExists(atPath: indexPath) {
            expectedShard = try readSafetensorsIndex(path: indexPath)
            shardNames = Array(Set(expectedShard.values)).sorted()
        } else if fm.fileExists(atPath: file("model.safetensors")) {
            shardNames = ["model.safetensors"]
        } else {
            throw ModelFormatError(file: folder, "missing model.safetensors (or model.safetensors.index.json)")
        }
        var views: [TensorView] = []
        var mappings: [AnyObject] = []
        for shard in shardNames {
            let p = file(shard)
            guard fm.fileExists(atPath: p) else {
                throw ModelFormatError(file: indexPath, "shard \(shard) listed in the index is missing")
            }
            let st = try SafetensorsFile(path: p)
            mappings.append(st)
            for e in st.entries {
                if let want = expectedShard[e.name], want != shard {
                    throw ModelFormatError(file: p, "tensor also listed in \(want)", .tensor(e.name))
                }
                guard let canon = TensorNames.canonical(huggingFace: e.name) else { continue }
                guard let type = e.dtype.tensorType else {
                    throw ModelFormatError(file: p, "unsupported dtype \(e.dtype.rawValue)", .tensor(e.name))
                }
                views.append(TensorView(name: canon, type: type, shape: e.shape, data: st.data(of: e)))
            }
        }
        // Every tensor the index promises must be in its shard.
        let present = Set(mappings.compactMap { $0 as? SafetensorsFile }.flatMap { $0.entries.map(\.name) })
        for (name, shard) in expectedShard.sorted(by: { $0.key < $1.key }) where !present.contains(name) {
            throw ModelFormatError(file: indexPath, "tensor listed in the index is missing from \(shard)", .tensor(name))
        }
        // The output matrix is tied exactly when the checkpoint has no lm_head.
        config.tiedEmbeddings = !views.contains { $0.name == "output.weight" }
        var template: String?
        let tcPath = file("tokenizer_config.json")
        if fm.fileExists(atPath: tcPath) {
            let tc = try readJSONObject(path: tcPath)
            if let t = tc["chat_template"] as? String {
                template = t
            } else if let list = tc["chat_template"] as? [[String: Any]] {
                template = (list.first { ($0["name"] as? String) == "default" } ?? list.first)?["template"] as? String
            }
        }
        if template == nil, let jinja = try? String(contentsOfFile: file("chat_template.jinja"), encoding: .utf8) {
            template = jinja
        }
        return try ModelFile(path: folder, format: .huggingFace(shards: shardNames.count), config: config,
                             tensors: views, metadata: [:], chatTemplate: template,
                             generationDefaults: try HuggingFaceConfig.generationDefaults(folder: folder),
                             name: (folder as NSString).lastPathComponent, mappings: mappings)
    }
}
