// reactor_ppoll.c: the ppoll backend, the original's design made correct: one-shot entries, kick on change.
#include "config.h"
#include "exec/kick.h"
#include "exec/reactor.h"
#include "sys/atomic.h"
#include "sys/lock.h"
#include "sys/sys.h"

// ppoll has no interest list in the kernel: the fd set lives here and is
// copied into the kernel on every call. Entries are one-shot: when an fd
// fires, its entry is removed and its task woken; the task re-arms if it
// waits again. That also removes closed or broken fds (POLLNVAL, POLLHUP,
// POLLERR) at once: the original kept them and spun at 100% CPU.
struct entry {
    int fd; // -1: removed (a tombstone until the poller compacts the table)
    short events;
    struct waker waker;
};

// One set per ready queue (reactor.h), each with its own lock and kick.
struct ppoll_instance {
    struct sys_mutex lock;
    uint32_t count;
    struct kicker kick;
    struct entry entries[EX_PPOLL_MAX_FDS];
    int32_t fd_entry[EX_PPOLL_MAX_FDS]; // fd -> its entry, -1 if none (fds below the max)
    // The poller's private copy, built under the lock and used outside it.
    // pfds[k] (k >= 1) was built from entries[k - 1]; only the poller moves
    // entries (when compacting), so that index stays valid until it is done.
    struct pollfd pfds[EX_PPOLL_MAX_FDS + 1];
};
static struct ppoll_instance inst[SCHED_MAX_QUEUES]; // pages touched only by instances in use
static uint32_t ninst;

static void ppoll_destroy(void)
{
    for (uint32_t i = 0; i < ninst; i++)
        kick_close(&inst[i].kick);
    ninst = 0;
}

static int ppoll_init(uint32_t n, bool per_worker)
{
    (void)per_worker; // any thread may use any instance
    for (ninst = 0; ninst < n; ninst++) {
        struct ppoll_instance *p = &inst[ninst];
        p->count = 0;
        for (uint32_t i = 0; i < EX_PPOLL_MAX_FDS; i++)
            p->fd_entry[i] = -1;
        int r = kick_init(&p->kick);
        if (r < 0) {
            ppoll_destroy();
            return r;
        }
    }
    return 0;
}

static void ppoll_kick(uint32_t i) { kick_signal(&inst[i].kick); }

static int32_t find_entry(struct ppoll_instance *p, int fd)
{
    if (fd >= 0 && fd < EX_PPOLL_MAX_FDS)
        return p->fd_entry[fd];
    for (uint32_t i = 0; i < p->count; i++)
        if (p->entries[i].fd == fd)
            return (int32_t)i;
    return -1;
}

static void ppoll_forget(struct ex_io *io);

// [snippet: ppoll-arm]
static int ppoll_arm(struct ex_io *io, uint32_t events, struct waker w)
{
    short ev =
        (short)(((events & EX_READABLE) ? POLLIN | POLLRDHUP : 0) | ((events & EX_WRITABLE) ? POLLOUT : 0));
    uint32_t home = sched_home(w);
    if (io->registered && io->home != home) // [later: per-core]
        ppoll_forget(io); // moving to another task's instance: leave the old one [later: per-core]
    struct ppoll_instance *p = &inst[home];
    sys_mutex_lock(&p->lock);
    int32_t i = find_entry(p, io->fd);
    if (i < 0) {
        if (p->count == EX_PPOLL_MAX_FDS) {
            sys_mutex_unlock(&p->lock);
            return -ENOMEM;
        }
        i = (int32_t)p->count++;
        p->entries[i] = (struct entry){io->fd, 0, w};
        if (io->fd < EX_PPOLL_MAX_FDS)
            p->fd_entry[io->fd] = i;
    }
    p->entries[i].events |= ev;
    p->entries[i].waker = w; // one task waits on an fd at a time
    sys_mutex_unlock(&p->lock);
    io->registered = 1;
    io->home = home;
    // The poller may be blocked in ppoll with a copy of the set that lacks
    // this entry. The original never told it, so registrations made while
    // another thread polled were never seen. Kick it to rebuild the set.
    ppoll_kick(home);
    return 0;
}
// [end: ppoll-arm]

static void remove_entry(struct ppoll_instance *p, int32_t i)
{
    if (p->entries[i].fd >= 0 && p->entries[i].fd < EX_PPOLL_MAX_FDS)
        p->fd_entry[p->entries[i].fd] = -1;
    p->entries[i].fd = -1;
}

static void ppoll_forget(struct ex_io *io)
{
    if (!io->registered)
        return;
    struct ppoll_instance *p = &inst[io->home];
    sys_mutex_lock(&p->lock);
    int32_t i = find_entry(p, io->fd);
    if (i >= 0)
        remove_entry(p, i);
    sys_mutex_unlock(&p->lock);
    io->registered = 0;
}

// Squeezes out tombstones; called by the poller, under the lock.
static void compact(struct ppoll_instance *p)
{
    uint32_t out = 0;
    for (uint32_t i = 0; i < p->count; i++) {
        if (p->entries[i].fd < 0)
            continue;
        p->entries[out] = p->entries[i];
        if (p->entries[out].fd < EX_PPOLL_MAX_FDS)
            p->fd_entry[p->entries[out].fd] = (int32_t)out;
        out++;
    }
    p->count = out;
}

// [snippet: ppoll-wait]
static int ppoll_wait_and_wake(uint32_t inst_i, int64_t timeout_ns)
{
    struct ppoll_instance *p = &inst[inst_i];
    struct pollfd *pfds = p->pfds;
    struct entry *entries = p->entries;
    sys_mutex_lock(&p->lock);
    compact(p);
    uint32_t n = p->count + 1;
    pfds[0] = (struct pollfd){p->kick.fd, POLLIN, 0};
    for (uint32_t i = 0; i < p->count; i++)
        pfds[i + 1] = (struct pollfd){entries[i].fd, entries[i].events, 0};
    sys_mutex_unlock(&p->lock);

    struct timespec ts = {(long)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000)};
    int r = sys_ppoll(pfds, n, timeout_ns < 0 ? NULL : &ts, NULL);
    ex_clock_refresh();
    if (r <= 0)
        return r == -EINTR ? 0 : r;

    if (pfds[0].revents) {
        kick_drain(&p->kick);
    }
    // Fired entries are removed (one-shot) and their tasks woken. An entry
    // forgotten or re-armed during the ppoll is skipped or kept as it is now.
    struct waker wake[EX_EPOLL_EVENTS];
    uint32_t nwake = 0;
    sys_mutex_lock(&p->lock);
    for (uint32_t k = 1; k < n; k++) {
        if (!pfds[k].revents || entries[k - 1].fd != pfds[k].fd)
            continue;
        struct waker w = entries[k - 1].waker;
        remove_entry(p, (int32_t)(k - 1));
        if (nwake == EX_EPOLL_EVENTS) { // flush outside the lock in batches
            sys_mutex_unlock(&p->lock);
            for (uint32_t j = 0; j < nwake; j++)
                sched_wake(wake[j]);
            nwake = 0;
            sys_mutex_lock(&p->lock);
        }
        wake[nwake++] = w;
    }
    sys_mutex_unlock(&p->lock);
    for (uint32_t j = 0; j < nwake; j++)
        sched_wake(wake[j]);
    return r;
}
// [end: ppoll-wait]

// ppoll is level-triggered: a pending end of stream reports POLLIN on every
// call, so a reader that waits is always woken. Nothing to remember.
static bool ppoll_hup_seen(const struct ex_io *io)
{
    (void)io;
    return false;
}

const struct reactor_ops reactor_ppoll = {
    .name = "ppoll",
    .init = ppoll_init,
    .destroy = ppoll_destroy,
    .arm = ppoll_arm,
    .forget = ppoll_forget,
    .wait = ppoll_wait_and_wake,
    .kick = ppoll_kick,
    .hup_seen = ppoll_hup_seen,
};
