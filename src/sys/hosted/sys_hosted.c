// sys_hosted.c: the parts of src/sys the cross-thread code uses, on libc, so ThreadSanitizer can see them.
//
// Our own threads are invisible to ThreadSanitizer: it learns about a thread
// from pthread_create and keeps its per-thread state in libc's TLS, while
// sys_thread_spawn calls clone() and points %fs at our own block. So the
// hosted build (-DHOSTED, `make tsan`) links this file instead of thread.c,
// panic.c and start.c, and compiles the real mem, sched and exec sources
// unchanged against it. Syscalls the code makes through the inline wrappers
// (futex, epoll, ppoll, eventfd, clock) stay raw, and the clock reads the
// vDSO as in the freestanding build: TSan needs to see memory accesses and
// atomics, not the kernel.
#define _GNU_SOURCE // gettid
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sys/thread.h"

// What the rest of src/sys declares in sys/sys.h, which cannot be included
// next to libc's headers (both define struct timespec and friends).
void *sys_hosted_mmap(void *addr, size_t len, int prot, int flags, int fd, long off);
int sys_hosted_munmap(void *addr, size_t len);
__attribute__((noreturn)) void sys_panic(const char *msg);
__attribute__((noreturn)) void sys_panic_at(const char *file, int line, const char *msg);
unsigned long sys_getauxval(unsigned long type);
const char *sys_getenv(const char *name);
int sys_cpu_count(void);
void sys_vdso_init(const void *ehdr);

__thread struct sys_thread *sys_hosted_self;

// The main thread's block and the arguments, in place before main() as
// _start would put them (glibc passes a constructor argc, argv and envp).
static struct sys_thread main_thread;
int sys_argc;
char **sys_argv;
char **sys_envp;
__attribute__((constructor)) static void hosted_init_main(int argc, char **argv, char **envp)
{
    sys_argc = argc, sys_argv = argv, sys_envp = envp;
    main_thread.self = &main_thread;
    main_thread.alive = 1;
    sys_hosted_self = &main_thread;
    sys_vdso_init((const void *)getauxval(AT_SYSINFO_EHDR)); // the clock reads the vDSO as in _start
}
void sys_thread_init_main(void) {}

struct hosted_thread {
    struct sys_thread t; // first: sys_thread_join gets this back from &t
    pthread_t pt;
};

static void *hosted_entry(void *p)
{
    struct sys_thread *t = p;
    sys_hosted_self = t;
    t->tid = gettid();
    t->result = t->fn(t->arg);
    return NULL;
}

// stack_size is ignored: the sanitizer's runtime needs more stack than our
// workers' 64 KiB, and libc's default (8 MiB, touched only as used) has it.
int sys_thread_spawn(struct sys_thread **out, int (*fn)(void *), void *arg, size_t stack_size)
{
    (void)stack_size;
    struct hosted_thread *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->t = (struct sys_thread){.self = &h->t, .alive = 1, .fn = fn, .arg = arg};
    int r = pthread_create(&h->pt, NULL, hosted_entry, &h->t);
    if (r != 0) {
        free(h);
        return -r;
    }
    *out = &h->t;
    return 0;
}

int sys_thread_join(struct sys_thread *t)
{
    struct hosted_thread *h = (struct hosted_thread *)t;
    pthread_join(h->pt, NULL);
    int result = t->result;
    free(h);
    return result;
}

void *sys_hosted_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
    void *p = mmap(addr, len, prot, flags, fd, off);
    return p == MAP_FAILED ? (void *)(long)-errno : p;
}

int sys_hosted_munmap(void *addr, size_t len) { return munmap(addr, len) == 0 ? 0 : -errno; }

// abort(), not exit: a sanitizer run should end loudly, with a core if wanted.
void sys_panic(const char *msg)
{
    fprintf(stderr, "panic: %s\n", msg);
    abort();
}
void sys_panic_at(const char *file, int line, const char *msg)
{
    fprintf(stderr, "panic: %s:%d: %s\n", file, line, msg);
    abort();
}

unsigned long sys_getauxval(unsigned long type) { return getauxval(type); }
const char *sys_getenv(const char *name) { return getenv(name); }
int sys_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
