// Matrix products of F16 and BF16 weights with many activation rows through cuBLAS's GEMM,
// which runs them on tensor cores (as llama.cpp's CUDA backend does). Used on CUDA only, and
// only where it pays: our own kernels (GPUMatmul) keep every other weight format, OpenCL, and
// few activation rows.
//
// When: F16/BF16 weights and at least `minimumRows` (9) activation rows, on a GPU with tensor
// cores for the type (compute capability 7.0+ for F16, 8.0+ for BF16; older GPUs gain little
// and cuBLAS has no BF16 GEMM before 8.0). Up to 8 rows our
// row-vector kernels read each weight once per 8 rows and are bound by memory bandwidth, which
// a GEMM cannot beat (a decode step of a few sequences); from 9 rows on they switch to a tiled
// kernel of scalar FMAs that is bound by arithmetic, where tensor cores are several times
// faster (prompt processing, or 64 samples decoding as one batch). llama.cpp draws the same
// line (its vector kernels take up to 8 rows). Not yet measured on a GPU: the first GPU run
// should compare both paths around the threshold (`bench --device cuda`).
//
// How: cublasGemmEx needs both operands of one type, so the F32 activation rows are first
// rounded to the weights' type (kernel convert_f32_to_f16 / _bf16, bit-for-bit the CPU's
// rounding) into `scratch`; cuBLAS multiplies with F32 accumulation and writes F32; the bias,
// if any, is added by a kernel afterwards. Everything is queued on the device's one stream, so
// it is ordered with the other ops like any launch.
//
// Precision: rounding the activations costs what it costs llama.cpp: a normalised error
// (Σ(got-want)²/Σwant²) against the CPU backend's F32-activation products of about 4e-8 for
// F16 weights and 3e-6 for BF16 (activations uniform in [-1, 1]; CUBLASTests prints them),
// where our own kernels stay below 1e-10. So backend-ops' float matmul threshold (1e-7) does
// not hold for BF16 on this path; ggml's test-backend-ops allows 5e-4 for this reason.

import Foundation

/// cuBLAS GEMM for F16/BF16 weights on one CUDA device.
final class CUBLASMatmul {
    /// Fewest activation rows that go through cuBLAS (see the file header).
    static let minimumRows = GPUMatmul.rowsPerGroup + 1
    /// The kernels this class launches (in `GPUKernelSource.convertKernels`).
    static let kernelNames = ["convert_f32_to_f16", "convert_f32_to_bf16", "add_bias_rows"]
    private static let groupSize = 256

    let cublas: CUBLAS
    /// cublasGetVersion's number (e.g. 120405 for 12.4.5).
    let version: Int
    private let device: CUDADevice
    private let handle: CUBLAS.Handle
    private let toF16: DeviceKernel
    private let toBF16: DeviceKernel
    private let addBias: DeviceKernel
    /// The weight formats cuBLAS takes on this GPU; a format whose GEMM cuBLAS refuses at run
    /// time (CUBLAS_STATUS_NOT_SUPPORTED / ARCH_MISMATCH) is dropped and left to our kernels.
    private(set) var formats: Set<WeightFormat>

    /// "cuBLAS 12.4.5 (libcublas.so.12)".
    var description: String { "cuBLAS \(CUBLAS.versionString(version)) (\(cublas.path))" }

    /// A cuBLAS handle on `device`'s context, queueing on its stream. `kernels`: the compiled
    /// program's kernels by name (they must include `kernelNames`). Throws a one-line error
    /// when cuBLAS cannot start there.
    init(device: CUDADevice, kernels: [String: DeviceKernel], cublas: CUBLAS) throws {
        func kernel(_ name: String) throws -> DeviceKernel {
            guard let k = kernels[name] else { throw DeviceError("cuBLAS matmul: kernel \(name) was not compiled") }
            return k
        }
        toF16 = try kernel("convert_f32_to_f16")
        toBF16 = try kernel("convert_f32_to_bf16")
        addBias = try kernel("add_bias_rows")
        self.device = device
        self.cublas = cublas
        formats = CUBLASMatmul.formats(computeCapability: device.computeCapability)
        // cuBLAS works in the calling thread's current context (through the CUDA runtime),
        // which must be ours: the primary context, the one the runtime itself would take.
        let stream = try device.streamForLibraries()
        var created: CUBLAS.Handle?
        try cublas.check(cublas.cublasCreate(&created), "cublasCreate")
        guard let created else { throw DeviceError("cuBLAS cublasCreate returned no handle") }
        do {
            try cublas.check(cublas.cublasSetStream(created, stream), "cublasSetStream")
            var number: Int32 = 0
            try cublas.check(cublas.cublasGetVersion(created, &number), "cublasGetVersion")
            version = Int(number)
        } catch {
            _ = cublas.cublasDestroy(created)
            throw error
        }
        handle = created
    }

    /// The same with cuBLAS loaded from `candidates`.
    convenience init(device: CUDADevice, kernels: [String: DeviceKernel], candidates: [String] = CUBLAS.candidates()) throws {
        try self.init(device: device, kernels: kernels, cublas: CUBLAS(candidates: candidates))
    }

    /// cuBLAS on `device` when it can be had, else nil, with a line saying which or why not
    /// (for selftest/bench output). Never an error: cuBLAS is optional. STEPWISE_CUBLAS=off
    /// turns it off (every product then runs on our own kernels).
    static func open(device: CUDADevice, kernels: [String: DeviceKernel],
                     environment: [String: String] = ProcessInfo.processInfo.environment) -> (matmul: CUBLASMatmul?, note: String) {
        if environment["STEPWISE_CUBLAS"] == "off" { return (nil, "cuBLAS off (STEPWISE_CUBLAS=off)") }
        do {
            let matmul = try CUBLASMatmul(device: device, kernels: kernels, candidates: CUBLAS.candidates(environment: environment))
            return (matmul, matmul.description)
        } catch {
            return (nil, "\(error)")
        }
    }

    deinit {
        if (try? device.streamForLibraries()) != nil { _ = cublas.cublasDestroy(handle) }
    }

    /// Whether cuBLAS is worth it for `format` weights and `rows` activation rows (on a GPU
    /// that has tensor cores for the format: `takes`).
    static func applies(format: WeightFormat, rows: Int) -> Bool {
        (format == .f16 || format == .bf16) && rows >= minimumRows
    }

    /// The formats cuBLAS runs on tensor cores on a GPU of `computeCapability`.
    static func formats(computeCapability: (major: Int, minor: Int)) -> Set<WeightFormat> {
        var formats: Set<WeightFormat> = []
        if computeCapability.major >= 7 { formats.insert(.f16) }
        if computeCapability.major >= 8 { formats.insert(.bf16) }
        return formats
    }

    /// Whether `matmul` takes a product of `format` weights with `rows` activation rows here
    /// (callers size the scratch by it).
    func takes(format: WeightFormat, rows: Int) -> Bool {
        CUBLASMatmul.applies(format: format, rows: rows) && formats.contains(format)
    }

    /// Device scratch bytes `matmul` needs: the activation rows as 16-bit values.
    static func scratchBytes(rows: Int, columns: Int) -> Int {
        rows * columns * 2
    }

    /// output[r, o] = Σ_i W[o, i] · input[r, i] (+ bias[o]) for F16/BF16 weights W (raw rows of
    /// `columns`) and F32 input, output and bias, as `GPUMatmul.matmul`; returns false, doing
    /// nothing, where it does not apply (`takes`), so the caller runs its own kernels; also
    /// when cuBLAS refuses the format on this GPU (then never again for that format).
    /// `scratch` must hold `scratchBytes(rows:columns:)` and alias neither input nor output.
    func matmul(weight: DeviceMemory, format: WeightFormat, outRows: Int, columns: Int,
                input: DeviceMemory, rows: Int, bias: DeviceMemory?, output: DeviceMemory,
                scratch: DeviceMemory) throws -> Bool {
        guard takes(format: format, rows: rows) else { return false }
        precondition(outRows > 0 && columns > 0, "matmul: \(outRows) x \(columns) weights")
        precondition(outRows * format.rowBytes(columns)! <= weight.byteCount, "matmul: weight too small")
        precondition(rows * columns * 4 <= input.byteCount && rows * outRows * 4 <= output.byteCount,
                     "matmul: buffers too small")
        precondition(bias.map { $0.byteCount >= outRows * 4 } ?? true, "matmul: bias too small")
        precondition(scratch.byteCount >= CUBLASMatmul.scratchBytes(rows: rows, columns: columns),
                     "matmul: cuBLAS needs \(CUBLASMatmul.scratchBytes(rows: rows, columns: columns)) bytes of scratch")
        precondition(input !== output && scratch !== input && scratch !== output, "matmul: buffers alias")
        let values = rows * columns, results = rows * outRows
        precondition(max(values, results) <= Int(Int32.max) - CUBLASMatmul.groupSize,
                     "matmul: \(rows) x \(max(columns, outRows)) is more than one launch covers")

        try launch(format == .f16 ? toF16 : toBF16, count: values, [.memory(input), .int(values), .memory(scratch)])
        let status = try gemmStatus(weight: weight, format: format, outRows: outRows, columns: columns,
                                    activations: scratch, rows: rows, output: output)
        if status == CUBLAS.statusNotSupported || status == CUBLAS.statusArchMismatch {
            formats.remove(format)   // nothing was written to `output`: our kernels take over
            return false
        }
        try cublas.check(status, gemmWhat(format, outRows, columns, rows))
        if let bias {
            try launch(addBias, count: results, [.memory(output), .memory(bias), .int(outRows), .int(results)])
        }
        return true
    }

    /// output[r, o] = Σ_i W[o, i] · a[r, i] in F32, where W (`outRows` x `columns`) and the
    /// activations a (`rows` x `columns`) are both row-major in `format` (F16 or BF16).
    ///
    /// cuBLAS is column-major: a column-major matrix with leading dimension ld has element
    /// (i, j) at i + j * ld. A row-major [R, C] array is therefore the column-major [C, R]
    /// matrix (its transpose) with ld = C. So, as cuBLAS sees our buffers:
    ///   W  row-major [outRows, columns] = Wc, column-major [columns, outRows], ld = columns
    ///   a  row-major [rows, columns]    = Ac, column-major [columns, rows],    ld = columns
    ///   y  row-major [rows, outRows]    = Yc, column-major [outRows, rows],    ld = outRows
    /// and we want Yc[o, r] = y[r, o] = Σ_i W[o, i] a[r, i] = Σ_i Wc[i, o] Ac[i, r] = (Wcᵀ · Ac)[o, r].
    /// GemmEx computes C = α op(A) op(B) + β C with op(A) m x k, op(B) k x n, C m x n; so
    /// A = Wc with op T (lda = columns), B = Ac with op N (ldb = columns), C = Yc
    /// (ldc = outRows), m = outRows, n = rows, k = columns, α = 1, β = 0 (C is then not read).
    func gemm(weight: DeviceMemory, format: WeightFormat, outRows: Int, columns: Int,
              activations: DeviceMemory, rows: Int, output: DeviceMemory) throws {
        let status = try gemmStatus(weight: weight, format: format, outRows: outRows, columns: columns,
                                    activations: activations, rows: rows, output: output)
        try cublas.check(status, gemmWhat(format, outRows, columns, rows))
    }

    private func gemmWhat(_ format: WeightFormat, _ outRows: Int, _ columns: Int, _ rows: Int) -> String {
        "cublasGemmEx (\(format), \(outRows) x \(columns) weights, \(rows) rows)"
    }

    /// `gemm`'s call; cuBLAS's status.
    private func gemmStatus(weight: DeviceMemory, format: WeightFormat, outRows: Int, columns: Int,
                            activations: DeviceMemory, rows: Int, output: DeviceMemory) throws -> CUBLAS.Status {
        precondition(format == .f16 || format == .bf16, "gemm: \(format) weights")
        precondition(outRows * columns * 2 <= weight.byteCount && rows * columns * 2 <= activations.byteCount
                     && rows * outRows * 4 <= output.byteCount, "gemm: buffers too small")
        precondition(max(outRows, rows, columns) <= Int(Int32.max), "gemm: dimensions past cuBLAS's int")
        guard rows > 0 else { return 0 }
        let type = format == .f16 ? CUBLAS.typeR16F : CUBLAS.typeR16BF
        var alpha: Float = 1, beta: Float = 0
        _ = try device.streamForLibraries()  // our context current on this thread
        return withUnsafePointer(to: &alpha) { alphaPointer in
            withUnsafePointer(to: &beta) { betaPointer in
                cublas.cublasGemmEx(handle, CUBLAS.opT, CUBLAS.opN, Int32(outRows), Int32(rows), Int32(columns),
                                    alphaPointer, Self.pointer(weight), type, Int32(columns),
                                    Self.pointer(activations), type, Int32(columns),
                                    betaPointer, UnsafeMutableRawPointer(bitPattern: UInt(output.handle)), CUBLAS.typeR32F, Int32(outRows),
                                    CUBLAS.compute32F, CUBLAS.gemmDefault)
            }
        }
    }

    /// A CUdeviceptr as the `const void *` cuBLAS takes (one address space under UVA).
    private static func pointer(_ memory: DeviceMemory) -> UnsafeRawPointer? {
        UnsafeRawPointer(bitPattern: UInt(memory.handle))
    }

    /// One thread per element.
    private func launch(_ kernel: DeviceKernel, count: Int, _ arguments: [KernelArgument]) throws {
        let group = CUBLASMatmul.groupSize
        try device.launch(kernel, groups: (x: (count + group - 1) / group, y: 1), groupSize: group, arguments: arguments)
    }
}
