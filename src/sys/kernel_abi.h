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

// ---- io_uring (include/uapi/linux/io_uring.h) --------------------------------------
// Only the parts the ring layer (src/exec/uring.c) uses; the sizes are checked
// below, since a field out of place here corrupts what the kernel reads.
#define IORING_SETUP_CQSIZE        (1u << 3) // cq_entries is ours, not 2 * sq_entries
#define IORING_SETUP_CLAMP         (1u << 4) // too-large sizes are clamped, not refused
#define IORING_SETUP_R_DISABLED    (1u << 6) // created disabled: IORING_REGISTER_ENABLE_RINGS starts it (5.10)
#define IORING_SETUP_SUBMIT_ALL    (1u << 7) // a bad SQE fails alone, the rest still go (5.18)
#define IORING_SETUP_COOP_TASKRUN  (1u << 8) // no IPI to run completions; done at our next enter (5.19)
#define IORING_SETUP_TASKRUN_FLAG  (1u << 9) // with COOP_TASKRUN: IORING_SQ_TASKRUN says one is waiting (5.19)
#define IORING_SETUP_SINGLE_ISSUER (1u << 12) // one thread submits (6.0)
#define IORING_SETUP_DEFER_TASKRUN (1u << 13) // completions posted only when that thread waits (6.1)

#define IORING_FEAT_SINGLE_MMAP (1u << 0) // SQ and CQ rings share one mapping (5.4)
#define IORING_FEAT_NODROP      (1u << 1) // an overflowing CQE is kept, not dropped (5.5)
#define IORING_FEAT_EXT_ARG     (1u << 8) // io_uring_enter takes struct io_uring_getevents_arg (5.11)

#define IORING_OFF_SQ_RING 0ull
#define IORING_OFF_CQ_RING 0x8000000ull
#define IORING_OFF_SQES    0x10000000ull

#define IORING_ENTER_GETEVENTS       (1u << 0)
#define IORING_ENTER_EXT_ARG         (1u << 3)
#define IORING_ENTER_REGISTERED_RING (1u << 4) // fd is an index this thread registered (5.18)

#define IORING_SQ_NEED_WAKEUP (1u << 0)
#define IORING_SQ_CQ_OVERFLOW (1u << 1) // completions wait in the kernel's overflow list
#define IORING_SQ_TASKRUN     (1u << 2) // completions wait as task work for our next enter

#define IOSQE_IO_LINK       (1u << 2)
#define IOSQE_ASYNC         (1u << 4)
#define IOSQE_BUFFER_SELECT (1u << 5) // take the buffer from sqe->buf_group

#define IORING_CQE_F_BUFFER     (1u << 0) // flags >> IORING_CQE_BUFFER_SHIFT is the buffer id
#define IORING_CQE_F_MORE       (1u << 1) // the request stays armed: more CQEs will follow
#define IORING_CQE_BUFFER_SHIFT 16

#define IORING_RECV_MULTISHOT   (1u << 1) // in sqe->ioprio of a RECV
#define IORING_ACCEPT_MULTISHOT (1u << 0) // in sqe->ioprio of an ACCEPT

#define IORING_ASYNC_CANCEL_ALL (1u << 0) // every request matching the key, not the first
#define IORING_ASYNC_CANCEL_FD  (1u << 1) // match on sqe->fd instead of user_data
#define IORING_ASYNC_CANCEL_ANY (1u << 2)

enum io_uring_op {
    IORING_OP_NOP = 0,
    IORING_OP_POLL_ADD = 6,
    IORING_OP_POLL_REMOVE = 7,
    IORING_OP_SENDMSG = 9,
    IORING_OP_RECVMSG = 10,
    IORING_OP_TIMEOUT = 11,
    IORING_OP_TIMEOUT_REMOVE = 12,
    IORING_OP_ACCEPT = 13,
    IORING_OP_ASYNC_CANCEL = 14,
    IORING_OP_LINK_TIMEOUT = 15,
    IORING_OP_CONNECT = 16,
    IORING_OP_CLOSE = 19,
    IORING_OP_SEND = 26,
    IORING_OP_RECV = 27,
    IORING_OP_SHUTDOWN = 34,
};

enum io_uring_register_op {
    IORING_REGISTER_PROBE = 8,
    IORING_REGISTER_ENABLE_RINGS = 12, // start a ring set up with R_DISABLED
    IORING_REGISTER_RING_FDS = 20,     // this thread names the ring by an index (5.18)
    IORING_UNREGISTER_RING_FDS = 21,
    IORING_REGISTER_PBUF_RING = 22,
    IORING_UNREGISTER_PBUF_RING = 23,
    IORING_REGISTER_PBUF_STATUS = 26,
};

struct io_sqring_offsets {
    uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1;
    uint64_t user_addr;
};

struct io_cqring_offsets {
    uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1;
    uint64_t user_addr;
};

struct io_uring_params {
    uint32_t sq_entries;
    uint32_t cq_entries;
    uint32_t flags;
    uint32_t sq_thread_cpu;
    uint32_t sq_thread_idle;
    uint32_t features;
    uint32_t wq_fd;
    uint32_t resv[3];
    struct io_sqring_offsets sq_off;
    struct io_cqring_offsets cq_off;
};

// One submission: 64 bytes. The unions of the kernel's header are reduced to
// the names this project uses; each keeps its offset.
struct io_uring_sqe {
    uint8_t opcode;
    uint8_t flags;   // IOSQE_*
    uint16_t ioprio; // for RECV and ACCEPT: the multishot flag
    int32_t fd;
    uint64_t off;  // TIMEOUT: completion count; SEND/RECV: unused
    uint64_t addr; // buffer, msghdr, timespec, or the user_data to cancel
    uint32_t len;
    uint32_t op_flags; // msg_flags, timeout_flags, accept_flags, cancel_flags
    uint64_t user_data;
    uint16_t buf_group; // with IOSQE_BUFFER_SELECT
    uint16_t personality;
    uint32_t file_index;
    uint64_t addr3;
    uint64_t pad2;
};

struct io_uring_cqe {
    uint64_t user_data;
    int32_t res; // the syscall's result: >= 0, or -errno
    uint32_t flags;
};

// One entry of IORING_REGISTER_RING_FDS: data is the ring's fd; offset is
// the index to use (UINT32_MAX: the kernel picks one and writes it back).
struct io_uring_rsrc_update {
    uint32_t offset;
    uint32_t resv;
    uint64_t data;
};

// The wait argument of io_uring_enter with IORING_ENTER_EXT_ARG.
struct io_uring_getevents_arg {
    uint64_t sigmask;
    uint32_t sigmask_sz;
    uint32_t min_wait_usec;
    uint64_t ts; // address of a struct timespec
};

#define IO_URING_OP_SUPPORTED (1u << 0)
struct io_uring_probe_op {
    uint8_t op;
    uint8_t resv;
    uint16_t flags; // IO_URING_OP_SUPPORTED
    uint32_t resv2;
};
struct io_uring_probe {
    uint8_t last_op;
    uint8_t ops_len;
    uint16_t resv;
    uint32_t resv2[3];
    struct io_uring_probe_op ops[];
};

// A provided buffer, as the application puts it in a buffer ring.
struct io_uring_buf {
    uint64_t addr;
    uint32_t len;
    uint16_t bid;
    uint16_t resv;
};
// The buffer ring is an array of io_uring_buf whose first entry's resv field
// is the ring's tail: the application's producer index (the kernel keeps its
// head to itself).
#define IO_URING_BUF_RING_TAIL_OFFSET 14
struct io_uring_buf_reg {
    uint64_t ring_addr;
    uint32_t ring_entries;
    uint16_t bgid;
    uint16_t flags;
    uint64_t resv[3];
};
struct io_uring_buf_status {
    uint32_t buf_group; // in
    uint32_t head;      // out: the kernel's consumer index
    uint32_t resv[8];
};

_Static_assert(sizeof(struct io_uring_sqe) == 64, "io_uring_sqe is 64 bytes");
_Static_assert(offsetof(struct io_uring_sqe, user_data) == 32, "sqe user_data at 32");
_Static_assert(offsetof(struct io_uring_sqe, buf_group) == 40, "sqe buf_group at 40");
_Static_assert(sizeof(struct io_uring_cqe) == 16, "io_uring_cqe is 16 bytes");
_Static_assert(sizeof(struct io_uring_params) == 120, "io_uring_params is 120 bytes");
_Static_assert(sizeof(struct io_uring_getevents_arg) == 24, "io_uring_getevents_arg is 24 bytes");
_Static_assert(sizeof(struct io_uring_probe) == 16 && sizeof(struct io_uring_probe_op) == 8, "probe layout");
_Static_assert(sizeof(struct io_uring_buf) == 16, "io_uring_buf is 16 bytes");
_Static_assert(sizeof(struct io_uring_buf_reg) == 40, "io_uring_buf_reg is 40 bytes");
_Static_assert(sizeof(struct io_uring_buf_status) == 40, "io_uring_buf_status is 40 bytes");

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
