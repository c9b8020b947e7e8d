// Microbenchmark of the CKernels matmul at the weight shapes of one transformer layer (plus the
// output projection), for a given type and batch size: what a forward pass spends in matmuls.
//   cc -O3 -pthread -I../../Sources/CKernels/include ../../Sources/CKernels/*.c kernel_bench.c -lm -o kernel_bench
//   ./kernel_bench TYPE(q8_0|f16|...) HIDDEN FFN KV_DIM VOCAB ROWS THREADS [REPEATS]
#include "ckernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(getenv("CPU_TIME") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static ck_type parse_type(const char *s) {
    if (!strcmp(s, "f32")) return CK_F32;
    if (!strcmp(s, "f16")) return CK_F16;
    if (!strcmp(s, "bf16")) return CK_BF16;
    if (!strcmp(s, "q8_0")) return CK_Q8_0;
    if (!strcmp(s, "q4_0")) return CK_Q4_0;
    if (!strcmp(s, "q4_k")) return CK_Q4_K;
    if (!strcmp(s, "q6_k")) return CK_Q6_K;
    fprintf(stderr, "unknown type %s\n", s);
    exit(2);
}

typedef struct { int64_t out, in; void *w; void *packed; } shape;

int main(int argc, char **argv) {
    if (argc < 8) { fprintf(stderr, "usage: kernel_bench TYPE HIDDEN FFN KV_DIM VOCAB ROWS THREADS [REPEATS] [FEATURES]\n"); return 2; }
    ck_type type = parse_type(argv[1]);
    int64_t h = atoll(argv[2]), f = atoll(argv[3]), kv = atoll(argv[4]), vocab = atoll(argv[5]);
    int64_t rows = atoll(argv[6]);
    int threads = atoi(argv[7]);
    int repeats = argc > 8 ? atoi(argv[8]) : 5;
    if (argc > 9) ck_set_cpu_features(atoi(argv[9]));
    // Layers are separate allocations so the benchmark streams from memory like a real model
    // (enough layers to exceed the last-level cache).
    int layers = 8;
    shape per_layer[7] = {{h, h, 0, 0}, {kv, h, 0, 0}, {kv, h, 0, 0}, {h, h, 0, 0}, {f, h, 0, 0}, {f, h, 0, 0}, {h, f, 0, 0}};
    shape all[8 * 7 + 1];
    int n = 0;
    size_t bytes = 0;
    for (int l = 0; l < layers; l++) for (int i = 0; i < 7; i++) all[n++] = per_layer[i];
    all[n++] = (shape){vocab, h, 0, 0};
    for (int i = 0; i < n; i++) {
        size_t b = (size_t)all[i].out * (all[i].in / ck_block_elements(type)) * ck_block_bytes(type);
        all[i].w = aligned_alloc(64, (b + 63) & ~(size_t)63);
        // Random-ish bytes; keep float16 scales finite by using small values.
        unsigned char *p = all[i].w;
        for (size_t k = 0; k < b; k++) p[k] = (unsigned char)((k * 2654435761u) >> 13) & 0x3b;
        bytes += b;
        size_t pb = getenv("NO_PACK") ? 0 : ck_packed_bytes(type, all[i].out, all[i].in);
        all[i].packed = NULL;
        if (pb) {
            all[i].packed = aligned_alloc(64, (pb + 63) & ~(size_t)63);
            ck_pack_weights(type, all[i].w, all[i].out, all[i].in, all[i].packed);
        }
    }
    size_t max_in = f > h ? f : h;
    float *x = aligned_alloc(64, rows * max_in * 4);
    float *y = aligned_alloc(64, rows * (vocab > f ? vocab : f) * 4);
    for (size_t i = 0; i < rows * max_in; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    void *scratch = aligned_alloc(64, ck_matmul_scratch_bytes(type, rows, max_in) + 64);
    ck_pool *pool = ck_pool_create(threads);
    double best_layer = 1e9, best_out = 1e9;
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        for (int i = 0; i < n - 1; i++) ck_matmul(pool, type, all[i].w, all[i].packed, all[i].out, all[i].in, x, rows, NULL, y, scratch);
        double t1 = now();
        ck_matmul(pool, type, all[n - 1].w, all[n - 1].packed, all[n - 1].out, all[n - 1].in, x, rows > 16 ? 1 : rows, NULL, y, scratch);
        double t2 = now();
        if ((t1 - t0) / layers < best_layer) best_layer = (t1 - t0) / layers;
        if (t2 - t1 < best_out) best_out = t2 - t1;
    }
    size_t layer_bytes = 0;
    double layer_macs = 0;
    for (int i = 0; i < 7; i++) {
        layer_bytes += (size_t)all[i].out * (all[i].in / ck_block_elements(type)) * ck_block_bytes(type);
        layer_macs += (double)all[i].out * all[i].in * rows;
    }
    size_t out_bytes = (size_t)vocab * (h / ck_block_elements(type)) * ck_block_bytes(type);
    printf("type=%s rows=%lld threads=%d layer: %.3f ms (%.2f GB/s weights, %.1f GMAC/s)  output: %.3f ms (%.2f GB/s)\n",
           argv[1], (long long)rows, threads, best_layer * 1e3, layer_bytes / best_layer / 1e9,
           layer_macs / best_layer / 1e9, best_out * 1e3, out_bytes / best_out / 1e9);
    ck_pool_destroy(pool);
    return 0;
}
