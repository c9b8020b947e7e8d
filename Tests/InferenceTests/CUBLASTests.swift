// The cuBLAS path for F16/BF16 products of many activation rows (CUBLASMatmul), tested without
// a GPU:
//
// - The kernels it launches (GPUConvertKernels.swift) run on OpenCL (PoCL in CI): F32 -> F16
//   and F32 -> BF16 against the CPU backend's conversions bit for bit (ties both ways,
//   subnormals, overflow, infinities, NaNs, every half, random bit patterns), and the bias add.
// - The cuBLAS call against a fake libcublas: a small C library compiled here whose
//   cublasGemmEx computes the column-major GEMM on the host from exactly the arguments it is
//   given (transposes, leading dimensions, data types), on the fake libcuda of CUDADeviceTests
//   (device pointers are host pointers there). A wrong transpose or leading dimension gives
//   wrong numbers; results are compared with the CPU backend's matmul on the same weights. The
//   fake driver does not execute kernels, so the activation rows cuBLAS reads are converted on
//   the host in those tests (the kernels' conversion is the OpenCL test's business).
// - No libcublas: nil and a note, never an error.
// - On a machine with a GPU and cuBLAS, the real thing (`testRealCUBLASWhenPresent`).
import Foundation
@testable import Inference
import XCTest

final class CUBLASTests: XCTestCase {
    // MARK: Conversion kernels on OpenCL

    /// The convert kernels alone (quick to build on PoCL), in the device's dialect.
    private func convertProgram(_ device: ComputeDevice) throws -> [String: DeviceKernel] {
        var source = "#define MAX_GROUP \(GPUKernelSource.maxGroup)\n"
        if case .opencl(subgroups: true) = device.dialect { source += "#define STEPWISE_SUBGROUPS 1\n" }
        source += GPUKernelSource.openCLPrelude + GPUKernelSource.commonHelpers + GPUKernelSource.convertKernels
        return try device.compile(source: source, kernels: CUBLASMatmul.kernelNames)
    }

    /// Float bit patterns where rounding to float16 and bfloat16 has its edges.
    private func conversionInputs() -> [UInt32] {
        var bits: [UInt32] = [
            0, 0x8000_0000, 0x7f80_0000, 0xff80_0000,        // ±0, ±inf
            0x7fc0_0000, 0xffc0_0000, 0x7f80_0001, 0x7fbf_ffff, 0xffff_ffff, 0x7fc0_1234,  // quiet, signaling, payload NaNs
            0x3f80_0000, 0xbf80_0000, 0x7f7f_ffff, 0xff7f_ffff, 0x0000_0001, 0x8000_0001, 0x007f_ffff, 0x0080_0000,
            0x477f_e000, 0x477f_efff, 0x477f_f000, 0x477f_f001, 0xc77f_f000, 0x4780_0000,  // around 65504 and 65520
            0x3300_0000, 0x3300_0001, 0x32ff_ffff, 0xb300_0001, 0x3340_0000,                 // half the smallest subnormal
            0x3880_0000, 0x387f_ffff, 0x387f_f000, 0x387f_e000, 0x3880_1000, 0x3880_3000,   // subnormal/normal edge
            0x7f7f_8000, 0x7f7f_7fff, 0x3f80_8000, 0x3f81_8000, 0x3f80_8001, 0x3f80_7fff,   // bfloat16 ties, overflow
        ]
        // Float16 ties in the normal range, both parities of the last kept bit.
        for exponent in UInt32(113)...142 {
            for mantissaTop in [UInt32(0), 1, 2, 3, 0x3fe, 0x3ff] {
                bits.append((exponent << 23) | (mantissaTop << 13) | 0x1000)
                bits.append(0x8000_0000 | (exponent << 23) | (mantissaTop << 13) | 0x1000)
            }
        }
        // Float16 ties and near-ties in the subnormal range: halfway between subnormals v and
        // v + 1 (v * 2^-24), up to the one between the largest subnormal and the smallest normal.
        for v in [0, 1, 2, 3, 4, 5, 100, 511, 512, 1021, 1022, 1023] {
            let tie = Float((Double(v) + 0.5) * 0x1p-24)
            for value in [tie, tie.nextUp, tie.nextDown, -tie] { bits.append(value.bitPattern) }
        }
        // Every float16 value (exactly representable: must come back unchanged).
        for h in 0...UInt16.max { bits.append(Kernels.halfToFloat(h).bitPattern) }
        // Bfloat16 ties at random exponents.
        var rng = SplitMix64(seed: 0xb16)
        for _ in 0..<2000 {
            let high = UInt32(truncatingIfNeeded: rng.next()) & 0xffff_0000
            bits.append(high | 0x8000)
        }
        // Random patterns over the whole range.
        for _ in 0..<200_000 { bits.append(UInt32(truncatingIfNeeded: rng.next())) }
        return bits
    }

    func testConversionKernelsMatchCPUBitForBit() throws {
        let device = try openCLTestDevice()
        let kernels = try convertProgram(device)
        let inputs = conversionInputs()
        let input = try device.allocate(bytes: inputs.count * 4, what: "input")
        try inputs.withUnsafeBytes { try device.upload($0, to: input, offset: 0) }
        let output = try device.allocate(bytes: inputs.count * 2, what: "output")

        for (name, reference) in [("convert_f32_to_f16", Kernels.floatToHalf), ("convert_f32_to_bf16", Kernels.floatToBFloat16)] {
            try device.launch(try XCTUnwrap(kernels[name]), groups: ((inputs.count + 255) / 256, 1), groupSize: 256,
                              arguments: [.memory(input), .int(inputs.count), .memory(output)])
            var got = [UInt16](repeating: 0, count: inputs.count)
            try got.withUnsafeMutableBytes { try device.download(output, offset: 0, into: $0) }
            let want = inputs.map { reference(Float(bitPattern: $0)) }
            let wrong = (0..<inputs.count).filter { got[$0] != want[$0] }
            let examples = wrong.prefix(5).map {
                "0x" + String(inputs[$0], radix: 16) + " -> 0x" + String(got[$0], radix: 16) + ", CPU 0x" + String(want[$0], radix: 16)
            }
            XCTAssertEqual(wrong.count, 0, "\(name): \(wrong.count) of \(inputs.count) differ, e.g. \(examples)")
        }
    }

    func testConversionKernelWritesOnlyItsCount() throws {
        let device = try openCLTestDevice()
        let kernels = try convertProgram(device)
        let values: [Float] = [1, 2, 3, 4, 5]
        let input = try device.allocate(bytes: 20, what: "input")
        try values.withUnsafeBytes { try device.upload($0, to: input, offset: 0) }
        let output = try device.allocate(bytes: 12, what: "output")
        let sentinel = [UInt16](repeating: 0xabcd, count: 6)
        try sentinel.withUnsafeBytes { try device.upload($0, to: output, offset: 0) }
        try device.launch(try XCTUnwrap(kernels["convert_f32_to_f16"]), groups: (1, 1), groupSize: 256,
                          arguments: [.memory(input), .int(4), .memory(output)])
        var got = [UInt16](repeating: 0, count: 6)
        try got.withUnsafeMutableBytes { try device.download(output, offset: 0, into: $0) }
        XCTAssertEqual(got, values[0..<4].map { Kernels.floatToHalf($0) } + [0xabcd, 0xabcd])
    }

    func testBiasKernel() throws {
        let device = try openCLTestDevice()
        let kernels = try convertProgram(device)
        var rng = SplitMix64(seed: 7)
        let rows = 13, columns = 257
        let y = rng.floats(rows * columns), bias = rng.floats(columns)
        let yMemory = try device.allocate(bytes: (y.count + 3) * 4, what: "y")
        try (y + [9, 9, 9]).withUnsafeBytes { try device.upload($0, to: yMemory, offset: 0) }
        let biasMemory = try device.allocate(bytes: bias.count * 4, what: "bias")
        try bias.withUnsafeBytes { try device.upload($0, to: biasMemory, offset: 0) }
        try device.launch(try XCTUnwrap(kernels["add_bias_rows"]), groups: ((y.count + 255) / 256, 1), groupSize: 256,
                          arguments: [.memory(yMemory), .memory(biasMemory), .int(columns), .int(y.count)])
        var got = [Float](repeating: 0, count: y.count + 3)
        try got.withUnsafeMutableBytes { try device.download(yMemory, offset: 0, into: $0) }
        let want = (0..<y.count).map { y[$0] + bias[$0 % columns] } + [9, 9, 9]
        XCTAssertEqual(got, want)
    }

    func testKernelsAreInTheProgram() {
        let names = GPUKernelSource.kernelNames
        for name in CUBLASMatmul.kernelNames { XCTAssertTrue(names.contains(name), name) }
        XCTAssertTrue(GPUKernelSource.program(.cuda).contains("KERNEL void convert_f32_to_bf16("))
        XCTAssertTrue(GPUKernelSource.program(.opencl(subgroups: false)).contains("KERNEL void add_bias_rows("))
    }

    // MARK: When cuBLAS applies

    func testThresholdRule() {
        XCTAssertEqual(CUBLASMatmul.minimumRows, 9)
        for format in WeightFormat.allCases {
            XCTAssertFalse(CUBLASMatmul.applies(format: format, rows: 8), "\(format)")
            XCTAssertEqual(CUBLASMatmul.applies(format: format, rows: 9), format == .f16 || format == .bf16, "\(format)")
            XCTAssertEqual(CUBLASMatmul.applies(format: format, rows: 512), format == .f16 || format == .bf16, "\(format)")
        }
        XCTAssertEqual(CUBLASMatmul.scratchBytes(rows: 65, columns: 896), 65 * 896 * 2)
        // Tensor cores for F16 from Volta (7.0), for BF16 from Ampere (8.0).
        XCTAssertEqual(CUBLASMatmul.formats(computeCapability: (6, 1)), [])
        XCTAssertEqual(CUBLASMatmul.formats(computeCapability: (7, 5)), [.f16])
        XCTAssertEqual(CUBLASMatmul.formats(computeCapability: (8, 0)), [.f16, .bf16])
        XCTAssertEqual(CUBLASMatmul.formats(computeCapability: (9, 0)), [.f16, .bf16])
        XCTAssertEqual(CUBLAS.versionString(120405), "12.4.5")
        XCTAssertEqual(CUBLAS.versionString(11605), "11.6.5")
        XCTAssertEqual(CUBLAS.versionString(110902), "11.9.2")
    }

    // MARK: No libcublas

    func testMissingCUBLASIsNotAnError() throws {
        XCTAssertNil(CUBLAS.loadIfAvailable(candidates: ["/nonexistent/libcublas.so.12"]))
        XCTAssertThrowsError(try CUBLAS(candidates: ["/nonexistent/libcublas.so.12", "/nonexistent/libcublas.so.11"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("cuBLAS not found (optional"), text)
            XCTAssertTrue(text.contains("/nonexistent/libcublas.so.11"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        XCTAssertEqual(CUBLAS.candidates(environment: ["STEPWISE_CUBLAS": "/x/libcublas.so.12"]), ["/x/libcublas.so.12"])
        XCTAssertEqual(CUBLAS.candidates(environment: [:]).first, "libcublas.so.12")

        // On a CUDA device (the fake driver): nil with the reason, or off by request.
        let fake = try FakeCUDA.shared()
        fake.configure(computeCapability: (99, 0))
        let device = try fake.open()
        let kernels = try device.compile(source: cudaConvertProgram, kernels: CUBLASMatmul.kernelNames)
        let missing = CUBLASMatmul.open(device: device, kernels: kernels, environment: ["STEPWISE_CUBLAS": "/nonexistent/libcublas.so.12"])
        XCTAssertNil(missing.matmul)
        XCTAssertTrue(missing.note.hasPrefix("cuBLAS not found"), missing.note)
        let off = CUBLASMatmul.open(device: device, kernels: kernels, environment: ["STEPWISE_CUBLAS": "off"])
        XCTAssertNil(off.matmul)
        XCTAssertEqual(off.note, "cuBLAS off (STEPWISE_CUBLAS=off)")
    }

    // MARK: The cuBLAS call, against the fake libcublas

    /// (output rows, columns, activation rows): odd sizes everywhere, one output row, a long row.
    private let shapes = [(7, 37, 9), (33, 288, 16), (257, 896, 65), (1, 64, 200), (33, 4864, 12), (130, 129, 31)]

    func testGemmMatchesCPUBackend() throws {
        let (fake, cublas) = try FakeCUBLAS.shared()
        fake.configure(computeCapability: (99, 0))
        cublas.configure()
        let device = try fake.open()
        let kernels = try device.compile(source: cudaConvertProgram, kernels: CUBLASMatmul.kernelNames)
        let matmul = try CUBLASMatmul(device: device, kernels: kernels, candidates: [cublas.path])
        XCTAssertEqual(matmul.description, "cuBLAS 12.4.5 (\(cublas.path))")
        XCTAssertEqual(cublas.lastStream, UnsafeRawPointer(try device.streamForLibraries()), "GEMMs queue on the device's stream")

        var rng = SplitMix64(seed: 0xc0b1a5)
        for format in [WeightFormat.f16, .bf16] {
            for (outRows, columns, rows) in shapes {
                let what = "\(format) \(outRows)x\(columns), \(rows) rows"
                let weightBytes = BackendOpsCheck.randomWeightBytes(format, rows: outRows, columns: columns, rng: &rng)
                let x = rng.floats(rows * columns)
                let rounded = x.map { round(format, $0) }

                let weight = try device.allocate(bytes: weightBytes.count, what: "weight")
                try weightBytes.withUnsafeBytes { try device.upload($0, to: weight, offset: 0) }
                let activations = try device.allocate(bytes: CUBLASMatmul.scratchBytes(rows: rows, columns: columns), what: "activations")
                let bits = x.map { format == .f16 ? Kernels.floatToHalf($0) : Kernels.floatToBFloat16($0) }
                try bits.withUnsafeBytes { try device.upload($0, to: activations, offset: 0) }
                let guardCount = 5
                let output = try device.allocate(bytes: (rows * outRows + guardCount) * 4, what: "output")
                let fill = [Float](repeating: .nan, count: rows * outRows) + [Float](repeating: 1234.5, count: guardCount)
                try fill.withUnsafeBytes { try device.upload($0, to: output, offset: 0) }

                let calls = cublas.counter("gemm_calls")
                try matmul.gemm(weight: weight, format: format, outRows: outRows, columns: columns,
                                activations: activations, rows: rows, output: output)
                XCTAssertEqual(cublas.counter("gemm_calls"), calls + 1)
                var got = [Float](repeating: 0, count: rows * outRows + guardCount)
                try got.withUnsafeMutableBytes { try device.download(output, offset: 0, into: $0) }
                XCTAssertEqual(Array(got[(rows * outRows)...]), [Float](repeating: 1234.5, count: guardCount), "\(what): wrote past the output")
                got.removeLast(guardCount)

                // Against the CPU on the same rounded activations: only summation order differs.
                let exact = try cpuMatmul(format, weightBytes, outRows: outRows, columns: columns, x: rounded, rows: rows, bias: nil)
                let error = normalisedError(got, exact)
                XCTAssertLessThan(error, 1e-10, what)
                // Against the CPU on the F32 activations: what rounding them costs.
                let full = try cpuMatmul(format, weightBytes, outRows: outRows, columns: columns, x: x, rows: rows, bias: nil)
                let cost = normalisedError(got, full)
                XCTAssertLessThan(cost, format == .f16 ? 1e-6 : 5e-5, what)
                print(String(format: "cuBLAS path %@: vs CPU (rounded activations) %.1e, vs CPU (F32 activations) %.1e", what, error, cost))
            }
        }
    }

    func testMatmulRoutesConvertsAndAddsBias() throws {
        let (fake, cublas) = try FakeCUBLAS.shared()
        fake.configure(computeCapability: (99, 0))   // PTX: the fake checks launch arguments against the kernels' parameters
        cublas.configure()
        let device = try fake.open()
        let kernels = try device.compile(source: cudaConvertProgram, kernels: CUBLASMatmul.kernelNames)
        let matmul = try CUBLASMatmul(device: device, kernels: kernels, candidates: [cublas.path])

        var rng = SplitMix64(seed: 99)
        let outRows = 33, columns = 96, rows = 20
        for format in [WeightFormat.f16, .bf16] {
            let operands = try MatmulOperands(device, format, outRows: outRows, columns: columns, rows: rows, rng: &rng)
            let (weightBytes, x) = (operands.weightBytes, operands.x)
            let (weight, input, biasMemory) = (operands.weight, operands.input, operands.biasMemory)
            let (output, scratch) = (operands.output, operands.scratch)
            // The fake driver runs no kernels: put in scratch what the conversion kernel would.
            let bits = x.map { format == .f16 ? Kernels.floatToHalf($0) : Kernels.floatToBFloat16($0) }
            try bits.withUnsafeBytes { try device.upload($0, to: scratch, offset: 0) }

            // Does not apply: no launch, no GEMM, false.
            var launches = fake.counter("launches"), calls = cublas.counter("gemm_calls")
            XCTAssertFalse(try matmul.matmul(weight: weight, format: format, outRows: outRows, columns: columns, input: input,
                                             rows: 8, bias: biasMemory, output: output, scratch: scratch))
            let f32Weight = try device.allocate(bytes: outRows * columns * 4, what: "f32 weight")
            XCTAssertFalse(try matmul.matmul(weight: f32Weight, format: .f32, outRows: outRows, columns: columns, input: input,
                                             rows: rows, bias: nil, output: output, scratch: scratch))
            XCTAssertEqual(fake.counter("launches"), launches)
            XCTAssertEqual(cublas.counter("gemm_calls"), calls)

            // Applies: conversion launch, GEMM on the scratch rows, bias launch.
            XCTAssertTrue(try matmul.matmul(weight: weight, format: format, outRows: outRows, columns: columns, input: input,
                                            rows: rows, bias: biasMemory, output: output, scratch: scratch))
            XCTAssertEqual(fake.counter("launches"), launches + 2)
            XCTAssertEqual(cublas.counter("gemm_calls"), calls + 1)
            XCTAssertEqual(cublas.lastGemm, [1, 0, outRows, rows, columns, columns, columns, outRows],
                           "transa, transb, m, n, k, lda, ldb, ldc")
            var got = [Float](repeating: 0, count: rows * outRows)
            try got.withUnsafeMutableBytes { try device.download(output, offset: 0, into: $0) }
            let want = try cpuMatmul(format, weightBytes, outRows: outRows, columns: columns, x: x.map { round(format, $0) },
                                     rows: rows, bias: nil)
            XCTAssertLessThan(normalisedError(got, want), 1e-10, "\(format): the GEMM read the converted rows")
            launches = fake.counter("launches")
            XCTAssertTrue(try matmul.matmul(weight: weight, format: format, outRows: outRows, columns: columns, input: input,
                                            rows: rows, bias: nil, output: output, scratch: scratch))
            XCTAssertEqual(fake.counter("launches"), launches + 1, "no bias, no bias launch")
        }

        // A failing GEMM is a one-line error with the status name.
        cublas.configure(gemmResult: 13)
        let weight = try device.allocate(bytes: outRows * columns * 2, what: "w")
        let input = try device.allocate(bytes: rows * columns * 4, what: "x")
        let output = try device.allocate(bytes: rows * outRows * 4, what: "y")
        let scratch = try device.allocate(bytes: CUBLASMatmul.scratchBytes(rows: rows, columns: columns), what: "s")
        XCTAssertThrowsError(try matmul.matmul(weight: weight, format: .f16, outRows: outRows, columns: columns, input: input,
                                               rows: rows, bias: nil, output: output, scratch: scratch)) { error in
            XCTAssertEqual("\(error)", "cuBLAS cublasGemmEx (F16, 33 x 96 weights, 20 rows) failed: CUBLAS_STATUS_EXECUTION_FAILED (the GPU program failed to execute)")
        }
        cublas.configure()
    }

    func testFormatsByGPUAndRefusedFormatsFallBack() throws {
        let (fake, cublas) = try FakeCUBLAS.shared()
        cublas.configure()
        let rows = 16, outRows = 8, columns = 64
        func run(_ matmul: CUBLASMatmul, _ device: CUDADevice, _ format: WeightFormat) throws -> Bool {
            let weight = try device.allocate(bytes: outRows * columns * 2, what: "w")
            let input = try device.allocate(bytes: rows * columns * 4, what: "x")
            let output = try device.allocate(bytes: rows * outRows * 4, what: "y")
            let scratch = try device.allocate(bytes: CUBLASMatmul.scratchBytes(rows: rows, columns: columns), what: "s")
            return try matmul.matmul(weight: weight, format: format, outRows: outRows, columns: columns, input: input,
                                     rows: rows, bias: nil, output: output, scratch: scratch)
        }

        // A Turing GPU (7.5): F16 through cuBLAS, BF16 left to our kernels.
        fake.configure(computeCapability: (7, 5))
        let turing = try fake.open()
        let turingMatmul = try CUBLASMatmul(device: turing, kernels: try turing.compile(source: cudaConvertProgram, kernels: CUBLASMatmul.kernelNames),
                                            candidates: [cublas.path])
        XCTAssertTrue(turingMatmul.takes(format: .f16, rows: rows))
        XCTAssertFalse(turingMatmul.takes(format: .bf16, rows: rows))
        var calls = cublas.counter("gemm_calls")
        XCTAssertTrue(try run(turingMatmul, turing, .f16))
        XCTAssertFalse(try run(turingMatmul, turing, .bf16))
        XCTAssertEqual(cublas.counter("gemm_calls"), calls + 1)

        // cuBLAS refusing a format at run time: false (our kernels run it), and not asked again.
        fake.configure(computeCapability: (9, 0))
        let hopper = try fake.open()
        let matmul = try CUBLASMatmul(device: hopper, kernels: try hopper.compile(source: cudaConvertProgram, kernels: CUBLASMatmul.kernelNames),
                                      candidates: [cublas.path])
        cublas.configure(gemmResult: 15)
        calls = cublas.counter("gemm_calls")
        XCTAssertFalse(try run(matmul, hopper, .bf16))
        XCTAssertEqual(cublas.counter("gemm_calls"), calls + 1)
        XCTAssertFalse(matmul.takes(format: .bf16, rows: rows))
        XCTAssertFalse(try run(matmul, hopper, .bf16))
        XCTAssertEqual(cublas.counter("gemm_calls"), calls + 1, "a refused format is not tried again")
        cublas.configure()
        XCTAssertTrue(try run(matmul, hopper, .f16), "other formats still go through cuBLAS")
    }

    func testHandleLifecycleAndCreateFailure() throws {
        let (fake, cublas) = try FakeCUBLAS.shared()
        fake.configure(computeCapability: (99, 0))
        cublas.configure()
        let device = try fake.open()
        let kernels = try device.compile(source: cudaConvertProgram, kernels: CUBLASMatmul.kernelNames)
        let before = cublas.counter("live_handles")
        do {
            let matmul = try CUBLASMatmul(device: device, kernels: kernels, candidates: [cublas.path])
            XCTAssertEqual(cublas.counter("live_handles"), before + 1)
            _ = matmul
        }
        XCTAssertEqual(cublas.counter("live_handles"), before, "handle destroyed with the matmul")

        cublas.configure(createResult: 1)
        let opened = CUBLASMatmul.open(device: device, kernels: kernels, environment: ["STEPWISE_CUBLAS": cublas.path])
        XCTAssertNil(opened.matmul)
        XCTAssertEqual(opened.note, "cuBLAS cublasCreate failed: CUBLAS_STATUS_NOT_INITIALIZED (the library was not initialized)")
        cublas.configure()
        XCTAssertNotNil(CUBLASMatmul.open(device: device, kernels: kernels, environment: ["STEPWISE_CUBLAS": cublas.path]).matmul)
        XCTAssertThrowsError(try CUBLASMatmul(device: device, kernels: [:], candidates: [cublas.path])) { error in
            XCTAssertEqual("\(error)", "cuBLAS matmul: kernel convert_f32_to_f16 was not compiled")
        }
    }

    // MARK: A real GPU

    /// With a CUDA GPU and libcublas on this machine: the whole path (kernels included) against
    /// the CPU backend. Skips otherwise.
    func testRealCUBLASWhenPresent() throws {
        let device: CUDADevice
        do { device = try CUDADevice.open() } catch { throw XCTSkip("no usable CUDA device: \(error)") }
        let kernels = try device.compile(source: GPUKernelSource.program(.cuda), kernels: CUBLASMatmul.kernelNames)
        let opened = CUBLASMatmul.open(device: device, kernels: kernels)
        guard let matmul = opened.matmul else { throw XCTSkip(opened.note) }
        print("cuBLAS on \(device.name): \(opened.note)")
        var rng = SplitMix64(seed: 1)
        for format in [WeightFormat.f16, .bf16] {
            for (outRows, columns, rows) in shapes where matmul.takes(format: format, rows: rows) {
                let what = "\(format) \(outRows)x\(columns), \(rows) rows"
                let operands = try MatmulOperands(device, format, outRows: outRows, columns: columns, rows: rows, rng: &rng)
                let (weightBytes, x, bias) = (operands.weightBytes, operands.x, operands.bias)
                let (weight, input, biasMemory) = (operands.weight, operands.input, operands.biasMemory)
                let (output, scratch) = (operands.output, operands.scratch)
                XCTAssertTrue(try matmul.matmul(weight: weight, format: format, outRows: outRows, columns: columns, input: input,
                                                rows: rows, bias: biasMemory, output: output, scratch: scratch))
                var got = [Float](repeating: 0, count: rows * outRows)
                try got.withUnsafeMutableBytes { try device.download(output, offset: 0, into: $0) }
                let exact = try cpuMatmul(format, weightBytes, outRows: outRows, columns: columns, x: x.map { round(format, $0) },
                                          rows: rows, bias: bias)
                let full = try cpuMatmul(format, weightBytes, outRows: outRows, columns: columns, x: x, rows: rows, bias: bias)
                let (error, cost) = (normalisedError(got, exact), normalisedError(got, full))
                XCTAssertLessThan(error, 1e-8, what)
                XCTAssertLessThan(cost, 5e-4, what)
                print(String(format: "cuBLAS %@: vs CPU (rounded activations) %.1e, vs CPU (F32 activations) %.1e", what, error, cost))
            }
        }
    }

    // MARK: Helpers

    /// A random product's operands on `device`: the weight, the activations and a bias, with
    /// room for the output and for cuBLAS's 16-bit copy of the activations.
    struct MatmulOperands {
        let weightBytes: [UInt8], x: [Float], bias: [Float]
        let weight: DeviceMemory, input: DeviceMemory, biasMemory: DeviceMemory, output: DeviceMemory, scratch: DeviceMemory

        init(_ device: any ComputeDevice, _ format: WeightFormat, outRows: Int, columns: Int, rows: Int,
             rng: inout SplitMix64) throws {
            weightBytes = BackendOpsCheck.randomWeightBytes(format, rows: outRows, columns: columns, rng: &rng)
            x = rng.floats(rows * columns)
            bias = rng.floats(outRows)
            func upload(_ bytes: UnsafeRawBufferPointer, _ what: String) throws -> DeviceMemory {
                let memory = try device.allocate(bytes: bytes.count, what: what)
                try device.upload(bytes, to: memory, offset: 0)
                return memory
            }
            weight = try weightBytes.withUnsafeBytes { try upload($0, "weight") }
            input = try x.withUnsafeBytes { try upload($0, "input") }
            biasMemory = try bias.withUnsafeBytes { try upload($0, "bias") }
            output = try device.allocate(bytes: rows * outRows * 4, what: "output")
            scratch = try device.allocate(bytes: CUBLASMatmul.scratchBytes(rows: rows, columns: columns), what: "scratch")
        }
    }

    /// The CUDA program of the convert kernels only (NVRTC builds it in a second).
    private var cudaConvertProgram: String {
        "#define MAX_GROUP \(GPUKernelSource.maxGroup)\n" + GPUKernelSource.cudaPrelude + GPUKernelSource.commonHelpers
            + GPUKernelSource.convertKernels
    }

    /// `value` rounded to `format` (F16 or BF16) and back, as the conversion kernels do.
    private func round(_ format: WeightFormat, _ value: Float) -> Float {
        format == .f16 ? Kernels.halfToFloat(Kernels.floatToHalf(value)) : Kernels.bfloat16ToFloat(Kernels.floatToBFloat16(value))
    }

    /// The CPU backend's matmul of `rows` rows `x` with the weights (and bias).
    private func cpuMatmul(_ format: WeightFormat, _ weightBytes: [UInt8], outRows: Int, columns: Int, x: [Float], rows: Int,
                           bias: [Float]?) throws -> [Float] {
        let cpu = CPUBackend(threads: 1)
        // Weights may point into `bytes` (no copy), so everything happens in the closures.
        return try weightBytes.withUnsafeBytes { bytes in try (bias ?? []).withUnsafeBytes { biasBytes in
            let weight = try cpu.uploadWeight(name: "w", format: format, rows: outRows, columns: columns, bytes: bytes,
                                              owner: nil, storeAs: nil)
            let biasWeight = bias == nil ? nil
                : try cpu.uploadWeight(name: "b", format: .f32, rows: 1, columns: outRows, bytes: biasBytes, owner: nil, storeAs: nil)
            let input = try cpu.makeBuffer(capacity: x.count)
            x.withUnsafeBufferPointer { cpu.write($0, to: input, offset: 0) }
            let output = try cpu.makeBuffer(capacity: rows * outRows)
            cpu.matmul(weight, input, rows: rows, bias: biasWeight, into: output)
            var result = [Float](repeating: 0, count: rows * outRows)
            result.withUnsafeMutableBufferPointer { cpu.read(output, offset: 0, into: $0) }
            return result
        } }
    }

    /// Σ(got - want)² / Σ want², as the backend-ops checks measure.
    private func normalisedError(_ got: [Float], _ want: [Float]) -> Double {
        precondition(got.count == want.count)
        var error = 0.0, norm = 0.0
        for (g, w) in zip(got, want) {
            error += Double(g - w) * Double(g - w)
            norm += Double(w) * Double(w)
        }
        return norm > 0 ? error / norm : error
    }
}

/// The fake libcublas (built once per test process) on the fake libcuda of CUDADeviceTests.
final class FakeCUBLAS: @unchecked Sendable {
    let path: String
    private let library: DynamicLibrary
    private let configureFn: @convention(c) (Int32, Int32) -> Void
    private let counterFn: @convention(c) (UnsafePointer<CChar>) -> Int64
    private let lastStreamFn: @convention(c) () -> UnsafeRawPointer?
    private let lastGemmFn: @convention(c) (Int32) -> Int64

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: Result<FakeCUBLAS, Error>?

    /// The fake driver (it needs NVRTC: the tests skip without it) and the fake cuBLAS.
    static func shared() throws -> (FakeCUDA, FakeCUBLAS) {
        let driver = try FakeCUDA.shared()
        let result = lock.withLock {
            if let built { return built }
            let outcome = Result { try FakeCUBLAS() }
            built = outcome
            return outcome
        }
        return (driver, try result.get())
    }

    private init() throws {
        path = try buildFakeLibrary(folder: "stepwise-fake-cublas", fileName: "libcublas.so.12", source: Self.cSource)
        library = try DynamicLibrary(candidates: [path])
        configureFn = try library.symbol("fake_cublas_configure", as: (@convention(c) (Int32, Int32) -> Void).self)
        counterFn = try library.symbol("fake_cublas_counter", as: (@convention(c) (UnsafePointer<CChar>) -> Int64).self)
        lastStreamFn = try library.symbol("fake_cublas_last_stream", as: (@convention(c) () -> UnsafeRawPointer?).self)
        lastGemmFn = try library.symbol("fake_cublas_last_gemm", as: (@convention(c) (Int32) -> Int64).self)
    }

    /// What cublasCreate_v2 and cublasGemmEx return (0: they work).
    func configure(createResult: Int32 = 0, gemmResult: Int32 = 0) { configureFn(createResult, gemmResult) }
    func counter(_ name: String) -> Int { Int(counterFn(name)) }
    /// The stream last given to cublasSetStream_v2.
    var lastStream: UnsafeRawPointer? { lastStreamFn() }
    /// transa, transb, m, n, k, lda, ldb, ldc of the last cublasGemmEx.
    var lastGemm: [Int] { (0..<8).map { Int(lastGemmFn(Int32($0))) } }

    /// cuBLAS on the host: handles are malloc'd, device pointers are host pointers (as in the
    /// fake driver), and cublasGemmEx computes C = α op(A) op(B) + β C column-major from exactly
    /// its arguments, for the types CUBLASMatmul uses (F16 or BF16 A and B, F32 C, F32 compute),
    /// refusing what cuBLAS refuses (a leading dimension shorter than the rows it spans, ...).
    /// It also insists on a stream having been set: on the default stream the work would not be
    /// ordered with the device's launches.
    static let cSource = #"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int cublasStatus_t;
#define MAGIC 0x5eb1a5
typedef struct { int magic; void *stream; } Handle;

static int create_result, gemm_result;
static long long live_handles, gemm_calls;
static void *last_stream;
static long long last_gemm[8];

void fake_cublas_configure(int create, int gemm) { create_result = create; gemm_result = gemm; }
long long fake_cublas_counter(const char *name) {
    if (!strcmp(name, "live_handles")) return live_handles;
    if (!strcmp(name, "gemm_calls")) return gemm_calls;
    return -1;
}
void *fake_cublas_last_stream(void) { return last_stream; }
long long fake_cublas_last_gemm(int i) { return i >= 0 && i < 8 ? last_gemm[i] : -1; }

static int valid(void *handle) { return handle && ((Handle *)handle)->magic == MAGIC; }

cublasStatus_t cublasCreate_v2(void **handle) {
    if (create_result) return create_result;
    Handle *h = calloc(1, sizeof(Handle));
    h->magic = MAGIC; *handle = h; live_handles++;
    return 0;
}
cublasStatus_t cublasDestroy_v2(void *handle) {
    if (!valid(handle)) return 1;
    ((Handle *)handle)->magic = 0; free(handle); live_handles--;
    return 0;
}
cublasStatus_t cublasSetStream_v2(void *handle, void *stream) {
    if (!valid(handle)) return 1;
    ((Handle *)handle)->stream = stream; last_stream = stream;
    return 0;
}
cublasStatus_t cublasGetVersion_v2(void *handle, int *version) {
    if (!valid(handle)) return 1;
    *version = 120405; return 0;
}
const char *cublasGetStatusString(cublasStatus_t s) {
    switch (s) {
    case 0: return "success";
    case 1: return "the library was not initialized";
    case 7: return "an invalid numeric value was used as an argument";
    case 13: return "the GPU program failed to execute";
    case 15: return "the functionality requested is not supported";
    default: return "unknown error";
    }
}

static float element(const void *p, int type, long i) {
    uint16_t h = ((const uint16_t *)p)[i];
    uint32_t bits;
    float f;
    if (type == 14) { bits = (uint32_t)h << 16; memcpy(&f, &bits, 4); return f; }
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 31, m = h & 0x3ff;
    if (e == 0) { f = (float)m * 5.9604644775390625e-8f; return sign ? -f : f; }    /* m * 2^-24 */
    bits = sign | (e == 31 ? (0xffu << 23) | (m << 13) : ((e + 112) << 23) | (m << 13));
    memcpy(&f, &bits, 4); return f;
}

cublasStatus_t cublasGemmEx(void *handle, int transa, int transb, int m, int n, int k,
                            const void *alpha, const void *A, int Atype, int lda,
                            const void *B, int Btype, int ldb,
                            const void *beta, void *C, int Ctype, int ldc, int computeType, int algo) {
    if (!valid(handle)) return 1;
    gemm_calls++;
    long long args[8] = {transa, transb, m, n, k, lda, ldb, ldc};
    memcpy(last_gemm, args, sizeof args);
    if (gemm_result) return gemm_result;
    if (!((Handle *)handle)->stream) return 13;
    if (Atype != Btype || (Atype != 2 && Atype != 14) || Ctype != 0 || computeType != 68 || algo != -1) return 15;
    if ((transa != 0 && transa != 1) || (transb != 0 && transb != 1) || m < 0 || n < 0 || k < 0) return 7;
    int rowsA = transa == 0 ? m : k, rowsB = transb == 0 ? k : n;   /* rows of A and B as stored */
    if (lda < (rowsA > 1 ? rowsA : 1) || ldb < (rowsB > 1 ? rowsB : 1) || ldc < (m > 1 ? m : 1)) return 7;
    if (!alpha || !beta || !A || !B || !C) return 7;
    float a = *(const float *)alpha, b = *(const float *)beta;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            float sum = 0.0f;
            for (int l = 0; l < k; l++) {
                float x = transa == 0 ? element(A, Atype, i + (long)l * lda) : element(A, Atype, l + (long)i * lda);
                float y = transb == 0 ? element(B, Btype, l + (long)j * ldb) : element(B, Btype, j + (long)l * ldb);
                sum += x * y;
            }
            float *c = (float *)C + i + (long)j * ldc;
            *c = b == 0.0f ? a * sum : a * sum + b * *c;   /* beta 0: C is not read (BLAS) */
        }
    }
    return 0;
}
"""#
}
