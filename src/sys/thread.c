// thread.c: clone-based threads; the child starts in asm on its own stack, never on the parent's frame.
#include "sys/thread.h"
#include "config.h"
#include "sys/atomic.h"
#include "sys/sys.h"

// [snippet: thread-init-main]
static struct sys_thread main_thread;

void sys_thread_init_main(void)
{
    main_thread.self = &main_thread;
    main_thread.tid = sys_gettid();
    main_thread.alive = 1;
    if (sys_arch_prctl(ARCH_SET_FS, (unsigned long)&main_thread) < 0)
        sys_panic("arch_prctl(ARCH_SET_FS) failed");
}
// [end: thread-init-main]

long sys_clone_raw(int (*fn)(void *), void *stack, unsigned long flags, void *arg, int *ptid, void *tls,
                   uint32_t *ctid);

// [snippet: clone-trampoline]
// sys_clone_raw(fn, stack, flags, arg, ptid, tls, ctid), the musl way.
// After `syscall`, parent and child run the same next instruction with the
// same registers, except rax (child: 0) and rsp (child: the new stack).
// The child must not touch the parent's stack frame: compiled C code would
// read locals and a return address that belong to the parent, which is
// running on them concurrently. So before the syscall we store fn and arg on
// the *new* stack, and the child only pops them and calls fn: no C code runs
// in the child until it is on its own stack with a fresh frame.
// Registers: rdi=fn rsi=stack rdx=flags rcx=arg r8=ptid r9=tls 8(%rsp)=ctid.
// clone's own order is (flags, stack, ptid, ctid, tls) in rdi rsi rdx r10 r8.
// Returns, in the parent, the child's tid or -errno; the child never returns:
// it calls fn(arg) and exits the thread with fn's result. Called only by
// sys_thread_spawn, with stack at the top of the new thread's mapping.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter" // naked: asm reads the registers
// [lab: sys_clone_raw]
__attribute__((naked)) long sys_clone_raw(int (*fn)(void *), void *stack, unsigned long flags, void *arg,
                                          int *ptid, void *tls, uint32_t *ctid)
{
    __asm__ volatile("and $-16, %rsi\n\t"
                     "sub $16, %rsi\n\t"
                     "mov %rdi, 0(%rsi)\n\t" // fn  at new_sp[0]
                     "mov %rcx, 8(%rsi)\n\t" // arg at new_sp[1]
                     "mov %rdx, %rdi\n\t"    // flags
                     "mov %r8, %rdx\n\t"     // ptid
                     "mov 8(%rsp), %r10\n\t" // ctid
                     "mov %r9, %r8\n\t"      // tls
                     "mov $56, %eax\n\t"     // NR_clone
                     "syscall\n\t"
                     "test %rax, %rax\n\t"
                     "jnz 1f\n\t"
                     // child: rsp = new_sp
                     "xor %ebp, %ebp\n\t"
                     "pop %rax\n\t"   // fn
                     "pop %rdi\n\t"   // arg; rsp is 16-aligned again
                     "call *%rax\n\t" // callee sees rsp = 8 mod 16, as the ABI wants
                     "mov %eax, %edi\n\t"
                     "mov $60, %eax\n\t" // NR_exit: this thread only, not exit_group
                     "syscall\n\t"
                     "hlt\n\t"
                     "1: ret\n\t");
}
// [end lab: sys_clone_raw]
#pragma GCC diagnostic pop
// [end: clone-trampoline]

// [snippet: thread-entry]
static int thread_entry(void *p)
{
    struct sys_thread *t = p;
    t->result = t->fn(t->arg);
    return t->result;
}
// [end: thread-entry]

// [snippet: thread-spawn]
int sys_thread_spawn(struct sys_thread **out, int (*fn)(void *), void *arg, size_t stack_size)
{
    size_t block = (sizeof(struct sys_thread) + 63) & ~(size_t)63;
    size_t size = (THREAD_GUARD_SIZE + stack_size + block + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
    char *map = sys_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (SYS_IS_ERR(map))
        return (int)(long)map;
    // The lowest page becomes the guard: a stack overflow faults right there
    // instead of silently overwriting whatever mapping lies below.
    int r = sys_mprotect(map, THREAD_GUARD_SIZE, PROT_NONE);
    if (r < 0) {
        sys_munmap(map, size);
        return r;
    }
    struct sys_thread *t = (struct sys_thread *)(map + size - block);
    *t = (struct sys_thread){.self = t, .alive = 1, .fn = fn, .arg = arg, .map = map, .map_size = size};

    unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                          CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    long tid = sys_clone_raw(thread_entry, t, flags, t, &t->tid, t, &t->alive);
    if (tid < 0) {
        sys_munmap(map, size);
        return (int)tid;
    }
    *out = t;
    return 0;
}
// [end: thread-spawn]

// [snippet: thread-join]
// Waits until t has exited (the kernel clears t->alive and wakes its futex,
// CLONE_CHILD_CLEARTID), then unmaps its stack and block. Returns the value
// t's function returned. Called once per thread by whoever spawned it (the
// executor's shutdown, the acceptor's stop, the demos); t is gone after it.
// [lab: sys_thread_join]
int sys_thread_join(struct sys_thread *t)
{
    // The kernel zeroes t->alive and does a futex wake on it when the thread
    // is gone (CLONE_CHILD_CLEARTID). That wake is a *shared* futex wake, so
    // we must wait without FUTEX_PRIVATE_FLAG or the two keys never meet.
    uint32_t v;
    while ((v = atomic_load_acquire(&t->alive)) != 0)
        syscall4(NR_futex, (long)&t->alive, FUTEX_WAIT, v, 0);
    int result = t->result;
    sys_munmap(t->map, t->map_size); // safe: the kernel no longer uses the stack
    return result;
}
// [end lab: sys_thread_join]
// [end: thread-join]
