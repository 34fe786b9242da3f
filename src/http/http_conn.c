// http_conn.c: one task per connection: read, parse every complete request, answer in order, repeat.
#include "config.h"
#include "http/http_chunked.h"
#include "http/http_date.h"
#include "http/http_log.h"
#include "http/http_metrics.h"
#include "http/http_server.h"
#include "mem/mem.h"
#include "net/net.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/parse_result.h"
#include "sys/string.h"
#include "sys/sys.h"

// Room kept free in `out` before a request is handled; below it we flush
// first. It holds the longest head respond() writes (HEAD_MAX, checked
// below) and is the room the upgrade hook gets for its handshake reply.
#define OUT_RESERVE 1024

static const struct http_upgrade_hook *upgrade_hook;

struct http_settings http_settings = {
    .header_timeout_ms = HTTP_HEADER_TIMEOUT_MS,
    .idle_timeout_ms = HTTP_IDLE_TIMEOUT_MS,
    .send_timeout_ms = HTTP_SEND_TIMEOUT_MS,
};

void http_set_upgrade_hook(const struct http_upgrade_hook *hook) { atomic_store_seq(&upgrade_hook, hook); }

// [snippet: http-conn-state]
// Everything the connection keeps across awaits. About 9 KiB, no stack: a
// thousand idle keep-alive connections cost 9 MB, not a thousand thread stacks.
struct http_conn {
    int resume;
    struct ex_io io;
    // Read side: bytes [start, len) of buf are received but not yet parsed.
    char *buf;
    size_t cap, len, start;
    size_t parsed_upto; // len at the last parse that needed more (skip useless re-parses)
    uint64_t body_left; // Content-Length bytes still to skip
    bool in_chunked;    // skipping a chunked body
    struct http_chunked chunked;
    // Write side: response heads (and small bodies) gather in out; a large
    // static body goes out as a second iovec, straight from the binary.
    size_t out_len;
    const void *body;
    size_t body_len;
    bool body_owned; // body was allocated (metrics) and is freed after sending
    struct net_send send;
    ssize_t io_result;
    // What to do next.
    bool closing; // close after flushing
    bool linger;  // drain the client's bytes before closing (after an error, or with input unread)
    bool more;    // stopped parsing because out was full: flush, then go on
    bool timed_out;
    const struct http_upgrade_hook *upgrade; // set when a 101 was queued
    void *upgrade_state;
    // Timeouts: one timer, re-armed lazily (see conn_deadline).
    uint64_t head_deadline; // when the request being received must be complete (0: none)
    uint64_t deadline;
    struct ex_timer timer;
    char inline_buf[HTTP_READ_BUF];
    char out[HTTP_OUT_BUF];
};
// [end: http-conn-state]

// ---- responses ---------------------------------------------------------------------------

static const char plaintext_body[] = "Hello, World!";
static const char body_404[] = "404 Not Found\n";
static const char body_405[] = "405 Method Not Allowed\n";
static const char body_426[] = "426 Upgrade Required: this build has no WebSocket stage\n";

static const char ctype_text[] = "text/plain; charset=utf-8";
static const char ctype_plain[] = "text/plain";
static const char ctype_html[] = "text/html; charset=utf-8";
static const char ctype_metrics[] = "text/plain; version=0.0.4; charset=utf-8";

// Extra fields (each starts with CRLF: respond() ends the line before it).
// Every route answers the same methods (RFC 9110 10.2.1: Allow on 405 and OPTIONS).
static const char allow_field[] = "\r\nAllow: GET, HEAD, OPTIONS";
// RFC 9110 15.5.22: a 426 says which protocol to upgrade to.
static const char upgrade_fields[] = "\r\nUpgrade: websocket\r\nConnection: Upgrade";

// The longest head respond() can write, each piece at its longest: a 3-digit
// status, the longest reason phrase, the longest Content-Type, a 20-digit
// Content-Length, the longer Connection field and the longest extra fields.
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define HEAD_MAX                                                                                          \
    (sizeof "HTTP/1.1 999 " - 1 + HTTP_REASON_MAX + sizeof "\r\nServer: " HTTP_SERVER_NAME "\r\nDate: " - \
     1 + HTTP_DATE_LEN + sizeof "\r\nContent-Type: " - 1 + sizeof ctype_metrics - 1 +                     \
     sizeof "\r\nContent-Length: " - 1 + 20 + sizeof "\r\nConnection: keep-alive" - 1 +                   \
     MAX2(sizeof allow_field, sizeof upgrade_fields) - 1 + sizeof "\r\n\r\n" - 1)
_Static_assert(sizeof ctype_text <= sizeof ctype_metrics && sizeof ctype_plain <= sizeof ctype_metrics &&
                   sizeof ctype_html <= sizeof ctype_metrics,
               "HEAD_MAX counts ctype_metrics as the longest Content-Type");
_Static_assert(OUT_RESERVE >= HEAD_MAX, "a response head always fits the reserve");
_Static_assert(HTTP_OUT_BUF >= OUT_RESERVE,
               "an empty out buffer has the reserve, or nothing is ever answered");
_Static_assert(HTTP_READ_BUF <= HTTP_READ_BUF_MAX && HTTP_READ_BUF_MAX >= HTTP_MAX_HEAD_BYTES,
               "the read buffer grows to hold a head at the limit, so the parser can decide 431");
_Static_assert(HTTP_READ_BUF_MAX <= __INT_MAX__, "http_chunked_feed takes at most INT_MAX bytes");

static void out_str(struct http_conn *c, const char *s, size_t n)
{
    sys_memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}
#define OUT_LIT(c, s) out_str((c), (s), sizeof(s) - 1)

static void out_u64(struct http_conn *c, uint64_t v) { c->out_len += sys_fmt_u64(c->out + c->out_len, v); }

// [snippet: http-respond]
// Appends one complete response. Small bodies are copied after the head so
// that a whole pipelined batch leaves in a single send; large ones are
// queued as a second iovec. Every response carries Content-Length, so the
// client always knows where it ends, even on a kept-alive connection.
static void respond(struct http_conn *c, int status, bool keep_alive, bool http10, const char *ctype,
                    const void *body, size_t body_len, bool head_only, const char *extra)
{
    char date[HTTP_DATE_LEN];
    http_date_now(date);
    OUT_LIT(c, "HTTP/1.1 ");
    out_u64(c, (uint64_t)status);
    c->out[c->out_len++] = ' ';
    const char *reason = http_reason_phrase(status);
    out_str(c, reason, sys_strlen(reason));
    OUT_LIT(c, "\r\nServer: " HTTP_SERVER_NAME "\r\nDate: ");
    out_str(c, date, HTTP_DATE_LEN);
    OUT_LIT(c, "\r\nContent-Type: ");
    out_str(c, ctype, sys_strlen(ctype));
    OUT_LIT(c, "\r\nContent-Length: ");
    out_u64(c, body_len);
    if (!keep_alive)
        OUT_LIT(c, "\r\nConnection: close");
    else if (http10) // HTTP/1.0 closes by default: say that we keep it open
        OUT_LIT(c, "\r\nConnection: keep-alive");
    if (extra)
        out_str(c, extra, sys_strlen(extra));
    OUT_LIT(c, "\r\n\r\n");
    if (!keep_alive)
        c->closing = true;
    http_metric_status(status);
    if (head_only || body_len == 0)
        return;
    if (body_len <= HTTP_OUT_BUF - c->out_len && body_len <= HTTP_COPY_BODY_MAX) {
        out_str(c, body, body_len);
    } else {
        c->body = body;
        c->body_len = body_len;
    }
}
// [end: http-respond]

// An error reply: the request (or what there is of it) cannot be trusted to
// frame the next one, so the connection closes after it.
static void respond_error(struct http_conn *c, int status)
{
    // The body is the reason phrase: static memory, so it stays valid even
    // if respond() queues it instead of copying it. The head fits: the
    // caller keeps OUT_RESERVE bytes free.
    const char *reason = http_reason_phrase(status);
    respond(c, status, false, false, ctype_text, reason, sys_strlen(reason), false, NULL);
    c->linger = true;
    http_log("[HTTP] fd=%d error=%d", c->io.fd, status);
}

// ---- routing -------------------------------------------------------------------------------

// The path of a request-target: origin-form "/p?q", or absolute-form
// "http://host/p?q" which RFC 9112 section 3.2.2 says a server MUST accept.
static void target_path(const struct http_request *req, const char **path, size_t *len)
{
    const char *t = req->target;
    size_t n = req->target_len;
    if (n > 7 && (sys_memeq_nocase(t, "http://", 7) || (n > 8 && sys_memeq_nocase(t, "https://", 8)))) {
        size_t i = t[4] == ':' ? 7 : 8;
        while (i < n && t[i] != '/' && t[i] != '?')
            i++;
        t += i, n -= i;
        if (n == 0 || t[0] == '?') { // "http://host" means "/"
            *path = "/";
            *len = 1;
            return;
        }
    }
    size_t p = 0;
    while (p < n && t[p] != '?' && t[p] != '#')
        p++;
    *path = t;
    *len = p;
}

static bool path_is(const char *p, size_t n, const char *want)
{
    return n == sys_strlen(want) && sys_memcmp(p, want, n) == 0;
}

enum route { ROUTE_NONE, ROUTE_PAGE, ROUTE_PLAINTEXT, ROUTE_METRICS, ROUTE_WS };

static enum route route_of(const char *path, size_t n)
{
    if (path_is(path, n, "/plaintext"))
        return ROUTE_PLAINTEXT;
    if (path_is(path, n, "/"))
        return ROUTE_PAGE;
    if (path_is(path, n, "/metrics"))
        return ROUTE_METRICS;
    if (path_is(path, n, "/ws"))
        return ROUTE_WS;
    return ROUTE_NONE;
}

static bool method_is(const struct http_request *req, const char *m)
{
    return req->method_len == sys_strlen(m) && sys_memcmp(req->method, m, req->method_len) == 0;
}

// [snippet: http-route]
static void handle_request(struct http_conn *c, const struct http_request *req)
{
    bool get = method_is(req, "GET");
    bool head = method_is(req, "HEAD");
    bool keep = req->keep_alive && !ex_stopping();
    bool http10 = req->minor_version == 0;
    bool has_body = req->chunked || req->content_length > 0;
    // The body comes after the head; framing must survive it. We answer
    // first and skip the body before parsing the next request. A client
    // waiting for "100 Continue" gets the final answer instead, and the
    // connection closes so that its body never has to be read.
    if (has_body && req->expect_continue)
        keep = false;
    if (req->chunked) {
        c->in_chunked = true;
        http_chunked_init(&c->chunked);
    } else if (req->content_length > 0) {
        c->body_left = (uint64_t)req->content_length;
    }
    // "OPTIONS *" asks about the server as a whole (RFC 9110 9.3.7); the
    // parser lets "*" through with OPTIONS only. OPTIONS answers 200 with
    // Content-Length: 0, which 9.3.7 requires and a 204 may not carry (8.6).
    if (req->target_len == 1 && req->target[0] == '*') {
        respond(c, 200, keep, http10, ctype_text, "", 0, false, allow_field);
        return;
    }
    const char *path;
    size_t plen;
    target_path(req, &path, &plen);
    http_log("[HTTP] fd=%d route=%.*s", c->io.fd, (int)plen, path);
    enum route route = route_of(path, plen);

    if (route == ROUTE_NONE) {
        respond(c, 404, keep, http10, ctype_text, body_404, sizeof body_404 - 1, head, NULL);
    } else if (method_is(req, "OPTIONS")) {
        respond(c, 200, keep, http10, ctype_text, "", 0, false, allow_field);
    } else if (!get && !head) {
        respond(c, 405, keep, http10, ctype_text, body_405, sizeof body_405 - 1, false, allow_field);
    } else if (route == ROUTE_PLAINTEXT) {
        respond(c, 200, keep, http10, ctype_plain, plaintext_body, sizeof plaintext_body - 1, head, NULL);
    } else if (route == ROUTE_PAGE) {
        respond(c, 200, keep, http10, ctype_html, http_page, http_page_len, head, NULL);
    } else if (route == ROUTE_METRICS) {
        char *text = mem_alloc(HTTP_METRICS_BUF);
        if (!text) {
            respond_error(c, 503);
            return;
        }
        size_t n = http_metrics_render(text, HTTP_METRICS_BUF);
        respond(c, 200, keep, http10, ctype_metrics, text, n, head, NULL);
        if (c->body == text)
            c->body_owned = true;
        else
            mem_free(text); // small enough to have been copied into out
    } else {                // ROUTE_WS
        const struct http_upgrade_hook *hook = atomic_load_acquire(&upgrade_hook);
        if (!hook) {
            respond(c, 426, false, http10, ctype_text, body_426, sizeof body_426 - 1, head, upgrade_fields);
            return;
        }
        if (has_body) { // bytes after the head would be taken for frames
            respond_error(c, 400);
            return;
        }
        size_t n = 0;
        int status = hook->handshake(req, c->out + c->out_len, HTTP_OUT_BUF - c->out_len, &n);
        c->out_len += n;
        http_metric_status(status);
        if (status == 101) {
            c->upgrade = hook;
        } else {
            c->closing = true;
            c->linger = true;
        }
    }
}
// [end: http-route]

// [snippet: http-skip-body]
// Skips request body bytes already in the buffer. Returns false if the body
// continues beyond what we have (read more), true when it is done.
static bool skip_body(struct http_conn *c)
{
    size_t avail = c->len - c->start;
    if (c->body_left) {
        size_t k = c->body_left < avail ? (size_t)c->body_left : avail;
        c->start += k;
        c->body_left -= k;
        return c->body_left == 0;
    }
    if (c->in_chunked) {
        int r = http_chunked_feed(&c->chunked, c->buf + c->start, avail);
        if (r == PARSE_NEED_MORE) {
            c->start = c->len;
            return false;
        }
        c->in_chunked = false;
        if (r == PARSE_ERROR) { // malformed or too large: the stream cannot be framed any more
            c->start = c->len;
            respond_error(c, c->chunked.error_status);
        } else {
            c->start += (size_t)r;
        }
    }
    return true;
}
// [end: http-skip-body]

// [snippet: http-process]
// Answers every complete request in the buffer, in order (pipelining).
// Stops when it needs more bytes, when the connection must close or switch
// protocols, or when out is full (c->more: flush, then call again).
// [lab: process_buffer]
static void process_buffer(struct http_conn *c)
{
    c->more = false;
    while (!c->closing && !c->upgrade) {
        // Room first: skipping a body may itself answer (a malformed chunk
        // gets a 400), and that answer must neither overflow `out` nor land
        // between an earlier response's head and its queued body.
        if (c->body || HTTP_OUT_BUF - c->out_len < OUT_RESERVE) {
            c->more = c->len > c->start || c->body_left || c->in_chunked;
            return;
        }
        if ((c->body_left || c->in_chunked) && !skip_body(c))
            return;
        if (c->closing)
            return;
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
            respond_error(c, req.error_status);
            return;
        }
        c->start += (size_t)r;
        handle_request(c, &req);
    }
}
// [end lab: process_buffer]
// [end: http-process]

// ---- waiting, with timeouts ------------------------------------------------------------------

// [snippet: http-deadline]
// One timer per connection, armed lazily. Each wait sets c->deadline; the
// timer is only moved when the new deadline is *earlier* than the armed one.
// When it fires and the deadline has since moved on (the usual case for a
// busy keep-alive connection), it is re-armed once. So a request costs no
// timer operation at all, and an idle connection one per timeout period.
//
// A connection is never left without a timer: if arming fails (the heap is
// full), the deadline becomes 0, which conn_expired reports as passed, and
// the connection ends at its next wait instead of waiting unbounded.
static void conn_arm(struct http_conn *c, struct waker w)
{
    if (ex_timer_arm(&c->timer, c->deadline, w) < 0)
        c->deadline = 0;
}

static void conn_deadline_at(struct http_conn *c, uint64_t deadline, struct sched_cx *cx)
{
    c->deadline = deadline;
    // The heap moves timer.index from other threads: ask it, do not read it.
    // timer.deadline is written only by our own arms, so a plain read is fine.
    if (!ex_timer_armed(&c->timer) || c->timer.deadline > c->deadline)
        conn_arm(c, cx->waker);
}

static void conn_deadline(struct http_conn *c, uint64_t ms, struct sched_cx *cx)
{
    conn_deadline_at(c, ex_now_ns() + ms * NS_PER_MS, cx);
}

static bool conn_expired(struct http_conn *c, struct sched_cx *cx)
{
    if (ex_now_ns() >= c->deadline) {
        c->timed_out = true;
        return true;
    }
    if (!ex_timer_armed(&c->timer)) // fired early for an older deadline: re-arm for the current one
        conn_arm(c, cx->waker);
    return false;
}
// [end: http-deadline]

// Reads more request bytes; READY with io_result > 0, or 0 to close
// (end of stream, error, timeout, or an idle connection at shutdown).
static poll_t conn_read(struct http_conn *c, struct sched_cx *cx)
{
    bool idle = c->len == c->start && !c->body_left && !c->in_chunked;
    if ((ex_stopping() && idle) || conn_expired(c, cx)) {
        c->io_result = 0;
        return READY;
    }
    poll_t r = net_recv(&c->io, c->buf + c->len, c->cap - c->len, &c->io_result, cx);
    if (r == READY && c->io_result > 0)
        http_metric_add(M_BYTES_IN, (uint64_t)c->io_result);
    return r;
}

static poll_t conn_send(struct http_conn *c, struct sched_cx *cx)
{
    if (conn_expired(c, cx)) {
        c->io_result = -ETIMEDOUT;
        return READY;
    }
    return net_send(&c->io, &c->send, &c->io_result, cx);
}

// Makes room to read: drops parsed bytes, and grows the buffer once the
// unparsed head fills it (the parser answers 431 before it passes the limit).
static bool make_room(struct http_conn *c)
{
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
    if (c->buf != c->inline_buf)
        mem_free(c->buf);
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
    http_log("[ACCEPT] fd=%d", c->io.fd);
    for (;;) {
        process_buffer(c);
        if (c->out_len || c->body) {
            net_send_init(&c->send, c->out, c->out_len);
            if (c->body)
                net_send_add(&c->send, c->body, c->body_len);
            conn_deadline(c, http_settings.send_timeout_ms, cx);
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
                continue; // more pipelined requests are waiting in the buffer
        }
        if (c->upgrade) {
            c->upgrade_state = c->upgrade->open(&c->io, c->buf + c->start, c->len - c->start);
            if (!c->upgrade_state)
                break;
            AWAIT(c, c->upgrade->poll(c->upgrade_state, cx));
            break;
        }
        if (c->closing) {
            // Requests the client pipelined behind the last answer are still
            // unread: closing now would send a reset (see below).
            if (c->len > c->start || c->body_left || c->in_chunked)
                c->linger = true;
            break;
        }
        if (!make_room(c))
            break;
        if (c->len == c->start && !c->body_left && !c->in_chunked) {
            c->head_deadline = 0;
            conn_deadline(c, http_settings.idle_timeout_ms, cx);
        } else {
            // The header timeout runs from the first byte of a request, not
            // from the last: a client trickling a byte at a time (slowloris)
            // must not renew it with every byte.
            if (!c->head_deadline)
                c->head_deadline = ex_now_ns() + http_settings.header_timeout_ms * NS_PER_MS;
            conn_deadline_at(c, c->head_deadline, cx);
        }
        AWAIT(c, conn_read(c, cx));
        if (c->io_result <= 0) {
            // A request that started but never finished gets 408 (RFC 9110 15.5.9).
            if (c->timed_out && c->len > c->start) {
                c->start = c->len;
                respond_error(c, 408);
                c->linger = false;
                c->timed_out = false;
                c->deadline = ex_now_ns() + http_settings.send_timeout_ms * NS_PER_MS;
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
        sys_shutdown(c->io.fd, SHUT_WR);
        c->start = c->len = 0;
        conn_deadline(c, ex_stopping() ? HTTP_LINGER_MS / 4 : HTTP_LINGER_MS, cx);
        for (;;) {
            AWAIT(c, conn_expired(c, cx) ? (c->io_result = 0, READY)
                                         : net_recv(&c->io, c->buf, c->cap, &c->io_result, cx));
            if (c->io_result <= 0)
                break;
        }
    }
    // [end: http-linger]
    ASYNC_END(c);
}
// [end: http-conn-poll]

static void conn_drop(void *state)
{
    struct http_conn *c = state;
    if (c->upgrade_state)
        c->upgrade->close(c->upgrade_state);
    ex_timer_cancel(&c->timer);
    ex_io_forget(&c->io);
    sys_close(c->io.fd);
    if (c->body_owned)
        mem_free((void *)c->body);
    if (c->buf != c->inline_buf)
        mem_free(c->buf);
    mem_free(c);
    http_metric_add(M_CONN_CLOSED, 1);
}

// [snippet: http-accept]
// On the acceptor thread: a task per connection, first polled when the
// client's request arrives (the reactor wakes it), not before.
int http_accept(int fd, void *arg)
{
    (void)arg;
    struct http_conn *c = mem_alloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    sys_memset(c, 0, offsetof(struct http_conn, inline_buf));
    c->io.fd = fd;
    c->buf = c->inline_buf;
    c->cap = HTTP_READ_BUF;
    c->timer = (struct ex_timer)EX_TIMER_INIT;
    struct waker w;
    int r = sched_spawn_idle(conn_poll, c, conn_drop, &w);
    if (r < 0) {
        mem_free(c);
        return r;
    }
    http_metric_add(M_CONN_ACCEPTED, 1);
    // The idle timeout starts now: a client that connects and never sends a
    // byte would otherwise never wake its task, and hold a slot for ever.
    c->deadline = ex_now_ns() + http_settings.idle_timeout_ms * NS_PER_MS;
    conn_arm(c, w);
    if (c->deadline == 0 || ex_io_watch(&c->io, EX_READABLE, w) < 0)
        sched_wake(w); // no timer or no watch: the task runs now and its first wait ends it
    return 0;
}
// [end: http-accept]

void http_refuse(int fd)
{
#define REFUSE_BODY "503 Server is full.\n"
    _Static_assert(sizeof REFUSE_BODY - 1 == 20, "the Content-Length below");
    static const char reply[] = "HTTP/1.1 503 Service Unavailable\r\nServer: " HTTP_SERVER_NAME
                                "\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n"
                                "Connection: close\r\nRetry-After: 1\r\n\r\n" REFUSE_BODY;
    sys_send(fd, reply, sizeof reply - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    // Read what the client already sent, so that closing sends FIN, not RST.
    char sink[HTTP_REFUSE_DRAIN];
    sys_recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    http_metric_add(M_CONN_REFUSED, 1);
}
