// Backend-ops cases for embedding lookup and matrix products of every weight format.
//
// Weights are random bytes in each format's GGML block layout with sane float16 scales (any
// bytes make valid blocks once the scales are finite), activations uniform in [-1, 1]. Shapes
// cover odd output counts (1, 7, 33, 257), row lengths of one block up to 4864 (Qwen2.5-1.5B's
// FFN width) including lengths that are not powers of two, and 1 to 200 activation rows (a
// decode step of one or a few sequences up to a prompt), with and without bias; also weights
// converted at upload (`storeAs`). Cases with several rows zero the first block of the last
// activation row (a block whose scale is 0) and checks that nothing is written past the output.
//
// Thresholds (normalised error Σ(got-want)²/Σwant²): for integer formats the backend must
// quantize activations exactly as the CPU backend and accumulate in integers, so only the
// float summation of block results differs (measured on PoCL: 1e-15 ... 2e-13), while an
// activation scale not rounded to float16 as the CPU's gives ~3e-8; the threshold sits
// between. Float formats sum long F32 dot products in another order (1e-14 typically, up to
// ~1e-10 for a single output with cancellation); a real bug (a wrong element in a row of n)
// gives ~1/n or more. ggml's test-backend-ops allows 5e-4 because its GPU kernels round
// activations to F16; ours must not.

extension BackendOpsCheck {
    /// Largest normalised error of an integer-format matmul (see the file header).
    static let integerMatmulThreshold = 1e-9
    /// Largest normalised error of a float-format matmul.
    static let floatMatmulThreshold = 1e-7
    /// Embedding lookup dequantizes with the same float operations on both sides.
    static let embedThreshold = 1e-12

    static func matmulCases() -> [BackendOpCase] {
        var cases: [BackendOpCase] = []
        let formats: [WeightFormat] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_K, .q6_K]
        for format in formats {
            cases.append(embedCase(format: format, tableRows: 50, columns: embedColumns(format), count: 9))
        }
        for format in formats {
            for s in matmulShapes(format) {
                cases.append(matmulCase(format: format, outRows: s.outRows, columns: s.columns, rows: s.rows, bias: s.bias))
            }
        }
        // Tiny activations: Q8_0-style scales below float16's normal range (subnormal scales).
        for format in [WeightFormat.q8_0, .q4_0, .q4_K, .q6_K] {
            cases.append(matmulCase(format: format, outRows: 7, columns: 512, rows: 3, bias: false, activationScale: 0.004))
        }
        // Conversion at upload: `--quantize q8_0` and F32 norm/bias-style weights.
        for (format, target) in [(WeightFormat.f16, WeightFormat.q8_0), (.bf16, .q8_0), (.f32, .q8_0),
                                 (.q4_K, .f32), (.q6_K, .f32), (.q4_0, .f32), (.f16, .f32), (.bf16, .f32)] {
            cases.append(matmulCase(format: format, outRows: 33, columns: 512, rows: 5, bias: true, storeAs: target))
        }
        cases.append(embedCase(format: .f16, tableRows: 50, columns: 288, count: 9, storeAs: .q8_0))
        cases.append(embedCase(format: .q6_K, tableRows: 50, columns: 256, count: 9, storeAs: .f32))
        return cases
    }

    private struct MatmulShape {
        let outRows: Int, columns: Int, rows: Int, bias: Bool
    }

    private static func matmulShapes(_ format: WeightFormat) -> [MatmulShape] {
        // Row lengths for each block size: one block, lengths that are not powers of two, and
        // a long FFN row.
        let columns: [Int]
        switch format.blockElements {
        case 1: columns = [1, 37, 288, 4864, 896, 255, 33]
        case 32: columns = [32, 288, 896, 4864, 288, 896, 32]
        default: columns = [256, 512, 768, 4864, 256, 1280, 256]
        }
        let outRows = [1, 7, 33, 257, 33, 7, 257]
        let rows = [1, 2, 5, 16, 65, 200, 3]
        let bias = [false, true, false, true, false, true, false]
        return (0..<columns.count).map { MatmulShape(outRows: outRows[$0], columns: columns[$0], rows: rows[$0], bias: bias[$0]) }
    }

    private static func embedColumns(_ format: WeightFormat) -> Int {
        switch format.blockElements {
        case 1: return 37
        case 32: return 288
        default: return 512
        }
    }

    /// Values the output buffers hold past the result; both backends must leave them alone.
    private static let guardCount = 64
    private static let guardValue: Float = 12345

    /// A matmul case: `rows` activation rows times a random `outRows` x `columns` weight.
    static func matmulCase(format: WeightFormat, outRows: Int, columns: Int, rows: Int, bias: Bool,
                           storeAs: WeightFormat? = nil, activationScale: Float = 1) -> BackendOpCase {
        let stored = storeAs ?? format
        var shape = "\(format) \(outRows)x\(columns), \(rows) row\(rows == 1 ? "" : "s")"
        if bias { shape += ", bias" }
        if let storeAs { shape += ", stored as \(storeAs)" }
        if activationScale != 1 { shape += ", |x| <= \(activationScale)" }
        let threshold = GPUMatmul.isInteger(stored) ? integerMatmulThreshold : floatMatmulThreshold
        return BackendOpCase(op: "matmul", shape: shape, threshold: threshold, matmul: (stored, rows)) { pair, rng in
            let bytes = randomWeightBytes(format, rows: outRows, columns: columns, rng: &rng)
            let w = try pair.weights(name: "w", format: format, rows: outRows, columns: columns, bytes: bytes, storeAs: storeAs)
            var input = rng.floats(rows * columns, scale: activationScale)
            // A block of zeros (scale 0) in the last row when there are several.
            if rows > 1 { for i in 0..<min(columns, 256) { input[(rows - 1) * columns + i] = 0 } }
            let x = try pair.buffers(input)
            var b: (test: BackendWeight, reference: BackendWeight)?
            if bias {
                b = try pair.weights(name: "b", format: .f32, rows: 1, columns: outRows,
                                     bytes: floatBytes(rng.floats(outRows)))
            }
            let out = try pair.buffers(outputFill(rows * outRows))
            pair.test.matmul(w.test, x.test, rows: rows, bias: b?.test, into: out.test)
            pair.reference.matmul(w.reference, x.reference, rows: rows, bias: b?.reference, into: out.reference)
            return try checkedResult(pair, out, count: rows * outRows)
        }
    }

    /// An embedding case: `count` tokens (first and last table rows, repeats) looked up.
    static func embedCase(format: WeightFormat, tableRows: Int, columns: Int, count: Int,
                          storeAs: WeightFormat? = nil) -> BackendOpCase {
        var shape = "\(format) \(tableRows)x\(columns), \(count) tokens"
        if let storeAs { shape += ", stored as \(storeAs)" }
        return BackendOpCase(op: "embed", shape: shape, threshold: embedThreshold) { pair, rng in
            let bytes = randomWeightBytes(format, rows: tableRows, columns: columns, rng: &rng)
            let table = try pair.weights(name: "embed", format: format, rows: tableRows, columns: columns,
                                         bytes: bytes, storeAs: storeAs)
            var tokens: [Int32] = [0, Int32(tableRows - 1)]
            while tokens.count < count { tokens.append(Int32.random(in: 0..<Int32(tableRows), using: &rng)) }
            tokens[count - 1] = tokens[count / 2]  // a repeat
            let spec = KVCacheSpec(layers: 1, kvHeads: 1, headDim: 16, blockSize: 16, blockCount: (count + 15) / 16)
            let layout = BatchLayout(tokens: tokens, sequences: [
                SequenceSlice(firstRow: 0, rowCount: count, firstPosition: 0, blockTable: (0..<Int32(spec.blockCount)).map { $0 }),
            ])
            let testBatch = try pair.test.makeBatch(layout, cache: try pair.test.makeKVCache(spec))
            let referenceBatch = try pair.reference.makeBatch(layout, cache: try pair.reference.makeKVCache(spec))
            let out = try pair.buffers(outputFill(count * columns))
            pair.test.embed(table.test, batch: testBatch, into: out.test)
            pair.reference.embed(table.reference, batch: referenceBatch, into: out.reference)
            return try checkedResult(pair, out, count: count * columns)
        }
    }

    /// The first `count` outputs of both backends, after checking that neither wrote into the
    /// guard values behind them (kept out of the error, whose denominator they would swamp).
    private static func checkedResult(_ pair: BackendPair, _ out: (test: BackendBuffer, reference: BackendBuffer),
                                      count: Int) throws -> (got: [Float], want: [Float]) {
        let (got, want) = pair.read(out, count: count + guardCount)
        for (name, values) in [("backend", got), ("CPU reference", want)] where values[count...].contains(where: { $0 != guardValue }) {
            throw BackendError("the \(name) wrote past the \(count) outputs")
        }
        return (Array(got[..<count]), Array(want[..<count]))
    }

    /// NaN where the op must write (an unwritten element fails the case), then guard values.
    private static func outputFill(_ count: Int) -> [Float] {
        [Float](repeating: .nan, count: count) + [Float](repeating: guardValue, count: guardCount)
    }

    private static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    private static func halfBytes(_ value: Float) -> [UInt8] {
        let h = Kernels.floatToHalf(value)
        return [UInt8(h & 0xff), UInt8(h >> 8)]
    }

    /// `rows` rows of `columns` values of `format`: random values for float formats; for block
    /// formats random bytes with float16 scales small enough that products stay well in range.
    static func randomWeightBytes(_ format: WeightFormat, rows: Int, columns: Int, rng: inout SplitMix64) -> [UInt8] {
        let count = rows * columns
        func randomBytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        func scale(_ range: ClosedRange<Float>) -> [UInt8] { halfBytes(Float.random(in: range, using: &rng)) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows * (format.rowBytes(columns) ?? 0))
        switch format {
        case .f32:
            bytes = floatBytes(rng.floats(count))
        case .f16:
            for v in rng.floats(count) { bytes += halfBytes(v) }
        case .bf16:
            for v in rng.floats(count) {
                let h = Kernels.floatToBFloat16(v)
                bytes += [UInt8(h & 0xff), UInt8(h >> 8)]
            }
        case .q8_0:
            for _ in 0..<(count / 32) { bytes += scale(0.001...0.01) + randomBytes(32) }
        case .q4_0:
            for _ in 0..<(count / 32) { bytes += scale(0.01...0.1) + randomBytes(16) }
        case .q4_K:
            for _ in 0..<(count / 256) { bytes += scale(0.0005...0.005) + scale(0.0005...0.005) + randomBytes(12 + 128) }
        case .q6_K:
            for _ in 0..<(count / 256) { bytes += randomBytes(128 + 64 + 16) + scale(0.0001...0.001) }
        }
        return bytes
    }
}
