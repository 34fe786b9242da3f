// lock.h: a futex-based mutex for the few places that need mutual exclusion, not lock-freedom.
#ifndef SYS_LOCK_H
#define SYS_LOCK_H

#include <stdint.h>

#include "sys/atomic.h"
#include "sys/sys.h"

// [snippet: futex-mutex]
// Three states (after Drepper, "Futexes Are Tricky"): 0 unlocked, 1 locked,
// 2 locked with possible sleepers. Uncontended lock and unlock are one atomic
// instruction each and no syscall; only a thread that has to wait, or has to
// wake a waiter, enters the kernel.
struct sys_mutex {
    uint32_t state;
};
#define SYS_MUTEX_INIT \
    {                  \
        0              \
    }

static inline void sys_mutex_lock(struct sys_mutex *m)
{
    uint32_t c = 0;
    if (atomic_cas(&m->state, &c, 1))
        return;
    for (int spin = 0; spin < 100; spin++) { // short critical sections: spin a little first
        sys_cpu_relax();
        c = 0;
        if (atomic_load_relaxed(&m->state) == 0 && atomic_cas(&m->state, &c, 1))
            return;
    }
    // Announce a sleeper (state 2) and sleep until we take the lock in state 2.
    while (atomic_exchange(&m->state, 2) != 0)
        sys_futex_wait(&m->state, 2, NULL);
}

static inline void sys_mutex_unlock(struct sys_mutex *m)
{
    if (atomic_exchange(&m->state, 0) == 2)
        sys_futex_wake(&m->state, 1);
}
// [end: futex-mutex]

#endif
