// http_lifecycle.c: one connection's life, whatever protocol it speaks: socket, timer, read buffer, end.
#include "http/http_lifecycle.h"
#include "http/http_metrics.h"
#include "mem/mem.h"
#include "sys/clock.h"
#include "sys/string.h"

void http_lifecycle_init(struct http_lifecycle *l, int fd)
{
    sys_memset(l, 0, sizeof *l);
    net_stream_init(&l->sock, fd);
    l->deadline = (struct http_deadline)HTTP_DEADLINE_INIT;
}

bool http_lifecycle_start(struct http_lifecycle *l, uint64_t idle_ms, struct waker w)
{
    // The idle timeout starts now: a client that connects and never sends a
    // byte would otherwise never wake its task, and hold a slot for ever.
    l->deadline.at = ex_now_ns() + idle_ms * NS_PER_MS;
    http_deadline_arm(&l->deadline, w);
    return l->deadline.at != 0 && net_stream_watch(&l->sock, w) == 0;
}

// ---- the read buffer: lent while it holds bytes ------------------------------------------------

_Static_assert(NET_BUF_SIZE != HTTP_READ_BUF_MAX, "cap tells a grown read buffer from a pool buffer");

// [snippet: http-lifecycle-buffer]
// The buffer is taken just before a receive and goes back before every
// wait that finds it empty: an idle connection, HTTP or WebSocket, holds
// none. The parse states live in the protocols' structs, not in the bytes.
void http_lifecycle_give_back(struct http_lifecycle *l)
{
    if (l->in && l->start == l->len) {
        net_buf_release(l->in, l->cap);
        l->in = NULL;
        l->cap = l->start = l->len = 0;
    }
}

bool http_lifecycle_room(struct http_lifecycle *l, size_t want)
{
    if (!l->in) {
        l->in = want > NET_BUF_SIZE ? mem_alloc(want) : net_buf_take();
        l->cap = want > NET_BUF_SIZE ? want : NET_BUF_SIZE;
        l->start = l->len = 0;
        return l->in != NULL;
    }
    if (l->start == l->len) {
        l->start = l->len = 0;
    } else if (l->start > 0 && l->len == l->cap) { // keep the unconsumed tail, make room after it
        sys_memmove(l->in, l->in + l->start, l->len - l->start);
        l->len -= l->start;
        l->start = 0;
    }
    if (l->cap < want) { // a long HTTP head, a large WebSocket payload
        char *bigger = mem_alloc(want);
        if (bigger) {
            sys_memcpy(bigger, l->in, l->len);
            net_buf_release(l->in, l->cap);
            l->in = bigger;
            l->cap = want;
        }
    }
    return l->len < l->cap;
}
// [end: http-lifecycle-buffer]

// ---- waits, each with its deadline ----------------------------------------------------------

// [snippet: http-lifecycle-waits]
poll_t http_lifecycle_recv(struct http_lifecycle *l, ssize_t *result, struct sched_cx *cx)
{
    if (http_deadline_expired(&l->deadline, cx)) {
        *result = -ETIMEDOUT;
        http_lifecycle_give_back(l);
        return READY;
    }
    // When the last read drained the socket, net_recv waits without a
    // syscall: a take and a give of the buffer, and no syscall at all.
    poll_t r = net_recv(&l->sock, l->in + l->len, l->cap - l->len, result, cx);
    if (r == PENDING || *result <= 0) {
        http_lifecycle_give_back(l);
    } else {
        l->len += (size_t)*result;
        http_metric_add(M_BYTES_IN, (uint64_t)*result);
    }
    return r;
}

poll_t http_lifecycle_send(struct http_lifecycle *l, struct net_send *s, ssize_t *result, struct sched_cx *cx)
{
    if (http_deadline_expired(&l->deadline, cx)) {
        *result = -ETIMEDOUT;
        return READY;
    }
    poll_t r = net_send(&l->sock, s, result, cx);
    if (r == READY && *result > 0)
        http_metric_add(M_BYTES_OUT, (uint64_t)*result);
    return r;
}
// [end: http-lifecycle-waits]

// [snippet: http-linger]
// Lingering close (RFC 9112 9.6: close in stages). When the peer may still
// be sending (after an error reply, with pipelined requests unread, after a
// WebSocket close frame), closing a socket with unread input makes the
// kernel send a reset, and a reset discards our bytes not yet delivered.
// So: stop writing (FIN after our last bytes), then read and drop for a while.
poll_t http_lifecycle_linger(struct http_lifecycle *l, uint64_t ms, struct sched_cx *cx)
{
    if (!l->lingering) {
        l->lingering = true;
        net_shutdown_write(&l->sock);
        l->start = l->len = 0;                  // what is left unconsumed is dropped too
        if (!l->in && (l->in = net_buf_take())) // a sink for the bytes we drop
            l->cap = NET_BUF_SIZE;
        http_deadline_in(&l->deadline, ms, cx);
    }
    for (;;) {
        ssize_t n; // written by the poll that returns READY: it need not survive a PENDING
        if (!l->in || http_deadline_expired(&l->deadline, cx))
            return READY;
        if (net_recv(&l->sock, l->in, l->cap, &n, cx) == PENDING)
            return PENDING;
        if (n <= 0)
            return READY;
    }
}
// [end: http-linger]

// [snippet: http-lifecycle-end]
// The stream goes first: net_close cancels what is in flight and returns
// once the completions are in. Only then may what those requests named go:
// the upgrade's state (a WebSocket echo may be mid-send from it after a send
// timeout), the read buffer (a receive may be landing in it). Freed the
// other way round, the kernel could send reused memory, another
// connection's bytes perhaps, to this peer, or write into memory reused.
void http_lifecycle_end(struct http_lifecycle *l)
{
    http_deadline_cancel(&l->deadline);
    net_close(&l->sock);
    net_stream_check_quiet(&l->sock); // the rule above, checked: a later edit that breaks it panics here
    if (l->upgrade_state)
        l->upgrade->close(l->upgrade_state);
    if (l->in)
        net_buf_release(l->in, l->cap);
}
// [end: http-lifecycle-end]
