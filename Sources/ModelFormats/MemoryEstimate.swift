import Foundation

/// Bytes a model needs to run with a given context and batch: what `stepwise model-info`
/// prints and what the engine checks before allocating its KV cache.
public struct MemoryEstimate: Sendable, Equatable {
    /// Weights as stored (mapped from the file; counted because they must be resident).
    public var weightBytes: Int
    /// K and V for every layer, kv head, position and sequence.
    public var kvCacheBytes: Int
    /// Scratch for one forward step (hidden states, attention scores, logits).
    public var activationBytes: Int
    /// The sum (saturating at Int.max for absurd contexts or batches).
    public var totalBytes: Int { saturatingSum([weightBytes, kvCacheBytes, activationBytes]) }
}

extension ModelConfig {
    /// KV cache size: 2 (K and V) × layers × kvHeads × headDim × context × batch × element size.
    public func kvCacheBytes(context: Int, batch: Int, bytesPerElement: Int = 2) -> Int {
        let perPosition = 2 * layerCount * kvHeadCount * headDim * bytesPerElement
        let (a, o1) = perPosition.multipliedReportingOverflow(by: max(context, 0))
        let (b, o2) = a.multipliedReportingOverflow(by: max(batch, 0))
        return (o1 || o2) ? Int.max : b
    }

    /// Scratch for one step with `tokens` tokens in flight (a prompt chunk or a decode batch),
    /// attending over `context` positions, producing logits for `batch` sequences; F32 throughout.
    public func activationBytes(tokens: Int, context: Int, batch: Int) -> Int {
        let qDim = headCount * headDim, kvDim = kvHeadCount * headDim
        // residual, normed input, q, k, v, attention output, gate, up
        let perToken = 3 * hiddenSize + qDim + 2 * kvDim + qDim + 2 * intermediateSize
        // One row of attention scores per head; the rest as F32. Saturates instead of trapping
        // when a caller asks about an absurd context or batch.
        let scores = saturatingProduct([headCount, max(context, 0)])
        let hidden = saturatingProduct([max(tokens, 0), saturatingSum([perToken, scores]), 4])
        return saturatingSum([hidden, saturatingProduct([max(batch, 0), vocabSize, 4])])
    }
}

extension ModelFile {
    /// Estimate for `batch` sequences of up to `context` positions; prompts processed in
    /// chunks of `promptChunk` tokens.
    public func memoryEstimate(context: Int, batch: Int, kvBytesPerElement: Int = 2, promptChunk: Int = 512) -> MemoryEstimate {
        let weights = tensors.reduce(0) { $0 + $1.data.count }
        return MemoryEstimate(
            weightBytes: weights,
            kvCacheBytes: config.kvCacheBytes(context: context, batch: batch, bytesPerElement: kvBytesPerElement),
            activationBytes: config.activationBytes(tokens: max(batch, min(promptChunk, context)), context: context, batch: batch))
    }
}

func saturatingSum(_ xs: [Int]) -> Int {
    var total = 0
    for x in xs {
        let (r, o) = total.addingReportingOverflow(x)
        if o { return Int.max }
        total = r
    }
    return total
}

func saturatingProduct(_ xs: [Int]) -> Int {
    var total = 1
    for x in xs {
        let (r, o) = total.multipliedReportingOverflow(by: x)
        if o { return Int.max }
        total = r
    }
    return total
}

/// Memory the system could give this process now (Linux `MemAvailable`), or nil if unknown.
public func availableSystemMemory() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
        let parts = line.split(separator: " ")
        if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
    }
    return nil
}

/// "1.23 GiB" style rendering.
public func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n)
    var u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.2f", v) + " " + units[u]
}
