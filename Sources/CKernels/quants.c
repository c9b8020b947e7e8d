// GGML block formats: dequantization, Q8_0 quantization, activation quantization and the
// portable scalar dot-product kernels. The block layouts below are GGML's byte for byte.
#include "ck_internal.h"
#include <math.h>
#include <string.h>

#include "ck_blocks.h"

// Q4_0: 32 values = d * (q - 8), q in 0..15. Byte j holds value j (low nibble) and j+16 (high).
// Q8_0: 32 values = d * q, q int8.
// Q4_K: 256 values in 8 sub-blocks of 32; value = d * scale[j] * q - dmin * min[j], q in
// 0..15; the eight 6-bit scales and mins are packed into 12 bytes (see q4k_scale_min).
// Nibbles: 64-value chunk c uses bytes qs[32c .. 32c+31], low nibbles for sub-block 2c, high
// nibbles for sub-block 2c+1.
// Q6_K: 256 values in 16 sub-blocks of 16; value = d * scale[j] * (q - 32), q in 0..63 made
// of 4 low bits (ql) and 2 high bits (qh); scales int8.
_Static_assert(sizeof(block_q4_0) == 18, "Q4_0 block size");
_Static_assert(sizeof(block_q8_0) == 34, "Q8_0 block size");
_Static_assert(sizeof(block_q4_K) == 144, "Q4_K block size");
_Static_assert(sizeof(block_q6_K) == 210, "Q6_K block size");

int ck_block_elements(ck_type type) {
    switch (type) {
    case CK_F32: case CK_F16: case CK_BF16: return 1;
    case CK_Q4_0: case CK_Q8_0: return 32;
    case CK_Q4_K: case CK_Q6_K: return 256;
    }
    return 0;
}

int ck_block_bytes(ck_type type) {
    switch (type) {
    case CK_F32: return 4;
    case CK_F16: case CK_BF16: return 2;
    case CK_Q4_0: return 18;
    case CK_Q8_0: return 34;
    case CK_Q4_K: return 144;
    case CK_Q6_K: return 210;
    }
    return 0;
}

// Unpacks sub-block j's 6-bit scale and min: sub-blocks 0-3 keep them in the low 6 bits of
// bytes j and j+4; sub-blocks 4-7 split them over byte j+4 (low 4 bits each) and the top 2
// bits of bytes j-4 and j.
static inline void q4k_scale_min(int j, const uint8_t *s, uint8_t *scale, uint8_t *min) {
    if (j < 4) {
        *scale = s[j] & 63;
        *min = s[j + 4] & 63;
    } else {
        *scale = (uint8_t)((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
        *min = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

// Q6_K value index i (0..255) of a block as q - 32 (-32..31). Layout: 128-value halves; in
// half h, value l + 32*k (k = 0..3, l = 0..31) takes the low nibble of ql[64h + l] (k = 0),
// ql[64h + 32 + l] (k = 1), the high nibbles of the same (k = 2, 3), and 2 bits
// (qh[32h + l] >> 2k) & 3 as bits 4-5.
static inline int q6k_value(const block_q6_K *b, int i) {
    int h = i / 128, r = i % 128, k = r / 32, l = r % 32;
    uint8_t low = b->ql[64 * h + l + (k & 1) * 32];
    low = (k < 2) ? (low & 0x0f) : (low >> 4);
    int high = (b->qh[32 * h + l] >> (2 * k)) & 3;
    return (int)(low | (high << 4)) - 32;
}
// The scale index of value i: one scale per 16 values, in value order.
static inline int q6k_scale_index(int i) { return i / 16; }

void ck_dequantize_row(ck_type type, const void *src, float *dst, int64_t n) {
    switch (type) {
    case CK_F32:
        memcpy(dst, src, (size_t)n * 4);
        return;
    case CK_F16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) dst[i] = ck_f16_to_f32(h[i]);
        return;
    }
    case CK_BF16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) dst[i] = ck_bf16_to_f32(h[i]);
        return;
    }
    case CK_Q4_0: {
        const block_q4_0 *b = src;
        for (int64_t blk = 0; blk < n / 32; blk++, dst += 32) {
            float d = ck_f16_to_f32(b[blk].d);
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (float)((b[blk].qs[j] & 0x0f) - 8);
                dst[j + 16] = d * (float)((b[blk].qs[j] >> 4) - 8);
            }
        }
        return;
    }
    case CK_Q8_0: {
        const block_q8_0 *b = src;
        for (int64_t blk = 0; blk < n / 32; blk++, dst += 32) {
            float d = ck_f16_to_f32(b[blk].d);
            for (int j = 0; j < 32; j++) dst[j] = d * (float)b[blk].qs[j];
        }
        return;
    }
    case CK_Q4_K: {
        const block_q4_K *b = src;
        for (int64_t blk = 0; blk < n / 256; blk++, dst += 256) {
            float d = ck_f16_to_f32(b[blk].d), dmin = ck_f16_to_f32(b[blk].dmin);
            for (int sub = 0; sub < 8; sub++) {
                uint8_t sc, mn;
                q4k_scale_min(sub, b[blk].scales, &sc, &mn);
                const uint8_t *q = b[blk].qs + 32 * (sub / 2);
                int shift = (sub & 1) * 4;
                for (int l = 0; l < 32; l++) {
                    dst[32 * sub + l] = d * sc * (float)((q[l] >> shift) & 0x0f) - dmin * mn;
                }
            }
        }
        return;
    }
    case CK_Q6_K: {
        const block_q6_K *b = src;
        for (int64_t blk = 0; blk < n / 256; blk++, dst += 256) {
            float d = ck_f16_to_f32(b[blk].d);
            for (int i = 0; i < 256; i++) {
                dst[i] = d * (float)b[blk].scales[q6k_scale_index(i)] * (float)q6k_value(&b[blk], i);
            }
        }
        return;
    }
    }
}

// Round half away from zero, as GGML's reference quantizer (and gguf-py's np_roundf) does.
static inline float round_away(float x) { return roundf(x); }

void ck_quantize_row_q8_0(const float *src, void *dst, int64_t n) {
    block_q8_0 *b = dst;
    for (int64_t blk = 0; blk < n / 32; blk++) {
        const float *x = src + 32 * blk;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        b[blk].d = ck_f32_to_f16(d);
        for (int j = 0; j < 32; j++) b[blk].qs[j] = (int8_t)round_away(x[j] * id);
    }
}

// ---- Activation rows -------------------------------------------------------------------------

size_t ck_act_row_bytes(int64_t n) {
    size_t bytes = (size_t)n + (size_t)(n / 32) * 8 + (size_t)(n / 16) * 2;
    return (bytes + 63) & ~(size_t)63;
}

ck_act ck_act_view(const void *row, int64_t n) {
    const uint8_t *p = row;
    ck_act a = {
        .qs = (const int8_t *)p,
        .d = (const float *)(p + n),
        .s16 = (const int16_t *)(p + n + (n / 32) * 4),
        .e = (const float *)(p + n + (n / 32) * 4 + (n / 16) * 2),
    };
    return a;
}

// Quantizes activations for Q8_0/Q4_0 weights exactly as ggml-cpu does on x86 (so results
// match llama.cpp's): per 32 values, scale d = amax/127 stored rounded to float16, values
// round-to-nearest-even(x * 127/amax) from the unrounded scale.
ck_act ck_quantize_act(const float *x, void *dst, int64_t n) {
    if (ck_elementwise_avx512()) {
        ck_quantize_act_avx512(x, dst, n);
        return ck_act_view(dst, n);
    }
    uint8_t *p = dst;
    int8_t *qs = (int8_t *)p;
    float *d = (float *)(p + n);
    int16_t *s16 = (int16_t *)(p + n + (n / 32) * 4);
    float *e = (float *)(p + n + (n / 32) * 4 + (n / 16) * 2);
    for (int64_t blk = 0; blk < n / 32; blk++) {
        const float *v = x + 32 * blk;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(v[j]));
        float inv = amax != 0 ? 127.0f / amax : 0.0f;
        float scale = ck_f16_to_f32(ck_f32_to_f16(amax / 127.0f));
        d[blk] = scale;
        int sum_lo = 0, sum_hi = 0;
        for (int j = 0; j < 32; j++) {
            int q = (int)lrintf(v[j] * inv);
            qs[32 * blk + j] = (int8_t)q;
            if (j < 16) sum_lo += q; else sum_hi += q;
        }
        s16[2 * blk] = (int16_t)sum_lo;
        s16[2 * blk + 1] = (int16_t)sum_hi;
        e[blk] = 128.0f * scale * (float)(sum_lo + sum_hi);
    }
    return ck_act_view(dst, n);
}

// Round to nearest, ties to even, as ggml's nearest_int (|x| well below 2^22).
static inline int nearest_even(float x) { return (int)lrintf(x); }

// Quantizes activations for Q4_K/Q6_K weights as ggml's Q8_K does (so results match
// llama.cpp's): one float scale per 256 values, d = 1/iscale with iscale = -127/m, m the value
// of largest magnitude (with its sign), q = nearest_even(iscale * x) capped at 127. The scale
// is repeated for the 8 blocks of 32 so the kernels read it like ck_quantize_act's.
ck_act ck_quantize_act_k(const float *x, void *dst, int64_t n) {
    uint8_t *p = dst;
    int8_t *qs = (int8_t *)p;
    float *d = (float *)(p + n);
    int16_t *s16 = (int16_t *)(p + n + (n / 32) * 4);
    float *e = (float *)(p + n + (n / 32) * 4 + (n / 16) * 2);
    for (int64_t blk = 0; blk < n / 256; blk++) {
        const float *v = x + 256 * blk;
        float amax = 0, max = 0;
        for (int j = 0; j < 256; j++) {
            if (fabsf(v[j]) > amax) { amax = fabsf(v[j]); max = v[j]; }
        }
        float scale = 0, iscale = 0;
        if (amax != 0) {
            iscale = -127.0f / max;
            scale = 1.0f / iscale;
        }
        for (int j = 0; j < 256; j++) {
            int q = nearest_even(iscale * v[j]);
            qs[256 * blk + j] = (int8_t)(q < 127 ? q : 127);
        }
        for (int sub = 0; sub < 16; sub++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += qs[256 * blk + 16 * sub + j];
            s16[16 * blk + sub] = (int16_t)sum;
        }
        for (int a = 0; a < 8; a++) {
            d[8 * blk + a] = scale;
            e[8 * blk + a] = 128.0f * scale * (float)(s16[16 * blk + 2 * a] + s16[16 * blk + 2 * a + 1]);
        }
    }
    return ck_act_view(dst, n);
}

ck_act ck_quantize_act_for(ck_type type, const float *x, void *dst, int64_t n) {
    return (type == CK_Q4_K || type == CK_Q6_K) ? ck_quantize_act_k(x, dst, n) : ck_quantize_act(x, dst, n);
}

void ck_quantize_act_blocks(ck_type type, const float *src, void *dst, int64_t n) {
    uint8_t *out = dst;
    if (type == CK_Q4_K || type == CK_Q6_K) {
        _Alignas(64) uint8_t row[512];  // ck_act_row_bytes(256) = 384
        for (int64_t blk = 0; blk < n / 256; blk++) {
            ck_act a = ck_quantize_act_k(src + 256 * blk, row, 256);
            uint8_t *b = out + 292 * blk;
            memcpy(b, a.d, 4);
            memcpy(b + 4, a.qs, 256);
            memcpy(b + 260, a.s16, 32);
        }
    } else if (type == CK_Q8_0 || type == CK_Q4_0) {
        _Alignas(64) uint8_t row[128];  // ck_act_row_bytes(32) = 64
        for (int64_t blk = 0; blk < n / 32; blk++) {
            ck_act a = ck_quantize_act(src + 32 * blk, row, 32);
            uint8_t *b = out + 34 * blk;
            uint16_t d = ck_f32_to_f16(a.d[0]);  // exact: the scale is already float16-rounded
            memcpy(b, &d, 2);
            memcpy(b + 2, a.qs, 32);
        }
    }
}

// ---- Scalar kernels --------------------------------------------------------------------------

static float dot1_q8_0(int64_t n, const void *w, const ck_act *x) {
    const block_q8_0 *b = w;
    float sum = 0;
    for (int64_t blk = 0; blk < n / 32; blk++) {
        int acc = 0;
        for (int j = 0; j < 32; j++) acc += b[blk].qs[j] * x->qs[32 * blk + j];
        sum += ck_f16_to_f32(b[blk].d) * x->d[blk] * (float)acc;
    }
    return sum;
}

static float dot1_q4_0(int64_t n, const void *w, const ck_act *x) {
    const block_q4_0 *b = w;
    float sum = 0;
    for (int64_t blk = 0; blk < n / 32; blk++) {
        const int8_t *q = x->qs + 32 * blk;
        int acc = 0;
        for (int j = 0; j < 16; j++) acc += (b[blk].qs[j] & 0x0f) * q[j] + (b[blk].qs[j] >> 4) * q[j + 16];
        // The -8 offset: (q - 8) * x summed = acc - 8 * sum(x).
        acc -= 8 * (x->s16[2 * blk] + x->s16[2 * blk + 1]);
        sum += ck_f16_to_f32(b[blk].d) * x->d[blk] * (float)acc;
    }
    return sum;
}

static float dot1_q4_K(int64_t n, const void *w, const ck_act *x) {
    const block_q4_K *b = w;
    float sum = 0;
    for (int64_t blk = 0; blk < n / 256; blk++) {
        float d = ck_f16_to_f32(b[blk].d), dmin = ck_f16_to_f32(b[blk].dmin);
        float scaled = 0, mins = 0;
        for (int sub = 0; sub < 8; sub++) {
            uint8_t sc, mn;
            q4k_scale_min(sub, b[blk].scales, &sc, &mn);
            const uint8_t *q = b[blk].qs + 32 * (sub / 2);
            int shift = (sub & 1) * 4;
            int64_t a = blk * 8 + sub;  // activation block of 32
            const int8_t *xq = x->qs + 32 * a;
            int acc = 0;
            for (int l = 0; l < 32; l++) acc += ((q[l] >> shift) & 0x0f) * xq[l];
            float xd = x->d[a];
            scaled += xd * (float)(sc * acc);
            mins += xd * (float)(mn * (x->s16[2 * a] + x->s16[2 * a + 1]));
        }
        sum += d * scaled - dmin * mins;
    }
    return sum;
}

static float dot1_q6_K(int64_t n, const void *w, const ck_act *x) {
    const block_q6_K *b = w;
    float sum = 0;
    for (int64_t blk = 0; blk < n / 256; blk++) {
        float d = ck_f16_to_f32(b[blk].d);
        float block_sum = 0;
        for (int a = 0; a < 8; a++) {  // activation blocks of 32 = two Q6_K sub-blocks of 16
            int64_t ai = blk * 8 + a;
            const int8_t *xq = x->qs + 32 * ai;
            int acc = 0;
            for (int half = 0; half < 2; half++) {
                int sub = 2 * a + half, part = 0;
                for (int l = 0; l < 16; l++) part += q6k_value(&b[blk], 16 * sub + l) * xq[16 * half + l];
                acc += b[blk].scales[sub] * part;
            }
            block_sum += x->d[ai] * (float)acc;
        }
        sum += d * block_sum;
    }
    return sum;
}

#define SCALAR_QDOT(name, one)                                                              \
    static void name(int64_t n, const void *w, const ck_act *x, int nx, float *out) {      \
        for (int j = 0; j < nx; j++) out[j] = one(n, w, &x[j]);                             \
    }
SCALAR_QDOT(qdot_q8_0_scalar, dot1_q8_0)
SCALAR_QDOT(qdot_q4_0_scalar, dot1_q4_0)
SCALAR_QDOT(qdot_q4_K_scalar, dot1_q4_K)
SCALAR_QDOT(qdot_q6_K_scalar, dot1_q6_K)

static void fdot_f32_scalar(int64_t n, const void *w, const float *const *x, int nx, float *out) {
    const float *a = w;
    for (int j = 0; j < nx; j++) {
        float sum = 0;
        for (int64_t i = 0; i < n; i++) sum += a[i] * x[j][i];
        out[j] = sum;
    }
}

static void fdot_f16_scalar(int64_t n, const void *w, const float *const *x, int nx, float *out) {
    const uint16_t *a = w;
    for (int j = 0; j < nx; j++) {
        float sum = 0;
        for (int64_t i = 0; i < n; i++) sum += ck_f16_to_f32(a[i]) * x[j][i];
        out[j] = sum;
    }
}

static void fdot_bf16_scalar(int64_t n, const void *w, const float *const *x, int nx, float *out) {
    const uint16_t *a = w;
    for (int j = 0; j < nx; j++) {
        float sum = 0;
        for (int64_t i = 0; i < n; i++) sum += ck_bf16_to_f32(a[i]) * x[j][i];
        out[j] = sum;
    }
}

ck_kernels ck_scalar_kernels(ck_type type) {
    ck_kernels k = {0, 0};
    switch (type) {
    case CK_F32: k.fdot = fdot_f32_scalar; break;
    case CK_F16: k.fdot = fdot_f16_scalar; break;
    case CK_BF16: k.fdot = fdot_bf16_scalar; break;
    case CK_Q8_0: k.qdot = qdot_q8_0_scalar; break;
    case CK_Q4_0: k.qdot = qdot_q4_0_scalar; break;
    case CK_Q4_K: k.qdot = qdot_q4_K_scalar; break;
    case CK_Q6_K: k.qdot = qdot_q6_K_scalar; break;
    }
    return k;
}
