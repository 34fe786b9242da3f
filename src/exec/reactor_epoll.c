// reactor_epoll.c: the epoll backend: the interest list lives in the kernel, edge-triggered, one ADD per fd.
#include "config.h"
#include "exec/kick.h"
#include "exec/reactor.h"
#include "sys/atomic.h"
#include "sys/sys.h"

#define KICK_TOKEN UINT64_MAX // epoll data of the eventfd; no waker packs to this

static int epfd = -1;
static struct kicker kick;
// hup[slot] == gen + 1 once an event for task (slot, gen) said the peer hung
// up. The generation makes a mark left by an earlier task in the slot harmless.
static uint32_t hup[SCHED_MAX_TASK_SLOTS];

static int epoll_init(void)
{
    epfd = sys_epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return epfd;
    int r = kick_init(&kick);
    if (r < 0) {
        sys_close(epfd);
        return r;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data = KICK_TOKEN}; // level-triggered
    return sys_epoll_ctl(epfd, EPOLL_CTL_ADD, kick.fd, &ev);
}

static void epoll_destroy(void)
{
    kick_close(&kick);
    sys_close(epfd);
    epfd = -1;
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
// [lab: epoll_arm]
static int epoll_arm(struct ex_io *io, uint32_t events, struct waker w)
{
    uint32_t want = EPOLLIN | EPOLLRDHUP | EPOLLET | ((events & EX_WRITABLE) ? EPOLLOUT : 0);
    want |= io->registered; // never drop an event once asked for (edge-triggered: no busy loop)
    if (io->registered == want && io->waker.slot == w.slot && io->waker.gen == w.gen)
        return 0;
    struct epoll_event ev = {.events = want, .data = waker_pack(w)};
    // Fill in io before the syscall: once the fd is in the interest list an
    // event may wake the task on another worker before epoll_ctl returns.
    int op = io->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    uint32_t before = io->registered;
    io->registered = want;
    io->waker = w;
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
// forgetting costs nothing: one syscall per connection saved.
static void epoll_forget(struct ex_io *io) { io->registered = 0; }

// [snippet: epoll-wait]
static int epoll_wait_and_wake(int64_t timeout_ns)
{
    struct epoll_event events[EX_EPOLL_EVENTS];
    // Round up so a timer is never woken early (then it would spin re-arming).
    int ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
    int n = sys_epoll_wait(epfd, events, EX_EPOLL_EVENTS, ms);
    ex_clock_refresh();
    if (n < 0)
        return n == -EINTR ? 0 : n;
    for (int i = 0; i < n; i++) {
        uint64_t data = events[i].data;
        if (data == KICK_TOKEN) {
            kick_drain(&kick);
            continue;
        }
        struct waker w = waker_unpack(data);
        if ((events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && w.slot < SCHED_MAX_TASK_SLOTS)
            atomic_store_release(&hup[w.slot], w.gen + 1); // before the wake, so the task sees it
        sched_wake(w);
    }
    return n;
}
// [end: epoll-wait]

static void epoll_kick(void) { kick_signal(&kick); }

static bool epoll_hup_seen(struct waker w)
{
    return w.slot < SCHED_MAX_TASK_SLOTS && atomic_load_acquire(&hup[w.slot]) == w.gen + 1;
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
