// kernel_abi.h: the kernel's structs and flag values as the x86_64 syscall ABI lays them out.
#ifndef SYS_KERNEL_ABI_H
#define SYS_KERNEL_ABI_H

#include <stddef.h>
#include <stdint.h>

typedef long ssize_t;

// ---- files ------------------------------------------------------------------
#define O_RDONLY      0
#define O_WRONLY      1
#define O_RDWR        2
#define O_CREAT       0100
#define O_TRUNC       01000
#define O_APPEND      02000
#define O_NONBLOCK    04000
#define O_CLOEXEC     02000000
#define AT_FDCWD      (-100)
#define F_GETFL       3
#define F_SETFL       4
#define STDIN_FILENO  0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

struct iovec {
    void *iov_base;
    size_t iov_len;
};

// ---- memory -----------------------------------------------------------------
#define PROT_NONE     0
#define PROT_READ     1
#define PROT_WRITE    2
#define MAP_SHARED    0x01
#define MAP_PRIVATE   0x02
#define MAP_FIXED     0x10
#define MAP_ANONYMOUS 0x20
#define MAP_NORESERVE 0x4000
#define MAP_STACK     0x20000
#define MAP_FAILED    ((void *)-1)
#define MADV_DONTNEED 4
#define PAGE_SIZE     4096

// ---- processes and threads ------------------------------------------------------
#define CLONE_VM             0x00000100
#define CLONE_FS             0x00000200
#define CLONE_FILES          0x00000400
#define CLONE_SIGHAND        0x00000800
#define CLONE_THREAD         0x00010000
#define CLONE_SYSVSEM        0x00040000
#define CLONE_SETTLS         0x00080000
#define CLONE_PARENT_SETTID  0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define ARCH_SET_FS          0x1002
#define WNOHANG              1

// wait4 status decoding (the kernel's encoding, same as glibc's macros).
#define W_EXITCODE(s)   (((s)&0xff00) >> 8)
#define W_TERMSIG(s)    ((s)&0x7f)
#define W_IFEXITED(s)   (W_TERMSIG(s) == 0)
#define W_IFSIGNALED(s) (((signed char)(((s)&0x7f) + 1) >> 1) > 0)

// ---- futex ------------------------------------------------------------------
#define FUTEX_WAIT         0
#define FUTEX_WAKE         1
#define FUTEX_PRIVATE_FLAG 128

// ---- time -------------------------------------------------------------------
#define CLOCK_REALTIME           0
#define CLOCK_MONOTONIC          1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID  3
struct timespec {
    long tv_sec;
    long tv_nsec;
};

// ---- signals ----------------------------------------------------------------
#define SIGHUP      1
#define SIGINT      2
#define SIGQUIT     3
#define SIGILL      4
#define SIGABRT     6
#define SIGBUS      7
#define SIGFPE      8
#define SIGKILL     9
#define SIGUSR1     10
#define SIGSEGV     11
#define SIGUSR2     12
#define SIGPIPE     13
#define SIGALRM     14
#define SIGTERM     15
#define SIGCHLD     17
#define SA_SIGINFO  0x00000004
#define SA_RESTORER 0x04000000
#define SA_RESTART  0x10000000
#define SIG_BLOCK   0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SIG_DFL     ((void (*)(int))0)
#define SIG_IGN     ((void (*)(int))1)

// [snippet: kernel-sigaction]
// The kernel's struct sigaction (not libc's): the mask is one 64-bit word
// and the restorer is a field. sizeof(mask) is passed to rt_sigaction.
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};
// [end: kernel-sigaction]

// ---- sockets ----------------------------------------------------------------
#define AF_UNIX          1
#define AF_INET          2
#define SOCK_STREAM      1
#define SOCK_DGRAM       2
#define SOCK_NONBLOCK    04000
#define SOCK_CLOEXEC     02000000
#define SOL_SOCKET       1
#define SO_REUSEADDR     2
#define SO_ERROR         4
#define SO_SNDBUF        7
#define SO_RCVBUF        8
#define SO_KEEPALIVE     9
#define SO_LINGER        13
#define SO_REUSEPORT     15
#define IPPROTO_TCP      6
#define TCP_NODELAY      1
#define TCP_DEFER_ACCEPT 9
#define MSG_DONTWAIT     0x40
#define MSG_NOSIGNAL     0x4000
#define SHUT_RD          0
#define SHUT_WR          1
#define SHUT_RDWR        2

struct sockaddr_in {
    uint16_t sin_family;
    uint16_t sin_port; // network byte order
    uint32_t sin_addr; // network byte order
    uint8_t sin_zero[8];
};

struct msghdr {
    void *msg_name;
    unsigned msg_namelen;
    struct iovec *msg_iov;
    size_t msg_iovlen;
    void *msg_control;
    size_t msg_controllen;
    int msg_flags;
};

struct linger {
    int l_onoff;
    int l_linger;
};

// ---- poll and epoll ------------------------------------------------------------
#define POLLIN    0x001
#define POLLPRI   0x002
#define POLLOUT   0x004
#define POLLERR   0x008
#define POLLHUP   0x010
#define POLLNVAL  0x020
#define POLLRDHUP 0x2000
struct pollfd {
    int fd;
    short events;
    short revents;
};

#define EPOLL_CLOEXEC 02000000
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3
#define EPOLLIN       0x001
#define EPOLLOUT      0x004
#define EPOLLERR      0x008
#define EPOLLHUP      0x010
#define EPOLLRDHUP    0x2000
#define EPOLLONESHOT  (1u << 30)
#define EPOLLET       (1u << 31)
// [snippet: epoll-event]
// On x86_64 the kernel packs epoll_event to 12 bytes (a historical i386
// compatibility quirk); an unpacked struct would be 16 and corrupt arrays.
struct epoll_event {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));
// [end: epoll-event]

#define EFD_CLOEXEC  02000000
#define EFD_NONBLOCK 04000

// ---- resource limits -------------------------------------------------------------
#define RLIMIT_NOFILE 7
struct rlimit {
    unsigned long cur;
    unsigned long max;
};

// ---- auxiliary vector ------------------------------------------------------------
#define AT_NULL         0
#define AT_PAGESZ       6
#define AT_RANDOM       25
#define AT_SYSINFO_EHDR 33

#endif
