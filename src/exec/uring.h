// uring.h: the io_uring rings from raw syscalls: setup, mapping, probe, SQEs in, CQEs out, buffer rings.
#ifndef EXEC_URING_H
#define EXEC_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sys/sys.h"

// [snippet: uring-struct]
// One ring: two queues in memory shared with the kernel. On each queue one
// side produces (moves the tail) and the other consumes (moves the head):
//   SQ: we produce SQEs (sq_tail), the kernel consumes them (sq_head);
//   CQ: the kernel produces CQEs (cq_tail), we consume them (cq_head).
// The pointers below point into the shared mapping; the plain fields are
// ours alone. Not thread-safe: one thread at a time on the submission side
// (get, queue, submit) and one on the completion side (reap); see uring.c.
struct uring {
    int fd;
    uint32_t features; // IORING_FEAT_* the kernel reported
    uint32_t flags;    // IORING_SETUP_* the kernel accepted
    // Submission queue.
    uint32_t *sq_head;  // the kernel's: how far it has consumed
    uint32_t *sq_tail;  // ours: how far we have published
    uint32_t *sq_flags; // the kernel's: IORING_SQ_CQ_OVERFLOW ...
    uint32_t *sq_array; // position -> SQE index
    struct io_uring_sqe *sqes;
    uint32_t sq_mask, sq_entries;
    uint32_t sqe_next;  // SQEs handed out by uring_get_sqe (ours, not shared)
    uint32_t sq_queued; // SQEs published to the tail (the value of *sq_tail)
    // Completion queue.
    uint32_t *cq_head;     // ours: how far we have consumed
    uint32_t *cq_tail;     // the kernel's: how far it has produced
    uint32_t *cq_overflow; // the kernel's count of CQEs it had to drop
    struct io_uring_cqe *cqes;
    uint32_t cq_mask, cq_entries;
    // The mappings, for munmap.
    void *ring_map, *cq_map, *sqe_map;
    size_t ring_len, cq_len, sqe_len;
    // The thread that registered the ring's fd (uring_register_fd), or NULL:  [later: registered-ring]
    // its io_uring_enter names the ring by enter_index and the kernel skips    [later: registered-ring]
    // the lookup (and reference count) of the fd in the process's table.       [later: registered-ring]
    const void *enter_thread; // [later: registered-ring]
    uint32_t enter_index;     // [later: registered-ring]
    // For the tests: refuse a submission with -EBUSY as some kernels do (see
    // uring_enter). Set after uring_init; false by default.
    bool busy_on_overflow;
};
// [end: uring-struct]

// The ring's sizes. The setup flags are uring.c's choice; flags a kernel
// does not know are dropped one group at a time.
struct uring_config {
    uint32_t sq_entries; // a power of two; the kernel rounds up and clamps
    uint32_t cq_entries; // 0: twice sq_entries
    bool single_issuer;  // one thread will submit and wait: try SINGLE_ISSUER | DEFER_TASKRUN
};

// Creates and maps a ring. 0, or -errno from io_uring_setup or mmap:
// -ENOSYS (no io_uring), -EPERM (disabled or forbidden), -ENOMEM ...
// uring_explain turns the error into a sentence.
int uring_init(struct uring *r, const struct uring_config *cfg);
// Unmaps and closes. The kernel cancels whatever is still in flight, but
// memory it was writing into (a recv buffer) must outlive this call: cancel
// and reap first (uring_cancel_all) if the buffers are to be freed.
void uring_close(struct uring *r);
// A single-issuer ring is created disabled; the thread that will submit and
// wait starts it with this call, and is from then on its only issuer (the
// kernel refuses io_uring_enter from any other with -EEXIST). 0 at once for
// any other ring, or -errno.
int uring_enable(struct uring *r);
// Registers the ring's fd for the calling thread (IORING_REGISTER_RING_FDS):
// from then on uring_enter from this thread passes an index instead of the
// fd. For a ring one thread enters (per-core). 0, or -errno (-EINVAL before
// Linux 5.18: the fd is used as before). uring_unregister_fd undoes it, from
// the same thread; a thread's registrations also end when it exits.
int uring_register_fd(struct uring *r);
void uring_unregister_fd(struct uring *r);
// True on the thread that registered r's fd: the one that may enter r by its index.
bool uring_registered_here(const struct uring *r);

// Checks what the backend needs: IORING_FEAT_NODROP and FEAT_EXT_ARG, and
// each opcode of ops[0..n) in the kernel's probe. 0, or -EOPNOTSUPP with
// the first thing missing named in why ("kernel lacks IORING_OP_RECV").
int uring_check(struct uring *r, const uint8_t *ops, int n, char *why, size_t cap);
// Writes a one-line reason for err (from uring_init or uring_check) into
// why, reading /proc/sys/kernel/io_uring_disabled for -EPERM. Returns why.
const char *uring_explain(int err, char *why, size_t cap);
// The name of an opcode ("IORING_OP_RECV"), or "IORING_OP_?".
const char *uring_op_name(uint8_t op);

// [snippet: uring-index]
// Ring indices are free-running 32-bit counters: head and tail only ever
// increase and wrap at 2^32, and the slot is index & mask. tail - head in
// unsigned arithmetic is the number of entries even across the wrap,
// because entries (a power of two) divides 2^32.
static inline uint32_t uring_ring_count(uint32_t head, uint32_t tail) { return tail - head; }
static inline uint32_t uring_ring_slot(uint32_t index, uint32_t mask) { return index & mask; }
static inline bool uring_ring_full(uint32_t head, uint32_t tail, uint32_t entries)
{
    return tail - head >= entries;
}
// [end: uring-index]

// A zeroed SQE to fill, or NULL when the SQ is full: submit first
// (uring_submit_and_wait) and try again. SQEs must be queued in the order
// they were handed out.
struct io_uring_sqe *uring_get_sqe(struct uring *r);
// Publishes a filled SQE to the kernel (it reads it at the next enter).
void uring_queue(struct uring *r, struct io_uring_sqe *sqe);
// SQEs queued and not yet consumed by the kernel.
uint32_t uring_sq_pending(const struct uring *r);

// One io_uring_enter: submits every queued SQE and, if wait_nr > 0, waits
// until wait_nr CQEs are ready or timeout_ns passes (-1: no limit).
// Returns the SQEs submitted (>= 0; a timeout or a signal is not an error),
// or -errno: -EBUSY when the kernel holds overflowed completions it cannot
// post: reap, then call again.
int uring_submit_and_wait(struct uring *r, uint32_t wait_nr, int64_t timeout_ns);
// The same with an explicit count to submit: a ring shared by several threads
// reads the count under its lock (uring_sq_pending) and enters outside it.
int uring_enter(struct uring *r, uint32_t to_submit, uint32_t wait_nr, int64_t timeout_ns);
// Copies up to max ready CQEs to out and frees their slots. Returns how many.
uint32_t uring_reap(struct uring *r, struct io_uring_cqe *out, uint32_t max);
// CQEs ready to reap.
uint32_t uring_cq_ready(const struct uring *r);
// True if the kernel holds completions that did not fit in the CQ
// (IORING_SQ_CQ_OVERFLOW): reap, then enter with GETEVENTS to get them.
bool uring_cq_overflowed(const struct uring *r);
// True when completions wait as task work that only an io_uring_enter runs
// (COOP_TASKRUN with TASKRUN_FLAG); false on a ring set up without them.
bool uring_taskrun_pending(const struct uring *r);
// Completions the kernel dropped (only without IORING_FEAT_NODROP).
uint32_t uring_cq_dropped(const struct uring *r);

// ---- SQE builders: each fills a zeroed SQE ------------------------------------------
void uring_prep_nop(struct io_uring_sqe *s, uint64_t user_data);
// One-shot readiness: completes once with the poll mask (POLLIN ...) in res.
void uring_prep_poll_add(struct io_uring_sqe *s, int fd, uint32_t poll_events, uint64_t user_data);
// Single-shot recv into buf, or with buf == NULL from buffer group bgid;
// multishot (needs a group) keeps delivering until an error or a cancel.
void uring_prep_recv(struct io_uring_sqe *s, int fd, void *buf, uint32_t len, int bgid, bool multishot,
                     uint64_t user_data);
void uring_prep_send(struct io_uring_sqe *s, int fd, const void *buf, uint32_t len, int msg_flags,
                     uint64_t user_data);
void uring_prep_sendmsg(struct io_uring_sqe *s, int fd, const struct msghdr *m, int msg_flags,
                        uint64_t user_data);
void uring_prep_accept(struct io_uring_sqe *s, int fd, int flags, bool multishot, uint64_t user_data);
// close(2) of fd, done by the kernel when the SQE is submitted.
void uring_prep_close(struct io_uring_sqe *s, int fd, uint64_t user_data);
// Completes with -ETIME after *ts (which must stay valid until submitted).
void uring_prep_timeout(struct io_uring_sqe *s, const struct timespec *ts, uint64_t user_data);
// Cancels the request whose user_data is target (all of them with all).
void uring_prep_cancel(struct io_uring_sqe *s, uint64_t target, bool all, uint64_t user_data);

// ---- provided buffers (IORING_REGISTER_PBUF_RING, Linux 5.19) ----------------------
// [snippet: uring-bufring]
// A ring of buffers the kernel picks from when a RECV carries
// IOSQE_BUFFER_SELECT: count buffers of size bytes each, with ids 0..count-1.
// We produce (tail, in the ring's first entry), the kernel consumes (its
// head is private). A buffer the kernel took comes back to us in a CQE
// (IORING_CQE_F_BUFFER, id in flags >> 16) and is ours until we add it back.
// The ids from published on were never added: memory nothing has touched,
// for uring_buf_ring_grow to add when the ring runs dry.
struct uring_buf_ring {
    struct io_uring_buf *ring; // page-aligned, shared with the kernel
    uint8_t *mem;              // the buffers themselves, count * size bytes
    uint32_t entries, mask;    // ring slots: a power of two >= count
    uint32_t count, size;
    uint32_t published;  // ids 0..published-1 have been added
    uint16_t bgid, tail; // tail: our producer index (wraps at 2^16, as the kernel's)
    bool registered;     // the kernel knows the group (until uring_buf_ring_unregister)
    size_t ring_len, mem_len;
};
// [end: uring-bufring]

// Registers group bgid with count buffers of size bytes and adds the first
// `first` of them. 0 or -errno (-EINVAL on kernels without buffer rings).
int uring_buf_ring_init(struct uring *r, struct uring_buf_ring *b, uint16_t bgid, uint32_t count,
                        uint32_t first, uint32_t size);
// Adds up to n of the buffers never added yet (published on); returns how many.
uint32_t uring_buf_ring_grow(struct uring_buf_ring *b, uint32_t n);
// Unregisters and frees; r must still be open (the unregister goes to its
// fd). The caller has reaped every request that could still select a
// buffer from the group (cancel first). Returns the unregister's result:
// 0, or -errno (the memory is freed either way).
int uring_buf_ring_free(struct uring *r, struct uring_buf_ring *b);
// Only the unregister, leaving the memory: on a single-issuer ring it must
// come from the ring's thread (the kernel answers -EEXIST to any other),
// which may leave before the ring is torn down. 0 or -errno.
int uring_buf_ring_unregister(struct uring *r, struct uring_buf_ring *b);
// The address of buffer bid.
static inline uint8_t *uring_buf_addr(const struct uring_buf_ring *b, uint16_t bid)
{
    return b->mem + (size_t)bid * b->size;
}
// Hands buffer bid back to the kernel (published at once).
void uring_buf_ring_add(struct uring_buf_ring *b, uint16_t bid);
// The buffer id a CQE carries, or -1 if it carries none.
static inline int uring_cqe_buffer(const struct io_uring_cqe *c)
{
    return (c->flags & IORING_CQE_F_BUFFER) ? (int)(c->flags >> IORING_CQE_BUFFER_SHIFT) : -1;
}
// The kernel's consumer index of the group (IORING_REGISTER_PBUF_STATUS,
// Linux 6.8): tail - head buffers are still in the ring. 0 or -errno.
int uring_buf_ring_head(struct uring *r, const struct uring_buf_ring *b, uint16_t *head);

#endif
