// heap.c: the arena: one bounded mmap of HEAP_SIZE, lent to size classes a chunk at a time.
#include "mem/mem_internal.h"
#include "sys/string.h"
#include "sys/sys.h"

char *mem_arena;
size_t mem_arena_size;
struct mem_span mem_spans[MEM_NCHUNKS];
// Read without the lock by mem_free's checks, so accessed with atomics.
uint8_t mem_chunk_class[MEM_NCHUNKS];

// All below: guarded by mem_lock.
static struct mem_span *warm; // empty chunks whose pages are still committed, most recent first
static struct mem_span *cold; // empty chunks whose pages went back to the kernel
static size_t nwarm;          // chunks on warm: at most MEM_RESERVE_CHUNKS
static size_t chunks_carved;  // chunks [0, chunks_carved) have been used at least once
static size_t chunks_total;   // MEM_NCHUNKS once the arena is mapped
static size_t chunks_used, chunks_high;
static uint64_t returned; // madvise calls made (one per chunk given back)

int mem_heap_init(void)
{
    sys_memset(mem_chunk_class, MEM_NO_CLASS, sizeof mem_chunk_class);
    // MAP_NORESERVE: the kernel commits a page only when it is first
    // touched, so an untouched heap costs no memory, however large HEAP_SIZE is.
    void *p =
        sys_mmap(NULL, HEAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (SYS_IS_ERR(p))
        return (int)(long)p;
    mem_arena = p;
    mem_arena_size = HEAP_SIZE;
    chunks_total = MEM_NCHUNKS;
    return 0;
}

// [snippet: mem-chunk-take]
// Warm chunks first (their pages are resident: no fault), then cold ones
// (the kernel maps fresh zero pages as they are touched), then untouched ones.
struct mem_span *mem_chunk_take(unsigned cls)
{
    struct mem_span *s;
    if ((s = warm) != NULL) {
        warm = s->next;
        nwarm--;
    } else if ((s = cold) != NULL) {
        cold = s->next;
    } else if (chunks_carved < chunks_total) {
        s = &mem_spans[chunks_carved++]; // touch a new one
    } else {
        return NULL; // the arena is full: the caller's NULL
    }
    *s = (struct mem_span){.cls = (uint8_t)cls};
    atomic_store_relaxed(&mem_chunk_class[s - mem_spans], (uint8_t)cls);
    if (++chunks_used > chunks_high)
        chunks_high = chunks_used;
    return s;
}
// [end: mem-chunk-take]

// [snippet: mem-chunk-release]
// Empty chunks stay committed up to a reserve that grows with the heap's use:
// a load that frees and retakes chunks makes no syscall while the swing fits
// in it. Past the reserve, a chunk's pages go back to the kernel, and as use
// falls the reserve shrinks with it, so after a storm the resident size
// falls to what is live plus MEM_RESERVE_CHUNKS.
// MADV_DONTNEED, not MADV_FREE: only after DONTNEED does the resident size
// fall at once (the kernel takes MADV_FREE pages back only under memory
// pressure, and counts them as resident until then). The call runs under
// mem_lock: a chunk must not be handed out while its pages are dropped.
static void give_back(struct mem_span *s)
{
    sys_madvise(mem_span_base(s), MEM_CHUNK_SIZE, MADV_DONTNEED);
    returned++;
    s->next = cold;
    cold = s;
}

void mem_chunk_release(struct mem_span *s)
{
    atomic_store_relaxed(&mem_chunk_class[s - mem_spans], MEM_NO_CLASS);
    chunks_used--;
    size_t reserve = MEM_RESERVE_CHUNKS + chunks_used / MEM_RESERVE_SHARE;
    if (nwarm >= reserve) {
        give_back(s);
        // Use fell, so the reserve did: one more chunk leaves it (a release
        // lowers the reserve by at most one, so one is enough to track it).
        if (nwarm > reserve) {
            struct mem_span *w = warm;
            warm = w->next;
            nwarm--;
            give_back(w);
        }
        return;
    }
    s->next = warm;
    warm = s;
    nwarm++;
}
// [end: mem-chunk-release]

void mem_heap_stats(struct mem_stats *out)
{
    out->heap_size = mem_arena_size;
    out->heap_carved = chunks_carved * MEM_CHUNK_SIZE;
    out->heap_used = chunks_used * MEM_CHUNK_SIZE;
    out->heap_high = chunks_high * MEM_CHUNK_SIZE;
    out->heap_idle = nwarm * MEM_CHUNK_SIZE;
    out->madvised = returned;
}
