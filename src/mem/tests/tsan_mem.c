// tsan_mem.c: ThreadSanitizer stress of the allocator's thread caches: blocks freed on other threads, reused.
#include "mem/mem.h"
#include "mem/tests/stress.h"
#include "sys/atomic.h"
#include "sys/hosted/tsan.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

#define NPAIRS 2 // producer/consumer pairs (4 threads on the 2-core machine)
#define RING   256

// A single-producer single-consumer ring of block pointers: the hand-off
// from the thread that allocates to the thread that frees. Only this ring's
// release/acquire orders the producer's writes before the consumer's reads;
// what orders the consumer's free before the block's next owner's writes is
// the allocator itself, and that is what TSan checks here.
struct ring {
    void *slot[RING];
    uint64_t head, tail; // consumer, producer positions
    uint64_t blocks, done;
    uint64_t bad;
};
static struct ring rings[NPAIRS];
static uint32_t gate;

static int producer(void *arg)
{
    struct ring *r = arg;
    uint64_t rng = (uint64_t)(uintptr_t)arg | 1;
    tsan_wait_gate(&gate);
    for (uint64_t i = 0; i < r->blocks; i++) {
        size_t n = random_size(&rng, 64); // one in 64 a big block: mmap'd, unmapped by the consumer
        uint64_t *p = mem_alloc(n);
        if (!p) {
            atomic_add_relaxed(&r->bad, 1);
            continue;
        }
        // Plain writes: the consumer reads them after the ring's hand-off.
        p[0] = n;
        for (size_t w = 1; w < n / 8 && w < 64; w++)
            p[w] = pattern_word(n, w);
        while (atomic_load_acquire(&r->tail) - atomic_load_acquire(&r->head) == RING)
            sys_sched_yield();
        uint64_t t = atomic_load_relaxed(&r->tail);
        r->slot[t % RING] = p;
        atomic_store_release(&r->tail, t + 1);
        // Churn this thread's own cache too: alloc and free at once.
        mem_free(mem_alloc(random_size(&rng, 0)));
    }
    atomic_store_release(&r->done, 1);
    mem_thread_exit();
    return 0;
}

static int consumer(void *arg)
{
    struct ring *r = arg;
    tsan_wait_gate(&gate);
    for (;;) {
        uint64_t h = atomic_load_relaxed(&r->head);
        if (h == atomic_load_acquire(&r->tail)) {
            if (atomic_load_acquire(&r->done) && h == atomic_load_acquire(&r->tail))
                break;
            sys_sched_yield();
            continue;
        }
        uint64_t *p = r->slot[h % RING];
        atomic_store_release(&r->head, h + 1);
        size_t n = p[0];
        for (size_t w = 1; w < n / 8 && w < 64; w++)
            if (p[w] != pattern_word(n, w))
                atomic_add_relaxed(&r->bad, 1);
        mem_free(p); // into this thread's cache, then the central lists, then the producer's cache
    }
    mem_thread_exit();
    return 0;
}

static uint32_t stats_stop;
static int stats_reader(void *arg)
{
    (void)arg;
    uint64_t reads = 0;
    while (!atomic_load_acquire(&stats_stop) || reads == 0) {
        struct mem_stats s;
        mem_stats(&s); // reads every cache's counters while their owners write them
        reads++;
    }
    return 0;
}

// Blocks allocated on one thread are freed on another, flow back through
// the central lists, and are handed out again to the first thread; a reader
// takes mem_stats all the while.
static void alloc_here_free_there(void)
{
    struct sys_thread *t[2 * NPAIRS + 1];
    gate = 0;
    stats_stop = 0;
    for (int i = 0; i < NPAIRS; i++) {
        rings[i] = (struct ring){.blocks = tsan_iters(200000)};
        CHECK_EQ(sys_thread_spawn(&t[2 * i], producer, &rings[i], 0), 0);
        CHECK_EQ(sys_thread_spawn(&t[2 * i + 1], consumer, &rings[i], 0), 0);
    }
    CHECK_EQ(sys_thread_spawn(&t[2 * NPAIRS], stats_reader, NULL, 0), 0);
    atomic_store_release(&gate, 1);
    for (int i = 0; i < 2 * NPAIRS; i++)
        sys_thread_join(t[i]);
    atomic_store_release(&stats_stop, 1);
    sys_thread_join(t[2 * NPAIRS]);
    for (int i = 0; i < NPAIRS; i++)
        CHECK_EQ(rings[i].bad, 0);
    struct mem_stats s;
    mem_stats(&s);
    CHECK_EQ(s.in_use, 0); // every block came back
    CHECK_EQ(s.cached, 0); // and every exited thread gave its cache back
}

// Short-lived threads claim a cache, use it and give it back, while others
// do the same: cache_claim and mem_thread_exit race on the pool.
static int short_lived(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 2 + 1;
    void *keep[16];
    for (int i = 0; i < 16; i++)
        keep[i] = mem_alloc(random_size(&rng, 0));
    for (int i = 0; i < 16; i++)
        mem_free(keep[i]);
    mem_thread_exit();
    return 0;
}

static void caches_claimed_and_given_back(void)
{
    uint64_t rounds = tsan_iters(2000);
    for (uint64_t r = 0; r < rounds; r++) {
        struct sys_thread *t[4];
        for (int i = 0; i < 4; i++)
            CHECK_EQ(sys_thread_spawn(&t[i], short_lived, (void *)(uintptr_t)(r * 4 + (uint64_t)i), 0), 0);
        for (int i = 0; i < 4; i++)
            sys_thread_join(t[i]);
    }
    struct mem_stats s;
    mem_stats(&s);
    CHECK_EQ(s.in_use, 0);
    CHECK_EQ(s.cached, 0);
}

int main(void)
{
    RUN(alloc_here_free_there);
    RUN(caches_claimed_and_given_back);
    return test_summary();
}
