/* http_chunked.h: pure incremental decoder of the chunked transfer coding (RFC 9112 7.1). */
#ifndef HTTP_CHUNKED_H
#define HTTP_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_parse.h" /* HTTP_MAX_BODY, HTTP_MAX_CHUNK_* limits */

/* Decoder state: a few words, so it can live in a connection's task state across reads. */
struct http_chunked {
    uint8_t state;
    int error_status;       /* when -1 was returned: 400 malformed, 413 over a limit */
    uint64_t remaining;     /* data bytes left in the current chunk */
    uint64_t total;         /* data bytes consumed so far */
    uint32_t line_bytes;    /* bytes of the current chunk-size line */
    uint32_t ext_bytes;     /* chunk-extension bytes over the whole body */
    uint32_t trailer_bytes; /* trailer-section bytes */
};

/* Resets st for a new body. */
void http_chunked_init(struct http_chunked *st);

/* Feeds the next len bytes of a chunked body. Returns 1 when the last chunk and the trailer
   section are complete (*consumed = bytes of buf that belonged to the body; the rest is the
   next pipelined request), 0 when all len bytes were consumed and more are needed, -1 on a
   malformed or oversized body (st->error_status says which). Chunk data is skipped, chunk
   extensions and trailer fields are checked for syntax and ignored. After 1 or -1 every
   further call returns the same value and consumes nothing. */
int http_chunked_feed(struct http_chunked *st, const char *buf, size_t len, size_t *consumed);

#endif
