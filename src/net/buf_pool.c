// buf_pool.c: the I/O buffer pool: a bounded per-thread free list of NET_BUF_SIZE buffers, no locks.
#include "config.h"
#include "mem/mem.h"
#include "net/net.h"
#include "sys/atomic.h"
#include "sys/thread.h"

// [snippet: net-buf-pool]
// Why here, in net: both HTTP and WebSocket read and write through buffers of
// one size, and net is the layer below both. It is not an allocator feature:
// the allocator's thread caches already keep free blocks of every size class,
// but they are shared by everything the thread allocates and flushed by size
// budget; this list is only for I/O buffers, bounded by count, and counts the
// buffers lent out (the `io_buffers_in_use` gauge of /metrics).
//
// One list per thread, found through the thread's block, touched only by its
// owner: a take or a give is a few loads and stores, no lock, no atomic
// read-modify-write. A buffer given back on another thread than it was taken
// on (tasks move between workers) simply joins that thread's list: every
// buffer is a plain mem_alloc block, and the allocator takes blocks freed on
// any thread. Past NET_BUF_CACHE free buffers, a give frees the block.
struct free_buf {
    struct free_buf *next;
};

struct buf_cache {
    struct free_buf *head;
    uint32_t count;             // buffers on the list
    uint64_t taken, given;      // by this thread: written only by it, read by net_buf_stats
} __attribute__((aligned(64))); // no two threads' lists share a cache line

_Static_assert(NET_BUF_MAX_CACHES > EX_MAX_WORKERS, "every worker has a free list");
static struct buf_cache caches[NET_BUF_MAX_CACHES];
static uint32_t caches_used;
// Threads past NET_BUF_MAX_CACHES have no list: they go to the allocator
// directly and count here, atomically (they share these counters).
static struct buf_cache no_cache;

static struct buf_cache *cache_self(void)
{
    struct sys_thread *self = sys_thread_self();
    struct buf_cache *k = self->slot[SLOT_NET_BUF];
    if (!k) {
        uint32_t i = atomic_fetch_add(&caches_used, 1);
        k = i < NET_BUF_MAX_CACHES ? &caches[i] : &no_cache;
        self->slot[SLOT_NET_BUF] = k;
    }
    return k;
}

void *net_buf_take(void)
{
    struct buf_cache *k = cache_self();
    struct free_buf *b = NULL;
    if (k != &no_cache && (b = k->head)) {
        k->head = b->next;
        atomic_store_relaxed(&k->count, k->count - 1);
    } else {
        b = mem_alloc(NET_BUF_SIZE);
        if (!b)
            return NULL;
    }
    if (k == &no_cache)
        atomic_add_relaxed(&k->taken, 1);
    else
        atomic_store_relaxed(&k->taken, k->taken + 1);
    return b;
}

void net_buf_give(void *buf)
{
    if (!buf)
        return;
    struct buf_cache *k = cache_self();
    if (k == &no_cache) {
        atomic_add_relaxed(&k->given, 1);
        mem_free(buf);
        return;
    }
    atomic_store_relaxed(&k->given, k->given + 1);
    if (k->count >= NET_BUF_CACHE) {
        mem_free(buf);
        return;
    }
    struct free_buf *b = buf;
    b->next = k->head;
    k->head = b;
    atomic_store_relaxed(&k->count, k->count + 1);
}
// [end: net-buf-pool]

void net_buf_release(void *buf, size_t cap)
{
    if (cap == NET_BUF_SIZE)
        net_buf_give(buf);
    else
        mem_free(buf);
}

void net_buf_stats(struct net_buf_stats *out)
{
    uint64_t taken = atomic_load_relaxed(&no_cache.taken), given = atomic_load_relaxed(&no_cache.given);
    uint64_t cached = 0;
    for (uint32_t i = 0; i < NET_BUF_MAX_CACHES; i++) {
        taken += atomic_load_relaxed(&caches[i].taken);
        given += atomic_load_relaxed(&caches[i].given);
        cached += atomic_load_relaxed(&caches[i].count);
    }
    // Read while others take and give: a give counted before its take would
    // show as a huge number. Such a moment reads as 0.
    out->in_use = taken >= given ? taken - given : 0;
    out->cached = cached;
}
