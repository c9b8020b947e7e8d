// The compute backend interface: everything the model's forward pass asks of the hardware.
//
// # Contract (read this before calling or implementing a backend)
//
// The model code owns the *graph* (which op runs when, with which weights); a backend owns the
// *memory and the arithmetic*. Nothing numeric happens in the model code itself, so a CUDA or
// OpenCL backend can implement this protocol without the model changing.
//
// Ownership
// - Weights are uploaded once with `uploadWeight` and stay in their stored format (quantized
//   weights stay quantized). The CPU backend uses the caller's bytes in place (the memory-mapped
//   file); `owner` is retained for as long as the weight lives so the mapping stays valid. A GPU
//   backend copies the bytes to the device and may drop `owner` at once.
// - Activations live in `BackendBuffer`s (F32 elements, row-major `[rows, width]`), created by
//   the backend and sized by the caller for the largest step it will run. The host never
//   touches their memory directly: it uses `write`/`read`.
// - The KV cache is a pool of fixed-size blocks owned by the backend (`BackendKVCache`). The
//   engine decides which blocks each sequence uses (its *block table*) — that is how N samples
//   share one prompt's KV without copying: their block tables start with the same prompt
//   blocks. Only a prompt block that is partially filled must be duplicated (`copyKVBlocks`)
//   before two sequences append different tokens into it (copy-on-write).
//
// One step, one call per op
// - A step is described once by a `BackendBatch` (made by `makeBatch` from a `BatchLayout`):
//   the rows of the step (one token each) grouped into sequence slices. A prompt is one slice
//   with many rows; a decode step is many slices with one row each; continuous batching mixes
//   both. Every op of the step takes the whole batch, so each weight is read once per step for
//   all rows, and a GPU backend uploads tokens/positions/block tables once per step, not once
//   per layer.
// - Row `r` of slice `s` is at position `s.firstPosition + (r - s.firstRow)`. Its K/V go to that
//   position of the sequence (`storeKV`), and attention for it sees positions
//   `0 ... its own position` of the same sequence (causal).
//
// Ordering and threads
// - Ops execute in call order. A CPU backend runs each op to completion (using its own worker
//   threads inside the op); a GPU backend may enqueue and return early, so `read` is the
//   synchronisation point. A backend is driven by one thread at a time (the engine's
//   worker); it is `Sendable` only so that the engine can hand it to that thread.
// - Ops never throw: shapes are the caller's responsibility and are checked with
//   `precondition` (a mismatch is a programming error in the model code, not bad input).
//   Allocation (`upload`, `make…`) throws `BackendError` with a one-line message.
//
// Numerics (what "correct" means for every backend)
// - Matmul: `y[r, o] = sum_i W[o, i] * x[r, i] (+ bias[o])`, `W` shaped `[out, in]` as stored in
//   GGUF/safetensors (`rows` = out, `columns` = in). For integer-quantized weights (Q8_0, Q4_0,
//   Q4_K, Q6_K) the CPU backend quantizes each activation row to 8 bits on the fly exactly as
//   llama.cpp's CPU backend does (Q8_0-style blocks of 32 with a float16 scale; Q8_K-style
//   blocks of 256 for the K-quants) and accumulates in integers, so its logits match
//   llama.cpp's up to summation order; F16/BF16/F32 weights accumulate in F32 (llama.cpp
//   rounds activations to F16 for F16 weights: differences of ~1e-2 in logits are expected).
//   The CPU backend may keep a repacked copy of a matrix (16 rows interleaved for AVX-512);
//   that is invisible here.
// - RMSNorm: `y = x / sqrt(mean(x^2) + eps) * weight`, applied to each group of `weight.columns`
//   consecutive elements (a whole row, or one head for Qwen3's per-head q/k norm).
// - RoPE rotates pairs: `.adjacentPairs` rotates (x[2i], x[2i+1]) (GGUF `llama` files, whose
//   converter permuted q/k); `.halfSplit` rotates (x[i], x[i + d/2]) (Qwen GGUFs, HF
//   checkpoints). Frequency i is `base^(-2i/d)`, adjusted by Llama-3 scaling when given.
// - Attention: scaled dot-product with grouped-query heads: query head `h` reads KV head
//   `h / (heads / kvHeads)`; softmax in F32.

import Foundation

/// How weight bytes are laid out. Raw values are the GGML type ids, so a GGUF tensor's type
/// maps directly (`WeightFormat(rawValue: ggmlType)`). Block layouts are exactly GGML's.
public enum WeightFormat: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q8_0 = 8
    case q4_K = 12
    case q6_K = 14
    case bf16 = 30

    /// Elements per block (a row's length must be a multiple of it).
    public var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q8_0: return 32
        case .q4_K, .q6_K: return 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18   // f16 scale + 16 bytes of 4-bit values
        case .q8_0: return 34   // f16 scale + 32 int8 values
        case .q4_K: return 144  // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
        case .q6_K: return 210  // 128 bytes low nibbles, 64 bytes high bits, 16 int8 scales, f16 d
        }
    }

    /// Bytes of one row of `elements` values, or nil when `elements` is not a whole number of
    /// blocks (or would overflow).
    public func rowBytes(_ elements: Int) -> Int? {
        guard elements >= 0, elements % blockElements == 0 else { return nil }
        let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }

    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .q4_0: return "Q4_0"
        case .q8_0: return "Q8_0"
        case .q4_K: return "Q4_K"
        case .q6_K: return "Q6_K"
        }
    }
}

/// An allocation or upload the backend could not make; `description` is one line.
public struct BackendError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A weight matrix `[rows, columns]` (= `[out, in]`) resident in the backend. A vector (norm
/// weight, bias) is a weight with `rows == 1`.
public class BackendWeight: @unchecked Sendable {
    public let name: String
    public let format: WeightFormat
    public let rows: Int
    public let columns: Int
    init(name: String, format: WeightFormat, rows: Int, columns: Int) {
        self.name = name
        self.format = format
        self.rows = rows
        self.columns = columns
    }
}

/// Backend-owned F32 storage for activations, `capacity` elements.
public class BackendBuffer: @unchecked Sendable {
    public let capacity: Int
    init(capacity: Int) { self.capacity = capacity }
}

/// How the KV cache is shaped. Memory: `layers * blockCount * blockSize * kvHeads * headDim * 2`
/// elements of `format` (see `byteCount`).
public struct KVCacheSpec: Sendable, Equatable {
    public enum Format: Sendable { case f32, f16 }
    public var layers: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Tokens per block; a sequence of length L uses `ceil(L / blockSize)` blocks.
    public var blockSize: Int
    public var blockCount: Int
    public var format: Format

    public init(layers: Int, kvHeads: Int, headDim: Int, blockSize: Int = 32, blockCount: Int, format: Format = .f32) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.format = format
    }

    /// Bytes the cache will occupy, nil on overflow; check it against free memory first.
    public var byteCount: Int? {
        let element = format == .f32 ? 4 : 2
        var total = 2 * element
        for factor in [layers, kvHeads, headDim, blockSize, blockCount] {
            guard factor >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            total = product
        }
        return total
    }
}

/// The KV block pool. Block ids are `0 ..< spec.blockCount`; the engine allocates them.
public class BackendKVCache: @unchecked Sendable {
    public let spec: KVCacheSpec
    init(spec: KVCacheSpec) { self.spec = spec }
}

/// Rotary position embedding parameters.
public struct RopeConfig: Sendable, Equatable {
    public enum Layout: Sendable { case adjacentPairs, halfSplit }
    /// Llama-3.x `rope_scaling` (`rope_type: llama3`).
    public struct Llama3Scaling: Sendable, Equatable {
        public var factor: Float
        public var lowFrequencyFactor: Float
        public var highFrequencyFactor: Float
        public var originalContextLength: Int
        public init(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalContextLength: Int) {
            self.factor = factor
            self.lowFrequencyFactor = lowFrequencyFactor
            self.highFrequencyFactor = highFrequencyFactor
            self.originalContextLength = originalContextLength
        }
    }
    /// Rotated dimensions per head (usually the head dimension).
    public var dimensions: Int
    public var base: Float
    public var layout: Layout
    public var llama3Scaling: Llama3Scaling?

    /// The `dimensions / 2` rotation frequencies (radians per position) the backend uses.
    /// Computed by `init` from `base` and `llama3Scaling`; a model whose file lists its own
    /// frequency factors (GGUF `rope_freqs`) assigns the final values here instead.
    public var inverseFrequencies: [Float]

    public init(dimensions: Int, base: Float, layout: Layout, llama3Scaling: Llama3Scaling? = nil) {
        self.dimensions = dimensions
        self.base = base
        self.layout = layout
        self.llama3Scaling = llama3Scaling
        self.inverseFrequencies = RopeConfig.inverseFrequencies(dimensions: dimensions, base: base, llama3Scaling: llama3Scaling)
    }

    /// `base^(-2i/dimensions)` for i in `0 ..< dimensions/2`, with Llama-3 scaling applied.
    public static func inverseFrequencies(dimensions: Int, base: Float, llama3Scaling: Llama3Scaling?) -> [Float] {
        let half = max(0, dimensions / 2)
        return (0..<half).map { i in
            var frequency = pow(Double(base), -2.0 * Double(i) / Double(dimensions))
            if let s = llama3Scaling {
                // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, the band
                // between interpolated smoothly.
                let lowWavelength = Double(s.originalContextLength) / Double(s.lowFrequencyFactor)
                let highWavelength = Double(s.originalContextLength) / Double(s.highFrequencyFactor)
                let wavelength = 2.0 * Double.pi / frequency
                if wavelength > lowWavelength {
                    frequency /= Double(s.factor)
                } else if wavelength >= highWavelength {
                    let smooth = (Double(s.originalContextLength) / wavelength - Double(s.lowFrequencyFactor))
                        / Double(s.highFrequencyFactor - s.lowFrequencyFactor)
                    frequency = (1 - smooth) * frequency / Double(s.factor) + smooth * frequency
                }
            }
            return Float(frequency)
        }
    }
}

/// A backend's prepared rotary table (made once per model by `makeRope`).
public class BackendRope: @unchecked Sendable {
    public let config: RopeConfig
    init(config: RopeConfig) { self.config = config }
}

/// The rows of one sequence inside a step.
public struct SequenceSlice: Sendable, Equatable {
    /// First row of the step that belongs to this sequence; its rows are consecutive.
    public var firstRow: Int
    public var rowCount: Int
    /// Position of the first row (= tokens of this sequence already in the cache).
    public var firstPosition: Int
    /// KV block ids holding positions `0 ..< firstPosition + rowCount`, in order:
    /// position p lives in block `blockTable[p / blockSize]` at offset `p % blockSize`.
    public var blockTable: [Int32]

    public init(firstRow: Int, rowCount: Int, firstPosition: Int, blockTable: [Int32]) {
        self.firstRow = firstRow
        self.rowCount = rowCount
        self.firstPosition = firstPosition
        self.blockTable = blockTable
    }
}

/// One step: a token per row and the sequences those rows belong to.
public struct BatchLayout: Sendable, Equatable {
    public var tokens: [Int32]
    /// Must cover rows `0 ..< tokens.count` exactly, in row order.
    public var sequences: [SequenceSlice]

    public init(tokens: [Int32], sequences: [SequenceSlice]) {
        self.tokens = tokens
        self.sequences = sequences
    }

    /// Checks the layout against a cache's block size; returns a one-line problem or nil.
    public func problem(blockSize: Int, blockCount: Int) -> String? {
        var nextRow = 0
        for (index, s) in sequences.enumerated() {
            if s.firstRow != nextRow || s.rowCount < 1 {
                return "batch sequence \(index): rows start at \(s.firstRow), expected \(nextRow), count \(s.rowCount)"
            }
            nextRow += s.rowCount
            let needed = (s.firstPosition + s.rowCount + blockSize - 1) / blockSize
            if s.firstPosition < 0 || s.blockTable.count < needed {
                return "batch sequence \(index): \(s.blockTable.count) KV blocks for \(s.firstPosition + s.rowCount) positions"
            }
            if let bad = s.blockTable.first(where: { $0 < 0 || Int($0) >= blockCount }) {
                return "batch sequence \(index): KV block id \(bad) outside 0..<\(blockCount)"
            }
        }
        if nextRow != tokens.count {
            return "batch: sequences cover \(nextRow) rows, tokens has \(tokens.count)"
        }
        return nil
    }
    /// What every backend's ops look up per row, computed once per step: the row's position,
    /// its KV slot (`block * blockSize + offset` of that position), and where its sequence's
    /// block table starts in `tables` (every sequence's table, concatenated in order).
    /// Call after `problem(blockSize:blockCount:)` has found nothing wrong.
    func rowIndex(blockSize: Int) -> (positions: [Int32], slots: [Int32], tableOffsets: [Int32], tables: [Int32]) {
        var positions: [Int32] = [], slots: [Int32] = [], tableOffsets: [Int32] = [], tables: [Int32] = []
        positions.reserveCapacity(tokens.count)
        slots.reserveCapacity(tokens.count)
        tableOffsets.reserveCapacity(tokens.count)
        for s in sequences {
            let start = Int32(tables.count)
            tables.append(contentsOf: s.blockTable)
            for i in 0..<s.rowCount {
                let p = s.firstPosition + i
                positions.append(Int32(p))
                slots.append(s.blockTable[p / blockSize] * Int32(blockSize) + Int32(p % blockSize))
                tableOffsets.append(start)
            }
        }
        return (positions, slots, tableOffsets, tables)
    }
}

/// A step prepared by the backend (tokens, positions and block tables resident where the ops
/// run). Valid for any number of ops until the next `makeBatch`.
public class BackendBatch: @unchecked Sendable {
    public let layout: BatchLayout
    public var rowCount: Int { layout.tokens.count }
    init(layout: BatchLayout) { self.layout = layout }
}

/// The operations of a Llama-family forward pass. See the file header for the contract.
public protocol InferenceBackend: AnyObject, Sendable {
    /// A one-line description, e.g. "cpu (2 threads, avx512-vnni)".
    var description: String { get }

    // MARK: Allocation

    /// Makes a weight `[rows, columns]` of `format` from `bytes` (exactly `rows` rows of
    /// `format.rowBytes(columns)` bytes). `storeAs` converts at upload: any format to `.f32`
    /// (norm weights, biases), or `.f32/.f16/.bf16` to `.q8_0` (`--quantize q8_0`).
    func uploadWeight(name: String, format: WeightFormat, rows: Int, columns: Int,
                      bytes: UnsafeRawBufferPointer, owner: AnyObject?,
                      storeAs: WeightFormat?) throws -> BackendWeight
    func makeBuffer(capacity: Int) throws -> BackendBuffer
    func makeKVCache(_ spec: KVCacheSpec) throws -> BackendKVCache
    func makeRope(_ config: RopeConfig) throws -> BackendRope
    func makeBatch(_ layout: BatchLayout, cache: BackendKVCache) throws -> BackendBatch

    // MARK: Host transfer

    func write(_ values: UnsafeBufferPointer<Float>, to buffer: BackendBuffer, offset: Int)
    /// Copies `destination.count` elements starting at `offset`; waits for queued ops.
    func read(_ buffer: BackendBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>)

    // MARK: Ops (rows = batch.rowCount unless a count is given)

    /// `output[r] = dequantize(table row batch.tokens[r])`, width `table.columns`.
    func embed(_ table: BackendWeight, batch: BackendBatch, into output: BackendBuffer)
    /// RMSNorm over `count / weight.columns` groups of `weight.columns` elements.
    func rmsNorm(_ input: BackendBuffer, weight: BackendWeight, count: Int, epsilon: Float, into output: BackendBuffer)
    /// `output[rows, w.rows] = input[rows, w.columns] · wᵀ (+ bias)`. `output` must not alias `input`.
    func matmul(_ weight: BackendWeight, _ input: BackendBuffer, rows: Int, bias: BackendWeight?, into output: BackendBuffer)
    /// Rotates, in place, the first `rope.config.dimensions` of every head of every row:
    /// `x` is `[batch.rowCount, heads * headDim]`.
    func rope(_ x: BackendBuffer, heads: Int, headDim: Int, batch: BackendBatch, rope: BackendRope)
    /// Stores each row's K and V (`[rows, kvHeads * headDim]`) at its position in `layer`.
    func storeKV(layer: Int, keys: BackendBuffer, values: BackendBuffer, batch: BackendBatch, cache: BackendKVCache)
    /// Causal grouped-query attention of `queries` (`[rows, heads * headDim]`) over each
    /// row's sequence in `layer` (after `storeKV` of this step). `scale` multiplies q·k.
    func attention(layer: Int, queries: BackendBuffer, heads: Int, scale: Float,
                   batch: BackendBatch, cache: BackendKVCache, into output: BackendBuffer)
    /// `output[i] = silu(gate[i]) * up[i]` for `count` elements (may alias `gate`).
    func siluMultiply(gate: BackendBuffer, up: BackendBuffer, count: Int, into output: BackendBuffer)
    /// `output[i] = a[i] + b[i]` for `count` elements (may alias `a`).
    func add(_ a: BackendBuffer, _ b: BackendBuffer, count: Int, into output: BackendBuffer)
    /// `output[i] = input[rows[i]]`, rows of `width` elements (e.g. the last prompt row before
    /// the output projection).
    func gatherRows(_ input: BackendBuffer, rows: [Int], width: Int, into output: BackendBuffer)
    /// Copies whole KV blocks (all layers, K and V): copy-on-write of a shared partial block.
    func copyKVBlocks(_ cache: BackendKVCache, pairs: [(from: Int32, to: Int32)])
}
