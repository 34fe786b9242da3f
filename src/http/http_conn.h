// http_conn.h: a connection task's state, shared by the files that make up the HTTP layer.
#ifndef HTTP_CONN_H
#define HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http/http_body.h"
#include "http/http_deadline.h"
#include "http/http_parse.h"
#include "http/http_response.h"
#include "http/http_server.h"
#include "net/net.h"

// Room kept free in `out` before a request is handled; below it we flush
// first. It holds the longest head http_respond writes and is the room the
// upgrade hook gets for its handshake reply.
#define HTTP_CONN_OUT_RESERVE 1024
_Static_assert(HTTP_CONN_OUT_RESERVE >= HTTP_HEAD_MAX, "a response head always fits the reserve");
_Static_assert(HTTP_OUT_BUF >= HTTP_CONN_OUT_RESERVE,
               "an empty out buffer has the reserve, or nothing is ever answered");

// [snippet: http-conn-state]
// Everything the connection keeps across awaits: its state, and buffers
// only while it has work. An idle keep-alive connection holds no buffer
// (buf and out are NULL), so it costs this struct and no more: a thousand
// of them take well under a megabyte, not a thousand thread stacks.
struct http_conn {
    int resume;
    struct net_stream sock;
    // Read side: bytes [start, len) of buf are received but not yet parsed.
    // buf is a pool buffer (cap NET_BUF_SIZE) or, grown for a long head, a
    // block of HTTP_READ_BUF_MAX; NULL while nothing is buffered.
    char *buf;
    size_t cap, len, start;
    size_t parsed_upto;        // len at the last parse that needed more (skip useless re-parses)
    struct http_body req_body; // the body of the request just answered, being skipped
    // Write side: response heads (and small bodies) gather in out (a pool
    // buffer, taken for the first response of a batch, given back once it
    // is sent); a large static body goes out as a second iovec, straight
    // from the binary.
    char *out;
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
    const struct http_upgrade_hook *upgrade; // set when a 101 was queued
    void *upgrade_state;
    // Timeouts: one timer for every wait (http_deadline.c).
    uint64_t head_deadline; // when the request being received must be complete (0: none)
    struct http_deadline deadline;
};
// [end: http-conn-state]
// An idle keep-alive connection costs this struct (in the allocator's
// 384-byte class) and a task slot: well under the 1 KiB it may take.
_Static_assert(sizeof(struct http_conn) <= 384, "an idle HTTP connection's state grew past 384 bytes");

// How to answer the request at hand (the route's handler passes it on).
struct http_reply {
    bool keep_alive; // else "Connection: close", and the connection closes after it
    bool http10;     // an HTTP/1.0 request: keep-alive must be said
    bool head_only;  // HEAD: the head only, Content-Length as for GET
};

// http_response.c: appends a complete response to c->out (a small body is
// copied, a large one queued as c->body); an error reply that closes.
void http_respond(struct http_conn *c, int status, const struct http_reply *r, const char *ctype,
                  const void *body, size_t body_len, const char *extra);
void http_respond_error(struct http_conn *c, int status);

// http_routes.c: answers one parsed request (appends to c->out, or queues an upgrade).
void http_route(struct http_conn *c, const struct http_request *req);

#endif
