// Memory read bandwidth with N threads: each thread streams its half of a buffer much larger
// than the last-level cache, summing it with AVX2 loads; best of several passes, in GB/s.
// Decode of a single sequence reads every weight once per token, so this is its speed limit.
//   cc -O3 -mavx2 -pthread bandwidth.c -o bandwidth && ./bandwidth 2
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BYTES (1ull << 30)

typedef struct { const char *p; size_t n; double sink; } part;

static void *reader(void *raw) {
    part *t = raw;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= t->n; i += 128) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(t->p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(t->p + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(t->p + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(t->p + i + 96)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    long long out[4];
    _mm256_storeu_si256((__m256i *)out, s);
    t->sink = (double)(out[0] + out[1] + out[2] + out[3]);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1 || threads > 64) threads = 2;
    char *buf = aligned_alloc(64, BYTES);
    if (!buf) return 1;
    memset(buf, 1, BYTES);
    double best = 0;
    for (int pass = 0; pass < 7; pass++) {
        pthread_t h[64];
        part parts[64];
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < threads; i++) {
            parts[i].p = buf + BYTES / threads * i;
            parts[i].n = BYTES / threads;
            pthread_create(&h[i], NULL, reader, &parts[i]);
        }
        for (int i = 0; i < threads; i++) pthread_join(h[i], NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
        double gbs = BYTES / s / 1e9;
        if (gbs > best) best = gbs;
    }
    printf("%.2f\n", best);
    return 0;
}
