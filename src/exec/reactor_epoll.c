// reactor_epoll.c: the epoll backend: the interest list lives in the kernel, edge-triggered, one ADD per fd.
#include "config.h"
#include "exec/kick.h"
#include "exec/reactor.h"
#include "sys/atomic.h"
#include "sys/sys.h"

#define KICK_TOKEN UINT64_MAX // epoll data of the eventfd; no registration packs to this

// [snippet: epoll-instance]
// One epoll instance and one kick per ready queue (reactor.h).
struct epoll_instance {
    int epfd;
    struct kicker kick;
} __attribute__((aligned(64)));
static struct epoll_instance inst[SCHED_MAX_QUEUES];
static uint32_t ninst;
// [end: epoll-instance]

// [snippet: epoll-hup-mark]
// The hang-up mark belongs to a registration, and epoll keys registrations
// by fd. hup[fd] == waker_pack(w) + 1 once an event for fd, registered for
// task w, said the peer hung up. The mark cannot live in struct ex_io
// itself: an event taken by one worker may be handled after the task on
// another worker closed the fd and freed its state, and a late write there
// would land in freed memory. A stale mark here is harmless: a later owner
// of the fd number has another waker, or (the same task reopening the fd
// number) reads the socket once more than it had to.
static uint64_t hup[EX_EPOLL_HUP_FDS];

// The event data carries the waker and the fd, so that the event names its
// registration: slot in bits 0..13, fd + 1 in bits 14..31 (0: no mark kept,
// the fd is too large), generation in bits 32..63.
#define SLOT_BITS 14
_Static_assert(SCHED_MAX_TASK_SLOTS <= 1u << SLOT_BITS, "a slot fits its bits of the event data");
_Static_assert(EX_EPOLL_HUP_FDS < (1u << (32 - SLOT_BITS)) - 1, "fd + 1 fits its bits of the event data");

static uint64_t reg_pack(struct waker w, int fd)
{
    uint64_t mark = fd >= 0 && fd < EX_EPOLL_HUP_FDS ? (uint64_t)fd + 1 : 0;
    return waker_pack(w) | mark << SLOT_BITS;
}

static struct waker reg_waker(uint64_t data)
{
    return waker_unpack(data & ~((uint64_t)((1u << (32 - SLOT_BITS)) - 1) << SLOT_BITS));
}

static int reg_mark(uint64_t data) { return (int)((data >> SLOT_BITS) & ((1u << (32 - SLOT_BITS)) - 1)) - 1; }
// [end: epoll-hup-mark]

static void close_instance(struct epoll_instance *e)
{
    kick_close(&e->kick);
    sys_close(e->epfd);
    e->epfd = -1;
}

static int open_instance(struct epoll_instance *e)
{
    e->epfd = sys_epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0)
        return e->epfd;
    int r = kick_init(&e->kick);
    if (r < 0) {
        sys_close(e->epfd);
        return r;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data = KICK_TOKEN}; // level-triggered
    r = sys_epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->kick.fd, &ev);
    if (r < 0)
        close_instance(e);
    return r;
}

static void epoll_destroy(void)
{
    for (uint32_t i = 0; i < ninst; i++)
        close_instance(&inst[i]);
    ninst = 0;
}

static int epoll_init(uint32_t n, bool per_worker)
{
    (void)per_worker; // any thread may use any instance
    for (ninst = 0; ninst < n; ninst++) {
        int r = open_instance(&inst[ninst]);
        if (r < 0) {
            epoll_destroy();
            return r;
        }
    }
    return 0;
}

// [snippet: epoll-arm]
// Register once, edge-triggered. After that, waiting costs no syscall at
// all: the future got EAGAIN, so the next edge (new data, buffer space,
// hang-up) queues an event carrying this task's waker. If the fd became
// ready between the EAGAIN and the ADD, epoll reports it at once, because
// EPOLL_CTL_ADD checks the current readiness.
// EPOLLOUT is added only when a task first waits to write. A fresh socket
// is writable, so registering it from the start would report an event at
// once and wake a new connection's task before its request has arrived.
// Returns 0 (also when io is already registered for these events and this
// waker: no syscall), or epoll_ctl's -errno with io->registered unchanged.
// Called through the reactor's arm hook by ex_io_wait and ex_io_watch.
// [lab: epoll_arm]
static int epoll_arm(struct ex_io *io, uint32_t events, struct waker w)
{
    uint32_t home = sched_home(w);
    // Moving to another task's instance: leave the old one.                [later: per-core]
    if (io->registered && io->home != home) {                            // [later: per-core]
        sys_epoll_ctl(inst[io->home].epfd, EPOLL_CTL_DEL, io->fd, NULL); // [later: per-core]
        io->registered = 0;                                              // [later: per-core]
    }                                                                    // [later: per-core]
    uint32_t want = EPOLLIN | EPOLLRDHUP | EPOLLET | ((events & EX_WRITABLE) ? EPOLLOUT : 0);
    want |= io->registered; // never drop an event once asked for (edge-triggered: no busy loop)
    if (io->registered == want && io->waker.slot == w.slot && io->waker.gen == w.gen)
        return 0;
    struct epoll_event ev = {.events = want, .data = reg_pack(w, io->fd)};
    // Fill in io before the syscall: once the fd is in the interest list an
    // event may wake the task on another worker before epoll_ctl returns.
    int op = io->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    uint32_t before = io->registered;
    io->registered = want;
    io->waker = w;
    io->home = home;
    int epfd = inst[home].epfd;
    int r = sys_epoll_ctl(epfd, op, io->fd, &ev);
    if (r == -EEXIST)
        r = sys_epoll_ctl(epfd, EPOLL_CTL_MOD, io->fd, &ev);
    if (r < 0)
        io->registered = before;
    return r;
}
// [end lab: epoll_arm]
// [end: epoll-arm]

// close() removes the fd from the interest list (we never dup it), so
// forgetting costs no syscall: one per connection saved. The fd's hang-up
// mark goes with the registration.
static void epoll_forget(struct ex_io *io)
{
    if (io->registered && io->fd >= 0 && io->fd < EX_EPOLL_HUP_FDS)
        atomic_store_relaxed(&hup[io->fd], 0);
    io->registered = 0;
}

// [snippet: epoll-wait]
static int epoll_wait_and_wake(uint32_t i, int64_t timeout_ns)
{
    struct epoll_instance *e = &inst[i];
    struct epoll_event events[EX_EPOLL_EVENTS];
    // Round up so a timer is never woken early (then it would spin re-arming).
    int ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
    int n = sys_epoll_wait(e->epfd, events, EX_EPOLL_EVENTS, ms);
    ex_clock_refresh();
    if (n < 0)
        return n == -EINTR ? 0 : n;
    for (int k = 0; k < n; k++) {
        uint64_t data = events[k].data;
        if (data == KICK_TOKEN) {
            kick_drain(&e->kick);
            continue;
        }
        struct waker w = reg_waker(data);
        int fd = reg_mark(data);
        if ((events[k].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && fd >= 0)
            atomic_store_release(&hup[fd], waker_pack(w) + 1); // before the wake, so the task sees it
        sched_wake(w);
    }
    return n;
}
// [end: epoll-wait]

static void epoll_kick(uint32_t i) { kick_signal(&inst[i].kick); }

static bool epoll_hup_seen(const struct ex_io *io)
{
    if (!io->registered) // never waited on: the ADD of the next wait reports a hang-up at once
        return false;
    if (io->fd < 0 || io->fd >= EX_EPOLL_HUP_FDS) // no mark kept: assume the worst, read
        return true;
    return atomic_load_acquire(&hup[io->fd]) == waker_pack(io->waker) + 1;
}

const struct reactor_ops reactor_epoll = {
    .name = "epoll",
    .init = epoll_init,
    .destroy = epoll_destroy,
    .arm = epoll_arm,
    .forget = epoll_forget,
    .wait = epoll_wait_and_wake,
    .kick = epoll_kick,
    .hup_seen = epoll_hup_seen,
};
