// AVX-512 kernels (F/BW/VL; the integer ones also need VNNI), chosen at run time. Each kernel
// multiplies one weight row with up to CK_TILE activation rows: every weight vector is loaded
// (and, for F16/BF16, converted) once and used for all of them, which is what makes batched
// decode and prompt processing compute bound rather than bandwidth bound.
#include "ck_internal.h"
#include "ck_blocks.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define AVX512VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

// ---- Float weights -------------------------------------------------------------------------

// Loads 16 weights as floats.
AVX512 static inline __m512 load16_f16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
AVX512 static inline __m512 load16_bf16(const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}
AVX512 static inline __m512 load16_f32(const float *p) { return _mm512_loadu_ps(p); }

// Two accumulators per activation row hide the FMA latency when the tile is a single row
// (decode of one sequence), where nothing else would.
#define FLOAT_KERNEL(name, wtype, load)                                                          \
    AVX512 static void name(int64_t n, const void *wp, const float *const *x, int nx, float *out) { \
        const wtype *w = wp;                                                                     \
        __m512 a0[CK_TILE], a1[CK_TILE];                                                         \
        for (int r = 0; r < CK_TILE; r++) a0[r] = a1[r] = _mm512_setzero_ps();                   \
        int64_t i = 0;                                                                           \
        if (nx == CK_TILE) {                                                                     \
            for (; i + 32 <= n; i += 32) {                                                       \
                __m512 w0 = load(w + i), w1 = load(w + i + 16);                                  \
                for (int r = 0; r < CK_TILE; r++) {                                              \
                    a0[r] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[r] + i), a0[r]);               \
                    a1[r] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x[r] + i + 16), a1[r]);          \
                }                                                                                \
            }                                                                                    \
        } else {                                                                                 \
            for (; i + 32 <= n; i += 32) {                                                       \
                __m512 w0 = load(w + i), w1 = load(w + i + 16);                                  \
                for (int r = 0; r < nx; r++) {                                                   \
                    a0[r] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[r] + i), a0[r]);               \
                    a1[r] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x[r] + i + 16), a1[r]);          \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
        for (; i + 16 <= n; i += 16) {                                                           \
            __m512 w0 = load(w + i);                                                             \
            for (int r = 0; r < nx; r++) a0[r] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[r] + i), a0[r]); \
        }                                                                                        \
        float tail[16];                                                                          \
        int64_t rest = n - i;                                                                    \
        if (rest) {                                                                              \
            /* The last <16 weights: expand with the scalar converter (rows rarely end here). */ \
            float wf[16];                                                                        \
            ck_dequantize_row(KTYPE_##wtype, w + i, wf, rest);                                   \
            for (int64_t k = 0; k < rest; k++) tail[k] = wf[k];                                  \
        }                                                                                        \
        for (int r = 0; r < nx; r++) {                                                           \
            float s = _mm512_reduce_add_ps(_mm512_add_ps(a0[r], a1[r]));                         \
            for (int64_t k = 0; k < rest; k++) s += tail[k] * x[r][i + k];                       \
            out[r] = s;                                                                          \
        }                                                                                        \
    }

typedef uint16_t f16_t;
typedef uint16_t bf16_t;
#define KTYPE_f16_t CK_F16
#define KTYPE_bf16_t CK_BF16
#define KTYPE_float CK_F32
FLOAT_KERNEL(fdot_f16_avx512, f16_t, load16_f16)
FLOAT_KERNEL(fdot_bf16_avx512, bf16_t, load16_bf16)
FLOAT_KERNEL(fdot_f32_avx512, float, load16_f32)

// ---- Q8_0 with VNNI ------------------------------------------------------------------------
//
// vpdpbusd multiplies unsigned by signed bytes. Activations are made unsigned by adding 128
// (x ^ 0x80), so each block's integer dot is Σ(x+128)w = Σxw + 128Σw; the 128Σw term depends
// only on the weights and is computed once per weight block for the whole tile.
// Two blocks (64 values) fill a 512-bit register: lanes 0-7 hold block i, lanes 8-15 block i+1.

AVX512VNNI static void qdot_q8_0_avx512vnni(int64_t n, const void *wp, const ck_act *x, int nx, float *out) {
    const block_q8_0 *b = wp;
    const int64_t nb = n / 32;
    const __m512i offset = _mm512_set1_epi8((char)0x80);
    const __m512i zero = _mm512_setzero_si512();
    // Lane l takes element l/8 of a 2-float vector: spreads [s_i, s_i+1] over the halves.
    const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    __m512 acc[CK_TILE];
    for (int r = 0; r < CK_TILE; r++) acc[r] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)b[i].qs)),
                                       _mm256_loadu_si256((const __m256i *)b[i + 1].qs), 1);
        __m512i wsum = _mm512_dpbusd_epi32(zero, offset, w);  // 128 * Σw per 4 values
        __m128 dw = _mm_cvtph_ps(_mm_set_epi16(0, 0, 0, 0, 0, 0, (short)b[i + 1].d, (short)b[i].d));
        for (int r = 0; r < nx; r++) {
            __m512i xv = _mm512_xor_si512(_mm512_loadu_si512((const void *)(x[r].qs + 32 * i)), offset);
            __m512i dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, xv, w), wsum);
            __m128 s = _mm_mul_ps(dw, _mm_castpd_ps(_mm_load_sd((const double *)(x[r].d + i))));
            __m512 scale = _mm512_permutexvar_ps(halves, _mm512_castps128_ps512(s));
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc[r]);
        }
    }
    for (int r = 0; r < nx; r++) out[r] = _mm512_reduce_add_ps(acc[r]);
    if (i < nb) {  // odd block count: the last block on 256-bit registers
        const __m256i offset8 = _mm256_set1_epi8((char)0x80);
        __m256i w = _mm256_loadu_si256((const __m256i *)b[i].qs);
        __m256i wsum = _mm256_dpbusd_epi32(_mm256_setzero_si256(), offset8, w);
        float dw = _cvtsh_ss(b[i].d);
        for (int r = 0; r < nx; r++) {
            __m256i xv = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(x[r].qs + 32 * i)), offset8);
            __m256i dot = _mm256_sub_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), xv, w), wsum);
            out[r] += dw * x[r].d[i] * (float)_mm512_reduce_add_epi32(_mm512_zextsi256_si512(dot));
        }
    }
}

ck_kernels ck_avx512_kernels(ck_type type) {
    ck_kernels k = {0, 0};
    int vnni = (ck_active_cpu_features() & CK_CPU_AVX512_VNNI) != 0;
    switch (type) {
    case CK_F32: k.fdot = fdot_f32_avx512; break;
    case CK_F16: k.fdot = fdot_f16_avx512; break;
    case CK_BF16: k.fdot = fdot_bf16_avx512; break;
    case CK_Q8_0: if (vnni) k.qdot = qdot_q8_0_avx512vnni; break;
    default: break;
    }
    return k;
}

#else
ck_kernels ck_avx512_kernels(ck_type type) {
    (void)type;
    ck_kernels k = {0, 0};
    return k;
}
#endif
