// http_response.c: the response writer: status line, Server/Date/Content-Length/Connection, error replies.
#include "http/http_response.h"
#include "http/http_metrics.h"
#include "http/http_routes.h"
#include "http/http_server.h"
#include "mem/mem.h"
#include "net/net.h"
#include "sys/fmt.h"
#include "sys/string.h"

// A literal's length is a constant, so the compiler copies it with a few
// moves; sys_memcpy's `rep movsb` pays its start-up on each call (the
// pipelined profile of chapter 8 found it on the head's literal pieces).
#define PUT_LIT(p, s) (__builtin_memcpy((p), (s), sizeof(s) - 1), (p) += sizeof(s) - 1)

static char *put_str(char *p, const char *s)
{
    size_t n = sys_strlen(s);
    sys_memcpy(p, s, n);
    return p + n;
}

// [snippet: http-head-write]
size_t http_head_write(char *out, int status, const char *ctype, uint64_t content_length, bool keep_alive,
                       bool http10, const char *extra)
{
    char *p = out;
    PUT_LIT(p, "HTTP/1.1 ");
    p += sys_fmt_u64(p, (uint64_t)status);
    *p++ = ' ';
    p = put_str(p, http_reason_phrase(status));
    PUT_LIT(p, "\r\nServer: " HTTP_SERVER_NAME "\r\nDate: ");
    http_date_now(p);
    p += HTTP_DATE_LEN;
    PUT_LIT(p, "\r\nContent-Type: ");
    p = put_str(p, ctype);
    PUT_LIT(p, "\r\nContent-Length: ");
    p += sys_fmt_u64(p, content_length);
    if (!keep_alive)
        PUT_LIT(p, "\r\nConnection: close");
    else if (http10) // HTTP/1.0 closes by default: say that we keep it open
        PUT_LIT(p, "\r\nConnection: keep-alive");
    if (extra)
        p = put_str(p, extra);
    PUT_LIT(p, "\r\n\r\n");
    return (size_t)(p - out);
}
// [end: http-head-write]

size_t http_error_reply(char *out, size_t cap, int status, const char *extra, const char *body)
{
    if (extra && sys_strlen(extra) > HTTP_EXTRA_MAX)
        return 0;
    char head[HTTP_HEAD_MAX];
    size_t body_len = sys_strlen(body);
    size_t n = http_head_write(head, status, HTTP_CTYPE_TEXT, body_len, false, false, extra);
    if (n > cap || body_len > cap - n)
        return 0;
    sys_memcpy(out, head, n);
    sys_memcpy(out + n, body, body_len);
    return n + body_len;
}

// [snippet: http-respond]
// Small bodies are copied after the head so that a whole pipelined batch
// leaves in a single send; large ones are queued as a second iovec. Every
// response carries Content-Length, so the client always knows where it
// ends, even on a kept-alive connection.
void http_respond(struct http_out *o, const struct http_reply *r)
{
    const char *extra = r->extra;
    char allow[HTTP_ALLOW_MAX];
    if (r->allow) {
        http_allow_field(r->allow, allow);
        extra = allow;
    }
    o->len +=
        http_head_write(o->buf + o->len, r->status, r->ctype, r->body_len, r->keep_alive, r->http10, extra);
    http_metric_status(r->status);
    if (r->head_only || r->body_len == 0) {
        if (r->body_owned)
            mem_free((void *)r->body);
    } else if (r->body_len <= HTTP_OUT_BUF - o->len && r->body_len <= HTTP_COPY_BODY_MAX) {
        sys_memcpy(o->buf + o->len, r->body, r->body_len);
        o->len += r->body_len;
        if (r->body_owned)
            mem_free((void *)r->body);
    } else {
        o->body = r->body;
        o->body_len = r->body_len;
        o->body_owned = r->body_owned;
    }
}
// [end: http-respond]

void http_out_sent(struct http_out *o)
{
    if (o->body_owned)
        mem_free((void *)o->body);
    o->len = 0;
    o->body = NULL;
    o->body_owned = false;
}

struct http_reply http_reply_error(int status)
{
    // The body is the reason phrase: static memory, so it stays valid even
    // if http_respond queues it instead of copying it.
    const char *reason = http_reason_phrase(status);
    return (struct http_reply){.status = status,
                               .ctype = HTTP_CTYPE_TEXT,
                               .body = reason,
                               .body_len = sys_strlen(reason),
                               .linger = true};
}

// On the acceptor thread, when no task can be had: a fixed reply (no Date:
// this thread keeps no clock), sent if the socket takes it at once.
void http_refuse(int fd)
{
#define REFUSE_BODY "503 Server is full.\n"
    _Static_assert(sizeof REFUSE_BODY - 1 == 20, "the Content-Length below");
    static const char reply[] = "HTTP/1.1 503 Service Unavailable\r\nServer: " HTTP_SERVER_NAME
                                "\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n"
                                "Connection: close\r\nRetry-After: 1\r\n\r\n" REFUSE_BODY;
    net_refuse_reply(fd, reply, sizeof reply - 1);
    http_metric_add(M_CONN_REFUSED, 1);
}
