// test_mem_threads.c: stage-2 tests under many threads: no overlap, no corruption, no stranding.
#include "config.h"
#include "mem/mem.h"
#include "mem/tests/stress.h"
#include "sys/atomic.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

// The workloads below are sized for the default heap; smaller heaps run out.
_Static_assert(HEAP_SIZE >= (16ul << 20), "the stage-2 tests need HEAP_SIZE of at least 16 MB");

#define NTHREADS 8

static uint32_t go; // threads spin until the main thread sets it, to start together

static void wait_for_go(void)
{
    while (!atomic_load_acquire(&go))
        sys_sched_yield();
}

static struct sys_thread *spawn(int (*fn)(void *), void *arg)
{
    struct sys_thread *t = NULL;
    if (sys_thread_spawn(&t, fn, arg, THREAD_STACK_SIZE) != 0)
        sys_panic("test: cannot spawn a thread");
    return t;
}

// ---- first use from many threads at once --------------------------------------------
static void *first_blocks[NTHREADS];

static int first_alloc(void *arg)
{
    long id = (long)arg;
    wait_for_go();
    first_blocks[id] = mem_alloc(64);
    mem_thread_exit();
    return 0;
}

// Runs first in this process: the allocator is initialised by whichever of
// eight threads gets there first, while the others call in too.
static void first_use_from_many_threads(void)
{
    struct sys_thread *t[NTHREADS];
    go = 0;
    for (long i = 0; i < NTHREADS; i++)
        t[i] = spawn(first_alloc, (void *)i);
    atomic_store_release(&go, 1);
    for (int i = 0; i < NTHREADS; i++)
        sys_thread_join(t[i]);
    for (int i = 0; i < NTHREADS; i++) {
        CHECK(first_blocks[i] != NULL);
        for (int j = 0; j < i; j++)
            CHECK(first_blocks[i] != first_blocks[j]);
    }
    for (int i = 0; i < NTHREADS; i++)
        mem_free(first_blocks[i]); // freed by another thread than the allocating one
    struct mem_stats st;
    mem_stats(&st);
    CHECK_EQ(st.in_use, 0);
}

// ---- random sizes, own and shared blocks, full patterns ------------------------------
#define OWN_SLOTS      96
#define SHARED_SLOTS   256
#define OPS_PER_THREAD 12000

static struct shared_slot shared[SHARED_SLOTS];

struct own_slot {
    void *p;
    size_t n;
    uint64_t tag;
};

// Allocates a block for slot-like use, checks the contract, fills its pattern.
static void *new_block(uint64_t *rng, size_t *n_out, uint64_t tag)
{
    size_t n = random_size(rng, 200);
    void *p = mem_alloc(n);
    CHECK(p != NULL);
    if (!p)
        return NULL;
    CHECK_EQ((uintptr_t)p % 16, 0);
    CHECK(mem_usable_size(p) >= n);
    pattern_fill(p, n, tag);
    *n_out = n;
    return p;
}

static void drop_block(void *p, size_t n, uint64_t tag)
{
    if (!p)
        return;
    CHECK(pattern_ok(p, n, tag));
    mem_free(p);
}

static int random_worker(void *arg)
{
    long id = (long)arg;
    uint64_t rng = 0x1234567 + (uint64_t)id * 7919, tag = (uint64_t)id << 48;
    struct own_slot own[OWN_SLOTS] = {0};
    wait_for_go();
    for (int op = 0; op < OPS_PER_THREAD; op++) {
        uint64_t r = rng_next(&rng);
        if (r % 4 == 0) {
            // Swap a block into a shared slot; free what was there.
            size_t n = 0;
            void *p = new_block(&rng, &n, ++tag);
            struct shared_slot old;
            slot_swap(&shared[(r >> 8) % SHARED_SLOTS], p, n, tag, &old);
            drop_block(old.p, old.n, old.tag);
        } else {
            struct own_slot *o = &own[(r >> 8) % OWN_SLOTS];
            drop_block(o->p, o->n, o->tag);
            o->p = new_block(&rng, &o->n, ++tag);
            o->tag = tag;
        }
    }
    for (int i = 0; i < OWN_SLOTS; i++)
        drop_block(own[i].p, own[i].n, own[i].tag);
    mem_thread_exit();
    return 0;
}

static void eight_threads_random_sizes(void)
{
    struct sys_thread *t[NTHREADS];
    go = 0;
    for (long i = 0; i < NTHREADS; i++)
        t[i] = spawn(random_worker, (void *)i);
    atomic_store_release(&go, 1);
    for (int i = 0; i < NTHREADS; i++)
        sys_thread_join(t[i]);
    for (int i = 0; i < SHARED_SLOTS; i++)
        drop_block(shared[i].p, shared[i].n, shared[i].tag);
    mem_thread_exit();
    struct mem_stats st;
    mem_stats(&st);
    CHECK_EQ(st.in_use, 0);
    CHECK_EQ(st.cached, 0);
    CHECK_EQ(st.heap_used, 0); // every chunk came back to the arena
    CHECK_EQ(st.big_blocks, 0);
    CHECK_EQ(st.allocs, st.frees);
    CHECK_EQ(st.failed, 0);
}

// ---- caches are bounded, and thread exit gives them back -----------------------------
static int fill_cache_and_leave(void *arg)
{
    long leave_properly = (long)arg;
    static void *blocks[4000];
    for (int i = 0; i < 4000; i++)
        blocks[i] = mem_alloc(1 + i % 2000);
    for (int i = 0; i < 4000; i++)
        mem_free(blocks[i]);
    if (leave_properly)
        mem_thread_exit();
    return 0;
}

static void thread_exit_leaves_nothing_cached(void)
{
    struct mem_stats st;
    sys_thread_join(spawn(fill_cache_and_leave, (void *)0));
    mem_stats(&st);
    // Left without mem_thread_exit: its cache strands a bounded amount.
    CHECK(st.cached > 0);
    CHECK(st.cached <= MEM_CACHE_BYTES);
    size_t stranded = st.cached;
    sys_thread_join(spawn(fill_cache_and_leave, (void *)1));
    mem_stats(&st);
    CHECK_EQ(st.cached, stranded); // the proper exit added nothing
    CHECK_EQ(st.in_use, 0);
}

// ---- more threads than caches --------------------------------------------------------
#define MANY (MEM_MAX_CACHES + 6)
static uint32_t holding;

static int hold_a_cache(void *arg)
{
    long id = (long)arg;
    void *p[32];
    for (int i = 0; i < 32; i++) {
        p[i] = mem_alloc(24 + (size_t)id);
        CHECK(p[i] != NULL);
        if (p[i])
            pattern_fill(p[i], 24, (uint64_t)id * 100 + (uint64_t)i);
    }
    // Keep the cache claimed until every thread has one or has found none.
    atomic_fetch_add(&holding, 1);
    while (atomic_load_acquire(&holding) < MANY)
        sys_sched_yield();
    for (int i = 0; i < 32; i++) {
        CHECK(p[i] && pattern_ok(p[i], 24, (uint64_t)id * 100 + (uint64_t)i));
        mem_free(p[i]);
    }
    mem_thread_exit();
    return 0;
}

static void more_threads_than_caches(void)
{
    static struct sys_thread *t[MANY];
    holding = 0;
    for (long i = 0; i < MANY; i++)
        t[i] = spawn(hold_a_cache, (void *)i);
    for (int i = 0; i < MANY; i++)
        sys_thread_join(t[i]);
    struct mem_stats st;
    mem_stats(&st);
    CHECK_EQ(st.in_use, 0);
}

int main(void)
{
    RUN(first_use_from_many_threads);
    RUN(eight_threads_random_sizes);
    RUN(thread_exit_leaves_nothing_cached);
    RUN(more_threads_than_caches);
    return test_summary();
}
