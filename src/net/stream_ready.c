// stream_ready.c: the readiness streams: try the syscall, on -EAGAIN wait for the reactor, retry.
#include "config.h"
#include "net/stream_ops.h"
#include "sys/sys.h"

// After -EAGAIN: register with the reactor and return PENDING. If the
// registration itself fails, the operation fails: READY with that -errno.
static poll_t wait_ready(struct ex_io *io, uint32_t events, ssize_t *result, struct sched_cx *cx)
{
    int err = 0;
    ex_io_wait(io, events, cx, &err);
    if (err < 0) {
        *result = err;
        return READY;
    }
    return PENDING;
}

// [snippet: net-recv]
// The readiness recv: try recv; on -EAGAIN arm the reactor for EX_READABLE
// and return PENDING (the task is woken when data comes). Returns READY with
// *result = bytes (> 0), 0 at end of stream, or -errno. Called by net_recv
// when the executor's reactor is ppoll or epoll.
// [lab: ready_recv]
static poll_t ready_recv(struct net_stream *s, void *buf, size_t cap, ssize_t *result, struct sched_cx *cx)
{
    struct ex_io *io = &s->io;
    // A read that returned less than it asked for emptied the socket's
    // receive queue; any byte arriving later raises a new readiness edge.
    // So the next read can go straight to waiting instead of spending a
    // syscall to learn -EAGAIN: one syscall saved per keep-alive request.
    // Not so once the peer has hung up: the end of stream may have arrived
    // before that short read, its one edge is spent, and no other will come.
    if (s->drained && !ex_io_hup_seen(io)) {
        s->drained = 0;
        return wait_ready(io, EX_READABLE, result, cx);
    }
    for (;;) {
        s->drained = 0;
        ssize_t n = sys_recv(io->fd, buf, cap, 0);
        if (n == -EINTR)
            continue;
        if (n == -EAGAIN) {
            return wait_ready(io, EX_READABLE, result, cx);
        }
        s->drained = n > 0 && (size_t)n < cap;
        *result = n;
        return READY;
    }
}
// [end lab: ready_recv]
// [end: net-recv]

// [snippet: net-send]
// The readiness send: sends what s has not sent yet, with MSG_NOSIGNAL, and
// keeps its place in s->sent; on -EAGAIN arms the reactor for EX_WRITABLE
// and returns PENDING (and forgets that the last read drained the socket).
// Returns READY with *result = s->total once it is all sent, or -errno
// (-EPIPE, -ECONNRESET). Called by net_send, like ready_recv.
// [lab: ready_send]
static poll_t ready_send(struct net_stream *st, struct net_send *s, ssize_t *result, struct sched_cx *cx)
{
    struct ex_io *io = &st->io;
    while (s->sent < s->total) {
        struct iovec iov[NET_SEND_MAX_IOV];
        int cnt = net_send_unsent(s, iov);
        // sendmsg rather than writev: only the send family takes MSG_NOSIGNAL,
        // so a vanished peer gives -EPIPE instead of killing us with SIGPIPE.
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
        ssize_t n = cnt == 1 ? sys_send(io->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL)
                             : sys_sendmsg(io->fd, &m, MSG_NOSIGNAL);
        if (n == -EINTR)
            continue;
        if (n == -EAGAIN) { // socket buffer full: wait for room, keep our place
            // The registration is one for both directions: an edge for new
            // bytes that comes during this wait wakes the send, which may
            // just wait again. The short read's proof of an empty socket no
            // longer holds, so the next read must look.
            st->drained = 0;
            return wait_ready(io, EX_WRITABLE, result, cx);
        }
        if (n < 0) {
            *result = n; // EPIPE, ECONNRESET: the peer is gone
            return READY;
        }
        s->sent += (size_t)n;
    }
    *result = (ssize_t)s->total;
    return READY;
}
// [end lab: ready_send]
// [end: net-send]

// [snippet: net-stream-readiness]
static int ready_watch(struct net_stream *s, struct waker w) { return ex_io_watch(&s->io, EX_READABLE, w); }

const struct net_stream_ops net_stream_readiness = {
    .name = "readiness",
    .recv = ready_recv,
    .send = ready_send,
    .close = net_stream_close_fd,
    .watch = ready_watch,
    .listen = net_listener_ready_poll,
};
// [end: net-stream-readiness]
