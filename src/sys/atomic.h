// atomic.h: short names for the C11/GCC atomic builtins the lock-free code uses, and cpu_relax.
#ifndef SYS_ATOMIC_H
#define SYS_ATOMIC_H

// [snippet: atomic-ops]
#define atomic_load_relaxed(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define atomic_load_acquire(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define atomic_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define atomic_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define atomic_load_seq(p)         __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define atomic_store_seq(p, v)     __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define atomic_fetch_add(p, v)     __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define atomic_fetch_sub(p, v)     __atomic_fetch_sub((p), (v), __ATOMIC_SEQ_CST)
#define atomic_add_relaxed(p, v)   __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define atomic_exchange(p, v)      __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
// Strong CAS; on failure *expected is updated with the current value.
#define atomic_cas(p, expected, desired) \
    __atomic_compare_exchange_n((p), (expected), (desired), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
#define atomic_fence()         __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define atomic_fence_acquire() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define atomic_fence_release() __atomic_thread_fence(__ATOMIC_RELEASE)

// Tells the CPU we are spinning (x86 `pause`): saves power and avoids a
// memory-order mis-speculation penalty when the awaited store arrives.
static inline void sys_cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
// [end: atomic-ops]

#endif
