// stream_uring.c: the recv and send futures on the completion path (io_uring), and the close that waits.
#include "net/stream_uring.h"
#include "config.h"
#include "mem/mem.h"
#include "net/stream_ops.h"
#include "sys/atomic.h"
#include "sys/string.h"
#include "sys/sys.h"

_Static_assert(NET_URING_MAX_IOV == NET_SEND_MAX_IOV, "a send's iovecs fit the copy made for the kernel");

// The stream's completion state, taken at its first request: a stream on
// epoll or ppoll never has one, so the state every connection keeps stays
// small (an idle HTTP connection fits in 384 bytes). NULL: out of memory.
static struct net_stream_uring *uring_state(struct net_stream *s)
{
    if (!s->uring) {
        s->uring = mem_alloc(sizeof *s->uring);
        if (s->uring)
            *s->uring = (struct net_stream_uring){0};
    }
    return s->uring;
}

// Copies what is left of the received buffer into the caller's, and gives
// the buffer back to the kernel's ring once it is empty. Returns the bytes.
static size_t take_rest(struct net_stream_uring *u, void *buf, size_t cap)
{
    size_t n = u->rest_len < cap ? u->rest_len : cap;
    sys_memcpy(buf, ex_op_buf(u->bid) + u->rest_off, n);
    u->rest_off += (uint32_t)n;
    u->rest_len -= (uint32_t)n;
    if (u->rest_len == 0)
        ex_op_buf_put(u->bid);
    return n;
}

// [snippet: net-recv-uring]
// Submit a recv, await its completion, take its result. The kernel picks
// the buffer from the provided-buffer ring only when bytes arrive, so an
// idle connection's waiting recv holds none of the caller's memory and no
// buffer. The recv asks for at most cap bytes, so all it brings fits the
// caller; should the caller ask for less next time, the rest stays in the
// buffer (rest_len) for the next call. No byte is dropped.
static poll_t completion_recv(struct net_stream *s, void *buf, size_t cap, ssize_t *result,
                              struct sched_cx *cx)
{
    struct net_stream_uring *u = uring_state(s);
    if (!u) {
        *result = -ENOMEM;
        return READY;
    }
    if (u->rest_len) {
        *result = (ssize_t)take_rest(u, buf, cap);
        return READY;
    }
    uint32_t state = atomic_load_acquire(&u->recv.state);
    if (state == EX_OP_FLIGHT)
        return PENDING; // woken for something else (a timer): still waiting
    if (state == EX_OP_DONE) {
        int32_t res = u->recv.res;
        int bid = ex_op_buf_id(&u->recv);
        atomic_store_relaxed(&u->recv.state, EX_OP_IDLE);
        if (res > 0 && bid >= 0) {
            u->bid = (uint32_t)bid;
            u->rest_off = 0;
            u->rest_len = (uint32_t)res;
            *result = (ssize_t)take_rest(u, buf, cap);
            return READY;
        }
        if (bid >= 0)
            ex_op_buf_put((uint32_t)bid);
        if (res == -ENOBUFS) {
            // Every provided buffer was taken when bytes arrived. They are
            // still in the socket: read them into the caller's buffer with
            // a plain recv (one syscall, only when the ring ran dry), or
            // queue the recv again if they went meanwhile.
            ssize_t n = sys_recv(s->io.fd, buf, cap, MSG_DONTWAIT);
            if (n != -EAGAIN && n != -EINTR) {
                *result = n;
                return READY;
            }
        } else if (res != -EINTR && res != -EAGAIN) {
            *result = res; // 0: end of stream; or -ECONNRESET ...
            return READY;
        }
    }
    if (cap == 0) {
        *result = 0;
        return READY;
    }
    int r = ex_op_recv(&u->recv, s->io.fd, cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap, cx->waker);
    if (r < 0) {
        *result = r;
        return READY;
    }
    return PENDING;
}
// [end: net-recv-uring]

// [snippet: net-send-uring]
// Submit the bytes not yet sent, await the completion, and go round after a
// short send. One send in flight per stream: the bytes of a second one could
// overtake the first's. A send the caller abandoned (its deadline passed)
// still completes; its result is not counted as the next send's.
static poll_t completion_send(struct net_stream *st, struct net_send *s, ssize_t *result, struct sched_cx *cx)
{
    struct net_stream_uring *u = uring_state(st);
    if (!u) {
        *result = -ENOMEM;
        return READY;
    }
    uint32_t state = atomic_load_acquire(&u->send.state);
    if (state == EX_OP_FLIGHT)
        return PENDING;
    if (state == EX_OP_DONE) {
        int32_t res = u->send.res;
        bool mine = u->send_owner == s && u->send_from == s->sent && u->send_total == s->total;
        atomic_store_relaxed(&u->send.state, EX_OP_IDLE);
        if (mine && res < 0 && res != -EINTR && res != -EAGAIN) {
            *result = res; // EPIPE, ECONNRESET: the peer is gone
            return READY;
        }
        if (mine && res > 0)
            s->sent += (size_t)res;
    }
    if (s->sent >= s->total) {
        *result = (ssize_t)s->total;
        return READY;
    }
    int cnt = net_send_unsent(s, u->iov);
    u->send_owner = s;
    u->send_from = s->sent;
    u->send_total = s->total;
    int r;
    if (cnt == 1) {
        size_t len = u->iov[0].iov_len < (1u << 30) ? u->iov[0].iov_len : (1u << 30);
        r = ex_op_send(&u->send, st->io.fd, u->iov[0].iov_base, (uint32_t)len, MSG_NOSIGNAL, cx->waker);
    } else {
        u->msg = (struct msghdr){.msg_iov = u->iov, .msg_iovlen = (size_t)cnt};
        r = ex_op_sendmsg(&u->send, st->io.fd, &u->msg, MSG_NOSIGNAL, cx->waker);
    }
    if (r < 0) {
        *result = r;
        return READY;
    }
    return PENDING;
}
// [end: net-send-uring]

// [snippet: net-close-uring]
// The rule of closing on the completion path: a request in flight may still
// write into, or read from, memory the caller frees right after net_close
// (the stream's ex_ops, the send's bytes). So cancel each and wait for its
// completion; then give back a buffer a finished recv still held.
static void completion_close(struct net_stream *s)
{
    struct net_stream_uring *u = s->uring;
    if (!u) {
        net_stream_close_fd(s); // never made a request
        return;
    }
    ex_op_cancel_wait(&u->recv);
    ex_op_cancel_wait(&u->send);
    if (atomic_load_acquire(&u->recv.state) == EX_OP_DONE) {
        int bid = ex_op_buf_id(&u->recv);
        if (bid >= 0)
            ex_op_buf_put((uint32_t)bid);
    }
    if (u->rest_len)
        ex_op_buf_put(u->bid);
    net_stream_check_quiet(s);
    // The close itself goes through the ring too: one syscall fewer per
    // connection. Nothing names the fd any more, and its number is not
    // free for reuse until the kernel has closed it.
    ex_io_forget(&s->io);
    ex_op_close(&u->recv, s->io.fd);
    s->io.fd = -1;
    ex_op_bufs_trim(&u->recv); // the ring's last connection gone: its buffers' pages go too
    mem_free(u);
    s->uring = NULL;
}
// [end: net-close-uring]

// [snippet: net-watch-uring]
// A new connection's first receive goes to the kernel at accept: its
// completion wakes the task with the request already in a buffer. Waiting
// for readiness first (a POLL_ADD, its completion, a wake, then the recv
// and a second wake) cost a round trip per connection. The recv asks for
// NET_BUF_SIZE, the size of the read buffer every connection starts with;
// a first read that asks for less finds the rest kept (rest_len).
static int completion_watch(struct net_stream *s, struct waker w)
{
    struct net_stream_uring *u = uring_state(s);
    if (!u)
        return -ENOMEM;
    return ex_op_recv(&u->recv, s->io.fd, NET_BUF_SIZE, w);
}
// [end: net-watch-uring]

// [snippet: net-stream-completion]
const struct net_stream_ops net_stream_completion = {
    .name = "completion",
    .recv = completion_recv,
    .send = completion_send,
    .close = completion_close,
    .watch = completion_watch,
    .listen = net_listener_completion_poll,
};
// [end: net-stream-completion]

// [snippet: net-check-quiet]
void net_stream_check_quiet(const struct net_stream *s)
{
    const struct net_stream_uring *u = s->uring;
    if (u && (atomic_load_acquire(&u->recv.state) == EX_OP_FLIGHT ||
              atomic_load_acquire(&u->send.state) == EX_OP_FLIGHT))
        SYS_PANIC("net: memory a request in flight names is being freed (close the stream first)");
}
// [end: net-check-quiet]
