// The GPU backend: `InferenceBackend` on a `ComputeDevice` (CUDA or OpenCL).
//
// Everything numeric runs in the kernels of GPUKernelSource (core ops in GPUCoreKernels.swift,
// embedding and matrix products through GPUMatmul); this file owns device memory and launches.
//
// - Weights are uploaded once. A conversion (`storeAs`) happens on the host with the CPU
//   backend's own routines (Kernels.dequantizeRow / quantizeQ8_0) before the upload, so a
//   converted weight is bit-identical on both backends.
// - Ops are queued and return at once; `read` downloads, which waits for them. An op cannot
//   throw (see Backend.swift), so a failed launch — a lost device, not bad input — stops the
//   process with a one-line `fatalError`.
// - A step's integers (tokens, positions, KV slots, block tables) are uploaded once per
//   `makeBatch` into one device array the backend reuses for every step (a batch is only valid
//   until the next `makeBatch`; ops check that they get the current one).

import Foundation

final class GPUWeight: BackendWeight, @unchecked Sendable {
    let memory: DeviceMemory
    init(name: String, format: WeightFormat, rows: Int, columns: Int, memory: DeviceMemory) {
        self.memory = memory
        super.init(name: name, format: format, rows: rows, columns: columns)
    }
}

final class GPUBuffer: BackendBuffer, @unchecked Sendable {
    let memory: DeviceMemory
    init(capacity: Int, memory: DeviceMemory) {
        self.memory = memory
        super.init(capacity: capacity)
    }
}

final class GPUKVCache: BackendKVCache, @unchecked Sendable {
    /// One allocation per layer for K and one for V (layout in GPUCoreKernels.swift).
    let keys: [DeviceMemory]
    let values: [DeviceMemory]
    /// Bytes of one block of one layer's K (or V): kvHeads * blockSize * headDim floats.
    let blockBytes: Int
    init(spec: KVCacheSpec, keys: [DeviceMemory], values: [DeviceMemory], blockBytes: Int) {
        self.keys = keys
        self.values = values
        self.blockBytes = blockBytes
        super.init(spec: spec)
    }
}

final class GPURope: BackendRope, @unchecked Sendable {
    let frequencies: DeviceMemory
    init(config: RopeConfig, frequencies: DeviceMemory) {
        self.frequencies = frequencies
        super.init(config: config)
    }
}

final class GPUBatch: BackendBatch, @unchecked Sendable {
    /// The backend's step array when this batch was made; valid while it is still current.
    let generation: Int
    let integers: DeviceMemory
    // Element offsets into `integers` (tokens are at 0).
    let positionsAt: Int
    let slotsAt: Int
    let tableOffsetsAt: Int
    let tablesAt: Int
    /// The longest sequence of the step (positions attention reads at most).
    let longest: Int
    init(layout: BatchLayout, generation: Int, integers: DeviceMemory) {
        let rows = layout.tokens.count
        longest = layout.sequences.map { $0.firstPosition + $0.rowCount }.max() ?? 0
        self.generation = generation
        self.integers = integers
        positionsAt = rows
        slotsAt = 2 * rows
        tableOffsetsAt = 3 * rows
        tablesAt = 4 * rows
        super.init(layout: layout)
    }
}

public final class GPUBackend: InferenceBackend, @unchecked Sendable {
    let device: ComputeDevice
    private let kernels: [String: DeviceKernel]
    private let matmulOps: GPUMatmul
    /// cuBLAS for F16/BF16 products of many activation rows, on CUDA when libcublas loads.
    private let cublasOps: CUBLASMatmul?
    /// "cuBLAS 12.4.5 (libcublas.so.12)" or why not, on CUDA (for selftest/bench); nil on OpenCL.
    public let cublasNote: String?
    /// Quantized activation rows of integer matmuls; grows to the largest step.
    private var scratch: DeviceMemory?
    /// Per-split partial results of attention; grows to the largest step that splits.
    private var attentionScratch: DeviceMemory?
    /// The step array of the current batch; grows to the largest step.
    private var stepIntegers: DeviceMemory?
    private var generation = 0

    /// Group size of the element-wise kernels.
    private static let elementGroup = 256
    /// Attention's work-group size and query heads per work-group (ATT_THREADS, ATT_HEADS).
    private static let attentionGroup = 128
    private static let attentionHeads = 8
    /// Largest head dimension the attention kernel holds (ATT_MAX_DIM).
    static let maxHeadDim = 256

    public var api: GPUAPI { device.api }
    /// The device's one-line description (name, version, driver).
    public var deviceName: String { device.name }
    /// "cuda (NVIDIA H100 …, cuBLAS 12.4.5 (libcublas.so.12))": with the cuBLAS note on CUDA,
    /// so `selftest`, `bench` and the workbench say whether tensor-core GEMMs are in use.
    public var description: String {
        "\(device.api.rawValue) (\(device.name)\(cublasNote.map { ", \($0)" } ?? ""))"
    }

    /// Compiles the kernel program for `device` (once; it is the slow part of opening).
    init(device: ComputeDevice) throws {
        self.device = device
        let names = GPUKernelSource.kernelNames
        kernels = try device.compile(source: GPUKernelSource.program(device.dialect), kernels: names)
        matmulOps = try GPUMatmul(device: device, kernels: kernels)
        if let cuda = device as? CUDADevice {
            (cublasOps, cublasNote) = CUBLASMatmul.open(device: cuda, kernels: kernels)
        } else {
            (cublasOps, cublasNote) = (nil, nil)
        }
    }

    /// Whether a product of `rows` activation rows with `format` weights goes through cuBLAS,
    /// which rounds the activations to the weights' 16-bit type first.
    func roundsActivations(format: WeightFormat, rows: Int) -> Bool {
        cublasOps?.takes(format: format, rows: rows) ?? false
    }

    /// A backend on the first OpenCL GPU; with `allowCPU`, on a CPU OpenCL device (PoCL) when
    /// there is no GPU. Throws a one-line `DeviceError` when there is none.
    public static func openCL(allowCPU: Bool = false) throws -> GPUBackend {
        try GPUBackend(device: OpenCLDevice.open(allowCPU: allowCPU))
    }

    // MARK: Allocation

    /// `bytes` of device memory, or a BackendError naming `what`.
    private func allocate(_ bytes: Int, _ what: String) throws -> DeviceMemory {
        if let free = device.freeMemory, bytes > free {
            throw BackendError("\(what): needs \(bytes >> 20) MiB, the device has \(free >> 20) MiB free")
        }
        do {
            return try device.allocate(bytes: bytes, what: what)
        } catch {
            throw BackendError("\(what): \(error)")
        }
    }

    public func uploadWeight(name: String, format: WeightFormat, rows: Int, columns: Int,
                             bytes: UnsafeRawBufferPointer, owner: AnyObject?,
                             storeAs: WeightFormat?) throws -> BackendWeight {
        let upload = try WeightUpload(name: name, format: format, rows: rows, columns: columns, bytes: bytes, storeAs: storeAs)
        let targetRowBytes = upload.targetRowBytes
        let memory = try allocate(rows * targetRowBytes, "weight \(name)")
        do {
            if !upload.converts {
                try device.upload(bytes, to: memory, offset: 0)
            } else {
                // Convert a few MiB of rows at a time on the host, then upload them.
                let chunkRows = max(1, (8 << 20) / max(targetRowBytes, columns * 4))
                let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkRows * targetRowBytes, alignment: 64)
                defer { staging.deallocate() }
                guard let stagingBase = staging.baseAddress else { throw BackendError("weight \(name): no staging memory") }
                for start in stride(from: 0, to: rows, by: chunkRows) {
                    let end = min(rows, start + chunkRows)
                    upload.writeRows(start..<end, to: stagingBase)
                    try device.upload(UnsafeRawBufferPointer(rebasing: staging[0..<((end - start) * targetRowBytes)]),
                                      to: memory, offset: start * targetRowBytes)
                }
            }
        } catch {
            throw BackendError("weight \(name): \(error)")
        }
        return GPUWeight(name: name, format: upload.target, rows: rows, columns: columns, memory: memory)
    }

    public func makeBuffer(capacity: Int) throws -> BackendBuffer {
        guard capacity > 0 else { throw BackendError("activation buffer: capacity \(capacity)") }
        let (bytes, overflow) = capacity.multipliedReportingOverflow(by: 4)
        guard !overflow else { throw BackendError("activation buffer: capacity \(capacity)") }
        return GPUBuffer(capacity: capacity, memory: try allocate(bytes, "an activation buffer of \(capacity) floats"))
    }

    public func makeKVCache(_ spec: KVCacheSpec) throws -> BackendKVCache {
        guard spec.format == .f32 else {
            throw BackendError("KV cache: the GPU backend stores F32 keys and values only")
        }
        guard let total = spec.byteCount, spec.layers > 0, spec.kvHeads > 0, spec.headDim > 0,
              spec.blockSize > 0, spec.blockCount > 0 else {
            throw BackendError("KV cache: invalid shape \(spec)")
        }
        guard spec.headDim <= GPUBackend.maxHeadDim else {
            throw BackendError("KV cache: head dim \(spec.headDim) is more than the GPU attention kernel's \(GPUBackend.maxHeadDim)")
        }
        if let free = device.freeMemory, total > free {
            throw BackendError("KV cache: needs \(total >> 20) MiB, the device has \(free >> 20) MiB free")
        }
        let blockBytes = spec.kvHeads * spec.blockSize * spec.headDim * 4
        let layerBytes = blockBytes * spec.blockCount
        var keys: [DeviceMemory] = [], values: [DeviceMemory] = []
        for layer in 0..<spec.layers {
            keys.append(try allocate(layerBytes, "KV cache keys of layer \(layer)"))
            values.append(try allocate(layerBytes, "KV cache values of layer \(layer)"))
        }
        return GPUKVCache(spec: spec, keys: keys, values: values, blockBytes: blockBytes)
    }

    public func makeRope(_ config: RopeConfig) throws -> BackendRope {
        guard config.dimensions > 0, config.dimensions % 2 == 0, config.dimensions <= 512,
              config.inverseFrequencies.count == config.dimensions / 2 else {
            throw BackendError("RoPE: \(config.dimensions) rotated dimensions with \(config.inverseFrequencies.count) frequencies (must be even, 2...512, half as many frequencies)")
        }
        let memory = try allocate(config.inverseFrequencies.count * 4, "the RoPE frequencies")
        do {
            try config.inverseFrequencies.withUnsafeBytes { try device.upload($0, to: memory, offset: 0) }
        } catch {
            throw BackendError("RoPE frequencies: \(error)")
        }
        return GPURope(config: config, frequencies: memory)
    }

    public func makeBatch(_ layout: BatchLayout, cache: BackendKVCache) throws -> BackendBatch {
        if let problem = layout.problem(blockSize: cache.spec.blockSize, blockCount: cache.spec.blockCount) {
            throw BackendError(problem)
        }
        let rows = layout.tokens.count
        guard rows <= 65535 else {
            throw BackendError("batch: \(rows) rows, the GPU backend runs at most 65535 per step")
        }
        // tokens | positions | slots | table offsets | tables (see GPUCoreKernels.swift)
        let index = layout.rowIndex(blockSize: cache.spec.blockSize)
        let integers = layout.tokens + index.positions + index.slots + index.tableOffsets + index.tables
        guard integers.count <= Int(Int32.max) else { throw BackendError("batch: block tables too large") }

        let bytes = integers.count * 4
        if stepIntegers.map({ $0.byteCount < bytes }) ?? true {
            // Grow with headroom so a growing decode batch does not reallocate every step.
            stepIntegers = nil
            stepIntegers = try allocate(max(bytes * 2, 4096), "the step's tokens and block tables")
        }
        guard let memory = stepIntegers else { preconditionFailure("makeBatch: no step array") }
        do {
            // Queued after every op of the previous step, so those still see their own batch.
            try integers.withUnsafeBytes { try device.upload($0, to: memory, offset: 0) }
        } catch {
            throw BackendError("batch upload: \(error)")
        }
        generation += 1
        return GPUBatch(layout: layout, generation: generation, integers: memory)
    }

    // MARK: Host transfer

    public func write(_ values: UnsafeBufferPointer<Float>, to buffer: BackendBuffer, offset: Int) {
        let b = gpu(buffer)
        precondition(offset >= 0 && offset + values.count <= b.capacity, "write past the buffer")
        run("write") { try device.upload(UnsafeRawBufferPointer(values), to: b.memory, offset: offset * 4) }
    }

    public func read(_ buffer: BackendBuffer, offset: Int, into destination: UnsafeMutableBufferPointer<Float>) {
        let b = gpu(buffer)
        precondition(offset >= 0 && offset + destination.count <= b.capacity, "read past the buffer")
        run("read") { try device.download(b.memory, offset: offset * 4, into: UnsafeMutableRawBufferPointer(destination)) }
    }

    // MARK: Ops

    public func embed(_ table: BackendWeight, batch: BackendBatch, into output: BackendBuffer) {
        let t = gpu(table), step = gpuBatch(batch), out = gpu(output)
        precondition(batch.rowCount * t.columns <= out.capacity, "embed: output too small")
        for token in batch.layout.tokens {
            precondition(token >= 0 && Int(token) < t.rows, "embed: token \(token) outside the vocabulary")
        }
        run("embed") {
            try matmulOps.embed(table: t.memory, format: t.format, tableRows: t.rows, columns: t.columns,
                                tokens: step.integers, count: step.rowCount, into: out.memory)
        }
    }

    public func rmsNorm(_ input: BackendBuffer, weight: BackendWeight, count: Int, epsilon: Float, into output: BackendBuffer) {
        let w = gpu(weight), x = gpu(input), out = gpu(output)
        precondition(w.format == .f32 && w.rows == 1, "rmsNorm: weight must be an F32 vector (upload with storeAs: .f32)")
        precondition(count % w.columns == 0 && count <= x.capacity && count <= out.capacity, "rmsNorm: bad count")
        let groups = count / w.columns
        launch("rms_norm", groups: (groups, 1), groupSize: GPUBackend.groupSize(covering: w.columns), [
            .memory(x.memory), .memory(w.memory), .int(w.columns), .float32(epsilon), .memory(out.memory),
        ])
    }

    public func matmul(_ weight: BackendWeight, _ input: BackendBuffer, rows: Int, bias: BackendWeight?, into output: BackendBuffer) {
        let w = gpu(weight), x = gpu(input), out = gpu(output)
        precondition(x !== out, "matmul: output aliases input")
        precondition(rows * w.columns <= x.capacity && rows * w.rows <= out.capacity, "matmul: buffers too small")
        var biasMemory: DeviceMemory?
        if let bias {
            let b = gpu(bias)
            precondition(b.format == .f32 && b.columns == w.rows, "matmul: bias must be an F32 vector of \(w.rows)")
            biasMemory = b.memory
        }
        let viaCUBLAS = cublasOps?.takes(format: w.format, rows: rows) ?? false
        let needed = viaCUBLAS ? CUBLASMatmul.scratchBytes(rows: rows, columns: w.columns)
            : GPUMatmul.scratchBytes(format: w.format, rows: rows, columns: w.columns)
        if needed > (scratch?.byteCount ?? 0) {
            // Like the CPU backend's scratch: grown on demand; failing to get a few MiB here
            // means the device is out of memory mid-step, which an op cannot report.
            scratch = nil
            run("matmul scratch") { scratch = try device.allocate(bytes: needed, what: "matmul scratch") }
        }
        run("matmul") {
            if viaCUBLAS, let cublasOps, let scratch,
               try cublasOps.matmul(weight: w.memory, format: w.format, outRows: w.rows, columns: w.columns,
                                    input: x.memory, rows: rows, bias: biasMemory, output: out.memory, scratch: scratch) {
                return
            }
            try matmulOps.matmul(weight: w.memory, format: w.format, outRows: w.rows, columns: w.columns,
                                 input: x.memory, rows: rows, bias: biasMemory, output: out.memory,
                                 scratch: needed > 0 ? scratch : nil)
        }
    }

    public func rope(_ x: BackendBuffer, heads: Int, headDim: Int, batch: BackendBatch, rope: BackendRope) {
        let b = gpu(x), table = gpuRope(rope), step = gpuBatch(batch)
        precondition(table.config.dimensions <= headDim, "rope: rotates more than the head")
        precondition(step.rowCount * heads * headDim <= b.capacity, "rope: buffer too small")
        let pairs = table.config.dimensions / 2
        let group = GPUBackend.elementGroup
        launch("rope", groups: ((heads * pairs + group - 1) / group, step.rowCount), groupSize: group, [
            .memory(b.memory), .int(heads), .int(headDim), .int(pairs),
            .int(table.config.layout == .adjacentPairs ? 1 : 0),
            .memory(step.integers), .int(step.positionsAt), .memory(table.frequencies),
        ])
    }

    public func storeKV(layer: Int, keys: BackendBuffer, values: BackendBuffer, batch: BackendBatch, cache: BackendKVCache) {
        let c = gpuCache(cache), step = gpuBatch(batch), k = gpu(keys), v = gpu(values)
        precondition(layer >= 0 && layer < c.spec.layers, "storeKV: layer \(layer)")
        let width = c.spec.kvHeads * c.spec.headDim
        precondition(step.rowCount * width <= k.capacity && step.rowCount * width <= v.capacity, "storeKV: buffers too small")
        let group = GPUBackend.elementGroup
        launch("store_kv", groups: ((width + group - 1) / group, step.rowCount), groupSize: group, [
            .memory(k.memory), .memory(v.memory), .memory(c.keys[layer]), .memory(c.values[layer]),
            .int(c.spec.kvHeads), .int(c.spec.headDim), .int(c.spec.blockSize),
            .memory(step.integers), .int(step.slotsAt),
        ])
    }

    public func attention(layer: Int, queries: BackendBuffer, heads: Int, scale: Float,
                          batch: BackendBatch, cache: BackendKVCache, into output: BackendBuffer) {
        let c = gpuCache(cache), step = gpuBatch(batch), q = gpu(queries), out = gpu(output)
        precondition(layer >= 0 && layer < c.spec.layers, "attention: layer \(layer)")
        precondition(heads > 0 && heads % c.spec.kvHeads == 0, "attention: \(heads) heads over \(c.spec.kvHeads) KV heads")
        precondition(c.spec.headDim <= GPUBackend.maxHeadDim, "attention: head dim must be <= \(GPUBackend.maxHeadDim)")
        let width = heads * c.spec.headDim
        precondition(step.rowCount * width <= q.capacity && step.rowCount * width <= out.capacity, "attention: buffers too small")
        // One work-group per (KV head, up to 8 of its query heads, split of the keys, row).
        let parts = (heads / c.spec.kvHeads + GPUBackend.attentionHeads - 1) / GPUBackend.attentionHeads
        let (splits, splitKeys) = GPUBackend.attentionSplits(workGroups: c.spec.kvHeads * parts * step.rowCount, longest: step.longest)
        var partial = out.memory  // unused by the kernel when splits == 1
        if splits > 1 {
            let needed = step.rowCount * heads * splits * (2 + c.spec.headDim) * 4
            if needed > (attentionScratch?.byteCount ?? 0) {
                attentionScratch = nil
                run("attention scratch") { attentionScratch = try device.allocate(bytes: needed, what: "attention scratch") }
            }
            guard let scratch = attentionScratch else { preconditionFailure("attention: no scratch") }
            partial = scratch
        }
        launch("attention", groups: (c.spec.kvHeads * parts * splits, step.rowCount), groupSize: GPUBackend.attentionGroup, [
            .memory(q.memory), .memory(c.keys[layer]), .memory(c.values[layer]),
            .int(heads), .int(c.spec.kvHeads), .int(c.spec.headDim), .int(c.spec.blockSize), .float32(scale),
            .memory(step.integers), .int(step.positionsAt), .int(step.tableOffsetsAt), .int(step.tablesAt),
            .int(splits), .int(splitKeys), .memory(partial), .memory(out.memory),
        ])
        if splits > 1 {
            launch("attention_combine", groups: (heads, step.rowCount), groupSize: GPUBackend.groupSize(covering: c.spec.headDim), [
                .memory(partial), .int(heads), .int(c.spec.headDim), .int(splits), .memory(out.memory),
            ])
        }
    }

    /// How many ranges attention cuts each row's keys into, and the keys per range (a multiple
    /// of the kernel's ATT_THREADS). A step with few rows (decode) would otherwise run a handful
    /// of work-groups, each walking its whole context alone, while the rest of the GPU idles;
    /// splitting trades that for a small merge pass. Ranges hold at least 256 keys, and there
    /// are at most 32; steps that already have 64 work-groups or more are not split.
    static func attentionSplits(workGroups: Int, longest: Int) -> (splits: Int, keys: Int) {
        let threads = attentionGroup
        guard workGroups < 64, longest > 256 else { return (1, max(threads, (longest + threads - 1) / threads * threads)) }
        let wanted = min(32, (longest + 255) / 256, max(1, 128 / workGroups))
        let keys = ((longest + wanted - 1) / wanted + threads - 1) / threads * threads
        return ((longest + keys - 1) / keys, keys)
    }

    public func siluMultiply(gate: BackendBuffer, up: BackendBuffer, count: Int, into output: BackendBuffer) {
        let g = gpu(gate), u = gpu(up), out = gpu(output)
        precondition(count <= g.capacity && count <= u.capacity && count <= out.capacity, "siluMultiply: buffers too small")
        let group = GPUBackend.elementGroup
        launch("silu_mul", groups: ((count + group - 1) / group, 1), groupSize: group, [
            .memory(g.memory), .memory(u.memory), .memory(out.memory), .int(count),
        ])
    }

    public func add(_ a: BackendBuffer, _ b: BackendBuffer, count: Int, into output: BackendBuffer) {
        let x = gpu(a), y = gpu(b), out = gpu(output)
        precondition(count <= x.capacity && count <= y.capacity && count <= out.capacity, "add: buffers too small")
        let group = GPUBackend.elementGroup
        launch("add_f32", groups: ((count + group - 1) / group, 1), groupSize: group, [
            .memory(x.memory), .memory(y.memory), .memory(out.memory), .int(count),
        ])
    }

    public func gatherRows(_ input: BackendBuffer, rows: [Int], width: Int, into output: BackendBuffer) {
        let x = gpu(input), out = gpu(output)
        precondition(x !== out, "gatherRows: output aliases input")
        precondition(rows.count * width <= out.capacity, "gatherRows: output too small")
        for r in rows {
            precondition(r >= 0 && (r + 1) * width <= x.capacity, "gatherRows: row \(r) outside the input")
        }
        // One device copy per run of consecutive rows (a decode step gathers every row: one copy).
        var start = 0
        while start < rows.count {
            var end = start + 1
            while end < rows.count && rows[end] == rows[end - 1] + 1 { end += 1 }
            let (from, to, count) = (rows[start], start, end - start)
            run("gatherRows") {
                try device.copy(x.memory, offset: from * width * 4, to: out.memory, offset: to * width * 4, bytes: count * width * 4)
            }
            start = end
        }
    }

    public func copyKVBlocks(_ cache: BackendKVCache, pairs: [(from: Int32, to: Int32)]) {
        let c = gpuCache(cache)
        for pair in pairs {
            precondition(pair.from >= 0 && Int(pair.from) < c.spec.blockCount && pair.to >= 0 && Int(pair.to) < c.spec.blockCount,
                         "copyKVBlocks: block outside the cache")
            for layer in 0..<c.spec.layers {
                for memory in [c.keys[layer], c.values[layer]] {
                    run("copyKVBlocks") {
                        try device.copy(memory, offset: Int(pair.from) * c.blockBytes, to: memory,
                                        offset: Int(pair.to) * c.blockBytes, bytes: c.blockBytes)
                    }
                }
            }
        }
    }

    // MARK: Launching

    /// The smallest power of two in 32...256 that covers `width` threads (at least a warp, at
    /// most the reduction scratch).
    static func groupSize(covering width: Int) -> Int {
        var group = 32
        while group < width && group < GPUKernelSource.maxGroup { group *= 2 }
        return group
    }

    private func launch(_ name: String, groups: (x: Int, y: Int), groupSize: Int, _ arguments: [KernelArgument]) {
        guard let kernel = kernels[name] else { preconditionFailure("GPU backend: kernel \(name) was not compiled") }
        // An empty step or count is nothing to do (CUDA rejects an empty grid).
        guard groups.x > 0 && groups.y > 0 else { return }
        run(name) { try device.launch(kernel, groups: groups, groupSize: groupSize, arguments: arguments) }
    }

    /// Runs a device call an op cannot report a failure of (see the file header).
    private func run(_ what: String, _ body: () throws -> Void) {
        do {
            try body()
        } catch {
            fatalError("GPU backend: \(what) failed: \(error)")
        }
    }

    // MARK: Downcasts (a handle from another backend is a programming error)

    private func gpu(_ b: BackendBuffer) -> GPUBuffer {
        guard let b = b as? GPUBuffer else { preconditionFailure("buffer from another backend") }
        return b
    }
    private func gpu(_ w: BackendWeight) -> GPUWeight {
        guard let w = w as? GPUWeight else { preconditionFailure("weight from another backend") }
        return w
    }
    private func gpuCache(_ c: BackendKVCache) -> GPUKVCache {
        guard let c = c as? GPUKVCache else { preconditionFailure("KV cache from another backend") }
        return c
    }
    private func gpuRope(_ r: BackendRope) -> GPURope {
        guard let r = r as? GPURope else { preconditionFailure("rope table from another backend") }
        return r
    }
    private func gpuBatch(_ b: BackendBatch) -> GPUBatch {
        guard let b = b as? GPUBatch else { preconditionFailure("batch from another backend") }
        precondition(b.generation == generation, "batch used after the next makeBatch")
        return b
    }
}
