// kick.c: a non-blocking eventfd with a flag, so that a burst of kicks costs one write and none is lost.
#include "exec/kick.h"
#include "sys/atomic.h"
#include "sys/sys.h"

int kick_init(struct kicker *k)
{
    k->kick_pending = 0;
    k->fd = sys_eventfd2(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return k->fd < 0 ? k->fd : 0;
}

void kick_close(struct kicker *k)
{
    sys_close(k->fd);
    k->fd = -1;
}

// [snippet: kick-signal]
// Makes the eventfd readable so that a poller blocked on it returns; only
// the first kick of a burst writes (kick_pending), the rest cost one atomic
// exchange. Async-signal-safe: no lock, one write. Called through the
// reactor's kick hook by any thread that queues a task for a sleeping worker.
// [lab: kick_signal]
void kick_signal(struct kicker *k)
{
    if (atomic_exchange(&k->kick_pending, 1) == 0) {
        uint64_t one = 1;
        sys_write(k->fd, &one, sizeof one);
    }
}
// [end lab: kick_signal]
// [end: kick-signal]

// [snippet: drain-kick]
// Empty the eventfd first, then allow the next kick to write again. The
// other order loses wake-ups: a kick landing between "clear" and "read" has
// its write swallowed by our read, yet leaves kick_pending at 1, so every
// later kick skips its write and a blocked poller sleeps forever. In this
// order a kick that lands after the read but before the clear skips its
// write, which is safe: we are awake, and we look at the queue and rebuild
// our interest set before blocking again.
// Called by the reactor's wait (ppoll, epoll, io_uring) when the eventfd
// was readable, on the thread that was blocked.
// [lab: kick_drain]
void kick_drain(struct kicker *k)
{
    uint64_t v;
    sys_read(k->fd, &v, sizeof v);
    atomic_store_seq(&k->kick_pending, 0);
}
// [end lab: kick_drain]
// [end: drain-kick]
