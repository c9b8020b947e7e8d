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

// Largest head dimension attention supports (the query is staged in work-group memory), and
// the head dimensions one thread accumulates at the smallest group (ATT_MAX_DIM / 32).
#define ATT_MAX_DIM 256
#define ATT_PER_THREAD 8

// Causal grouped-query attention over the paged KV cache of one layer. One work-group per
// (query head h = GROUP_X, row r = GROUP_Y); it reads KV head h / (heads / kv_heads) of the
// row's own sequence (block table at tables_at + its table offset) at positions
// 0 ... position(r), so a prompt row sees only earlier tokens and itself.
//
// Keys are taken GROUP_SIZE at a time, one per thread: its score q·k * scale; then the chunk's
// maximum and the softmax is updated online (running maximum m, normaliser l, and every
// thread's share of the weighted sum of values rescaled by exp(m_old - m_new)), as the CPU
// backend does per KV block. Thread t accumulates output dimensions t, t + GROUP_SIZE, ...
KERNEL void attention(GLOBAL const float *q, GLOBAL const float *k_cache, GLOBAL const float *v_cache,
                      int heads, int kv_heads, int head_dim, int block_size, float scale,
                      GLOBAL const i32 *batch, int positions_at, int table_offsets_at, int tables_at,
                      GLOBAL float *out) {
    SHARED float q_row[ATT_MAX_DIM];
    SHARED float weights[MAX_GROUP];
    SHARED float scratch[MAX_GROUP];
    const int h = GROUP_X, r = GROUP_Y;
    const int kvh = h / (heads / kv_heads);
    const int length = batch[positions_at + r] + 1;
    GLOBAL const i32 *table = batch + tables_at + batch[table_offsets_at + r];
    const i64 q_base = ((i64)r * heads + h) * head_dim;
    const i64 tile_size = (i64)block_size * head_dim;
    for (int d = THREAD_ID; d < head_dim; d += GROUP_SIZE) q_row[d] = q[q_base + d];
    SYNC();

    float acc[ATT_PER_THREAD];
    for (int i = 0; i < ATT_PER_THREAD; i++) acc[i] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    for (int start = 0; start < length; start += GROUP_SIZE) {
        const int t = start + THREAD_ID;
        float score = -INFINITY;
        if (t < length) {
            GLOBAL const float *kt = k_cache + ((i64)table[t / block_size] * kv_heads + kvh) * tile_size + t % block_size;
            float dot = 0.0f;
            for (int d = 0; d < head_dim; d++) dot += q_row[d] * kt[(i64)d * block_size];
            score = dot * scale;
        }
        // Position `start` is always inside the sequence, so the chunk maximum is finite and
        // exp(m - new_max) is 0 on the first chunk (m = -inf), never NaN.
        const float new_max = F_FMAX(m, group_max(score, scratch));
        const float correction = F_EXP(m - new_max);
        const float p = t < length ? F_EXP(score - new_max) : 0.0f;
        weights[THREAD_ID] = p;
        l = l * correction + group_sum(p, scratch);
        m = new_max;
        SYNC();  // every thread's weight is visible (group_sum need not have synchronised)

        // Only positions inside the sequence are read: slots past it may hold anything.
        const int count = length - start < GROUP_SIZE ? length - start : GROUP_SIZE;
        for (int i = 0; i < ATT_PER_THREAD; i++) {
            const int d = THREAD_ID + i * GROUP_SIZE;
            if (d < head_dim) {
                float a = acc[i] * correction;
                for (int j = 0; j < count; j++) {
                    const int tj = start + j;
                    const i64 row = ((i64)table[tj / block_size] * kv_heads + kvh) * tile_size + (i64)(tj % block_size) * head_dim;
                    a += weights[j] * v_cache[row + d];
                }
                acc[i] = a;
            }
        }
        SYNC();  // the next chunk overwrites `weights`
    }
    const float inv = 1.0f / l;
    for (int i = 0; i < ATT_PER_THREAD; i++) {
        const int d = THREAD_ID + i * GROUP_SIZE;
        if (d < head_dim) out[q_base + d] = acc[i] * inv;
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
