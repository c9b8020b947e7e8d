// Embedding lookup and matrix products for every weight format (see GPUKernelSource.swift for
// the dialect; GPUMatmul.swift launches these kernels).
//
// What the results must equal: the CPU backend's (Sources/CKernels/quants.c) up to float
// summation order. So the integer formats do what CKernels does, step for step:
// - each activation row is first quantized to 8 bits on the device (`quantize_act_q8_0` for
//   Q8_0/Q4_0 weights: blocks of 32, scale amax/127 rounded to float16, values rounded to
//   nearest even from 127/amax; `quantize_act_q8_K` for Q4_K/Q6_K weights: one scale per 256,
//   -127/m with m the signed value of largest magnitude, values capped at 127), with the
//   integer sum of every 16 values, which the weight formats with an offset (Q4_0's -8, Q4_K's
//   minimum, Q6_K's -32) multiply by the offset instead of subtracting it from every value;
// - weights and activations are multiplied in integers per block of 32 (16 where Q6_K's
//   scales change) and only those exact integer sums are scaled by floats, with the same
//   float operations as the scalar C (grouped differently: that is the summation order).
// Float formats (F32, F16, BF16) accumulate in F32, as the CPU backend does.
//
// Device layout of one quantized activation row of n values (n a multiple of 32), made by the
// quantize kernels and read by the integer matmul kernels; `act_row_bytes` gives its size
// rounded up to 16 bytes (GPUMatmul.scratchBytes computes the same on the host):
//     int8 qs[n] | float d[n/32] (scale of each block of 32) | int s[n/16] (sum of each 16 qs)
// For Q8_K-style rows the 256-value scale is repeated for each of its 8 blocks of 32, so the
// matmul kernels read every format's activations the same way.
//
// Weight blocks are read as bytes and 16-bit words only: GGML blocks are 2-byte aligned at best
// (Q8_0 is 34 bytes, Q4_0 18, Q6_K 210), so a 32-bit load from a weight row could be unaligned.
// Activation rows are ours and 16-byte aligned, so they are read as 32-bit words.
//
// Work split of a matrix product y[r, o] = Σ_i W[o, i] · x[r, i]:
// - up to MM_ROWS activation rows (decode of one or a few sequences; memory-bound): one
//   work-group per output row o. Its threads stride over the weight row (8 elements at a time
//   for float formats, blocks of 32 values for integer ones), so consecutive threads read
//   consecutive weight bytes (coalesced), and each weight element is used for all rows before
//   it is dropped: the weight matrix is read once per step. Each thread keeps MM_ROWS partial
//   sums; a work-group reduction (`group_sum`) finishes each.
// - more rows (many sequences, prompts): `matmul_float_tiled` / `matmul_quant_tiled`, 64 x 64
//   output blocks with slices of W and x staged in work-group memory, so each value loaded is
//   used 64 times instead of every activation row being re-read once per output row.
//
// Not done yet for speed (correctness first; each would keep the results the same up to
// summation order; none measured, as no GPU was available):
// - several output rows per work-group in the decode kernels (a warp per row) so short rows
//   do not leave threads idle, and one warp-shuffle reduction for all MM_ROWS sums at once;
// - 16-byte loads of integer-format weights (blocks are only 2-byte aligned: it needs a
//   repacked copy with scales and values apart);
// - tensor cores (cuBLAS, or mma instructions) for the tiled F16/BF16 products on NVIDIA,
//   larger register blocks and double-buffered slices in the tiled kernels, `ld.global.nc`
//   (const __restrict__) for weights;
// - quantizing activations with warp shuffles instead of work-group memory trees.

extension GPUKernelSource {
    static let matmulKernels = #"""
// ---- Matrix products and embedding lookup (GPUMatmulKernels.swift) ----

// Activation rows per work-group of a matrix product (each weight element is used this often
// per read).
#define MM_ROWS 8

// 4 bytes at a 2-byte aligned address (GGML weight blocks), little-endian.
DEVICE u32 load_u32_a2(GLOBAL const u8 *p) {
    GLOBAL const u16 *h = (GLOBAL const u16 *)p;
    return (u32)h[0] | ((u32)h[1] << 16);
}

// The signed value of the low byte of b.
DEVICE int sext8(u32 b) { return (int)((b & 0xffu) ^ 0x80u) - 128; }

// Dot product of the 4 signed bytes of a with the 4 signed bytes of b. On NVIDIA GPUs from
// Pascal (sm_61) on, one dp4a instruction does it (__dp4a: signed bytes, exact, same result);
// that branch is compiled by NVRTC only, the portable one runs everywhere else (and in CI).
DEVICE int dot4(u32 a, u32 b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 610
    return __dp4a((int)a, (int)b, 0);
#else
    return sext8(a) * sext8(b) + sext8(a >> 8) * sext8(b >> 8) + sext8(a >> 16) * sext8(b >> 16) +
           sext8(a >> 24) * sext8(b >> 24);
#endif
}

// f rounded to the nearest float16 value (ties to even), as a float: bit-exact with CKernels'
// ck_f16_to_f32(ck_f32_to_f16(f)), including float16 subnormals and overflow to infinity.
DEVICE float round_to_half(float f) {
    const u32 x = AS_UINT(f);
    const u32 sign = x & 0x80000000u;
    const u32 a = x & 0x7fffffffu;
    if (a >= 0x7f800000u) return f;                            // inf, NaN
    if (a >= 0x477ff000u) return AS_FLOAT(sign | 0x7f800000u);  // past the largest float16
    if (a < 0x38800000u) {
        // float16 subnormal: a multiple of 2^-24 (scaling by powers of two is exact).
        const float q = F_RINT(AS_FLOAT(a) * 16777216.0f) * 5.9604644775390625e-8f;
        return AS_FLOAT(sign | AS_UINT(q));
    }
    // Normal: keep 10 mantissa bits, round the 13 dropped ones to nearest even (a carry
    // moves into the exponent, as it should).
    u32 kept = a >> 13;
    const u32 rest = a & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (kept & 1u))) kept++;
    return AS_FLOAT(sign | (kept << 13));
}

// ---- Quantized activation rows (layout in GPUMatmulKernels.swift's header) ----

DEVICE i64 act_row_bytes(int n) { return ((i64)n + n / 8 + n / 4 + 15) & ~(i64)15; }
// Scale of block u (32 values) of an activation row of n values.
DEVICE float act_scale(GLOBAL const u8 *row, int n, int u) { return ((GLOBAL const float *)(row + n))[u]; }
// Sum of the 16 values h (= 2u or 2u + 1) of an activation row of n values.
DEVICE int act_sum16(GLOBAL const u8 *row, int n, int h) { return ((GLOBAL const int *)(row + n + n / 8))[h]; }

// The activation quantizers: one work-group of 256 threads per 256 values of a row (grid:
// rows * ceil(columns / 256) groups along x), one value per thread, so a decode step's few
// rows are quantized by many threads at once. x is rows x columns F32; act gets one row (layout
// above) per input row. Maxima are order-independent, so the tree reductions give exactly the
// CPU's sequential results.
#define QA_GROUP 256

// The sums of each 16 values of the group's chunk from q[] (work-group memory), written to the
// row's sums from index `first` (= chunk start / 16) for the `valid` values of the chunk.
DEVICE void qa_store_sums16(LOCAL const int *q, GLOBAL u8 *row, int columns, int first, int valid) {
    const int t = THREAD_ID;
    if (t % 16 == 0 && t < valid) {
        int sum = 0;
        for (int j = 0; j < 16; j++) sum += q[t + j];
        ((GLOBAL int *)(row + columns + columns / 8))[first + t / 16] = sum;
    }
}

// Q8_0-style, for Q8_0/Q4_0 weights, as ck_quantize_act: per block of 32, values from the
// unrounded 127/amax, the stored scale amax/127 rounded to float16.
KERNEL void quantize_act_q8_0(GLOBAL const float *x, int rows, int columns, GLOBAL u8 *act) {
    SHARED float amax[QA_GROUP];
    SHARED int q[QA_GROUP];
    const int chunks = (columns + QA_GROUP - 1) / QA_GROUP;
    const int r = GROUP_X / chunks, c0 = (GROUP_X % chunks) * QA_GROUP, t = THREAD_ID;
    const int valid = columns - c0 < QA_GROUP ? columns - c0 : QA_GROUP;  // a multiple of 32
    GLOBAL u8 *row = act + (i64)r * act_row_bytes(columns);
    const float v = t < valid ? x[(i64)r * columns + c0 + t] : 0.0f;
    amax[t] = F_FABS(v);
    SYNC();
    for (int s = 16; s > 0; s >>= 1) {  // maximum within each block of 32
        if (t % 32 < s) amax[t] = F_FMAX(amax[t], amax[t + s]);
        SYNC();
    }
    const float m = amax[t - t % 32];
    const float inv = m != 0.0f ? 127.0f / m : 0.0f;
    const int qv = (int)F_RINT(v * inv);
    q[t] = qv;
    if (t < valid) {
        row[c0 + t] = (u8)(qv & 0xff);
        if (t % 32 == 0) ((GLOBAL float *)(row + columns))[(c0 + t) / 32] = round_to_half(m / 127.0f);
    }
    SYNC();
    qa_store_sums16(q, row, columns, c0 / 16, valid);
}

// Q8_K-style, for Q4_K/Q6_K weights, as ck_quantize_act_k: per block of 256 (columns is a
// multiple of 256, so a group is one block), m the first value of largest magnitude with its
// sign, values nearest-even of -127/m * x capped at 127, the scale 1 / (-127/m).
KERNEL void quantize_act_q8_K(GLOBAL const float *x, int rows, int columns, GLOBAL u8 *act) {
    SHARED float amax[QA_GROUP];
    SHARED int index[QA_GROUP];
    SHARED int q[QA_GROUP];
    const int blocks = columns / QA_GROUP;
    const int r = GROUP_X / blocks, b = GROUP_X % blocks, t = THREAD_ID;
    GLOBAL const float *xv = x + (i64)r * columns + QA_GROUP * b;
    GLOBAL u8 *row = act + (i64)r * act_row_bytes(columns);
    const float v = xv[t];
    amax[t] = F_FABS(v);
    index[t] = t;
    SYNC();
    for (int s = QA_GROUP / 2; s > 0; s >>= 1) {
        // Larger magnitude wins; of equal ones the earlier value (as the CPU's strict '>').
        if (t < s && (amax[t + s] > amax[t] || (amax[t + s] == amax[t] && index[t + s] < index[t]))) {
            amax[t] = amax[t + s];
            index[t] = index[t + s];
        }
        SYNC();
    }
    const float peak = xv[index[0]];
    float iscale = 0.0f, scale = 0.0f;
    if (amax[0] != 0.0f) {
        iscale = -127.0f / peak;
        scale = 1.0f / iscale;
    }
    int qv = (int)F_RINT(iscale * v);
    qv = qv < 127 ? qv : 127;
    q[t] = qv;
    row[QA_GROUP * b + t] = (u8)(qv & 0xff);
    if (t < 8) ((GLOBAL float *)(row + columns))[8 * b + t] = scale;
    SYNC();
    qa_store_sums16(q, row, columns, 16 * b, QA_GROUP);
}

// ---- Matrix products ----
// Every matmul kernel: grid of outRows * tiles work-groups (tiles = ceil(rows / MM_ROWS)) along
// x, the tiles of one output row adjacent so they run together and share the weight row
// through the cache; any power-of-two group size 32...MAX_GROUP; y is rows x outRows; bias
// (outRows floats) is read only when hasBias != 0. Integer formats read `act` (the quantized
// rows of x) instead of x.

// Sums each thread's partial results over the work-group and writes y (+ bias). nr, the rows
// of this tile, is the same for every thread of the group, so all of them reach group_sum.
DEVICE void mm_finish(const float *acc, int nr, LOCAL float *scratch, GLOBAL float *y, int outRows, int o,
                      int r0, GLOBAL const float *bias, int hasBias) {
    const float b = hasBias ? bias[o] : 0.0f;
    for (int j = 0; j < MM_ROWS; j++) {
        if (j >= nr) break;
        const float total = group_sum(acc[j], scratch);
        if (THREAD_ID == 0) y[(i64)(r0 + j) * outRows + o] = total + b;
    }
}

// Float16 bits (the low 16 bits of h) as a float, exactly: normals, subnormals, inf, NaN
// (as CKernels' ck_f16_to_f32). Integer operations only, so it does not depend on the device
// keeping float subnormals.
DEVICE float half_to_float(u32 h) {
    const u32 sign = (h & 0x8000u) << 16;
    const u32 rest = h & 0x7fffu;
    if (rest < 0x0400u) {  // zero or subnormal: rest * 2^-24
        const float v = (float)rest * 5.9604644775390625e-8f;
        return AS_FLOAT(sign | AS_UINT(v));
    }
    if (rest >= 0x7c00u) return AS_FLOAT(sign | 0x7f800000u | ((rest & 0x3ffu) << 13));
    return AS_FLOAT(sign | ((rest << 13) + 0x38000000u));  // exponent rebiased by 127 - 15
}

// Weights 8g ... 8g+7 of a float-format row as floats, from one 16-byte load (rows of a
// multiple of 8 elements are 16-byte aligned). uint4/float4 exist in both dialects (OpenCL
// vector types, CUDA structs); only their .x .y .z .w are used.
DEVICE void load8_f32(GLOBAL const float *row, int g, float *v) {
    const float4 a = ((GLOBAL const float4 *)row)[2 * g], b = ((GLOBAL const float4 *)row)[2 * g + 1];
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
    v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
}
DEVICE void load8_f16(GLOBAL const u16 *row, int g, float *v) {
    const uint4 q = ((GLOBAL const uint4 *)row)[g];
    v[0] = half_to_float(q.x); v[1] = half_to_float(q.x >> 16);
    v[2] = half_to_float(q.y); v[3] = half_to_float(q.y >> 16);
    v[4] = half_to_float(q.z); v[5] = half_to_float(q.z >> 16);
    v[6] = half_to_float(q.w); v[7] = half_to_float(q.w >> 16);
}
DEVICE void load8_bf16(GLOBAL const u16 *row, int g, float *v) {
    const uint4 q = ((GLOBAL const uint4 *)row)[g];
    v[0] = AS_FLOAT(q.x << 16); v[1] = AS_FLOAT(q.x & 0xffff0000u);
    v[2] = AS_FLOAT(q.y << 16); v[3] = AS_FLOAT(q.y & 0xffff0000u);
    v[4] = AS_FLOAT(q.z << 16); v[5] = AS_FLOAT(q.z & 0xffff0000u);
    v[6] = AS_FLOAT(q.w << 16); v[7] = AS_FLOAT(q.w & 0xffff0000u);
}

// acc[j] += w[0..7] * x[r0 + j, 8g ... 8g+7] for the nr rows of the tile (xr = row r0 of x).
DEVICE void mm_accumulate8(float *acc, int nr, const float *w, GLOBAL const float *xr, int columns, int g) {
    for (int j = 0; j < MM_ROWS; j++) {
        if (j >= nr) break;
        GLOBAL const float4 *xv = (GLOBAL const float4 *)(xr + (i64)j * columns) + 2 * g;
        const float4 a = xv[0], b = xv[1];
        acc[j] += w[0] * a.x + w[1] * a.y + w[2] * a.z + w[3] * a.w + w[4] * b.x + w[5] * b.y + w[6] * b.z + w[7] * b.w;
    }
}

// acc[j] += w * x[r0 + j, i] (rows whose length is not a multiple of 8).
DEVICE void mm_accumulate1(float *acc, int nr, float w, GLOBAL const float *xr, int columns, int i) {
    for (int j = 0; j < MM_ROWS; j++) {
        if (j >= nr) break;
        acc[j] += w * xr[(i64)j * columns + i];
    }
}

// The float formats: threads take 8 consecutive weights at a time (16- or 32-byte loads) when
// the row length is a multiple of 8, else one.
KERNEL void matmul_f32(GLOBAL const float *w, int outRows, int columns, GLOBAL const float *x, int rows,
                       GLOBAL const float *bias, int hasBias, GLOBAL float *y) {
    SHARED float scratch[MAX_GROUP];
    const int tiles = (rows + MM_ROWS - 1) / MM_ROWS;
    const int o = GROUP_X / tiles, r0 = (GROUP_X % tiles) * MM_ROWS;
    const int nr = rows - r0 < MM_ROWS ? rows - r0 : MM_ROWS;
    GLOBAL const float *wr = w + (i64)o * columns;
    GLOBAL const float *xr = x + (i64)r0 * columns;
    float acc[MM_ROWS];
    for (int j = 0; j < MM_ROWS; j++) acc[j] = 0.0f;
    if (columns % 8 == 0) {
        for (int g = THREAD_ID; g < columns / 8; g += GROUP_SIZE) {
            float wv[8];
            load8_f32(wr, g, wv);
            mm_accumulate8(acc, nr, wv, xr, columns, g);
        }
    } else {
        for (int i = THREAD_ID; i < columns; i += GROUP_SIZE) mm_accumulate1(acc, nr, wr[i], xr, columns, i);
    }
    mm_finish(acc, nr, scratch, y, outRows, o, r0, bias, hasBias);
}

KERNEL void matmul_f16(GLOBAL const u16 *w, int outRows, int columns, GLOBAL const float *x, int rows,
                       GLOBAL const float *bias, int hasBias, GLOBAL float *y) {
    SHARED float scratch[MAX_GROUP];
    const int tiles = (rows + MM_ROWS - 1) / MM_ROWS;
    const int o = GROUP_X / tiles, r0 = (GROUP_X % tiles) * MM_ROWS;
    const int nr = rows - r0 < MM_ROWS ? rows - r0 : MM_ROWS;
    GLOBAL const u16 *wr = w + (i64)o * columns;
    GLOBAL const float *xr = x + (i64)r0 * columns;
    float acc[MM_ROWS];
    for (int j = 0; j < MM_ROWS; j++) acc[j] = 0.0f;
    if (columns % 8 == 0) {
        for (int g = THREAD_ID; g < columns / 8; g += GROUP_SIZE) {
            float wv[8];
            load8_f16(wr, g, wv);
            mm_accumulate8(acc, nr, wv, xr, columns, g);
        }
    } else {
        for (int i = THREAD_ID; i < columns; i += GROUP_SIZE) mm_accumulate1(acc, nr, half_to_float(wr[i]), xr, columns, i);
    }
    mm_finish(acc, nr, scratch, y, outRows, o, r0, bias, hasBias);
}

KERNEL void matmul_bf16(GLOBAL const u16 *w, int outRows, int columns, GLOBAL const float *x, int rows,
                        GLOBAL const float *bias, int hasBias, GLOBAL float *y) {
    SHARED float scratch[MAX_GROUP];
    const int tiles = (rows + MM_ROWS - 1) / MM_ROWS;
    const int o = GROUP_X / tiles, r0 = (GROUP_X % tiles) * MM_ROWS;
    const int nr = rows - r0 < MM_ROWS ? rows - r0 : MM_ROWS;
    GLOBAL const u16 *wr = w + (i64)o * columns;
    GLOBAL const float *xr = x + (i64)r0 * columns;
    float acc[MM_ROWS];
    for (int j = 0; j < MM_ROWS; j++) acc[j] = 0.0f;
    if (columns % 8 == 0) {
        for (int g = THREAD_ID; g < columns / 8; g += GROUP_SIZE) {
            float wv[8];
            load8_bf16(wr, g, wv);
            mm_accumulate8(acc, nr, wv, xr, columns, g);
        }
    } else {
        for (int i = THREAD_ID; i < columns; i += GROUP_SIZE) mm_accumulate1(acc, nr, load_bf16(wr, i), xr, columns, i);
    }
    mm_finish(acc, nr, scratch, y, outRows, o, r0, bias, hasBias);
}

// Q8_0: per block of 32, d (float16) then 32 int8. As dot1_q8_0: d_w * d_x * sum q_w q_x.
KERNEL void matmul_q8_0(GLOBAL const u8 *w, int outRows, int columns, GLOBAL const u8 *act, int rows,
                        GLOBAL const float *bias, int hasBias, GLOBAL float *y) {
    SHARED float scratch[MAX_GROUP];
    const int tiles = (rows + MM_ROWS - 1) / MM_ROWS;
    const int o = GROUP_X / tiles, r0 = (GROUP_X % tiles) * MM_ROWS;
    const int nr = rows - r0 < MM_ROWS ? rows - r0 : MM_ROWS;
    const int units = columns / 32;
    const i64 rowBytes = act_row_bytes(columns);
    GLOBAL const u8 *wr = w + (i64)o * units * 34;
    float acc[MM_ROWS];
    for (int j = 0; j < MM_ROWS; j++) acc[j] = 0.0f;
    for (int u = THREAD_ID; u < units; u += GROUP_SIZE) {
        GLOBAL const u8 *blk = wr + 34 * u;
        const float d = load_f16((GLOBAL const u16 *)blk, 0);
        u32 q[8];
        for (int k = 0; k < 8; k++) q[k] = load_u32_a2(blk + 2 + 4 * k);
        for (int j = 0; j < MM_ROWS; j++) {
            if (j >= nr) break;
            GLOBAL const u8 *a = act + (i64)(r0 + j) * rowBytes;
            GLOBAL const u32 *aq = (GLOBAL const u32 *)a + 8 * u;
            int s = 0;
            for (int k = 0; k < 8; k++) s += dot4(q[k], aq[k]);
            acc[j] += d * act_scale(a, columns, u) * (float)s;
        }
    }
    mm_finish(acc, nr, scratch, y, outRows, o, r0, bias, hasBias);
}

// Q4_0: per block of 32, d (float16) then 16 bytes; byte l holds value l (low nibble) and
// l + 16 (high), each q - 8. As dot1_q4_0: the -8 is folded in as -8 * sum q_x.
KERNEL void matmul_q4_0(GLOBAL const u8 *w, int outRows, int columns, GLOBAL const u8 *act, int rows,
                        GLOBAL const float *bias, int hasBias, GLOBAL float *y) {
    SHARED float scratch[MAX_GROUP];
    const int tiles = (rows + MM_ROWS - 1) / MM_ROWS;
    const int o = GROUP_X / tiles, r0 = (GROUP_X % tiles) * MM_ROWS;
    const int nr = rows - r0 < MM_ROWS ? rows - r0 : MM_ROWS;
    const int units = columns / 32;
    const i64 rowBytes = act_row_bytes(columns);
    GLOBAL const u8 *wr = w + (i64)o * units * 18;
    float acc[MM_ROWS];
    for (int j = 0; j < MM_ROWS; j++) acc[j] = 0.0f;
    for (int u = THREAD_ID; u < units; u += GROUP_SIZE) {
        GLOBAL const u8 *blk = wr + 18 * u;
        const float d = load_f16((GLOBAL const u16 *)blk, 0);
        u32 lo[4], hi[4];
        for (int k = 0; k < 4; k++) {
            const u32 bytes = load_u32_a2(blk + 2 + 4 * k);
            lo[k] = bytes & 0x0f0f0f0fu;         // values 4k ... 4k+3
            hi[k] = (bytes >> 4) & 0x0f0f0f0fu;  // values 16+4k ... 16+4k+3
        }
        for (int j = 0; j < MM_ROWS; j++) {
            if (j >= nr) break;
            GLOBAL const u8 *a = act + (i64)(r0 + j) * rowBytes;
            GLOBAL const u32 *aq = (GLOBAL const u32 *)a + 8 * u;
            int s = 0;
            for (int k = 0; k < 4; k++) s += dot4(lo[k], aq[k]) + dot4(hi[k], aq[4 + k]);
            s -= 8 * (act_sum16(a, columns, 2 * u) + act_sum16(a, columns, 2 * u + 1));
            acc[j] += d * act_scale(a, columns, u) * (float)s;
        }
    }
    mm_finish(acc, nr, scratch, y, outRows, o, r0, bias, hasBias);
}

// Sub-block j's 6-bit scale and minimum of a Q4_K block (as CKernels' q4k_scale_min): j < 4 in
// the low 6 bits of bytes j and j+4; j >= 4 split over byte j+4 (low 4 bits each) and the top
// 2 bits of bytes j-4 and j.
DEVICE int q4k_scale(GLOBAL const u8 *s, int j) {
    return j < 4 ? (s[j] & 63) : ((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
}
DEVICE int q4k_min(GLOBAL const u8 *s, int j) {
    return j < 4 ? (s[j + 4] & 63) : ((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
}

// Q4_K: blocks of 256 (144 bytes): d, dmin (float16), 12 bytes of scales/mins, 128 bytes of
// nibbles (64-value chunk c in bytes 32c..32c+31: sub-block 2c low nibbles, 2c+1 high). A
// thread takes one sub-block of 32 at a time. As dot1_q4_K: d * d_x * sc * sum q q_x minus
// dmin * d_x * min * sum q_x.
KERNEL void matmul_q4_K(GLOBAL const u8 *w, int outRows, int columns, GLOBAL const u8 *act, int rows,
                        GLOBAL const float *bias, int hasBias, GLOBAL float *y) {
    SHARED float scratch[MAX_GROUP];
    const int tiles = (rows + MM_ROWS - 1) / MM_ROWS;
    const int o = GROUP_X / tiles, r0 = (GROUP_X % tiles) * MM_ROWS;
    const int nr = rows - r0 < MM_ROWS ? rows - r0 : MM_ROWS;
    const int units = columns / 32;
    const i64 rowBytes = act_row_bytes(columns);
    GLOBAL const u8 *wr = w + (i64)o * (units / 8) * 144;
    float acc[MM_ROWS];
    for (int j = 0; j < MM_ROWS; j++) acc[j] = 0.0f;
    for (int u = THREAD_ID; u < units; u += GROUP_SIZE) {
        GLOBAL const u8 *blk = wr + 144 * (u / 8);
        const int sub = u % 8;
        const float d = load_f16((GLOBAL const u16 *)blk, 0);
        const float dmin = load_f16((GLOBAL const u16 *)blk, 1);
        const int sc = q4k_scale(blk + 4, sub), mn = q4k_min(blk + 4, sub);
        GLOBAL const u8 *nibbles = blk + 16 + 32 * (sub / 2);
        const int shift = (sub & 1) * 4;
        u32 q[8];
        for (int k = 0; k < 8; k++) q[k] = (load_u32_a2(nibbles + 4 * k) >> shift) & 0x0f0f0f0fu;
        for (int j = 0; j < MM_ROWS; j++) {
            if (j >= nr) break;
            GLOBAL const u8 *a = act + (i64)(r0 + j) * rowBytes;
            GLOBAL const u32 *aq = (GLOBAL const u32 *)a + 8 * u;
            int s = 0;
            for (int k = 0; k < 8; k++) s += dot4(q[k], aq[k]);
            const int xsum = act_sum16(a, columns, 2 * u) + act_sum16(a, columns, 2 * u + 1);
            const float xd = act_scale(a, columns, u);
            acc[j] += d * (xd * (float)(sc * s)) - dmin * (xd * (float)(mn * xsum));
        }
    }
    mm_finish(acc, nr, scratch, y, outRows, o, r0, bias, hasBias);
}

// Q6_K: blocks of 256 (210 bytes): ql[128] low nibbles, qh[64] 2 high bits, int8 scales[16]
// (one per 16 values), d (float16). Value i = 128h + 32k + l (h = 0..1, k = 0..3) is the
// low (k < 2) or high nibble of ql[64h + 32(k & 1) + l] with bits (qh[32h + l] >> 2k) & 3 on
// top, minus 32. A thread takes 32 values (one h, k) at a time. As dot1_q6_K, with the -32
// folded in as -32 * sum q_x per 16 values.
KERNEL void matmul_q6_K(GLOBAL const u8 *w, int outRows, int columns, GLOBAL const u8 *act, int rows,
                        GLOBAL const float *bias, int hasBias, GLOBAL float *y) {
    SHARED float scratch[MAX_GROUP];
    const int tiles = (rows + MM_ROWS - 1) / MM_ROWS;
    const int o = GROUP_X / tiles, r0 = (GROUP_X % tiles) * MM_ROWS;
    const int nr = rows - r0 < MM_ROWS ? rows - r0 : MM_ROWS;
    const int units = columns / 32;
    const i64 rowBytes = act_row_bytes(columns);
    GLOBAL const u8 *wr = w + (i64)o * (units / 8) * 210;
    float acc[MM_ROWS];
    for (int j = 0; j < MM_ROWS; j++) acc[j] = 0.0f;
    for (int u = THREAD_ID; u < units; u += GROUP_SIZE) {
        GLOBAL const u8 *blk = wr + 210 * (u / 8);
        const int part = u % 8, h = part / 4, k = part % 4;
        GLOBAL const u8 *ql = blk + 64 * h + 32 * (k & 1);
        GLOBAL const u8 *qh = blk + 128 + 32 * h;
        const int lowShift = k < 2 ? 0 : 4, highShift = 2 * k;
        u32 q[8];
        for (int m = 0; m < 8; m++) {
            q[m] = ((load_u32_a2(ql + 4 * m) >> lowShift) & 0x0f0f0f0fu) |
                   (((load_u32_a2(qh + 4 * m) >> highShift) & 0x03030303u) << 4);
        }
        const int sc0 = sext8(blk[192 + 2 * part]), sc1 = sext8(blk[192 + 2 * part + 1]);
        const float d = load_f16((GLOBAL const u16 *)blk, 104);  // byte 208
        for (int j = 0; j < MM_ROWS; j++) {
            if (j >= nr) break;
            GLOBAL const u8 *a = act + (i64)(r0 + j) * rowBytes;
            GLOBAL const u32 *aq = (GLOBAL const u32 *)a + 8 * u;
            int p0 = 0, p1 = 0;
            for (int m = 0; m < 4; m++) {
                p0 += dot4(q[m], aq[m]);
                p1 += dot4(q[4 + m], aq[4 + m]);
            }
            p0 -= 32 * act_sum16(a, columns, 2 * u);
            p1 -= 32 * act_sum16(a, columns, 2 * u + 1);
            acc[j] += d * (act_scale(a, columns, u) * (float)(sc0 * p0 + sc1 * p1));
        }
    }
    mm_finish(acc, nr, scratch, y, outRows, o, r0, bias, hasBias);
}

// ---- Tiled matrix product of float-format weights for many activation rows ----
// With more than MM_ROWS rows (many sequences decoding together, prompts) the kernels above
// would re-read every activation row once per output row. Here a work-group of 256 threads
// computes a TILE_R x TILE_O block of y: slices of TILE_K columns of the block's activation
// rows and weight rows are staged in work-group memory (weights converted to float once) and
// each staged value is used TILE_O (or TILE_R) times. Thread (tx, ty) = (t % 16, t / 16)
// computes rows 4ty ... 4ty+3 and outputs tx, tx+16, tx+32, tx+48, so a warp whose rows are
// all past the last row skips the arithmetic, and reads of the weight slice hit distinct
// banks. Grid: ceil(outRows / TILE_O) * ceil(rows / TILE_R) groups along x, the output tiles
// of one row tile adjacent; along y, `splits` ranges of kChunk columns (a multiple of TILE_K):
// with few output tiles (a 1536-wide projection is 24) the columns are split so that enough
// groups run, each writing its partial block to y + split * rows * outRows, and
// `matmul_sum_splits` adds them up in order (with the bias). With one split y is the output.
// Columns need not be a multiple of anything.
// (Tensor cores through cuBLAS or mma instructions would be much faster for F16/BF16 on
// NVIDIA; this kernel is the portable one.)
#define TILE_O 64
#define TILE_R 64
#define TILE_K 32

// Weight i of a float-format matrix (format: 0 F32, 1 F16, 30 BF16) as a float.
DEVICE float float_weight(int format, GLOBAL const u8 *w, i64 i) {
    if (format == 0) return ((GLOBAL const float *)w)[i];
    const u32 h = ((GLOBAL const u16 *)w)[i];
    return format == 1 ? half_to_float(h) : AS_FLOAT(h << 16);
}

KERNEL void matmul_float_tiled(GLOBAL const u8 *w, int format, int outRows, int columns, GLOBAL const float *x,
                               int rows, GLOBAL const float *bias, int hasBias, GLOBAL float *y, int kChunk) {
    SHARED float ws[TILE_K][TILE_O + 1];  // +1: a column of the slice is not one bank
    SHARED float xs[TILE_K][TILE_R + 1];
    const int oTiles = (outRows + TILE_O - 1) / TILE_O;
    const int o0 = (GROUP_X % oTiles) * TILE_O, r0 = (GROUP_X / oTiles) * TILE_R;
    const int t = THREAD_ID, tx = t % 16, ty = t / 16;
    const int active = r0 + 4 * ty < rows;  // this thread has at least one row
    const int kBegin = GROUP_Y * kChunk;
    const int kEnd = columns - kBegin < kChunk ? columns : kBegin + kChunk;
    float acc[4][4];
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
    }
    for (int k0 = kBegin; k0 < kEnd; k0 += TILE_K) {
        // Stage the slices; consecutive threads take consecutive columns of one row (coalesced).
        if (columns % 8 == 0) {
            // 8 values per thread and slice (256 threads = 64 rows x 4 groups of 8 of TILE_K = 32
            // columns): one 16-byte weight load (two for F32), two for x.
            // Slices stay inside the range (kEnd is a multiple of 8, and so is k0 + kq).
            const int row = t / 4, kq = 8 * (t % 4), g = (k0 + kq) / 8;
            const int o = o0 + row, r = r0 + row;
            const int inside = k0 + kq < kEnd;
            float v[8];
            for (int i = 0; i < 8; i++) v[i] = 0.0f;
            if (o < outRows && inside) {
                if (format == 0) load8_f32((GLOBAL const float *)w + (i64)o * columns, g, v);
                else if (format == 1) load8_f16((GLOBAL const u16 *)w + (i64)o * columns, g, v);
                else load8_bf16((GLOBAL const u16 *)w + (i64)o * columns, g, v);
            }
            for (int i = 0; i < 8; i++) ws[kq + i][row] = v[i];
            for (int i = 0; i < 8; i++) v[i] = 0.0f;
            if (r < rows && inside) load8_f32(x + (i64)r * columns, g, v);
            for (int i = 0; i < 8; i++) xs[kq + i][row] = v[i];
        } else {
            for (int e = t; e < TILE_K * TILE_O; e += 256) {
                const int kk = e % TILE_K, oo = e / TILE_K;
                const int o = o0 + oo, k = k0 + kk;
                ws[kk][oo] = (o < outRows && k < kEnd) ? float_weight(format, w, (i64)o * columns + k) : 0.0f;
            }
            for (int e = t; e < TILE_K * TILE_R; e += 256) {
                const int kk = e % TILE_K, rr = e / TILE_K;
                const int r = r0 + rr, k = k0 + kk;
                xs[kk][rr] = (r < rows && k < kEnd) ? x[(i64)r * columns + k] : 0.0f;
            }
        }
        SYNC();
        if (active) {
            for (int kk = 0; kk < TILE_K; kk++) {
                float a[4], b[4];
                for (int i = 0; i < 4; i++) a[i] = xs[kk][4 * ty + i];
                for (int j = 0; j < 4; j++) b[j] = ws[kk][tx + 16 * j];
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
                }
            }
        }
        SYNC();  // the slices are overwritten next
    }
    GLOBAL float *out = y + (i64)GROUP_Y * rows * outRows;
    for (int i = 0; i < 4; i++) {
        const int r = r0 + 4 * ty + i;
        if (r >= rows) break;
        for (int j = 0; j < 4; j++) {
            const int o = o0 + tx + 16 * j;
            if (o < outRows) out[(i64)r * outRows + o] = acc[i][j] + (hasBias ? bias[o] : 0.0f);
        }
    }
}

// Bytes of one row of n values of GGML type `format` (the ids of WeightFormat).
DEVICE i64 format_row_bytes(int format, int n) {
    switch (format) {
    case 0: return (i64)n * 4;
    case 1: case 30: return (i64)n * 2;
    case 2: return (i64)(n / 32) * 18;
    case 8: return (i64)(n / 32) * 34;
    case 12: return (i64)(n / 256) * 144;
    case 14: return (i64)(n / 256) * 210;
    default: return 0;
    }
}

// ---- Tiled matrix product of integer-format weights for many activation rows ----
// The same blocking as matmul_float_tiled, one block of 32 columns (a "unit") per slice: the
// block's 64 weight rows are staged as 8 words of 4 signed bytes each plus their scales, the
// 64 activation rows as 8 words plus scale and sum, and every thread combines its 4 x 4
// outputs exactly as the one-row-at-a-time kernels above (integer dot per 16/32 values, then
// floats), so the results match the CPU backend's up to float summation order.
//
// A staged weight unit: values w (offset removed where it is per value: Q4_0's 8, Q6_K's 32),
// integers a0, a1 (the scales of values 0-15 and 16-31) and mn, floats f1, f2, such that the
// unit's contribution is f1 * (d_x * (a0 * sum 0-15 w q_x + a1 * sum 16-31 w q_x))
//                       - f2 * (d_x * (mn * sum q_x)):
//   Q8_0: w = q,      a0 = a1 = 1,        mn = 0,  f1 = d, f2 = 0
//   Q4_0: w = q - 8,  a0 = a1 = 1,        mn = 0,  f1 = d, f2 = 0
//   Q4_K: w = q,      a0 = a1 = scale,    mn = min, f1 = d, f2 = dmin
//   Q6_K: w = q - 32, a0, a1 = the two int8 scales, mn = 0, f1 = d, f2 = 0

// Subtracts `offset` (< 128) from each of 4 unsigned bytes below 128 + offset, giving signed
// bytes: biasing every byte by 0x80 first means no byte borrows from its neighbour.
DEVICE u32 bytes_minus(u32 v, u32 offset) {
    return ((v | 0x80808080u) - offset * 0x01010101u) ^ 0x80808080u;
}

// Word m (values 4m ... 4m+3) of unit u of weight row `wr`, as signed bytes (see above).
DEVICE u32 unit_word(int format, GLOBAL const u8 *wr, int u, int m) {
    switch (format) {
    case 8: return load_u32_a2(wr + 34 * u + 2 + 4 * m);
    case 2: {
        const u32 bytes = load_u32_a2(wr + 18 * u + 2 + 4 * (m % 4));
        return bytes_minus(m < 4 ? bytes & 0x0f0f0f0fu : (bytes >> 4) & 0x0f0f0f0fu, 8);
    }
    case 12: {
        const int sub = u % 8;
        return (load_u32_a2(wr + 144 * (u / 8) + 16 + 32 * (sub / 2) + 4 * m) >> ((sub & 1) * 4)) & 0x0f0f0f0fu;
    }
    default: {  // 14, Q6_K
        GLOBAL const u8 *blk = wr + 210 * (u / 8);
        const int part = u % 8, h = part / 4, k = part % 4;
        const u32 low = (load_u32_a2(blk + 64 * h + 32 * (k & 1) + 4 * m) >> (k < 2 ? 0 : 4)) & 0x0f0f0f0fu;
        const u32 high = (load_u32_a2(blk + 128 + 32 * h + 4 * m) >> (2 * k)) & 0x03030303u;
        return bytes_minus(low | (high << 4), 32);
    }
    }
}

KERNEL void matmul_quant_tiled(GLOBAL const u8 *w, int format, int outRows, int columns, GLOBAL const u8 *act,
                               int rows, GLOBAL const float *bias, int hasBias, GLOBAL float *y, int kChunk) {
    SHARED u32 wq[TILE_O][9];  // 9: rows of the slice start in different banks
    SHARED u32 xq[TILE_R][9];
    SHARED int wa0[TILE_O], wa1[TILE_O], wmn[TILE_O], xsum[TILE_R];
    SHARED float wf1[TILE_O], wf2[TILE_O], xd[TILE_R];
    const int oTiles = (outRows + TILE_O - 1) / TILE_O;
    const int o0 = (GROUP_X % oTiles) * TILE_O, r0 = (GROUP_X / oTiles) * TILE_R;
    const int t = THREAD_ID, tx = t % 16, ty = t / 16;
    const int active = r0 + 4 * ty < rows;
    const int units = columns / 32;
    const int uBegin = GROUP_Y * (kChunk / 32);
    const int uEnd = units - uBegin < kChunk / 32 ? units : uBegin + kChunk / 32;
    const i64 wRowBytes = format_row_bytes(format, columns), xRowBytes = act_row_bytes(columns);
    float acc[4][4];
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
    }
    for (int u = uBegin; u < uEnd; u++) {
        for (int e = t; e < TILE_O * 8; e += 256) {
            const int oo = e / 8, m = e % 8, o = o0 + oo;
            GLOBAL const u8 *wr = w + (i64)o * wRowBytes;
            wq[oo][m] = o < outRows ? unit_word(format, wr, u, m) : 0u;
            if (m == 0) {
                int a0 = 1, a1 = 1, mn = 0;
                float f1 = 0.0f, f2 = 0.0f;
                if (o < outRows) {
                    if (format == 8 || format == 2) {
                        f1 = load_f16((GLOBAL const u16 *)(wr + (format == 8 ? 34 : 18) * u), 0);
                    } else if (format == 12) {
                        GLOBAL const u8 *blk = wr + 144 * (u / 8);
                        a0 = a1 = q4k_scale(blk + 4, u % 8);
                        mn = q4k_min(blk + 4, u % 8);
                        f1 = load_f16((GLOBAL const u16 *)blk, 0);
                        f2 = load_f16((GLOBAL const u16 *)blk, 1);
                    } else {
                        GLOBAL const u8 *blk = wr + 210 * (u / 8);
                        a0 = sext8(blk[192 + 2 * (u % 8)]);
                        a1 = sext8(blk[192 + 2 * (u % 8) + 1]);
                        f1 = load_f16((GLOBAL const u16 *)blk, 104);
                    }
                }
                wa0[oo] = a0; wa1[oo] = a1; wmn[oo] = mn; wf1[oo] = f1; wf2[oo] = f2;
            }
        }
        for (int e = t; e < TILE_R * 8; e += 256) {
            const int rr = e / 8, m = e % 8, r = r0 + rr;
            GLOBAL const u8 *xr = act + (i64)r * xRowBytes;
            xq[rr][m] = r < rows ? ((GLOBAL const u32 *)xr)[8 * u + m] : 0u;
            if (m == 0) {
                xd[rr] = r < rows ? act_scale(xr, columns, u) : 0.0f;
                xsum[rr] = r < rows ? act_sum16(xr, columns, 2 * u) + act_sum16(xr, columns, 2 * u + 1) : 0;
            }
        }
        SYNC();
        if (active) {
            for (int j = 0; j < 4; j++) {
                const int oo = tx + 16 * j;
                u32 b[8];
                for (int m = 0; m < 8; m++) b[m] = wq[oo][m];
                for (int i = 0; i < 4; i++) {
                    const int rr = 4 * ty + i;
                    int p0 = 0, p1 = 0;
                    for (int m = 0; m < 4; m++) {
                        p0 += dot4(b[m], xq[rr][m]);
                        p1 += dot4(b[4 + m], xq[rr][4 + m]);
                    }
                    acc[i][j] += wf1[oo] * (xd[rr] * (float)(wa0[oo] * p0 + wa1[oo] * p1))
                               - wf2[oo] * (xd[rr] * (float)(wmn[oo] * xsum[rr]));
                }
            }
        }
        SYNC();
    }
    GLOBAL float *out = y + (i64)GROUP_Y * rows * outRows;
    for (int i = 0; i < 4; i++) {
        const int r = r0 + 4 * ty + i;
        if (r >= rows) break;
        for (int j = 0; j < 4; j++) {
            const int o = o0 + tx + 16 * j;
            if (o < outRows) out[(i64)r * outRows + o] = acc[i][j] + (hasBias ? bias[o] : 0.0f);
        }
    }
}

// y[i] = sum over the splits of partials[split, i] (in split order) + bias, for the rows x
// outRows outputs of a split tiled product. Grid: ceil(rows * outRows / group) along x.
KERNEL void matmul_sum_splits(GLOBAL const float *partials, int splits, int rows, int outRows,
                              GLOBAL const float *bias, int hasBias, GLOBAL float *y) {
    const i64 count = (i64)rows * outRows;
    const i64 i = (i64)GROUP_X * GROUP_SIZE + THREAD_ID;
    if (i >= count) return;
    float total = 0.0f;
    for (int split = 0; split < splits; split++) total += partials[split * count + i];
    y[i] = total + (hasBias ? bias[i % outRows] : 0.0f);
}

// ---- Embedding lookup ----

// Value i of a row of GGML type `format`, computed with the same float operations as
// ck_dequantize_row (so the result is bit-identical).
DEVICE float dequantize_value(int format, GLOBAL const u8 *row, int i) {
    switch (format) {
    case 0: return ((GLOBAL const float *)row)[i];
    case 1: return half_to_float(((GLOBAL const u16 *)row)[i]);
    case 30: return load_bf16((GLOBAL const u16 *)row, i);
    case 8: {
        GLOBAL const u8 *blk = row + 34 * (i / 32);
        return load_f16((GLOBAL const u16 *)blk, 0) * (float)sext8(blk[2 + i % 32]);
    }
    case 2: {
        GLOBAL const u8 *blk = row + 18 * (i / 32);
        const int l = i % 32;
        const int byte = blk[2 + (l & 15)];
        return load_f16((GLOBAL const u16 *)blk, 0) * (float)((l < 16 ? (byte & 15) : (byte >> 4)) - 8);
    }
    case 12: {
        GLOBAL const u8 *blk = row + 144 * (i / 256);
        const int sub = (i % 256) / 32, l = i % 32;
        const int q = (blk[16 + 32 * (sub / 2) + l] >> ((sub & 1) * 4)) & 15;
        const float d = load_f16((GLOBAL const u16 *)blk, 0), dmin = load_f16((GLOBAL const u16 *)blk, 1);
        return d * (float)q4k_scale(blk + 4, sub) * (float)q - dmin * (float)q4k_min(blk + 4, sub);
    }
    case 14: {
        GLOBAL const u8 *blk = row + 210 * (i / 256);
        const int r = i % 256, h = r / 128, k = (r % 128) / 32, l = r % 32;
        const int low = blk[64 * h + 32 * (k & 1) + l];
        const int q = ((k < 2 ? low & 15 : low >> 4) | (((blk[128 + 32 * h + l] >> (2 * k)) & 3) << 4)) - 32;
        return load_f16((GLOBAL const u16 *)blk, 104) * (float)sext8(blk[192 + r / 16]) * (float)q;
    }
    default: return AS_FLOAT(0x7fc00000u);
    }
}

// out[r, i] = row tokens[r] of the table, dequantized. Grid (ceil(columns / group), count).
// A token outside the table gives NaNs (the host checks tokens first; this only keeps a bad one
// from reading outside the table).
KERNEL void embed_rows(GLOBAL const u8 *table, int format, int tableRows, int columns, GLOBAL const int *tokens,
                       int count, GLOBAL float *out) {
    const int r = GROUP_Y, i = GROUP_X * GROUP_SIZE + THREAD_ID;
    if (r >= count || i >= columns) return;
    const int token = tokens[r];
    float value = AS_FLOAT(0x7fc00000u);
    if (token >= 0 && token < tableRows) {
        value = dequantize_value(format, table + (i64)token * format_row_bytes(format, columns), i);
    }
    out[(i64)r * columns + i] = value;
}

"""#
}
