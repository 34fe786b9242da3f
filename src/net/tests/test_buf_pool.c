// test_buf_pool.c: stage-5 unit tests of the I/O buffer pool: reuse, the bound, counting, cross-thread gives.
#include "config.h"
#include "mem/mem.h"
#include "net/net.h"
#include "sys/string.h"
#include "sys/testing.h"
#include "sys/thread.h"

static uint64_t in_use(void)
{
    struct net_buf_stats s;
    net_buf_stats(&s);
    return s.in_use;
}

static uint64_t cached(void)
{
    struct net_buf_stats s;
    net_buf_stats(&s);
    return s.cached;
}

// A buffer given back is the next one taken, without a trip to the allocator.
static void given_buffer_is_taken_again(void)
{
    uint64_t before = in_use();
    char *a = net_buf_take();
    CHECK(a != NULL);
    CHECK(mem_usable_size(a) >= NET_BUF_SIZE);
    sys_memset(a, 'x', NET_BUF_SIZE); // all of it is ours
    CHECK_EQ(in_use(), before + 1);
    net_buf_give(a);
    CHECK_EQ(in_use(), before);
    struct mem_stats m0, m1;
    mem_stats(&m0);
    char *b = net_buf_take();
    mem_stats(&m1);
    CHECK(b == a);
    CHECK_EQ(m1.allocs, m0.allocs);
    net_buf_give(b);
    net_buf_give(NULL); // ignored
    CHECK_EQ(in_use(), before);
}

// The free list keeps at most NET_BUF_CACHE buffers; the rest go back to the allocator.
static void free_list_is_bounded(void)
{
    enum { N = NET_BUF_CACHE + 10 };
    static void *bufs[N];
    uint64_t before = in_use();
    for (int i = 0; i < N; i++) {
        bufs[i] = net_buf_take();
        CHECK(bufs[i] != NULL);
    }
    CHECK_EQ(in_use(), before + N);
    CHECK_EQ(cached(), 0);
    struct mem_stats m0, m1;
    mem_stats(&m0);
    for (int i = 0; i < N; i++)
        net_buf_give(bufs[i]);
    mem_stats(&m1);
    CHECK_EQ(in_use(), before);
    CHECK_EQ(cached(), NET_BUF_CACHE);
    CHECK_EQ(m1.frees - m0.frees, N - NET_BUF_CACHE);
}

// A buffer taken on one thread and given back on another (a task that moved
// between workers) is counted back and joins the giving thread's list.
static void *handed;
static int give_elsewhere(void *arg)
{
    (void)arg;
    net_buf_give(handed);
    CHECK(net_buf_take() == handed); // it is now this thread's
    net_buf_give(handed);
    return 0;
}

static void buffer_given_on_another_thread(void)
{
    uint64_t before = in_use(), cached_before = cached();
    handed = net_buf_take();
    CHECK(handed != NULL);
    CHECK_EQ(in_use(), before + 1);
    struct sys_thread *t;
    CHECK_EQ(sys_thread_spawn(&t, give_elsewhere, NULL, THREAD_STACK_SIZE), 0);
    CHECK_EQ(sys_thread_join(t), 0);
    CHECK_EQ(in_use(), before);
    // The main thread's list gave one buffer (if it had one), the thread's list holds it now.
    CHECK_EQ(cached(), cached_before + (cached_before == 0));
}

// A grown buffer (any other cap) goes to the allocator, not into the list.
static void release_tells_grown_from_pooled(void)
{
    uint64_t before = in_use(), cached_before = cached();
    void *big = mem_alloc(4 * NET_BUF_SIZE);
    CHECK(big != NULL);
    net_buf_release(big, 4 * NET_BUF_SIZE);
    CHECK_EQ(in_use(), before);
    CHECK_EQ(cached(), cached_before);
    void *b = net_buf_take();
    net_buf_release(b, NET_BUF_SIZE);
    CHECK_EQ(in_use(), before);
}

int main(void)
{
    RUN(given_buffer_is_taken_again);
    RUN(free_list_is_bounded);
    RUN(buffer_given_on_another_thread);
    RUN(release_tells_grown_from_pooled);
    return test_summary();
}
