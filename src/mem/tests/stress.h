// stress.h: helpers shared by the allocator's multi-threaded tests: a PRNG, request sizes, block patterns.
#ifndef MEM_TESTS_STRESS_H
#define MEM_TESTS_STRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/mem.h"
#include "sys/atomic.h"
#include "sys/sys.h"

// xorshift64*: fast, and good enough to pick sizes and slots.
static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

// A request size: log-uniform over 1 B .. 64 KiB (as many 20-byte requests
// as 20-KiB ones, like a server's structs and buffers), and one in big_one_in
// (0: never) a big block of 64 KiB .. 1 MiB.
static inline size_t random_size(uint64_t *s, unsigned big_one_in)
{
    uint64_t r = rng_next(s);
    if (big_one_in && r % big_one_in == 0)
        return 64 * 1024 + 1 + (size_t)(rng_next(s) % (960 * 1024));
    unsigned bits = 1 + (unsigned)((r >> 8) % 16);  // 1 .. 16
    size_t lo = (size_t)1 << (bits - 1), span = lo; // [2^(b-1), 2^b)
    return lo + (size_t)(rng_next(s) % span);
}

static inline uint64_t pattern_word(uint64_t tag, size_t i) { return (tag + i) * 0x9e3779b97f4a7c15ull; }

// Fills the block's first n bytes, rounded up to whole words (the usable
// size is a multiple of 16, so that stays inside the block): word 0 is the
// tag, the rest follow from it. A block that overlapped another live block
// would have the other's words in it.
static inline void pattern_fill(void *p, size_t n, uint64_t tag)
{
    uint64_t *w = p;
    size_t words = (n + 7) / 8;
    w[0] = tag;
    for (size_t i = 1; i < words; i++)
        w[i] = pattern_word(tag, i);
}

static inline bool pattern_ok(const void *p, size_t n, uint64_t tag)
{
    const uint64_t *w = p;
    size_t words = (n + 7) / 8;
    if (w[0] != tag)
        return false;
    for (size_t i = 1; i < words; i++)
        if (w[i] != pattern_word(tag, i))
            return false;
    return true;
}

// Cheap variant for the churn: the tag and the last word only.
static inline void ends_fill(void *p, size_t n, uint64_t tag)
{
    uint64_t *w = p;
    size_t words = (n + 7) / 8;
    w[0] = tag;
    if (words > 1)
        w[words - 1] = pattern_word(tag, words - 1);
}

static inline bool ends_ok(const void *p, size_t n, uint64_t tag)
{
    const uint64_t *w = p;
    size_t words = (n + 7) / 8;
    return w[0] == tag && (words == 1 || w[words - 1] == pattern_word(tag, words - 1));
}

// A slot shared by all threads: whoever puts a block in takes the old one
// out and frees it, so most blocks die on another thread than their own.
struct shared_slot {
    uint32_t lock;
    void *p;
    size_t n;
    uint64_t tag;
};

static inline void slot_lock(struct shared_slot *s)
{
    // More threads than cores: a holder may be preempted, so yield soon.
    for (int spins = 0; atomic_exchange(&s->lock, 1); spins++) {
        if (spins < 64)
            sys_cpu_relax();
        else
            sys_sched_yield();
    }
}

static inline void slot_unlock(struct shared_slot *s) { atomic_store_release(&s->lock, 0); }

// Puts block (p, n, tag) into s; returns the slot's previous contents in *old.
static inline void slot_swap(struct shared_slot *s, void *p, size_t n, uint64_t tag, struct shared_slot *old)
{
    slot_lock(s);
    old->p = s->p;
    old->n = s->n;
    old->tag = s->tag;
    s->p = p;
    s->n = n;
    s->tag = tag;
    slot_unlock(s);
}

#endif
