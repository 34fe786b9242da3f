// uring.c: the io_uring rings from raw syscalls: setup, mapping, probe, SQEs in, CQEs out, buffer rings.
//
// The ordering contract comes from the comment atop the kernel's
// io_uring/io_uring.c: each of the four indices has one writer, and every
// load or store of an index the other side reads or writes is an acquire or
// a release that pairs with a barrier on the kernel's side. The fields of a
// ring that only we write (sqe_next, sq_queued) are plain. One thread at a
// time uses the submission side and one the completion side; a backend
// shared by several workers puts a lock around each side.
#include "exec/uring.h"

#include "sys/atomic.h"
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/thread.h"

#define URING_DISABLED_PATH "/proc/sys/kernel/io_uring_disabled"

static uint32_t *at32(void *base, uint32_t off) { return (uint32_t *)((uint8_t *)base + off); }

static void *map_ring(int fd, size_t len, uint64_t off)
{
    return sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (long)off);
}

static void unmap_all(struct uring *r)
{
    if (r->sqe_map)
        sys_munmap(r->sqe_map, r->sqe_len);
    if (r->cq_map && r->cq_map != r->ring_map)
        sys_munmap(r->cq_map, r->cq_len);
    if (r->ring_map)
        sys_munmap(r->ring_map, r->ring_len);
    r->sqe_map = r->cq_map = r->ring_map = NULL;
}

// [snippet: uring-map]
// The kernel tells us where each field lives (p->sq_off, p->cq_off); we map
// the rings at its magic offsets. With IORING_FEAT_SINGLE_MMAP (Linux 5.4)
// the SQ and CQ rings are one region and one mmap covers both; the SQE
// array is always a mapping of its own.
static int map_rings(struct uring *r, const struct io_uring_params *p)
{
    size_t sq_len = p->sq_off.array + p->sq_entries * sizeof(uint32_t);
    size_t cq_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    bool single = (p->features & IORING_FEAT_SINGLE_MMAP) != 0;
    if (single && cq_len > sq_len)
        sq_len = cq_len;
    r->ring_len = sq_len;
    void *sq = map_ring(r->fd, sq_len, IORING_OFF_SQ_RING);
    if (SYS_IS_ERR(sq))
        return (int)(long)sq;
    r->ring_map = sq;
    void *cq = sq;
    if (!single) {
        r->cq_len = cq_len;
        cq = map_ring(r->fd, cq_len, IORING_OFF_CQ_RING);
        if (SYS_IS_ERR(cq))
            return (int)(long)cq;
    }
    r->cq_map = cq;
    r->sqe_len = p->sq_entries * sizeof(struct io_uring_sqe);
    void *sqes = map_ring(r->fd, r->sqe_len, IORING_OFF_SQES);
    if (SYS_IS_ERR(sqes))
        return (int)(long)sqes;
    r->sqe_map = sqes;

    r->sq_head = at32(sq, p->sq_off.head);
    r->sq_tail = at32(sq, p->sq_off.tail);
    r->sq_flags = at32(sq, p->sq_off.flags);
    r->sq_array = at32(sq, p->sq_off.array);
    r->sq_mask = *at32(sq, p->sq_off.ring_mask); // constant after setup
    r->sq_entries = *at32(sq, p->sq_off.ring_entries);
    r->sqes = sqes;
    r->cq_head = at32(cq, p->cq_off.head);
    r->cq_tail = at32(cq, p->cq_off.tail);
    r->cq_overflow = at32(cq, p->cq_off.overflow);
    r->cqes = (struct io_uring_cqe *)((uint8_t *)cq + p->cq_off.cqes);
    r->cq_mask = *at32(cq, p->cq_off.ring_mask);
    r->cq_entries = *at32(cq, p->cq_off.ring_entries);
    // Both start at 0 after setup, but nothing says so: take the kernel's.
    r->sqe_next = r->sq_queued = *r->sq_tail;
    return 0;
}
// [end: uring-map]

// [snippet: uring-setup-flags]
// The flags, newest first; a kernel that does not know one says -EINVAL,
// and we try the next set. Always:
//   CQSIZE  the CQ is sized by us (the backend's in-flight requests, many
//           multishot recvs each with several completions), not 2 * SQ;
//   CLAMP   sizes above the kernel's maximum are clamped, not refused.
// When the kernel has them (5.18, 5.19):
//   SUBMIT_ALL    one bad SQE fails alone in its CQE; without it the
//                 kernel stops at the first error and leaves the rest in
//                 the SQ, which the caller would have to notice and redo;
//   COOP_TASKRUN  a completion is not pushed to us with an inter-processor
//                 interrupt while we run tasks: it waits until our next
//                 io_uring_enter, which every poller turn makes anyway;
//   TASKRUN_FLAG  and the kernel sets IORING_SQ_TASKRUN while one waits,
//                 so a turn that must not block knows to enter anyway
//                 (uring_taskrun_pending): without it such a turn saw an
//                 empty CQ and skipped the enter exactly when work waited.
// A ring with one issuer (uring_config.single_issuer: a ring per worker,
// chapter 10) first tries SINGLE_ISSUER | DEFER_TASKRUN (6.1): one thread
// submits and waits, and completions are posted only when it enters to
// wait, in a batch, with no task work pushed at it in between. That thread
// is the one that enables the ring (R_DISABLED, then uring_enable): the
// ring is made by whoever calls ex_init, and used by its worker. A ring
// the executor's workers take turns on cannot have these flags: it would
// refuse every thread but one.
static const uint32_t setup_flags[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED |
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_TASKRUN_FLAG,
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
    0,
};
// [end: uring-setup-flags]

int uring_init(struct uring *r, const struct uring_config *cfg)
{
    sys_memset(r, 0, sizeof *r);
    r->fd = -1;
    uint32_t sq = cfg->sq_entries ? cfg->sq_entries : 1;
    uint32_t cq = cfg->cq_entries ? cfg->cq_entries : 2 * sq;
    int fd = -EINVAL;
    struct io_uring_params p;
    for (size_t i = cfg->single_issuer ? 0 : 1; i < sizeof setup_flags / sizeof setup_flags[0]; i++) {
        sys_memset(&p, 0, sizeof p);
        p.flags = setup_flags[i] | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
        p.cq_entries = cq;
        fd = sys_io_uring_setup(sq, &p);
        if (fd != -EINVAL)
            break;
    }
    if (fd < 0)
        return fd;
    r->fd = fd;
    r->features = p.features;
    r->flags = p.flags;
    int err = map_rings(r, &p);
    if (err < 0) {
        uring_close(r);
        return err;
    }
    return 0;
}

int uring_enable(struct uring *r)
{
    if (!(r->flags & IORING_SETUP_R_DISABLED))
        return 0;
    int err = sys_io_uring_register(r->fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
    if (err == 0)
        r->flags &= ~IORING_SETUP_R_DISABLED;
    return err;
}

int uring_register_fd(struct uring *r)
{
    struct io_uring_rsrc_update up = {.offset = UINT32_MAX, .data = (uint64_t)r->fd};
    int n = sys_io_uring_register(r->fd, IORING_REGISTER_RING_FDS, &up, 1);
    if (n != 1)
        return n < 0 ? n : -EINVAL;
    r->enter_index = up.offset;
    r->enter_thread = sys_thread_self();
    return 0;
}

bool uring_registered_here(const struct uring *r)
{
    return r->enter_thread && r->enter_thread == sys_thread_self();
}

void uring_unregister_fd(struct uring *r)
{
    if (!uring_registered_here(r))
        return;
    struct io_uring_rsrc_update up = {.offset = r->enter_index};
    sys_io_uring_register(r->fd, IORING_UNREGISTER_RING_FDS, &up, 1);
    r->enter_thread = NULL;
}

void uring_close(struct uring *r)
{
    unmap_all(r);
    if (r->fd >= 0)
        sys_close(r->fd);
    r->fd = -1;
}

// ---- what the kernel can do -----------------------------------------------------------

static const struct {
    uint8_t op;
    const char *name;
} op_names[] = {
    {IORING_OP_NOP, "IORING_OP_NOP"},
    {IORING_OP_POLL_ADD, "IORING_OP_POLL_ADD"},
    {IORING_OP_POLL_REMOVE, "IORING_OP_POLL_REMOVE"},
    {IORING_OP_SENDMSG, "IORING_OP_SENDMSG"},
    {IORING_OP_RECVMSG, "IORING_OP_RECVMSG"},
    {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT"},
    {IORING_OP_TIMEOUT_REMOVE, "IORING_OP_TIMEOUT_REMOVE"},
    {IORING_OP_ACCEPT, "IORING_OP_ACCEPT"},
    {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"},
    {IORING_OP_LINK_TIMEOUT, "IORING_OP_LINK_TIMEOUT"},
    {IORING_OP_CONNECT, "IORING_OP_CONNECT"},
    {IORING_OP_CLOSE, "IORING_OP_CLOSE"},
    {IORING_OP_SEND, "IORING_OP_SEND"},
    {IORING_OP_RECV, "IORING_OP_RECV"},
    {IORING_OP_SHUTDOWN, "IORING_OP_SHUTDOWN"},
};

const char *uring_op_name(uint8_t op)
{
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (op_names[i].op == op)
            return op_names[i].name;
    return "IORING_OP_?";
}

// [snippet: uring-check]
// Feature bits answer "does the ring behave so", the probe "does the kernel
// know this opcode". Both are checked once, at start-up, so a missing piece
// is a clear message then rather than an -EINVAL in some CQE under load.
int uring_check(struct uring *r, const uint8_t *ops, int n, char *why, size_t cap)
{
    if (!(r->features & IORING_FEAT_NODROP)) {
        // Without it a full CQ silently drops completions: a lost wake-up.
        sys_snprintf(why, cap, "kernel lacks IORING_FEAT_NODROP (Linux 5.5)");
        return -EOPNOTSUPP;
    }
    if (!(r->features & IORING_FEAT_EXT_ARG)) {
        // Without it a wait with a timeout needs a TIMEOUT SQE per turn.
        sys_snprintf(why, cap, "kernel lacks IORING_FEAT_EXT_ARG (Linux 5.11)");
        return -EOPNOTSUPP;
    }
    // 256 ops: the most an 8-bit opcode can name, so one call covers all
    // (2 KiB of stack, once).
    union {
        struct io_uring_probe p;
        uint8_t bytes[sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op)];
    } probe;
    sys_memset(&probe, 0, sizeof probe);
    int err = sys_io_uring_register(r->fd, IORING_REGISTER_PROBE, &probe, 256);
    if (err < 0) {
        sys_snprintf(why, cap, "kernel lacks IORING_REGISTER_PROBE (Linux 5.6): %s", sys_errno_name(err));
        return -EOPNOTSUPP;
    }
    for (int i = 0; i < n; i++) {
        uint8_t op = ops[i];
        bool ok =
            op <= probe.p.last_op && op < probe.p.ops_len && (probe.p.ops[op].flags & IO_URING_OP_SUPPORTED);
        if (!ok) {
            sys_snprintf(why, cap, "kernel lacks %s", uring_op_name(op));
            return -EOPNOTSUPP;
        }
    }
    return 0;
}
// [end: uring-check]

// The sysctl's digit, or -1 if the file is missing (kernels before 6.6).
static int read_disabled_sysctl(void)
{
    int fd = sys_open(URING_DISABLED_PATH, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    char c = 0;
    ssize_t n = sys_read(fd, &c, 1);
    sys_close(fd);
    return n == 1 && c >= '0' && c <= '9' ? c - '0' : -1;
}

const char *uring_explain(int err, char *why, size_t cap)
{
    int disabled = err == -EPERM ? read_disabled_sysctl() : -1;
    if (err == -ENOSYS)
        sys_snprintf(why, cap, "kernel has no io_uring (io_uring_setup: ENOSYS)");
    else if (err == -EPERM && disabled == 2)
        sys_snprintf(why, cap, "io_uring disabled by %s=2", URING_DISABLED_PATH);
    else if (err == -EPERM && disabled == 1)
        sys_snprintf(why, cap, "io_uring limited to the group in /proc/sys/kernel/io_uring_group (%s=1)",
                     URING_DISABLED_PATH);
    else if (err == -EPERM)
        sys_snprintf(why, cap, "io_uring refused (EPERM): a seccomp filter or the container forbids it");
    else if (err == -ENOMEM)
        sys_snprintf(why, cap, "io_uring_setup: ENOMEM (locked-memory limit, RLIMIT_MEMLOCK, too low?)");
    else if (err == -EOPNOTSUPP && why[0])
        ; // uring_check already wrote the reason
    else
        sys_snprintf(why, cap, "io_uring unavailable: %s", sys_errno_name(err));
    return why;
}

// ---- submission -----------------------------------------------------------------

// [snippet: uring-get-sqe]
struct io_uring_sqe *uring_get_sqe(struct uring *r)
{
    // Acquire: the kernel release-stores sq_head once it has copied the SQEs
    // up to it; our writes into a slot it freed must come after its reads of
    // that slot (the "SQ head load before writing new SQ entries").
    uint32_t head = atomic_load_acquire(r->sq_head);
    if (uring_ring_full(head, r->sqe_next, r->sq_entries))
        return NULL;
    struct io_uring_sqe *sqe = &r->sqes[uring_ring_slot(r->sqe_next, r->sq_mask)];
    r->sqe_next++;
    sys_memset(sqe, 0, sizeof *sqe);
    return sqe;
}
// [end: uring-get-sqe]

// [snippet: uring-queue]
void uring_queue(struct uring *r, struct io_uring_sqe *sqe)
{
    uint32_t tail = r->sq_queued; // ours alone: a plain copy of *sq_tail
    uint32_t index = (uint32_t)(sqe - r->sqes);
    if (tail == r->sqe_next || index != uring_ring_slot(tail, r->sq_mask))
        SYS_PANIC("uring_queue: SQE not handed out, or queued out of order");
    r->sq_array[uring_ring_slot(tail, r->sq_mask)] = index;
    r->sq_queued = tail + 1;
    // Release: the SQE's fields and the array entry above must be visible
    // before the new tail is. The kernel reads the tail with an acquire load
    // (io_get_sqring), then the entries. Without SQPOLL it reads them in our
    // own thread during io_uring_enter, but that is the kernel's business:
    // the ABI asks for this order, and it costs a plain store on x86-64.
    atomic_store_release(r->sq_tail, tail + 1);
}
// [end: uring-queue]

uint32_t uring_sq_pending(const struct uring *r)
{
    // Relaxed: a count for io_uring_enter's to_submit, nothing read after it
    // depends on it (the kernel submits min(to_submit, what it finds)).
    return uring_ring_count(atomic_load_relaxed(r->sq_head), r->sq_queued);
}

// [snippet: uring-enter]
// One syscall per poller turn: submit everything queued and wait, with the
// timeout passed in the extended argument (IORING_ENTER_EXT_ARG) instead of
// a TIMEOUT SQE. GETEVENTS is set even when not waiting (wait_nr 0): it
// makes the kernel post completions it holds back (the overflow list, the
// deferred task work) before we look at the CQ.
int uring_submit_and_wait(struct uring *r, uint32_t wait_nr, int64_t timeout_ns)
{
    return uring_enter(r, uring_sq_pending(r), wait_nr, timeout_ns);
}

int uring_enter(struct uring *r, uint32_t to_submit, uint32_t wait_nr, int64_t timeout_ns)
{
    struct timespec ts;
    struct io_uring_getevents_arg arg = {0};
    const void *argp = NULL;
    size_t argsz = 0;
    unsigned flags = IORING_ENTER_GETEVENTS;
    if (wait_nr > 0 && timeout_ns >= 0) {
        ts.tv_sec = (long)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        arg.ts = (uint64_t)(uintptr_t)&ts;
        flags |= IORING_ENTER_EXT_ARG;
        argp = &arg;
        argsz = sizeof arg;
    }
    // The kernels of NODROP's first years refused every submission with
    // -EBUSY while completions waited in the overflow list and the CQ had no
    // room to flush them into; newer ones flush what fits and submit. A test
    // ring can ask for the old answer, to prove that callers reap and retry.
    if (r->busy_on_overflow && to_submit && uring_cq_overflowed(r) && uring_cq_ready(r) >= r->cq_entries)
        return -EBUSY;
    int fd = r->fd;
    if (uring_registered_here(r)) {            // [later: registered-ring]
        fd = (int)r->enter_index;              // [later: registered-ring]
        flags |= IORING_ENTER_REGISTERED_RING; // [later: registered-ring]
    }                                          // [later: registered-ring]
    int n = sys_io_uring_enter(fd, to_submit, wait_nr, flags, argp, argsz);
    if (n == -ETIME || n == -EINTR)
        return 0; // the wait ended; what was submitted is in the CQ or in flight
    return n;
}
// [end: uring-enter]

// ---- completion -------------------------------------------------------------------

// [snippet: uring-reap]
uint32_t uring_reap(struct uring *r, struct io_uring_cqe *out, uint32_t max)
{
    // Relaxed: cq_head is ours; no one else writes it.
    uint32_t head = atomic_load_relaxed(r->cq_head);
    // Acquire: pairs with the kernel's release of cq_tail after it wrote the
    // CQEs; every CQE below the tail we see is then complete.
    uint32_t tail = atomic_load_acquire(r->cq_tail);
    uint32_t n = 0;
    for (; head != tail && n < max; head++, n++)
        out[n] = r->cqes[uring_ring_slot(head, r->cq_mask)];
    // Release: our reads of those slots come before the kernel can see them
    // free and write new CQEs there (it checks space against cq_head).
    if (n)
        atomic_store_release(r->cq_head, head);
    return n;
}
// [end: uring-reap]

uint32_t uring_cq_ready(const struct uring *r)
{
    // Acquire, as in uring_reap: a caller that sees n ready may read them.
    return uring_ring_count(atomic_load_relaxed(r->cq_head), atomic_load_acquire(r->cq_tail));
}

bool uring_cq_overflowed(const struct uring *r)
{
    // Relaxed: a hint to enter the kernel; the entries come through the CQ.
    return (atomic_load_relaxed(r->sq_flags) & IORING_SQ_CQ_OVERFLOW) != 0;
}

bool uring_taskrun_pending(const struct uring *r)
{
    // Relaxed, like the overflow bit: a hint to enter the kernel.
    return (atomic_load_relaxed(r->sq_flags) & IORING_SQ_TASKRUN) != 0;
}

uint32_t uring_cq_dropped(const struct uring *r) { return atomic_load_relaxed(r->cq_overflow); }

// ---- SQE builders ---------------------------------------------------------------------

void uring_prep_nop(struct io_uring_sqe *s, uint64_t user_data)
{
    s->opcode = IORING_OP_NOP;
    s->fd = -1;
    s->user_data = user_data;
}

void uring_prep_poll_add(struct io_uring_sqe *s, int fd, uint32_t poll_events, uint64_t user_data)
{
    s->opcode = IORING_OP_POLL_ADD;
    s->fd = fd;
    s->op_flags = poll_events; // poll32_events shares the word with the other ops' flags
    s->user_data = user_data;
}

void uring_prep_recv(struct io_uring_sqe *s, int fd, void *buf, uint32_t len, int bgid, bool multishot,
                     uint64_t user_data)
{
    s->opcode = IORING_OP_RECV;
    s->fd = fd;
    s->addr = (uint64_t)(uintptr_t)buf;
    s->len = len;
    if (bgid >= 0) {
        s->flags |= IOSQE_BUFFER_SELECT;
        s->buf_group = (uint16_t)bgid;
    }
    if (multishot)
        s->ioprio |= IORING_RECV_MULTISHOT;
    s->user_data = user_data;
}

void uring_prep_send(struct io_uring_sqe *s, int fd, const void *buf, uint32_t len, int msg_flags,
                     uint64_t user_data)
{
    s->opcode = IORING_OP_SEND;
    s->fd = fd;
    s->addr = (uint64_t)(uintptr_t)buf;
    s->len = len;
    s->op_flags = (uint32_t)msg_flags;
    s->user_data = user_data;
}

void uring_prep_sendmsg(struct io_uring_sqe *s, int fd, const struct msghdr *m, int msg_flags,
                        uint64_t user_data)
{
    s->opcode = IORING_OP_SENDMSG;
    s->fd = fd;
    s->addr = (uint64_t)(uintptr_t)m;
    s->len = 1;
    s->op_flags = (uint32_t)msg_flags;
    s->user_data = user_data;
}

void uring_prep_accept(struct io_uring_sqe *s, int fd, int flags, bool multishot, uint64_t user_data)
{
    s->opcode = IORING_OP_ACCEPT;
    s->fd = fd;
    s->op_flags = (uint32_t)flags; // accept4's flags: SOCK_NONBLOCK, SOCK_CLOEXEC
    if (multishot)
        s->ioprio |= IORING_ACCEPT_MULTISHOT;
    s->user_data = user_data;
}

void uring_prep_close(struct io_uring_sqe *s, int fd, uint64_t user_data)
{
    s->opcode = IORING_OP_CLOSE;
    s->fd = fd;
    s->user_data = user_data;
}

void uring_prep_timeout(struct io_uring_sqe *s, const struct timespec *ts, uint64_t user_data)
{
    s->opcode = IORING_OP_TIMEOUT;
    s->fd = -1;
    s->addr = (uint64_t)(uintptr_t)ts;
    s->len = 1;
    s->off = 0; // complete on time only, not after N other completions
    s->user_data = user_data;
}

void uring_prep_cancel(struct io_uring_sqe *s, uint64_t target, bool all, uint64_t user_data)
{
    s->opcode = IORING_OP_ASYNC_CANCEL;
    s->fd = -1;
    s->addr = target;
    s->op_flags = all ? IORING_ASYNC_CANCEL_ALL : 0;
    s->user_data = user_data;
}

// ---- provided buffers ---------------------------------------------------------------

static uint32_t round_pow2(uint32_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static size_t page_round(size_t n) { return (n + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1); }

static uint16_t *buf_ring_tail(struct uring_buf_ring *b)
{
    return (uint16_t *)((uint8_t *)b->ring + IO_URING_BUF_RING_TAIL_OFFSET);
}

// [snippet: uring-buf-add]
// Fills the slot at our tail, then publishes it.
static void buf_ring_put(struct uring_buf_ring *b, uint16_t bid)
{
    struct io_uring_buf *e = &b->ring[b->tail & b->mask];
    // The first entry's resv overlays the tail: write addr, len and bid
    // only, never the whole entry, or slot 0 would rewind the tail.
    e->addr = (uint64_t)(uintptr_t)uring_buf_addr(b, bid);
    e->len = b->size;
    e->bid = bid;
    b->tail++;
}

static void buf_ring_publish(struct uring_buf_ring *b)
{
    // Release: the entry's fields before the tail that makes it visible; the
    // kernel reads the tail with an acquire load when it picks a buffer
    // (io_ring_buffer_select), then the entry.
    atomic_store_release(buf_ring_tail(b), b->tail);
}

void uring_buf_ring_add(struct uring_buf_ring *b, uint16_t bid)
{
    buf_ring_put(b, bid);
    buf_ring_publish(b);
}
// [end: uring-buf-add]

uint32_t uring_buf_ring_grow(struct uring_buf_ring *b, uint32_t n)
{
    uint32_t k = 0;
    for (; k < n && b->published < b->count; k++)
        buf_ring_put(b, (uint16_t)b->published++);
    if (k)
        buf_ring_publish(b); // one release for the whole batch
    return k;
}

int uring_buf_ring_init(struct uring *r, struct uring_buf_ring *b, uint16_t bgid, uint32_t count,
                        uint32_t first, uint32_t size)
{
    sys_memset(b, 0, sizeof *b);
    if (count == 0 || count > 32768 || size == 0 || first > count)
        return -EINVAL;
    b->bgid = bgid;
    b->count = count;
    b->size = size;
    b->entries = round_pow2(count);
    b->mask = b->entries - 1;
    // The ring must be page-aligned (the kernel pins its pages): a mapping of
    // its own. The buffers need no alignment, but a mapping is the simplest
    // memory that is ours until munmap.
    b->ring_len = page_round(b->entries * sizeof(struct io_uring_buf));
    b->mem_len = page_round((size_t)count * size);
    void *ring = sys_mmap(NULL, b->ring_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (SYS_IS_ERR(ring))
        return (int)(long)ring;
    void *mem = sys_mmap(NULL, b->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (SYS_IS_ERR(mem)) {
        sys_munmap(ring, b->ring_len);
        return (int)(long)mem;
    }
    b->ring = ring;
    b->mem = mem;
    struct io_uring_buf_reg reg = {
        .ring_addr = (uint64_t)(uintptr_t)ring, .ring_entries = b->entries, .bgid = bgid};
    int err = sys_io_uring_register(r->fd, IORING_REGISTER_PBUF_RING, &reg, 1);
    if (err < 0) {
        sys_munmap(mem, b->mem_len);
        sys_munmap(ring, b->ring_len);
        b->ring = NULL;
        b->mem = NULL;
        return err;
    }
    b->registered = true;
    uring_buf_ring_grow(b, first);
    return 0;
}

int uring_buf_ring_unregister(struct uring *r, struct uring_buf_ring *b)
{
    if (!b->registered)
        return 0;
    struct io_uring_buf_reg reg = {.bgid = b->bgid};
    int err = sys_io_uring_register(r->fd, IORING_UNREGISTER_PBUF_RING, &reg, 1);
    if (err == 0)
        b->registered = false;
    return err;
}

int uring_buf_ring_free(struct uring *r, struct uring_buf_ring *b)
{
    if (!b->ring)
        return 0;
    int err = uring_buf_ring_unregister(r, b);
    sys_munmap(b->mem, b->mem_len);
    sys_munmap(b->ring, b->ring_len);
    b->ring = NULL;
    b->mem = NULL;
    return err;
}

int uring_buf_ring_head(struct uring *r, const struct uring_buf_ring *b, uint16_t *head)
{
    struct io_uring_buf_status st = {.buf_group = b->bgid};
    int err = sys_io_uring_register(r->fd, IORING_REGISTER_PBUF_STATUS, &st, 1);
    if (err < 0)
        return err;
    *head = (uint16_t)st.head;
    return 0;
}
