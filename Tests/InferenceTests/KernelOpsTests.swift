// The CPU backend's non-matmul ops against plain Swift reference code: RMSNorm (whole rows and
// per head), both RoPE layouts, paged grouped-query attention (prompt, decode, shared prompt
// blocks, mixed batches, block sizes that do not divide the lengths), SiLU-gate, add, row
// gathering and KV block copies.
import Foundation
import Inference
import XCTest

final class KernelOpsTests: XCTestCase {
    var generator = SeededGenerator(seed: 7)

    func random(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in Float.random(in: -1...1, using: &generator) * scale }
    }

    func upload(_ backend: CPUBackend, _ values: [Float]) throws -> BackendBuffer {
        let b = try backend.makeBuffer(capacity: values.count)
        values.withUnsafeBufferPointer { backend.write($0, to: b, offset: 0) }
        return b
    }

    func read(_ backend: CPUBackend, _ buffer: BackendBuffer, _ count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { backend.read(buffer, offset: 0, into: $0) }
        return out
    }

    func vector(_ backend: CPUBackend, _ values: [Float]) throws -> BackendWeight {
        try values.withUnsafeBytes {
            try backend.uploadWeight(name: "v", format: .f32, rows: 1, columns: values.count, bytes: $0, owner: nil, storeAs: nil)
        }
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for i in 0..<min(a.count, b.count) where abs(a[i] - b[i]) > tolerance * max(1, abs(b[i])) {
            XCTFail("\(what)[\(i)]: \(a[i]) != \(b[i])", file: file, line: line)
            return
        }
    }

    func testRMSNormWholeRowsAndPerHead() throws {
        let backend = CPUBackend(threads: 2)
        for (groups, dim) in [(3, 896), (40, 64), (1, 7), (300, 128)] {
            let x = random(groups * dim, scale: 3), w = random(dim)
            let out = try backend.makeBuffer(capacity: x.count)
            backend.rmsNorm(try upload(backend, x), weight: try vector(backend, w), count: x.count, epsilon: 1e-6, into: out)
            var want: [Float] = []
            for g in 0..<groups {
                let row = x[g * dim ..< (g + 1) * dim]
                let ms = row.map { Double($0) * Double($0) }.reduce(0, +) / Double(dim)
                let inv = 1 / (ms + 1e-6).squareRoot()
                want += zip(row, w).map { Float(Double($0) * inv * Double($1)) }
            }
            assertClose(read(backend, out, x.count), want, 1e-5, "rmsnorm \(groups)x\(dim)")
        }
    }

    func testRopeBothLayoutsWithPositionsFromTheBatch() throws {
        let backend = CPUBackend(threads: 2)
        let heads = 3, headDim = 64
        let cache = try backend.makeKVCache(KVCacheSpec(layers: 1, kvHeads: 1, headDim: headDim, blockSize: 16, blockCount: 64))
        // Two sequences: 5 rows from position 0 and 2 rows from position 300.
        let batch = try backend.makeBatch(BatchLayout(tokens: [1, 2, 3, 4, 5, 6, 7], sequences: [
            SequenceSlice(firstRow: 0, rowCount: 5, firstPosition: 0, blockTable: [0]),
            SequenceSlice(firstRow: 5, rowCount: 2, firstPosition: 300, blockTable: Array(1...19)),
        ]), cache: cache)
        let positions = [0, 1, 2, 3, 4, 300, 301]
        for layout in [RopeConfig.Layout.adjacentPairs, .halfSplit] {
            for dims in [64, 32] {  // full and partial rotation
                let config = RopeConfig(dimensions: dims, base: 10000, layout: layout,
                                        llama3Scaling: .init(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContextLength: 64))
                let rope = try backend.makeRope(config)
                let x = random(7 * heads * headDim)
                let buffer = try upload(backend, x)
                backend.rope(buffer, heads: heads, headDim: headDim, batch: batch, rope: rope)
                var want = x
                let frequencies = config.inverseFrequencies
                for r in 0..<7 {
                    for h in 0..<heads {
                        let base = (r * heads + h) * headDim
                        for i in 0..<(dims / 2) {
                            let (i0, i1) = layout == .adjacentPairs ? (2 * i, 2 * i + 1) : (i, i + dims / 2)
                            let angle = Double(positions[r]) * Double(frequencies[i])
                            let a = Double(x[base + i0]), b = Double(x[base + i1])
                            want[base + i0] = Float(a * cos(angle) - b * sin(angle))
                            want[base + i1] = Float(a * sin(angle) + b * cos(angle))
                        }
                    }
                }
                assertClose(read(backend, buffer, x.count), want, 2e-4, "rope \(layout) \(dims)")
            }
        }
    }

    func testLlama3FrequenciesFollowTheReferenceFormula() {
        // Values from transformers' _compute_llama3_parameters for base 500000, head dim 128,
        // factor 8, low 1, high 4, original 8192 (first, a band member, and last frequencies).
        let config = RopeConfig(dimensions: 128, base: 500000, layout: .halfSplit,
                                llama3Scaling: .init(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContextLength: 8192))
        let f = config.inverseFrequencies
        XCTAssertEqual(f.count, 64)
        XCTAssertEqual(f[0], 1, accuracy: 1e-7)                       // short wavelength: unchanged
        let plain = Float(pow(500000.0, -2.0 * 63 / 128))
        XCTAssertEqual(f[63], plain / 8, accuracy: plain * 1e-5)      // long wavelength: / factor
        for i in 1..<64 { XCTAssertLessThanOrEqual(f[i], f[i - 1]) }  // still monotone through the band
    }

    /// Reference attention for one row: softmax(q·K/√d)·V over positions 0...p.
    func referenceAttention(q: [Float], keys: [[Float]], values: [[Float]], scale: Float) -> [Float] {
        let scores = keys.map { k in Double(zip(q, k).map { $0 * $1 }.reduce(0, +)) * Double(scale) }
        let m = scores.max()!
        let e = scores.map { exp($0 - m) }
        let total = e.reduce(0, +)
        var out = [Double](repeating: 0, count: q.count)
        for (p, v) in values.enumerated() { for i in 0..<q.count { out[i] += e[p] / total * Double(v[i]) } }
        return out.map { Float($0) }
    }

    func testPagedAttentionPromptDecodeAndSharedPrefix() throws {
        // Block size 8 takes the portable path; 16 and 32 the AVX-512 one where available.
        for (threads, blockSize) in [(1, 8), (2, 8), (1, 16), (2, 16), (2, 32)] {
            let backend = CPUBackend(threads: threads)
            let heads = 6, kvHeads = 2, headDim = 32
            let cache = try backend.makeKVCache(KVCacheSpec(layers: 2, kvHeads: kvHeads, headDim: headDim, blockSize: blockSize, blockCount: 40))
            let layer = 1
            let kvWidth = kvHeads * headDim, qWidth = heads * headDim
            // Per-sequence history of K/V rows (for the reference) and block tables.
            var history: [[(k: [Float], v: [Float])]] = [[], [], []]
            var tables: [[Int32]] = [[], [], []]
            var nextFree: Int32 = 13
            let label = "attention \(threads) threads, block \(blockSize)"

            func step(_ slices: [(sequence: Int, rows: Int)]) throws {
                var layout = BatchLayout(tokens: [], sequences: [])
                for s in slices {
                    let length = history[s.sequence].count + s.rows
                    while tables[s.sequence].count * blockSize < length {
                        tables[s.sequence].append(nextFree)
                        nextFree += 1
                    }
                    layout.sequences.append(SequenceSlice(firstRow: layout.tokens.count, rowCount: s.rows,
                                                          firstPosition: history[s.sequence].count, blockTable: tables[s.sequence]))
                    layout.tokens += Array(repeating: 0, count: s.rows)
                }
                let batch = try backend.makeBatch(layout, cache: cache)
                let rows = layout.tokens.count
                let k = random(rows * kvWidth), v = random(rows * kvWidth), q = random(rows * qWidth, scale: 2)
                backend.storeKV(layer: layer, keys: try upload(backend, k), values: try upload(backend, v), batch: batch, cache: cache)
                let out = try backend.makeBuffer(capacity: rows * qWidth)
                let scale = 1 / Float(headDim).squareRoot()
                backend.attention(layer: layer, queries: try upload(backend, q), heads: heads, scale: scale, batch: batch, cache: cache, into: out)
                let got = read(backend, out, rows * qWidth)
                var want: [Float] = []
                var row = 0
                for s in slices {
                    for _ in 0..<s.rows {
                        history[s.sequence].append((Array(k[row * kvWidth ..< (row + 1) * kvWidth]), Array(v[row * kvWidth ..< (row + 1) * kvWidth])))
                        for h in 0..<heads {
                            let g = h / (heads / kvHeads)
                            let keys = history[s.sequence].map { Array($0.k[g * headDim ..< (g + 1) * headDim]) }
                            let values = history[s.sequence].map { Array($0.v[g * headDim ..< (g + 1) * headDim]) }
                            want += referenceAttention(q: Array(q[(row * heads + h) * headDim ..< (row * heads + h + 1) * headDim]),
                                                       keys: keys, values: values, scale: scale)
                        }
                        row += 1
                    }
                }
                assertClose(got, want, 2e-5, "\(label), step \(slices.map { $0.rows })")
            }

            // Prompt of 19 tokens (not a multiple of any block size) for sequence 0, in
            // scattered blocks.
            tables[0] = Array([5, 2, 9].prefix((19 + blockSize - 1) / blockSize))
            try step([(0, 19)])
            // Sequences 1 and 2 share the prompt: full blocks by reference; the partial last
            // block is copied (copy-on-write) before they diverge.
            let partial = tables[0].last!
            backend.copyKVBlocks(cache, pairs: [(from: partial, to: 11), (from: partial, to: 12)])
            tables[1] = Array(tables[0].dropLast()) + [11]
            tables[2] = Array(tables[0].dropLast()) + [12]
            history[1] = history[0]
            history[2] = history[0]
            // Decode: three sequences, one row each, then a mixed step (a 6-row chunk for
            // sequence 2 beside single rows), then enough decode steps to cross into new blocks.
            try step([(0, 1), (1, 1), (2, 1)])
            try step([(1, 1), (2, 6), (0, 1)])
            for _ in 0..<12 { try step([(2, 1), (0, 1)]) }
        }
    }

    func testBatchLayoutProblemsAreReported() throws {
        let backend = CPUBackend(threads: 1)
        let cache = try backend.makeKVCache(KVCacheSpec(layers: 1, kvHeads: 1, headDim: 8, blockSize: 4, blockCount: 4))
        XCTAssertThrowsError(try backend.makeBatch(BatchLayout(tokens: [1, 2], sequences: [
            SequenceSlice(firstRow: 0, rowCount: 2, firstPosition: 3, blockTable: [0])]), cache: cache))  // needs 2 blocks
        XCTAssertThrowsError(try backend.makeBatch(BatchLayout(tokens: [1], sequences: [
            SequenceSlice(firstRow: 0, rowCount: 1, firstPosition: 0, blockTable: [7])]), cache: cache))  // no block 7
        XCTAssertThrowsError(try backend.makeBatch(BatchLayout(tokens: [1, 2], sequences: [
            SequenceSlice(firstRow: 0, rowCount: 1, firstPosition: 0, blockTable: [0])]), cache: cache))  // row 1 uncovered
        XCTAssertThrowsError(try backend.makeKVCache(KVCacheSpec(layers: 1 << 40, kvHeads: 1 << 20, headDim: 128, blockCount: 1 << 20)))
    }

    func testSiluMultiplyAddAndGather() throws {
        let backend = CPUBackend(threads: 2)
        for n in [5, 70_000] {
            let g = random(n, scale: 6), u = random(n)
            let gb = try upload(backend, g), ub = try upload(backend, u), out = try backend.makeBuffer(capacity: n)
            backend.siluMultiply(gate: gb, up: ub, count: n, into: out)
            assertClose(read(backend, out, n), zip(g, u).map { Float(Double($0) / (1 + exp(-Double($0))) * Double($1)) }, 1e-5, "silu \(n)")
            backend.add(gb, ub, count: n, into: gb)
            assertClose(read(backend, gb, n), zip(g, u).map { $0 + $1 }, 0, "add \(n)")
        }
        let x = random(5 * 3)
        let out = try backend.makeBuffer(capacity: 6)
        backend.gatherRows(try upload(backend, x), rows: [4, 0], width: 3, into: out)
        XCTAssertEqual(read(backend, out, 6), Array(x[12..<15] + x[0..<3]))
    }

    func testEmbeddingRowsAreDequantized() throws {
        let backend = CPUBackend(threads: 2)
        let f = try KernelFixtures.weights("q6_k")
        let table = try f.bytes.withUnsafeBytes {
            try backend.uploadWeight(name: "emb", format: f.format, rows: f.rows, columns: f.columns, bytes: $0, owner: nil, storeAs: nil)
        }
        let cache = try backend.makeKVCache(KVCacheSpec(layers: 1, kvHeads: 1, headDim: 8, blockSize: 4, blockCount: 4))
        let batch = try backend.makeBatch(BatchLayout(tokens: [8, 0, 3], sequences: [
            SequenceSlice(firstRow: 0, rowCount: 3, firstPosition: 0, blockTable: [1])]), cache: cache)
        let out = try backend.makeBuffer(capacity: 3 * f.columns)
        backend.embed(table, batch: batch, into: out)
        let want = [8, 0, 3].flatMap { f.dequantized[$0 * f.columns ..< ($0 + 1) * f.columns] }
        XCTAssertEqual(read(backend, out, 3 * f.columns), want)
    }
}

/// A small deterministic generator (SplitMix64) so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
