// test_mem_basic.c: stage-2 tests on one thread: classes, alignment, reuse, calloc, realloc, big blocks.
#include "config.h"
#include "mem/mem.h"
#include "mem/mem_internal.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"

// The workloads below are sized for the default heap; smaller heaps run out.
_Static_assert(HEAP_SIZE >= (16ul << 20), "the stage-2 tests need HEAP_SIZE of at least 16 MB");

static void init_is_idempotent(void)
{
    CHECK_EQ(mem_init(), 0);
    CHECK_EQ(mem_init(), 0);
    struct mem_stats st;
    mem_stats(&st);
    CHECK_EQ(st.heap_size, HEAP_SIZE);
    CHECK_EQ(st.heap_used, 0);
}

// Every size up to the largest class maps to the smallest class that holds it.
static void classes_cover_every_size(void)
{
    CHECK(mem_nclasses > 8 && mem_nclasses <= MEM_MAX_CLASSES);
    CHECK_EQ(mem_class_size[mem_nclasses - 1], MEM_MAX_SMALL);
    for (unsigned c = 0; c < mem_nclasses; c++) {
        CHECK_EQ(mem_class_size[c] % MEM_ALIGN, 0);
        CHECK(c == 0 || mem_class_size[c] > mem_class_size[c - 1]);
        CHECK(mem_class_batch[c] >= 1 && mem_class_batch[c] <= MEM_CACHE_BATCH_MAX);
    }
    for (size_t n = 0; n <= MEM_MAX_SMALL; n++) {
        unsigned c = mem_class_of(n);
        if (c >= mem_nclasses || mem_class_size[c] < n || (c > 0 && mem_class_size[c - 1] >= n)) {
            CHECK_EQ(n, -1); // report the first bad size
            break;
        }
    }
    // Powers of two (I/O buffers) waste nothing.
    for (size_t n = 16; n <= MEM_MAX_SMALL; n *= 2)
        CHECK_EQ(mem_class_size[mem_class_of(n)], n);
}

static void blocks_aligned_and_usable(void)
{
    static void *keep[2000];
    size_t n = 0;
    for (size_t size = 0; size < 70000; size += 1 + size / 8, n++) {
        void *p = mem_alloc(size);
        CHECK(p != NULL);
        if (!p)
            return;
        CHECK_EQ((uintptr_t)p % 16, 0);
        CHECK(mem_usable_size(p) >= size);
        sys_memset(p, 0xa5, mem_usable_size(p)); // the whole usable size is ours
        keep[n] = p;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n && j < i + 4; j++)
            CHECK(keep[i] != keep[j]);
    for (size_t i = 0; i < n; i++)
        mem_free(keep[i]);
}

static void zero_size_and_null(void)
{
    void *a = mem_alloc(0), *b = mem_alloc(0);
    CHECK(a != NULL && b != NULL && a != b);
    CHECK(mem_usable_size(a) >= 1);
    mem_free(a);
    mem_free(b);
    mem_free(NULL);
    CHECK_EQ(mem_usable_size(NULL), 0);
}

// The bump allocator's failure, inverted: a million alloc/free pairs of one
// size reuse the same memory, and the heap does not grow.
static void freed_memory_is_reused(void)
{
    struct mem_stats before, after;
    void *p = mem_alloc(1000);
    mem_free(p);
    mem_stats(&before);
    for (int i = 0; i < 1000000; i++) {
        void *q = mem_alloc(1000);
        if (!q) {
            CHECK(q != NULL);
            return;
        }
        *(volatile char *)q = 1;
        mem_free(q);
    }
    mem_stats(&after);
    CHECK_EQ(after.heap_high, before.heap_high);
    CHECK_EQ(after.allocs - before.allocs, 1000000);
    CHECK_EQ(after.frees - before.frees, 1000000);
    CHECK_EQ(after.in_use, before.in_use);
}

static void calloc_zeroes_and_checks_overflow(void)
{
    void *dirty = mem_alloc(3000);
    sys_memset(dirty, 0xff, 3000);
    mem_free(dirty);
    unsigned char *p = mem_calloc(30, 100); // same class: likely the dirty block again
    CHECK(p != NULL);
    for (int i = 0; p && i < 3000; i++)
        if (p[i]) {
            CHECK_EQ(p[i], 0);
            break;
        }
    mem_free(p);

    struct mem_stats a, b;
    mem_stats(&a);
    CHECK(mem_calloc((size_t)-1 / 2, 3) == NULL);
    CHECK(mem_calloc(3, (size_t)-1 / 2) == NULL);
    CHECK(mem_calloc((size_t)1 << 32, (size_t)1 << 32) == NULL);
    mem_stats(&b);
    CHECK_EQ(b.failed - a.failed, 3);

    unsigned char *big = mem_calloc(1, 300000);
    CHECK(big != NULL);
    for (int i = 0; big && i < 300000; i += 4096)
        CHECK_EQ(big[i], 0);
    mem_free(big);
    void *z = mem_calloc(0, 10);
    CHECK(z != NULL);
    mem_free(z);
}

static bool bytes_are(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 7 + seed))
            return false;
    return true;
}

static void realloc_keeps_contents(void)
{
    static const size_t steps[] = {10, 100, 5000, 60000, 70000, 300000, 2000000, 200000, 3000, 20, 1};
    unsigned char *p = mem_realloc(NULL, 1); // NULL acts as alloc
    CHECK(p != NULL);
    if (!p)
        return;
    p[0] = 3;
    size_t have = 1;
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        size_t n = steps[s];
        unsigned char *q = mem_realloc(p, n);
        CHECK(q != NULL);
        if (!q)
            break;
        CHECK(bytes_are(q, have < n ? have : n, 3));
        CHECK(mem_usable_size(q) >= n);
        for (size_t i = 0; i < n; i++)
            q[i] = (unsigned char)(i * 7 + 3);
        p = q;
        have = n;
    }
    // Within its class a block stays where it is.
    unsigned char *q = mem_realloc(p, 2);
    CHECK(q == p);
    mem_free(q);
}

static void big_blocks_round_trip(void)
{
    struct mem_stats a, b, c;
    mem_stats(&a);
    unsigned char *p = mem_alloc(MEM_MAX_SMALL + 1);
    unsigned char *q = mem_alloc(5u << 20);
    CHECK(p != NULL && q != NULL);
    if (!p || !q)
        return;
    CHECK(!mem_in_arena(p) && !mem_in_arena(q));
    CHECK_EQ((uintptr_t)p % 16, 0);
    CHECK(mem_usable_size(p) >= MEM_MAX_SMALL + 1);
    CHECK(mem_usable_size(q) >= (5u << 20));
    sys_memset(p, 1, MEM_MAX_SMALL + 1);
    q[(5u << 20) - 1] = 2;
    mem_stats(&b);
    CHECK_EQ(b.big_blocks - a.big_blocks, 2);
    CHECK(b.big_bytes - a.big_bytes >= MEM_MAX_SMALL + 1 + (5u << 20));
    mem_free(p);
    mem_free(q);
    mem_stats(&c);
    CHECK_EQ(c.big_bytes, a.big_bytes);
    CHECK_EQ(c.big_blocks, a.big_blocks);
}

// When everything is freed and the cache flushed, every chunk is back in the
// arena: nothing is lost to bookkeeping.
static void all_chunks_come_back(void)
{
    static void *keep[5000];
    uint64_t s = 99;
    for (int i = 0; i < 5000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        keep[i] = mem_alloc((size_t)(s >> 33) % 4000); // about 10 MB in all
        CHECK(keep[i] != NULL);
    }
    struct mem_stats st;
    mem_stats(&st);
    CHECK(st.heap_used > 0);
    CHECK(st.in_use > 0);
    for (int i = 0; i < 5000; i++)
        mem_free(keep[i]);
    mem_thread_exit();
    mem_stats(&st);
    CHECK_EQ(st.heap_used, 0);
    CHECK_EQ(st.in_use, 0);
    CHECK_EQ(st.cached, 0);
    CHECK_EQ(st.allocs, st.frees);
    CHECK(st.heap_high > 0 && st.heap_high <= HEAP_SIZE);
    void *p = mem_alloc(100); // and the thread may go on allocating
    CHECK(p != NULL);
    mem_free(p);
    mem_thread_exit();
}

int main(void)
{
    RUN(init_is_idempotent);
    RUN(classes_cover_every_size);
    RUN(blocks_aligned_and_usable);
    RUN(zero_size_and_null);
    RUN(freed_memory_is_reused);
    RUN(calloc_zeroes_and_checks_overflow);
    RUN(realloc_keeps_contents);
    RUN(big_blocks_round_trip);
    RUN(all_chunks_come_back);
    return test_summary();
}
