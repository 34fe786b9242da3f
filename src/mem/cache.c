// cache.c: per-thread caches of free blocks, so the common alloc and free take no lock and no atomic.
#include "mem/mem_internal.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/thread.h"

// [snippet: mem-cache]
// One per thread that allocates, found through the thread's block
// (sys_thread_self()->slot[SLOT_MEM_CACHE]). Only its owner touches the
// lists. The counters are written only by the owner, with relaxed atomic
// stores (plain moves on x86), so mem_stats may read them from elsewhere.
struct mem_cache {
    struct mem_free_block *head[MEM_MAX_CLASSES];
    uint16_t count[MEM_MAX_CLASSES];
    uint64_t bytes; // bytes of blocks on the lists
    uint64_t allocs, frees, alloc_bytes, free_bytes, central;
    bool claimed;               // guarded by mem_lock
} __attribute__((aligned(64))); // no two threads' caches share a cache line
// [end: mem-cache]

// A fixed pool: a cache needs no allocation, so claiming one cannot fail for
// lack of memory. Threads past MEM_MAX_CACHES work on the central lists.
static struct mem_cache pool[MEM_MAX_CACHES];
// Counters of caches given up by exited threads and of cacheless threads.
// Guarded by mem_lock.
static struct {
    uint64_t allocs, frees, alloc_bytes, free_bytes, central;
} retired;

static inline void bump(uint64_t *counter, uint64_t delta)
{
    atomic_store_relaxed(counter, *counter + delta);
}

static inline struct mem_cache *cache_self(void) { return sys_thread_self()->slot[SLOT_MEM_CACHE]; }

static struct mem_cache *cache_claim(void)
{
    struct mem_cache *k = NULL;
    sys_mutex_lock(&mem_lock);
    for (size_t i = 0; i < MEM_MAX_CACHES; i++) {
        if (!pool[i].claimed) {
            k = &pool[i];
            sys_memset(k, 0, sizeof *k);
            k->claimed = true;
            break;
        }
    }
    sys_mutex_unlock(&mem_lock);
    sys_thread_self()->slot[SLOT_MEM_CACHE] = k;
    return k;
}

// Gives every cached block back to the central lists.
static void cache_flush_all(struct mem_cache *k)
{
    for (unsigned c = 0; c < mem_nclasses; c++) {
        if (!k->head[c])
            continue;
        mem_central_give(k->head[c]);
        k->head[c] = NULL;
        k->count[c] = 0;
        bump(&k->central, 1);
    }
    atomic_store_relaxed(&k->bytes, 0);
}

static void cache_shrink(struct mem_cache *k);

// [snippet: mem-cache-refill]
// The cache of class c is empty: take a batch from the central lists. If the
// arena is full, this thread's own cached blocks of other classes may be
// what is missing: give them all back (whole spans may come free) and try
// for one block. Returns the first block, or NULL: the heap is exhausted.
// Called only by mem_cache_alloc when k, the calling thread's cache, has
// no block of class c left.
// [lab: cache_refill]
static struct mem_free_block *cache_refill(struct mem_cache *k, unsigned c)
{
    if (k->bytes + (uint64_t)mem_class_batch[c] * mem_class_size[c] > MEM_CACHE_BYTES)
        cache_shrink(k); // make room first: the cache never exceeds its budget
    struct mem_free_block *list;
    unsigned got = mem_central_take(c, &list, mem_class_batch[c]);
    bump(&k->central, 1);
    if (got == 0) {
        cache_flush_all(k);
        got = mem_central_take(c, &list, 1);
        if (got == 0)
            return NULL;
    }
    k->head[c] = list;
    k->count[c] = (uint16_t)got;
    atomic_store_relaxed(&k->bytes, k->bytes + (uint64_t)got * mem_class_size[c]);
    return list;
}
// [end lab: cache_refill]
// [end: mem-cache-refill]

// [snippet: mem-cache-bounds]
// Over MEM_CACHE_BYTES: give back whole classes, the one holding the most
// bytes first, until half the budget is left. One trip to the central lock
// per class, and then many frees before it happens again.
static void cache_shrink(struct mem_cache *k)
{
    while (k->bytes > MEM_CACHE_BYTES / 2) {
        unsigned worst = 0;
        uint64_t most = 0;
        for (unsigned c = 0; c < mem_nclasses; c++) {
            uint64_t b = (uint64_t)k->count[c] * mem_class_size[c];
            if (b > most) {
                most = b;
                worst = c;
            }
        }
        if (most == 0)
            break; // cannot happen while bytes and counts agree; never spin
        mem_central_give(k->head[worst]);
        k->head[worst] = NULL;
        k->count[worst] = 0;
        atomic_store_relaxed(&k->bytes, k->bytes - most);
        bump(&k->central, 1);
    }
}

// Over its cap, class c keeps the newest batch (warm in the CPU cache) and
// gives the older blocks back, so they can serve other threads.
static void cache_trim(struct mem_cache *k, unsigned c)
{
    unsigned keep = mem_class_batch[c];
    struct mem_free_block *last = k->head[c];
    for (unsigned i = 1; i < keep; i++)
        last = last->next;
    struct mem_free_block *rest = last->next;
    last->next = NULL;
    uint64_t gone = k->count[c] - keep;
    k->count[c] = (uint16_t)keep;
    atomic_store_relaxed(&k->bytes, k->bytes - gone * mem_class_size[c]);
    mem_central_give(rest);
    bump(&k->central, 1);
}
// [end: mem-cache-bounds]

static void *alloc_uncached(unsigned c)
{
    struct mem_free_block *b;
    if (mem_central_take(c, &b, 1) == 0)
        return NULL;
    b->mark = 0;
    sys_mutex_lock(&mem_lock);
    retired.allocs++;
    retired.alloc_bytes += mem_class_size[c];
    retired.central++;
    sys_mutex_unlock(&mem_lock);
    return b;
}

static void free_uncached(struct mem_free_block *b, unsigned c)
{
    b->next = NULL;
    b->mark = mem_mark_of(b);
    mem_central_give(b);
    sys_mutex_lock(&mem_lock);
    retired.frees++;
    retired.free_bytes += mem_class_size[c];
    retired.central++;
    sys_mutex_unlock(&mem_lock);
}

// [snippet: mem-cache-alloc]
void *mem_cache_alloc(unsigned c)
{
    struct mem_cache *k = cache_self();
    if (__builtin_expect(!k, 0) && !(k = cache_claim()))
        return alloc_uncached(c);
    struct mem_free_block *b = k->head[c];
    if (__builtin_expect(!b, 0) && !(b = cache_refill(k, c)))
        return NULL;
    k->head[c] = b->next;
    k->count[c]--;
    b->mark = 0; // in use from here on: a later mem_free must not see a mark
    uint32_t size = mem_class_size[c];
    atomic_store_relaxed(&k->bytes, k->bytes - size);
    bump(&k->allocs, 1);
    bump(&k->alloc_bytes, size);
    return b;
}
// [end: mem-cache-alloc]

// [snippet: mem-cache-free]
// p has passed mem_check_block: it is a live block of class c.
void mem_cache_free(void *p, unsigned c)
{
    struct mem_free_block *b = p;
    struct mem_cache *k = cache_self();
    if (__builtin_expect(!k, 0) && !(k = cache_claim())) {
        free_uncached(b, c);
        return;
    }
    uint32_t size = mem_class_size[c];
    b->next = k->head[c];
    b->mark = mem_mark_of(b);
    k->head[c] = b;
    k->count[c]++;
    atomic_store_relaxed(&k->bytes, k->bytes + size);
    bump(&k->frees, 1);
    bump(&k->free_bytes, size);
    // Bounded caches: memory freed here becomes usable by other threads.
    if (k->count[c] > 2u * mem_class_batch[c])
        cache_trim(k, c);
    if (k->bytes > MEM_CACHE_BYTES)
        cache_shrink(k);
}
// [end: mem-cache-free]

void mem_cache_thread_exit(void)
{
    struct mem_cache *k = cache_self();
    if (!k)
        return;
    cache_flush_all(k);
    sys_mutex_lock(&mem_lock);
    retired.allocs += k->allocs;
    retired.frees += k->frees;
    retired.alloc_bytes += k->alloc_bytes;
    retired.free_bytes += k->free_bytes;
    retired.central += k->central;
    k->claimed = false;
    sys_mutex_unlock(&mem_lock);
    sys_thread_self()->slot[SLOT_MEM_CACHE] = NULL;
}

void mem_cache_stats(struct mem_stats *out)
{
    uint64_t allocs = retired.allocs, frees = retired.frees, central = retired.central;
    uint64_t in = retired.alloc_bytes, outb = retired.free_bytes, cached = 0;
    for (size_t i = 0; i < MEM_MAX_CACHES; i++) {
        struct mem_cache *k = &pool[i];
        if (!k->claimed)
            continue;
        allocs += atomic_load_relaxed(&k->allocs);
        frees += atomic_load_relaxed(&k->frees);
        in += atomic_load_relaxed(&k->alloc_bytes);
        outb += atomic_load_relaxed(&k->free_bytes);
        central += atomic_load_relaxed(&k->central);
        cached += atomic_load_relaxed(&k->bytes);
    }
    out->allocs += allocs;
    out->frees += frees;
    out->central += central;
    // A block freed on another thread than the one that allocated it makes one
    // cache's balance negative; the sum over all caches is right. Counters read
    // while others run may be a moment apart, hence the clamp.
    out->in_use += in >= outb ? (size_t)(in - outb) : 0;
    out->cached += (size_t)cached;
}
