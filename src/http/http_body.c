// http_body.c: skipping a request body we do not read: Content-Length bytes, or a chunked body.
#include "http/http_body.h"
#include "sys/parse_result.h"

void http_body_start(struct http_body *b, const struct http_request *req)
{
    if (req->chunked) {
        b->chunked = true;
        http_chunked_init(&b->ch);
    } else if (req->content_length > 0) {
        b->left = (uint64_t)req->content_length;
    }
}

// [snippet: http-skip-body]
int http_body_skip(struct http_body *b, const char *buf, size_t avail, int *status)
{
    if (b->left) {
        size_t k = b->left < avail ? (size_t)b->left : avail;
        b->left -= k;
        return (int)k;
    }
    if (!b->chunked)
        return 0;
    int r = http_chunked_feed(&b->ch, buf, avail);
    if (r == PARSE_NEED_MORE) // every byte belonged to the body; more is to come
        return (int)avail;
    b->chunked = false;
    if (r == PARSE_ERROR)
        *status = b->ch.error_status;
    return r;
}
// [end: http-skip-body]
