// Shared between the CKernels source files; not part of the public header.
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H

#include "ckernels.h"

// One activation row quantized for the integer kernels: `n` int8 values, a float scale per
// 32 values, and the integer sum of each 16 values (the weight formats with an offset —
// Q4_0's -8, Q4_K's minimum, Q6_K's -32 — fold it in as offset * sum instead of per element).
typedef struct {
    const int8_t *qs;
    const float *d;
    const int16_t *s16;
    // 128 * d * (sum of the block's 32 values), per block: the offset term of the packed Q8_0
    // kernel, whose weights are stored +128 (see packed_avx512.c).
    const float *e;
} ck_act;

// Bytes of one quantized activation row in scratch (64-byte multiple so rows stay aligned).
size_t ck_act_row_bytes(int64_t n);
// Quantizes `n` floats into the row at `dst` (laid out qs | d | s16 | e) and returns its view.
ck_act ck_quantize_act(const float *x, void *dst, int64_t n);
// The Q8_K-style variant for Q4_K/Q6_K weights (one scale per 256 values), same layout.
ck_act ck_quantize_act_k(const float *x, void *dst, int64_t n);
// The quantizer that matches llama.cpp for weights of `type`.
ck_act ck_quantize_act_for(ck_type type, const float *x, void *dst, int64_t n);
ck_act ck_act_view(const void *row, int64_t n);

// Most activation rows a kernel call handles at once (a tile reuses each weight block for
// all of them while it is in registers).
#define CK_TILE 4

// Integer kernels: out[j] = W_row · x[j] for j < nx (nx <= CK_TILE).
typedef void (*ck_qdot_fn)(int64_t n, const void *w, const ck_act *x, int nx, float *out);
// Float kernels: out[j] = W_row · x[j] for j < nx.
typedef void (*ck_fdot_fn)(int64_t n, const void *w, const float *const *x, int nx, float *out);

typedef struct {
    ck_qdot_fn qdot;  // non-null for integer-quantized types
    ck_fdot_fn fdot;  // non-null for float types
} ck_kernels;

// The scalar kernels (always available) and the best for the active features.
ck_kernels ck_scalar_kernels(ck_type type);
ck_kernels ck_best_kernels(ck_type type);

// SIMD kernel tables (NULL entries where a level has no specialised kernel).
ck_kernels ck_avx2_kernels(ck_type type);
ck_kernels ck_avx512_kernels(ck_type type);

// Packed weight layouts (AVX-512 only; see packed_avx512.c).
size_t ck_packed_bytes_avx512(ck_type type, int64_t n_out, int64_t n_in);
void ck_pack_avx512(ck_type type, const void *w, int64_t n_out, int64_t n_in, void *dst);
// Runs the packed kernel for output groups [g_begin, g_end) of 16 rows against all x rows.
void ck_packed_groups_avx512(ck_type type, const void *packed, int64_t n_out, int64_t n_in,
                             const float *x, const uint8_t *act, size_t act_row_bytes, int64_t rows,
                             const float *bias, float *y, int64_t g_begin, int64_t g_end);

// AVX-512 attention for one row and `count` query heads sharing KV head `kvh` (see
// attention_avx512.c); usable when the block size is a multiple of 16 and head_dim of 16.
int ck_attention_avx512_supported(int64_t block_size, int64_t head_dim);
void ck_attend_avx512(ck_kv_layer layer, const float *q, float *out, int64_t count, int64_t kvh,
                      float scale, int64_t length, const int32_t *table);

// AVX-512 element-wise kernels (elementwise_avx512.c), used when ck_elementwise_avx512().
int ck_elementwise_avx512(void);
void ck_silu_mul_avx512(const float *gate, const float *up, float *out, int64_t n);
void ck_quantize_act_avx512(const float *x, uint8_t *dst, int64_t n);

// Float helpers with SIMD dispatch (attention and norms use them).
float ck_vec_dot_f32(const float *a, const float *b, int64_t n);
void ck_vec_mad_f32(float *y, const float *x, float a, int64_t n);  // y += a * x
void ck_vec_scale_f32(float *y, float a, int64_t n);                 // y *= a

// Splits `total` items into contiguous ranges for worker `ith` of `nth`.
static inline void ck_split(int64_t total, int ith, int nth, int64_t *begin, int64_t *end) {
    int64_t per = (total + nth - 1) / nth;
    *begin = per * ith < total ? per * ith : total;
    *end = *begin + per < total ? *begin + per : total;
}

#endif
