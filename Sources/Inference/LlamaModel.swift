import Foundation
import ModelFormats

/// One weight as the model needs it: raw bytes in a backend format, `[rows, columns]`
/// (= `[out, in]`), plus whatever keeps the bytes alive (the memory-mapped file).
struct WeightTensor {
    var name: String
    var format: WeightFormat
    var rows: Int
    var columns: Int
    var bytes: UnsafeRawBufferPointer
    var owner: AnyObject?
}

/// The Llama-family decoder (Llama, Mistral, Qwen2, Qwen3) written against `InferenceBackend`.
///
/// The model decides which op runs when; all numbers live in the backend. One `forward` call
/// runs a whole step: any mix of prompt chunks and decode rows of different sequences, each at
/// its own position, with KV going into (and attention reading from) the block tables of the
/// `BackendBatch`.
final class LlamaModel: @unchecked Sendable {
    let config: ModelConfig
    let backend: InferenceBackend
    /// The most rows one `forward` may carry (scratch buffers are sized for it).
    let maxRows: Int
    /// The most rows whose logits one `forward` may return.
    let maxLogitRows: Int

    private struct Layer {
        var attentionNorm: BackendWeight
        var q: BackendWeight, k: BackendWeight, v: BackendWeight, o: BackendWeight
        var qBias: BackendWeight?, kBias: BackendWeight?, vBias: BackendWeight?
        var qNorm: BackendWeight?, kNorm: BackendWeight?
        var ffnNorm: BackendWeight
        var gate: BackendWeight, up: BackendWeight, down: BackendWeight
    }

    private let embedding: BackendWeight
    private let layers: [Layer]
    private let outputNorm: BackendWeight
    private let output: BackendWeight
    private let rope: BackendRope

    // Scratch activations, `[maxRows, width]`.
    private let x, normed, q, k, v, attended, projected, gate, up: BackendBuffer
    private let lastRows, lastNormed, logits: BackendBuffer

    var qWidth: Int { config.headCount * config.headDim }
    var kvWidth: Int { config.kvHeadCount * config.headDim }

    /// Uploads every weight. `tensor(name)` returns the named tensor or throws a one-line
    /// error naming the file; `quantizeTo` converts F32/F16/BF16 matrices at upload.
    init(config: ModelConfig, backend: InferenceBackend, maxRows: Int, maxLogitRows: Int,
         ropeFrequencyFactors: [Float]?, quantizeTo: WeightFormat?,
         tensor: (String) throws -> WeightTensor?, file: String) throws {
        self.config = config
        self.backend = backend
        self.maxRows = maxRows
        self.maxLogitRows = maxLogitRows
        let c = config

        func load(_ name: String, rows: Int, columns: Int, matrix: Bool) throws -> BackendWeight {
            guard let t = try tensor(name) else {
                throw InferenceError("\(file): missing tensor \(name)")
            }
            // A vector may be stored as [n] (rows 1) — accept either orientation of a 1-row shape.
            let shapeMatches = (t.rows == rows && t.columns == columns) || (!matrix && t.rows * t.columns == rows * columns)
            guard shapeMatches else {
                throw InferenceError("\(file): tensor \(name) has shape [\(t.rows), \(t.columns)], expected [\(rows), \(columns)]")
            }
            var storeAs: WeightFormat? = matrix ? nil : .f32
            if matrix, let target = quantizeTo, [.f32, .f16, .bf16].contains(t.format),
               columns % target.blockElements == 0 {
                storeAs = target
            }
            do {
                return try backend.uploadWeight(name: name, format: t.format, rows: matrix ? rows : 1,
                                                columns: matrix ? columns : rows * columns, bytes: t.bytes,
                                                owner: t.owner, storeAs: storeAs)
            } catch let error as BackendError {
                throw InferenceError("\(file): tensor \(name): \(error.description)")
            }
        }

        embedding = try load("token_embd.weight", rows: c.vocabSize, columns: c.hiddenSize, matrix: true)
        var layers: [Layer] = []
        for i in 0..<c.layerCount {
            let p = "blk.\(i)."
            let qWidth = c.headCount * c.headDim, kvWidth = c.kvHeadCount * c.headDim
            layers.append(Layer(
                attentionNorm: try load(p + "attn_norm.weight", rows: 1, columns: c.hiddenSize, matrix: false),
                q: try load(p + "attn_q.weight", rows: qWidth, columns: c.hiddenSize, matrix: true),
                k: try load(p + "attn_k.weight", rows: kvWidth, columns: c.hiddenSize, matrix: true),
                v: try load(p + "attn_v.weight", rows: kvWidth, columns: c.hiddenSize, matrix: true),
                o: try load(p + "attn_output.weight", rows: c.hiddenSize, columns: qWidth, matrix: true),
                qBias: c.attentionBias ? try load(p + "attn_q.bias", rows: 1, columns: qWidth, matrix: false) : nil,
                kBias: c.attentionBias ? try load(p + "attn_k.bias", rows: 1, columns: kvWidth, matrix: false) : nil,
                vBias: c.attentionBias ? try load(p + "attn_v.bias", rows: 1, columns: kvWidth, matrix: false) : nil,
                qNorm: c.qkNorm ? try load(p + "attn_q_norm.weight", rows: 1, columns: c.headDim, matrix: false) : nil,
                kNorm: c.qkNorm ? try load(p + "attn_k_norm.weight", rows: 1, columns: c.headDim, matrix: false) : nil,
                ffnNorm: try load(p + "ffn_norm.weight", rows: 1, columns: c.hiddenSize, matrix: false),
                gate: try load(p + "ffn_gate.weight", rows: c.intermediateSize, columns: c.hiddenSize, matrix: true),
                up: try load(p + "ffn_up.weight", rows: c.intermediateSize, columns: c.hiddenSize, matrix: true),
                down: try load(p + "ffn_down.weight", rows: c.hiddenSize, columns: c.intermediateSize, matrix: true)))
        }
        self.layers = layers
        outputNorm = try load("output_norm.weight", rows: 1, columns: c.hiddenSize, matrix: false)
        if !c.tiedEmbeddings, try tensor("output.weight") != nil {
            output = try load("output.weight", rows: c.vocabSize, columns: c.hiddenSize, matrix: true)
        } else {
            output = embedding
        }

        rope = try backend.makeRope(LlamaModel.ropeConfig(config, frequencyFactors: ropeFrequencyFactors))

        let widest = max(c.hiddenSize, c.headCount * c.headDim)
        func buffer(_ width: Int, rows: Int = maxRows) throws -> BackendBuffer {
            try backend.makeBuffer(capacity: rows * width)
        }
        do {
            x = try buffer(c.hiddenSize)
            normed = try buffer(widest)
            q = try buffer(c.headCount * c.headDim)
            k = try buffer(c.kvHeadCount * c.headDim)
            v = try buffer(c.kvHeadCount * c.headDim)
            attended = try buffer(c.headCount * c.headDim)
            projected = try buffer(c.hiddenSize)
            gate = try buffer(c.intermediateSize)
            up = try buffer(c.intermediateSize)
            lastRows = try buffer(c.hiddenSize, rows: maxLogitRows)
            lastNormed = try buffer(c.hiddenSize, rows: maxLogitRows)
            logits = try buffer(c.vocabSize, rows: maxLogitRows)
        } catch let error as BackendError {
            throw InferenceError("\(file): cannot allocate activations: \(error.description)")
        }
    }

    static func ropeConfig(_ c: ModelConfig, frequencyFactors: [Float]?) -> RopeConfig {
        var scaling: RopeConfig.Llama3Scaling?
        if let s = c.ropeScaling, s.kind == .llama3 {
            scaling = RopeConfig.Llama3Scaling(factor: s.factor, lowFrequencyFactor: s.lowFreqFactor,
                                               highFrequencyFactor: s.highFreqFactor,
                                               originalContextLength: s.originalContextLength)
        }
        var config = RopeConfig(dimensions: c.headDim, base: c.ropeTheta,
                                layout: c.ropeLayout == .adjacentPairs ? .adjacentPairs : .halfSplit,
                                llama3Scaling: scaling)
        config.inverseFrequencies = c.ropeInverseFrequencies(freqFactors: frequencyFactors)
        return config
    }

    /// Runs one step and returns the logits of `logitRows` (row indices of the batch), one
    /// `vocabSize` row each, in that order.
    func forward(_ batch: BackendBatch, cache: BackendKVCache, logitRows: [Int]) -> [Float] {
        let c = config
        let rows = batch.rowCount
        precondition(rows <= maxRows && logitRows.count <= maxLogitRows)
        let scale = 1 / Float(c.headDim).squareRoot()
        backend.embed(embedding, batch: batch, into: x)
        for (index, layer) in layers.enumerated() {
            backend.rmsNorm(x, weight: layer.attentionNorm, count: rows * c.hiddenSize, epsilon: c.rmsNormEps, into: normed)
            backend.matmul(layer.q, normed, rows: rows, bias: layer.qBias, into: q)
            backend.matmul(layer.k, normed, rows: rows, bias: layer.kBias, into: k)
            backend.matmul(layer.v, normed, rows: rows, bias: layer.vBias, into: v)
            var queries = q, keys = k
            if let qNorm = layer.qNorm, let kNorm = layer.kNorm {
                // Per-head RMSNorm (Qwen3): out of place, into buffers free at this point.
                backend.rmsNorm(q, weight: qNorm, count: rows * qWidth, epsilon: c.rmsNormEps, into: attended)
                backend.rmsNorm(k, weight: kNorm, count: rows * kvWidth, epsilon: c.rmsNormEps, into: normed)
                queries = attended
                keys = normed
            }
            backend.rope(queries, heads: c.headCount, headDim: c.headDim, batch: batch, rope: rope)
            backend.rope(keys, heads: c.kvHeadCount, headDim: c.headDim, batch: batch, rope: rope)
            backend.storeKV(layer: index, keys: keys, values: v, batch: batch, cache: cache)
            let attentionOut = queries === attended ? q : attended
            backend.attention(layer: index, queries: queries, heads: c.headCount, scale: scale,
                              batch: batch, cache: cache, into: attentionOut)
            backend.matmul(layer.o, attentionOut, rows: rows, bias: nil, into: projected)
            backend.add(x, projected, count: rows * c.hiddenSize, into: x)

            backend.rmsNorm(x, weight: layer.ffnNorm, count: rows * c.hiddenSize, epsilon: c.rmsNormEps, into: normed)
            backend.matmul(layer.gate, normed, rows: rows, bias: nil, into: gate)
            backend.matmul(layer.up, normed, rows: rows, bias: nil, into: up)
            backend.siluMultiply(gate: gate, up: up, count: rows * c.intermediateSize, into: gate)
            backend.matmul(layer.down, gate, rows: rows, bias: nil, into: projected)
            backend.add(x, projected, count: rows * c.hiddenSize, into: x)
        }
        guard !logitRows.isEmpty else { return [] }
        backend.gatherRows(x, rows: logitRows, width: c.hiddenSize, into: lastRows)
        backend.rmsNorm(lastRows, weight: outputNorm, count: logitRows.count * c.hiddenSize, epsilon: c.rmsNormEps, into: lastNormed)
        backend.matmul(output, lastNormed, rows: logitRows.count, bias: nil, into: logits)
        var result = [Float](repeating: 0, count: logitRows.count * c.vocabSize)
        result.withUnsafeMutableBufferPointer { backend.read(logits, offset: 0, into: $0) }
        return result
    }
}
