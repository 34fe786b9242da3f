// http_response.h: the response writer: status line, Server/Date/Content-Length/Connection, error replies.
#ifndef HTTP_RESPONSE_H
#define HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http/http_date.h"
#include "http/http_parse.h"

// The Content-Types this server sends.
#define HTTP_CTYPE_TEXT    "text/plain; charset=utf-8"
#define HTTP_CTYPE_PLAIN   "text/plain"
#define HTTP_CTYPE_HTML    "text/html; charset=utf-8"
#define HTTP_CTYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define HTTP_CTYPE_MAX     (sizeof HTTP_CTYPE_METRICS - 1) // the longest of them
// Extra header fields (each starts with CRLF) a head may carry: Allow, Upgrade, ...
#define HTTP_EXTRA_MAX     96

// The longest head http_head_write can write, each piece at its longest: a
// 3-digit status, the longest reason phrase, the longest Content-Type, a
// 20-digit Content-Length, the longer Connection field, the extra fields.
#define HTTP_HEAD_MAX                                                                                       \
    (sizeof "HTTP/1.1 999 " - 1 + HTTP_REASON_MAX + sizeof "\r\nServer: " HTTP_SERVER_NAME "\r\nDate: " -   \
     1 + HTTP_DATE_LEN + sizeof "\r\nContent-Type: " - 1 + HTTP_CTYPE_MAX + sizeof "\r\nContent-Length: " - \
     1 + 20 + sizeof "\r\nConnection: keep-alive" - 1 + HTTP_EXTRA_MAX + sizeof "\r\n\r\n" - 1)

// Writes a complete response head into out, which has HTTP_HEAD_MAX bytes
// free; returns its length. ctype is at most HTTP_CTYPE_MAX bytes and extra
// (NULL: none) at most HTTP_EXTRA_MAX. Without keep_alive the head says
// "Connection: close"; with it, an HTTP/1.0 client is told "keep-alive".
size_t http_head_write(char *out, int status, const char *ctype, uint64_t content_length, bool keep_alive,
                       bool http10, const char *extra);

// A complete text reply after which the connection closes: the head and
// body (a static string). Writes it into out[0..cap) and returns its length,
// or 0 if it does not fit (nothing is written then: a reply is never cut short).
size_t http_error_reply(char *out, size_t cap, int status, const char *extra, const char *body);

// [snippet: http-reply]
// What a route answers: the response, and what becomes of the connection
// after it. A route fills one in and returns it; it never touches the
// connection, whose task writes the reply and acts on it (http_answer.c).
struct http_upgrade_hook;
struct http_reply {
    int status;
    const char *ctype;
    const void *body; // static memory, or from mem_alloc when body_owned
    size_t body_len;
    const char *extra; // extra header fields, each after a CRLF (NULL: none)
    unsigned allow;    // a method set (http_routes.h) for an Allow field; 0: none
    bool body_owned;   // the reply owns body: it is freed once copied or sent
    // Framing, from the request.
    bool keep_alive; // else "Connection: close", and the connection closes after it
    bool http10;     // an HTTP/1.0 request: keep-alive must be said
    bool head_only;  // HEAD: the head only, Content-Length as for GET
    // After it.
    bool linger; // the client may still be sending: drain its bytes before closing
    // Set by the upgrade route: the hook checks the handshake and writes
    // the reply itself, and on 101 its protocol takes the connection over.
    const struct http_upgrade_hook *upgrade;
};
// [end: http-reply]

// An error reply: the request (or what there is of it) cannot be trusted
// to frame the next one, so the connection closes after it, lingering.
struct http_reply http_reply_error(int status);

// A connection's output: response bytes gather in buf (a pool buffer, taken
// for the first response of a batch, given back once the batch is sent);
// a large body goes out as a second iovec, straight from where it is.
struct http_out {
    char *buf;
    size_t len;
    const void *body;
    size_t body_len;
    bool body_owned; // body was allocated (metrics) and is freed after sending
};

// Appends r, a complete response, to o (the caller keeps HTTP_HEAD_MAX
// bytes of buf free, and no body queued): a small body is copied, a large
// one queued as o->body, which then owns it if r did.
void http_respond(struct http_out *o, const struct http_reply *r);
// After o's bytes were sent: frees a body it owned and empties it (buf stays).
void http_out_sent(struct http_out *o);

#endif
