// AVX2 + FMA + F16C kernels (and AVX-VNNI where present), chosen at run time; compiled with
// target attributes so the rest of the library stays baseline x86-64. Same tiling as the
// AVX-512 kernels: one weight row against up to CK_TILE activation rows.
#include "ck_internal.h"
#include "ck_blocks.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))

AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// ---- Float helpers (attention, norms) ------------------------------------------------------

AVX2 static float vec_dot_f32_avx2(const float *a, const float *b, int64_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    float sum = hsum256(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

AVX2 static void vec_mad_f32_avx2(float *y, const float *x, float a, int64_t n) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va, _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

AVX2 static void vec_scale_f32_avx2(float *y, float a, int64_t n) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), va));
    for (; i < n; i++) y[i] *= a;
}

static int have_avx2(void) { return (ck_active_cpu_features() & CK_CPU_AVX2) != 0; }

float ck_vec_dot_f32(const float *a, const float *b, int64_t n) {
    if (have_avx2()) return vec_dot_f32_avx2(a, b, n);
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

void ck_vec_mad_f32(float *y, const float *x, float a, int64_t n) {
    if (have_avx2()) { vec_mad_f32_avx2(y, x, a, n); return; }
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

void ck_vec_scale_f32(float *y, float a, int64_t n) {
    if (have_avx2()) { vec_scale_f32_avx2(y, a, n); return; }
    for (int64_t i = 0; i < n; i++) y[i] *= a;
}

// ---- Float weights -------------------------------------------------------------------------

AVX2 static inline __m256 load8_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
AVX2 static inline __m256 load8_bf16(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}
AVX2 static inline __m256 load8_f32(const float *p) { return _mm256_loadu_ps(p); }

typedef uint16_t f16_t;
typedef uint16_t bf16_t;
#define KTYPE_f16_t CK_F16
#define KTYPE_bf16_t CK_BF16
#define KTYPE_float CK_F32

#define FLOAT_KERNEL(name, wtype, load)                                                          \
    AVX2 static void name(int64_t n, const void *wp, const float *const *x, int nx, float *out) {  \
        const wtype *w = wp;                                                                     \
        __m256 a0[CK_TILE], a1[CK_TILE];                                                         \
        for (int r = 0; r < CK_TILE; r++) a0[r] = a1[r] = _mm256_setzero_ps();                   \
        int64_t i = 0;                                                                           \
        for (; i + 16 <= n; i += 16) {                                                           \
            __m256 w0 = load(w + i), w1 = load(w + i + 8);                                       \
            for (int r = 0; r < nx; r++) {                                                       \
                a0[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[r] + i), a0[r]);                   \
                a1[r] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[r] + i + 8), a1[r]);               \
            }                                                                                    \
        }                                                                                        \
        float wf[16];                                                                            \
        int64_t rest = n - i;                                                                    \
        if (rest) ck_dequantize_row(KTYPE_##wtype, w + i, wf, rest);                            \
        for (int r = 0; r < nx; r++) {                                                           \
            float s = hsum256(_mm256_add_ps(a0[r], a1[r]));                                      \
            for (int64_t k = 0; k < rest; k++) s += wf[k] * x[r][i + k];                         \
            out[r] = s;                                                                          \
        }                                                                                        \
    }

FLOAT_KERNEL(fdot_f16_avx2, f16_t, load8_f16)
FLOAT_KERNEL(fdot_bf16_avx2, bf16_t, load8_bf16)
FLOAT_KERNEL(fdot_f32_avx2, float, load8_f32)

// ---- Q8_0 ----------------------------------------------------------------------------------
//
// Signed × signed bytes via the sign trick: |w| is unsigned and sign(x, w) carries the sign,
// so vpmaddubsw (or AVX-VNNI's vpdpbusd) computes Σ w·x. |w| is computed once per block for
// the whole tile.

AVX2 static inline __m256i dot_i8_pairs(__m256i uw, __m256i sx) {
    __m256i pairs = _mm256_maddubs_epi16(uw, sx);  // 16 x i16, cannot overflow: 2*127*128 < 2^15
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

AVX2 static void qdot_q8_0_avx2(int64_t n, const void *wp, const ck_act *x, int nx, float *out) {
    const block_q8_0 *b = wp;
    const int64_t nb = n / 32;
    __m256 acc[CK_TILE];
    for (int r = 0; r < CK_TILE; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        __m256i w = _mm256_loadu_si256((const __m256i *)b[i].qs);
        __m256i uw = _mm256_sign_epi8(w, w);
        float dw = _cvtsh_ss(b[i].d);
        for (int r = 0; r < nx; r++) {
            __m256i sx = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(x[r].qs + 32 * i)), w);
            __m256 dot = _mm256_cvtepi32_ps(dot_i8_pairs(uw, sx));
            acc[r] = _mm256_fmadd_ps(dot, _mm256_set1_ps(dw * x[r].d[i]), acc[r]);
        }
    }
    for (int r = 0; r < nx; r++) out[r] = hsum256(acc[r]);
}

AVXVNNI static void qdot_q8_0_avxvnni(int64_t n, const void *wp, const ck_act *x, int nx, float *out) {
    const block_q8_0 *b = wp;
    const int64_t nb = n / 32;
    __m256 acc[CK_TILE];
    for (int r = 0; r < CK_TILE; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        __m256i w = _mm256_loadu_si256((const __m256i *)b[i].qs);
        __m256i uw = _mm256_sign_epi8(w, w);
        float dw = _cvtsh_ss(b[i].d);
        for (int r = 0; r < nx; r++) {
            __m256i sx = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(x[r].qs + 32 * i)), w);
            __m256 dot = _mm256_cvtepi32_ps(_mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), uw, sx));
            acc[r] = _mm256_fmadd_ps(dot, _mm256_set1_ps(dw * x[r].d[i]), acc[r]);
        }
    }
    for (int r = 0; r < nx; r++) out[r] = hsum256(acc[r]);
}

// ---- Q4_0 ----------------------------------------------------------------------------------
// Nibbles 0..15 are already unsigned: Σ(q-8)x = Σqx - 8Σx, with Σx from the activation sums.

AVX2 static void qdot_q4_0_avx2(int64_t n, const void *wp, const ck_act *x, int nx, float *out) {
    const block_q4_0 *b = wp;
    const int64_t nb = n / 32;
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256 acc[CK_TILE];
    for (int r = 0; r < CK_TILE; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        __m128i packed = _mm_loadu_si128((const __m128i *)b[i].qs);
        // Values 0-15 are the low nibbles, 16-31 the high nibbles.
        __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), low);
        float dw = _cvtsh_ss(b[i].d);
        for (int r = 0; r < nx; r++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(x[r].qs + 32 * i));
            int32_t sumx = x[r].s16[2 * i] + x[r].s16[2 * i + 1];
            __m256i dot = _mm256_sub_epi32(dot_i8_pairs(q, xv), _mm256_set1_epi32(sumx));  // 8 lanes × sumx = 8Σx
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(dw * x[r].d[i]), acc[r]);
        }
    }
    for (int r = 0; r < nx; r++) out[r] = hsum256(acc[r]);
}

// ---- Q4_K ----------------------------------------------------------------------------------

static inline void q4k_scales(const uint8_t *s, uint8_t *sc, uint8_t *mn) {
    for (int j = 0; j < 8; j++) {
        if (j < 4) { sc[j] = s[j] & 63; mn[j] = s[j + 4] & 63; }
        else {
            sc[j] = (uint8_t)((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
            mn[j] = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
        }
    }
}

AVX2 static void qdot_q4_K_avx2(int64_t n, const void *wp, const ck_act *x, int nx, float *out) {
    const block_q4_K *b = wp;
    const int64_t nb = n / 256;
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256 acc[CK_TILE];
    float mins[CK_TILE] = {0};
    for (int r = 0; r < CK_TILE; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        uint8_t sc[8], mn[8];
        q4k_scales(b[i].scales, sc, mn);
        float d = _cvtsh_ss(b[i].d), dmin = _cvtsh_ss(b[i].dmin);
        for (int c = 0; c < 4; c++) {  // 64 values: sub-blocks 2c (low nibbles), 2c+1 (high)
            __m256i packed = _mm256_loadu_si256((const __m256i *)(b[i].qs + 32 * c));
            __m256i q0 = _mm256_and_si256(packed, low);
            __m256i q1 = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low);
            for (int r = 0; r < nx; r++) {
                int64_t a = i * 8 + 2 * c;  // activation block of sub-block 2c
                __m256i x0 = _mm256_loadu_si256((const __m256i *)(x[r].qs + 32 * a));
                __m256i x1 = _mm256_loadu_si256((const __m256i *)(x[r].qs + 32 * a + 32));
                __m256 s0 = _mm256_set1_ps(d * sc[2 * c] * x[r].d[a]);
                __m256 s1 = _mm256_set1_ps(d * sc[2 * c + 1] * x[r].d[a + 1]);
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_i8_pairs(q0, x0)), s0, acc[r]);
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_i8_pairs(q1, x1)), s1, acc[r]);
                mins[r] += dmin * (mn[2 * c] * x[r].d[a] * (float)(x[r].s16[2 * a] + x[r].s16[2 * a + 1]) +
                                   mn[2 * c + 1] * x[r].d[a + 1] * (float)(x[r].s16[2 * a + 2] + x[r].s16[2 * a + 3]));
            }
        }
    }
    for (int r = 0; r < nx; r++) out[r] = hsum256(acc[r]) - mins[r];
}

// ---- Q6_K ----------------------------------------------------------------------------------
// q (0..63) is unsigned: Σ(q-32)x = Σqx - 32Σx per sub-block of 16 (activation sums s16).

AVX2 static void qdot_q6_K_avx2(int64_t n, const void *wp, const ck_act *x, int nx, float *out) {
    const block_q6_K *b = wp;
    const int64_t nb = n / 256;
    const __m256i low = _mm256_set1_epi8(0x0f), two = _mm256_set1_epi8(3);
    __m256 acc[CK_TILE];
    for (int r = 0; r < CK_TILE; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        float d = _cvtsh_ss(b[i].d);
        for (int h = 0; h < 2; h++) {  // 128-value halves
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(b[i].ql + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(b[i].ql + 64 * h + 32));
            __m256i hb = _mm256_loadu_si256((const __m256i *)(b[i].qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, low), _mm256_slli_epi16(_mm256_and_si256(hb, two), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, low), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), two), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), two), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), two), 4));
            for (int k = 0; k < 4; k++) {
                int sub = 8 * h + 2 * k;  // first of the two scales of these 32 values
                int64_t a = i * 8 + 4 * h + k;
                for (int r = 0; r < nx; r++) {
                    __m256i xv = _mm256_loadu_si256((const __m256i *)(x[r].qs + 32 * a));
                    // Per 16-value half: Σqx via maddubs pairs, summed within each 128-bit lane.
                    __m256i dot = dot_i8_pairs(q[k], xv);  // lanes 0-3: first 16 values, 4-7: second
                    int32_t sx0 = x[r].s16[2 * a], sx1 = x[r].s16[2 * a + 1];
                    __m256i corr = _mm256_set_epi32(8 * sx1, 8 * sx1, 8 * sx1, 8 * sx1, 8 * sx0, 8 * sx0, 8 * sx0, 8 * sx0);
                    dot = _mm256_sub_epi32(dot, corr);  // 4 lanes × 8Σx = 32Σx per half
                    __m256 scales = _mm256_set_m128(_mm_set1_ps((float)b[i].scales[sub + 1]), _mm_set1_ps((float)b[i].scales[sub]));
                    acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(scales, _mm256_set1_ps(d * x[r].d[a])), acc[r]);
                }
            }
        }
    }
    for (int r = 0; r < nx; r++) out[r] = hsum256(acc[r]);
}

ck_kernels ck_avx2_kernels(ck_type type) {
    ck_kernels k = {0, 0};
    int vnni = (ck_active_cpu_features() & CK_CPU_AVX_VNNI) != 0;
    switch (type) {
    case CK_F32: k.fdot = fdot_f32_avx2; break;
    case CK_F16: k.fdot = fdot_f16_avx2; break;
    case CK_BF16: k.fdot = fdot_bf16_avx2; break;
    case CK_Q8_0: k.qdot = vnni ? qdot_q8_0_avxvnni : qdot_q8_0_avx2; break;
    case CK_Q4_0: k.qdot = qdot_q4_0_avx2; break;
    case CK_Q4_K: k.qdot = qdot_q4_K_avx2; break;
    case CK_Q6_K: k.qdot = qdot_q6_K_avx2; break;
    }
    return k;
}

#else

float ck_vec_dot_f32(const float *a, const float *b, int64_t n) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}
void ck_vec_mad_f32(float *y, const float *x, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}
void ck_vec_scale_f32(float *y, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] *= a;
}
ck_kernels ck_avx2_kernels(ck_type type) {
    (void)type;
    ck_kernels k = {0, 0};
    return k;
}
#endif
