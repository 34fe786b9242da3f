// http_parse.h: pure incremental HTTP/1.1 request-head parser (no I/O, no allocation).
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h" // HTTP_MAX_* limits

struct http_header {
    const char *name;
    size_t name_len;
    const char *value; // OWS trimmed on both sides
    size_t value_len;
};

struct http_request {
    const char *method;
    size_t method_len;
    const char *target; // request-target exactly as sent
    size_t target_len;
    int minor_version; // HTTP/1.<minor>: 0 or 1
    size_t num_headers;
    struct http_header headers[HTTP_MAX_HEADERS];
    // Semantic summary, valid when http_parse_request returns a byte count (> 0).
    int64_t content_length;  // -1 when absent
    bool chunked;            // Transfer-Encoding is exactly "chunked"
    bool keep_alive;         // version default adjusted by Connection tokens
    bool connection_upgrade; // Connection has the "upgrade" token
    bool expect_continue;    // Expect: 100-continue
    const char *upgrade;     // first Upgrade value, or NULL
    size_t upgrade_len;
    const char *host; // Host value, or NULL when absent (HTTP/1.0 only)
    size_t host_len;
    int error_status; // when PARSE_ERROR is returned: 400, 413, 414, 431, 501 or 505
};

// [snippet: http-parse-api]
// Parses the request head at the start of buf[0..len) (sys/parse_result.h). Returns the number
// of bytes of the head (any skipped empty lines + request-line + fields + blank line) when it
// is complete, PARSE_NEED_MORE when more bytes are needed, PARSE_ERROR with req->error_status
// set. Pointers in req point into buf. Stateless: call again with the grown buffer. An error
// is reported as soon as the bytes seen decide it, and a result other than PARSE_NEED_MORE
// never changes when more bytes are appended.
int http_parse_request(const char *buf, size_t len, struct http_request *req);

// Re-parsing from scratch costs O(len) per call. A caller that got PARSE_NEED_MORE for prev_len bytes and
// now has len bytes may skip the call while this returns false: a complete head needs a new
// LF, and errors are still reported at most 1 KiB later. This bounds the work per head to
// about (lines + 16) parses whatever the segmentation.
bool http_should_reparse(const char *buf, size_t prev_len, size_t len);
// [end: http-parse-api]

// ASCII case-insensitive equality of a[0..alen) and b[0..blen).
bool http_name_eq(const char *a, size_t alen, const char *b, size_t blen);

// First header named name (case-insensitive), or NULL.
const struct http_header *http_find_header(const struct http_request *req, const char *name, size_t name_len);

// Whether the comma-separated list value[0..len) (e.g. "keep-alive, Upgrade") has an element
// equal to token, case-insensitively, ignoring OWS around elements and empty elements.
bool http_list_has_token(const char *value, size_t len, const char *token, size_t token_len);

// Reason phrase for a status code ("Not Found"); a generic class phrase for unknown codes.
// Never longer than HTTP_REASON_MAX bytes ("Request Header Fields Too Large").
#define HTTP_REASON_MAX 31
const char *http_reason_phrase(int status);

#endif
