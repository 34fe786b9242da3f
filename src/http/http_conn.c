// http_conn.c: the HTTP/1.1 connection task: read, answer, send, until it closes or hands over (upgrade).
#include "http/http_conn.h"
#include "config.h"
#include "http/http_log.h"
#include "http/http_metrics.h"
#include "mem/mem.h"
#include "sys/clock.h"
#include "sys/string.h"

struct http_settings http_settings = {
    .header_timeout_ms = HTTP_HEADER_TIMEOUT_MS,
    .idle_timeout_ms = HTTP_IDLE_TIMEOUT_MS,
    .send_timeout_ms = HTTP_SEND_TIMEOUT_MS,
};

_Static_assert(HTTP_READ_BUF <= HTTP_READ_BUF_MAX && HTTP_READ_BUF_MAX >= HTTP_MAX_HEAD_BYTES,
               "the read buffer grows to hold a head at the limit, so the parser can decide 431");
_Static_assert(HTTP_READ_BUF == NET_BUF_SIZE && HTTP_OUT_BUF == NET_BUF_SIZE,
               "the read and output buffers come from the pool");

// [snippet: http-conn-read]
// Reads more request bytes: READY with io_result > 0, or <= 0 to close (end
// of stream, error, -ETIMEDOUT, or an idle connection at shutdown). The
// read buffer grows once, to HTTP_READ_BUF_MAX, when an unparsed head
// fills a pool buffer, so that the parser can decide 431 at its limit.
static poll_t conn_read(struct http_conn *c, struct sched_cx *cx)
{
    bool idle = c->life.len == c->life.start && !http_body_pending(&c->req_body);
    if (ex_stopping() && idle) {
        http_lifecycle_give_back(&c->life);
        c->io_result = 0;
        return READY;
    }
    if (!http_lifecycle_room(&c->life, NET_BUF_SIZE) && !http_lifecycle_room(&c->life, HTTP_READ_BUF_MAX)) {
        c->io_result = -ENOBUFS;
        return READY;
    }
    return http_lifecycle_recv(&c->life, &c->io_result, cx);
}
// [end: http-conn-read]

// [snippet: http-conn-poll]
static poll_t conn_poll(void *state, struct sched_cx *cx)
{
    struct http_conn *c = state;
    ASYNC_BEGIN(c);
    http_log("[ACCEPT] fd=%d", c->life.sock.io.fd);
    for (;;) {
        // [snippet: http-conn-batch-send]
        if (c->next == HTTP_NEXT_READ || c->next == HTTP_NEXT_MORE) // not after a 408
            c->next = http_answer_requests(c);
        if (c->out.len || c->out.body) {
            net_send_init(&c->send, c->out.buf, c->out.len);
            if (c->out.body)
                net_send_add(&c->send, c->out.body, c->out.body_len);
            http_deadline_in(&c->life.deadline, http_settings.send_timeout_ms, cx);
            AWAIT(c, http_lifecycle_send(&c->life, &c->send, &c->io_result, cx));
            if (c->io_result < 0)
                break;
            http_out_sent(&c->out);
            if (c->next == HTTP_NEXT_MORE)
                continue; // more pipelined requests are waiting in the buffer (keep out for them)
        }
        net_buf_give(c->out.buf);
        c->out.buf = NULL;
        // [end: http-conn-batch-send]
        if (c->next == HTTP_NEXT_UPGRADE) {
            // [snippet: http-upgrade-handover]
            // The connection's lifecycle goes on under the new protocol:
            // the same socket and timer, and the read buffer as it is, with
            // the bytes the client sent behind its handshake (none: given
            // back first). HTTP's own state is done with.
            http_lifecycle_give_back(&c->life);
            c->life.upgrade_state = c->life.upgrade->open(&c->life);
            if (!c->life.upgrade_state)
                break;
            // [end: http-upgrade-handover]
            AWAIT(c, c->life.upgrade->poll(c->life.upgrade_state, cx));
            break;
        }
        if (c->next != HTTP_NEXT_READ)
            break; // CLOSE or LINGER
        http_lifecycle_give_back(&c->life);
        if (c->life.len == c->life.start && !http_body_pending(&c->req_body)) {
            c->head_deadline = 0;
            http_deadline_in(&c->life.deadline, http_settings.idle_timeout_ms, cx);
        } else {
            // The header timeout runs from the first byte of a request, not
            // from the last: a client trickling a byte at a time (slowloris)
            // must not renew it with every byte.
            if (!c->head_deadline)
                c->head_deadline = ex_now_ns() + http_settings.header_timeout_ms * NS_PER_MS;
            http_deadline_at(&c->life.deadline, c->head_deadline, cx);
        }
        AWAIT(c, conn_read(c, cx));
        if (c->io_result == -ETIMEDOUT && c->life.len > c->life.start) {
            // A request that started but never finished gets 408 (RFC 9110
            // 15.5.9), and the connection closes without lingering: the
            // client has been silent for the whole header timeout.
            c->life.start = c->life.len;
            if (!c->out.buf && !(c->out.buf = net_buf_take()))
                break; // no memory for the answer: just close
            struct http_reply r = http_reply_error(408);
            http_respond(&c->out, &r);
            http_log("[HTTP] fd=%d error=408", c->life.sock.io.fd);
            c->next = HTTP_NEXT_CLOSE;
            continue;
        }
        if (c->io_result <= 0)
            break;
    }
    if (c->next == HTTP_NEXT_LINGER && c->io_result >= 0)
        AWAIT(c, http_lifecycle_linger(&c->life, ex_stopping() ? HTTP_LINGER_MS / 4 : HTTP_LINGER_MS, cx));
    ASYNC_END(c);
}
// [end: http-conn-poll]

// [snippet: http-conn-drop]
// Every path that ends a connection ends here. The lifecycle ends first:
// the socket closed (what is in flight cancelled and waited for), then
// what it named freed; HTTP's own buffers go after it, for the same reason.
static void conn_drop(void *state)
{
    struct http_conn *c = state;
    http_lifecycle_end(&c->life);
    http_out_sent(&c->out);
    net_buf_give(c->out.buf);
    mem_free(c);
    http_metric_add(M_CONN_CLOSED, 1);
}
// [end: http-conn-drop]

// [snippet: http-accept]
// On whichever thread accepts: a task per connection, first polled when the
// client's request arrives (the reactor wakes it), not before.
int http_accept(int fd, void *arg)
{
    (void)arg;
    struct http_conn *c = mem_alloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    sys_memset(c, 0, sizeof *c);
    http_lifecycle_init(&c->life, fd);
    struct waker w;
    int r = sched_spawn_idle(conn_poll, c, conn_drop, &w);
    if (r < 0) {
        mem_free(c);
        return r;
    }
    http_metric_add(M_CONN_ACCEPTED, 1);
    if (!http_lifecycle_start(&c->life, http_settings.idle_timeout_ms, w))
        sched_wake(w); // no timer or no watch: the task runs now and its first wait ends it
    return 0;
}
// [end: http-accept]
