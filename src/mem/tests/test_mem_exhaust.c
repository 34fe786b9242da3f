// test_mem_exhaust.c: stage-2 tests of running out: NULL, never a crash, and usable again after freeing.
#include "config.h"
#include "mem/mem.h"
#include "mem/mem_internal.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

// Allocates blocks of n bytes until mem_alloc says NULL, chaining each block
// to the previous one through its first word (no array needed for a million
// blocks). Returns the chain; *count gets how many.
static void *fill(size_t n, size_t *count)
{
    void *chain = NULL;
    size_t k = 0;
    for (;;) {
        void **p = mem_alloc(n);
        if (!p)
            break;
        *p = chain;
        chain = p;
        k++;
    }
    *count = k;
    return chain;
}

static void free_chain(void *chain)
{
    while (chain) {
        void *next = *(void **)chain;
        mem_free(chain);
        chain = next;
    }
}

static void small_exhaustion_is_null_then_recovers(void)
{
    struct mem_stats a, b;
    mem_stats(&a);
    size_t count;
    void *chain = fill(48, &count);
    mem_stats(&b);
    // Every chunk went to the 48-byte class (1365 blocks per 64 KiB chunk).
    CHECK_EQ(count, (size_t)MEM_NCHUNKS * (MEM_CHUNK_SIZE / mem_class_size[mem_class_of(48)]));
    CHECK_EQ(b.heap_used, HEAP_SIZE);
    CHECK_EQ(b.failed - a.failed, 1);
    CHECK(mem_alloc(48) == NULL);   // still full, still no crash
    CHECK(mem_alloc(4096) == NULL); // and for other classes too
    CHECK(mem_calloc(10, 10) == NULL);
    free_chain(chain);
    void *p = mem_alloc(48);
    CHECK(p != NULL);
    mem_free(p);
}

// After the heap was filled with one class and freed, a different class can
// have all of it: chunks move between classes. The thread's own cache still
// holds 48-byte blocks at this point; running out makes it give them back.
static void freed_heap_serves_another_class(void)
{
    size_t count;
    void *chain = fill(MEM_CHUNK_SIZE, &count);
    CHECK_EQ(count, MEM_NCHUNKS);
    free_chain(chain);
    chain = fill(5000, &count);
    CHECK_EQ(count, (size_t)MEM_NCHUNKS * (MEM_CHUNK_SIZE / mem_class_size[mem_class_of(5000)]));
    free_chain(chain);
    mem_thread_exit();
    struct mem_stats st;
    mem_stats(&st);
    CHECK_EQ(st.heap_used, 0);
    CHECK_EQ(st.in_use, 0);
}

static void big_exhaustion_is_null_then_recovers(void)
{
    struct mem_stats a, b;
    mem_stats(&a);
    size_t count;
    void *chain = fill(1 << 20, &count); // 1 MiB: exactly 256 pages, no rounding
    mem_stats(&b);
    CHECK_EQ(count, MEM_BIG_LIMIT >> 20);
    CHECK_EQ(b.big_bytes, MEM_BIG_LIMIT);
    CHECK_EQ(b.failed - a.failed, 1);
    CHECK(mem_alloc(MEM_CHUNK_SIZE + 1) == NULL);
    CHECK(mem_alloc((size_t)-1) == NULL); // absurd sizes are NULL too
    CHECK(mem_alloc((size_t)-1 - 4095) == NULL);
    void *small = mem_alloc(100); // the heap is separate and fine
    CHECK(small != NULL);
    mem_free(small);
    free_chain(chain);
    mem_stats(&b);
    CHECK_EQ(b.big_bytes, 0);
    CHECK_EQ(b.big_blocks, 0);
    void *p = mem_alloc(1 << 20);
    CHECK(p != NULL);
    mem_free(p);
}

static int fill_free_and_exit(void *arg)
{
    size_t count;
    free_chain(fill((size_t)(long)arg, &count));
    mem_thread_exit();
    return (int)count;
}

// A thread that filled the heap and exited properly left all of it to the next.
static void thread_exit_hands_heap_on(void)
{
    struct sys_thread *t;
    mem_thread_exit(); // the main thread's cache too: now nobody holds a chunk
    CHECK_EQ(sys_thread_spawn(&t, fill_free_and_exit, (void *)200, THREAD_STACK_SIZE), 0);
    CHECK_EQ(sys_thread_join(t), MEM_NCHUNKS * (MEM_CHUNK_SIZE / mem_class_size[mem_class_of(200)]));
    CHECK_EQ(sys_thread_spawn(&t, fill_free_and_exit, (void *)16384, THREAD_STACK_SIZE), 0);
    CHECK_EQ(sys_thread_join(t), MEM_NCHUNKS * (MEM_CHUNK_SIZE / mem_class_size[mem_class_of(16384)]));
}

// realloc that cannot grow returns NULL and leaves the block as it was.
static void failed_realloc_keeps_block(void)
{
    char *p = mem_alloc(100);
    CHECK(p != NULL);
    if (!p)
        return;
    sys_memcpy(p, "still here", 11);
    size_t count;
    void *chain = fill(MEM_CHUNK_SIZE, &count); // the rest of the heap
    size_t grow = MEM_CHUNK_SIZE / 2 + 16;      // needs a chunk of its own
    CHECK(mem_realloc(p, grow) == NULL);
    CHECK(sys_memcmp(p, "still here", 11) == 0);
    char *q = mem_realloc(p, 101); // same class: no memory needed
    CHECK(q == p);
    free_chain(chain);
    q = mem_realloc(p, grow);
    CHECK(q != NULL && sys_memcmp(q, "still here", 11) == 0);
    mem_free(q);
}

int main(void)
{
    RUN(small_exhaustion_is_null_then_recovers);
    RUN(freed_heap_serves_another_class);
    RUN(big_exhaustion_is_null_then_recovers);
    RUN(thread_exit_hands_heap_on);
    RUN(failed_realloc_keeps_block);
    return test_summary();
}
