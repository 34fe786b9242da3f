// mem_internal.h: what the allocator's files share: size classes, the arena's chunks and spans, free blocks.
#ifndef MEM_INTERNAL_H
#define MEM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mem/mem.h"
#include "sys/atomic.h"
#include "sys/lock.h"

_Static_assert((MEM_CHUNK_SIZE & (MEM_CHUNK_SIZE - 1)) == 0, "MEM_CHUNK_SIZE must be a power of two");
_Static_assert(MEM_CHUNK_SIZE >= 16 * 1024 && MEM_CHUNK_SIZE <= 1024 * 1024,
               "MEM_CHUNK_SIZE must be 16 KiB .. 1 MiB");
_Static_assert(HEAP_SIZE % MEM_CHUNK_SIZE == 0, "HEAP_SIZE must be a multiple of MEM_CHUNK_SIZE");
_Static_assert(MEM_BIG_LIMIT >= MEM_CHUNK_SIZE, "MEM_BIG_LIMIT must hold at least one big block");
// A refill adds at most max(batch bytes, one chunk) to a cache cut down to
// half its budget; that must still fit the budget.
_Static_assert(MEM_CACHE_BYTES >= 2 * MEM_CHUNK_SIZE && MEM_CACHE_BYTES >= 2 * MEM_CACHE_BATCH_BYTES,
               "MEM_CACHE_BYTES must be at least twice MEM_CHUNK_SIZE and MEM_CACHE_BATCH_BYTES");

#define MEM_ALIGN       16             // every block starts on a 16-byte boundary
#define MEM_MAX_SMALL   MEM_CHUNK_SIZE // largest size class; bigger requests are big blocks
#define MEM_NCHUNKS     (HEAP_SIZE / MEM_CHUNK_SIZE)
#define MEM_MAX_CLASSES 64   // enough for any MEM_CHUNK_SIZE the asserts allow
#define MEM_NO_CLASS    0xff // mem_chunk_class[] of a chunk no class holds

// ---- free blocks ------------------------------------------------------------------
// [snippet: mem-free-block]
// A free block holds its own list link, so free lists cost no memory. The
// second word is the block's mark: mem_key ^ its address. Every free block
// carries its mark and mem_alloc wipes it, so mem_free finding the mark
// already in place knows the block is free: a double free. mem_key is random
// with its top bit set, so a mark can never equal a user-space pointer or a
// small number a program might have stored in that word.
struct mem_free_block {
    struct mem_free_block *next;
    uintptr_t mark;
};
extern uintptr_t mem_key;
static inline uintptr_t mem_mark_of(const void *b) { return mem_key ^ (uintptr_t)b; }
// [end: mem-free-block]

// ---- size classes (size_class.c) -----------------------------------------------------
extern unsigned mem_nclasses;
extern uint32_t mem_class_size[MEM_MAX_CLASSES];  // block size of each class, ascending
extern uint16_t mem_class_batch[MEM_MAX_CLASSES]; // blocks a cache moves to/from the centre at once
extern uint8_t mem_class_by16[1024 / 16 + 1];
extern uint8_t mem_class_by128[MEM_MAX_SMALL / 128 + 1];

// Builds the class tables; called once by mem_init.
void mem_classes_init(void);

// [snippet: mem-class-of]
// The smallest class whose blocks hold n bytes (n <= MEM_MAX_SMALL): one
// table load. Classes up to 1 KiB are multiples of 16 and the larger ones
// multiples of 128, so rounding n up to that step never skips a class.
static inline unsigned mem_class_of(size_t n)
{
    if (n <= 1024)
        return mem_class_by16[(n + 15) >> 4];
    return mem_class_by128[(n + 127) >> 7];
}
// [end: mem-class-of]

// ---- the arena, its chunks and spans (heap.c) ------------------------------------------
// [snippet: mem-span]
// One record per chunk of the arena. While a size class holds the chunk, the
// chunk is a span of that class: blocks are cut from its start as needed
// (carved), and blocks coming back wait on its own free list.
struct mem_span {
    struct mem_free_block *free; // blocks given back, ready for reuse
    uint32_t carved;             // blocks cut from the chunk so far
    uint32_t live;               // blocks out of the span: in thread caches or in use
    uint8_t cls;
    bool listed;                  // on its class's list of spans with a block to give
    struct mem_span *prev, *next; // that list; for a free chunk, the free-chunk list
};
// [end: mem-span]

extern char *mem_arena;
extern size_t mem_arena_size; // HEAP_SIZE once mapped, 0 before or if mmap failed
extern struct mem_span mem_spans[MEM_NCHUNKS];
extern uint8_t mem_chunk_class[MEM_NCHUNKS];

// Maps the arena; returns 0 or -errno.
int mem_heap_init(void);
// A free chunk made into an empty span of class cls, or NULL if the arena is
// full. Caller holds mem_lock.
struct mem_span *mem_chunk_take(unsigned cls);
// Gives the span's chunk back to the arena; caller holds mem_lock.
void mem_chunk_release(struct mem_span *s);
// Fills the heap_* fields; caller holds mem_lock.
void mem_heap_stats(struct mem_stats *out);

static inline bool mem_in_arena(const void *p)
{
    return (uintptr_t)p - (uintptr_t)mem_arena < mem_arena_size;
}
static inline size_t mem_chunk_index(const void *p)
{
    return ((uintptr_t)p - (uintptr_t)mem_arena) / MEM_CHUNK_SIZE;
}
static inline char *mem_span_base(const struct mem_span *s)
{
    return mem_arena + (size_t)(s - mem_spans) * MEM_CHUNK_SIZE;
}

// ---- central lists (span.c) ----------------------------------------------------------
// mem_lock guards every span, the chunk lists, and the cache pool.
extern struct sys_mutex mem_lock;
// Takes up to want blocks of class c (carving new spans as needed), links
// them on *out, and returns how many: 0 only when the arena is full.
unsigned mem_central_take(unsigned c, struct mem_free_block **out, unsigned want);
// Gives a NULL-terminated list of marked free blocks back to their spans.
void mem_central_give(struct mem_free_block *list);

// ---- thread caches (cache.c) -----------------------------------------------------------
void *mem_cache_alloc(unsigned c);
void mem_cache_free(void *p, unsigned c);
void mem_cache_thread_exit(void);
// Adds the caches' counters to out; caller holds mem_lock.
void mem_cache_stats(struct mem_stats *out);

// ---- big blocks (big.c) --------------------------------------------------------------
void *mem_big_alloc(size_t n);
void mem_big_free(void *p);
// Mapped size of the big block p; panics (naming who) if p is not one.
size_t mem_big_size(void *p, const char *who);
void mem_big_stats(struct mem_stats *out);

// ---- checks (check.c) ----------------------------------------------------------------
// Class of p, a pointer into the arena, after checking it is the start of a
// block of a live span; with is_free, also that it is not free already.
// Panics (naming who) otherwise.
unsigned mem_check_block(const void *p, const char *who, bool is_free);
// Panics with "who: p what".
__attribute__((noreturn)) void mem_panic(const char *who, const void *p, const char *what);

#endif
