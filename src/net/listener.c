// listener.c: workers accept: the listening socket in the reactor, a task that accepts in batches.
#include "config.h"
#include "mem/mem.h"
#include "net/net.h"
#include "net/stream_ops.h"
#include "sys/clock.h"
#include "sys/sys.h"

// Stop for good: no timer, no registration, and a listening socket that
// refuses new connections at once (shutdown() on a listening socket makes
// the kernel reset SYNs) instead of queueing them until the process exits.
poll_t net_listener_stop(struct net_listener *l)
{
    ex_timer_cancel(&l->backoff);
    ex_io_forget(&l->io);
    sys_shutdown(l->listen_fd, SHUT_RDWR);
    return READY;
}

// Hands a new connection to on_accept, on this worker's queue or spread
// over all of them (l->spread); a connection it cannot take gets
// on_refused (a 503) and is closed.
void net_listener_hand_over(struct net_listener *l, int fd)
{
    bool was = sched_spread_spawns(l->spread); // where on_accept's task goes [later: per-core]
    int taken = l->on_accept(fd, l->arg);
    sched_spread_spawns(was); // [later: per-core]
    if (taken == 0) {
        l->accepted++;
        return;
    }
    // No task slot or no memory: a 503 and close, as the thread does.
    l->refused++;
    if (l->on_refused)
        l->on_refused(fd);
    sys_close(fd);
}

// Out of descriptors: the accept queue stays full, so waiting for it would
// come back at once. Sleep on a timer instead; the worker goes on running
// the connections that free fds.
poll_t net_listener_back_off(struct net_listener *l, struct sched_cx *cx)
{
    l->backoffs++;
    if (ex_timer_arm(&l->backoff, ex_now_ns() + NET_EMFILE_BACKOFF_MS * NS_PER_MS, cx->waker) < 0)
        sched_wake(cx->waker); // no timer free (EX_MAX_TIMERS armed): retry after a yield
    return PENDING;
}

// [snippet: listener-poll]
// The listening socket is one more fd in the reactor. Whichever worker
// polls this task accepts a batch, until -EAGAIN, and each connection's task
// is spawned idle and registered from here: it first runs when its request
// arrives, on whichever worker takes it from the queue. No thread is woken
// to hand it over, the acceptor thread's context switch per connection.
poll_t net_listener_ready_poll(void *state, struct sched_cx *cx)
{
    struct net_listener *l = state;
    if (ex_stopping())
        return net_listener_stop(l);
    if (ex_timer_armed(&l->backoff))
        return PENDING; // woken by a new connection while backing off: not yet
    for (int n = 0; n < NET_ACCEPT_BATCH; n++) {
        int fd = sys_accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            net_listener_hand_over(l, fd);
        } else if (fd == -EAGAIN) {
            // Queue empty: the next connection is a readiness edge that
            // wakes this task (edge-triggered epoll, or ppoll's one shot).
            ex_io_wait(&l->io, EX_READABLE, cx, NULL);
            return PENDING;
        } else if (net_accept_out_of_room(fd)) {
            return net_listener_back_off(l, cx);
        } else if (fd == -EINVAL || fd == -EBADF) {
            return net_listener_stop(l); // the listening socket was shut down
        }
        // EINTR, ECONNABORTED (the peer gave up while queued), ...: go on.
    }
    // A full batch: yield, so the connections just spawned and the rest of
    // the queue run before the next batch, and come straight back.
    sched_wake(cx->waker);
    return PENDING;
}
// [end: listener-poll]

int net_listener_start(struct net_listener *l)
{
    int flags = sys_fcntl(l->listen_fd, F_GETFL, 0);
    if (flags < 0)
        return flags;
    int r = sys_fcntl(l->listen_fd, F_SETFL, flags | O_NONBLOCK);
    if (r < 0)
        return r;
    l->io = (struct ex_io){.fd = l->listen_fd};
    l->backoff = (struct ex_timer)EX_TIMER_INIT;
    l->accepted = l->refused = l->backoffs = 0;
    // Runs at once: it drains what queued before it started, then registers
    // (or starts its multishot accept, on the completion path).
    return sched_spawn_on(l->home < sched_queues() ? l->home : 0, net_stream_table()->listen, l, NULL, NULL);
}
