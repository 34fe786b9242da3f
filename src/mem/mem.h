// mem.h: the allocator's public API: size-classed blocks from a bounded mmap'd heap, big blocks from mmap.
#ifndef MEM_H
#define MEM_H

#include <stddef.h>
#include <stdint.h>

// [snippet: mem-api]
// Every function is safe to call from any thread at any time; the first call
// initialises the allocator (mem_init does it explicitly).
//
// NULL from an allocating function means exactly one thing: out of memory
// (the heap, or MEM_BIG_LIMIT for big blocks, is used up). Callers handle it;
// nothing here crashes or blocks on exhaustion. Every block is 16-byte aligned.
//
// Handing mem_free or mem_usable_size a pointer that is not a live block
// (a double free, an interior pointer, a pointer from elsewhere) ends the
// process with a "panic: mem_..." message, exit status 134, whenever the
// allocator can tell cheaply; it never silently corrupts its lists.

// Maps the heap and builds the size-class tables. Idempotent and thread-safe;
// returns 0, or -errno if the heap could not be mapped (then only big blocks work).
int mem_init(void);

// A block of at least n bytes, or NULL. mem_alloc(0) returns a distinct
// minimal block, so NULL never means "zero bytes".
void *mem_alloc(size_t n);

// A zeroed block of count * size bytes, or NULL (also when the product overflows).
void *mem_calloc(size_t count, size_t size);

// Resizes p to at least n bytes, keeping min(n, old size) bytes of content.
// Returns the (possibly moved) block, or NULL with p untouched and still owned
// by the caller. p == NULL acts as mem_alloc(n).
void *mem_realloc(void *p, size_t n);

// Returns p to the allocator; NULL is ignored.
void mem_free(void *p);

// Bytes the caller may use in p (>= what was asked for); 0 for NULL.
size_t mem_usable_size(void *p);

// A thread that has used the allocator calls this before it returns: it gives
// the thread's cached free blocks back to the central lists so other threads
// can use them. Without it up to MEM_CACHE_BYTES stay stranded per dead thread.
// Calling it more than once, or allocating again afterwards, is fine.
void mem_thread_exit(void);
// [end: mem-api]

// A snapshot of the allocator's counters. Exact when no other thread is
// allocating; otherwise each field is a recent value.
struct mem_stats {
    size_t in_use;      // bytes in blocks the program holds (usable sizes, small and big)
    size_t cached;      // bytes in free blocks parked in thread caches
    size_t heap_size;   // bytes of the arena (HEAP_SIZE), 0 if it could not be mapped
    size_t heap_carved; // arena bytes ever lent to a size class (the touched part; never shrinks)
    size_t heap_used;   // arena bytes lent to size classes now
    size_t heap_high;   // high-water mark of heap_used
    size_t heap_idle;   // bytes of empty chunks kept committed for reuse (at most MEM_RESERVE_CHUNKS)
    uint64_t madvised;  // chunks given back to the kernel so far (one madvise call each)
    size_t big_bytes;   // bytes mapped for big blocks now
    size_t big_high;    // high-water mark of big_bytes
    size_t big_blocks;  // big blocks alive
    uint64_t allocs;    // successful allocations (alloc, calloc, and realloc when it moved)
    uint64_t frees;     // blocks freed
    uint64_t failed;    // allocations that returned NULL
    uint64_t central;   // trips of thread caches to the central lists (refills and flushes)
};
void mem_stats(struct mem_stats *out);

#endif
