// AVX2 + FMA + F16C kernels (chosen at run time; compiled with target attributes so the rest
// of the library stays baseline x86-64).
#include "ck_internal.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static float vec_dot_f32_avx2(const float *a, const float *b, int64_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
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

ck_kernels ck_avx2_kernels(ck_type type) {
    (void)type;
    ck_kernels k = {0, 0};
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
