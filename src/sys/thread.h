// thread.h: kernel threads without libc: clone with an mmap'd stack, a TLS block, futex join.
#ifndef SYS_THREAD_H
#define SYS_THREAD_H

#include <stddef.h>
#include <stdint.h>

// [snippet: thread-slots]
// The per-thread pointers of struct sys_thread, one per layer that keeps
// something per thread. They are named here, in the lowest layer, so that two
// layers can never pick the same number by accident.
enum sys_thread_slot {
    SLOT_SCHED,        // sched: the ready queue the thread runs
    SLOT_EXECUTOR,     // exec: the executor's worker, set on its worker threads
    SLOT_MEM_CACHE,    // mem: the thread's allocator cache
    SLOT_NET_BUF,      // net: the thread's free list of I/O buffers
    SLOT_HTTP_LOG,     // http: the thread's log buffer
    SLOT_HTTP_METRICS, // http: the thread's counters
    SYS_THREAD_SLOTS
};
// [end: thread-slots]

// [snippet: thread-block]
// One per thread, at the top of its stack mapping; %fs points at it.
// The first field points at itself so that `mov %fs:0, reg` yields the
// block's address in one instruction (the x86_64 TLS ABI's convention).
struct sys_thread {
    struct sys_thread *self;
    int tid;        // written by the kernel (CLONE_PARENT_SETTID)
    uint32_t alive; // CLONE_CHILD_CLEARTID target: 0 once the thread is gone
    int (*fn)(void *);
    void *arg;
    int result;
    void *map; // whole mapping: guard page + stack + this block
    size_t map_size;
    // Per-thread pointers for later layers, indexed by enum sys_thread_slot.
    void *slot[SYS_THREAD_SLOTS];
};
// [end: thread-block]

// Makes %fs point at the main thread's block; called once by _start.
void sys_thread_init_main(void);

// Starts fn(arg) on a new thread with a stack of stack_size bytes (plus a
// guard page). Returns 0 and sets *out, or -errno (-ENOMEM, -EAGAIN).
int sys_thread_spawn(struct sys_thread **out, int (*fn)(void *), void *arg, size_t stack_size);

// Waits for t to exit, frees its stack and returns fn's return value.
int sys_thread_join(struct sys_thread *t);

#ifdef HOSTED
// The hosted stand-in (src/sys/hosted/) runs on libc's threads, whose %fs
// belongs to libc: there the block is found through a __thread pointer.
extern __thread struct sys_thread *sys_hosted_self;
static inline struct sys_thread *sys_thread_self(void) { return sys_hosted_self; }
#else
// [snippet: thread-self]
// The calling thread's block.
static inline struct sys_thread *sys_thread_self(void)
{
    struct sys_thread *t;
    __asm__("mov %%fs:0, %0" : "=r"(t));
    return t;
}
// [end: thread-self]
#endif

#endif
