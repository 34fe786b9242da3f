// listener_uring.c: workers accept on io_uring: one multishot accept per listener, fds handed over.
// batches.
#include "config.h"
#include "exec/completion.h"
#include "mem/mem.h"
#include "net/net.h"
#include "net/stream_ops.h"
#include "sys/atomic.h"
#include "sys/sys.h"

// Stopping: the multishot request ends first (cancel, and wait for its last
// completion: the kernel writes into the queue until then), the connections
// it accepted and nobody took are closed, and the queue goes.
static poll_t multishot_stop(struct net_listener *l)
{
    struct ex_accept *a = l->multishot;
    if (a) {
        ex_accept_cancel_wait(a);
        for (int fd; (fd = ex_accept_take(a)) >= 0;)
            sys_close(fd);
        ex_accept_release(a);
        mem_free(a);
        l->multishot = NULL;
    }
    return net_listener_stop(l);
}

// [snippet: listener-completion-poll]
// The kernel accepts for us: one multishot ACCEPT stays in the ring, and
// each completion puts a new connection's fd in the queue and wakes this
// task. No accept4, no readiness poll, no -EAGAIN to end a batch: with a
// burst of connections, one wake hands over every fd the poller reaped.
// The request ends on an error (out of descriptors: back off, as the
// readiness listener does) or a cancel; it is started again here.
poll_t net_listener_completion_poll(void *arg, struct sched_cx *cx)
{
    struct net_listener *l = arg;
    if (ex_stopping())
        return multishot_stop(l);
    if (!l->multishot) {
        l->multishot = mem_alloc(sizeof *l->multishot);
        if (!l->multishot)
            return net_listener_back_off(l, cx); // try again later
        *l->multishot = (struct ex_accept){0};
    }
    struct ex_accept *a = l->multishot;
    // The state first: every fd queued before the request ended is then in
    // the queue the loop below drains.
    uint32_t state = atomic_load_acquire(&a->op.state);
    for (int n = 0; n < NET_ACCEPT_BATCH; n++) {
        int fd = ex_accept_take(a);
        if (fd < 0)
            break;
        net_listener_hand_over(l, fd);
        if (n == NET_ACCEPT_BATCH - 1) {
            sched_wake(cx->waker); // a full batch: let the new connections run, then come back
            return PENDING;
        }
    }
    if (state == EX_OP_FLIGHT || ex_timer_armed(&l->backoff))
        return PENDING;
    if (state == EX_OP_DONE) {
        int res = a->op.res;
        atomic_store_relaxed(&a->op.state, EX_OP_IDLE);
        if (net_accept_out_of_room(res))
            return net_listener_back_off(l, cx);
        if (res == -EINVAL || res == -EBADF)
            return multishot_stop(l); // the listening socket was shut down
    }
    int r = ex_accept_start(a, l->listen_fd, cx->waker);
    if (r < 0)
        return net_listener_back_off(l, cx); // no SQE to be had now: retry after the pause
    return PENDING;
}
// [end: listener-completion-poll]
