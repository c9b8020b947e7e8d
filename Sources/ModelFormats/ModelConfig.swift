import Foundation

/// Model families the engine runs. All are decoder-only Llama-style transformers with RMSNorm,
/// SwiGLU feed-forward and rotary position embeddings; they differ in the details below.
public enum Architecture: String, Sendable, CaseIterable {
    case llama, mistral, qwen2, qwen3
}

/// How rotary embeddings pair up the dimensions of a head.
public enum RopeLayout: Sendable, Equatable {
    /// Dimensions (2i, 2i+1) rotate together. GGUF `llama`/`mistral` files: the converter
    /// permuted q/k rows into this order, so the engine must apply RoPE this way (llama.cpp's
    /// "normal" rope). No un-permuting of weights is needed.
    case adjacentPairs
    /// Dimensions (i, i + headDim/2) rotate together. Qwen GGUFs (llama.cpp's "neox" rope) and
    /// every Hugging Face checkpoint.
    case halfSplit
}

/// Rope frequency scaling beyond plain `ropeTheta`.
public struct RopeScaling: Sendable, Equatable {
    public enum Kind: String, Sendable { case linear, llama3 }
    public var kind: Kind
    public var factor: Float
    /// llama3 only.
    public var lowFreqFactor: Float
    public var highFreqFactor: Float
    public var originalContextLength: Int

    public init(kind: Kind, factor: Float, lowFreqFactor: Float = 1, highFreqFactor: Float = 4, originalContextLength: Int = 8192) {
        self.kind = kind
        self.factor = factor
        self.lowFreqFactor = lowFreqFactor
        self.highFreqFactor = highFreqFactor
        self.originalContextLength = originalContextLength
    }
}

/// Everything the engine needs to know about a model's shape, from GGUF metadata or a
/// Hugging Face `config.json`.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: Architecture
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    /// Per-head dimension (Qwen3 states it explicitly; otherwise hiddenSize / headCount).
    public var headDim: Int
    /// Maximum context the model was trained for (`max_position_embeddings`).
    public var contextLength: Int
    public var rmsNormEps: Float
    public var ropeTheta: Float
    public var ropeScaling: RopeScaling?
    public var ropeLayout: RopeLayout
    /// True when there is no separate output matrix: logits use `token_embd.weight`.
    public var tiedEmbeddings: Bool
    /// q/k/v projections have biases (Qwen2): `blk.N.attn_q.bias` etc. exist.
    public var attentionBias: Bool
    /// Per-head RMSNorm on q and k before RoPE (Qwen3): `blk.N.attn_q_norm.weight` etc. exist.
    public var qkNorm: Bool
    /// Attention limited to the last N positions (Mistral v0.1 `sliding_window`, Qwen2 with
    /// `use_sliding_window`); nil for full attention. Only matters for contexts longer than N.
    public var slidingWindow: Int? = nil

    public init(architecture: Architecture, vocabSize: Int, hiddenSize: Int, intermediateSize: Int,
                layerCount: Int, headCount: Int, kvHeadCount: Int, headDim: Int, contextLength: Int,
                rmsNormEps: Float, ropeTheta: Float, ropeScaling: RopeScaling?, ropeLayout: RopeLayout,
                tiedEmbeddings: Bool, attentionBias: Bool, qkNorm: Bool) {
        self.architecture = architecture
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.contextLength = contextLength
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.ropeLayout = ropeLayout
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionBias = attentionBias
        self.qkNorm = qkNorm
    }

    /// Checks the numbers are positive and consistent (heads divide evenly into kv groups, …).
    public func validate(file: String) throws {
        func need(_ ok: Bool, _ what: String) throws {
            if !ok { throw ModelFormatError(file: file, what, .field("config")) }
        }
        try need(vocabSize > 0 && vocabSize < 1 << 24, "vocabulary size \(vocabSize) is out of range")
        try need(hiddenSize > 0 && hiddenSize < 1 << 20, "hidden size \(hiddenSize) is out of range")
        try need(intermediateSize > 0 && intermediateSize < 1 << 22, "intermediate size \(intermediateSize) is out of range")
        try need(layerCount > 0 && layerCount < 1 << 12, "layer count \(layerCount) is out of range")
        try need(headCount > 0 && headCount < 1 << 12, "head count \(headCount) is out of range")
        try need(kvHeadCount > 0 && kvHeadCount <= headCount && headCount % kvHeadCount == 0,
                 "kv head count \(kvHeadCount) does not divide head count \(headCount)")
        try need(headDim > 0 && headDim % 2 == 0 && headDim <= 1024, "head dimension \(headDim) is out of range (must be even)")
        try need(contextLength > 0, "context length \(contextLength) is out of range")
        try need(rmsNormEps > 0 && rmsNormEps < 1, "rms_norm_eps \(rmsNormEps) is out of range")
        try need(ropeTheta > 0 && ropeTheta.isFinite, "rope theta \(ropeTheta) is out of range")
    }

    /// Rotary inverse frequencies for dimension pair i (0 ..< headDim/2):
    /// `theta^(-2i/headDim)`, divided by the per-pair factors when rope scaling (or a GGUF
    /// `rope_freqs.weight` tensor, passed as `freqFactors`) says so. Both RoPE layouts use the
    /// same frequencies; they differ only in which two dimensions rotate together.
    public func ropeInverseFrequencies(freqFactors: [Float]? = nil) -> [Float] {
        let half = headDim / 2
        var out = [Float](repeating: 0, count: half)
        for i in 0..<half {
            var f = Float(pow(Double(ropeTheta), -2.0 * Double(i) / Double(headDim)))
            if let ff = freqFactors, i < ff.count, ff[i] > 0 {
                f /= ff[i]
            } else if let s = ropeScaling {
                switch s.kind {
                case .linear:
                    f /= s.factor
                case .llama3:
                    // Long wavelengths are slowed by `factor`, short ones kept, and the band in
                    // between interpolated smoothly (Llama 3.1's published recipe).
                    let lowWavelen = Float(s.originalContextLength) / s.lowFreqFactor
                    let highWavelen = Float(s.originalContextLength) / s.highFreqFactor
                    let wavelen = 2 * Float.pi / f
                    if wavelen > lowWavelen {
                        f /= s.factor
                    } else if wavelen >= highWavelen {
                        let smooth = (Float(s.originalContextLength) / wavelen - s.lowFreqFactor)
                            / (s.highFreqFactor - s.lowFreqFactor)
                        f = (1 - smooth) * f / s.factor + smooth * f
                    }
                }
            }
            out[i] = f
        }
        return out
    }
}
