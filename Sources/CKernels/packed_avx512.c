// Packed weight layouts and their AVX-512 kernels: the fast path for F16 and Q8_0 matmuls.
//
// The row-major kernels compute one output at a time and must reduce a vector horizontally
// per output and, for Q8_0, rescale every 32-value block of every (weight row, activation row)
// pair. Here 16 weight rows are interleaved so that one 512-bit register holds the same input
// position(s) of 16 output rows: an activation value is broadcast and multiplied into all 16
// at once, the 16 lanes *are* the 16 outputs (no horizontal sums), and the per-block scale
// work is done once per 16 outputs. Each packed group is loaded once per tile of up to
// PACK_TILE activation rows. Weights are packed once at upload; the original rows stay
// available for embedding lookups and for CPUs without AVX-512.
//
// F16 group (16 rows, n inputs): for each input k, the 16 rows' values at k (32 bytes).
// Q8_0 group: for each 32-value block b, 8 chunks of 64 bytes (chunk c: rows 0..15, each its
// 4 values 4c..4c+3, stored +128 as unsigned bytes), then after all blocks the 16 rows' f16
// scales per block. vpdpbusd multiplies these unsigned bytes by the broadcast signed
// activation bytes: Σ(w+128)x = Σwx + 128Σx, and the 128Σx term is removed per block with
// the activation's precomputed e = 128·dx·Σx.
#include "ck_internal.h"
#include "ck_blocks.h"
#include <string.h>

#define GROUP 16
#define PACK_TILE 4
// How far ahead (in inputs) the F16 kernel prefetches when streaming: 64 inputs = 2 KiB.
#define PREFETCH_K 64

static int64_t groups_of(int64_t n_out) { return (n_out + GROUP - 1) / GROUP; }

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define AVX512VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

static int packed_supported(ck_type type) {
    int f = ck_active_cpu_features();
    if (type == CK_F16) return (f & CK_CPU_AVX512) != 0;
    if (type == CK_Q8_0) return (f & CK_CPU_AVX512_VNNI) != 0 && (f & CK_CPU_AVX512) != 0;
    return 0;
}

size_t ck_packed_bytes_avx512(ck_type type, int64_t n_out, int64_t n_in) {
    if (!packed_supported(type)) return 0;
    if (type == CK_F16) return (size_t)groups_of(n_out) * GROUP * (size_t)n_in * 2;
    return (size_t)groups_of(n_out) * (size_t)(n_in / 32) * (512 + 32);
}

void ck_pack_avx512(ck_type type, const void *w, int64_t n_out, int64_t n_in, void *dst) {
    int64_t groups = groups_of(n_out);
    if (type == CK_F16) {
        const uint16_t *src = w;
        uint16_t *out = dst;
        for (int64_t g = 0; g < groups; g++) {
            uint16_t *group = out + g * GROUP * n_in;
            for (int64_t k = 0; k < n_in; k++) {
                for (int r = 0; r < GROUP; r++) {
                    int64_t row = g * GROUP + r;
                    group[k * GROUP + r] = row < n_out ? src[row * n_in + k] : 0;  // padding rows: 0
                }
            }
        }
        return;
    }
    // Q8_0
    const block_q8_0 *src = w;
    int64_t nb = n_in / 32;
    uint8_t *out = dst;
    for (int64_t g = 0; g < groups; g++) {
        uint8_t *group = out + g * nb * (512 + 32);
        uint16_t *scales = (uint16_t *)(group + nb * 512);
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *q = group + b * 512;
            for (int r = 0; r < GROUP; r++) {
                int64_t row = g * GROUP + r;
                const block_q8_0 *blk = row < n_out ? &src[row * nb + b] : NULL;
                scales[b * GROUP + r] = blk ? blk->d : 0;
                for (int c = 0; c < 8; c++) {
                    for (int i = 0; i < 4; i++) {
                        int8_t v = blk ? blk->qs[4 * c + i] : 0;
                        q[c * 64 + r * 4 + i] = (uint8_t)(v + 128);
                    }
                }
            }
        }
    }
}

// Stores 16 outputs (fewer in the last group) of activation row r, with the bias.
AVX512 static inline void store_group(float *y, int64_t n_out, int64_t g, __m512 v, const float *bias) {
    int64_t base = g * GROUP;
    int64_t count = n_out - base < GROUP ? n_out - base : GROUP;
    __mmask16 mask = (__mmask16)((1u << count) - 1);
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, bias + base));
    _mm512_mask_storeu_ps(y + base, mask, v);
}

// Activation rows per F16 tile: each converted weight vector (vcvtph2ps costs two uops on the
// FMA ports) feeds 8 FMAs, and 8 independent accumulators keep both FMA ports busy.
#define F16_TILE 8

AVX512 static void f16_groups(const uint16_t *packed, int64_t n_out, int64_t n, const float *x, int64_t rows,
                              const float *bias, float *y, int64_t g_begin, int64_t g_end) {
    for (int64_t r0 = 0; r0 < rows; r0 += F16_TILE) {
        int nx = rows - r0 < F16_TILE ? (int)(rows - r0) : F16_TILE;
        const float *xr[F16_TILE];
        for (int j = 0; j < F16_TILE; j++) xr[j] = x + (r0 + (j < nx ? j : 0)) * n;
        for (int64_t g = g_begin; g < g_end; g++) {
            const uint16_t *w = packed + g * GROUP * n;
            __m512 a[F16_TILE][2];
            for (int j = 0; j < F16_TILE; j++) a[j][0] = a[j][1] = _mm512_setzero_ps();
            int64_t k = 0;
            if (nx == F16_TILE) {
                for (; k + 2 <= n; k += 2) {
                    __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + k * GROUP)));
                    __m512 w1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + (k + 1) * GROUP)));
                    for (int j = 0; j < F16_TILE; j++) {
                        a[j][0] = _mm512_fmadd_ps(w0, _mm512_set1_ps(xr[j][k]), a[j][0]);
                        a[j][0] = _mm512_fmadd_ps(w1, _mm512_set1_ps(xr[j][k + 1]), a[j][0]);
                    }
                }
            } else {
                for (; k + 2 <= n; k += 2) {
                    // Few rows stream the weights from memory: fetch ~2 KiB ahead, since the
                    // hardware prefetcher restarts at every 4 KiB page and every work item.
                    _mm_prefetch((const char *)(w + (k + PREFETCH_K) * GROUP), _MM_HINT_T0);
                    __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + k * GROUP)));
                    __m512 w1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + (k + 1) * GROUP)));
                    // Two accumulators per row: with one row, a single chain would wait on
                    // every FMA's latency.
                    for (int j = 0; j < nx; j++) {
                        a[j][0] = _mm512_fmadd_ps(w0, _mm512_set1_ps(xr[j][k]), a[j][0]);
                        a[j][1] = _mm512_fmadd_ps(w1, _mm512_set1_ps(xr[j][k + 1]), a[j][1]);
                    }
                }
            }
            for (; k < n; k++) {
                __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + k * GROUP)));
                for (int j = 0; j < nx; j++) a[j][0] = _mm512_fmadd_ps(w0, _mm512_set1_ps(xr[j][k]), a[j][0]);
            }
            for (int j = 0; j < nx; j++) store_group(y + (r0 + j) * n_out, n_out, g, _mm512_add_ps(a[j][0], a[j][1]), bias);
        }
    }
}

AVX512VNNI static void q8_0_groups(const uint8_t *packed, int64_t n_out, int64_t n, const uint8_t *act,
                                   size_t act_row_bytes, int64_t rows, const float *bias, float *y,
                                   int64_t g_begin, int64_t g_end) {
    const int64_t nb = n / 32;
    for (int64_t r0 = 0; r0 < rows; r0 += PACK_TILE) {
        int nx = rows - r0 < PACK_TILE ? (int)(rows - r0) : PACK_TILE;
        ck_act x[PACK_TILE];
        for (int j = 0; j < nx; j++) x[j] = ck_act_view(act + (r0 + j) * act_row_bytes, n);
        for (int64_t g = g_begin; g < g_end; g++) {
            const uint8_t *group = packed + g * nb * (512 + 32);
            const uint16_t *scales = (const uint16_t *)(group + nb * 512);
            __m512 acc[PACK_TILE];
            for (int j = 0; j < PACK_TILE; j++) acc[j] = _mm512_setzero_ps();
            for (int64_t b = 0; b < nb; b++) {
                const __m512i *q = (const __m512i *)(group + b * 512);
                if (nx < PACK_TILE) {  // streaming (decode): fetch two blocks (1 KiB) ahead
                    const char *ahead = (const char *)(group + (b + 2) * 512);
                    for (int line = 0; line < 8; line++) _mm_prefetch(ahead + 64 * line, _MM_HINT_T0);
                }
                __m512i w0 = _mm512_loadu_si512(q), w1 = _mm512_loadu_si512(q + 1);
                __m512i w2 = _mm512_loadu_si512(q + 2), w3 = _mm512_loadu_si512(q + 3);
                __m512i w4 = _mm512_loadu_si512(q + 4), w5 = _mm512_loadu_si512(q + 5);
                __m512i w6 = _mm512_loadu_si512(q + 6), w7 = _mm512_loadu_si512(q + 7);
                __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(scales + b * GROUP)));
                for (int j = 0; j < nx; j++) {
                    const int32_t *xq = (const int32_t *)(x[j].qs + 32 * b);
                    // Two chains of four so consecutive vpdpbusd do not wait on each other.
                    __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0, _mm512_set1_epi32(xq[0]));
                    __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w1, _mm512_set1_epi32(xq[1]));
                    s0 = _mm512_dpbusd_epi32(s0, w2, _mm512_set1_epi32(xq[2]));
                    s1 = _mm512_dpbusd_epi32(s1, w3, _mm512_set1_epi32(xq[3]));
                    s0 = _mm512_dpbusd_epi32(s0, w4, _mm512_set1_epi32(xq[4]));
                    s1 = _mm512_dpbusd_epi32(s1, w5, _mm512_set1_epi32(xq[5]));
                    s0 = _mm512_dpbusd_epi32(s0, w6, _mm512_set1_epi32(xq[6]));
                    s1 = _mm512_dpbusd_epi32(s1, w7, _mm512_set1_epi32(xq[7]));
                    __m512 dot = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
                    // dx·Σ(w+128)x − 128·dx·Σx = dx·Σwx, then × dw per lane.
                    __m512 v = _mm512_fmsub_ps(dot, _mm512_set1_ps(x[j].d[b]), _mm512_set1_ps(x[j].e[b]));
                    acc[j] = _mm512_fmadd_ps(dw, v, acc[j]);
                }
            }
            for (int j = 0; j < nx; j++) store_group(y + (r0 + j) * n_out, n_out, g, acc[j], bias);
        }
    }
}

void ck_packed_groups_avx512(ck_type type, const void *packed, int64_t n_out, int64_t n_in,
                             const float *x, const uint8_t *act, size_t act_row_bytes, int64_t rows,
                             const float *bias, float *y, int64_t g_begin, int64_t g_end) {
    if (type == CK_F16) f16_groups(packed, n_out, n_in, x, rows, bias, y, g_begin, g_end);
    else q8_0_groups(packed, n_out, n_in, act, act_row_bytes, rows, bias, y, g_begin, g_end);
}

#else
size_t ck_packed_bytes_avx512(ck_type type, int64_t n_out, int64_t n_in) {
    (void)type; (void)n_out; (void)n_in;
    return 0;
}
void ck_pack_avx512(ck_type type, const void *w, int64_t n_out, int64_t n_in, void *dst) {
    (void)type; (void)w; (void)n_out; (void)n_in; (void)dst;
}
void ck_packed_groups_avx512(ck_type type, const void *packed, int64_t n_out, int64_t n_in,
                             const float *x, const uint8_t *act, size_t act_row_bytes, int64_t rows,
                             const float *bias, float *y, int64_t g_begin, int64_t g_end) {
    (void)type; (void)packed; (void)n_out; (void)n_in; (void)x; (void)act; (void)act_row_bytes;
    (void)rows; (void)bias; (void)y; (void)g_begin; (void)g_end;
}
#endif
