// reactor_uring.c: the io_uring backend: a ring per ready queue, POLL_ADD readiness, completions for net.
//
// Topology: one ring per ready queue (reactor.h). With the shared executor
// that is one ring for all workers: the executor is leader/follower (at
// most one poller waits at a time) over one shared ready queue, so a task
// that queued a recv on worker A may be woken and run on worker B. With the
// per-core executor (chapter 10) each worker has its own ring and its tasks
// never leave it, so its locks below are never contended.
// In a ring, the completion side belongs to whoever holds cq_lock (the
// poller, or a closing connection waiting for its cancel); the submission
// side is a single-producer queue shared by the ring's workers, under
// sq_lock (uncontended with one worker: one atomic each way). The locks
// nest in one order only: cq_lock, then sq_lock (the poller reads the SQ's
// count while it holds the CQ). Whoever holds sq_lock and needs the CQ
// reaped lets go of sq_lock first (get_sqe).
#include "config.h"
#include "exec/completion.h"
#include "exec/kick.h"
#include "exec/reactor.h"
#include "exec/uring.h"
#include "mem/mem.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/lock.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/thread.h"

// [snippet: uring-user-data]
// Every request's user_data says what completed. The low three bits are a
// tag; an ex_op's address (8-aligned) has tag 0 and is the whole value.
// A readiness poll carries its registration in the rest: the waker and the
// fd, never a pointer, because the task may close the fd and free its
// struct ex_io before the poll's completion arrives.
// A registration's polls alternate between two tags, so that a poll never
// has the key of the one it replaces (see uring_arm).
#define TAG_MASK   7u
#define TAG_OP     0u         // an ex_op: store the result, then wake its owner
#define TAG_POLL   1u         // slot in bits 3..16, fd + 1 in 17..31, generation in 32..63
#define TAG_KICK   2u         // the kick eventfd's poll
#define TAG_IGNORE 3u         // a cancel's own completion
#define TAG_POLL_B 4u         // as TAG_POLL, for the other one of the two
#define TAG_ACCEPT 5u         // an ex_accept's multishot: queue the fd, wake its owner
#define REG_B      (1u << 31) // in io->registered: its poll carries TAG_POLL_B
_Static_assert(_Alignof(struct ex_op) >= 8, "an ex_op's address leaves the tag bits 0");
_Static_assert(SCHED_MAX_TASK_SLOTS <= 1u << 14, "a slot fits its bits of the user_data");
_Static_assert(EX_URING_POLL_FDS < 1u << 15, "fd + 1 fits its bits of the user_data");
_Static_assert(((POLLIN | POLLOUT | POLLRDHUP) & REG_B) == 0, "REG_B is no poll event");

static uint64_t poll_key(struct waker w, int fd, bool b)
{
    uint64_t mark = fd >= 0 && fd < EX_URING_POLL_FDS ? (uint64_t)fd + 1 : 0;
    return (uint64_t)w.gen << 32 | mark << 17 | (uint64_t)w.slot << 3 | (b ? TAG_POLL_B : TAG_POLL);
}
static struct waker key_waker(uint64_t k)
{
    return (struct waker){(uint32_t)(k >> 3) & 0x3fff, (uint32_t)(k >> 32)};
}
static int key_fd(uint64_t k) { return (int)((k >> 17) & 0x7fff) - 1; }
// [end: uring-user-data]

// One ring with everything that goes with it, per ready queue.
struct uring_instance {
    struct uring ring;
    struct uring_buf_ring bufs;
    struct kicker kick;
    struct sys_mutex sq_lock; // the SQ and the buffer ring's tail
    struct sys_mutex cq_lock; // the CQ: the poller, or a closer waiting
    uint32_t in_enter;        // the poller is (about to be) blocked in io_uring_enter
    void *owner;              // a single-issuer ring: its worker's thread, the only one that may enter
    uint32_t kick_rearm;      // under cq_lock: the kick's poll completed, arm it again
    uint32_t recvs;           // recvs in flight, which may pick a provided buffer (ex_op_bufs_trim)
    uint32_t bufs_touched;    // a completion brought a buffer since the last trim
    uint64_t trimmed_at;      // under sq_lock: when the buffers' pages last went back (ex_now_ns)
    struct ex_op_stats stats; // this ring's counters, summed by ex_op_stats
} __attribute__((aligned(64)));
static struct uring_instance inst[SCHED_MAX_QUEUES];
static uint32_t ninst;
static uint32_t nstats;      // rings of the last start, whose counters ex_op_stats sums (also after teardown)
static uint32_t active;      // 1 between init and destroy
static uint32_t bufs_wanted; // ex_op_set_test_bufs
static struct uring_config ring_wanted; // ex_uring_set_test_ring
static bool busy_wanted;                // ex_uring_set_test_ring
static char why[160];
static int32_t bufs_unregistered; // after the teardown: the buffer rings' unregister, 0 or -errno
// The one-shot poll in flight for fd (its key), or 0; and the key of the
// poll that last saw fd hang up. Indexed by fd like epoll's mark, and for
// the same reason: the completion may arrive after the ex_io is freed.
static uint64_t live[EX_URING_POLL_FDS];
static uint64_t hup[EX_URING_POLL_FDS];

static bool try_lock(struct sys_mutex *m)
{
    uint32_t c = 0;
    return atomic_cas(&m->state, &c, 1);
}

static int reap_all(struct uring_instance *u);

// Every io_uring_enter of the backend. Returns what the kernel said: the
// SQEs submitted, or -EBUSY or -EAGAIN (reap, or wait a little, then enter
// again). Any other error is a bug of ours (a bad fd, a bad argument): panic.
// A single-issuer ring refuses io_uring_enter from every thread but its
// worker's; another thread that needs the ring to move (a full SQ, a cancel
// to wait for) kicks the worker instead, which enters on its next turn.
static bool may_enter(const struct uring_instance *u)
{
    return !(u->ring.flags & IORING_SETUP_SINGLE_ISSUER) || u->owner == sys_thread_self();
}

static int enter(struct uring_instance *u, uint32_t to_submit, uint32_t wait_nr, int64_t timeout_ns)
{
    if (uring_registered_here(&u->ring))
        atomic_fetch_add(&u->stats.enters_registered, 1);
    int r = uring_enter(&u->ring, to_submit, wait_nr, timeout_ns);
    atomic_fetch_add(&u->stats.enters, 1);
    if (r == -EBUSY)
        atomic_fetch_add(&u->stats.busy, 1);
    else if (r < 0 && r != -EAGAIN) {
        char msg[80];
        sys_snprintf(msg, sizeof msg, "io_uring reactor: io_uring_enter failed with %s", sys_errno_name(-r));
        sys_panic(msg);
    }
    return r;
}

// [snippet: uring-get-sqe-full]
// Under sq_lock. A free SQE; when the SQ is full (EX_URING_SQ_ENTRIES queued
// in one turn), submits what is queued first: the one enter outside the
// poller's turn, and only under a burst. The kernel may refuse it while its
// CQ overflows (-EBUSY) or it is short of memory (-EAGAIN): completions must
// be reaped first, and reaping needs cq_lock, which comes before sq_lock.
// So we let go of sq_lock (callers queue each SQE before they ask for the
// next: nothing is half-done), reap (or have the poller reap), and take it
// again. Looping on the refusal with sq_lock held would livelock: the
// poller, holding cq_lock, waits for sq_lock, and no one reaps. reaping:
// the caller holds cq_lock already (the poller re-arming the kick).
static struct io_uring_sqe *get_sqe_as(struct uring_instance *u, bool reaping)
{
    struct io_uring_sqe *s;
    while (!(s = uring_get_sqe(&u->ring))) {
        int r = may_enter(u) ? enter(u, uring_sq_pending(&u->ring), 0, 0) : -EAGAIN;
        if (r >= 0)
            continue; // the kernel took what it could: room again
        sys_mutex_unlock(&u->sq_lock);
        if (reaping) {
            reap_all(u);
        } else if (may_enter(u) && try_lock(&u->cq_lock)) {
            reap_all(u);
            sys_mutex_unlock(&u->cq_lock);
        } else {
            kick_signal(&u->kick); // the poller holds the CQ: it goes round and reaps
            sys_sleep_ns(20 * 1000);
        }
        sys_mutex_lock(&u->sq_lock);
    }
    return s;
}
// [end: uring-get-sqe-full]

static struct io_uring_sqe *get_sqe(struct uring_instance *u) { return get_sqe_as(u, false); }

// [snippet: uring-queued]
// After queueing from any thread: SQEs go to the kernel in the poller's next
// io_uring_enter. A poller already blocked in one read its count before we
// queued, so make it go round. Dekker with in_enter: either it set in_enter
// before we read it (we kick), or its enter comes after our SQE (it takes it).
static void queued(struct uring_instance *u)
{
    if (atomic_load_seq(&u->in_enter))
        kick_signal(&u->kick);
}
// [end: uring-queued]

// reaping: the caller holds cq_lock.
static void arm_kick(struct uring_instance *u, bool reaping)
{
    sys_mutex_lock(&u->sq_lock);
    struct io_uring_sqe *s = get_sqe_as(u, reaping);
    uring_prep_poll_add(s, u->kick.fd, POLLIN, TAG_KICK);
    uring_queue(&u->ring, s);
    sys_mutex_unlock(&u->sq_lock);
}

static void queue_cancel(struct uring_instance *u, uint64_t target)
{
    sys_mutex_lock(&u->sq_lock);
    struct io_uring_sqe *s = get_sqe(u);
    uring_prep_cancel(s, target, true, TAG_IGNORE);
    uring_queue(&u->ring, s);
    sys_mutex_unlock(&u->sq_lock);
    queued(u);
}

// The producer's side of an ex_accept's queue (the poller, under cq_lock).
static void accept_queue_put(struct ex_accept *a, int fd)
{
    struct ex_accept_chunk *c = a->tail;
    if (c->filled == EX_ACCEPT_CHUNK) {
        struct ex_accept_chunk *fresh = mem_alloc(sizeof *fresh);
        if (!fresh) {
            sys_close(fd);
            atomic_add_relaxed(&a->dropped, 1);
            return;
        }
        fresh->next = NULL;
        fresh->filled = 0;
        atomic_store_release(&c->next, fresh); // the consumer frees c once it sees this
        a->tail = c = fresh;
    }
    c->fds[c->filled] = fd;
    atomic_store_release(&c->filled, c->filled + 1);
}

// [snippet: uring-bufs-grow]
// A recv found the buffer ring empty. Its bytes are safe (the future reads
// them with a plain recv), but the ring was one buffer short for this load:
// add one of those never added, so that a burst as large as this one finds
// enough next time. A ring starts with EX_URING_BUFS_FIRST because the
// kernel takes buffers in turn from all the ring holds: each buffer added
// is soon a resident page or two, memory that a server whose requests come
// a few at a time never needs. Under cq_lock (the poller's reap), then
// sq_lock, which guards the buffer ring's tail.
static void grow_bufs(struct uring_instance *u)
{
    sys_mutex_lock(&u->sq_lock);
    uint32_t n = uring_buf_ring_grow(&u->bufs, 1);
    sys_mutex_unlock(&u->sq_lock);
    atomic_fetch_add(&u->stats.bufs_added, n);
}
// [end: uring-bufs-grow]

// [snippet: uring-complete]
// One CQE. For an ex_op the result is stored before the state, and the
// state before the wake, as the epoll backend stores the hang-up mark
// before it wakes: the woken task (on any worker) reads them. The waker is
// read first: once the state says DONE, a closing owner may free op. A
// buffer is counted out before its recv stops counting as in flight: one
// of the two always stops ex_op_bufs_trim.
static void complete(struct uring_instance *u, const struct io_uring_cqe *c)
{
    uint64_t ud = c->user_data;
    switch (ud & TAG_MASK) {
    case TAG_OP: {
        struct ex_op *op = (struct ex_op *)(uintptr_t)ud;
        struct waker w = op->waker;
        bool selects = op->selects;
        if (c->flags & IORING_CQE_F_BUFFER) {
            atomic_fetch_add(&u->stats.bufs_out, 1);
            atomic_store_relaxed(&u->bufs_touched, 1);
        }
        if (c->res == -ENOBUFS) {
            atomic_fetch_add(&u->stats.enobufs, 1);
            grow_bufs(u);
        }
        if (selects)
            atomic_fetch_sub(&u->recvs, 1);
        op->res = c->res;
        op->flags = c->flags;
        atomic_fetch_sub(&u->stats.in_flight, 1);
        atomic_store_release(&op->state, EX_OP_DONE);
        sched_wake(w);
        break;
    }
    case TAG_POLL:
    case TAG_POLL_B: {
        int fd = key_fd(ud);
        if (fd >= 0) {
            if (c->res > 0 && (c->res & (POLLRDHUP | POLLHUP | POLLERR)))
                atomic_store_release(&hup[fd], ud);
            // This one-shot is over; a newer one (another key) stays. A
            // cancelled one changes nothing: who cancelled it moved live on.
            uint64_t k = ud;
            if (c->res != -ECANCELED)
                atomic_cas(&live[fd], &k, 0);
        }
        if (c->res != -ECANCELED)
            sched_wake(key_waker(ud));
        break;
    }
    case TAG_ACCEPT: {
        struct ex_accept *a = (struct ex_accept *)(uintptr_t)(ud & ~(uint64_t)TAG_MASK);
        struct waker w = a->op.waker;
        if (c->res >= 0)
            accept_queue_put(a, c->res);
        if (!(c->flags & IORING_CQE_F_MORE)) { // the request ended: say why
            a->op.res = c->res >= 0 ? 0 : c->res;
            atomic_fetch_sub(&u->stats.in_flight, 1);
            atomic_store_release(&a->op.state, EX_OP_DONE);
        }
        sched_wake(w);
        break;
    }
    case TAG_KICK:
        kick_drain(&u->kick);
        u->kick_rearm = 1; // by the next turn, before it blocks: not in the middle of a reap
        break;
    default:
        break;
    }
}
// [end: uring-complete]

// Under cq_lock: reaps and handles every CQE there is, including those the
// kernel kept in its overflow list. Returns how many.
static int reap_all(struct uring_instance *u)
{
    struct io_uring_cqe cqes[EX_URING_CQE_BATCH];
    int total = 0;
    for (;;) {
        uint32_t n = uring_reap(&u->ring, cqes, EX_URING_CQE_BATCH);
        for (uint32_t i = 0; i < n; i++)
            complete(u, &cqes[i]);
        total += (int)n;
        if (n == EX_URING_CQE_BATCH)
            continue;
        if (!uring_cq_overflowed(&u->ring))
            return total;
        enter(u, 0, 0, 0); // GETEVENTS flushes the overflow list into the CQ
    }
}

static uint32_t pending_sqes(struct uring_instance *u)
{
    sys_mutex_lock(&u->sq_lock);
    uint32_t n = uring_sq_pending(&u->ring);
    sys_mutex_unlock(&u->sq_lock);
    return n;
}

// [snippet: uring-wait]
// The poller's turn: one io_uring_enter submits everything the tasks queued
// since the last turn and waits for at least one completion, with the next
// timer as its timeout. A turn that must not block (timeout 0) and has
// nothing queued and nothing completed costs no syscall at all.
static int uring_wait(uint32_t i, int64_t timeout_ns)
{
    struct uring_instance *u = &inst[i];
    sys_mutex_lock(&u->cq_lock);
    // The kick's one-shot poll completed in an earlier reap: armed again
    // before this turn can block, under cq_lock so that no other reap takes
    // its completion in between (a POLL_ADD checks the eventfd at once: a
    // kick sent meanwhile is not lost).
    if (u->kick_rearm) {
        u->kick_rearm = 0;
        arm_kick(u, true);
    }
    uint32_t to_submit;
    if (timeout_ns == 0) {
        to_submit = pending_sqes(u);
        if (to_submit == 0 && uring_cq_ready(&u->ring) == 0 && !uring_cq_overflowed(&u->ring) &&
            !uring_taskrun_pending(&u->ring)) {
            sys_mutex_unlock(&u->cq_lock);
            ex_clock_refresh();
            return 0;
        }
    } else {
        atomic_store_seq(&u->in_enter, 1);
        to_submit = pending_sqes(u); // all queued before a producer could see in_enter == 0
    }
    int r = enter(u, to_submit, timeout_ns != 0, timeout_ns);
    atomic_store_seq(&u->in_enter, 0);
    ex_clock_refresh();
    // -EBUSY: completions are waiting: reap, and the next turn submits.
    // -EAGAIN: the kernel is short of memory: the executor pauses and retries.
    if (r == -EAGAIN) {
        sys_mutex_unlock(&u->cq_lock);
        return r;
    }
    int n = reap_all(u);
    sys_mutex_unlock(&u->cq_lock);
    return n;
}
// [end: uring-wait]

static void uring_forget(struct ex_io *io);

// [snippet: uring-arm]
// Readiness for the tasks that still wait for it (the listener, pipes): a
// one-shot POLL_ADD, which like EPOLL_CTL_ADD checks the current state
// first, so readiness that came between the task's EAGAIN and this is not
// missed. A poll already in flight for the same task and events is kept
// (a spurious wake-up must not stack up polls); one for another task or
// other events is cancelled and replaced. The replacement takes the other
// tag: with the same task, the same key would let the old poll's completion
// (cancelled, or fired and not yet reaped) clear live[fd] for the new one,
// which then could be neither kept nor cancelled (forget would leave it,
// and its hold on the file, in flight).
static int uring_arm(struct ex_io *io, uint32_t events, struct waker w)
{
    uint32_t home = sched_home(w);
    if ((io->registered & ~REG_B) && io->home != home)
        uring_forget(io); // moving to another task's ring: leave the old one
    struct uring_instance *u = &inst[home];
    uint32_t want = POLLIN | POLLRDHUP | ((events & EX_WRITABLE) ? POLLOUT : 0);
    int fd = io->fd;
    bool tracked = fd >= 0 && fd < EX_URING_POLL_FDS;
    bool b = (io->registered & REG_B) != 0;
    uint32_t had = io->registered & ~REG_B;
    uint64_t key = poll_key(w, fd, b);
    if (tracked && (had & want) == want && atomic_load_acquire(&live[fd]) == key)
        return 0;
    sys_mutex_lock(&u->sq_lock);
    if (had) {
        uint64_t old = poll_key(io->waker, fd, b);
        if (!tracked || atomic_load_acquire(&live[fd]) == old) {
            struct io_uring_sqe *s = get_sqe(u);
            uring_prep_cancel(s, old, true, TAG_IGNORE);
            uring_queue(&u->ring, s);
        }
    }
    b = !b;
    key = poll_key(w, fd, b);
    io->registered = want | (b ? REG_B : 0);
    io->waker = w;
    io->home = home;
    if (tracked)
        atomic_store_release(&live[fd], key); // before the SQE: its CQE clears it
    struct io_uring_sqe *s = get_sqe(u);
    uring_prep_poll_add(s, fd, want, key);
    uring_queue(&u->ring, s);
    sys_mutex_unlock(&u->sq_lock);
    queued(u);
    return 0;
}
// [end: uring-arm]

// A poll in flight holds a reference to the file: closing the fd would not
// close the socket until the poll ends. So cancel it (by its key, which no
// later owner of the fd number shares).
static void uring_forget(struct ex_io *io)
{
    if (!(io->registered & ~REG_B))
        return;
    int fd = io->fd;
    uint64_t key = poll_key(io->waker, fd, (io->registered & REG_B) != 0);
    bool tracked = fd >= 0 && fd < EX_URING_POLL_FDS;
    if (!tracked || atomic_load_acquire(&live[fd]) == key)
        queue_cancel(&inst[io->home], key);
    if (tracked) {
        uint64_t k = key;
        atomic_cas(&live[fd], &k, 0);
        atomic_store_relaxed(&hup[fd], 0);
    }
    io->registered &= REG_B; // the next poll still takes the other tag
}

static bool uring_hup_seen(const struct ex_io *io)
{
    if (!(io->registered & ~REG_B))
        return false;
    if (io->fd < 0 || io->fd >= EX_URING_POLL_FDS)
        return true;
    // Either tag: the mark belongs to the registration (task and fd), as
    // epoll's does, not to one of its polls. A tracked fd's key is never 0.
    uint64_t mark = atomic_load_acquire(&hup[io->fd]);
    return (mark & ~(uint64_t)TAG_MASK) == (poll_key(io->waker, io->fd, false) & ~(uint64_t)TAG_MASK);
}

static void uring_kick(uint32_t i) { kick_signal(&inst[i].kick); }

// [snippet: uring-backend-init]
// Everything the backend needs is checked here, once, so that a kernel that
// lacks a piece says so at start-up rather than with an -EINVAL in some CQE
// under load: the ring, the features, every opcode, the buffer ring.
// The provided buffers are split between the rings (at least 64 each), so
// the per-core executor holds no more receive memory than the shared one.
static int open_ring(struct uring_instance *u, uint32_t nbufs, bool single_issuer)
{
    sys_memset(u, 0, sizeof *u);
    struct uring_config cfg = {
        .sq_entries = ring_wanted.sq_entries ? ring_wanted.sq_entries : EX_URING_SQ_ENTRIES,
        .cq_entries = ring_wanted.cq_entries ? ring_wanted.cq_entries : EX_URING_CQ_ENTRIES,
        .single_issuer = single_issuer};
    int r = uring_init(&u->ring, &cfg);
    if (r < 0) {
        uring_explain(r, why, sizeof why);
        return r;
    }
    u->ring.busy_on_overflow = busy_wanted;
    u->stats.single_issuer = (u->ring.flags & IORING_SETUP_SINGLE_ISSUER) != 0;
    uint32_t first = nbufs < EX_URING_BUFS_FIRST ? nbufs : EX_URING_BUFS_FIRST;
    static const uint8_t ops[] = {IORING_OP_POLL_ADD, IORING_OP_ASYNC_CANCEL, IORING_OP_RECV, IORING_OP_SEND,
                                  IORING_OP_SENDMSG,  IORING_OP_ACCEPT,       IORING_OP_CLOSE};
    r = uring_check(&u->ring, ops, (int)sizeof ops, why, sizeof why);
    if (r < 0)
        goto fail;
    r = uring_buf_ring_init(&u->ring, &u->bufs, 0, nbufs, first, EX_URING_BUF_SIZE);
    u->stats.bufs_added = first;
    if (r < 0) {
        sys_snprintf(why, sizeof why,
                     "kernel lacks provided-buffer rings (IORING_REGISTER_PBUF_RING, Linux 5.19): %s",
                     sys_errno_name(r));
        goto fail;
    }
    r = kick_init(&u->kick);
    if (r < 0) {
        uring_buf_ring_free(&u->ring, &u->bufs);
        sys_snprintf(why, sizeof why, "eventfd: %s", sys_errno_name(r));
        goto fail;
    }
    arm_kick(u, false);
    return 0;
fail:
    uring_close(&u->ring);
    return r;
}
// [end: uring-backend-init]

// [snippet: uring-backend-destroy]
// By now every connection's request has completed (net_close waited for
// each, ex_join for the tasks). The buffer group is unregistered first, on
// the ring's fd (after uring_close the unregister would go to fd -1 and
// fail): from then on no request can select a buffer, and its memory goes.
// Closing the ring then cancels what is left in flight (the kick's poll,
// the listener's).
static void close_ring(struct uring_instance *u)
{
    int r = uring_buf_ring_free(&u->ring, &u->bufs);
    if (r < 0) // the first failure is kept: 0 means every ring's went
        atomic_store_seq(&bufs_unregistered, r);
    uring_close(&u->ring);
    kick_close(&u->kick);
}
// [end: uring-backend-destroy]

static void uring_backend_destroy(void)
{
    atomic_store_seq(&active, 0);
    for (uint32_t i = 0; i < ninst; i++)
        close_ring(&inst[i]);
    ninst = 0;
    // Cleared here, for the next init, and not there: the program starts
    // with them zero, and clearing them at init made all 512 KiB resident
    // for fds no one had used. With the rings closed, no completion writes.
    sys_memset(live, 0, sizeof live);
    sys_memset(hup, 0, sizeof hup);
}

// [snippet: uring-rings-init]
// A ring per ready queue (reactor.h): one for the shared executor, one per
// worker for the per-core executor (chapter 10), which gets single-issuer
// rings (uring-attach).
static int uring_backend_init(uint32_t n, bool per_worker)
{
    why[0] = 0;
    bufs_unregistered = 0;
    nstats = n;
    uint32_t nbufs = bufs_wanted ? bufs_wanted : EX_URING_BUFS;
    if (!bufs_wanted)
        while (nbufs > 64 && nbufs / 2 >= EX_URING_BUFS / n)
            nbufs /= 2; // a power of two, as the buffer ring needs
    for (ninst = 0; ninst < n; ninst++) {
        int r = open_ring(&inst[ninst], nbufs, per_worker);
        if (r < 0) {
            uring_backend_destroy();
            return r;
        }
    }
    atomic_store_seq(&active, 1);
    return 0;
}
// [end: uring-rings-init]

// [snippet: uring-attach]
// The worker of a per-core ring starts it: from here on the kernel takes
// io_uring_enter on this ring from this thread only (SINGLE_ISSUER), and
// posts its completions when this thread waits (DEFER_TASKRUN). A ring set
// up without those flags (an older kernel) is already started.
static void uring_attach(uint32_t i)
{
    struct uring_instance *u = &inst[i];
    u->owner = sys_thread_self();
    int r = uring_enable(&u->ring);
    if (r < 0) {
        char msg[96];
        sys_snprintf(msg, sizeof msg, "io_uring reactor: cannot enable ring %u: %s", i, sys_errno_name(-r));
        sys_panic(msg);
    }
    // The one thread that enters this ring names it by a registered index:
    // each enter then skips the fd table. An older kernel says -EINVAL and
    // the fd serves as before.
    if (u->ring.flags & IORING_SETUP_SINGLE_ISSUER)
        uring_register_fd(&u->ring);
}

// The worker leaves: a single-issuer ring's buffer group must be
// unregistered by this thread (the kernel refuses the teardown's, from
// another). The memory stays until the teardown.
static void uring_detach(uint32_t i)
{
    struct uring_instance *u = &inst[i];
    int r = uring_buf_ring_unregister(&u->ring, &u->bufs);
    if (r < 0) // the first failure is kept: 0 means every ring's went
        atomic_store_seq(&bufs_unregistered, r);
    uring_unregister_fd(&u->ring);
}
// [end: uring-attach]

// ---- completion requests (completion.h) --------------------------------------------

bool ex_completion_active(void) { return atomic_load_acquire(&active) != 0; }

// The ring of a request op names: its task's home queue's (the one ring
// with one worker or the shared executor).
static struct uring_instance *ring_of(const struct ex_op *op) { return &inst[sched_home(op->waker)]; }

// Fills op, then queues the SQE prep made. op->state is FLIGHT before the
// SQE is visible to anyone who could complete it.
struct op_args {
    struct uring_instance *u;
    uint64_t user_data; // 0: the op's address (TAG_OP)
    int fd, msg_flags;
    const void *buf;
    uint32_t len;
    bool selects; // a recv from the provided buffers
};

static int submit(struct ex_op *op, struct waker w, struct io_uring_sqe *(*prep)(const struct op_args *),
                  struct op_args *arg)
{
    if (!ex_completion_active())
        return -ENOSYS;
    if (atomic_load_acquire(&op->state) != EX_OP_IDLE)
        SYS_PANIC("ex_op: submitted while in flight or with its result untaken"); // a programming error
    op->waker = w;
    op->res = 0;
    op->flags = 0;
    op->selects = arg->selects;
    struct uring_instance *u = arg->u = &inst[sched_home(w)];
    atomic_store_relaxed(&op->state, EX_OP_FLIGHT);
    atomic_fetch_add(&u->stats.in_flight, 1);
    atomic_fetch_add(&u->stats.submitted, 1);
    sched_note_shared_writes(ex_instance_shared((uint32_t)(u - inst))); // sq_lock
    sys_mutex_lock(&u->sq_lock);
    if (op->selects) // counted before the SQE is queued, under the lock ex_op_bufs_trim takes
        atomic_fetch_add(&u->recvs, 1);
    struct io_uring_sqe *s = prep(arg);
    s->user_data = arg->user_data ? arg->user_data : (uint64_t)(uintptr_t)op;
    uring_queue(&u->ring, s);
    sys_mutex_unlock(&u->sq_lock);
    queued(u);
    return 0;
}

static struct io_uring_sqe *prep_recv(const struct op_args *a)
{
    struct io_uring_sqe *s = get_sqe(a->u);
    uring_prep_recv(s, a->fd, NULL, a->len, a->u->bufs.bgid, false, 0);
    return s;
}

static struct io_uring_sqe *prep_send(const struct op_args *a)
{
    struct io_uring_sqe *s = get_sqe(a->u);
    uring_prep_send(s, a->fd, a->buf, a->len, a->msg_flags, 0);
    return s;
}

static struct io_uring_sqe *prep_sendmsg(const struct op_args *a)
{
    struct io_uring_sqe *s = get_sqe(a->u);
    uring_prep_sendmsg(s, a->fd, a->buf, a->msg_flags, 0);
    return s;
}

int ex_op_recv(struct ex_op *op, int fd, uint32_t len, struct waker w)
{
    struct op_args a = {.fd = fd, .len = len < EX_URING_BUF_SIZE ? len : EX_URING_BUF_SIZE, .selects = true};
    return submit(op, w, prep_recv, &a);
}

int ex_op_send(struct ex_op *op, int fd, const void *buf, uint32_t len, int msg_flags, struct waker w)
{
    struct op_args a = {.fd = fd, .msg_flags = msg_flags, .buf = buf, .len = len};
    return submit(op, w, prep_send, &a);
}

int ex_op_sendmsg(struct ex_op *op, int fd, const struct msghdr *m, int msg_flags, struct waker w)
{
    struct op_args a = {.fd = fd, .msg_flags = msg_flags, .buf = m};
    return submit(op, w, prep_sendmsg, &a);
}

// [snippet: ex-op-cancel-wait]
// The kernel may be writing into, or reading from, memory of op's owner
// until op's completion arrives, so the owner may not free that memory
// before. Cancel, then get the completion: if no one holds the completion
// side, we take it and enter ourselves (with one worker that is always the
// case: we are the worker); else the poller holds it, blocked in
// io_uring_enter, and a kick makes it go round, submit our cancel and reap.
static void cancel_wait(struct ex_op *op, uint64_t user_data)
{
    if (atomic_load_acquire(&op->state) != EX_OP_FLIGHT || !ex_completion_active())
        return;
    struct uring_instance *u = ring_of(op);
    queue_cancel(u, user_data);
    while (atomic_load_acquire(&op->state) == EX_OP_FLIGHT) {
        if (may_enter(u) && try_lock(&u->cq_lock)) {
            enter(u, pending_sqes(u), 1, NS_PER_MS); // -EBUSY or -EAGAIN: the reap makes room
            reap_all(u);
            sys_mutex_unlock(&u->cq_lock);
        } else {
            kick_signal(&u->kick);
            sys_sleep_ns(20 * 1000);
        }
    }
}

void ex_op_cancel_wait(struct ex_op *op) { cancel_wait(op, (uint64_t)(uintptr_t)op); }
// [end: ex-op-cancel-wait]

// ---- the multishot accept and the close (completion.h) --------------------------------

static struct io_uring_sqe *prep_accept(const struct op_args *a)
{
    struct io_uring_sqe *s = get_sqe(a->u);
    uring_prep_accept(s, a->fd, SOCK_NONBLOCK | SOCK_CLOEXEC, true, 0);
    return s;
}

int ex_accept_start(struct ex_accept *a, int listen_fd, struct waker w)
{
    if (!a->head) {
        a->head = a->tail = mem_alloc(sizeof *a->head);
        if (!a->head)
            return -ENOMEM;
        *a->head = (struct ex_accept_chunk){0};
        a->taken = 0;
    }
    struct op_args args = {.fd = listen_fd, .user_data = (uint64_t)(uintptr_t)&a->op | TAG_ACCEPT};
    return submit(&a->op, w, prep_accept, &args);
}

int ex_accept_take(struct ex_accept *a)
{
    struct ex_accept_chunk *c = a->head; // ours alone: the owner is the only consumer
    if (!c)
        return -EAGAIN;
    if (a->taken == EX_ACCEPT_CHUNK) {
        struct ex_accept_chunk *next = atomic_load_acquire(&c->next);
        if (!next)
            return -EAGAIN;
        mem_free(c); // the producer moved on to next: c is no one's
        a->head = c = next;
        a->taken = 0;
    }
    if (a->taken == atomic_load_acquire(&c->filled))
        return -EAGAIN;
    return c->fds[a->taken++];
}

void ex_accept_release(struct ex_accept *a)
{
    while (a->head) {
        struct ex_accept_chunk *next = a->head->next;
        mem_free(a->head);
        a->head = next;
    }
    a->tail = NULL;
}

void ex_accept_cancel_wait(struct ex_accept *a)
{
    cancel_wait(&a->op, (uint64_t)(uintptr_t)&a->op | TAG_ACCEPT);
}

void ex_op_close(const struct ex_op *op, int fd)
{
    if (!ex_completion_active()) {
        sys_close(fd);
        return;
    }
    struct uring_instance *u = ring_of(op);
    sys_mutex_lock(&u->sq_lock);
    struct io_uring_sqe *s = get_sqe(u);
    uring_prep_close(s, fd, TAG_IGNORE);
    uring_queue(&u->ring, s);
    sys_mutex_unlock(&u->sq_lock);
    queued(u);
}

// A buffer's id names its ring too: the ring's number above the 16 bits of
// the buffer id the kernel gave.
int ex_op_buf_id(const struct ex_op *op)
{
    if (!(op->flags & IORING_CQE_F_BUFFER))
        return -1;
    return (int)(sched_home(op->waker) << 16 | (op->flags >> IORING_CQE_BUFFER_SHIFT));
}

const uint8_t *ex_op_buf(uint32_t id) { return uring_buf_addr(&inst[id >> 16].bufs, (uint16_t)id); }

void ex_op_buf_put(uint32_t id)
{
    struct uring_instance *u = &inst[id >> 16];
    atomic_fetch_sub(&u->stats.bufs_out, 1);
    if (!ex_completion_active())
        return;                  // the ring and its buffers are gone
    sys_mutex_lock(&u->sq_lock); // the buffer ring's tail is ours, shared by the ring's workers
    uring_buf_ring_add(&u->bufs, (uint16_t)id);
    sys_mutex_unlock(&u->sq_lock);
}

// [snippet: uring-bufs-trim]
// Each buffer the kernel filled stays resident, and it fills them in turn:
// after a storm every buffer added holds a page or two, with no connection
// left. They go back to the kernel by the rule of the first half: a buffer
// in the ring is the kernel's, which writes into it whenever bytes arrive
// for any recv in flight. So only when no recv is in flight on the ring
// (none can pick a buffer) and none is out (no stream holds bytes in one),
// both checked under sq_lock, which a recv takes to be queued: no new one
// reaches the kernel before the madvise has returned. The buffers stay in
// the ring; the next to be filled gets a fresh page. At most once every
// EX_URING_TRIM_MS: a server whose connections come and go one at a time
// would otherwise pay a madvise and a page fault for each.
void ex_op_bufs_trim(const struct ex_op *op)
{
    if (!ex_completion_active())
        return;
    struct uring_instance *u = ring_of(op);
    if (atomic_load_relaxed(&u->recvs) || !atomic_load_relaxed(&u->bufs_touched))
        return; // the common case: other connections are open, or nothing to give back
    sys_mutex_lock(&u->sq_lock);
    uint64_t now = ex_now_ns();
    if (atomic_load_seq(&u->recvs) == 0 && atomic_load_seq(&u->stats.bufs_out) == 0 &&
        now - u->trimmed_at >= EX_URING_TRIM_MS * NS_PER_MS) {
        sys_madvise(u->bufs.mem, u->bufs.mem_len, MADV_DONTNEED);
        atomic_store_relaxed(&u->bufs_touched, 0);
        u->trimmed_at = now;
        atomic_fetch_add(&u->stats.bufs_trims, 1);
    }
    sys_mutex_unlock(&u->sq_lock);
}
// [end: uring-bufs-trim]

void ex_op_stats(struct ex_op_stats *out)
{
    *out = (struct ex_op_stats){.bufs_unregistered = atomic_load_seq(&bufs_unregistered), .rings = nstats};
    for (uint32_t i = 0; i < nstats; i++) { // readable after ex_join too
        const struct ex_op_stats *s = &inst[i].stats;
        out->single_issuer += s->single_issuer;
        out->in_flight += atomic_load_seq(&s->in_flight);
        out->bufs_out += atomic_load_seq(&s->bufs_out);
        out->submitted += atomic_load_seq(&s->submitted);
        out->enters += atomic_load_seq(&s->enters);
        out->enobufs += atomic_load_seq(&s->enobufs);
        out->busy += atomic_load_seq(&s->busy);
        out->enters_registered += atomic_load_seq(&s->enters_registered);
        out->bufs_added += atomic_load_seq(&s->bufs_added);
        out->bufs_trims += atomic_load_seq(&s->bufs_trims);
    }
}

void ex_op_set_test_bufs(uint32_t n) { bufs_wanted = n; }

void ex_uring_set_test_ring(uint32_t sq, uint32_t cq, bool busy)
{
    ring_wanted = (struct uring_config){.sq_entries = sq, .cq_entries = cq};
    busy_wanted = busy;
}

const char *ex_uring_why(void) { return why[0] ? why : "unknown reason"; }

bool ex_uring_available(void)
{
    if (uring_backend_init(1, false) < 0)
        return false;
    uring_backend_destroy();
    return true;
}

const struct reactor_ops reactor_uring = {
    .name = "io_uring",
    .init = uring_backend_init,
    .destroy = uring_backend_destroy,
    .attach = uring_attach,
    .detach = uring_detach,
    .arm = uring_arm,
    .forget = uring_forget,
    .wait = uring_wait,
    .kick = uring_kick,
    .hup_seen = uring_hup_seen,
};
