// tsan.h: what the ThreadSanitizer stress tests share: iteration counts, the short run, a start line.
#ifndef SYS_HOSTED_TSAN_H
#define SYS_HOSTED_TSAN_H

#include <stdint.h>

#include "sys/atomic.h"
#include "sys/sys.h"

// `make tsan` runs every stress test with its full count; `make test` sets
// TSAN_SHORT=1 and gets a tenth, so the whole suite stays quick but every
// path is still crossed many times.
static inline uint64_t tsan_iters(uint64_t full)
{
    const char *s = sys_getenv("TSAN_SHORT");
    uint64_t n = s && s[0] && s[0] != '0' ? full / 10 : full;
    return n ? n : 1;
}

// Threads spin here until the main thread opens the gate, so they start together.
static inline void tsan_wait_gate(const uint32_t *gate)
{
    while (!atomic_load_acquire(gate))
        sys_sched_yield();
}

#endif
