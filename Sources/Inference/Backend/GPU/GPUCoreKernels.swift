// Kernels other than embedding and matrix products (see GPUKernelSource.swift for the dialect;
// GPUBackend.swift launches them). Each matches the CPU backend's op in Sources/CKernels/ops.c
// up to float summation order.
//
// Device data the kernels share with GPUBackend:
// - Activations: F32 rows, `[rows, width]`, each buffer its own allocation (offset 0).
// - The step's integers (GPUBatch): one i32 array, tokens first (GPUMatmul's embed reads them
//   from offset 0), then positions, KV slots (block * block_size + offset), each row's offset
//   into the block tables, and the concatenated block tables. Kernels get the array and the
//   element offset of the part they read (`*_at`).
// - The KV cache: per layer one K and one V allocation of `block_count` blocks; a block holds,
//   per KV head, a `block_size x head_dim` tile, so a block is contiguous per layer (copy-on-write
//   copies whole blocks). V tiles are row-major (`[t][d]`); K tiles are transposed (`[d][t]`, as
//   in the CPU backend) so the threads of attention, one key each, read consecutive addresses.
//
// Indices that can pass 2^31 (offsets into the cache, into `rows * width` buffers) use i64.

extension GPUKernelSource {
    static let coreKernels = #"""
// ---- Core ops (GPUCoreKernels.swift) ----

// RMSNorm of one group of `dim` values per work-group (GROUP_X = group index):
// y = x / sqrt(mean(x^2) + eps) * weight. In place (y == x) is fine: each thread reads its own
// elements before writing them.
KERNEL void rms_norm(GLOBAL const float *x, GLOBAL const float *weight, int dim, float eps, GLOBAL float *y) {
    SHARED float scratch[MAX_GROUP];
    const i64 base = (i64)GROUP_X * dim;
    float squares = 0.0f;
    for (int i = THREAD_ID; i < dim; i += GROUP_SIZE) {
        const float v = x[base + i];
        squares += v * v;
    }
    const float total = group_sum(squares, scratch);
    const float inv = 1.0f / F_SQRT(total / (float)dim + eps);
    for (int i = THREAD_ID; i < dim; i += GROUP_SIZE) y[base + i] = x[base + i] * inv * weight[i];
}

// Rotary embedding, in place. One thread per (head, rotated pair) of row GROUP_Y; pair i turns
// by position * inv_freq[i]. `pairs` = rotated dimensions / 2 (not `half`: an OpenCL type);
// `adjacent`: pairs (2i, 2i+1), else (i, i + pairs).
KERNEL void rope(GLOBAL float *x, int heads, int head_dim, int pairs, int adjacent,
                 GLOBAL const i32 *batch, int positions_at, GLOBAL const float *inv_freq) {
    const int r = GROUP_Y;
    const int j = GROUP_X * GROUP_SIZE + THREAD_ID;
    if (j >= heads * pairs) return;
    const int h = j / pairs, i = j % pairs;
    const float angle = (float)batch[positions_at + r] * inv_freq[i];
    const float c = F_COS(angle), s = F_SIN(angle);
    GLOBAL float *v = x + ((i64)r * heads + h) * head_dim;
    const int i0 = adjacent ? 2 * i : i;
    const int i1 = adjacent ? 2 * i + 1 : i + pairs;
    const float a = v[i0], b = v[i1];
    v[i0] = a * c - b * s;
    v[i1] = a * s + b * c;
}

// Writes row GROUP_Y's keys and values (`[rows, kv_heads * head_dim]`) into its KV slot of one
// layer's cache; one thread per (kv head, dimension).
KERNEL void store_kv(GLOBAL const float *k, GLOBAL const float *v, GLOBAL float *k_cache, GLOBAL float *v_cache,
                     int kv_heads, int head_dim, int block_size, GLOBAL const i32 *batch, int slots_at) {
    const int r = GROUP_Y;
    const int width = kv_heads * head_dim;
    const int j = GROUP_X * GROUP_SIZE + THREAD_ID;
    if (j >= width) return;
    const int h = j / head_dim, d = j % head_dim;
    const int slot = batch[slots_at + r];
    const int block = slot / block_size, offset = slot % block_size;
    const i64 tile = ((i64)block * kv_heads + h) * block_size * head_dim;
    const i64 source = (i64)r * width + j;
    v_cache[tile + (i64)offset * head_dim + d] = v[source];
    k_cache[tile + (i64)d * block_size + offset] = k[source];
}

// Attention work-groups: ATT_THREADS threads (the host launches exactly that many), each
// scoring one key per pass and accumulating ATT_DIMS output dimensions per query head; up to
// ATT_HEADS query heads of one KV head per work-group; head dimensions up to ATT_MAX_DIM (the
// queries are staged in work-group memory).
#define ATT_THREADS 128
#define ATT_HEADS 8
#define ATT_MAX_DIM 256
#define ATT_DIMS (ATT_MAX_DIM / ATT_THREADS)

// Causal grouped-query attention over the paged KV cache of one layer.
//
// Work-group (GROUP_X, row r = GROUP_Y) takes KV head kvh, up to ATT_HEADS of the query heads
// that read it (query head h reads KV head h / (heads / kv_heads)), so each key and value is
// read once for all of them, and one split of the row's keys. Row r attends to positions
// 0 ... position(r) of its own sequence, found through its block table (at tables_at + its
// table offset): a prompt row sees only earlier tokens and itself.
//
// Keys are taken ATT_THREADS at a time, one per thread: its score q.k * scale for each query
// head; then per head the pass's maximum and the softmax are updated online (running maximum m,
// normaliser l, and the weighted sum of values rescaled by exp(m_old - m_new)), as the CPU
// backend does per KV block. Thread t accumulates output dimensions t, t + ATT_THREADS.
//
// Splits (flash-decoding): when a step has few rows, one work-group per (KV head, row) would
// leave most of a GPU idle while it walks a long context alone, so the keys are cut into
// `splits` ranges of `split_keys` (a multiple of ATT_THREADS). With splits == 1 the kernel
// writes the output; otherwise each split writes its (m, l, unnormalised sum) to `partial`,
// `[rows, heads, splits, 2 + head_dim]`, and attention_combine merges them.
KERNEL void attention(GLOBAL const float *q, GLOBAL const float *k_cache, GLOBAL const float *v_cache,
                      int heads, int kv_heads, int head_dim, int block_size, float scale,
                      GLOBAL const i32 *batch, int positions_at, int table_offsets_at, int tables_at,
                      int splits, int split_keys, GLOBAL float *partial, GLOBAL float *out) {
    SHARED float q_rows[ATT_HEADS * ATT_MAX_DIM];
    SHARED float weights[ATT_HEADS * ATT_THREADS];
    SHARED int key_block[ATT_THREADS];
    SHARED float scratch[MAX_GROUP];
    const int tid = THREAD_ID;
    const int r = GROUP_Y;
    const int group = heads / kv_heads;                       // query heads per KV head
    const int parts = (group + ATT_HEADS - 1) / ATT_HEADS;   // work-groups per KV head and split
    const int split = GROUP_X % splits;
    const int kvh = GROUP_X / splits / parts;
    const int first = (GROUP_X / splits % parts) * ATT_HEADS;  // within the KV head's query heads
    const int count_heads = group - first < ATT_HEADS ? group - first : ATT_HEADS;
    const int h0 = kvh * group + first;
    const int length = batch[positions_at + r] + 1;
    // This split's keys; empty for a row shorter than the batch's longest (then m = -inf, l = 0).
    const int begin = split * split_keys;
    const int end = length < begin + split_keys ? length : begin + split_keys;
    GLOBAL const i32 *table = batch + tables_at + batch[table_offsets_at + r];
    const i64 q_base = ((i64)r * heads + h0) * head_dim;      // the group's heads are consecutive
    const i64 tile_size = (i64)block_size * head_dim;
    for (int i = tid; i < count_heads * head_dim; i += ATT_THREADS) q_rows[i] = q[q_base + i];
    SYNC();

    float m[ATT_HEADS], l[ATT_HEADS], correction[ATT_HEADS];
    float acc[ATT_HEADS][ATT_DIMS];
    for (int g = 0; g < ATT_HEADS; g++) {
        m[g] = -INFINITY;
        l[g] = 0.0f;
        correction[g] = 1.0f;
        for (int i = 0; i < ATT_DIMS; i++) acc[g][i] = 0.0f;
    }
    for (int start = begin; start < end; start += ATT_THREADS) {
        const int t = start + tid;
        const int valid = t < end;
        float dot[ATT_HEADS];
        for (int g = 0; g < ATT_HEADS; g++) dot[g] = 0.0f;
        if (valid) {
            const int block = table[t / block_size];
            key_block[tid] = block;
            GLOBAL const float *kt = k_cache + ((i64)block * kv_heads + kvh) * tile_size + t % block_size;
            for (int d = 0; d < head_dim; d++) {
                const float kd = kt[(i64)d * block_size];
                for (int g = 0; g < ATT_HEADS; g++) {
                    if (g < count_heads) dot[g] += q_rows[g * head_dim + d] * kd;
                }
            }
        }
        for (int g = 0; g < ATT_HEADS; g++) {
            if (g < count_heads) {  // the same for every thread of the group: reductions are safe
                const float score = valid ? dot[g] * scale : -INFINITY;
                // Position `start` is always inside the range, so the pass maximum is finite
                // and exp(m - new_max) is 0 on the first pass (m = -inf), never NaN.
                const float new_max = F_FMAX(m[g], group_max(score, scratch));
                correction[g] = F_EXP(m[g] - new_max);
                const float p = valid ? F_EXP(score - new_max) : 0.0f;
                weights[g * ATT_THREADS + tid] = p;
                l[g] = l[g] * correction[g] + group_sum(p, scratch);
                m[g] = new_max;
            }
        }
        SYNC();  // weights and key blocks visible to all (group_sum need not have synchronised)

        // Only positions inside the sequence are read: slots past it may hold anything.
        const int keys = end - start < ATT_THREADS ? end - start : ATT_THREADS;
        for (int i = 0; i < ATT_DIMS; i++) {
            const int d = tid + i * ATT_THREADS;
            if (d < head_dim) {
                for (int g = 0; g < ATT_HEADS; g++) acc[g][i] *= correction[g];
                for (int j = 0; j < keys; j++) {
                    const int tj = start + j;
                    const float vd = v_cache[((i64)key_block[j] * kv_heads + kvh) * tile_size + (i64)(tj % block_size) * head_dim + d];
                    for (int g = 0; g < ATT_HEADS; g++) {
                        if (g < count_heads) acc[g][i] += weights[g * ATT_THREADS + j] * vd;
                    }
                }
            }
        }
        SYNC();  // the next pass overwrites weights and key blocks
    }
    for (int g = 0; g < count_heads; g++) {
        if (splits == 1) {
            const float inv = 1.0f / l[g];
            for (int i = 0; i < ATT_DIMS; i++) {
                const int d = tid + i * ATT_THREADS;
                if (d < head_dim) out[q_base + (i64)g * head_dim + d] = acc[g][i] * inv;
            }
        } else {
            GLOBAL float *p = partial + (((i64)r * heads + h0 + g) * splits + split) * (2 + head_dim);
            if (tid == 0) {
                p[0] = m[g];
                p[1] = l[g];
            }
            for (int i = 0; i < ATT_DIMS; i++) {
                const int d = tid + i * ATT_THREADS;
                if (d < head_dim) p[2 + d] = acc[g][i];
            }
        }
    }
}

// Merges the splits of attention for (head GROUP_X, row GROUP_Y): rescales each split's sum
// and normaliser to the largest maximum (split 0 is never empty, so that maximum is finite and
// empty splits weigh exp(-inf) = 0), then divides.
KERNEL void attention_combine(GLOBAL const float *partial, int heads, int head_dim, int splits, GLOBAL float *out) {
    const int h = GROUP_X, r = GROUP_Y;
    const int stride = 2 + head_dim;
    GLOBAL const float *p = partial + ((i64)r * heads + h) * splits * stride;
    float m = -INFINITY;
    for (int s = 0; s < splits; s++) m = F_FMAX(m, p[s * stride]);
    float l = 0.0f;
    for (int s = 0; s < splits; s++) l += p[s * stride + 1] * F_EXP(p[s * stride] - m);
    const float inv = 1.0f / l;
    for (int d = THREAD_ID; d < head_dim; d += GROUP_SIZE) {
        float a = 0.0f;
        for (int s = 0; s < splits; s++) a += p[s * stride + 2 + d] * F_EXP(p[s * stride] - m);
        out[((i64)r * heads + h) * head_dim + d] = a * inv;
    }
}

// out[i] = silu(gate[i]) * up[i]; out may be gate.
KERNEL void silu_mul(GLOBAL const float *gate, GLOBAL const float *up, GLOBAL float *out, int n) {
    const int i = GROUP_X * GROUP_SIZE + THREAD_ID;
    if (i < n) out[i] = silu(gate[i]) * up[i];
}

// out[i] = a[i] + b[i]; out may be a.
KERNEL void add_f32(GLOBAL const float *a, GLOBAL const float *b, GLOBAL float *out, int n) {
    const int i = GROUP_X * GROUP_SIZE + THREAD_ID;
    if (i < n) out[i] = a[i] + b[i];
}

"""#
}
