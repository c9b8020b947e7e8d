// The ops of a forward pass, each split over the thread pool.
#include "ck_internal.h"
#include <math.h>
#include <stdatomic.h>
#include <string.h>

// ---- Matmul ----------------------------------------------------------------------------------

size_t ck_packed_bytes(ck_type type, int64_t n_out, int64_t n_in) {
    return ck_packed_bytes_avx512(type, n_out, n_in);
}

void ck_pack_weights(ck_type type, const void *w, int64_t n_out, int64_t n_in, void *dst) {
    ck_pack_avx512(type, w, n_out, n_in, dst);
}

size_t ck_matmul_scratch_bytes(ck_type type, int64_t rows, int64_t n_in) {
    ck_kernels k = ck_scalar_kernels(type);
    return k.qdot ? (size_t)rows * ck_act_row_bytes(n_in) : 0;
}

typedef struct {
    ck_kernels k;
    const uint8_t *w;
    const void *packed;    // 16-row interleaved copy (work items are then groups of 16 rows)
    ck_type type;
    size_t w_row_bytes;
    int64_t n_out, n_in, rows;
    const float *x;
    const float *bias;
    float *y;
    uint8_t *act;          // quantized activation rows (integer kernels)
    size_t act_row_bytes;
    int64_t chunk;         // weight rows per work item
    int64_t chunks;
    _Atomic int64_t next;  // next work item (dynamic: a busy core takes fewer)
} matmul_job;

static void quantize_rows_task(void *raw, int ith, int nth) {
    matmul_job *job = raw;
    int64_t begin, end;
    ck_split(job->rows, ith, nth, &begin, &end);
    for (int64_t r = begin; r < end; r++) {
        ck_quantize_act_for(job->type, job->x + r * job->n_in, job->act + r * job->act_row_bytes, job->n_in);
    }
}

// One work item: a chunk of weight rows against every activation row. The chunk (a few KiB
// to a few tens of KiB) stays in L1/L2 while the activation rows stream past it in tiles of
// CK_TILE, and within a tile each weight block is loaded once for all CK_TILE rows.
static void matmul_chunk(matmul_job *job, int64_t item) {
    int64_t o_begin = item * job->chunk;
    int64_t o_end = o_begin + job->chunk < job->n_out ? o_begin + job->chunk : job->n_out;
    float out[CK_TILE];
    for (int64_t r0 = 0; r0 < job->rows; r0 += CK_TILE) {
        int nx = job->rows - r0 < CK_TILE ? (int)(job->rows - r0) : CK_TILE;
        ck_act acts[CK_TILE];
        const float *xs[CK_TILE];
        for (int j = 0; j < nx; j++) {
            if (job->k.qdot) acts[j] = ck_act_view(job->act + (r0 + j) * job->act_row_bytes, job->n_in);
            else xs[j] = job->x + (r0 + j) * job->n_in;
        }
        for (int64_t o = o_begin; o < o_end; o++) {
            const uint8_t *w = job->w + o * job->w_row_bytes;
            if (job->k.qdot) job->k.qdot(job->n_in, w, acts, nx, out);
            else job->k.fdot(job->n_in, w, xs, nx, out);
            float b = job->bias ? job->bias[o] : 0.0f;
            for (int j = 0; j < nx; j++) job->y[(r0 + j) * job->n_out + o] = out[j] + b;
        }
    }
}

static void matmul_task(void *raw, int ith, int nth) {
    matmul_job *job = raw;
    (void)ith;
    (void)nth;
    for (;;) {
        int64_t item = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (item >= job->chunks) break;
        if (job->packed) {
            int64_t groups = (job->n_out + 15) / 16;
            int64_t g0 = item * job->chunk, g1 = g0 + job->chunk < groups ? g0 + job->chunk : groups;
            ck_packed_groups_avx512(job->type, job->packed, job->n_out, job->n_in, job->x, job->act,
                                    job->act_row_bytes, job->rows, job->bias, job->y, g0, g1);
        } else {
            matmul_chunk(job, item);
        }
    }
}

void ck_matmul(ck_pool *pool, ck_type type, const void *w, const void *packed, int64_t n_out, int64_t n_in,
               const float *x, int64_t rows, const float *bias, float *y, void *scratch) {
    matmul_job job;
    memset(&job, 0, sizeof job);
    job.k = ck_best_kernels(type);
    job.w = w;
    job.type = type;
    // The packed copy is only usable while the SIMD level that made it is active.
    job.packed = packed && ck_packed_bytes(type, n_out, n_in) > 0 ? packed : NULL;
    job.w_row_bytes = (size_t)(n_in / ck_block_elements(type)) * (size_t)ck_block_bytes(type);
    job.n_out = n_out;
    job.n_in = n_in;
    job.rows = rows;
    job.x = x;
    job.bias = bias;
    job.y = y;
    job.act = scratch;
    job.act_row_bytes = ck_act_row_bytes(n_in);
    int nth = pool ? ck_pool_threads(pool) : 1;
    // Enough items that two cores finish together even if one is interrupted, few enough that
    // the shared counter stays cheap.
    // Packed: items are groups of 16 rows.
    int64_t units = job.packed ? (n_out + 15) / 16 : n_out;
    int64_t chunk = job.packed ? 4 : 16;
    while (chunk > 1 && units / chunk < 8 * nth) chunk /= 2;
    job.chunk = chunk;
    job.chunks = (units + chunk - 1) / chunk;
    atomic_store(&job.next, 0);
    if (job.k.qdot) {
        if (rows >= 8 && pool) ck_pool_run(pool, quantize_rows_task, &job);
        else quantize_rows_task(&job, 0, 1);
    }
    ck_pool_run(pool, matmul_task, &job);
}

// ---- Element-wise ops --------------------------------------------------------------------------

typedef struct {
    const float *a, *b, *w;
    float *out;
    int64_t n, groups, dim;
    float eps;
} elementwise_job;

static void rmsnorm_task(void *raw, int ith, int nth) {
    elementwise_job *job = raw;
    int64_t begin, end;
    ck_split(job->groups, ith, nth, &begin, &end);
    for (int64_t g = begin; g < end; g++) {
        const float *x = job->a + g * job->dim;
        float *y = job->out + g * job->dim;
        float ss = ck_vec_dot_f32(x, x, job->dim);
        float inv = 1.0f / sqrtf(ss / (float)job->dim + job->eps);
        for (int64_t i = 0; i < job->dim; i++) y[i] = x[i] * inv * job->w[i];
    }
}

void ck_rmsnorm(ck_pool *pool, const float *x, const float *w, int64_t groups, int64_t dim,
                float eps, float *out) {
    elementwise_job job = {.a = x, .w = w, .out = out, .groups = groups, .dim = dim, .eps = eps};
    if (groups * dim < 16384) rmsnorm_task(&job, 0, 1);
    else ck_pool_run(pool, rmsnorm_task, &job);
}

static void silu_task(void *raw, int ith, int nth) {
    elementwise_job *job = raw;
    int64_t begin, end;
    ck_split(job->n, ith, nth, &begin, &end);
    if (ck_elementwise_avx512()) {
        ck_silu_mul_avx512(job->a + begin, job->b + begin, job->out + begin, end - begin);
        return;
    }
    for (int64_t i = begin; i < end; i++) {
        float g = job->a[i];
        job->out[i] = g / (1.0f + expf(-g)) * job->b[i];
    }
}

void ck_silu_mul(ck_pool *pool, const float *gate, const float *up, float *out, int64_t n) {
    elementwise_job job = {.a = gate, .b = up, .out = out, .n = n};
    if (n < 8192) silu_task(&job, 0, 1);
    else ck_pool_run(pool, silu_task, &job);
}

static void add_task(void *raw, int ith, int nth) {
    elementwise_job *job = raw;
    int64_t begin, end;
    ck_split(job->n, ith, nth, &begin, &end);
    for (int64_t i = begin; i < end; i++) job->out[i] = job->a[i] + job->b[i];
}

void ck_add(ck_pool *pool, const float *a, const float *b, float *out, int64_t n) {
    elementwise_job job = {.a = a, .b = b, .out = out, .n = n};
    if (n < 65536) add_task(&job, 0, 1);
    else ck_pool_run(pool, add_task, &job);
}

// ---- RoPE ----------------------------------------------------------------------------------------

typedef struct {
    float *x;
    int64_t rows, heads, head_dim, rot_dims;
    const int32_t *positions;
    const float *inv_freq;
    int adjacent;
} rope_job;

static void rope_task(void *raw, int ith, int nth) {
    rope_job *job = raw;
    int64_t begin, end;
    ck_split(job->rows, ith, nth, &begin, &end);
    int64_t half = job->rot_dims / 2;
    float cosv[256], sinv[256];  // half <= 256 (checked by the caller)
    for (int64_t r = begin; r < end; r++) {
        // One sin/cos per frequency per row, shared by all heads of the row.
        for (int64_t i = 0; i < half; i++) {
            float angle = (float)job->positions[r] * job->inv_freq[i];
            cosv[i] = cosf(angle);
            sinv[i] = sinf(angle);
        }
        for (int64_t h = 0; h < job->heads; h++) {
            float *v = job->x + (r * job->heads + h) * job->head_dim;
            for (int64_t i = 0; i < half; i++) {
                int64_t i0 = job->adjacent ? 2 * i : i;
                int64_t i1 = job->adjacent ? 2 * i + 1 : i + half;
                float a = v[i0], b = v[i1];
                v[i0] = a * cosv[i] - b * sinv[i];
                v[i1] = a * sinv[i] + b * cosv[i];
            }
        }
    }
}

void ck_rope(ck_pool *pool, float *x, int64_t rows, int64_t heads, int64_t head_dim,
             int64_t rot_dims, const int32_t *positions, const float *inv_freq, int adjacent) {
    rope_job job = {x, rows, heads, head_dim, rot_dims, positions, inv_freq, adjacent};
    if (rows < 4) rope_task(&job, 0, 1);
    else ck_pool_run(pool, rope_task, &job);
}

// ---- KV cache and attention --------------------------------------------------------------------

void ck_store_kv(ck_kv_layer layer, const float *k, const float *v, int64_t rows, const int32_t *slots) {
    int64_t hd = layer.head_dim, width = layer.kv_heads * hd;
    for (int64_t r = 0; r < rows; r++) {
        int64_t block = slots[r] / layer.block_size, offset = slots[r] % layer.block_size;
        for (int64_t h = 0; h < layer.kv_heads; h++) {
            int64_t base = (block * layer.kv_heads + h) * layer.block_size * hd;
            memcpy(layer.v + base + offset * hd, v + r * width + h * hd, (size_t)hd * 4);
            const float *kr = k + r * width + h * hd;
            float *kt = layer.k + base + offset;  // transposed: stride block_size per dimension
            for (int64_t d = 0; d < hd; d++) kt[d * layer.block_size] = kr[d];
        }
    }
}

// Query heads handled together per pass over the KV (they share one KV head under GQA).
#define ATT_GROUP 16
#define ATT_MAX_HEAD_DIM 256
#define ATT_MAX_BLOCK 256

typedef struct {
    ck_kv_layer layer;
    const float *q;
    float *out;
    int64_t rows, heads;
    float scale;
    const int32_t *positions;
    const int32_t *tables;
    const int64_t *table_offsets;
    _Atomic int64_t next;
} attention_job;

// Online softmax over the row's blocks (as in FlashAttention): keep a running maximum m,
// normaliser l and weighted sum acc; each block rescales them once. Only the scores of one
// block are ever stored.
static void attend(attention_job *job, int64_t r, int64_t kvh, int64_t h0, int64_t count) {
    ck_kv_layer L = job->layer;
    int64_t hd = L.head_dim, bs = L.block_size;
    int64_t length = (int64_t)job->positions[r] + 1;
    const int32_t *table = job->tables + job->table_offsets[r];
    float m[ATT_GROUP], l[ATT_GROUP];
    float acc[ATT_GROUP][ATT_MAX_HEAD_DIM];
    float s[ATT_GROUP][ATT_MAX_BLOCK];
    const float *q[ATT_GROUP];
    for (int64_t g = 0; g < count; g++) {
        m[g] = -INFINITY;
        l[g] = 0;
        memset(acc[g], 0, (size_t)hd * 4);
        q[g] = job->q + (r * job->heads + h0 + g) * hd;
    }
    for (int64_t start = 0, b = 0; start < length; start += bs, b++) {
        int64_t n = length - start < bs ? length - start : bs;
        size_t base = (size_t)((table[b] * L.kv_heads + kvh) * bs) * (size_t)hd;
        const float *K = L.k + base, *V = L.v + base;
        for (int64_t g = 0; g < count; g++) {
            float block_max = -INFINITY;
            for (int64_t t = 0; t < n; t++) {
                float score = 0;
                for (int64_t d = 0; d < hd; d++) score += q[g][d] * K[d * bs + t];
                score *= job->scale;
                s[g][t] = score;
                if (score > block_max) block_max = score;
            }
            float new_max = block_max > m[g] ? block_max : m[g];
            float correction = expf(m[g] - new_max);  // 0 on the first block (m = -inf)
            if (correction != 1.0f) {
                ck_vec_scale_f32(acc[g], correction, hd);
                l[g] *= correction;
            }
            m[g] = new_max;
            for (int64_t t = 0; t < n; t++) {
                float p = expf(s[g][t] - new_max);
                l[g] += p;
                ck_vec_mad_f32(acc[g], V + t * hd, p, hd);
            }
        }
    }
    for (int64_t g = 0; g < count; g++) {
        float *o = job->out + (r * job->heads + h0 + g) * hd;
        float inv = 1.0f / l[g];
        for (int64_t i = 0; i < hd; i++) o[i] = acc[g][i] * inv;
    }
}

static void attention_task(void *raw, int ith, int nth) {
    attention_job *job = raw;
    (void)ith;
    (void)nth;
    int64_t kvh = job->layer.kv_heads, group = job->heads / kvh;
    int64_t items = job->rows * kvh;
    int fast = ck_attention_avx512_supported(job->layer.block_size, job->layer.head_dim);
    for (;;) {
        int64_t item = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (item >= items) break;
        int64_t r = item / kvh, h = item % kvh;
        for (int64_t g0 = 0; g0 < group; g0 += ATT_GROUP) {
            int64_t count = group - g0 < ATT_GROUP ? group - g0 : ATT_GROUP;
            if (fast) {
                ck_attend_avx512(job->layer, job->q + (r * job->heads + h * group + g0) * job->layer.head_dim,
                                 job->out + (r * job->heads + h * group + g0) * job->layer.head_dim, count, h,
                                 job->scale, (int64_t)job->positions[r] + 1, job->tables + job->table_offsets[r]);
            } else {
                attend(job, r, h, h * group + g0, count);
            }
        }
    }
}

void ck_attention(ck_pool *pool, ck_kv_layer layer, const float *q, int64_t rows, int64_t heads,
                  float scale, const int32_t *positions, const int32_t *tables,
                  const int64_t *table_offsets, float *out) {
    attention_job job;
    memset(&job, 0, sizeof job);
    job.layer = layer;
    job.q = q;
    job.out = out;
    job.rows = rows;
    job.heads = heads;
    job.scale = scale;
    job.positions = positions;
    job.tables = tables;
    job.table_offsets = table_offsets;
    atomic_store(&job.next, 0);
    ck_pool_run(pool, attention_task, &job);
}
