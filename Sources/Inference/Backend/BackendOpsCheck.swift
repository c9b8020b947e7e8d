// Backend-ops checks: every op of a backend compared with the CPU backend on the same random
// inputs, as a normalised error (ggml's test-backend-ops does the same for its backends).
//
// One implementation serves the tests (Tests/InferenceTests/GPUBackendOpsTests) and
// `stepwise selftest --device D`, so what CI checks on OpenCL is exactly what a user runs on
// their GPU. Cases live next to the kernels they check: core ops in
// BackendOpsCheck+Core.swift, embedding and matrix products in BackendOpsCheck+Matmul.swift.

import Foundation

/// One check: an op on one shape.
public struct BackendOpCase: Sendable {
    /// The op, e.g. "matmul".
    public let op: String
    /// What varies, e.g. "Q4_K 300x512, 7 rows".
    public let shape: String
    /// Largest normalised error (Σ(got-want)² / Σwant²) that passes.
    public let threshold: Double
    /// For a matrix product: the weight format and activation rows, so a backend that rounds
    /// activations to the weights' 16-bit type for them (cuBLAS on CUDA) is held to
    /// `BackendOpsCheck.roundedActivationThreshold` instead.
    let matmul: (format: WeightFormat, rows: Int)?
    /// Runs the op on both backends of the pair and returns both outputs.
    let body: @Sendable (BackendPair, inout SplitMix64) throws -> (got: [Float], want: [Float])

    init(op: String, shape: String, threshold: Double, matmul: (format: WeightFormat, rows: Int)? = nil,
         body: @escaping @Sendable (BackendPair, inout SplitMix64) throws -> (got: [Float], want: [Float])) {
        self.op = op
        self.shape = shape
        self.threshold = threshold
        self.matmul = matmul
        self.body = body
    }
}

/// The outcome of one case.
public struct BackendOpResult: Sendable {
    public let op: String
    public let shape: String
    public let threshold: Double
    /// Normalised error; infinity when the outputs differ in length or hold NaN/inf.
    public let error: Double
    /// Set when the op could not be run (allocation failed); the case fails.
    public let failure: String?
    public var passed: Bool { failure == nil && error <= threshold }
}

public enum BackendOpsCheck {
    /// Every case: the core ops and the matrix products of every weight format, over shapes
    /// that include odd sizes and lengths that are not multiples of any block or group size.
    public static func cases() -> [BackendOpCase] {
        coreCases() + matmulCases()
    }

    /// The limit for F16/BF16 products whose activations the backend rounds to 16 bits first
    /// (as llama.cpp's CUDA backend does for cuBLAS): BF16 keeps 8 bits of mantissa, which costs
    /// a normalised error of a few 1e-6 on random inputs; ggml's own limit is 5e-4.
    public static let roundedActivationThreshold = 5e-5

    /// Runs `cases` on `backend` against a CPU backend; the same `seed` gives the same inputs.
    public static func run(_ backend: InferenceBackend, cases: [BackendOpCase], seed: UInt64 = 1) -> [BackendOpResult] {
        let pair = BackendPair(test: backend, reference: CPUBackend(threads: 1))
        var results: [BackendOpResult] = []
        for (index, c) in cases.enumerated() {
            var rng = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
            var threshold = c.threshold
            if let m = c.matmul, let gpu = backend as? GPUBackend, gpu.roundsActivations(format: m.format, rows: m.rows) {
                threshold = max(threshold, roundedActivationThreshold)
            }
            do {
                let (got, want) = try c.body(pair, &rng)
                results.append(BackendOpResult(op: c.op, shape: c.shape, threshold: threshold,
                                               error: normalisedError(got, want), failure: nil))
            } catch {
                results.append(BackendOpResult(op: c.op, shape: c.shape, threshold: threshold,
                                               error: .infinity, failure: "\(error)"))
            }
        }
        return results
    }

    /// Σ(got-want)² / Σwant² (Σ(got-want)² alone when `want` is all zeros).
    public static func normalisedError(_ got: [Float], _ want: [Float]) -> Double {
        guard got.count == want.count else { return .infinity }
        var difference = 0.0, magnitude = 0.0
        for (g, w) in zip(got, want) {
            guard g.isFinite, w.isFinite else { return .infinity }
            let d = Double(g) - Double(w)
            difference += d * d
            magnitude += Double(w) * Double(w)
        }
        return magnitude > 0 ? difference / magnitude : difference
    }
}

/// The backend under test and the CPU reference, with helpers that give both the same data.
struct BackendPair {
    let test: InferenceBackend
    let reference: InferenceBackend

    /// A buffer on each backend holding `values`.
    func buffers(_ values: [Float]) throws -> (test: BackendBuffer, reference: BackendBuffer) {
        let t = try test.makeBuffer(capacity: max(values.count, 1))
        let r = try reference.makeBuffer(capacity: max(values.count, 1))
        values.withUnsafeBufferPointer {
            test.write($0, to: t, offset: 0)
            reference.write($0, to: r, offset: 0)
        }
        return (t, r)
    }

    /// A weight on each backend made from the same bytes.
    func weights(name: String, format: WeightFormat, rows: Int, columns: Int, bytes: [UInt8],
                 storeAs: WeightFormat? = nil) throws -> (test: BackendWeight, reference: BackendWeight) {
        // The CPU backend uses the bytes in place: keep them alive in a box it owns.
        let box = ByteBox(bytes)
        let r = try box.bytes.withUnsafeBytes {
            try reference.uploadWeight(name: name, format: format, rows: rows, columns: columns,
                                       bytes: $0, owner: box, storeAs: storeAs)
        }
        let t = try box.bytes.withUnsafeBytes {
            try test.uploadWeight(name: name, format: format, rows: rows, columns: columns,
                                  bytes: $0, owner: box, storeAs: storeAs)
        }
        return (t, r)
    }

    /// The first `count` elements of each buffer.
    func read(_ buffers: (test: BackendBuffer, reference: BackendBuffer), count: Int) -> (got: [Float], want: [Float]) {
        func values(_ backend: InferenceBackend, _ buffer: BackendBuffer) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { out, initialized in
                backend.read(buffer, offset: 0, into: out)
                initialized = count
            }
        }
        return (values(test, buffers.test), values(reference, buffers.reference))
    }
}

/// Bytes at a fixed address that live as long as the box (the CPU backend keeps the owner).
final class ByteBox: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer
    init(_ values: [UInt8]) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(values.count, 1), alignment: 64)
        values.withUnsafeBytes { bytes.copyMemory(from: $0) }
    }
    deinit { bytes.deallocate() }
}

/// Small, fast, seedable generator (SplitMix64) so every backend sees the same inputs.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// `count` floats uniform in `-scale ... scale`.
    mutating func floats(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in Float.random(in: -scale...scale, using: &self) }
    }
}
