// Backend-ops cases for the ops other than embedding and matrix products: RMSNorm (whole rows
// and per-head groups), RoPE (both layouts, Llama-3 scaling, fewer rotated dimensions than the
// head), KV stores and attention (prompts of 1 to 100 rows, decode batches whose sequences
// share prompt blocks through their block tables, a mixed step, grouped-query heads, several
// head dimensions and block sizes, a sharply peaked softmax), SiLU-gate, add, row gathering and
// KV block copies.
//
// The KV cache cannot be read directly through `InferenceBackend`, so `storeKV` and
// `copyKVBlocks` are checked through attention: a wrong slot, block or layer changes its output.
// Block ids are deliberately not in order, so a table lookup that ignored the table would fail.
//
// Outputs are pre-filled with NaN where the op must write (an element left unwritten fails the
// case) followed by guard values it must leave alone.
//
// Thresholds (normalised error Σ(got-want)²/Σwant²): element-wise ops do the same float
// operations on both backends (exp, sin and cos may differ by an ulp or two), so errors are
// ~1e-14; 1e-10 leaves room for that and nothing else. RMSNorm and attention sum in a different
// order (errors ~1e-13); ggml allows 1e-7 for norms and 5e-4 for attention because its GPU
// attention runs in F16; ours is F32 throughout, so 1e-9 would already catch a single wrong key.

extension BackendOpsCheck {
    static let elementwiseThreshold = 1e-10
    static let normThreshold = 1e-10
    static let ropeThreshold = 1e-10
    static let attentionThreshold = 1e-9

    static func coreCases() -> [BackendOpCase] {
        var cases: [BackendOpCase] = []
        // RMSNorm: whole rows (odd widths included) and per-head groups (Qwen3's q/k norm).
        for (rows, dim, groupWidth) in [(1, 896, 896), (7, 1000, 1000), (3, 33, 33), (5, 14 * 64, 64), (9, 8 * 128, 128), (2, 4096, 4096)] {
            cases.append(rmsNormCase(rows: rows, width: dim, groupWidth: groupWidth, inPlace: false))
        }
        cases.append(rmsNormCase(rows: 4, width: 896, groupWidth: 896, inPlace: true))

        // RoPE: both layouts, positions far from 0 in several sequences, partial rotation,
        // Llama-3 scaling.
        let llama3 = RopeConfig.Llama3Scaling(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContextLength: 8192)
        for layout in [RopeConfig.Layout.adjacentPairs, .halfSplit] {
            cases.append(ropeCase(layout: layout, heads: 14, headDim: 64, dimensions: 64, base: 1_000_000, scaling: nil))
            cases.append(ropeCase(layout: layout, heads: 8, headDim: 128, dimensions: 128, base: 500_000, scaling: llama3))
            cases.append(ropeCase(layout: layout, heads: 4, headDim: 80, dimensions: 32, base: 10_000, scaling: nil))
        }

        // Attention: prompts of several lengths over three head configurations.
        let configurations = [
            AttentionShape(heads: 4, kvHeads: 4, headDim: 64, blockSize: 16),
            AttentionShape(heads: 8, kvHeads: 2, headDim: 128, blockSize: 32),
            AttentionShape(heads: 14, kvHeads: 2, headDim: 80, blockSize: 16),
        ]
        for shape in configurations {
            for rows in [1, 7, 33, 100] {
                cases.append(attentionCase("prompt of \(rows)", shape, steps: [.prompt(rows)]))
            }
            // A shared 37-token prompt, then 4 sequences decoding together (the partial last
            // prompt block copied for 3 of them), then a step mixing decode rows with a
            // sequence appending 3 rows.
            cases.append(attentionCase("prompt 37, decode 4 sequences x 2 steps, mixed step", shape,
                                       steps: [.prompt(37), .decode(sequences: 4), .decode(sequences: 4), .mixed]))
        }
        // A sharply peaked softmax (large scores): the running maximum must keep exp in range.
        cases.append(attentionCase("prompt of 70, sharply peaked scores", AttentionShape(heads: 8, kvHeads: 2, headDim: 64, blockSize: 16),
                                   steps: [.prompt(70)], queryScale: 40))
        // Long contexts with few rows: the GPU splits each row's keys into ranges and merges
        // them (rows shorter than a range's start leave it empty: the joining prompt). Scores
        // are peaked (queries x8): over hundreds of keys a flat softmax averages the values
        // to nearly nothing, which would hide a wrongly weighted range.
        cases.append(attentionCase("prompt 300, decode 3 sequences x 2 steps", configurations[1],
                                   steps: [.prompt(300), .decode(sequences: 3), .decode(sequences: 3)], queryScale: 8))
        cases.append(attentionCase("prompt 1000, decode 2, mixed step, a prompt of 5 joins", configurations[2],
                                   steps: [.prompt(1000), .decode(sequences: 2), .mixed, .join(5)], queryScale: 8))
        cases.append(attentionCase("prompt 700, decode 1, block 48", AttentionShape(heads: 4, kvHeads: 1, headDim: 64, blockSize: 48),
                                   steps: [.prompt(700), .decode(sequences: 1), .join(3)], queryScale: 8))
        // More query heads per KV head than one GPU work-group takes (8): 10 = 8 + 2.
        cases.append(attentionCase("prompt 33, decode 3 sequences", AttentionShape(heads: 20, kvHeads: 2, headDim: 64, blockSize: 16),
                                   steps: [.prompt(33), .decode(sequences: 3)]))
        // Block size 32 with a 256-wide head (the kernel's largest).
        cases.append(attentionCase("prompt of 40, head dim 256", AttentionShape(heads: 2, kvHeads: 1, headDim: 256, blockSize: 32),
                                   steps: [.prompt(40), .decode(sequences: 2)]))

        for count in [1, 1000, 65_537] {
            cases.append(siluCase(count: count, inPlace: false))
            cases.append(addCase(count: count, inPlace: false))
        }
        cases.append(siluCase(count: 4864 * 3, inPlace: true))
        cases.append(addCase(count: 896 * 5, inPlace: true))
        cases.append(gatherCase(rows: [6], inputRows: 7, width: 896))
        cases.append(gatherCase(rows: [0, 5, 2, 5], inputRows: 6, width: 37))
        cases.append(gatherCase(rows: [3, 4, 5, 0, 1, 1, 2], inputRows: 6, width: 65))
        cases.append(copyKVBlocksCase())
        return cases
    }

    // MARK: Helpers

    private static let guardCount = 32
    private static let guardValue: Float = -777

    /// NaN where the op must write, then guard values.
    private static func outputFill(_ count: Int) -> [Float] {
        [Float](repeating: .nan, count: count) + [Float](repeating: guardValue, count: guardCount)
    }

    private static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    /// The first `count` elements of `buffer`.
    private static func values(_ backend: InferenceBackend, _ buffer: BackendBuffer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            backend.read(buffer, offset: 0, into: out)
            initialized = count
        }
    }

    private static func buffer(_ backend: InferenceBackend, _ values: [Float]) throws -> BackendBuffer {
        let b = try backend.makeBuffer(capacity: max(values.count, 1))
        values.withUnsafeBufferPointer { backend.write($0, to: b, offset: 0) }
        return b
    }

    // MARK: RMSNorm

    static func rmsNormCase(rows: Int, width: Int, groupWidth: Int, inPlace: Bool) -> BackendOpCase {
        var shape = "\(rows) rows x \(width)"
        if groupWidth != width { shape += " in groups of \(groupWidth)" }
        if inPlace { shape += ", in place" }
        return BackendOpCase(op: "rmsNorm", shape: shape, threshold: normThreshold) { pair, rng in
            let count = rows * width
            // Rows of different magnitudes, so the per-group scale matters.
            var input = rng.floats(count)
            for g in 0..<(count / groupWidth) {
                let factor = Float(1 + g % 5) * 0.7
                for i in 0..<groupWidth { input[g * groupWidth + i] *= factor }
            }
            let weight = try pair.weights(name: "norm", format: .f32, rows: 1, columns: groupWidth,
                                          bytes: floatBytes(rng.floats(groupWidth, scale: 2)))
            let x = try pair.buffers(input + [Float](repeating: guardValue, count: guardCount))
            if inPlace {
                pair.test.rmsNorm(x.test, weight: weight.test, count: count, epsilon: 1e-6, into: x.test)
                pair.reference.rmsNorm(x.reference, weight: weight.reference, count: count, epsilon: 1e-6, into: x.reference)
                return pair.read(x, count: count + guardCount)
            }
            let out = try pair.buffers(outputFill(count))
            pair.test.rmsNorm(x.test, weight: weight.test, count: count, epsilon: 1e-6, into: out.test)
            pair.reference.rmsNorm(x.reference, weight: weight.reference, count: count, epsilon: 1e-6, into: out.reference)
            return pair.read(out, count: count + guardCount)
        }
    }

    // MARK: RoPE

    static func ropeCase(layout: RopeConfig.Layout, heads: Int, headDim: Int, dimensions: Int, base: Float,
                         scaling: RopeConfig.Llama3Scaling?) -> BackendOpCase {
        var shape = "\(layout == .adjacentPairs ? "adjacent" : "half-split"), \(heads) heads x \(headDim)"
        if dimensions != headDim { shape += ", \(dimensions) rotated" }
        if scaling != nil { shape += ", llama3 scaling" }
        return BackendOpCase(op: "rope", shape: shape, threshold: ropeThreshold) { pair, rng in
            // Three sequences: a prompt from 0, a decode row far into its context, a chunk
            // continuing at position 3000.
            let blockSize = 64
            let batchLayout = BatchLayout(tokens: [Int32](repeating: 1, count: 13), sequences: [
                SequenceSlice(firstRow: 0, rowCount: 7, firstPosition: 0, blockTable: [0]),
                SequenceSlice(firstRow: 7, rowCount: 1, firstPosition: 8190, blockTable: [Int32](repeating: 1, count: 128)),
                SequenceSlice(firstRow: 8, rowCount: 5, firstPosition: 3000, blockTable: [Int32](repeating: 2, count: 48)),
            ])
            let spec = KVCacheSpec(layers: 1, kvHeads: 1, headDim: headDim, blockSize: blockSize, blockCount: 3)
            let config = RopeConfig(dimensions: dimensions, base: base, layout: layout, llama3Scaling: scaling)
            let count = 13 * heads * headDim
            let input = rng.floats(count)
            func run(_ backend: InferenceBackend) throws -> [Float] {
                let batch = try backend.makeBatch(batchLayout, cache: try backend.makeKVCache(spec))
                let rope = try backend.makeRope(config)
                let x = try buffer(backend, input + [Float](repeating: guardValue, count: guardCount))
                backend.rope(x, heads: heads, headDim: headDim, batch: batch, rope: rope)
                return values(backend, x, count: count + guardCount)
            }
            return (try run(pair.test), try run(pair.reference))
        }
    }

    // MARK: KV store and attention

    struct AttentionShape: Sendable {
        let heads: Int, kvHeads: Int, headDim: Int, blockSize: Int
        var description: String { "\(heads)/\(kvHeads) heads x \(headDim), block \(blockSize)" }
    }

    /// One step of an attention scenario.
    enum AttentionStep: Sendable {
        /// A new sequence's prompt of `rows` tokens (sequence 0).
        case prompt(Int)
        /// One new token for each of `sequences` sequences that share sequence 0's prompt.
        case decode(sequences: Int)
        /// A decode row for every sequence but the last, which appends 3 rows at once.
        case mixed
        /// A decode row for every sequence, and a new sequence's prompt of `rows` tokens in the
        /// same step (continuous batching: short and long sequences side by side).
        case join(Int)
    }

    /// Runs `steps` on one backend and returns the attention outputs of both layers of every
    /// step but the first (of the only step when there is one).
    /// Block ids are handed out in a scrambled order; before the first decode step the
    /// partially filled last prompt block is copied for every sequence but the first
    /// (copy-on-write), so those sequences' tables point at their copies.
    private static func attentionScenario(_ backend: InferenceBackend, _ shape: AttentionShape, steps: [AttentionStep],
                                          inputs: [[Float]], scale: Float) throws -> [Float] {
        let layers = 2
        let blockCount = 160
        // Scrambled block ids: 0, 37, 74, 111, 148, 25, ... (37 is coprime to 160, so all distinct).
        var freeBlocks = (0..<blockCount).map { Int32(($0 * 37) % blockCount) }
        func takeBlock() -> Int32 { freeBlocks.removeFirst() }
        let spec = KVCacheSpec(layers: layers, kvHeads: shape.kvHeads, headDim: shape.headDim,
                               blockSize: shape.blockSize, blockCount: blockCount)
        let cache = try backend.makeKVCache(spec)
        var tables: [[Int32]] = []
        var lengths: [Int] = []
        var outputs: [Float] = []
        let qWidth = shape.heads * shape.headDim, kvWidth = shape.kvHeads * shape.headDim

        for (index, step) in steps.enumerated() {
            // Rows each sequence appends this step.
            var appends: [Int]
            switch step {
            case .prompt(let rows):
                tables = [[]]
                lengths = [0]
                appends = [rows]
            case .decode(let sequences):
                if tables.count < sequences {
                    // Fork sequence 0: share its full blocks, copy its partial last block.
                    var copies: [(from: Int32, to: Int32)] = []
                    let prompt = tables[0], promptLength = lengths[0]
                    for _ in tables.count..<sequences {
                        var table = prompt
                        if promptLength % shape.blockSize != 0, let last = prompt.last {
                            let copy = takeBlock()
                            copies.append((from: last, to: copy))
                            table[table.count - 1] = copy
                        }
                        tables.append(table)
                        lengths.append(promptLength)
                    }
                    backend.copyKVBlocks(cache, pairs: copies)
                }
                appends = [Int](repeating: 1, count: tables.count)
            case .mixed:
                appends = [Int](repeating: 1, count: tables.count)
                appends[appends.count - 1] = 3
            case .join(let rows):
                appends = [Int](repeating: 1, count: tables.count) + [rows]
                tables.append([])
                lengths.append(0)
            }
            var sequences: [SequenceSlice] = []
            var row = 0
            for s in 0..<tables.count {
                let newLength = lengths[s] + appends[s]
                while tables[s].count * shape.blockSize < newLength { tables[s].append(takeBlock()) }
                sequences.append(SequenceSlice(firstRow: row, rowCount: appends[s], firstPosition: lengths[s], blockTable: tables[s]))
                row += appends[s]
                lengths[s] = newLength
            }
            let rows = row
            let batch = try backend.makeBatch(BatchLayout(tokens: [Int32](repeating: 0, count: rows), sequences: sequences), cache: cache)
            // inputs[index] holds, per layer, keys, values and queries of this step.
            let data = inputs[index]
            var offset = 0
            func next(_ n: Int) -> [Float] {
                defer { offset += n }
                return Array(data[offset..<(offset + n)])
            }
            for layer in 0..<layers {
                let keys = try buffer(backend, next(rows * kvWidth))
                let values = try buffer(backend, next(rows * kvWidth))
                let queries = try buffer(backend, next(rows * qWidth))
                let out = try buffer(backend, outputFill(rows * qWidth))
                backend.storeKV(layer: layer, keys: keys, values: values, batch: batch, cache: cache)
                backend.attention(layer: layer, queries: queries, heads: shape.heads, scale: scale,
                                  batch: batch, cache: cache, into: out)
                // A multi-step scenario checks the steps after its first prompt: those rows
                // are few next to the prompt's, and an error in them would be diluted below
                // the threshold by the prompt's (which the prompt-only cases check).
                if index > 0 || steps.count == 1 {
                    outputs += Self.values(backend, out, count: rows * qWidth + guardCount)
                }
            }
        }
        return outputs
    }

    static func attentionCase(_ what: String, _ shape: AttentionShape, steps: [AttentionStep], queryScale: Float = 1) -> BackendOpCase {
        BackendOpCase(op: "attention", shape: "\(what), \(shape.description)", threshold: attentionThreshold) { pair, rng in
            // Rows per step, replaying the scenario's bookkeeping: decode and mixed steps have
            // a row per sequence (+2 for the mixed step's appending sequence).
            var sequences = 1
            var inputs: [[Float]] = []
            for step in steps {
                let rows: Int
                switch step {
                case .prompt(let n): rows = n; sequences = 1
                case .decode(let n): sequences = max(sequences, n); rows = sequences
                case .mixed: rows = sequences + 2
                case .join(let n): rows = sequences + n; sequences += 1
                }
                var data: [Float] = []
                for _ in 0..<2 {
                    data += rng.floats(rows * shape.kvHeads * shape.headDim)
                    data += rng.floats(rows * shape.kvHeads * shape.headDim)
                    data += rng.floats(rows * shape.heads * shape.headDim, scale: queryScale)
                }
                inputs.append(data)
            }
            let scale = 1 / Float(shape.headDim).squareRoot()
            return (try attentionScenario(pair.test, shape, steps: steps, inputs: inputs, scale: scale),
                    try attentionScenario(pair.reference, shape, steps: steps, inputs: inputs, scale: scale))
        }
    }

    /// Whole blocks copied in every layer: keys and values stored in scrambled blocks of both
    /// layers, copied to other blocks, the originals overwritten, then attention reads the
    /// copies (the one full and the one partial block) in each layer.
    static func copyKVBlocksCase() -> BackendOpCase {
        let shape = AttentionShape(heads: 4, kvHeads: 2, headDim: 64, blockSize: 16)
        return BackendOpCase(op: "copyKVBlocks", shape: "2 blocks x 3 layers, \(shape.description)", threshold: attentionThreshold) { pair, rng in
            let layers = 3, rows = 20
            let kvWidth = shape.kvHeads * shape.headDim, qWidth = shape.heads * shape.headDim
            var stored: [Float] = [], overwrite: [Float] = [], queries: [Float] = []
            for _ in 0..<layers {
                stored += rng.floats(2 * rows * kvWidth)
                overwrite += rng.floats(2 * rows * kvWidth)
                queries += rng.floats(rows * qWidth)
            }
            func run(_ backend: InferenceBackend) throws -> [Float] {
                let spec = KVCacheSpec(layers: layers, kvHeads: shape.kvHeads, headDim: shape.headDim, blockSize: shape.blockSize, blockCount: 8)
                let cache = try backend.makeKVCache(spec)
                func step(_ table: [Int32]) throws -> BackendBatch {
                    try backend.makeBatch(BatchLayout(tokens: [Int32](repeating: 0, count: rows), sequences: [
                        SequenceSlice(firstRow: 0, rowCount: rows, firstPosition: 0, blockTable: table),
                    ]), cache: cache)
                }
                func store(_ data: [Float], _ batch: BackendBatch) throws {
                    for layer in 0..<layers {
                        let base = layer * 2 * rows * kvWidth
                        let k = try buffer(backend, Array(data[base..<(base + rows * kvWidth)]))
                        let v = try buffer(backend, Array(data[(base + rows * kvWidth)..<(base + 2 * rows * kvWidth)]))
                        backend.storeKV(layer: layer, keys: k, values: v, batch: batch, cache: cache)
                    }
                }
                try store(stored, try step([5, 2]))
                backend.copyKVBlocks(cache, pairs: [(from: 5, to: 7), (from: 2, to: 0)])
                try store(overwrite, try step([5, 2]))
                // Attention over the copies only: no storeKV in this step.
                let batch = try step([7, 0])
                var outputs: [Float] = []
                for layer in 0..<layers {
                    let q = try buffer(backend, Array(queries[(layer * rows * qWidth)..<((layer + 1) * rows * qWidth)]))
                    let out = try buffer(backend, outputFill(rows * qWidth))
                    backend.attention(layer: layer, queries: q, heads: shape.heads, scale: 0.125, batch: batch, cache: cache, into: out)
                    outputs += values(backend, out, count: rows * qWidth + guardCount)
                }
                return outputs
            }
            return (try run(pair.test), try run(pair.reference))
        }
    }

    // MARK: Element-wise ops and row gathering

    static func siluCase(count: Int, inPlace: Bool) -> BackendOpCase {
        BackendOpCase(op: "siluMultiply", shape: "\(count)\(inPlace ? ", in place" : "")", threshold: elementwiseThreshold) { pair, rng in
            let gate = try pair.buffers(rng.floats(count, scale: 6) + [Float](repeating: guardValue, count: guardCount))
            let up = try pair.buffers(rng.floats(count, scale: 2))
            let out = try inPlace ? gate : pair.buffers(outputFill(count))
            pair.test.siluMultiply(gate: gate.test, up: up.test, count: count, into: out.test)
            pair.reference.siluMultiply(gate: gate.reference, up: up.reference, count: count, into: out.reference)
            return pair.read(out, count: count + guardCount)
        }
    }

    static func addCase(count: Int, inPlace: Bool) -> BackendOpCase {
        BackendOpCase(op: "add", shape: "\(count)\(inPlace ? ", in place" : "")", threshold: elementwiseThreshold) { pair, rng in
            let a = try pair.buffers(rng.floats(count, scale: 3) + [Float](repeating: guardValue, count: guardCount))
            let b = try pair.buffers(rng.floats(count))
            let out = try inPlace ? a : pair.buffers(outputFill(count))
            pair.test.add(a.test, b.test, count: count, into: out.test)
            pair.reference.add(a.reference, b.reference, count: count, into: out.reference)
            return pair.read(out, count: count + guardCount)
        }
    }

    static func gatherCase(rows: [Int], inputRows: Int, width: Int) -> BackendOpCase {
        BackendOpCase(op: "gatherRows", shape: "rows \(rows) of \(inputRows) x \(width)", threshold: 0) { pair, rng in
            let x = try pair.buffers(rng.floats(inputRows * width))
            let out = try pair.buffers(outputFill(rows.count * width))
            pair.test.gatherRows(x.test, rows: rows, width: width, into: out.test)
            pair.reference.gatherRows(x.reference, rows: rows, width: width, into: out.reference)
            return pair.read(out, count: rows.count * width + guardCount)
        }
    }
}
