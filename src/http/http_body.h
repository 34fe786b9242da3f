// http_body.h: skipping a request body we do not read: Content-Length bytes, or a chunked body.
#ifndef HTTP_BODY_H
#define HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_chunked.h"
#include "http/http_parse.h"

struct http_body {
    uint64_t left; // Content-Length bytes still to skip
    bool chunked;  // skipping a chunked body
    struct http_chunked ch;
};

// Starts skipping req's body, if it has one.
void http_body_start(struct http_body *b, const struct http_request *req);

// True while body bytes are still to come.
static inline bool http_body_pending(const struct http_body *b) { return b->left || b->chunked; }

// Skips body bytes from buf[0..avail) (avail <= INT_MAX). Returns the bytes
// consumed (then http_body_pending says whether the body goes on), or
// PARSE_ERROR for a malformed or oversized chunked body, with *status the
// status to answer: the stream cannot be framed any more.
int http_body_skip(struct http_body *b, const char *buf, size_t avail, int *status);

#endif
