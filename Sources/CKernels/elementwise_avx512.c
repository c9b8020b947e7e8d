// AVX-512 versions of the element-wise work that grows with the prompt: SiLU-gate (one exp per
// FFN activation) and the 8-bit quantization of activation rows before integer matmuls. Both
// give the same results as the scalar code in ops.c / quants.c (same operations, same rounding).
#include "ck_internal.h"
#include <math.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include "ck_avx512_math.h"

int ck_elementwise_avx512(void) { return (ck_active_cpu_features() & CK_CPU_AVX512) != 0; }

AVX512 void ck_silu_mul_avx512(const float *gate, const float *up, float *out, int64_t n) {
    int64_t i = 0;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (; i + 16 <= n; i += 16) {
        __m512 g = _mm512_loadu_ps(gate + i);
        __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), g));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), _mm512_loadu_ps(up + i)));
    }
    for (; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

// ck_quantize_act with vectors: per block of 32, amax, scale rounded to float16, values
// rounded to nearest even from 127/amax, and the two 16-value sums.
AVX512 void ck_quantize_act_avx512(const float *x, uint8_t *p, int64_t n) {
    int8_t *qs = (int8_t *)p;
    float *d = (float *)(p + n);
    int16_t *s16 = (int16_t *)(p + n + (n / 32) * 4);
    float *e = (float *)(p + n + (n / 32) * 4 + (n / 16) * 2);
    const __m512 sign = _mm512_set1_ps(-0.0f);
    for (int64_t blk = 0; blk < n / 32; blk++) {
        __m512 v0 = _mm512_loadu_ps(x + 32 * blk), v1 = _mm512_loadu_ps(x + 32 * blk + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1)));
        float inv = amax != 0 ? 127.0f / amax : 0.0f;
        float scale = _cvtsh_ss(_cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT));
        __m512 m = _mm512_set1_ps(inv);
        __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, m));  // MXCSR default: nearest even
        __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, m));
        _mm_storeu_si128((__m128i *)(qs + 32 * blk), _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(qs + 32 * blk + 16), _mm512_cvtepi32_epi8(q1));
        int lo = _mm512_reduce_add_epi32(q0), hi = _mm512_reduce_add_epi32(q1);
        d[blk] = scale;
        s16[2 * blk] = (int16_t)lo;
        s16[2 * blk + 1] = (int16_t)hi;
        e[blk] = 128.0f * scale * (float)(lo + hi);
    }
}
#else
int ck_elementwise_avx512(void) { return 0; }
void ck_silu_mul_avx512(const float *gate, const float *up, float *out, int64_t n) { (void)gate; (void)up; (void)out; (void)n; }
void ck_quantize_act_avx512(const float *x, uint8_t *p, int64_t n) { (void)x; (void)p; (void)n; }
#endif
