// stream.c: a connection's socket from accept to close: the recv and send futures, shutdown, close.
#include "config.h"
#include "net/net.h"
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
// [lab: net_recv]
poll_t net_recv(struct net_stream *s, void *buf, size_t cap, ssize_t *result, struct sched_cx *cx)
{
    if (ex_completion_active())
        return net_recv_uring(s, buf, cap, result, cx);
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
// [end lab: net_recv]
// [end: net-recv]

void net_send_init(struct net_send *s, const void *buf, size_t len)
{
    s->iovcnt = 0;
    s->total = s->sent = 0;
    if (len)
        net_send_add(s, buf, len);
}

void net_send_add(struct net_send *s, const void *buf, size_t len)
{
    if (s->iovcnt == NET_SEND_MAX_IOV)
        SYS_PANIC("net_send_add: more than NET_SEND_MAX_IOV buffers in one send"); // a programming error
    s->iov[s->iovcnt++] = (struct iovec){(void *)buf, len};
    s->total += len;
}

// [snippet: net-send]
int net_send_unsent(const struct net_send *s, struct iovec out[NET_SEND_MAX_IOV])
{
    // Skip the iovecs already sent and trim the one we stopped inside.
    int cnt = 0;
    size_t skip = s->sent;
    for (int i = 0; i < s->iovcnt; i++) {
        if (skip >= s->iov[i].iov_len) {
            skip -= s->iov[i].iov_len;
            continue;
        }
        out[cnt++] = (struct iovec){(char *)s->iov[i].iov_base + skip, s->iov[i].iov_len - skip};
        skip = 0;
    }
    return cnt;
}

// [lab: net_send]
poll_t net_send(struct net_stream *st, struct net_send *s, ssize_t *result, struct sched_cx *cx)
{
    if (ex_completion_active())
        return net_send_uring(st, s, result, cx);
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
            return wait_ready(io, EX_WRITABLE, result, cx); // keep our place
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
// [end lab: net_send]
// [end: net-send]

int net_stream_watch(struct net_stream *s, struct waker w) { return ex_io_watch(&s->io, EX_READABLE, w); }

void net_shutdown_write(struct net_stream *s) { sys_shutdown(s->io.fd, SHUT_WR); }

// [snippet: net-close]
// The reactor's registration goes first: the fd number is free the moment
// it is closed, and the acceptor may hand it to a new connection at once.
// On io_uring, before that, the requests in flight: the kernel may still be
// reading the caller's memory (see net_close_uring).
void net_close(struct net_stream *s)
{
    if (ex_completion_active())
        net_close_uring(s);
    ex_io_forget(&s->io);
    sys_close(s->io.fd);
    s->io.fd = -1;
}
// [end: net-close]

void net_refuse_reply(int fd, const void *reply, size_t len)
{
    sys_send(fd, reply, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    char sink[NET_REFUSE_DRAIN];
    sys_recv(fd, sink, sizeof sink, MSG_DONTWAIT);
}
