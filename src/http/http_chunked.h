// http_chunked.h: pure incremental decoder of the chunked transfer coding (RFC 9112 7.1).
#ifndef HTTP_CHUNKED_H
#define HTTP_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h" // HTTP_MAX_BODY, HTTP_MAX_CHUNK_*, HTTP_MAX_TRAILER_BYTES
#include "sys/parse_result.h"

// Decoder state: a few words, so it can live in a connection's task state across reads.
struct http_chunked {
    uint8_t state;
    int error_status;       // after PARSE_ERROR: 400 malformed framing, 413 body or trailers too large
    uint64_t remaining;     // data bytes left in the current chunk
    uint64_t total;         // data bytes consumed so far
    uint32_t line_bytes;    // bytes of the current chunk-size line
    uint32_t ext_bytes;     // chunk-extension bytes over the whole body
    uint32_t trailer_bytes; // trailer-section bytes
};

// Resets st for a new body.
void http_chunked_init(struct http_chunked *st);

// Feeds the next len (<= INT_MAX) bytes of a chunked body (sys/parse_result.h). Returns the
// number of bytes of buf that completed the body (>= 0) once the last chunk and the trailer
// section are complete (the rest of buf is the next pipelined request), PARSE_NEED_MORE when
// all len bytes were consumed and more are needed, PARSE_ERROR on a malformed or oversized
// body (st->error_status says which). Chunk data is skipped; chunk extensions and trailer
// fields are checked for syntax and ignored. Once complete, every further call returns 0;
// after an error, PARSE_ERROR.
int http_chunked_feed(struct http_chunked *st, const char *buf, size_t len);

#endif
