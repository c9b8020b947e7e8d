// CKernels: the CPU hot loops of the inference engine.
//
// Weight rows use GGML's block layouts exactly (so GGUF tensors are used in place). Every
// kernel has a portable scalar version; faster AVX2 / AVX-512 versions are chosen at run time
// from the CPU's features (ck_cpu_features), so one binary runs on any x86-64 (and elsewhere,
// scalar only).
//
// Integer-quantized weights (Q8_0, Q4_0, Q4_K, Q6_K) are multiplied against activations that
// are themselves quantized on the fly to 8 bits exactly as llama.cpp (ggml-cpu on x86) does —
// Q8_0-style blocks of 32 with a float16-rounded scale for Q8_0/Q4_0 weights, Q8_K-style
// blocks of 256 for Q4_K/Q6_K — plus the integer sums of each 16 values (for the offset terms
// of Q4_0/Q4_K/Q6_K), and accumulated in integers, so results agree with llama.cpp's up to
// float summation order.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Weight types; values are the GGML type ids.
typedef enum {
    CK_F32 = 0,
    CK_F16 = 1,
    CK_Q4_0 = 2,
    CK_Q8_0 = 8,
    CK_Q4_K = 12,
    CK_Q6_K = 14,
    CK_BF16 = 30,
} ck_type;

/// Elements per block of `type` (1 for float types), 0 for an unknown type.
int ck_block_elements(ck_type type);
/// Bytes per block of `type`, 0 for an unknown type.
int ck_block_bytes(ck_type type);

// ---- Conversions -------------------------------------------------------------------------

float ck_f16_to_f32(uint16_t h);
uint16_t ck_f32_to_f16(float f);
float ck_bf16_to_f32(uint16_t h);
uint16_t ck_f32_to_bf16(float f);  // round to nearest even, NaN kept quiet

/// Expands `n` elements (a multiple of the block size) of one row to floats.
void ck_dequantize_row(ck_type type, const void *src, float *dst, int64_t n);
/// GGML's reference Q8_0 quantization of `n` (multiple of 32) floats into `n/32` blocks.
void ck_quantize_row_q8_0(const float *src, void *dst, int64_t n);
/// The 8-bit blocks an activation row becomes before it meets `type` weights (what the integer
/// kernels multiply), written in ggml's layout so tests can compare them byte for byte with
/// ggml-cpu's: Q8_0/Q4_0 weights -> block_q8_0 (float16 d, 32 int8; 34 bytes per 32 values);
/// Q4_K/Q6_K weights -> block_q8_K (float d, 256 int8, 16 int16 sums of 16; 292 bytes per 256).
/// `n` a multiple of the block (32 or 256). Other types: nothing written.
void ck_quantize_act_blocks(ck_type type, const float *src, void *dst, int64_t n);

// ---- Dot products (one weight row · one float vector) ------------------------------------

/// `sum_i w[i] * x[i]`. Quantized types quantize `x` to 8-bit blocks first (see above), so the
/// result differs from the exact float dot by that rounding. Uses the fastest kernel available.
float ck_dot(ck_type type, const void *w, const float *x, int64_t n);
/// The same with the portable scalar kernels only (for tests: compares dispatch with scalar).
float ck_dot_scalar(ck_type type, const void *w, const float *x, int64_t n);

// ---- CPU features --------------------------------------------------------------------------

enum {
    CK_CPU_AVX2 = 1 << 0,        // AVX2 + FMA + F16C
    CK_CPU_AVX512 = 1 << 1,      // AVX-512 F/BW/VL
    CK_CPU_AVX512_VNNI = 1 << 2, // AVX-512 VNNI
    CK_CPU_AVX_VNNI = 1 << 3,    // VEX-encoded VNNI (256-bit)
};
/// Features detected on this CPU (bit set of CK_CPU_*).
int ck_cpu_features(void);
/// Limits the kernels used to `mask` & detected features (tests and benchmarks use it to
/// exercise each level). Returns the features now in use.
int ck_set_cpu_features(int mask);
/// Features now in use.
int ck_active_cpu_features(void);

// ---- Thread pool -----------------------------------------------------------------------------

/// A fixed set of worker threads. The calling thread is worker 0; workers spin briefly
/// between jobs (ops follow each other within microseconds during a forward pass), then sleep.
typedef struct ck_pool ck_pool;
ck_pool *ck_pool_create(int threads);
void ck_pool_destroy(ck_pool *pool);
int ck_pool_threads(const ck_pool *pool);
/// Runs `fn(ctx, i, n)` on every worker i in 0..<n and returns when all are done.
void ck_pool_run(ck_pool *pool, void (*fn)(void *ctx, int ith, int nth), void *ctx);

// ---- Ops (all run on the pool) ---------------------------------------------------------------

/// Bytes of a packed copy of a weight [n_out, n_in] for the fastest kernels of this CPU, or 0
/// when `type` has no packed layout at the active SIMD level (then the rows are used as stored).
size_t ck_packed_bytes(ck_type type, int64_t n_out, int64_t n_in);
/// Writes that packed copy to `dst` (64-byte aligned, ck_packed_bytes long).
void ck_pack_weights(ck_type type, const void *w, int64_t n_out, int64_t n_in, void *dst);

/// Scratch bytes ck_matmul needs for `rows` activation rows of length `n_in`.
size_t ck_matmul_scratch_bytes(ck_type type, int64_t rows, int64_t n_in);
/// y[r, o] = sum_i W[o, i] * x[r, i] (+ bias[o]); W is `n_out` rows of `n_in` elements of
/// `type` (row stride = row bytes); x is `rows` x `n_in`, y is `rows` x `n_out` (row-major F32).
/// `packed` (may be NULL) is W's ck_pack_weights copy, used when the active SIMD level still
/// supports it. `scratch` must hold ck_matmul_scratch_bytes and be 64-byte aligned.
void ck_matmul(ck_pool *pool, ck_type type, const void *w, const void *packed, int64_t n_out, int64_t n_in,
               const float *x, int64_t rows, const float *bias, float *y, void *scratch);

/// out[g] = x[g] / sqrt(mean(x[g]^2) + eps) * w for each of `groups` groups of `dim`.
void ck_rmsnorm(ck_pool *pool, const float *x, const float *w, int64_t groups, int64_t dim,
                float eps, float *out);

/// RoPE in place. x is rows x (heads * head_dim); the first `rot_dims` of each head rotate by
/// position[r] * inv_freq[i]. adjacent != 0: pairs (2i, 2i+1); else pairs (i, i + rot_dims/2).
void ck_rope(ck_pool *pool, float *x, int64_t rows, int64_t heads, int64_t head_dim,
             int64_t rot_dims, const int32_t *positions, const float *inv_freq, int adjacent);

/// out[i] = silu(gate[i]) * up[i].
void ck_silu_mul(ck_pool *pool, const float *gate, const float *up, float *out, int64_t n);
/// out[i] = a[i] + b[i].
void ck_add(ck_pool *pool, const float *a, const float *b, float *out, int64_t n);

/// The paged KV cache of one layer. Each block holds `block_size` positions per KV head:
/// V row-major (position o of block b, head h at v + ((b * kv_heads + h) * block_size + o) *
/// head_dim), K transposed within the block (dimension d of position o at
/// k + ((b * kv_heads + h) * head_dim + d) * block_size + o), so the scores of a whole block of
/// keys are computed with vector instructions, one per dimension, without horizontal sums.
typedef struct {
    float *k;
    float *v;
    int64_t kv_heads;
    int64_t head_dim;
    int64_t block_size;
} ck_kv_layer;

/// Writes row r's K and V (rows x kv_heads*head_dim) to `slots[r]` (= block * block_size + offset).
void ck_store_kv(ck_kv_layer layer, const float *k, const float *v, int64_t rows, const int32_t *slots);

/// Causal grouped-query attention. Row r attends to positions 0..positions[r] of its
/// sequence, whose block table is tables + table_offsets[r]. q and out are rows x
/// (heads * head_dim). Softmax is computed online block by block, so memory traffic is the
/// KV read once per (row, kv head) and nothing proportional to the context is stored.
void ck_attention(ck_pool *pool, ck_kv_layer layer, const float *q, int64_t rows, int64_t heads,
                  float scale, const int32_t *positions, const int32_t *tables,
                  const int64_t *table_offsets, float *out);

#ifdef __cplusplus
}
#endif
#endif
