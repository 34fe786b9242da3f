// completion.h: completion requests on the io_uring backend: submit a recv or send, await it, cancel it.
#ifndef EXEC_COMPLETION_H
#define EXEC_COMPLETION_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"
#include "sys/kernel_abi.h"

// [snippet: ex-op]
// One request handed to the kernel. Its address is the request's user_data,
// so the record must stay where it is until the completion arrived: whoever
// owns it (a net_stream) cancels and waits (ex_op_cancel_wait) before it
// frees the memory. The poller stores res and flags, then state (release),
// and only then wakes the task; the task reads state (acquire), then res.
#define EX_OP_IDLE   0 // not submitted, or its result was taken
#define EX_OP_FLIGHT 1 // queued or in the kernel: the kernel may still use its memory
#define EX_OP_DONE   2 // completed: res and flags are valid
struct ex_op {
    _Alignas(8) uint32_t state; // 8-aligned: the low 3 bits of the address are free for a tag
    int32_t res;                // the CQE's result: bytes, or -errno
    uint32_t flags;             // the CQE's flags (IORING_CQE_F_BUFFER and the buffer id)
    struct waker waker;         // woken when the completion arrives
    uint32_t selects;           // a recv that may pick a provided buffer (ex_op_bufs_trim)
};
// [end: ex-op]

// True when the executor runs the io_uring backend: then net's futures take
// the completion path below instead of readiness and retried syscalls.
bool ex_completion_active(void);

// Queue a request for op (state must be EX_OP_IDLE): it goes to the kernel in
// the poller's next io_uring_enter, together with everything else queued in
// that turn. Each returns 0 (op is EX_OP_FLIGHT), or -errno.
// A recv whose buffer the kernel picks from the provided-buffer ring at
// completion time, at most len bytes (see ex_op_buf).
int ex_op_recv(struct ex_op *op, int fd, uint32_t len, struct waker w);
// A send of one buffer, or of a msghdr's iovecs. The memory (and the msghdr)
// belongs to the kernel until op completes.
int ex_op_send(struct ex_op *op, int fd, const void *buf, uint32_t len, int msg_flags, struct waker w);
int ex_op_sendmsg(struct ex_op *op, int fd, const struct msghdr *m, int msg_flags, struct waker w);
// Cancels op if it is in flight and returns only once its completion has
// arrived (op is then EX_OP_DONE): afterwards the kernel holds nothing of
// op's or of the memory it pointed at. Blocks the calling worker briefly
// (one poller turn); meant for closing a connection, which is rare.
void ex_op_cancel_wait(struct ex_op *op);

// [snippet: ex-accept]
// A multishot accept: one request that completes once per new connection
// until it fails or is cancelled. The poller puts each accepted fd in the
// queue and wakes the owner, which takes them with ex_accept_take. Its op
// is EX_OP_FLIGHT while the request is in the kernel and EX_OP_DONE once it
// ended, with op.res saying why (-EMFILE, -ECANCELED, ...); then the owner
// may start it again. The queue is single-producer (the ring's poller),
// single-consumer (the owner), in chunks: one reap may bring thousands of
// connections (a burst the kernel accepted while the owner was busy), and
// none may be lost, so the poller links a new chunk when one is full.
// Only when even that fails (out of memory) is a connection closed at once
// (counted in dropped).
#define EX_ACCEPT_CHUNK 62 // fds per chunk: a chunk is 256 bytes
struct ex_accept_chunk {
    struct ex_accept_chunk *next; // set once, by the producer, when it moves on
    uint32_t filled;              // fds[0..filled) written (release by the producer)
    int fds[EX_ACCEPT_CHUNK];
};
struct ex_accept {
    struct ex_op op;
    struct ex_accept_chunk *head; // the consumer's chunk, and its next fd to take
    uint32_t taken;
    struct ex_accept_chunk *tail; // the producer's chunk
    uint32_t dropped;
};
// [end: ex-accept]
// Starts the multishot accept on listen_fd for task w (a zeroed, or ended).
// 0 or -errno (-ENOSYS: not on io_uring, -ENOMEM).
int ex_accept_start(struct ex_accept *a, int listen_fd, struct waker w);
// The next accepted fd (non-blocking, close-on-exec), or -EAGAIN.
int ex_accept_take(struct ex_accept *a);
// Cancels the request and returns once it has ended; fds accepted before
// are still in the queue, for the caller to take (or close).
void ex_accept_cancel_wait(struct ex_accept *a);
// After the request ended and the queue was emptied: frees its chunks.
void ex_accept_release(struct ex_accept *a);
// Queues a close of fd on the ring that served op (a stream's request): one
// syscall fewer per connection. The fd is closed when the poller next
// enters; nothing may use it from now on. Without io_uring: close(2).
void ex_op_close(const struct ex_op *op, int fd);

// The provided buffer a completed recv carries: its id (-1 if none; the
// id names the ring and the buffer), its bytes, and giving it back to the
// kernel's ring.
int ex_op_buf_id(const struct ex_op *op);
const uint8_t *ex_op_buf(uint32_t id);
void ex_op_buf_put(uint32_t id);
// After a close: gives the pages of the provided buffers of op's ring back
// to the kernel if nothing can be using them (no recv in flight on the
// ring, no buffer out), at most every EX_URING_TRIM_MS. Cheap when it does
// nothing, as on every close but a ring's last.
void ex_op_bufs_trim(const struct ex_op *op);

// For the tests of shutdown: requests submitted and not yet completed, and
// provided buffers taken by a completion and not yet given back. Both are
// 0 after a clean ex_join. Readable after ex_join.
struct ex_op_stats {
    uint32_t in_flight, bufs_out;
    uint64_t submitted, enters, enobufs;
    uint64_t busy;              // enters the kernel refused with -EBUSY (its CQ overflowed)
    int32_t bufs_unregistered;  // after the backend's teardown: its buffer ring's unregister, 0 or -errno
    uint32_t rings;             // rings the backend runs: one, or one per worker (per-core)
    uint32_t single_issuer;     // of them, set up SINGLE_ISSUER | DEFER_TASKRUN (per-core, Linux 6.1)
    uint32_t bufs_added;        // provided buffers the rings have added so far (they grow on -ENOBUFS)
    uint64_t bufs_trims;        // times a ring's buffers gave their pages back (ex_op_bufs_trim)
    uint64_t enters_registered; // of the enters, by a ring's registered fd (per-core, Linux 5.18)
};
void ex_op_stats(struct ex_op_stats *out);
// For the tests of buffer exhaustion: the next io_uring backend gets n
// provided buffers instead of EX_URING_BUFS (0: the default again).
void ex_op_set_test_bufs(uint32_t n);
// For the tests of a full ring: the next io_uring backend gets an SQ of sq
// and a CQ of cq entries (0: the default of config.h), and with busy its
// ring refuses submissions while the CQ overflows, as some kernels do
// (uring_enter in uring.h). 0, 0, false: the defaults again.
void ex_uring_set_test_ring(uint32_t sq, uint32_t cq, bool busy);

// Why the io_uring backend could not start (after ex_init failed with it),
// as one line: "kernel lacks IORING_OP_RECV", "io_uring disabled by ...".
const char *ex_uring_why(void);
// Opens and checks a ring as ex_init would, then closes it: for the tests,
// which skip where the kernel refuses. Call with no executor running.
bool ex_uring_available(void);

#endif
