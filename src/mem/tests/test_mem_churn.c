// test_mem_churn.c: stage-2 test: millions of mixed operations across threads keep the heap flat.
#include "config.h"
#include "mem/mem.h"
#include "mem/tests/stress.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

// The workloads below are sized for the default heap; smaller heaps run out.
_Static_assert(HEAP_SIZE >= (16ul << 20), "the stage-2 tests need HEAP_SIZE of at least 16 MB");

#define NTHREADS   4
#define SLOTS      512
#define TOTAL_OPS  2000000 // alloc+free pairs, all threads together
#define WARMUP_OPS (TOTAL_OPS / 10)

static struct shared_slot slots[SLOTS];

struct phase {
    long id;
    long ops;
    uint64_t seed;
};

// Each op: a new block of a random size goes into a random shared slot and
// the block that was there is checked and freed. With NTHREADS threads, a
// block is freed by another thread than its own (NTHREADS-1)/NTHREADS of the
// time. The live set stays SLOTS blocks, so a sound allocator needs no more
// heap after the warm-up; a leak of one block per thousand ops would need
// megabytes more.
static int churn(void *arg)
{
    struct phase *ph = arg;
    uint64_t rng = ph->seed, tag = (uint64_t)ph->id << 56 | ph->seed << 32;
    for (long op = 0; op < ph->ops; op++) {
        size_t n = random_size(&rng, 512);
        void *p = mem_alloc(n);
        if (!p) {
            CHECK(p != NULL);
            break;
        }
        ends_fill(p, n, ++tag);
        struct shared_slot old;
        slot_swap(&slots[rng_next(&rng) % SLOTS], p, n, tag, &old);
        if (old.p) {
            CHECK(ends_ok(old.p, old.n, old.tag));
            mem_free(old.p);
        }
    }
    mem_thread_exit();
    return 0;
}

static void run_phase(long ops_per_thread, uint64_t seed)
{
    struct phase ph[NTHREADS];
    struct sys_thread *t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++) {
        ph[i] = (struct phase){.id = i, .ops = ops_per_thread, .seed = seed + (uint64_t)i * 1000003};
        if (sys_thread_spawn(&t[i], churn, &ph[i], THREAD_STACK_SIZE) != 0)
            sys_panic("test: cannot spawn a thread");
    }
    for (int i = 0; i < NTHREADS; i++)
        sys_thread_join(t[i]);
}

static void churn_keeps_high_water_flat(void)
{
    struct mem_stats warm, end;
    uint64_t t0 = sys_now_ns();
    // The blocks in the slots live on from one phase to the next.
    run_phase(WARMUP_OPS / NTHREADS, 1);
    mem_stats(&warm);
    run_phase((TOTAL_OPS - WARMUP_OPS) / NTHREADS, 2);
    mem_stats(&end);
    uint64_t ms = (sys_now_ns() - t0) / NS_PER_MS;

    // The margin: the thread caches may happen to be full at a worse moment
    // than during the warm-up (NTHREADS * MEM_CACHE_BYTES), and the live
    // set's bytes wander, since its sizes are random (a few chunks). A leak
    // of one block in a thousand operations would need about 12 MB more.
    size_t margin = NTHREADS * MEM_CACHE_BYTES + 8 * MEM_CHUNK_SIZE;
    sys_printf("# churn: %d ops on %d threads in %lu ms; heap high-water %zu KiB after 10%%, "
               "%zu KiB at the end (margin %zu KiB); in use %zu KiB, big %zu KiB\n",
               TOTAL_OPS, NTHREADS, (unsigned long)ms, warm.heap_high / 1024, end.heap_high / 1024,
               margin / 1024, end.in_use / 1024, end.big_bytes / 1024);
    CHECK(end.heap_high <= warm.heap_high + margin);
    CHECK(end.heap_high < HEAP_SIZE);
    CHECK_EQ(end.failed, 0);
    CHECK(end.allocs - warm.allocs >= TOTAL_OPS - WARMUP_OPS);

    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].p) {
            CHECK(ends_ok(slots[i].p, slots[i].n, slots[i].tag));
            mem_free(slots[i].p);
        }
    }
    mem_thread_exit();
    mem_stats(&end);
    CHECK_EQ(end.in_use, 0);
    CHECK_EQ(end.heap_used, 0);
    CHECK_EQ(end.big_bytes, 0);
}

int main(void)
{
    RUN(churn_keeps_high_water_flat);
    return test_summary();
}
