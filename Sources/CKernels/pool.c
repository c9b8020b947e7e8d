// A small thread pool tuned for many short jobs: a forward pass issues a few hundred ops per
// token, each only tens of microseconds long, so waking threads through the kernel for every
// op would cost more than the op. Workers therefore spin on a job counter for a while after
// each job and only then sleep on a condition variable (so an idle engine burns no CPU).
#define _GNU_SOURCE
#include "ck_internal.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_PAUSE() _mm_pause()
#else
#define CK_PAUSE() ((void)0)
#endif

// Spin iterations before sleeping: ~100-200 µs with `pause`, longer than the gap between
// two ops, shorter than the time the engine spends between tokens on sampling and I/O.
#define CK_SPIN_LIMIT 4000

struct ck_pool {
    int threads;
    pthread_t *handles;
    void (*fn)(void *, int, int);
    void *ctx;
    _Atomic unsigned generation;  // bumped once per job
    _Atomic int pending;          // workers (other than the caller) still running this job
    _Atomic int sleepers;         // workers blocked on `wake`
    _Atomic int stopping;
    pthread_mutex_t lock;
    pthread_cond_t wake;
};

typedef struct { ck_pool *pool; int index; } worker_arg;

static void *worker_main(void *raw) {
    worker_arg arg = *(worker_arg *)raw;
    free(raw);
    ck_pool *pool = arg.pool;
    unsigned seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen) {
            if (++spins < CK_SPIN_LIMIT) {
                // Mostly pause; now and then let another runnable thread have the core.
                if ((spins & 255) == 0) sched_yield();
                else CK_PAUSE();
                continue;
            }
            // Sleep. Announce it first (seq_cst) so a runner bumping `generation` either sees
            // the announcement and broadcasts, or we see its bump below: no lost wake-up.
            pthread_mutex_lock(&pool->lock);
            atomic_fetch_add(&pool->sleepers, 1);
            while (atomic_load(&pool->generation) == seen) pthread_cond_wait(&pool->wake, &pool->lock);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->lock);
            spins = 0;
        }
        seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (atomic_load(&pool->stopping)) return NULL;
        pool->fn(pool->ctx, arg.index, pool->threads);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
}

ck_pool *ck_pool_create(int threads) {
    if (threads < 1) threads = 1;
    ck_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->threads = threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->handles = calloc((size_t)threads, sizeof(pthread_t));
    if (!pool->handles) { free(pool); return NULL; }
    for (int i = 1; i < threads; i++) {
        worker_arg *arg = malloc(sizeof *arg);
        if (!arg) { pool->threads = i; break; }
        arg->pool = pool;
        arg->index = i;
        if (pthread_create(&pool->handles[i], NULL, worker_main, arg) != 0) {
            free(arg);
            pool->threads = i;  // run with the threads we got
            break;
        }
    }
    return pool;
}

int ck_pool_threads(const ck_pool *pool) { return pool->threads; }

static void start_job(ck_pool *pool) {
    atomic_fetch_add(&pool->generation, 1);
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
}

void ck_pool_run(ck_pool *pool, void (*fn)(void *, int, int), void *ctx) {
    if (pool == NULL || pool->threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store(&pool->pending, pool->threads - 1);
    start_job(pool);
    fn(ctx, 0, pool->threads);
    // Normally the others finish within microseconds. If one was preempted mid-job (a busy
    // machine), spinning would only keep its core from it: after a short spin, yield.
    int spins = 0;
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0) {
        if (++spins < 256) CK_PAUSE();
        else sched_yield();
    }
}

void ck_pool_destroy(ck_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->stopping, 1);
    start_job(pool);
    for (int i = 1; i < pool->threads; i++) pthread_join(pool->handles[i], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    free(pool->handles);
    free(pool);
}
