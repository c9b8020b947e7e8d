// Attention with AVX-512: the scores of 16 keys at a time (K is stored transposed within a
// block, so score[0..15] = Σ_d q[d] · K[d][0..15] is one broadcast FMA per dimension), a
// vector exp, and V accumulated in registers. Online softmax as in ops.c: only one block of
// scores is ever held, so the memory traffic per row is the KV it reads, once.
#include "ck_internal.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include "ck_avx512_math.h"

int ck_attention_avx512_supported(int64_t block_size, int64_t head_dim) {
    return (ck_active_cpu_features() & CK_CPU_AVX512) && block_size % 16 == 0 && block_size <= 256 &&
           head_dim % 16 == 0 && head_dim <= 256;
}

AVX512 void ck_attend_avx512(ck_kv_layer L, const float *q, float *out, int64_t count, int64_t kvh,
                             float scale, int64_t length, const int32_t *table) {
    const int64_t hd = L.head_dim, bs = L.block_size, chunks = hd / 16;
    for (int64_t g = 0; g < count; g++) {
        const float *qg = q + g * hd;
        float m = -INFINITY, l = 0;
        __m512 acc[16];  // hd <= 256
        for (int64_t c = 0; c < chunks; c++) acc[c] = _mm512_setzero_ps();
        float p[256];
        for (int64_t start = 0, b = 0; start < length; start += bs, b++) {
            int64_t n = length - start < bs ? length - start : bs;
            size_t base = (size_t)((table[b] * L.kv_heads + kvh) * bs) * (size_t)hd;
            const float *K = L.k + base, *V = L.v + base;
            float block_max = -INFINITY;
            __m512 s[16];  // bs / 16 score vectors
            int64_t sv = (n + 15) / 16;
            for (int64_t j = 0; j < sv; j++) {
                // Four partial sums over the dimensions keep four FMA chains in flight.
                __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                const float *Kj = K + 16 * j;
                int64_t d = 0;
                for (; d + 4 <= hd; d += 4) {
                    a0 = _mm512_fmadd_ps(_mm512_set1_ps(qg[d]), _mm512_loadu_ps(Kj + d * bs), a0);
                    a1 = _mm512_fmadd_ps(_mm512_set1_ps(qg[d + 1]), _mm512_loadu_ps(Kj + (d + 1) * bs), a1);
                    a2 = _mm512_fmadd_ps(_mm512_set1_ps(qg[d + 2]), _mm512_loadu_ps(Kj + (d + 2) * bs), a2);
                    a3 = _mm512_fmadd_ps(_mm512_set1_ps(qg[d + 3]), _mm512_loadu_ps(Kj + (d + 3) * bs), a3);
                }
                __m512 sc = _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), _mm512_set1_ps(scale));
                int64_t valid = n - 16 * j;
                if (valid < 16) {  // keys past the row's position do not exist yet
                    __mmask16 keep = (__mmask16)((1u << valid) - 1);
                    sc = _mm512_mask_blend_ps(keep, _mm512_set1_ps(-INFINITY), sc);
                }
                s[j] = sc;
                float mx = _mm512_reduce_max_ps(sc);
                if (mx > block_max) block_max = mx;
            }
            float new_max = block_max > m ? block_max : m;
            float correction = expf(m - new_max);  // 0 on the first block
            m = new_max;
            __m512 sum = _mm512_setzero_ps();
            for (int64_t j = 0; j < sv; j++) {
                __m512 e = exp16(_mm512_sub_ps(s[j], _mm512_set1_ps(new_max)));
                sum = _mm512_add_ps(sum, e);
                _mm512_storeu_ps(p + 16 * j, e);
            }
            l = l * correction + _mm512_reduce_add_ps(sum);
            if (correction != 1.0f) {
                __m512 cv = _mm512_set1_ps(correction);
                for (int64_t c = 0; c < chunks; c++) acc[c] = _mm512_mul_ps(acc[c], cv);
            }
            for (int64_t t = 0; t < n; t++) {
                __m512 pt = _mm512_set1_ps(p[t]);
                const float *Vt = V + t * hd;
                for (int64_t c = 0; c < chunks; c++) acc[c] = _mm512_fmadd_ps(pt, _mm512_loadu_ps(Vt + 16 * c), acc[c]);
            }
        }
        __m512 inv = _mm512_set1_ps(1.0f / l);
        for (int64_t c = 0; c < chunks; c++) _mm512_storeu_ps(out + g * hd + 16 * c, _mm512_mul_ps(acc[c], inv));
    }
}

#else
int ck_attention_avx512_supported(int64_t block_size, int64_t head_dim) {
    (void)block_size; (void)head_dim;
    return 0;
}
void ck_attend_avx512(ck_kv_layer layer, const float *q, float *out, int64_t count, int64_t kvh,
                      float scale, int64_t length, const int32_t *table) {
    (void)layer; (void)q; (void)out; (void)count; (void)kvh; (void)scale; (void)length; (void)table;
}
#endif
