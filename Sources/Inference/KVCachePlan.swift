import Foundation
import ModelFormats

/// Sizing of the KV cache, decided before anything is allocated.
///
/// The cache is a pool of blocks (see `KVCacheSpec`). The engine gives every sequence slot
/// enough blocks for the whole context, so admission never runs out of blocks halfway through a
/// generation: `blocks = maxSequences × ceil(contextLength / blockSize)`. Prompt sharing then only
/// leaves blocks unused; it never needs more.
public struct KVCachePlan: Sendable, Equatable {
    public var spec: KVCacheSpec
    public var contextLength: Int
    public var maxSequences: Int

    public static let defaultBlockSize = 16

    public init(config: ModelConfig, contextLength: Int, maxSequences: Int,
                format: KVCacheSpec.Format = .f32, blockSize: Int = KVCachePlan.defaultBlockSize) {
        self.contextLength = contextLength
        self.maxSequences = maxSequences
        let perSequence = (contextLength + blockSize - 1) / blockSize
        spec = KVCacheSpec(layers: config.layerCount, kvHeads: config.kvHeadCount, headDim: config.headDim,
                           blockSize: blockSize, blockCount: perSequence * maxSequences, format: format)
    }

    public var blocksPerSequence: Int { (contextLength + spec.blockSize - 1) / spec.blockSize }

    /// Bytes the cache needs (nil: too large to even count).
    public var byteCount: Int? { spec.byteCount }

    /// Throws a one-line error when the plan is unusable or does not fit in `available` bytes
    /// (by default /proc/meminfo's MemAvailable), keeping a quarter of it in reserve.
    public func check(modelContextLength: Int, available: Int? = availableSystemMemory()) throws {
        guard contextLength >= 1 else { throw InferenceError("context length \(contextLength) must be at least 1") }
        guard contextLength <= modelContextLength else {
            throw InferenceError("context length \(contextLength) exceeds the model's \(modelContextLength)")
        }
        guard maxSequences >= 1 else { throw InferenceError("batch size \(maxSequences) must be at least 1") }
        guard let bytes = byteCount else {
            throw InferenceError("KV cache for context \(contextLength) × \(maxSequences) sequences is too large to allocate")
        }
        if let available {
            // Keep a quarter of what is free for activations, the tokenizer and everyone else.
            let usable = available / 4 * 3
            if bytes > usable {
                throw InferenceError("KV cache for context \(contextLength) × \(maxSequences) sequences needs "
                    + "\(formatBytes(bytes)) but only \(formatBytes(available)) of memory is available; "
                    + "lower the context length or the batch size")
            }
        }
    }
}

/// Hands out KV blocks and counts how many sequences use each, so prompt blocks shared by
/// several samples are freed only when the last one finishes.
struct KVBlockPool {
    private var free: [Int32]
    private var references: [Int32]

    init(blockCount: Int) {
        free = (0..<Int32(blockCount)).reversed()
        references = Array(repeating: 0, count: blockCount)
    }

    var freeCount: Int { free.count }

    mutating func allocate() -> Int32? {
        guard let block = free.popLast() else { return nil }
        references[Int(block)] = 1
        return block
    }

    mutating func retain(_ blocks: [Int32]) {
        for b in blocks { references[Int(b)] += 1 }
    }

    mutating func release(_ blocks: [Int32]) {
        for b in blocks {
            references[Int(b)] -= 1
            if references[Int(b)] == 0 { free.append(b) }
        }
    }
}
