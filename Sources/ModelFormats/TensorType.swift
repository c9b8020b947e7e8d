/// Element types of tensor data, numbered as GGML numbers them (the GGUF on-disk id).
///
/// Every type GGML has defined is listed, so a file using one this project cannot compute with
/// is reported as "unsupported type Q5_K" instead of being misread. Quantized types store
/// blocks: `blockSize` elements take `bytesPerBlock` bytes, and a row's length must be a
/// multiple of `blockSize`.
public enum TensorType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_XXS = 16, iq2_XS = 17, iq3_XXS = 18, iq1_S = 19, iq4_NL = 20, iq3_S = 21, iq2_S = 22
    case iq4_XS = 23, i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_M = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39

    /// The GGML type id as stored in GGUF tensor infos.
    public var ggmlID: UInt32 { rawValue }

    /// Elements per block (1 for plain types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .i8, .i16, .i32, .i64, .f64: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_NL, .mxfp4: return 32
        default: return 256
        }
    }

    /// Bytes per block (bytes per element for plain types).
    public var bytesPerBlock: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18      // f16 scale + 16 bytes of nibbles
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q8_0: return 34      // f16 scale + 32 int8
        case .q8_1: return 36
        case .q2_K: return 84
        case .q3_K: return 110
        case .q4_K: return 144     // f16 d, f16 dmin, 12 bytes of 6-bit scales, 128 bytes of nibbles
        case .q5_K: return 176
        case .q6_K: return 210     // 128 ql + 64 qh + 16 int8 scales + f16 d
        case .q8_K: return 292
        case .iq2_XXS: return 66
        case .iq2_XS: return 74
        case .iq3_XXS: return 98
        case .iq1_S: return 50
        case .iq4_NL: return 18
        case .iq3_S: return 110
        case .iq2_S: return 82
        case .iq4_XS: return 136
        case .i8: return 1
        case .i16: return 2
        case .i32: return 4
        case .i64, .f64: return 8
        case .iq1_M: return 56
        case .tq1_0: return 54
        case .tq2_0: return 66
        case .mxfp4: return 17
        }
    }

    /// The name GGML and llama.cpp print (`Q4_K`, `BF16`, …).
    public var name: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .f64: return "F64"
        case .i8: return "I8"
        case .i16: return "I16"
        case .i32: return "I32"
        case .i64: return "I64"
        case .mxfp4: return "MXFP4"
        default: return caseName.uppercased()
        }
    }

    private var caseName: String {
        switch self {
        case .q4_0: return "q4_0"
        case .q4_1: return "q4_1"
        case .q5_0: return "q5_0"
        case .q5_1: return "q5_1"
        case .q8_0: return "q8_0"
        case .q8_1: return "q8_1"
        case .q2_K: return "q2_K"
        case .q3_K: return "q3_K"
        case .q4_K: return "q4_K"
        case .q5_K: return "q5_K"
        case .q6_K: return "q6_K"
        case .q8_K: return "q8_K"
        case .iq2_XXS: return "iq2_XXS"
        case .iq2_XS: return "iq2_XS"
        case .iq3_XXS: return "iq3_XXS"
        case .iq1_S: return "iq1_S"
        case .iq4_NL: return "iq4_NL"
        case .iq3_S: return "iq3_S"
        case .iq2_S: return "iq2_S"
        case .iq4_XS: return "iq4_XS"
        case .iq1_M: return "iq1_M"
        case .tq1_0: return "tq1_0"
        case .tq2_0: return "tq2_0"
        default: return "\(rawValue)"
        }
    }

    public var description: String { name }

    /// The types the engine computes with (weights used in place).
    public static let computeTypes: Set<TensorType> = [.f32, .f16, .bf16, .q4_0, .q8_0, .q4_K, .q6_K]

    /// Bytes taken by `count` elements, or nil if `count` is not a whole number of blocks or
    /// the size overflows.
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }

    /// Bytes taken by one row of `columns` elements, or nil if not a whole number of blocks.
    public func rowBytes(columns: Int) -> Int? { byteCount(elements: columns) }
}
