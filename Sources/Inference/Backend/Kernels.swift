// Swift entry points to single CKernels routines: format conversion for loaders
// (`--quantize q8_0`, dequantizing a row), and the hooks tests and benchmarks use to check or
// pin the SIMD level. The forward pass itself goes through `InferenceBackend`.

import CKernels

public enum Kernels {
    /// SIMD levels the C kernels can use (bit set).
    public struct Features: OptionSet, Sendable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let avx2 = Features(rawValue: Int(CK_CPU_AVX2))
        public static let avx512 = Features(rawValue: Int(CK_CPU_AVX512))
        public static let avx512VNNI = Features(rawValue: Int(CK_CPU_AVX512_VNNI))
        public static let avxVNNI = Features(rawValue: Int(CK_CPU_AVX_VNNI))
        public var description: String { CPUBackend.featureNames(rawValue) }
    }

    /// What this CPU supports.
    public static var detectedFeatures: Features { Features(rawValue: Int(ck_cpu_features())) }
    /// What the kernels use now.
    public static var activeFeatures: Features { Features(rawValue: Int(ck_active_cpu_features())) }
    /// Restricts the kernels to `features` (intersected with the detected ones), process-wide.
    @discardableResult
    public static func useFeatures(_ features: Features) -> Features {
        Features(rawValue: Int(ck_set_cpu_features(Int32(features.rawValue))))
    }

    /// Dequantizes one row of `count` elements stored in `format`.
    public static func dequantizeRow(_ format: WeightFormat, _ bytes: UnsafeRawPointer, count: Int) -> [Float] {
        precondition(format.rowBytes(count) != nil, "dequantizeRow: \(count) is not a whole number of \(format) blocks")
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            ck_dequantize_row(ck_type(format.rawValue), bytes, buffer.baseAddress, Int64(count))
            initialized = count
        }
    }

    /// GGML's Q8_0 quantization of `values` (count a multiple of 32).
    public static func quantizeQ8_0(_ values: [Float]) -> [UInt8] {
        precondition(values.count % 32 == 0, "quantizeQ8_0: \(values.count) is not a multiple of 32")
        let bytes = values.count / 32 * 34
        return [UInt8](unsafeUninitializedCapacity: bytes) { buffer, initialized in
            values.withUnsafeBufferPointer { ck_quantize_row_q8_0($0.baseAddress, buffer.baseAddress, Int64(values.count)) }
            initialized = bytes
        }
    }

    /// The 8-bit blocks `values` become before they meet `format` weights, in ggml's layout
    /// (Q8_0 blocks for Q8_0/Q4_0 weights, Q8_K blocks for Q4_K/Q6_K); nil for other formats or
    /// a count that is not a whole number of blocks. For tests against ggml-cpu.
    public static func quantizeActivations(for format: WeightFormat, _ values: [Float]) -> [UInt8]? {
        let (block, blockBytes): (Int, Int)
        switch format {
        case .q8_0, .q4_0: (block, blockBytes) = (32, 34)
        case .q4_K, .q6_K: (block, blockBytes) = (256, 292)
        default: return nil
        }
        guard values.count % block == 0 else { return nil }
        let bytes = values.count / block * blockBytes
        return [UInt8](unsafeUninitializedCapacity: bytes) { buffer, initialized in
            values.withUnsafeBufferPointer {
                ck_quantize_act_blocks(ck_type(format.rawValue), $0.baseAddress, buffer.baseAddress, Int64(values.count))
            }
            initialized = bytes
        }
    }

    /// One weight row · `x` with the fastest kernel (integer formats quantize `x` to 8 bits).
    public static func dot(_ format: WeightFormat, _ row: UnsafeRawPointer, _ x: [Float]) -> Float {
        x.withUnsafeBufferPointer { ck_dot(ck_type(format.rawValue), row, $0.baseAddress, Int64(x.count)) }
    }

    /// The same with the portable scalar kernel.
    public static func dotScalar(_ format: WeightFormat, _ row: UnsafeRawPointer, _ x: [Float]) -> Float {
        x.withUnsafeBufferPointer { ck_dot_scalar(ck_type(format.rawValue), row, $0.baseAddress, Int64(x.count)) }
    }

    public static func halfToFloat(_ bits: UInt16) -> Float { ck_f16_to_f32(bits) }
    public static func floatToHalf(_ value: Float) -> UInt16 { ck_f32_to_f16(value) }
    public static func bfloat16ToFloat(_ bits: UInt16) -> Float { ck_bf16_to_f32(bits) }
    public static func floatToBFloat16(_ value: Float) -> UInt16 { ck_f32_to_bf16(value) }
}
