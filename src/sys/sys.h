// sys.h: tier 2 of the syscall layer, one typed wrapper per syscall, each returning -errno on failure.
#ifndef SYS_H
#define SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sys/errno.h"
#include "sys/kernel_abi.h"
#include "sys/syscall_nr.h"
#include "sys/syscall_raw.h"

// [snippet: sys-wrappers]
// Wrappers are static inline: a wrapper costs nothing over the raw syscall,
// and the hot path (recv/send/epoll_wait) should be just the instruction.
// Every wrapper returns what the kernel returned: >= 0 on success, -errno on
// failure. There is no global errno; callers look at the value.

#define SC(n) ((long)(n))

// ---- files --------------------------------------------------------------------
static inline ssize_t sys_read(int fd, void *buf, size_t n) { return syscall3(NR_read, fd, SC(buf), SC(n)); }
static inline ssize_t sys_write(int fd, const void *buf, size_t n)
{
    return syscall3(NR_write, fd, SC(buf), SC(n));
}
static inline ssize_t sys_writev(int fd, const struct iovec *iov, int cnt)
{
    return syscall3(NR_writev, fd, SC(iov), cnt);
}
static inline int sys_openat(int dirfd, const char *path, int flags, int mode)
{
    return (int)syscall4(NR_openat, dirfd, SC(path), flags, mode);
}
static inline int sys_open(const char *path, int flags, int mode)
{
    return sys_openat(AT_FDCWD, path, flags, mode);
}
static inline int sys_close(int fd) { return (int)syscall1(NR_close, fd); }
static inline long sys_lseek(int fd, long off, int whence) { return syscall3(NR_lseek, fd, off, whence); }
static inline int sys_pipe2(int fds[2], int flags) { return (int)syscall2(NR_pipe2, SC(fds), flags); }
static inline int sys_dup2(int oldfd, int newfd) { return (int)syscall2(NR_dup2, oldfd, newfd); }
static inline int sys_fcntl(int fd, int cmd, long arg) { return (int)syscall3(NR_fcntl, fd, cmd, arg); }
// [end: sys-wrappers]

// ---- memory -------------------------------------------------------------------
// mmap returns an address or -errno; test with SYS_IS_ERR, not with < 0.
#ifdef HOSTED
// Hosted (src/sys/hosted/): through libc, so a sanitizer's interceptors see
// every mapping come and go and never judge new memory by an old one's past.
void *sys_hosted_mmap(void *addr, size_t len, int prot, int flags, int fd, long off);
int sys_hosted_munmap(void *addr, size_t len);
#define sys_mmap   sys_hosted_mmap
#define sys_munmap sys_hosted_munmap
#else
static inline void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
    return (void *)syscall6(NR_mmap, SC(addr), SC(len), prot, flags, fd, off);
}
static inline int sys_munmap(void *addr, size_t len) { return (int)syscall2(NR_munmap, SC(addr), SC(len)); }
#endif
static inline int sys_mprotect(void *addr, size_t len, int prot)
{
    return (int)syscall3(NR_mprotect, SC(addr), SC(len), prot);
}
static inline int sys_madvise(void *addr, size_t len, int advice)
{
    return (int)syscall3(NR_madvise, SC(addr), SC(len), advice);
}

// ---- processes and threads --------------------------------------------------------
// [snippet: exit-thread-group]
// exit ends only the calling thread; exit_group ends the whole process.
// The original's panic path called exit and left the other threads running.
__attribute__((noreturn)) static inline void sys_exit_thread(int code)
{
    for (;;)
        syscall1(NR_exit, code);
}
__attribute__((noreturn)) static inline void sys_exit_group(int code)
{
    for (;;)
        syscall1(NR_exit_group, code);
}
// [end: exit-thread-group]
static inline int sys_getpid(void) { return (int)syscall0(NR_getpid); }
static inline int sys_gettid(void) { return (int)syscall0(NR_gettid); }
static inline int sys_tgkill(int tgid, int tid, int sig) { return (int)syscall3(NR_tgkill, tgid, tid, sig); }
static inline int sys_kill(int pid, int sig) { return (int)syscall2(NR_kill, pid, sig); }
static inline int sys_wait4(int pid, int *status, int options, void *rusage)
{
    return (int)syscall4(NR_wait4, pid, SC(status), options, SC(rusage));
}
static inline int sys_execve(const char *path, char *const argv[], char *const envp[])
{
    return (int)syscall3(NR_execve, SC(path), SC(argv), SC(envp));
}
static inline int sys_sched_yield(void) { return (int)syscall0(NR_sched_yield); }
static inline int sys_sched_getaffinity(int pid, size_t size, void *mask)
{
    return (int)syscall3(NR_sched_getaffinity, pid, SC(size), SC(mask));
}
static inline int sys_arch_prctl(int code, unsigned long addr)
{
    return (int)syscall2(NR_arch_prctl, code, SC(addr));
}
static inline int sys_prlimit(int pid, int res, const struct rlimit *nw, struct rlimit *old)
{
    return (int)syscall4(NR_prlimit64, pid, res, SC(nw), SC(old));
}
static inline long sys_getrandom(void *buf, size_t n, unsigned flags)
{
    return syscall3(NR_getrandom, SC(buf), SC(n), flags);
}

// fork as clone(SIGCHLD) with no shared VM: the child gets a copy of the
// address space, so it may keep running C code on its copy of the stack.
static inline int sys_fork(void) { return (int)syscall5(NR_clone, SIGCHLD, 0, 0, 0, 0); }

// ---- futex --------------------------------------------------------------------
// [snippet: futex-wrappers]
// futex_wait sleeps only if *addr still equals expected (checked atomically
// by the kernel), so a wake between our check and the sleep is not lost.
// Returns 0 when woken, -EAGAIN if *addr != expected, -ETIMEDOUT, -EINTR.
static inline int sys_futex_wait(const uint32_t *addr, uint32_t expected, const struct timespec *timeout)
{
    return (int)syscall4(NR_futex, SC(addr), FUTEX_WAIT | FUTEX_PRIVATE_FLAG, expected, SC(timeout));
}
// Wakes up to n waiters; returns how many were woken.
static inline int sys_futex_wake(const uint32_t *addr, int n)
{
    return (int)syscall3(NR_futex, SC(addr), FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n);
}
// [end: futex-wrappers]

// ---- time ---------------------------------------------------------------------
static inline int sys_clock_gettime(int clock, struct timespec *ts)
{
    return (int)syscall2(NR_clock_gettime, clock, SC(ts));
}
static inline int sys_nanosleep(const struct timespec *req, struct timespec *rem)
{
    return (int)syscall2(NR_nanosleep, SC(req), SC(rem));
}

// ---- signals --------------------------------------------------------------------
static inline int sys_rt_sigaction(int sig, const struct kernel_sigaction *act, struct kernel_sigaction *old)
{
    return (int)syscall4(NR_rt_sigaction, sig, SC(act), SC(old), sizeof(uint64_t));
}
static inline int sys_rt_sigprocmask(int how, const uint64_t *set, uint64_t *old)
{
    return (int)syscall4(NR_rt_sigprocmask, how, SC(set), SC(old), sizeof(uint64_t));
}

// ---- sockets --------------------------------------------------------------------
static inline int sys_socket(int domain, int type, int proto)
{
    return (int)syscall3(NR_socket, domain, type, proto);
}
static inline int sys_bind(int fd, const void *addr, unsigned len)
{
    return (int)syscall3(NR_bind, fd, SC(addr), len);
}
static inline int sys_listen(int fd, int backlog) { return (int)syscall2(NR_listen, fd, backlog); }
static inline int sys_connect(int fd, const void *addr, unsigned len)
{
    return (int)syscall3(NR_connect, fd, SC(addr), len);
}
static inline int sys_accept4(int fd, void *addr, unsigned *len, int flags)
{
    return (int)syscall4(NR_accept4, fd, SC(addr), SC(len), flags);
}
static inline int sys_setsockopt(int fd, int level, int opt, const void *val, unsigned len)
{
    return (int)syscall5(NR_setsockopt, fd, level, opt, SC(val), len);
}
static inline int sys_getsockopt(int fd, int level, int opt, void *val, unsigned *len)
{
    return (int)syscall5(NR_getsockopt, fd, level, opt, SC(val), SC(len));
}
static inline int sys_getsockname(int fd, void *addr, unsigned *len)
{
    return (int)syscall3(NR_getsockname, fd, SC(addr), SC(len));
}
static inline ssize_t sys_recv(int fd, void *buf, size_t n, int flags)
{
    return syscall6(NR_recvfrom, fd, SC(buf), SC(n), flags, 0, 0);
}
static inline ssize_t sys_send(int fd, const void *buf, size_t n, int flags)
{
    return syscall6(NR_sendto, fd, SC(buf), SC(n), flags, 0, 0);
}
static inline ssize_t sys_sendmsg(int fd, const struct msghdr *m, int flags)
{
    return syscall3(NR_sendmsg, fd, SC(m), flags);
}
static inline int sys_shutdown(int fd, int how) { return (int)syscall2(NR_shutdown, fd, how); }
static inline int sys_socketpair(int domain, int type, int proto, int fds[2])
{
    return (int)syscall4(NR_socketpair, domain, type, proto, SC(fds));
}

// ---- readiness ------------------------------------------------------------------
static inline int sys_ppoll(struct pollfd *fds, unsigned long n, const struct timespec *timeout,
                            const uint64_t *sigmask)
{
    return (int)syscall5(NR_ppoll, SC(fds), n, SC(timeout), SC(sigmask), sizeof(uint64_t));
}
static inline int sys_epoll_create1(int flags) { return (int)syscall1(NR_epoll_create1, flags); }
static inline int sys_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    return (int)syscall4(NR_epoll_ctl, epfd, op, fd, SC(ev));
}
static inline int sys_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
    return (int)syscall4(NR_epoll_wait, epfd, SC(evs), max, timeout_ms);
}
static inline int sys_eventfd2(unsigned initval, int flags)
{
    return (int)syscall2(NR_eventfd2, initval, flags);
}

// ---- io_uring ---------------------------------------------------------------------
// Linux 5.1 and later; -ENOSYS before, -EPERM where
// /proc/sys/kernel/io_uring_disabled or a seccomp filter forbids it.
// Returns the ring's fd; p is read (entries, flags) and written (sizes, offsets, features).
static inline int sys_io_uring_setup(unsigned entries, struct io_uring_params *p)
{
    return (int)syscall2(NR_io_uring_setup, entries, SC(p));
}
// Submits to_submit SQEs and, with IORING_ENTER_GETEVENTS, waits until
// min_complete CQEs are in the ring. arg is a signal mask of argsz bytes, or
// with IORING_ENTER_EXT_ARG a struct io_uring_getevents_arg (sigmask and
// timeout) and argsz its size. Returns the number of SQEs consumed or -errno.
static inline int sys_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
                                     const void *arg, size_t argsz)
{
    return (int)syscall6(NR_io_uring_enter, fd, to_submit, min_complete, flags, SC(arg), SC(argsz));
}
static inline int sys_io_uring_register(int fd, unsigned op, void *arg, unsigned nr_args)
{
    return (int)syscall4(NR_io_uring_register, fd, op, SC(arg), nr_args);
}

#undef SC

// ---- tier 3: conveniences built on the wrappers (sys/io.c, sys/start.c) -------------
// Writes all n bytes, resuming after short writes and EINTR; returns n or -errno.
ssize_t sys_write_all(int fd, const void *buf, size_t n);
// Writes a NUL-terminated string to fd; returns as sys_write_all.
ssize_t sys_puts(int fd, const char *s);
// Prints "panic: msg" to stderr and ends the whole process (exit_group, not exit).
__attribute__((noreturn)) void sys_panic(const char *msg);
// The same with the place in front: "panic: file.c:42: msg". For the checks
// that catch a programming error (a broken invariant, not bad input): the
// message names the line to read, where a bare trap would say only SIGILL.
__attribute__((noreturn)) void sys_panic_at(const char *file, int line, const char *msg);
#define SYS_PANIC(msg) sys_panic_at(__FILE__, __LINE__, (msg))
// Number of CPUs this process may run on (sched_getaffinity), at least 1.
int sys_cpu_count(void);
// Raises RLIMIT_NOFILE's soft limit to its hard limit and returns the soft
// limit in force afterwards (unchanged if raising failed), or -errno if the
// limit cannot be read.
long sys_fd_limit_raise(void);
// Value of auxv entry `type` (AT_PAGESZ ...), or 0 when absent.
unsigned long sys_getauxval(unsigned long type);
// Value of environment variable `name`, or NULL.
const char *sys_getenv(const char *name);
// Process arguments and environment as _start found them.
extern int sys_argc;
extern char **sys_argv;
extern char **sys_envp;

#endif
