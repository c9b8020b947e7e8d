// The CPU backend: the ops of `InferenceBackend` on the CKernels C library and its thread pool.
//
// Weights are used in place (the memory-mapped file) unless a conversion is asked for.
// Buffers, the KV cache and scratch are 64-byte aligned host allocations.

import CKernels
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Host memory the backend allocated itself, 64-byte aligned, freed on deinit.
final class AlignedStorage: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int

    init(byteCount: Int, what: String) throws {
        var raw: UnsafeMutableRawPointer?
        // posix_memalign reports failure instead of trapping, so an oversized KV cache or
        // model is an error the engine can show, not a crash.
        guard posix_memalign(&raw, 64, max(byteCount, 64)) == 0, let raw else {
            throw BackendError("cannot allocate \(byteCount) bytes for \(what)")
        }
        self.pointer = raw
        self.byteCount = byteCount
    }

    deinit { free(pointer) }
}

final class CPUWeight: BackendWeight, @unchecked Sendable {
    let data: UnsafeRawPointer
    let rowBytes: Int
    /// Keeps the bytes alive: the caller's owner (mapped file) or our own copy.
    private let owner: AnyObject?
    /// The 16-row interleaved copy the fastest matmul kernels read (AVX-512, F16 and Q8_0
    /// matrices); `data` stays in use for embedding rows and other SIMD levels.
    let packed: AlignedStorage?

    init(name: String, format: WeightFormat, rows: Int, columns: Int, data: UnsafeRawPointer,
         rowBytes: Int, owner: AnyObject?) throws {
        self.data = data
        self.rowBytes = rowBytes
        self.owner = owner
        let type = ck_type(format.rawValue)
        let packedBytes = rows > 1 ? ck_packed_bytes(type, Int64(rows), Int64(columns)) : 0
        if packedBytes > 0 {
            let storage = try AlignedStorage(byteCount: packedBytes, what: "the packed copy of \(name)")
            ck_pack_weights(type, data, Int64(rows), Int64(columns), storage.pointer)
            packed = storage
        } else {
            packed = nil
        }
        super.init(name: name, format: format, rows: rows, columns: columns)
    }

    var floats: UnsafePointer<Float> { data.assumingMemoryBound(to: Float.self) }
}

final class CPUBuffer: BackendBuffer, @unchecked Sendable {
    let storage: AlignedStorage
    var floats: UnsafeMutablePointer<Float> { storage.pointer.assumingMemoryBound(to: Float.self) }
    init(floats capacity: Int) throws {
        storage = try AlignedStorage(byteCount: capacity * MemoryLayout<Float>.size, what: "an activation buffer of \(capacity) floats")
        super.init(capacity: capacity)
    }
}

final class CPUKVCache: BackendKVCache, @unchecked Sendable {
    let keys: AlignedStorage
    let values: AlignedStorage
    /// Floats per layer per (K or V): blockCount * kvHeads * blockSize * headDim.
    let layerFloats: Int
    /// Floats per block per layer per (K or V).
    let blockFloats: Int

    init(checked spec: KVCacheSpec) throws {
        guard let total = spec.byteCount, spec.layers > 0, spec.kvHeads > 0, spec.headDim > 0,
              spec.blockSize > 0, spec.blockCount > 0 else {
            throw BackendError("KV cache: invalid shape \(spec)")
        }
        blockFloats = spec.kvHeads * spec.blockSize * spec.headDim
        layerFloats = blockFloats * spec.blockCount
        keys = try AlignedStorage(byteCount: total / 2, what: "the KV cache keys")
        values = try AlignedStorage(byteCount: total / 2, what: "the KV cache values")
        super.init(spec: spec)
    }

    func layer(_ index: Int) -> ck_kv_layer {
        let k = keys.pointer.assumingMemoryBound(to: Float.self) + index * layerFloats
        let v = values.pointer.assumingMemoryBound(to: Float.self) + index * layerFloats
        return ck_kv_layer(k: k, v: v, kv_heads: Int64(spec.kvHeads), head_dim: Int64(spec.headDim),
                           block_size: Int64(spec.blockSize))
    }
}

final class CPURope: BackendRope, @unchecked Sendable {
    let inverseFrequencies: [Float]
    override init(config: RopeConfig) {
        inverseFrequencies = config.inverseFrequencies
        super.init(config: config)
    }
}

final class CPUBatch: BackendBatch, @unchecked Sendable {
    let positions: [Int32]
    /// KV slot (block * blockSize + offset) of each row's own position.
    let slots: [Int32]
    /// All sequences' block tables, concatenated; row r's table starts at tableOffsets[r].
    let tables: [Int32]
    let tableOffsets: [Int64]

    init(layout: BatchLayout, blockSize: Int) {
        let index = layout.rowIndex(blockSize: blockSize)
        positions = index.positions
        slots = index.slots
        tables = index.tables
        tableOffsets = index.tableOffsets.map(Int64.init)
        super.init(layout: layout)
    }
}

/// CPU backend on CKernels. Driven by one thread at a time (see `InferenceBackend`).
public final class CPUBackend: InferenceBackend, @unchecked Sendable {
    public let threads: Int
    private let pool: OpaquePointer
    /// Quantized activation rows for integer matmuls; grown on demand, reused across ops.
    private var scratch: AlignedStorage?

    /// `threads` workers including the calling thread (default: all online CPUs).
    public init(threads: Int? = nil) {
        let count = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        guard let pool = ck_pool_create(Int32(count)) else {
            // Creating a pool only fails when the process cannot allocate a few bytes.
            fatalError("CPUBackend: cannot create the thread pool")
        }
        self.pool = pool
        self.threads = Int(ck_pool_threads(pool))
    }

    deinit { ck_pool_destroy(pool) }

    public var description: String {
        "cpu (\(threads) threads, \(CPUBackend.featureNames(Int(ck_active_cpu_features()))))"
    }

    /// Names of the CPU feature bits (`CK_CPU_*`), e.g. "avx2+avx512+avx512-vnni".
    public static func featureNames(_ bits: Int) -> String {
        var names: [String] = []
        if bits & Int(CK_CPU_AVX2) != 0 { names.append("avx2") }
        if bits & Int(CK_CPU_AVX_VNNI) != 0 { names.append("avx-vnni") }
        if bits & Int(CK_CPU_AVX512) != 0 { names.append("avx512") }
        if bits & Int(CK_CPU_AVX512_VNNI) != 0 { names.append("avx512-vnni") }
        return names.isEmpty ? "scalar" : names.joined(separator: "+")
    }

    // MARK: Allocation

    public func uploadWeight(name: String, format: WeightFormat, rows: Int, columns: Int,
                             bytes: UnsafeRawBufferPointer, owner: AnyObject?,
                             storeAs: WeightFormat?) throws -> BackendWeight {
        let upload = try WeightUpload(name: name, format: format, rows: rows, columns: columns, bytes: bytes, storeAs: storeAs)
        // Used in place (the mapped file) when nothing changes and the elements are aligned.
        let elementAlignment = format == .f32 ? 4 : 2
        if !upload.converts && Int(bitPattern: upload.base) % elementAlignment == 0 {
            return try CPUWeight(name: name, format: format, rows: rows, columns: columns, data: upload.base,
                                 rowBytes: upload.rowBytes, owner: owner)
        }
        let target = upload.target, targetRowBytes = upload.targetRowBytes
        let storage = try AlignedStorage(byteCount: rows * targetRowBytes, what: "weight \(name)")
        upload.writeRows(0..<rows, to: storage.pointer)
        return try CPUWeight(name: name, format: target, rows: rows, columns: columns,
                         data: UnsafeRawPointer(storage.pointer), rowBytes: targetRowBytes, owner: storage)
    }

    public func makeBuffer(capacity: Int) throws -> BackendBuffer {
        guard capacity > 0 else { throw BackendError("activation buffer: capacity \(capacity)") }
        return try CPUBuffer(floats: capacity)
    }

    public func makeKVCache(_ spec: KVCacheSpec) throws -> BackendKVCache {
        guard spec.format == .f32 else {
            throw BackendError("KV cache: the CPU backend stores F32 keys and values only")
        }
        return try CPUKVCache(checked: spec)
    }

    public func makeRope(_ config: RopeConfig) throws -> BackendRope {
        guard config.dimensions > 0, config.dimensions % 2 == 0, config.dimensions <= 512,
              config.inverseFrequencies.count == config.dimensions / 2 else {
            throw BackendError("RoPE: \(config.dimensions) rotated dimensions with \(config.inverseFrequencies.count) frequencies (must be even, 2...512, half as many frequencies)")
        }
        return CPURope(config: config)
    }

    public func makeBatch(_ layout: BatchLayout, cache: BackendKVCache) throws -> BackendBatch {
        if let problem = layout.problem(blockSize: cache.spec.blockSize, blockCount: cache.spec.blockCount) {
            throw BackendError(problem)
        }
        return CPUBatch(layout: layout, blockSize: cache.spec.blockSize)
    }

    // MARK: Host transfer

    public func write(_ values: UnsafeBufferPointer<Float>, to buffer: BackendBuffer, offset: Int) {
        let b = cpu(buffer)
        precondition(offset >= 0 && offset + values.count <= b.capacity, "write past the buffer")
        guard let source = values.baseAddress else { return }
        (b.floats + offset).update(from: source, count: values.count)
    }

    public func read(_ buffer: BackendBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) {
        let b = cpu(buffer)
        precondition(offset >= 0 && offset + destination.count <= b.capacity, "read past the buffer")
        guard let target = destination.baseAddress else { return }
        target.update(from: b.floats + offset, count: destination.count)
    }

    // MARK: Ops

    public func embed(_ table: BackendWeight, batch: BackendBatch, into output: BackendBuffer) {
        let t = cpu(table), out = cpu(output)
        precondition(batch.rowCount * t.columns <= out.capacity, "embed: output too small")
        for (r, token) in batch.layout.tokens.enumerated() {
            precondition(token >= 0 && Int(token) < t.rows, "embed: token \(token) outside the vocabulary")
            ck_dequantize_row(ck_type(t.format.rawValue), t.data + Int(token) * t.rowBytes,
                              out.floats + r * t.columns, Int64(t.columns))
        }
    }

    public func rmsNorm(_ input: BackendBuffer, weight: BackendWeight, count: Int, epsilon: Float, into output: BackendBuffer) {
        let w = cpu(weight), x = cpu(input), out = cpu(output)
        precondition(w.format == .f32 && w.rows == 1, "rmsNorm: weight must be an F32 vector (upload with storeAs: .f32)")
        precondition(count % w.columns == 0 && count <= x.capacity && count <= out.capacity, "rmsNorm: bad count")
        ck_rmsnorm(pool, x.floats, w.floats, Int64(count / w.columns), Int64(w.columns), epsilon, out.floats)
    }

    public func matmul(_ weight: BackendWeight, _ input: BackendBuffer, rows: Int, bias: BackendWeight?, into output: BackendBuffer) {
        let w = cpu(weight), x = cpu(input), out = cpu(output)
        precondition(x !== out, "matmul: output aliases input")
        precondition(rows * w.columns <= x.capacity && rows * w.rows <= out.capacity, "matmul: buffers too small")
        var biasPointer: UnsafePointer<Float>?
        if let bias {
            let b = cpu(bias)
            precondition(b.format == .f32 && b.columns == w.rows, "matmul: bias must be an F32 vector of \(w.rows)")
            biasPointer = b.floats
        }
        let type = ck_type(w.format.rawValue)
        let needed = ck_matmul_scratch_bytes(type, Int64(rows), Int64(w.columns))
        if needed > (scratch?.byteCount ?? 0) {
            // Scratch grows to the largest step seen; failing here means the host is out of
            // memory for a few MiB, which the allocation checks upstream make unreachable.
            guard let grown = try? AlignedStorage(byteCount: needed, what: "matmul scratch") else {
                fatalError("CPUBackend: out of memory for \(needed) bytes of matmul scratch")
            }
            scratch = grown
        }
        ck_matmul(pool, type, w.data, w.packed.map { UnsafeRawPointer($0.pointer) }, Int64(w.rows), Int64(w.columns), x.floats, Int64(rows),
                  biasPointer, out.floats, scratch?.pointer)
    }

    public func rope(_ x: BackendBuffer, heads: Int, headDim: Int, batch: BackendBatch, rope: BackendRope) {
        let b = cpu(x), table = cpuRope(rope), step = cpuBatch(batch)
        precondition(table.config.dimensions <= headDim, "rope: rotates more than the head")
        precondition(step.rowCount * heads * headDim <= b.capacity, "rope: buffer too small")
        step.positions.withUnsafeBufferPointer { positions in
            table.inverseFrequencies.withUnsafeBufferPointer { frequencies in
                ck_rope(pool, b.floats, Int64(step.rowCount), Int64(heads), Int64(headDim),
                        Int64(table.config.dimensions), positions.baseAddress, frequencies.baseAddress,
                        table.config.layout == .adjacentPairs ? 1 : 0)
            }
        }
    }

    public func storeKV(layer: Int, keys: BackendBuffer, values: BackendBuffer, batch: BackendBatch, cache: BackendKVCache) {
        let c = cpuCache(cache), step = cpuBatch(batch), k = cpu(keys), v = cpu(values)
        precondition(layer >= 0 && layer < c.spec.layers, "storeKV: layer \(layer)")
        let width = c.spec.kvHeads * c.spec.headDim
        precondition(step.rowCount * width <= k.capacity && step.rowCount * width <= v.capacity, "storeKV: buffers too small")
        step.slots.withUnsafeBufferPointer { slots in
            ck_store_kv(c.layer(layer), k.floats, v.floats, Int64(step.rowCount), slots.baseAddress)
        }
    }

    public func attention(layer: Int, queries: BackendBuffer, heads: Int, scale: Float,
                          batch: BackendBatch, cache: BackendKVCache, into output: BackendBuffer) {
        let c = cpuCache(cache), step = cpuBatch(batch), q = cpu(queries), out = cpu(output)
        precondition(layer >= 0 && layer < c.spec.layers, "attention: layer \(layer)")
        precondition(heads % c.spec.kvHeads == 0, "attention: \(heads) heads over \(c.spec.kvHeads) KV heads")
        precondition(c.spec.headDim <= 256 && c.spec.blockSize <= 256, "attention: head dim and block size must be <= 256")
        let width = heads * c.spec.headDim
        precondition(step.rowCount * width <= q.capacity && step.rowCount * width <= out.capacity, "attention: buffers too small")
        step.positions.withUnsafeBufferPointer { positions in
            step.tables.withUnsafeBufferPointer { tables in
                step.tableOffsets.withUnsafeBufferPointer { offsets in
                    ck_attention(pool, c.layer(layer), q.floats, Int64(step.rowCount), Int64(heads), scale,
                                 positions.baseAddress, tables.baseAddress, offsets.baseAddress, out.floats)
                }
            }
        }
    }

    public func siluMultiply(gate: BackendBuffer, up: BackendBuffer, count: Int, into output: BackendBuffer) {
        let g = cpu(gate), u = cpu(up), out = cpu(output)
        precondition(count <= g.capacity && count <= u.capacity && count <= out.capacity, "siluMultiply: buffers too small")
        ck_silu_mul(pool, g.floats, u.floats, out.floats, Int64(count))
    }

    public func add(_ a: BackendBuffer, _ b: BackendBuffer, count: Int, into output: BackendBuffer) {
        let x = cpu(a), y = cpu(b), out = cpu(output)
        precondition(count <= x.capacity && count <= y.capacity && count <= out.capacity, "add: buffers too small")
        ck_add(pool, x.floats, y.floats, out.floats, Int64(count))
    }

    public func gatherRows(_ input: BackendBuffer, rows: [Int], width: Int, into output: BackendBuffer) {
        let x = cpu(input), out = cpu(output)
        precondition(x !== out, "gatherRows: output aliases input")
        precondition(rows.count * width <= out.capacity, "gatherRows: output too small")
        for (i, r) in rows.enumerated() {
            precondition(r >= 0 && (r + 1) * width <= x.capacity, "gatherRows: row \(r) outside the input")
            (out.floats + i * width).update(from: x.floats + r * width, count: width)
        }
    }

    public func copyKVBlocks(_ cache: BackendKVCache, pairs: [(from: Int32, to: Int32)]) {
        let c = cpuCache(cache)
        for pair in pairs {
            precondition(pair.from >= 0 && Int(pair.from) < c.spec.blockCount && pair.to >= 0 && Int(pair.to) < c.spec.blockCount,
                         "copyKVBlocks: block outside the cache")
            for layer in 0..<c.spec.layers {
                let l = c.layer(layer)
                for base in [l.k!, l.v!] {
                    let source = base + Int(pair.from) * c.blockFloats
                    let target = base + Int(pair.to) * c.blockFloats
                    target.update(from: source, count: c.blockFloats)
                }
            }
        }
    }

    // MARK: Downcasts (a handle from another backend is a programming error)

    private func cpu(_ b: BackendBuffer) -> CPUBuffer {
        guard let b = b as? CPUBuffer else { preconditionFailure("buffer from another backend") }
        return b
    }
    private func cpu(_ w: BackendWeight) -> CPUWeight {
        guard let w = w as? CPUWeight else { preconditionFailure("weight from another backend") }
        return w
    }
    private func cpuCache(_ c: BackendKVCache) -> CPUKVCache {
        guard let c = c as? CPUKVCache else { preconditionFailure("KV cache from another backend") }
        return c
    }
    private func cpuRope(_ r: BackendRope) -> CPURope {
        guard let r = r as? CPURope else { preconditionFailure("rope table from another backend") }
        return r
    }
    private func cpuBatch(_ b: BackendBatch) -> CPUBatch {
        guard let b = b as? CPUBatch else { preconditionFailure("batch from another backend") }
        return b
    }
}
