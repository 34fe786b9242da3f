// http_parse.c: single forward pass over an HTTP/1.1 request head, re-run on a growing buffer.
#include "http/http_parse.h"
#include "sys/parse_result.h"

typedef unsigned char u8;

// RFC choices made here (RFC 9112 / RFC 9110):
// - A bare LF is accepted as a line terminator (9112 2.2 MAY); a CR not followed by LF is a 400.
// - Up to HTTP_MAX_EMPTY_LINES empty lines before the request-line are skipped (9112 2.2 SHOULD).
// - The request-line is split on exactly one SP each side of the target; no other whitespace.
// - The request-target must be visible ASCII (0x21-0x7E) without '#' (no form has a fragment),
// in one of the forms of 9112 3.2: origin-form ("/p?q"); asterisk-form ("*") with OPTIONS
// only (3.2.4); absolute-form ("scheme:..."), where an http or https URI needs a non-empty
// host and no userinfo (9110 4.2.1, 4.2.4); anything after CONNECT (authority-form, which
// routing answers 501). Any other target is a 400 (9112 3.2 SHOULD).
// - A line starting with SP/HTAB in the field section (obs-fold, or whitespace after the
// request-line) is a 400 (9112 5.2 and 2.2 allow rejecting).
// - Whitespace between field name and colon is a 400 (9112 5.1 MUST).
// - Field values: HTAB, SP, VCHAR and obs-text only; any other control byte is a 400.
// - More than one Host line, or an invalid Host value, is a 400 even in HTTP/1.0 (9112 3.2).
// An empty host ("Host:" or "Host: :80") is invalid too: this server serves http URIs,
// and an http URI with an empty host MUST be rejected (9110 4.2.1, 7.2).
// - Content-Length must be 1*DIGIT; repeated lines must carry the same number; a comma list
// ("5, 5") is a 400 (9110 8.6 allows rejecting it).
// - Transfer-Encoding: HTTP/1.0 -> 400 (9112 6.1 faulty framing), with Content-Length -> 400
// (9112 6.3 smuggling), final coding not chunked -> 400 (9112 6.3 MUST), chunked twice ->
// 400 (9112 7 MUST NOT), any coding besides chunked -> 501 (9112 6.1 SHOULD).

// Byte classes. Tables (not ctype) because they are freestanding and one load per byte.
#define TOKEN_SYMBOLS                                                                                   \
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1, \
    ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1

// tchar (RFC 9110 5.6.2): field names, methods, list tokens.
static const u8 tchar[256] = {
    ['0' ... '9'] = 1,
    ['A' ... 'Z'] = 1,
    ['a' ... 'z'] = 1,
    TOKEN_SYMBOLS,
};

// Bytes allowed inside a field value: HTAB, SP, VCHAR, obs-text.
static const u8 value_ok[256] = {
    ['\t'] = 1,
    [0x20 ... 0x7e] = 1,
    [0x80 ... 0xff] = 1,
};

// Bytes allowed inside the request-target: visible ASCII but '#' (a fragment is never sent).
static const u8 target_ok[256] = {
    [0x21 ... 0x22] = 1,
    [0x24 ... 0x7e] = 1,
};

// reg-name bytes of a Host value (RFC 3986: unreserved, pct-encoded, sub-delims).
static const u8 regname_ok[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['-'] = 1, ['.'] = 1,  ['_'] = 1, ['~'] = 1,
    ['%'] = 1,         ['!'] = 1,         ['$'] = 1,         ['&'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1,
    ['*'] = 1,         ['+'] = 1,         [','] = 1,         [';'] = 1, ['='] = 1,
};

static inline u8 lower(u8 c) { return (u8)(c + (((unsigned)(c - 'A') < 26u) << 5)); }

static inline bool is_ows(u8 c) { return c == ' ' || c == '\t'; }

// Compares p[0..n) with a lower-case literal of the same length.
static inline bool lit_eq(const u8 *p, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != (u8)lit[i])
            return false;
    return true;
}

// [snippet: http-scan-value]
// SWAR: eight bytes at a time while they are all ordinary, so long values and targets cost a
// fraction of a table load per byte. Boolean results of these bit tricks are exact.
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t load64(const u8 *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, 8); // unaligned load; never past end, callers check
    return v;
}

static inline uint64_t any_zero(uint64_t x) { return (x - ONES) & ~x & HIGHS; }

static inline uint64_t any_below(uint64_t x, u8 n) /* n <= 128 */ { return (x - ONES * n) & ~x & HIGHS; }

// Returns the first byte in [p, end) that cannot be part of a field value.
static const u8 *scan_value(const u8 *p, const u8 *end)
{
    while (end - p >= 8) {
        uint64_t x = load64(p);
        if (any_below(x, 0x20) | any_zero(x ^ (ONES * 0x7f))) {
            for (int i = 0; i < 8; i++) // HTAB lands here too: sort it out bytewise
                if (!value_ok[p[i]])
                    return p + i;
        }
        p += 8;
    }
    while (p < end && value_ok[*p])
        p++;
    return p;
}
// [end: http-scan-value]

// Returns the first byte in [p, end) that cannot be part of a request-target.
static const u8 *scan_target(const u8 *p, const u8 *end)
{
    while (end - p >= 8) {
        uint64_t x = load64(p);
        if (any_below(x, 0x21) | any_zero(x ^ (ONES * 0x7f)) | any_zero(x ^ (ONES * '#')) | (x & HIGHS))
            break;
        p += 8;
    }
    while (p < end && target_ok[*p])
        p++;
    return p;
}

// Facts gathered from the fields while the loop runs; turned into the summary at the end.
struct field_state {
    int minor;
    int host_count;
    bool have_cl, have_te;
    bool te_last_chunked, te_chunked_seen, te_other;
    bool conn_close, conn_keep_alive, conn_upgrade;
    uint64_t cl;
};

// uri-host [ ":" port ] with a non-empty host: an http URI's host may not be empty.
static bool valid_host(const u8 *v, size_t n)
{
    size_t i = 0;
    if (i < n && v[i] == '[') { // IP-literal: loose, brackets must close around something
        for (i = 1; i < n && v[i] != ']'; i++)
            if (!regname_ok[v[i]] && v[i] != ':')
                return false;
        if (i == n || i == 1)
            return false;
        i++;
    } else {
        while (i < n && regname_ok[v[i]])
            i++;
        if (i == 0)
            return false;
    }
    if (i < n && v[i] == ':')
        for (i++; i < n && (unsigned)(v[i] - '0') < 10u; i++)
            ;
    return i == n;
}

// Content-Length = 1*DIGIT, capped at INT64_MAX. Returns 0 with the value in
// *out, or 400 (empty, not a digit, or too big). Called by apply_field for
// each Content-Length field of a request head.
// [lab: parse_content_length]
static int parse_content_length(const u8 *v, size_t n, uint64_t *out)
{
    uint64_t x = 0;
    if (n == 0)
        return 400;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(v[i] - '0');
        if (d > 9 || x > ((uint64_t)INT64_MAX - d) / 10)
            return 400;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}
// [end lab: parse_content_length]

static size_t skip_ows(const u8 *v, size_t i, size_t n)
{
    while (i < n && is_ows(v[i]))
        i++;
    return i;
}

static size_t skip_token(const u8 *v, size_t i, size_t n)
{
    while (i < n && tchar[v[i]])
        i++;
    return i;
}

// Transfer-Encoding = #( token *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) ) ).
// Records codings in fs; returns 0 or 400 on bad syntax or a repeated chunked.
static int parse_transfer_encoding(const u8 *v, size_t n, struct field_state *fs)
{
    size_t i = 0;
    for (;;) {
        i = skip_ows(v, i, n);
        if (i == n)
            return 0;
        if (v[i] == ',') { // empty list element: ignored (RFC 9110 5.6.1)
            i++;
            continue;
        }
        size_t name = i;
        i = skip_token(v, i, n);
        if (i == name)
            return 400;
        size_t name_len = i - name;
        bool params = false;
        i = skip_ows(v, i, n);
        while (i < n && v[i] == ';') {
            params = true;
            i = skip_ows(v, i + 1, n);
            size_t pn = i;
            i = skip_token(v, i, n);
            if (i == pn)
                return 400;
            i = skip_ows(v, i, n);
            if (i == n || v[i] != '=')
                return 400;
            i = skip_ows(v, i + 1, n);
            if (i < n && v[i] == '"') {
                for (i++; i < n && v[i] != '"'; i++)
                    if (v[i] == '\\' && ++i == n)
                        return 400;
                if (i == n)
                    return 400;
                i++;
            } else {
                size_t pv = i;
                i = skip_token(v, i, n);
                if (i == pv)
                    return 400;
            }
            i = skip_ows(v, i, n);
        }
        if (i < n && v[i] != ',')
            return 400;
        if (!params && name_len == 7 && lit_eq(v + name, "chunked", 7)) {
            if (fs->te_chunked_seen)
                return 400;
            fs->te_chunked_seen = true;
            fs->te_last_chunked = true;
        } else {
            fs->te_other = true;
            fs->te_last_chunked = false;
        }
    }
}

// Connection = #token: only close, keep-alive and upgrade matter here.
static void parse_connection(const u8 *v, size_t n, struct field_state *fs)
{
    size_t i = 0;
    while (i < n) {
        i = skip_ows(v, i, n);
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && is_ows(v[e - 1]))
            e--;
        size_t len = e - s;
        if (len == 5 && lit_eq(v + s, "close", 5))
            fs->conn_close = true;
        else if (len == 10 && lit_eq(v + s, "keep-alive", 10))
            fs->conn_keep_alive = true;
        else if (len == 7 && lit_eq(v + s, "upgrade", 7))
            fs->conn_upgrade = true;
        i++; // past the comma (or past the end: loop ends)
    }
}

static inline bool is_alpha(u8 c) { return (unsigned)(lower(c) - 'a') < 26u; }

// [snippet: http-target-form]
// Checks the form of the request-target t[0..n) (RFC 9112 3.2) for method m[0..mlen).
// Returns 0 or 400.
static int check_target(const u8 *m, size_t mlen, const u8 *t, size_t n)
{
    if (mlen == 7 && __builtin_memcmp(m, "CONNECT", 7) == 0)
        return 0;              // authority-form; routing answers CONNECT with 501
    if (n == 1 && t[0] == '*') // asterisk-form: server-wide OPTIONS only (3.2.4)
        return mlen == 7 && __builtin_memcmp(m, "OPTIONS", 7) == 0 ? 0 : 400;
    if (t[0] == '/')
        return 0; // origin-form
    // absolute-form: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" ...
    size_t i = 0;
    if (!is_alpha(t[0]))
        return 400;
    while (i < n &&
           (is_alpha(t[i]) || (unsigned)(t[i] - '0') < 10u || t[i] == '+' || t[i] == '-' || t[i] == '.'))
        i++;
    if (i == n || t[i] != ':')
        return 400;
    bool http = (i == 4 && lit_eq(t, "http", 4)) || (i == 5 && lit_eq(t, "https", 5));
    if (!http)
        return 0; // another scheme: syntactically fine, routing finds nothing
    // "//" authority: a non-empty host, no userinfo (RFC 9110 4.2.1, 4.2.4).
    if (n - i < 3 || t[i + 1] != '/' || t[i + 2] != '/')
        return 400;
    size_t a = i + 3, e = a;
    while (e < n && t[e] != '/' && t[e] != '?')
        e++;
    return valid_host(t + a, e - a) ? 0 : 400;
}
// [end: http-target-form]

// [snippet: http-apply-field]
// Interprets one field line the framing depends on. Dispatch on the name length first so the
// common fields the server ignores cost one switch. Returns 0 or an error status.
static int apply_field(const struct http_header *h, struct field_state *fs, struct http_request *req)
{
    const u8 *n = (const u8 *)h->name, *v = (const u8 *)h->value;
    size_t vl = h->value_len;
    switch (h->name_len) {
    case 4:
        if (!lit_eq(n, "host", 4))
            break;
        if (++fs->host_count > 1 || !valid_host(v, vl))
            return 400;
        req->host = h->value;
        req->host_len = vl;
        break;
    case 6:
        if (lit_eq(n, "expect", 6) && vl == 12 && lit_eq(v, "100-continue", 12))
            req->expect_continue = true;
        break;
    case 7:
        if (lit_eq(n, "upgrade", 7) && req->upgrade == NULL) {
            req->upgrade = h->value;
            req->upgrade_len = vl;
        }
        break;
    case 10:
        if (lit_eq(n, "connection", 10))
            parse_connection(v, vl, fs);
        break;
    case 14: {
        if (!lit_eq(n, "content-length", 14))
            break;
        uint64_t x;
        if (parse_content_length(v, vl, &x) != 0 || fs->have_te)
            return 400;
        if (fs->have_cl && x != fs->cl)
            return 400;
        fs->have_cl = true;
        fs->cl = x;
        break;
    }
    case 17:
        if (!lit_eq(n, "transfer-encoding", 17))
            break;
        if (fs->minor == 0 || fs->have_cl)
            return 400;
        fs->have_te = true;
        return parse_transfer_encoding(v, vl, fs);
    default:
        break;
    }
    return 0;
}
// [end: http-apply-field]

// Consumes the line ending at *pp: CRLF, or a bare LF (RFC 9112 2.2). Needs *pp < end.
// Returns 1 if it consumed one, 0 if *pp starts no line ending, PARSE_NEED_MORE if the
// buffer ends between CR and LF, PARSE_ERROR for a CR not followed by LF (a 400).
static inline int eat_eol(const u8 **pp, const u8 *end)
{
    const u8 *p = *pp;
    if (*p == '\n') {
        *pp = p + 1;
        return 1;
    }
    if (*p != '\r')
        return 0;
    if (p + 1 == end)
        return PARSE_NEED_MORE;
    if (p[1] != '\n')
        return PARSE_ERROR;
    *pp = p + 2;
    return 1;
}

// The head is cut short at end: either more bytes may complete it, or the window is full.
static int incomplete(struct http_request *req, size_t len)
{
    if (len >= HTTP_MAX_HEAD_BYTES) {
        req->error_status = 431;
        return PARSE_ERROR;
    }
    return PARSE_NEED_MORE;
}

static int fail(struct http_request *req, int status)
{
    req->error_status = status;
    return PARSE_ERROR;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
    const u8 *start = (const u8 *)buf;
    const u8 *p = start;
    // Nothing past the size limit is ever looked at, so limits hold even for huge buffers.
    const u8 *end = start + (len < HTTP_MAX_HEAD_BYTES ? len : HTTP_MAX_HEAD_BYTES);
    struct field_state fs = {0};

    req->num_headers = 0;
    req->content_length = -1;
    req->chunked = false;
    req->keep_alive = false;
    req->connection_upgrade = false;
    req->expect_continue = false;
    req->upgrade = NULL;
    req->upgrade_len = 0;
    req->host = NULL;
    req->host_len = 0;
    req->error_status = 0;

    // [snippet: http-request-line]
    // Empty lines before the request-line are skipped, a few of them.
    for (int empty = 0;; empty++) {
        if (p == end)
            return incomplete(req, len);
        int eol = eat_eol(&p, end);
        if (eol == PARSE_NEED_MORE)
            return incomplete(req, len);
        if (eol == PARSE_ERROR)
            return fail(req, 400);
        if (eol == 0)
            break;
        if (empty == HTTP_MAX_EMPTY_LINES)
            return fail(req, 400);
    }

    // method = token, then exactly one SP. Scan at most one byte beyond each length limit,
    // so an oversized method or target is refused before the line is complete.
    const u8 *m = p;
    const u8 *lim = (size_t)(end - p) > HTTP_MAX_METHOD ? p + HTTP_MAX_METHOD + 1 : end;
    while (p < lim && tchar[*p])
        p++;
    if ((size_t)(p - m) > HTTP_MAX_METHOD)
        return fail(req, 501);
    if (p == end)
        return incomplete(req, len);
    if (p == m || *p != ' ')
        return fail(req, 400);
    req->method = (const char *)m;
    req->method_len = (size_t)(p - m);
    p++;

    // request-target: visible ASCII up to the next SP.
    const u8 *t = p;
    lim = (size_t)(end - p) > HTTP_MAX_URI ? p + HTTP_MAX_URI + 1 : end;
    p = scan_target(p, lim);
    if ((size_t)(p - t) > HTTP_MAX_URI)
        return fail(req, 414);
    if (p == end)
        return incomplete(req, len);
    if (p == t || *p != ' ' || check_target(m, req->method_len, t, (size_t)(p - t)) != 0)
        return fail(req, 400);
    req->target = (const char *)t;
    req->target_len = (size_t)(p - t);
    p++;

    // HTTP-version = "HTTP/" DIGIT "." DIGIT, checked byte by byte so a wrong byte is a 400
    // as soon as it arrives.
    static const char version[] = "HTTP/#.#";
    const u8 *v = p;
    for (int i = 0; i < 8; i++, p++) {
        if (p == end)
            return incomplete(req, len);
        if (version[i] == '#' ? (unsigned)(*p - '0') > 9u : *p != (u8)version[i])
            return fail(req, 400);
    }
    if (p == end)
        return incomplete(req, len);
    int eol = eat_eol(&p, end);
    if (eol == PARSE_NEED_MORE)
        return incomplete(req, len);
    if (eol != 1)
        return fail(req, 400);
    // Well-formed but not 1.0 or 1.1: the framing rules below would not apply.
    if (v[5] != '1' || v[7] > '1')
        return fail(req, 505);
    req->minor_version = v[7] - '0';
    fs.minor = req->minor_version;
    // [end: http-request-line]

    // [snippet: http-header-loop]
    for (;;) {
        if (p == end)
            return incomplete(req, len);
        u8 c = *p;
        int blank = eat_eol(&p, end); // the blank line ending the head
        if (blank == PARSE_NEED_MORE)
            return incomplete(req, len);
        if (blank == PARSE_ERROR)
            return fail(req, 400);
        if (blank > 0)
            break;
        if (is_ows(c)) // obs-fold, or whitespace after the request-line
            return fail(req, 400);
        if (req->num_headers == HTTP_MAX_HEADERS)
            return fail(req, 431);

        // field-name = token, then ':' immediately (no whitespace before the colon).
        const u8 *name = p;
        while (p < end && tchar[*p])
            p++;
        if (p == end)
            return incomplete(req, len);
        if (p == name || *p != ':')
            return fail(req, 400);
        struct http_header *h = &req->headers[req->num_headers];
        h->name = (const char *)name;
        h->name_len = (size_t)(p - name);
        p++;

        // field-value with OWS trimmed; CR, LF, NUL and other controls end the scan.
        while (p < end && is_ows(*p))
            p++;
        const u8 *val = p;
        p = scan_value(p, end);
        if (p == end)
            return incomplete(req, len);
        const u8 *val_end = p;
        int value_end = eat_eol(&p, end);
        if (value_end == PARSE_NEED_MORE)
            return incomplete(req, len);
        if (value_end != 1) // a control byte inside the value
            return fail(req, 400);
        while (val_end > val && is_ows(val_end[-1]))
            val_end--;
        h->value = (const char *)val;
        h->value_len = (size_t)(val_end - val);
        req->num_headers++;

        int status = apply_field(h, &fs, req);
        if (status != 0)
            return fail(req, status);
    }
    // [end: http-header-loop]

    // [snippet: http-head-decisions]
    // Decisions that need the whole field section.
    if (fs.minor == 1 && fs.host_count == 0)
        return fail(req, 400);
    if (fs.have_te) {
        if (!fs.te_last_chunked)
            return fail(req, 400); // body length undeterminable: RFC 9112 6.3
        if (fs.te_other)
            return fail(req, 501); // gzip etc. before chunked: not implemented
        req->chunked = true;
    }
    if (fs.have_cl) {
        if (fs.cl > HTTP_MAX_BODY)
            return fail(req, 413);
        req->content_length = (int64_t)fs.cl;
    }
    // [end: http-head-decisions]

    // [snippet: http-keep-alive]
    // HTTP/1.1 connections persist unless closed; HTTP/1.0 ones only when asked to.
    if (fs.minor == 1)
        req->keep_alive = !fs.conn_close;
    else
        req->keep_alive = fs.conn_keep_alive && !fs.conn_close;
    // [end: http-keep-alive]
    req->connection_upgrade = fs.conn_upgrade;

    return (int)(p - start);
}

// [snippet: http-should-reparse]
bool http_should_reparse(const char *buf, size_t prev_len, size_t len)
{
    if (prev_len == 0 || len >= HTTP_MAX_HEAD_BYTES || (prev_len >> 10) != (len >> 10))
        return true;
    for (size_t i = prev_len; i < len; i++)
        if (buf[i] == '\n')
            return true;
    return false;
}
// [end: http-should-reparse]

bool http_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower((u8)a[i]) != lower((u8)b[i]))
            return false;
    return true;
}

const struct http_header *http_find_header(const struct http_request *req, const char *name, size_t name_len)
{
    for (size_t i = 0; i < req->num_headers; i++)
        if (http_name_eq(req->headers[i].name, req->headers[i].name_len, name, name_len))
            return &req->headers[i];
    return NULL;
}

bool http_list_has_token(const char *value, size_t len, const char *token, size_t token_len)
{
    const u8 *v = (const u8 *)value;
    size_t i = 0;
    while (i < len) {
        i = skip_ows(v, i, len);
        size_t s = i;
        while (i < len && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && is_ows(v[e - 1]))
            e--;
        if (http_name_eq((const char *)v + s, e - s, token, token_len))
            return true;
        i++;
    }
    return false;
}

const char *http_reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        break;
    }
    switch (status / 100) {
    case 1:
        return "Informational";
    case 2:
        return "Success";
    case 3:
        return "Redirection";
    case 4:
        return "Client Error";
    case 5:
        return "Server Error";
    default:
        return "Unknown";
    }
}
