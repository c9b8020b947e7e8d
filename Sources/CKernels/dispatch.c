// Run-time choice of kernels from the CPU's features, and the single-row dot helpers.
#include "ck_internal.h"
#include <stdatomic.h>
#include <stdlib.h>

static _Atomic int detected = -1;
static _Atomic int active = -1;

int ck_cpu_features(void) {
    int f = atomic_load(&detected);
    if (f >= 0) return f;
    f = 0;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        f |= CK_CPU_AVX2;
        if (__builtin_cpu_supports("avxvnni")) f |= CK_CPU_AVX_VNNI;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl")) {
            f |= CK_CPU_AVX512;
            if (__builtin_cpu_supports("avx512vnni")) f |= CK_CPU_AVX512_VNNI;
        }
    }
#endif
    atomic_store(&detected, f);
    return f;
}

int ck_active_cpu_features(void) {
    int a = atomic_load(&active);
    if (a >= 0) return a;
    a = ck_cpu_features();
    atomic_store(&active, a);
    return a;
}

int ck_set_cpu_features(int mask) {
    int a = ck_cpu_features() & mask;
    atomic_store(&active, a);
    return a;
}

ck_kernels ck_best_kernels(ck_type type) {
    ck_kernels best = ck_scalar_kernels(type);
    int f = ck_active_cpu_features();
    if (f & CK_CPU_AVX2) {
        ck_kernels k = ck_avx2_kernels(type);
        if (k.qdot) best.qdot = k.qdot;
        if (k.fdot) best.fdot = k.fdot;
    }
    if (f & CK_CPU_AVX512) {
        ck_kernels k = ck_avx512_kernels(type);
        if (k.qdot) best.qdot = k.qdot;
        if (k.fdot) best.fdot = k.fdot;
    }
    return best;
}

static float dot_with(ck_kernels k, ck_type type, const void *w, const float *x, int64_t n) {
    float out = 0;
    if (k.fdot) {
        const float *rows[1] = {x};
        k.fdot(n, w, rows, 1, &out);
    } else if (k.qdot) {
        void *buf = aligned_alloc(64, ck_act_row_bytes(n));
        if (!buf) return 0;
        ck_act a = ck_quantize_act_for(type, x, buf, n);
        k.qdot(n, w, &a, 1, &out);
        free(buf);
    }
    return out;
}

float ck_dot(ck_type type, const void *w, const float *x, int64_t n) {
    return dot_with(ck_best_kernels(type), type, w, x, n);
}

float ck_dot_scalar(ck_type type, const void *w, const float *x, int64_t n) {
    return dot_with(ck_scalar_kernels(type), type, w, x, n);
}
