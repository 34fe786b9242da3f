// http_answer.c: answers every complete request in the read buffer, in order (pipelining).
#include "http/http_conn.h"
#include "http/http_log.h"
#include "http/http_metrics.h"
#include "http/http_routes.h"
#include "sys/parse_result.h"

_Static_assert(HTTP_READ_BUF_MAX <= __INT_MAX__, "http_body_skip takes at most INT_MAX bytes");

// [snippet: http-answer-one]
// Writes one reply into c->out and says what the connection does after it.
static enum http_next answer(struct http_conn *c, const struct http_request *req, const struct http_reply *r)
{
    if (r->upgrade) { // the hook checks the handshake and writes the reply, into the reserve of out
        size_t n = 0;
        int status = r->upgrade->handshake(req, c->out.buf + c->out.len, HTTP_OUT_BUF - c->out.len, &n);
        c->out.len += n;
        http_metric_status(status);
        if (status != 101)
            return HTTP_NEXT_LINGER;
        c->life.upgrade = r->upgrade;
        return HTTP_NEXT_UPGRADE;
    }
    http_respond(&c->out, r);
    if (r->keep_alive)
        return HTTP_NEXT_READ;
    // Requests the client pipelined behind this answer are still unread:
    // closing now would send a reset (see http_lifecycle_linger).
    if (r->linger || c->life.len > c->life.start || http_body_pending(&c->req_body))
        return HTTP_NEXT_LINGER;
    return HTTP_NEXT_CLOSE;
}

static enum http_next answer_error(struct http_conn *c, int status)
{
    c->life.start = c->life.len; // nothing after an error can be framed: drop it
    http_log("[HTTP] fd=%d error=%d", c->life.sock.io.fd, status);
    struct http_reply r = http_reply_error(status);
    return answer(c, NULL, &r);
}
// [end: http-answer-one]

// [snippet: http-process]
// Answers every complete request in the buffer, in order (pipelining).
// Stops when it needs more bytes, when the connection must close or switch
// protocols, or when out is full (HTTP_NEXT_MORE: flush, then call again).
// Returns what the connection does once the answers in c->out are sent.
// Called by conn_poll each time around its loop, after a read.
// [lab: http_answer_requests]
enum http_next http_answer_requests(struct http_conn *c)
{
    struct http_lifecycle *l = &c->life;
    for (;;) {
        // Room first: skipping a body may itself answer (a malformed chunk
        // gets a 400), and that answer must neither overflow `out` nor land
        // between an earlier response's head and its queued body.
        if (c->out.body || HTTP_OUT_BUF - c->out.len < HTTP_CONN_OUT_RESERVE)
            return l->len > l->start || http_body_pending(&c->req_body) ? HTTP_NEXT_MORE : HTTP_NEXT_READ;
        if (l->len == l->start)
            return HTTP_NEXT_READ;
        // Bytes to act on: they may need an answer, so out is taken now
        // (and given back once the batch is sent). No memory for it: nothing
        // can be answered, so the connection closes.
        if (!c->out.buf && !(c->out.buf = net_buf_take()))
            return HTTP_NEXT_CLOSE;
        if (http_body_pending(&c->req_body)) {
            int status;
            int k = http_body_skip(&c->req_body, l->in + l->start, l->len - l->start, &status);
            if (k == PARSE_ERROR)
                return answer_error(c, status);
            l->start += (size_t)k;
            if (http_body_pending(&c->req_body))
                return HTTP_NEXT_READ;
        }
        size_t avail = l->len - l->start;
        if (avail == 0)
            return HTTP_NEXT_READ;
        // A byte at a time must not cost a full re-parse per byte.
        if (c->parsed_avail && !http_should_reparse(l->in + l->start, c->parsed_avail, avail))
            return HTTP_NEXT_READ;
        struct http_request req; // on the worker's stack: ~2 KiB we need only now
        int r = http_parse_request(l->in + l->start, avail, &req);
        if (r == PARSE_NEED_MORE) {
            c->parsed_avail = avail;
            return HTTP_NEXT_READ;
        }
        c->parsed_avail = 0;
        c->head_deadline = 0;
        if (r == PARSE_ERROR)
            return answer_error(c, req.error_status);
        l->start += (size_t)r;
        http_body_start(&c->req_body, &req);
        struct http_reply reply = http_route(&req, l->sock.io.fd);
        enum http_next next = answer(c, &req, &reply);
        if (next != HTTP_NEXT_READ)
            return next;
    }
}
// [end lab: http_answer_requests]
// [end: http-process]
