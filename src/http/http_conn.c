// http_conn.c: the connection task: read, parse every complete request, route, respond, send, linger.
#include "http/http_conn.h"
#include "config.h"
#include "http/http_log.h"
#include "http/http_metrics.h"
#include "mem/mem.h"
#include "sys/clock.h"
#include "sys/parse_result.h"
#include "sys/string.h"

struct http_settings http_settings = {
    .header_timeout_ms = HTTP_HEADER_TIMEOUT_MS,
    .idle_timeout_ms = HTTP_IDLE_TIMEOUT_MS,
    .send_timeout_ms = HTTP_SEND_TIMEOUT_MS,
};

_Static_assert(HTTP_READ_BUF <= HTTP_READ_BUF_MAX && HTTP_READ_BUF_MAX >= HTTP_MAX_HEAD_BYTES,
               "the read buffer grows to hold a head at the limit, so the parser can decide 431");
_Static_assert(HTTP_READ_BUF_MAX <= __INT_MAX__, "http_body_skip takes at most INT_MAX bytes");

// [snippet: http-process]
// Answers every complete request in the buffer, in order (pipelining).
// Stops when it needs more bytes, when the connection must close or switch
// protocols, or when out is full (c->more: flush, then call again).
// Returns nothing: what it did is in c (out_len, body, closing, upgrade,
// more). Called by conn_poll each time around its loop, after a read.
// [lab: process_buffer]
static void process_buffer(struct http_conn *c)
{
    c->more = false;
    while (!c->closing && !c->upgrade) {
        // Room first: skipping a body may itself answer (a malformed chunk
        // gets a 400), and that answer must neither overflow `out` nor land
        // between an earlier response's head and its queued body.
        if (c->body || HTTP_OUT_BUF - c->out_len < HTTP_CONN_OUT_RESERVE) {
            c->more = c->len > c->start || http_body_pending(&c->req_body);
            return;
        }
        if (c->len == c->start)
            return;
        // Bytes to act on: they may need an answer, so out is taken now
        // (and given back once the batch is sent). No memory for it: nothing
        // can be answered, so the connection closes.
        if (!c->out && !(c->out = net_buf_take())) {
            c->closing = true;
            return;
        }
        if (http_body_pending(&c->req_body)) {
            int status;
            int k = http_body_skip(&c->req_body, c->buf + c->start, c->len - c->start, &status);
            if (k == PARSE_ERROR) {
                c->start = c->len;
                http_respond_error(c, status);
                return;
            }
            c->start += (size_t)k;
            if (http_body_pending(&c->req_body))
                return;
        }
        size_t avail = c->len - c->start;
        if (avail == 0)
            return;
        // A byte at a time must not cost a full re-parse per byte.
        if (c->parsed_upto && !http_should_reparse(c->buf + c->start, c->parsed_upto - c->start, avail))
            return;
        struct http_request req; // on the worker's stack: ~2 KiB we need only now
        int r = http_parse_request(c->buf + c->start, avail, &req);
        if (r == PARSE_NEED_MORE) {
            c->parsed_upto = c->len;
            return;
        }
        c->parsed_upto = 0;
        c->head_deadline = 0;
        if (r == PARSE_ERROR) {
            c->start = c->len;
            http_respond_error(c, req.error_status);
            return;
        }
        c->start += (size_t)r;
        http_route(c, &req);
    }
}
// [end lab: process_buffer]
// [end: http-process]

// ---- buffers: lent while there is work --------------------------------------------------------

_Static_assert(HTTP_READ_BUF == NET_BUF_SIZE && HTTP_OUT_BUF == NET_BUF_SIZE,
               "the read and output buffers come from the pool");
_Static_assert(HTTP_READ_BUF_MAX != NET_BUF_SIZE, "cap tells a grown read buffer from a pool buffer");

// [snippet: http-conn-buffers]
// Before a wait: a buffer holding nothing unparsed, and an output buffer
// holding nothing unsent, go back. This is the idle keep-alive state, and
// also a body being skipped with no byte of it at hand: the parse and skip
// states live in the struct, not in the buffer.
static void give_back_idle(struct http_conn *c)
{
    if (c->buf && c->len == c->start) {
        net_buf_release(c->buf, c->cap);
        c->buf = NULL;
        c->cap = c->len = c->start = 0;
        c->parsed_upto = 0;
    }
    if (c->out && c->out_len == 0 && !c->body) {
        net_buf_give(c->out);
        c->out = NULL;
    }
}
// [end: http-conn-buffers]

// ---- waiting, with timeouts ------------------------------------------------------------------

// Reads more request bytes; READY with io_result > 0, or 0 to close
// (end of stream, error, timeout, or an idle connection at shutdown).
static poll_t conn_read(struct http_conn *c, struct sched_cx *cx)
{
    bool idle = c->len == c->start && !http_body_pending(&c->req_body);
    if ((ex_stopping() && idle) || http_deadline_expired(&c->deadline, cx)) {
        c->io_result = 0;
        return READY;
    }
    // [snippet: http-conn-read-buffer]
    // A buffer is taken on each readiness wake, just before the recv. When
    // the recv finds nothing (the socket was drained: net_recv waits without
    // a syscall), it goes straight back: a take and a give, no syscall.
    if (!c->buf) {
        if (!(c->buf = net_buf_take())) {
            c->io_result = -ENOMEM;
            return READY;
        }
        c->cap = NET_BUF_SIZE;
    }
    poll_t r = net_recv(&c->sock, c->buf + c->len, c->cap - c->len, &c->io_result, cx);
    if (r == PENDING || c->io_result <= 0)
        give_back_idle(c);
    else
        http_metric_add(M_BYTES_IN, (uint64_t)c->io_result);
    return r;
    // [end: http-conn-read-buffer]
}

static poll_t conn_send(struct http_conn *c, struct sched_cx *cx)
{
    if (http_deadline_expired(&c->deadline, cx)) {
        c->io_result = -ETIMEDOUT;
        return READY;
    }
    return net_send(&c->sock, &c->send, &c->io_result, cx);
}

// Makes room to read: drops parsed bytes, and grows the buffer once the
// unparsed head fills it (the parser answers 431 before it passes the limit).
// A connection without a buffer has room: conn_read takes one.
static bool make_room(struct http_conn *c)
{
    if (!c->buf)
        return true;
    if (c->start == c->len) {
        c->start = c->len = 0;
    } else if (c->start > 0 && c->len == c->cap) {
        sys_memmove(c->buf, c->buf + c->start, c->len - c->start);
        if (c->parsed_upto)
            c->parsed_upto -= c->start;
        c->len -= c->start;
        c->start = 0;
    }
    if (c->len < c->cap)
        return true;
    size_t want = HTTP_READ_BUF_MAX;
    if (c->cap >= want)
        return false;
    char *bigger = mem_alloc(want);
    if (!bigger)
        return false;
    sys_memcpy(bigger, c->buf, c->len);
    net_buf_release(c->buf, c->cap);
    c->buf = bigger;
    c->cap = want;
    return true;
}

// ---- the task ------------------------------------------------------------------------------

// [snippet: http-conn-poll]
static poll_t conn_poll(void *state, struct sched_cx *cx)
{
    struct http_conn *c = state;
    ASYNC_BEGIN(c);
    http_log("[ACCEPT] fd=%d", c->sock.io.fd);
    for (;;) {
        // [snippet: http-conn-batch-send]
        process_buffer(c);
        if (c->out_len || c->body) {
            net_send_init(&c->send, c->out, c->out_len);
            if (c->body)
                net_send_add(&c->send, c->body, c->body_len);
            http_deadline_in(&c->deadline, http_settings.send_timeout_ms, cx);
            AWAIT(c, conn_send(c, cx));
            if (c->io_result < 0)
                break;
            http_metric_add(M_BYTES_OUT, (uint64_t)c->io_result);
            if (c->body_owned)
                mem_free((void *)c->body);
            c->out_len = 0;
            c->body = NULL;
            c->body_owned = false;
            if (c->more && !c->closing && !c->upgrade)
                continue; // more pipelined requests are waiting in the buffer (keep out for them)
            net_buf_give(c->out);
            c->out = NULL;
        }
        // [end: http-conn-batch-send]
        if (c->upgrade) {
            // [snippet: http-upgrade-handover]
            // The read buffer goes to the protocol as it is, without a copy:
            // the bytes the client sent behind its handshake are in it. With
            // none, it is given back first and the protocol starts with none.
            give_back_idle(c);
            c->upgrade_state = c->upgrade->open(&c->sock, c->buf, c->cap, c->start, c->len);
            c->buf = NULL; // the protocol's now, whether open succeeded or not
            if (!c->upgrade_state)
                break;
            // [end: http-upgrade-handover]
            AWAIT(c, c->upgrade->poll(c->upgrade_state, cx));
            break;
        }
        if (c->closing) {
            // Requests the client pipelined behind the last answer are still
            // unread: closing now would send a reset (see below).
            if (c->len > c->start || http_body_pending(&c->req_body))
                c->linger = true;
            break;
        }
        if (!make_room(c))
            break;
        give_back_idle(c);
        if (c->len == c->start && !http_body_pending(&c->req_body)) {
            c->head_deadline = 0;
            http_deadline_in(&c->deadline, http_settings.idle_timeout_ms, cx);
        } else {
            // The header timeout runs from the first byte of a request, not
            // from the last: a client trickling a byte at a time (slowloris)
            // must not renew it with every byte.
            if (!c->head_deadline)
                c->head_deadline = ex_now_ns() + http_settings.header_timeout_ms * NS_PER_MS;
            http_deadline_at(&c->deadline, c->head_deadline, cx);
        }
        AWAIT(c, conn_read(c, cx));
        if (c->io_result <= 0) {
            // A request that started but never finished gets 408 (RFC 9110 15.5.9).
            if (c->deadline.timed_out && c->len > c->start) {
                c->start = c->len;
                if (!c->out && !(c->out = net_buf_take()))
                    break; // no memory for the answer: just close
                http_respond_error(c, 408);
                c->linger = false;
                c->deadline.timed_out = false;
                c->deadline.at = ex_now_ns() + http_settings.send_timeout_ms * NS_PER_MS;
                continue;
            }
            break;
        }
        c->len += (size_t)c->io_result;
    }
    // [snippet: http-linger]
    // Lingering close (RFC 9112 9.6: close in stages). After an error reply,
    // or with pipelined requests still unread, the client may still be
    // sending. Closing a socket with unread input makes the kernel send a
    // reset, and a reset discards our reply's bytes not yet delivered. So:
    // stop writing (FIN after the reply), then read and drop for a while.
    if (c->linger && c->io_result >= 0) {
        net_shutdown_write(&c->sock);
        c->start = c->len = 0;
        if (!c->buf) { // a sink for the bytes we drop
            c->buf = net_buf_take();
            c->cap = NET_BUF_SIZE;
        }
        http_deadline_in(&c->deadline, ex_stopping() ? HTTP_LINGER_MS / 4 : HTTP_LINGER_MS, cx);
        for (;;) {
            AWAIT(c, http_deadline_expired(&c->deadline, cx) || !c->buf
                         ? (c->io_result = 0, READY)
                         : net_recv(&c->sock, c->buf, c->cap, &c->io_result, cx));
            if (c->io_result <= 0)
                break;
        }
    }
    // [end: http-linger]
    ASYNC_END(c);
}
// [end: http-conn-poll]

// [snippet: http-conn-drop]
// The stream goes first: net_close cancels what is in flight and returns
// once the completions are in. Only then may what those requests named go:
// the upgrade's state (a WebSocket echo may be mid-send from it after a send
// timeout), the response bytes, the connection itself. Freed the other way
// round, the kernel could send reused memory to this peer.
static void conn_drop(void *state)
{
    struct http_conn *c = state;
    http_deadline_cancel(&c->deadline);
    net_close(&c->sock);
    if (c->upgrade_state)
        c->upgrade->close(c->upgrade_state);
    if (c->body_owned)
        mem_free((void *)c->body);
    if (c->buf) // every path that ends a connection ends here: its buffers go back
        net_buf_release(c->buf, c->cap);
    net_buf_give(c->out);
    mem_free(c);
    http_metric_add(M_CONN_CLOSED, 1);
}
// [end: http-conn-drop]

// [snippet: http-accept]
// On the acceptor thread: a task per connection, first polled when the
// client's request arrives (the reactor wakes it), not before.
int http_accept(int fd, void *arg)
{
    (void)arg;
    struct http_conn *c = mem_alloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    sys_memset(c, 0, sizeof *c);
    net_stream_init(&c->sock, fd);
    c->deadline = (struct http_deadline)HTTP_DEADLINE_INIT;
    struct waker w;
    int r = sched_spawn_idle(conn_poll, c, conn_drop, &w);
    if (r < 0) {
        mem_free(c);
        return r;
    }
    http_metric_add(M_CONN_ACCEPTED, 1);
    // The idle timeout starts now: a client that connects and never sends a
    // byte would otherwise never wake its task, and hold a slot for ever.
    c->deadline.at = ex_now_ns() + http_settings.idle_timeout_ms * NS_PER_MS;
    http_deadline_arm(&c->deadline, w);
    if (c->deadline.at == 0 || net_stream_watch(&c->sock, w) < 0)
        sched_wake(w); // no timer or no watch: the task runs now and its first wait ends it
    return 0;
}
// [end: http-accept]
