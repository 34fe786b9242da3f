// http_conn.h: an HTTP/1.1 connection task's state, shared by the task and the request answering.
#ifndef HTTP_CONN_H
#define HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http/http_body.h"
#include "http/http_lifecycle.h"
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

// What the task does once the batch of answers is sent: the answers
// decide it (http_answer.c), and the task acts on it (http_conn.c).
enum http_next {
    HTTP_NEXT_READ,    // read the next request
    HTTP_NEXT_MORE,    // out filled up with requests still buffered: answer them
    HTTP_NEXT_CLOSE,   // close
    HTTP_NEXT_LINGER,  // drain the client's bytes, then close (the lingering close)
    HTTP_NEXT_UPGRADE, // the upgrade hook's protocol takes the connection over
};

// [snippet: http-conn-state]
// Everything an HTTP/1.1 connection keeps across awaits: its lifecycle
// (socket, timer, read buffer), and buffers only while it has work. An idle
// keep-alive connection holds no buffer (life.in and out.buf are NULL), so
// it costs this struct and no more: a thousand of them take well under a
// megabyte, not a thousand thread stacks.
struct http_conn {
    int resume;
    struct http_lifecycle life;
    size_t parsed_avail;       // unparsed bytes at the last parse that needed more (skip useless re-parses)
    struct http_body req_body; // the body of the request just answered, being skipped
    struct http_out out;       // the answers of the batch being written, then sent
    struct net_send send;
    ssize_t io_result;
    enum http_next next;    // what the batch's answers decided
    uint64_t head_deadline; // when the request being received must be complete (0: none)
};
// [end: http-conn-state]
// An idle keep-alive connection costs this struct (in the allocator's
// 384-byte class) and a task slot: well under the 1 KiB it may take.
_Static_assert(sizeof(struct http_conn) <= 384, "an idle HTTP connection's state grew past 384 bytes");

// http_answer.c: answers every complete request in the read buffer, in
// order, into c->out; returns what the connection does once they are sent.
enum http_next http_answer_requests(struct http_conn *c);

#endif
