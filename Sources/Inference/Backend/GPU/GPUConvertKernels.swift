// Kernels around cuBLAS's half-precision GEMM (CUBLASMatmul.swift): activation rows from F32 to
// float16 or bfloat16 (cublasGemmEx multiplies two operands of one type, and the weights are
// F16/BF16), and the bias added to the F32 result afterwards.
//
// The conversions write the 16-bit patterns with integer operations, as the CPU backend's
// ck_f32_to_f16 / ck_f32_to_bf16 (Sources/CKernels/convert.c) do, bit for bit: round to nearest
// even, subnormal halves, overflow to infinity, NaN stays NaN (a quiet one). Neither dialect has
// a usable half type here (OpenCL C 1.2 without cl_khr_fp16 may only load and store halves
// through vload/vstore_half, whose rounding mode vstore_half leaves to the device; NVRTC has no
// cuda_fp16.h), and integer code rounds the same everywhere. Inputs are read as their bits, so
// no float load can flush a subnormal to zero on the way.

extension GPUKernelSource {
    static let convertKernels = #"""
// float -> float16 bits, round to nearest even (ck_f32_to_f16).
DEVICE u16 f32_bits_to_f16(u32 x) {
    const u32 sign = (x >> 16) & 0x8000u;
    const u32 a = x & 0x7fffffffu;
    if (a >= 0x7f800000u) return (u16)(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u));  // inf, NaN
    if (a >= 0x477ff000u) return (u16)(sign | 0x7c00u);    // rounds past 65504: infinity
    if (a < 0x38800000u) {                                  // below 2^-14: a subnormal half or zero
        if (a < 0x33000000u) return (u16)sign;              // at most half the smallest subnormal
        const u32 shift = 126u - (a >> 23);                 // 14 ... 24
        const u32 mantissa = (a & 0x7fffffu) | 0x800000u;
        u32 value = mantissa >> shift;
        const u32 rest = mantissa & ((1u << shift) - 1u);
        const u32 halfway = 1u << (shift - 1u);
        if (rest > halfway || (rest == halfway && (value & 1u))) value++;
        return (u16)(sign | value);
    }
    u32 value = (a >> 13) - (112u << 10);                   // rebias the exponent (127 -> 15)
    const u32 rest = a & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (value & 1u))) value++;  // a carry into the exponent is right
    return (u16)(sign | value);
}

// float -> bfloat16 bits, round to nearest even, NaN kept quiet (ck_f32_to_bf16).
DEVICE u16 f32_bits_to_bf16(u32 x) {
    if ((x & 0x7fffffffu) > 0x7f800000u) return (u16)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (u16)(x >> 16);
}

// y[i] = float16(x[i]) for i < n; x is F32 read as bits.
KERNEL void convert_f32_to_f16(GLOBAL const u32 *x, int n, GLOBAL u16 *y) {
    const int i = GROUP_X * GROUP_SIZE + THREAD_ID;
    if (i < n) y[i] = f32_bits_to_f16(x[i]);
}

// y[i] = bfloat16(x[i]) for i < n.
KERNEL void convert_f32_to_bf16(GLOBAL const u32 *x, int n, GLOBAL u16 *y) {
    const int i = GROUP_X * GROUP_SIZE + THREAD_ID;
    if (i < n) y[i] = f32_bits_to_bf16(x[i]);
}

// y[r, o] += bias[o] for the n = rows * columns values of row-major y.
KERNEL void add_bias_rows(GLOBAL float *y, GLOBAL const float *bias, int columns, int n) {
    const int i = GROUP_X * GROUP_SIZE + THREAD_ID;
    if (i < n) y[i] += bias[i % columns];
}

"""#
}
