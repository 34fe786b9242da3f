// fuzz_http_parse.c: libFuzzer target checking invariants of the request parser and chunked decoder.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_chunked.h"
#include "http/http_parse.h"
#include "sys/parse_result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// A broken invariant names itself before libFuzzer saves the input.
#define CHECK(c)                                                                      \
    do {                                                                              \
        if (!(c)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static int parse(const uint8_t *d, size_t n, struct http_request *r)
{
    return http_parse_request((const char *)d, n, r);
}

static bool inside(const uint8_t *base, size_t n, const char *p, size_t len)
{
    return (const uint8_t *)p >= base && (const uint8_t *)p + len <= base + n;
}

static bool is_tchar(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

// Everything a successful result promises about the head data[0..r).
static void check_success(const uint8_t *d, int r, const struct http_request *q)
{
    size_t n = (size_t)r;
    CHECK(d[n - 1] == '\n');
    CHECK(inside(d, n, q->method, q->method_len) && q->method_len >= 1 && q->method_len <= HTTP_MAX_METHOD);
    for (size_t i = 0; i < q->method_len; i++)
        CHECK(is_tchar((uint8_t)q->method[i]));
    CHECK(inside(d, n, q->target, q->target_len) && q->target_len >= 1 && q->target_len <= HTTP_MAX_URI);
    for (size_t i = 0; i < q->target_len; i++)
        CHECK(q->target[i] > 0x20 && q->target[i] < 0x7f && q->target[i] != '#');
    // asterisk-form only with OPTIONS; otherwise origin-form, absolute-form, or CONNECT's target
    bool connect = q->method_len == 7 && memcmp(q->method, "CONNECT", 7) == 0;
    if (q->target_len == 1 && q->target[0] == '*')
        CHECK(q->method_len == 7 && memcmp(q->method, "OPTIONS", 7) == 0);
    else if (!connect && q->target[0] != '/')
        CHECK(memchr(q->target, ':', q->target_len) != NULL);
    CHECK(q->minor_version == 0 || q->minor_version == 1);
    CHECK(q->num_headers <= HTTP_MAX_HEADERS);
    bool close = false, keep = false, upgrade = false;
    int hosts = 0;
    for (size_t i = 0; i < q->num_headers; i++) {
        const struct http_header *h = &q->headers[i];
        CHECK(inside(d, n, h->name, h->name_len) && h->name_len >= 1);
        CHECK(inside(d, n, h->value, h->value_len));
        for (size_t j = 0; j < h->name_len; j++)
            CHECK(is_tchar((uint8_t)h->name[j]));
        for (size_t j = 0; j < h->value_len; j++) {
            uint8_t c = (uint8_t)h->value[j];
            CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
        }
        if (h->value_len) {
            CHECK(h->value[0] != ' ' && h->value[0] != '\t');
            CHECK(h->value[h->value_len - 1] != ' ' && h->value[h->value_len - 1] != '\t');
        }
        if (http_name_eq(h->name, h->name_len, "connection", 10)) {
            close |= http_list_has_token(h->value, h->value_len, "close", 5);
            keep |= http_list_has_token(h->value, h->value_len, "keep-alive", 10);
            upgrade |= http_list_has_token(h->value, h->value_len, "upgrade", 7);
        }
        hosts += http_name_eq(h->name, h->name_len, "host", 4);
    }
    // The summary agrees with what the public helpers find in the fields.
    CHECK(q->keep_alive == (q->minor_version == 1 ? !close : keep && !close));
    CHECK(q->connection_upgrade == upgrade);
    CHECK(hosts <= 1 && (hosts == 1) == (q->host != NULL));
    CHECK(q->minor_version == 0 || hosts == 1);
    if (q->host) // never empty: an http URI needs a host
        CHECK(inside(d, n, q->host, q->host_len) && q->host_len > 0 && q->host[0] != ':');
    if (q->upgrade) {
        const struct http_header *u = http_find_header(q, "upgrade", 7);
        CHECK(u != NULL && u->value == q->upgrade && u->value_len == q->upgrade_len);
    }
    CHECK(q->content_length >= -1 && q->content_length <= HTTP_MAX_BODY);
    CHECK(!(q->chunked && q->content_length >= 0));
    CHECK(!q->chunked || q->minor_version == 1);
}

// The chunked decoder gives the same answer at once, byte by byte and in pieces. Results are
// folded to COMPLETE (the body ended; *used says after how many bytes) or the parse_result.
enum { COMPLETE = 1 };

static int chunked_at_once(struct http_chunked *st, const uint8_t *d, size_t n, size_t *used)
{
    http_chunked_init(st);
    int r = http_chunked_feed(st, (const char *)d, n);
    CHECK(r >= PARSE_NEED_MORE && r <= (int)n);
    CHECK(r != 0); // a body cannot end after zero bytes of its first feed
    *used = r >= 0 ? (size_t)r : r == PARSE_NEED_MORE ? n : 0;
    return r >= 0 ? COMPLETE : r;
}

static int chunked_in_pieces(struct http_chunked *st, const uint8_t *d, size_t n, size_t seg, size_t *used)
{
    int r = PARSE_NEED_MORE;
    size_t off = 0;
    http_chunked_init(st);
    *used = 0;
    while (off < n) {
        size_t take = n - off < seg ? n - off : seg;
        r = http_chunked_feed(st, (const char *)d + off, take);
        CHECK(r >= PARSE_NEED_MORE && r <= (int)take);
        if (r >= 0) {
            *used += (size_t)r;
            CHECK(r > 0 && http_chunked_feed(st, "0\r\n\r\n", 5) == 0); // done is sticky
            return COMPLETE;
        }
        if (r == PARSE_ERROR) {
            CHECK(http_chunked_feed(st, "0\r\n\r\n", 5) == PARSE_ERROR); // so is an error
            return r;
        }
        *used += take;
        off += take;
    }
    return r;
}

static void check_chunked(const uint8_t *d, size_t n, size_t seg)
{
    struct http_chunked a, b;
    size_t ua = 0, ub = 0;
    int ra = chunked_at_once(&a, d, n, &ua);
    CHECK(a.total <= HTTP_MAX_BODY);
    int rb = chunked_in_pieces(&b, d, n, seg, &ub);
    CHECK(ra == rb);
    if (ra == COMPLETE)
        CHECK(ua == ub && d[ua - 1] == '\n');
    if (ra == PARSE_ERROR)
        CHECK(a.error_status == b.error_status && (a.error_status == 400 || a.error_status == 413));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_request q, p;
    int r = parse(data, size, &q);

    CHECK(r == PARSE_NEED_MORE || r == PARSE_ERROR ||
          (r >= 1 && (size_t)r <= size && r <= HTTP_MAX_HEAD_BYTES));
    if (r == PARSE_NEED_MORE)
        CHECK(size < HTTP_MAX_HEAD_BYTES);
    if (r == PARSE_ERROR)
        CHECK(q.error_status == 400 || q.error_status == 413 || q.error_status == 414 ||
              q.error_status == 431 || q.error_status == 501 || q.error_status == 505);
    if (r > 0)
        check_success(data, r, &q);

    // Deterministic, and decided outcomes never change as bytes are added: every prefix is
    // PARSE_NEED_MORE or the same outcome, and a head is complete exactly from its last byte on.
    CHECK(parse(data, size, &p) == r && (r != PARSE_ERROR || p.error_status == q.error_status));
    size_t step = size <= 600 ? 1 : size / 300;
    for (size_t k = 0; k < size; k += step) {
        int pk = parse(data, k, &p);
        if (r > 0)
            CHECK(pk == ((size_t)r <= k ? r : PARSE_NEED_MORE));
        else
            CHECK(pk == PARSE_NEED_MORE || (pk == r && p.error_status == q.error_status));
    }
    if (r > 0) {
        CHECK(parse(data, (size_t)r, &p) == r);
        CHECK(parse(data, (size_t)r - 1, &p) == PARSE_NEED_MORE);
    }
    if (size > 0 && r != PARSE_NEED_MORE) {
        uint8_t *more = malloc(size + 7);
        memcpy(more, data, size);
        memcpy(more + size, "\r\n\r\nX\r\n", 7);
        CHECK(parse(more, size + 7, &p) == r && (r != PARSE_ERROR || p.error_status == q.error_status));
        free(more);
    }
    // The re-parse rule never skips a completion: a complete head has a new LF.
    if (r > 0)
        CHECK(http_should_reparse((const char *)data, (size_t)data[0] % (size_t)r, (size_t)r));

    // Chunked decoding of whatever follows the head, or of the whole input.
    size_t body = r > 0 ? (size_t)r : 0;
    size_t seg = size ? (size_t)data[size - 1] % 13 + 1 : 1;
    check_chunked(data + body, size - body, seg);
    if (body)
        check_chunked(data, size, 1);
    return 0;
}
