import Foundation

/// Sampling defaults a checkpoint suggests (`generation_config.json`); all optional.
public struct GenerationDefaults: Sendable, Equatable {
    public var temperature: Float?
    public var topP: Float?
    public var topK: Int?
    public init(temperature: Float? = nil, topP: Float? = nil, topK: Int? = nil) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
    }
}

/// Reads a Hugging Face `config.json` (llama, mistral, qwen2, qwen3).
enum HuggingFaceConfig {
    static func read(path: String) throws -> (ModelConfig, tieWordEmbeddings: Bool) {
        let obj = try readJSONObject(path: path)
        func int(_ key: String) throws -> Int {
            guard let v = jsonInt(obj[key]) else {
                throw ModelFormatError(file: path, "missing or non-integer \(key)", .field(key))
            }
            return v
        }
        func optInt(_ key: String) -> Int? { jsonInt(obj[key]) }
        func float(_ key: String, _ def: Double) throws -> Float {
            guard let raw = obj[key], !(raw is NSNull) else { return Float(def) }
            guard let d = jsonDouble(raw) else {
                throw ModelFormatError(file: path, "\(key) is not a number", .field(key))
            }
            return Float(d)
        }
        guard let type = obj["model_type"] as? String else {
            throw ModelFormatError(file: path, "missing model_type", .field("model_type"))
        }
        guard let arch = Architecture(rawValue: type) else {
            throw ModelFormatError(file: path, "unsupported architecture \(type) (supported: llama, mistral, qwen2, qwen3)", .field("model_type"))
        }
        let hidden = try int("hidden_size")
        let heads = try int("num_attention_heads")
        guard heads > 0 else { throw ModelFormatError(file: path, "num_attention_heads must be positive", .field("num_attention_heads")) }
        let headDim = optInt("head_dim") ?? hidden / heads
        var scaling: RopeScaling?
        if let rs = obj["rope_scaling"] as? [String: Any] {
            let kind = (rs["rope_type"] as? String) ?? (rs["type"] as? String) ?? "?"
            let factor = Float(jsonDouble(rs["factor"]) ?? 1)
            switch kind {
            case "llama3":
                scaling = RopeScaling(kind: .llama3, factor: factor,
                                      lowFreqFactor: Float(jsonDouble(rs["low_freq_factor"]) ?? 1),
                                      highFreqFactor: Float(jsonDouble(rs["high_freq_factor"]) ?? 4),
                                      originalContextLength: jsonInt(rs["original_max_position_embeddings"]) ?? 8192)
            case "linear":
                scaling = RopeScaling(kind: .linear, factor: factor)
            case "default":
                scaling = nil
            default:
                throw ModelFormatError(file: path, "unsupported rope_scaling type \(kind) (supported: llama3, linear)", .field("rope_scaling"))
            }
        }
        let tie = jsonBool(obj["tie_word_embeddings"]) ?? false
        var config = ModelConfig(
            architecture: arch,
            vocabSize: try int("vocab_size"),
            hiddenSize: hidden,
            intermediateSize: try int("intermediate_size"),
            layerCount: try int("num_hidden_layers"),
            headCount: heads,
            kvHeadCount: optInt("num_key_value_heads") ?? heads,
            headDim: headDim,
            contextLength: optInt("max_position_embeddings") ?? 4096,
            rmsNormEps: try float("rms_norm_eps", 1e-6),
            ropeTheta: try float("rope_theta", 10000),
            ropeScaling: scaling,
            ropeLayout: .halfSplit,
            tiedEmbeddings: tie,
            // Qwen2 always has q/k/v biases; others say so with attention_bias.
            attentionBias: arch == .qwen2 || (jsonBool(obj["attention_bias"]) ?? false),
            qkNorm: arch == .qwen3)
        if let w = jsonInt(obj["sliding_window"]), w > 0,
           arch == .mistral || (jsonBool(obj["use_sliding_window"]) ?? false) {
            config.slidingWindow = w
        }
        return (config, tie)
    }

    static func generationDefaults(folder: String) throws -> GenerationDefaults {
        let p = (folder as NSString).appendingPathComponent("generation_config.json")
        guard FileManager.default.fileExists(atPath: p) else { return GenerationDefaults() }
        let obj = try readJSONObject(path: p)
        return GenerationDefaults(temperature: jsonDouble(obj["temperature"]).map(Float.init),
                                  topP: jsonDouble(obj["top_p"]).map(Float.init),
                                  topK: jsonInt(obj["top_k"]))
    }
}

/// Hugging Face tensor names → canonical (GGUF) names.
public enum TensorNames {
    static let layerParts: [(String, String)] = [
        ("input_layernorm.weight", "attn_norm.weight"),
        ("self_attn.q_proj.weight", "attn_q.weight"),
        ("self_attn.q_proj.bias", "attn_q.bias"),
        ("self_attn.k_proj.weight", "attn_k.weight"),
        ("self_attn.k_proj.bias", "attn_k.bias"),
        ("self_attn.v_proj.weight", "attn_v.weight"),
        ("self_attn.v_proj.bias", "attn_v.bias"),
        ("self_attn.o_proj.weight", "attn_output.weight"),
        ("self_attn.q_norm.weight", "attn_q_norm.weight"),
        ("self_attn.k_norm.weight", "attn_k_norm.weight"),
        ("post_attention_layernorm.weight", "ffn_norm.weight"),
        ("mlp.gate_proj.weight", "ffn_gate.weight"),
        ("mlp.up_proj.weight", "ffn_up.weight"),
        ("mlp.down_proj.weight", "ffn_down.weight"),
    ]
    static let partMap = Dictionary(uniqueKeysWithValues: layerParts)

    /// The canonical name of a Hugging Face tensor, or nil if it is not one the engine uses
    /// (e.g. `rotary_emb.inv_freq`).
    public static func canonical(huggingFace name: String) -> String? {
        switch name {
        case "model.embed_tokens.weight": return "token_embd.weight"
        case "model.norm.weight": return "output_norm.weight"
        case "lm_head.weight": return "output.weight"
        default: break
        }
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0,
              let part = partMap[String(rest[rest.index(after: dot)...])] else { return nil }
        return "blk.\(layer).\(part)"
    }
}
