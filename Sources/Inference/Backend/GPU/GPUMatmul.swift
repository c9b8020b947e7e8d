// The host side of embedding lookup and matrix products on a GPU: which kernel of
// GPUMatmulKernels.swift runs for which weight format and row count, with which grid, and the
// scratch the integer formats need for their quantized activation rows (given by the caller)
// and split products need for partial sums (kept here). GPUBackend calls it for `embed` and
// `matmul`; it works on raw device memory so it can be tested on a bare ComputeDevice.

/// Launches the embedding and matrix-product kernels of one compiled program.
final class GPUMatmul {
    private let device: ComputeDevice
    private let embedKernel: DeviceKernel
    private let matmulKernels: [WeightFormat: DeviceKernel]
    private let quantizeQ8_0: DeviceKernel
    private let quantizeQ8_K: DeviceKernel
    private let floatTiled: DeviceKernel
    private let quantTiled: DeviceKernel
    private let sumSplits: DeviceKernel
    /// Partial products of split tiled matmuls; grown to the largest needed, reused (launches
    /// run in order, so one matmul's sums are read before the next writes).
    private var partials: DeviceMemory?

    /// Work-groups a tiled product aims for: when its output blocks are fewer, the columns are
    /// split into ranges (of at least `minimumSplitColumns`) computed by separate groups and
    /// summed afterwards. Tests set 1 to run every product unsplit.
    var targetGroups = 512
    static let minimumSplitColumns = 256

    /// Activation rows one matmul work-group handles (`MM_ROWS` in the kernels); with more rows
    /// the tiled kernels run, `tileOutputs` x `tileRows` outputs per group.
    static let rowsPerGroup = 8
    static let tileOutputs = 64
    static let tileRows = 64

    /// The kernel names this class launches (all must be in `kernels`).
    static let kernelNames: [String] = ["embed_rows", "quantize_act_q8_0", "quantize_act_q8_K", "matmul_float_tiled",
                                        "matmul_quant_tiled", "matmul_sum_splits"] + WeightFormat.allCases.map(matmulKernelName)

    static func matmulKernelName(_ format: WeightFormat) -> String {
        switch format {
        case .f32: return "matmul_f32"
        case .f16: return "matmul_f16"
        case .bf16: return "matmul_bf16"
        case .q8_0: return "matmul_q8_0"
        case .q4_0: return "matmul_q4_0"
        case .q4_K: return "matmul_q4_K"
        case .q6_K: return "matmul_q6_K"
        }
    }

    /// `kernels`: the compiled program's kernels by name (`ComputeDevice.compile`).
    init(device: ComputeDevice, kernels: [String: DeviceKernel]) throws {
        func kernel(_ name: String) throws -> DeviceKernel {
            guard let k = kernels[name] else { throw DeviceError("GPU matmul: kernel \(name) was not compiled") }
            return k
        }
        self.device = device
        embedKernel = try kernel("embed_rows")
        quantizeQ8_0 = try kernel("quantize_act_q8_0")
        quantizeQ8_K = try kernel("quantize_act_q8_K")
        floatTiled = try kernel("matmul_float_tiled")
        quantTiled = try kernel("matmul_quant_tiled")
        sumSplits = try kernel("matmul_sum_splits")
        var byFormat: [WeightFormat: DeviceKernel] = [:]
        for format in WeightFormat.allCases {
            byFormat[format] = try kernel(GPUMatmul.matmulKernelName(format))
        }
        matmulKernels = byFormat
    }

    /// Whether `format` multiplies quantized activations (and so needs scratch).
    static func isInteger(_ format: WeightFormat) -> Bool {
        switch format {
        case .q8_0, .q4_0, .q4_K, .q6_K: return true
        case .f32, .f16, .bf16: return false
        }
    }

    /// Bytes of one quantized activation row of `columns` values (`act_row_bytes` in the
    /// kernels): int8 values, a float scale per 32, an int sum per 16, rounded up to 16 bytes.
    static func activationRowBytes(columns: Int) -> Int {
        (columns + columns / 8 + columns / 4 + 15) & ~15
    }

    /// Device scratch bytes `matmul` needs (quantized activations); 0 for float formats.
    static func scratchBytes(format: WeightFormat, rows: Int, columns: Int) -> Int {
        isInteger(format) ? rows * activationRowBytes(columns: columns) : 0
    }

    /// How a tiled product of `blocks` output blocks splits its columns: `splits` ranges of
    /// `chunk` columns (a multiple of 32; the last range may be shorter), so that about
    /// `targetGroups` work-groups run, each range at least `minimumSplitColumns` long.
    static func columnSplits(columns: Int, blocks: Int, targetGroups: Int) -> (splits: Int, chunk: Int) {
        let most = max(1, columns / minimumSplitColumns)
        let wanted = min(most, max(1, (targetGroups + blocks - 1) / blocks))
        let chunk = ((columns + wanted - 1) / wanted + 31) / 32 * 32
        return ((columns + chunk - 1) / chunk, chunk)
    }

    /// output[r, 0..<columns] = dequantized row tokens[r] of `table` (tokens: `count` Int32 on
    /// the device). A token outside the table yields NaNs (callers check tokens on the host).
    func embed(table: DeviceMemory, format: WeightFormat, tableRows: Int, columns: Int,
               tokens: DeviceMemory, count: Int, into output: DeviceMemory) throws {
        precondition(columns > 0 && columns % format.blockElements == 0, "embed: \(columns) columns of \(format)")
        precondition(count * 4 <= tokens.byteCount && count * columns * 4 <= output.byteCount, "embed: buffers too small")
        precondition(tableRows * format.rowBytes(columns)! <= table.byteCount, "embed: table too small")
        guard count > 0 else { return }
        let group = 128
        try device.launch(embedKernel, groups: (x: (columns + group - 1) / group, y: count), groupSize: group, arguments: [
            .memory(table), .int32(Int32(format.rawValue)), .int(tableRows), .int(columns),
            .memory(tokens), .int(count), .memory(output),
        ])
    }

    /// Quantizes `rows` F32 rows of `columns` into `scratch` as the integer kernels for `format`
    /// weights read them (layout in GPUMatmulKernels.swift). `matmul` calls it; tests call it
    /// to compare the bytes with the CPU backend's.
    func quantizeActivations(for format: WeightFormat, input: DeviceMemory, rows: Int, columns: Int,
                             into scratch: DeviceMemory) throws {
        precondition(GPUMatmul.isInteger(format), "quantizeActivations: \(format) weights take F32 activations")
        precondition(scratch.byteCount >= GPUMatmul.scratchBytes(format: format, rows: rows, columns: columns)
                     && rows * columns * 4 <= input.byteCount, "quantizeActivations: buffers too small")
        // One thread per block of 32 (Q8_0/Q4_0 weights) or 256 (K-quants).
        let (kernel, block) = (format == .q4_K || format == .q6_K) ? (quantizeQ8_K, 256) : (quantizeQ8_0, 32)
        precondition(columns % block == 0, "quantizeActivations: \(columns) is not a multiple of \(block)")
        let blocks = rows * (columns / block)
        guard blocks > 0 else { return }
        let group = 64
        try device.launch(kernel, groups: (x: (blocks + group - 1) / group, y: 1), groupSize: group, arguments: [
            .memory(input), .int(rows), .int(columns), .memory(scratch),
        ])
    }

    /// output[r, o] = Σ_i W[o, i] · input[r, i] (+ bias[o]); W = raw rows in `format`, F32 bias.
    /// `scratch` must hold `scratchBytes(format:rows:columns:)` (nil allowed when that is 0).
    func matmul(weight: DeviceMemory, format: WeightFormat, outRows: Int, columns: Int,
                input: DeviceMemory, rows: Int, bias: DeviceMemory?, output: DeviceMemory,
                scratch: DeviceMemory?) throws {
        precondition(outRows > 0 && columns > 0 && columns % format.blockElements == 0,
                     "matmul: \(outRows) x \(columns) is not a whole number of \(format) blocks")
        precondition(outRows * format.rowBytes(columns)! <= weight.byteCount, "matmul: weight too small")
        precondition(rows * columns * 4 <= input.byteCount && rows * outRows * 4 <= output.byteCount,
                     "matmul: buffers too small")
        precondition(bias.map { $0.byteCount >= outRows * 4 } ?? true, "matmul: bias too small")
        precondition(input !== output, "matmul: output aliases input")
        guard rows > 0 else { return }

        var activations = input
        if GPUMatmul.isInteger(format) {
            let needed = GPUMatmul.scratchBytes(format: format, rows: rows, columns: columns)
            guard let scratch, scratch.byteCount >= needed else {
                preconditionFailure("matmul: \(format) needs \(needed) bytes of scratch")
            }
            try quantizeActivations(for: format, input: input, rows: rows, columns: columns, into: scratch)
            activations = scratch
        }
        if rows > GPUMatmul.rowsPerGroup {
            try tiledMatmul(weight: weight, format: format, outRows: outRows, columns: columns,
                            activations: activations, rows: rows, bias: bias, output: output)
            return
        }
        // Up to rowsPerGroup rows (decode): one work-group per output row (the kernels take
        // outRows x ceil(rows / rowsPerGroup) groups; here that is outRows), its threads striding
        // over the row's units (8 weights at a time for float rows of a multiple of 8, blocks of
        // 32 for integer formats); enough threads to cover a row in one pass, a power of two in
        // 32...128 (group_sum needs a power of two of at least a warp).
        let units = GPUMatmul.isInteger(format) ? columns / 32 : (columns % 8 == 0 ? columns / 8 : columns)
        var group = 32
        while group < units && group < 128 { group *= 2 }
        guard let kernel = matmulKernels[format] else {
            preconditionFailure("matmul: no kernel for \(format)")  // init looked up every format
        }
        try device.launch(kernel, groups: (x: outRows, y: 1), groupSize: group, arguments: [
            .memory(weight), .int(outRows), .int(columns), .memory(activations), .int(rows),
            .memory(bias ?? output), .int(bias == nil ? 0 : 1), .memory(output),
        ])
    }

    /// More than rowsPerGroup rows: 64 x 64 output blocks per work-group (matmul_float_tiled /
    /// matmul_quant_tiled), the columns split into ranges when the blocks are too few to keep
    /// the GPU busy, the ranges' partial sums then added with the bias.
    private func tiledMatmul(weight: DeviceMemory, format: WeightFormat, outRows: Int, columns: Int,
                             activations: DeviceMemory, rows: Int, bias: DeviceMemory?, output: DeviceMemory) throws {
        let blocks = ((outRows + GPUMatmul.tileOutputs - 1) / GPUMatmul.tileOutputs)
            * ((rows + GPUMatmul.tileRows - 1) / GPUMatmul.tileRows)
        precondition(blocks <= Int(Int32.max), "matmul: \(outRows) x \(rows) is more than one launch covers")
        let (splits, chunk) = GPUMatmul.columnSplits(columns: columns, blocks: blocks, targetGroups: targetGroups)
        var target = output
        if splits > 1 {
            let bytes = splits * rows * outRows * 4
            if (partials?.byteCount ?? 0) < bytes {
                partials = nil  // free the smaller one first
                partials = try device.allocate(bytes: bytes, what: "matmul partial sums")
            }
            target = partials!
        }
        let kernel = GPUMatmul.isInteger(format) ? quantTiled : floatTiled
        try device.launch(kernel, groups: (x: blocks, y: splits), groupSize: 256, arguments: [
            .memory(weight), .int32(Int32(format.rawValue)), .int(outRows), .int(columns), .memory(activations),
            .int(rows), .memory(bias ?? output), .int(bias == nil || splits > 1 ? 0 : 1), .memory(target), .int(chunk),
        ])
        if splits > 1 {
            let group = 256
            try device.launch(sumSplits, groups: (x: (rows * outRows + group - 1) / group, y: 1), groupSize: group, arguments: [
                .memory(target), .int(splits), .int(rows), .int(outRows), .memory(bias ?? output),
                .int(bias == nil ? 0 : 1), .memory(output),
            ])
        }
    }
}
