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
static struct mem_span *free_chunks; // chunks given back, most recent first
static size_t chunks_carved;         // chunks [0, chunks_carved) have been used at least once
static size_t chunks_total;          // MEM_NCHUNKS once the arena is mapped
static size_t chunks_used, chunks_high;

int mem_heap_init(void)
{
    sys_memset(mem_chunk_class, MEM_NO_CLASS, sizeof mem_chunk_class);
    // MAP_NORESERVE: the kernel commits a page only when it is first
    // touched, so an idle 16 MB heap costs no memory.
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
struct mem_span *mem_chunk_take(unsigned cls)
{
    struct mem_span *s = free_chunks;
    if (s)
        free_chunks = s->next; // reuse a chunk some class gave back
    else if (chunks_carved < chunks_total)
        s = &mem_spans[chunks_carved++]; // or touch a new one
    else
        return NULL; // the arena is full: the caller's NULL
    *s = (struct mem_span){.cls = (uint8_t)cls};
    atomic_store_relaxed(&mem_chunk_class[s - mem_spans], (uint8_t)cls);
    if (++chunks_used > chunks_high)
        chunks_high = chunks_used;
    return s;
}

void mem_chunk_release(struct mem_span *s)
{
    atomic_store_relaxed(&mem_chunk_class[s - mem_spans], MEM_NO_CLASS);
    s->next = free_chunks;
    free_chunks = s;
    chunks_used--;
}
// [end: mem-chunk-take]

void mem_heap_stats(struct mem_stats *out)
{
    out->heap_size = mem_arena_size;
    out->heap_carved = chunks_carved * MEM_CHUNK_SIZE;
    out->heap_used = chunks_used * MEM_CHUNK_SIZE;
    out->heap_high = chunks_high * MEM_CHUNK_SIZE;
}
