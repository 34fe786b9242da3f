// hosted_http_parse.c: hosted (libc + sanitizers) tests of the request-head parser and chunked decoder.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http/http_chunked.h"
#include "http/http_parse.h"
#include "sys/parse_result.h"

// ---------------------------------------------------------------- reporting

static int n_ok, n_fail;

static void report(const char *name, const char *why)
{
    if (why == NULL) {
        printf("[OK] %s\n", name);
        n_ok++;
    } else {
        printf("[FAIL] %s: %s\n", name, why);
        n_fail++;
    }
}

// printf into a static buffer: a failure reason.
static const char *why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *why(const char *fmt, ...)
{
    static char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return msg;
}

// ---------------------------------------------------------------- guard page

// Inputs are copied so their last byte sits right before a PROT_NONE page: any read past
// the end faults at once, even where ASan's redzones would not reach.
#define GUARD_PAGES 320 // 1.25 MiB: room for a maximal body
static unsigned char *guard_base;
static size_t guard_span;

static void guard_init(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    guard_span = page * GUARD_PAGES;
    guard_base = mmap(NULL, guard_span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard_base == MAP_FAILED || mprotect(guard_base + guard_span, page, PROT_NONE) != 0) {
        perror("guard page");
        exit(1);
    }
}

static const char *place(const char *s, size_t n)
{
    if (n > guard_span) {
        fprintf(stderr, "input too large for guard area\n");
        exit(1);
    }
    char *dst = (char *)guard_base + guard_span - n;
    memcpy(dst, s, n);
    return dst;
}

static int parse_guarded(const char *s, size_t n, struct http_request *req)
{
    return http_parse_request(place(s, n), n, req);
}

// ---------------------------------------------------------------- request checks

static struct http_request rq;

// Expects the full input to give (ret, status) and checks the prefix property: every prefix
// gives PARSE_NEED_MORE or the same outcome; for a success, exactly the prefixes shorter than the head
// give PARSE_NEED_MORE. Every parse runs flush against the guard page. Big inputs sample prefixes.
static const char *expect_outcome(const char *in, size_t n, int ret, int status)
{
    int r = parse_guarded(in, n, &rq);
    if (r != ret)
        return why("returned %d, expected %d (status %d)", r, ret, rq.error_status);
    if (r == PARSE_ERROR && rq.error_status != status)
        return why("status %d, expected %d", rq.error_status, status);
    size_t step = n <= 4096 ? 1 : 61;
    for (size_t k = 0; k < n; k += (k < 64 || n - k < 64) ? 1 : step) {
        struct http_request pr;
        int pk = parse_guarded(in, k, &pr);
        if (ret > 0) {
            int want = (size_t)ret <= k ? ret : PARSE_NEED_MORE;
            if (pk != want)
                return why("prefix %zu returned %d, expected %d", k, pk, want);
        } else if (pk != PARSE_NEED_MORE && (pk != ret || pr.error_status != status)) {
            return why("prefix %zu returned %d/%d, full input %d/%d", k, pk, pr.error_status, ret, status);
        }
    }
    return NULL;
}

static void case_status(const char *name, const char *in, int status)
{
    report(name, expect_outcome(in, strlen(in), PARSE_ERROR, status));
}

// For literals with embedded NUL bytes.
#define CASE_STATUS_LIT(name, lit, status) \
    report(name, expect_outcome(lit, sizeof(lit) - 1, PARSE_ERROR, status))

static void case_ok(const char *name, const char *in)
{
    size_t n = strlen(in);
    report(name, expect_outcome(in, n, (int)n, 0));
}

static bool span_is(const char *p, size_t n, const char *s)
{
    return p != NULL && n == strlen(s) && memcmp(p, s, n) == 0;
}

// A successful parse of in (whole input is the head) with its summary fields checked.
static void case_fields(const char *name, const char *in, const char *method, const char *target, int minor,
                        size_t nh, int64_t cl, bool chunked, bool keep_alive)
{
    size_t n = strlen(in);
    const char *w = expect_outcome(in, n, (int)n, 0);
    if (w == NULL) {
        parse_guarded(in, n, &rq);
        if (!span_is(rq.method, rq.method_len, method))
            w = why("method '%.*s'", (int)rq.method_len, rq.method);
        else if (!span_is(rq.target, rq.target_len, target))
            w = why("target '%.*s'", (int)rq.target_len, rq.target);
        else if (rq.minor_version != minor)
            w = why("minor %d", rq.minor_version);
        else if (rq.num_headers != nh)
            w = why("num_headers %zu", rq.num_headers);
        else if (rq.content_length != cl)
            w = why("content_length %lld", (long long)rq.content_length);
        else if (rq.chunked != chunked)
            w = why("chunked %d", rq.chunked);
        else if (rq.keep_alive != keep_alive)
            w = why("keep_alive %d", rq.keep_alive);
    }
    report(name, w);
}

// Checks header i of the last parse.
static const char *header_is(size_t i, const char *name, const char *value)
{
    if (i >= rq.num_headers)
        return why("no header %zu", i);
    const struct http_header *h = &rq.headers[i];
    if (!span_is(h->name, h->name_len, name) || !span_is(h->value, h->value_len, value))
        return why("header %zu is '%.*s: %.*s'", i, (int)h->name_len, h->name, (int)h->value_len, h->value);
    return NULL;
}

// Builds large inputs.
static char *build(size_t cap)
{
    char *b = malloc(cap);
    if (b == NULL)
        exit(1);
    b[0] = 0;
    return b;
}

static void append_rep(char *b, char c, size_t n)
{
    size_t l = strlen(b);
    memset(b + l, c, n);
    b[l + n] = 0;
}

// ---------------------------------------------------------------- reference model

// An independent, deliberately plain implementation of the same rules: a byte-at-a-time
// state machine over indices, with the field semantics done on lower-cased copies. The
// differential test feeds both random inputs and requires identical results.
struct model {
    int ret, status;
    size_t moff, mlen, toff, tlen;
    int minor;
    size_t nh;
    size_t hn[HTTP_MAX_HEADERS], hnl[HTTP_MAX_HEADERS], hv[HTTP_MAX_HEADERS], hvl[HTTP_MAX_HEADERS];
    int64_t cl;
    bool chunked, keep_alive, conn_upgrade, expect_continue;
    long upoff, hostoff;
    size_t uplen, hostlen;
};

static bool m_tchar(unsigned c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL);
}

static bool m_valuechar(unsigned c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static void m_lower(char *dst, const unsigned char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) : (char)src[i];
    dst[n] = 0;
}

static bool isalnum_ascii(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool m_host_ok(const char *v)
{
    const char *sub = "-._~%!$&'()*+,;=";
    size_t i = 0, n = strlen(v);
    if (n > 0 && v[0] == '[') {
        const char *close = strchr(v, ']');
        if (close == NULL || close == v + 1)
            return false;
        for (i = 1; v + i < close; i++)
            if (!isalnum_ascii(v[i]) && strchr(sub, v[i]) == NULL && v[i] != ':')
                return false;
        i++;
    } else {
        while (i < n && (isalnum_ascii(v[i]) || strchr(sub, v[i]) != NULL))
            i++;
        if (i == 0) // an empty host: invalid for an http URI
            return false;
    }
    if (i < n && v[i] == ':') {
        i++;
        while (i < n && v[i] >= '0' && v[i] <= '9')
            i++;
    }
    return i == n;
}

// The request-target forms of RFC 9112 3.2, for method and target as C strings.
static int m_target(const char *method, const char *t)
{
    if (strcmp(method, "CONNECT") == 0)
        return 0;
    if (strcmp(t, "*") == 0)
        return strcmp(method, "OPTIONS") == 0 ? 0 : 400;
    if (t[0] == '/')
        return 0;
    if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
        return 400;
    size_t i = 0;
    while (t[i] != 0 && (isalnum_ascii(t[i]) || strchr("+-.", t[i]) != NULL))
        i++;
    if (t[i] != ':')
        return 400;
    bool http = (i == 4 && strncasecmp(t, "http", 4) == 0) || (i == 5 && strncasecmp(t, "https", 5) == 0);
    if (!http)
        return 0;
    if (strncmp(t + i, "://", 3) != 0)
        return 400;
    const char *a = t + i + 3;
    size_t e = strcspn(a, "/?");
    char host[HTTP_MAX_URI + 1];
    memcpy(host, a, e);
    host[e] = 0;
    return m_host_ok(host) ? 0 : 400;
}

struct m_fields {
    int hosts;
    bool have_cl, have_te, te_last_chunked, te_chunked, te_other, close, keep, upgrade;
    unsigned long long cl;
};

// One TE element, already trimmed: token *( OWS ";" OWS token OWS "=" OWS (token|quoted) ).
static int m_te_element(const char *e, struct m_fields *f)
{
    size_t i = 0, n = strlen(e);
    while (i < n && m_tchar((unsigned char)e[i]))
        i++;
    if (i == 0)
        return 400;
    bool plain = (i == n);
    char name[64] = "";
    if (i < sizeof name)
        memcpy(name, e, i), name[i] = 0;
    while (i < n) {
        while (i < n && (e[i] == ' ' || e[i] == '\t'))
            i++;
        if (i == n || e[i] != ';')
            return 400;
        i++;
        while (i < n && (e[i] == ' ' || e[i] == '\t'))
            i++;
        size_t s = i;
        while (i < n && m_tchar((unsigned char)e[i]))
            i++;
        if (i == s)
            return 400;
        while (i < n && (e[i] == ' ' || e[i] == '\t'))
            i++;
        if (i == n || e[i] != '=')
            return 400;
        i++;
        while (i < n && (e[i] == ' ' || e[i] == '\t'))
            i++;
        if (i < n && e[i] == '"') {
            i++;
            while (i < n && e[i] != '"') {
                if (e[i] == '\\')
                    i++;
                i++;
            }
            if (i >= n)
                return 400;
            i++;
        } else {
            s = i;
            while (i < n && m_tchar((unsigned char)e[i]))
                i++;
            if (i == s)
                return 400;
        }
    }
    if (plain && strcmp(name, "chunked") == 0) {
        if (f->te_chunked)
            return 400;
        f->te_chunked = true;
        f->te_last_chunked = true;
    } else {
        f->te_other = true;
        f->te_last_chunked = false;
    }
    return 0;
}

// Splits a lower-cased TE value into elements at commas outside quoted strings.
static int m_te(const char *v, struct m_fields *f)
{
    size_t n = strlen(v);
    char *e = malloc(n + 1);
    size_t s = 0;
    bool inq = false;
    int rc = 0;
    for (size_t i = 0; i <= n && rc == 0; i++) {
        if (i < n && inq && v[i] == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (i < n && v[i] == '"')
            inq = !inq;
        if (i == n || (!inq && v[i] == ',')) {
            size_t a = s, b = i;
            while (a < b && (v[a] == ' ' || v[a] == '\t'))
                a++;
            while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
                b--;
            if (b > a) {
                memcpy(e, v + a, b - a);
                e[b - a] = 0;
                rc = m_te_element(e, f);
            }
            s = i + 1;
        }
    }
    free(e);
    return rc;
}

static int m_field(struct model *m, const unsigned char *b, size_t no, size_t nl, size_t vo, size_t vl,
                   int minor, struct m_fields *f)
{
    char name[HTTP_MAX_HEAD_BYTES + 1], val[HTTP_MAX_HEAD_BYTES + 1];
    m_lower(name, b + no, nl);
    m_lower(val, b + vo, vl);
    if (strcmp(name, "host") == 0) {
        if (++f->hosts > 1)
            return 400;
        if (!m_host_ok(val))
            return 400;
        m->hostoff = (long)vo, m->hostlen = vl;
    } else if (strcmp(name, "expect") == 0) {
        if (strcmp(val, "100-continue") == 0)
            m->expect_continue = true;
    } else if (strcmp(name, "upgrade") == 0) {
        if (m->upoff < 0)
            m->upoff = (long)vo, m->uplen = vl;
    } else if (strcmp(name, "connection") == 0) {
        char *save = NULL;
        for (char *t = strtok_r(val, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ' || *t == '\t')
                t++;
            size_t l = strlen(t);
            while (l > 0 && (t[l - 1] == ' ' || t[l - 1] == '\t'))
                t[--l] = 0;
            if (strcmp(t, "close") == 0)
                f->close = true;
            if (strcmp(t, "keep-alive") == 0)
                f->keep = true;
            if (strcmp(t, "upgrade") == 0)
                f->upgrade = true;
        }
    } else if (strcmp(name, "content-length") == 0) {
        if (vl == 0 || strspn(val, "0123456789") != vl)
            return 400;
        const char *d = val;
        while (d[0] == '0' && d[1] != 0)
            d++;
        if (strlen(d) > 19 || (strlen(d) == 19 && strcmp(d, "9223372036854775807") > 0))
            return 400;
        unsigned long long x = strtoull(d, NULL, 10);
        if (f->have_te)
            return 400;
        if (f->have_cl && f->cl != x)
            return 400;
        f->have_cl = true;
        f->cl = x;
    } else if (strcmp(name, "transfer-encoding") == 0) {
        if (minor == 0 || f->have_cl)
            return 400;
        f->have_te = true;
        return m_te(val, f);
    }
    return 0;
}

enum {
    M_EMPTY,
    M_EMPTY_LF,
    M_METHOD,
    M_TARGET,
    M_VERSION,
    M_RL_END,
    M_RL_LF,
    M_LINE,
    M_END_LF,
    M_NAME,
    M_OWS,
    M_VALUE,
    M_VALUE_LF
};

static int m_fail(struct model *m, int status)
{
    m->ret = PARSE_ERROR;
    m->status = status;
    return PARSE_ERROR;
}

static int model_parse(const unsigned char *b, size_t len, struct model *m)
{
    size_t win = len < HTTP_MAX_HEAD_BYTES ? len : HTTP_MAX_HEAD_BYTES;
    int st = M_EMPTY, empties = 0, vi = 0, major = 0, minor = 0;
    size_t no = 0, nl = 0, vo = 0, ve = 0;
    struct m_fields f;
    memset(m, 0, sizeof *m);
    memset(&f, 0, sizeof f);
    m->upoff = m->hostoff = -1;
    m->cl = -1;
    for (size_t i = 0; i < win; i++) {
        unsigned c = b[i];
        switch (st) {
        case M_EMPTY:
            if (c == '\r') {
                st = M_EMPTY_LF;
            } else if (c == '\n') {
                if (++empties > HTTP_MAX_EMPTY_LINES)
                    return m_fail(m, 400);
            } else {
                st = M_METHOD;
                m->moff = i;
                i--;
            }
            break;
        case M_EMPTY_LF:
            if (c != '\n')
                return m_fail(m, 400);
            if (++empties > HTTP_MAX_EMPTY_LINES)
                return m_fail(m, 400);
            st = M_EMPTY;
            break;
        case M_METHOD:
            if (m_tchar(c)) {
                if (++m->mlen > HTTP_MAX_METHOD)
                    return m_fail(m, 501);
            } else if (c == ' ' && m->mlen > 0) {
                st = M_TARGET;
                m->toff = i + 1;
            } else {
                return m_fail(m, 400);
            }
            break;
        case M_TARGET:
            if (c > 0x20 && c < 0x7f && c != '#') {
                if (++m->tlen > HTTP_MAX_URI)
                    return m_fail(m, 414);
            } else if (c == ' ' && m->tlen > 0) {
                char meth[HTTP_MAX_METHOD + 1], tgt[HTTP_MAX_URI + 1];
                memcpy(meth, b + m->moff, m->mlen);
                meth[m->mlen] = 0;
                memcpy(tgt, b + m->toff, m->tlen);
                tgt[m->tlen] = 0;
                if (m_target(meth, tgt) != 0)
                    return m_fail(m, 400);
                st = M_VERSION;
                vi = 0;
            } else {
                return m_fail(m, 400);
            }
            break;
        case M_VERSION: {
            bool good = (vi == 5 || vi == 7) ? (c >= '0' && c <= '9') : c == (unsigned)"HTTP/x."[vi];
            if (!good)
                return m_fail(m, 400);
            if (vi == 5)
                major = (int)(c - '0');
            if (vi == 7)
                minor = (int)(c - '0');
            if (++vi == 8)
                st = M_RL_END;
            break;
        }
        case M_RL_END:
        case M_RL_LF:
            if (st == M_RL_END && c == '\r') {
                st = M_RL_LF;
                break;
            }
            if (c != '\n')
                return m_fail(m, 400);
            if (major != 1 || minor > 1)
                return m_fail(m, 505);
            m->minor = minor;
            st = M_LINE;
            break;
        case M_LINE:
            if (c == '\r') {
                st = M_END_LF;
            } else if (c == '\n') {
                goto finish_at;
            } else if (c == ' ' || c == '\t') {
                return m_fail(m, 400);
            } else if (m->nh == HTTP_MAX_HEADERS) {
                return m_fail(m, 431);
            } else if (m_tchar(c)) {
                st = M_NAME;
                no = i;
            } else {
                return m_fail(m, 400);
            }
            break;
        case M_END_LF:
            if (c != '\n')
                return m_fail(m, 400);
            goto finish_at;
        case M_NAME:
            if (c == ':') {
                nl = i - no;
                st = M_OWS;
            } else if (!m_tchar(c)) {
                return m_fail(m, 400);
            }
            break;
        case M_OWS:
            if (c == ' ' || c == '\t')
                break;
            st = M_VALUE;
            vo = i;
            // fall through
        case M_VALUE:
            if (c == '\r' || c == '\n') {
                ve = i;
                while (ve > vo && (b[ve - 1] == ' ' || b[ve - 1] == '\t'))
                    ve--;
                if (c == '\r') {
                    st = M_VALUE_LF;
                    break;
                }
            } else if (!m_valuechar(c)) {
                return m_fail(m, 400);
            } else {
                break;
            }
            // fall through: LF
        case M_VALUE_LF:
            if (c != '\n')
                return m_fail(m, 400);
            m->hn[m->nh] = no, m->hnl[m->nh] = nl, m->hv[m->nh] = vo, m->hvl[m->nh] = ve - vo;
            m->nh++;
            {
                int s = m_field(m, b, no, nl, vo, ve - vo, minor, &f);
                if (s)
                    return m_fail(m, s);
            }
            st = M_LINE;
            break;
        }
        continue;
    finish_at:
        if (minor == 1 && f.hosts == 0)
            return m_fail(m, 400);
        if (f.have_te) {
            if (!f.te_last_chunked)
                return m_fail(m, 400);
            if (f.te_other)
                return m_fail(m, 501);
            m->chunked = true;
        }
        if (f.have_cl) {
            if (f.cl > HTTP_MAX_BODY)
                return m_fail(m, 413);
            m->cl = (int64_t)f.cl;
        }
        m->keep_alive = minor == 1 ? !f.close : (f.keep && !f.close);
        m->conn_upgrade = f.upgrade;
        m->ret = (int)(i + 1);
        return m->ret;
    }
    if (len >= HTTP_MAX_HEAD_BYTES)
        return m_fail(m, 431);
    m->ret = PARSE_NEED_MORE;
    return PARSE_NEED_MORE;
}

// Compares the fast parser's result on buf[0..n) with the model's.
static const char *differ(const char *buf, size_t n)
{
    struct model m;
    struct http_request r;
    int a = http_parse_request(buf, n, &r);
    int b = model_parse((const unsigned char *)buf, n, &m);
    if (a != b)
        return why("parser %d/%d, model %d/%d", a, a == PARSE_ERROR ? r.error_status : 0, b, m.status);
    if (a == PARSE_ERROR && r.error_status != m.status)
        return why("parser status %d, model %d", r.error_status, m.status);
    if (a <= 0)
        return NULL;
#define OFF(p) ((size_t)((const char *)(p)-buf))
    if (OFF(r.method) != m.moff || r.method_len != m.mlen)
        return "method span";
    if (OFF(r.target) != m.toff || r.target_len != m.tlen)
        return "target span";
    if (r.minor_version != m.minor || r.num_headers != m.nh)
        return why("minor %d/%d or num_headers %zu/%zu", r.minor_version, m.minor, r.num_headers, m.nh);
    for (size_t i = 0; i < m.nh; i++)
        if (OFF(r.headers[i].name) != m.hn[i] || r.headers[i].name_len != m.hnl[i] ||
            (r.headers[i].value_len != m.hvl[i] || (m.hvl[i] && OFF(r.headers[i].value) != m.hv[i])))
            return why("header %zu span", i);
    if (r.content_length != m.cl || r.chunked != m.chunked || r.keep_alive != m.keep_alive ||
        r.connection_upgrade != m.conn_upgrade || r.expect_continue != m.expect_continue)
        return why("summary cl %lld/%lld chunked %d/%d keep %d/%d upg %d/%d exp %d/%d",
                   (long long)r.content_length, (long long)m.cl, r.chunked, m.chunked, r.keep_alive,
                   m.keep_alive, r.connection_upgrade, m.conn_upgrade, r.expect_continue, m.expect_continue);
    if ((r.upgrade == NULL) != (m.upoff < 0) ||
        (r.upgrade && (OFF(r.upgrade) != (size_t)m.upoff || r.upgrade_len != m.uplen)))
        return "upgrade span";
    if ((r.host == NULL) != (m.hostoff < 0) || (r.host && r.host_len != m.hostlen) ||
        (r.host && r.host_len && OFF(r.host) != (size_t)m.hostoff))
        return "host span";
#undef OFF
    return NULL;
}

// ---------------------------------------------------------------- random requests

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

#define PICK(arr) (arr[rnd(sizeof(arr) / sizeof(arr[0]))])

static void gen_cat(char *b, size_t *n, size_t cap, const char *s)
{
    size_t l = strlen(s);
    if (*n + l < cap) {
        memcpy(b + *n, s, l);
        *n += l;
    }
}

static const char *gen_eol(void)
{
    static const char *eols[] = {"\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r", "\r\r\n"};
    return rnd(20) ? "\r\n" : PICK(eols);
}

// A request head from plausible parts, with occasional damage; returns its length.
static size_t gen_request(char *b, size_t cap)
{
    static const char *methods[] = {"GET",
                                    "POST",
                                    "HEAD",
                                    "PUT",
                                    "M-SEARCH",
                                    "get",
                                    "X!#$",
                                    "",
                                    "G@T",
                                    "GET\t",
                                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    static const char *targets[] = {
        "/",    "/index.html", "/a?b=c&d=%20", "*",          "http://h/x", "h:443",
        "",     "/a b",        "/\x7f",        "/\x80",      "/\t",        "/x\x01",
        "/a#f", "http:///x",   "HTTPS://u@h/", "http://[]/", "http:/x",    "urn:x",
        "1h:2", "index.html",  "**",           "http://h:8"};
    static const char *versions[] = {"HTTP/1.1", "HTTP/1.1", "HTTP/1.0",  "HTTP/2.0",
                                     "HTTP/1.2", "HTTP/0.9", "http/1.1",  "HTTP/1.10",
                                     "HTTP/1",   "HTTP/a.1", "HTTP/1.1 ", "HTTP/3.0"};
    static const char *names[] = {"Host",
                                  "host",
                                  "HOST",
                                  "Content-Length",
                                  "content-length",
                                  "Transfer-Encoding",
                                  "transfer-encoding",
                                  "Connection",
                                  "Upgrade",
                                  "Expect",
                                  "X-Foo",
                                  "User-Agent",
                                  "Accept",
                                  "X Bad",
                                  "",
                                  "X@Y",
                                  "Host ",
                                  "Content-Length\t"};
    static const char *hosts[] = {"example.com", "a:80",   "[::1]:8080", "",     "a b", "a/b", "[::1",
                                  "a:b:c",       "x.y.z:", "A,B",        "h%20", ":80", "[]",  "[]:1"};
    static const char *cls[] = {"0",
                                "5",
                                "010",
                                "-1",
                                "1e3",
                                "99999999999999999999",
                                "9223372036854775807",
                                "9223372036854775808",
                                "1048576",
                                "1048577",
                                "5,5",
                                "",
                                "+5",
                                "00000000000000000005"};
    static const char *tes[] = {"chunked",
                                "Chunked",
                                "gzip, chunked",
                                "chunked, gzip",
                                "chunked;a=b",
                                "gzip;q=\"x,y\", chunked",
                                "identity",
                                "chunked, chunked",
                                "",
                                " , chunked ,",
                                "gzip",
                                "chunked;",
                                "gzip ;a= \"b\\\"c\" , chunked",
                                "\"chunked\"",
                                "gzip;a"};
    static const char *conns[] = {"close",   "keep-alive",      "Keep-Alive, Upgrade",
                                  "upgrade", "foo, close ,bar", "",
                                  "CLOSE",   ",,keep-alive,,",  "keep-alive close"};
    static const char *vals[] = {"text/html", "  padded  ",   "a\tb",         "\xc3\xa9t\xc3\xa9", "x\x01y",
                                 "x\x7fy",    "100-continue", "100-Continue", "websocket",         ""};
    size_t n = 0;
    int empties = rnd(8) == 0 ? (int)rnd(11) : 0;
    for (int i = 0; i < empties; i++)
        gen_cat(b, &n, cap, rnd(2) ? "\r\n" : "\n");
    gen_cat(b, &n, cap, rnd(4) ? "GET" : rnd(4) ? PICK(methods) : rnd(2) ? "OPTIONS" : "CONNECT");
    gen_cat(b, &n, cap, rnd(30) ? " " : "  ");
    if (rnd(40) == 0) {
        gen_cat(b, &n, cap, "/");
        size_t want = HTTP_MAX_URI - 3 + rnd(6);
        while (n < cap - 64 && want-- > 1)
            b[n++] = 'u';
    } else if (rnd(6) == 0) {
        static const char odd[] = {0x7f, 0x01, 0x00, '\t', (char)0x80, (char)0xff, ' '};
        b[n++] = '/';
        for (unsigned j = 8 + rnd(40); j > 0; j--)
            b[n++] = rnd(60) ? (char)('!' + rnd(94)) : PICK(odd);
    } else {
        gen_cat(b, &n, cap, rnd(3) ? "/" : PICK(targets));
    }
    gen_cat(b, &n, cap, rnd(30) ? " " : "  ");
    gen_cat(b, &n, cap, rnd(3) ? "HTTP/1.1" : PICK(versions));
    gen_cat(b, &n, cap, gen_eol());
    if (rnd(4) != 0)
        gen_cat(b, &n, cap, "Host: example.com\r\n");
    unsigned nh = rnd(50) == 0 ? HTTP_MAX_HEADERS - 2 + rnd(3) : rnd(6);
    for (unsigned i = 0; i < nh; i++) {
        static const char *good[] = {"Accept", "User-Agent", "X-Foo",          "Connection",
                                     "Expect", "Upgrade",    "Content-Length", "Transfer-Encoding"};
        const char *name = rnd(3) ? PICK(good) : PICK(names);
        if (rnd(40) == 0)
            gen_cat(b, &n, cap, rnd(2) ? " " : "\t"); // obs-fold or leading space
        gen_cat(b, &n, cap, name);
        gen_cat(b, &n, cap, rnd(40) ? ":" : " :");
        gen_cat(b, &n, cap, rnd(3) ? " " : (rnd(2) ? "" : " \t "));
        const char *v;
        char lc = (char)(name[0] | 0x20);
        if (lc == 'h')
            v = PICK(hosts);
        else if (lc == 'c' && strlen(name) >= 14)
            v = PICK(cls);
        else if (lc == 't')
            v = PICK(tes);
        else if (lc == 'c')
            v = PICK(conns);
        else
            v = PICK(vals);
        if (rnd(8) == 0) { // long value, now and then one odd byte in it
            static const char odd[] = {0x7f, 0x01, 0x00, '\t', '\r', (char)0x80, ' ', '\n'};
            unsigned l = 8 + rnd(60);
            for (unsigned j = 0; j < l && n < cap - 64; j++)
                b[n++] = rnd(80) ? (char)('!' + rnd(94)) : PICK(odd);
            v = "";
        }
        if (rnd(8) == 0 && n < cap - 64) { // long target-like junk in a value too
            b[n++] = (char)(0x80 + rnd(128));
        }
        gen_cat(b, &n, cap, v);
        if (rnd(10) == 0)
            gen_cat(b, &n, cap, " \t");
        gen_cat(b, &n, cap, gen_eol());
    }
    gen_cat(b, &n, cap, gen_eol());
    if (rnd(4) == 0)
        gen_cat(b, &n, cap, "GET /next HTTP/1.1\r\nHost: b\r\n\r\n");
    // Random damage: a few byte edits anywhere.
    for (unsigned k = rnd(6) == 0 ? rnd(3) + 1 : 0; k > 0 && n > 0; k--) {
        size_t at = rnd((unsigned)n);
        switch (rnd(3)) {
        case 0:
            b[at] = (char)rnd(256);
            break;
        case 1:
            memmove(b + at, b + at + 1, n - at - 1);
            n--;
            break;
        default:
            if (n + 1 < cap) {
                memmove(b + at + 1, b + at, n - at);
                b[at] = (char)PICK(((const char[]){'\r', '\n', ' ', '\t', ':', ',', 0, 'a', '"'}));
                n++;
            }
        }
    }
    return n;
}

static void test_differential(void)
{
    enum { N = 60000, CAP = 20000 };
    char *b = malloc(CAP);
    const char *w = NULL;
    unsigned ok = 0, err = 0, more = 0;
    for (int it = 0; it < N && w == NULL; it++) {
        size_t n = gen_request(b, CAP);
        const char *p = place(b, n);
        w = differ(p, n);
        struct http_request t;
        int full = http_parse_request(p, n, &t);
        ok += full > 0, err += full == PARSE_ERROR, more += full == PARSE_NEED_MORE;
        for (int k = 0; k < 3 && w == NULL && n > 0; k++) {
            size_t cut = rnd((unsigned)n);
            w = differ(place(b, cut), cut);
        }
        if (w != NULL) {
            fprintf(stderr, "differential input (%zu bytes): ", n);
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, (b[i] >= 0x20 && b[i] < 0x7f) ? "%c" : "\\x%02x", (unsigned char)b[i]);
            fprintf(stderr, "\n");
        }
    }
    free(b);
    static char name[128];
    snprintf(name, sizeof name,
             "differential vs reference model (%d random heads: %u ok, %u errors, %u incomplete)", N, ok, err,
             more);
    if (w == NULL && (ok < N / 20 || err < N / 20))
        w = "generator produced too few successes or errors";
    report(name, w);
}

// ---------------------------------------------------------------- main cases

static void test_valid(void)
{
    case_fields("simple GET HTTP/1.1", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", "/", 1, 1, -1,
                false, true);
    report("simple GET: header span and host",
           header_is(0, "Host", "example.com")
               ?: (span_is(rq.host, rq.host_len, "example.com") ? NULL : "host"));
    case_fields("HTTP/1.0 without Host", "GET /x HTTP/1.0\r\n\r\n", "GET", "/x", 0, 0, -1, false, false);
    case_fields("bare LF line endings accepted", "GET / HTTP/1.1\nHost: h\nA: b\n\n", "GET", "/", 1, 2, -1,
                false, true);
    case_fields("mixed CRLF and LF", "GET / HTTP/1.1\r\nHost: h\nA: b\r\n\n", "GET", "/", 1, 2, -1, false,
                true);
    case_fields("leading empty lines skipped", "\r\n\n\r\nPOST /p HTTP/1.1\r\nHost: h\r\n\r\n", "POST", "/p",
                1, 1, -1, false, true);
    case_ok("8 leading empty lines", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.0\r\n\r\n");
    case_fields("OWS trimmed around value", "GET / HTTP/1.1\r\nHost:h\r\nX-A: \t v a l \t \r\n\r\n", "GET",
                "/", 1, 2, -1, false, true);
    report("OWS trimmed: value span", header_is(1, "X-A", "v a l"));
    case_fields("empty field value", "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:   \r\n\r\n", "GET", "/", 1, 2, -1,
                false, true);
    report("empty field value: span", header_is(1, "X-Empty", ""));
    case_ok("obs-text in value accepted", "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\xff\r\n\r\n");
    case_ok("HTAB inside value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\tb\r\n\r\n");
    case_fields("method is any token", "M-SEARCH!#$%&'*+.^_`|~ / HTTP/1.1\r\nHost: h\r\n\r\n",
                "M-SEARCH!#$%&'*+.^_`|~", "/", 1, 1, -1, false, true);
    case_fields("absolute-form target", "GET http://h:8/a?b HTTP/1.1\r\nHost: h:8\r\n\r\n", "GET",
                "http://h:8/a?b", 1, 1, -1, false, true);
    case_fields("asterisk-form with OPTIONS (9112 3.2.4)", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS",
                "*", 1, 1, -1, false, true);
    case_ok("absolute-form https, no path", "GET https://h HTTP/1.1\r\nHost: h\r\n\r\n");
    case_ok("absolute-form with query only", "GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n");
    case_ok("absolute-form of another scheme", "GET urn:isbn:0451450523 HTTP/1.1\r\nHost: h\r\n\r\n");
    case_ok("absolute-form with IPv6 literal", "GET http://[::1]:80/ HTTP/1.1\r\nHost: h\r\n\r\n");
    case_fields("authority-form target", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", "CONNECT", "h:443",
                1, 1, -1, false, true);
    case_ok("Host with IPv6 literal and port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
    case_ok("Host reg-name with sub-delims and pct",
            "GET / HTTP/1.1\r\nHost: a-b.c_d~%20!$&'()*+,;=\r\n\r\n");
    case_ok("Host in HTTP/1.0", "GET / HTTP/1.0\r\nHost: h\r\n\r\n");
    case_ok("header name case-insensitive (hOsT)", "GET / HTTP/1.1\r\nhOsT: h\r\n\r\n");
    case_fields("Content-Length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n", "POST", "/", 1,
                2, 42, false, true);
    case_fields("Content-Length duplicates identical",
                "POST / HTTP/1.1\r\nHost: h\r\n"
                "Content-Length: 7\r\ncontent-length: 7\r\n\r\n",
                "POST", "/", 1, 3, 7, false, true);
    case_fields("Content-Length leading zeros", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0012\r\n\r\n",
                "POST", "/", 1, 2, 12, false, true);
    case_fields("Content-Length zero", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", "POST", "/",
                1, 2, 0, false, true);
    case_fields("Content-Length equal to HTTP_MAX_BODY",
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048576\r\n\r\n", "POST", "/", 1, 2,
                HTTP_MAX_BODY, false, true);
    case_fields("Transfer-Encoding chunked",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", "POST", "/", 1, 2, -1,
                true, true);
    case_fields("Transfer-Encoding case-insensitive",
                "POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: ChUnKeD\r\n\r\n", "POST", "/", 1, 2, -1,
                true, true);
    case_fields("Transfer-Encoding empty list elements",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , ,chunked , \r\n\r\n", "POST", "/", 1, 2,
                -1, true, true);
    case_fields("Transfer-Encoding chunked then empty line",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n",
                "POST", "/", 1, 3, -1, true, true);
}

static void test_keep_alive(void)
{
    case_fields("keep-alive: HTTP/1.1 default on", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/", 1, 1, -1,
                false, true);
    case_fields("keep-alive: HTTP/1.1 close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "GET",
                "/", 1, 2, -1, false, false);
    case_fields("keep-alive: HTTP/1.1 CLOSE in list with OWS",
                "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo ,\tCLOSE , bar\r\n\r\n", "GET", "/", 1, 2, -1,
                false, false);
    case_fields("keep-alive: HTTP/1.1 close on second Connection line",
                "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", "GET",
                "/", 1, 3, -1, false, false);
    case_fields("keep-alive: HTTP/1.1 closed is not close",
                "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", "GET", "/", 1, 2, -1, false, true);
    case_fields("keep-alive: HTTP/1.0 default off", "GET / HTTP/1.0\r\n\r\n", "GET", "/", 0, 0, -1, false,
                false);
    case_fields("keep-alive: HTTP/1.0 Keep-Alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET",
                "/", 0, 1, -1, false, true);
    case_fields("keep-alive: HTTP/1.0 keep-alive and close",
                "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "GET", "/", 0, 1, -1, false,
                false);
    case_fields("keep-alive: HTTP/1.0 'keep-alive close' is one bad token",
                "GET / HTTP/1.0\r\nConnection: keep-alive close\r\n\r\n", "GET", "/", 0, 1, -1, false, false);
    const char *ws =
        "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
        "Upgrade: other\r\nExpect: 100-Continue\r\n\r\n";
    case_fields("Connection upgrade with Upgrade header", ws, "GET", "/ws", 1, 5, -1, false, true);
    report("Connection upgrade: flags and first Upgrade value",
           !rq.connection_upgrade                              ? "connection_upgrade not set"
           : !span_is(rq.upgrade, rq.upgrade_len, "websocket") ? "upgrade value"
           : !rq.expect_continue                               ? "expect_continue not set"
                                                               : NULL);
    case_fields("no Connection upgrade token", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n",
                "GET", "/", 1, 2, -1, false, true);
    report("no Connection upgrade token: flag clear", rq.connection_upgrade ? "set" : NULL);
}

static void test_errors(void)
{
    // 400: request-line syntax
    case_status("400 bare CR in request line", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
    case_status("400 bare CR in empty leading line", "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 9 leading empty lines", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.0\r\n\r\n",
                400);
    case_status("400 empty method", " / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 non-token byte in method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 two spaces after method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 two spaces before version", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 HTAB as separator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 control byte in target", "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 DEL in target", "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 obs-text in target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 missing version", "GET /\r\nHost: h\r\n\r\n", 400);
    case_status("400 lower-case version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 version HTTP/1.10", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400);
    case_status("400 version HTTP/1", "GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
    case_status("400 version HTTP/11", "GET / HTTP/11\r\nHost: h\r\n\r\n", 400);
    case_status("400 trailing space after version", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
    CASE_STATUS_LIT("400 NUL in request line", "GET /\0 HTTP/1.1\r\n\r\n", 400);
    // 400: request-target forms (RFC 9112 3.2; RFC 9110 4.2.1, 4.2.4)
    case_status("400 asterisk-form with GET", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 asterisk-form with HEAD", "HEAD * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 asterisk-form with lower-case options", "options * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 asterisk-form decided before the version", "POST * ", 400);
    case_status("400 two asterisks with OPTIONS", "OPTIONS ** HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 relative target", "GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 scheme starting with a digit", "GET 1http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 fragment in origin-form", "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 fragment in absolute-form", "GET http://h/a#f HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 http URI with empty host", "GET http:///a HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 http URI that is only a scheme", "GET http: HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 http URI without //", "GET http:/a HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 http URI with port only", "GET http://:80/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 http URI with userinfo", "GET http://u:p@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    case_status("400 https URI with empty IP literal", "GET HTTPS://[]/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    // 400: empty host (RFC 9110 4.2.1, 7.2)
    case_status("400 empty Host in HTTP/1.1", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400);
    case_status("400 Host of only whitespace", "GET / HTTP/1.1\r\nHost:  \t \r\n\r\n", 400);
    case_status("400 Host with port but no host", "GET / HTTP/1.1\r\nHost: :8080\r\n\r\n", 400);
    case_status("400 Host with empty IP literal", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400);
    case_status("400 empty Host with OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", 400);
    case_status("400 empty Host in HTTP/1.0", "GET / HTTP/1.0\r\nHost:\r\n\r\n", 400);
    // 400: field syntax
    case_status("400 obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400);
    case_status("400 obs-fold with HTAB", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400);
    case_status("400 whitespace line after request line", "GET / HTTP/1.1\r\n \r\nHost: h\r\n\r\n", 400);
    case_status("400 space between name and colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
    case_status("400 HTAB between name and colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400);
    case_status("400 empty field name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400);
    case_status("400 field line without colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400);
    case_status("400 non-token byte in field name", "GET / HTTP/1.1\r\nHost: h\r\nX@Y: v\r\n\r\n", 400);
    CASE_STATUS_LIT("400 NUL in field value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 400);
    case_status("400 control byte in field value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x1b[0m\r\n\r\n", 400);
    case_status("400 DEL in field value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", 400);
    case_status("400 bare CR in field value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400);
    case_status("400 bare CR in final blank line", "GET / HTTP/1.1\r\nHost: h\r\n\rX", 400);
    // 400: Host
    case_status("400 HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400);
    case_status("400 two Host lines", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
    case_status("400 two Host lines in HTTP/1.0", "GET / HTTP/1.0\r\nhost: a\r\nHOST: b\r\n\r\n", 400);
    case_status("400 Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    case_status("400 Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
    case_status("400 Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400);
    case_status("400 Host with unclosed IPv6 literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400);
    case_status("400 Host with bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400);
    // 400: Content-Length
    case_status("400 Content-Length non-digit", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1a\r\n\r\n",
                400);
    case_status("400 Content-Length negative", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
                400);
    case_status("400 Content-Length plus sign", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n",
                400);
    case_status("400 Content-Length empty", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", 400);
    case_status("400 Content-Length comma list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n",
                400);
    case_status("400 Content-Length inner space", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n",
                400);
    case_status("400 Content-Length differing duplicates",
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
    case_status("400 Content-Length overflow (20 digits)",
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400);
    case_status("400 Content-Length INT64_MAX+1",
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n", 400);
    // 400: Transfer-Encoding
    case_status("400 Transfer-Encoding and Content-Length",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400);
    case_status("400 Content-Length and Transfer-Encoding",
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    case_status("400 Transfer-Encoding final coding gzip",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
    case_status("400 Transfer-Encoding chunked, gzip",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
    case_status("400 Transfer-Encoding chunked then gzip line",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
                400);
    case_status("400 Transfer-Encoding chunked twice",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400);
    case_status("400 Transfer-Encoding chunked with parameter",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400);
    case_status("400 Transfer-Encoding empty", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n",
                400);
    case_status("400 Transfer-Encoding quoted",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400);
    case_status("400 Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                400);
    case_status("400 Transfer-Encoding unterminated quoted parameter",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip;a=\"b, chunked\r\n\r\n", 400);
    // 413
    case_status("413 Content-Length above HTTP_MAX_BODY",
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048577\r\n\r\n", 413);
    case_status("413 Content-Length INT64_MAX",
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n", 413);
    // 501
    case_status("501 Transfer-Encoding gzip, chunked",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    case_status("501 Transfer-Encoding gzip with quoted parameter, chunked",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip;q=\"a,\\\"b\" , chunked\r\n\r\n", 501);
    case_status("501 Transfer-Encoding over two lines",
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
                501);
    // 505
    case_status("505 HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    case_status("505 HTTP/1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
    case_status("505 HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505);
    case_status("505 HTTP/3.0 with bare LF", "GET / HTTP/3.0\n\n", 505);
    case_status("505 decided at end of request line", "GET / HTTP/9.9\r\n", 505);
}

// A bad byte at every position of a long value and a long target, so each lands in every
// lane of the eight-byte fast path as well as in the byte-wise tail.
static void test_bad_byte_positions(void)
{
    static const unsigned char value_bad[] = {0x00, 0x01, 0x08, 0x0b, 0x1f, 0x7f};
    static const unsigned char target_bad[] = {0x00, 0x09, 0x1f, '#', 0x7f, 0x80, 0xff};
    char buf[256];
    const char *w = NULL;
    for (size_t k = 0; k < sizeof value_bad && w == NULL; k++) {
        for (size_t pos = 0; pos < 40 && w == NULL; pos++) {
            int n = snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: h\r\nX: %s\r\n\r\n",
                             "0123456789abcdefghijklmnopqrstuvwxyzABCD");
            char *v = strstr(buf, "X: ") + 3;
            v[pos] = (char)value_bad[k];
            int r = parse_guarded(buf, (size_t)n, &rq);
            if (r != PARSE_ERROR || rq.error_status != 400)
                w = why("byte 0x%02x at %zu: %d", value_bad[k], pos, r);
        }
    }
    report("400 control byte at every position of a long value", w);
    w = NULL;
    for (size_t k = 0; k < sizeof target_bad && w == NULL; k++) {
        for (size_t pos = 1; pos < 40 && w == NULL; pos++) {
            int n = snprintf(buf, sizeof buf, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n",
                             "/123456789abcdefghijklmnopqrstuvwxyzABCD");
            buf[4 + pos] = (char)target_bad[k];
            int r = parse_guarded(buf, (size_t)n, &rq);
            if (r != PARSE_ERROR || rq.error_status != 400)
                w = why("byte 0x%02x at %zu: %d", target_bad[k], pos, r);
        }
    }
    report("400 bad byte at every position of a long target", w);
}

static void test_limits(void)
{
    char *b = build(70000);
    const char *w;

    // method length
    strcpy(b, "");
    append_rep(b, 'M', HTTP_MAX_METHOD);
    strcat(b, " / HTTP/1.1\r\nHost: h\r\n\r\n");
    case_ok("method of HTTP_MAX_METHOD bytes", b);
    strcpy(b, "");
    append_rep(b, 'M', HTTP_MAX_METHOD + 1);
    strcat(b, " / HTTP/1.1\r\nHost: h\r\n\r\n");
    case_status("501 method longer than HTTP_MAX_METHOD", b, 501);
    b[HTTP_MAX_METHOD + 1] = 0;
    report("501 long method detected before the line ends",
           parse_guarded(b, strlen(b), &rq) == PARSE_ERROR && rq.error_status == 501 ? NULL : "not detected");

    // target length
    strcpy(b, "GET /");
    append_rep(b, 'a', HTTP_MAX_URI - 1);
    strcat(b, " HTTP/1.1\r\nHost: h\r\n\r\n");
    case_ok("target of HTTP_MAX_URI bytes", b);
    strcpy(b, "GET /");
    append_rep(b, 'a', HTTP_MAX_URI);
    strcat(b, " HTTP/1.1\r\nHost: h\r\n\r\n");
    case_status("414 target of HTTP_MAX_URI+1 bytes", b, 414);
    strcpy(b, "GET /");
    append_rep(b, 'a', HTTP_MAX_URI - 1);
    w = parse_guarded(b, strlen(b), &rq) == PARSE_NEED_MORE ? NULL : "not PARSE_NEED_MORE at the limit";
    if (w == NULL) {
        strcat(b, "a");
        w = parse_guarded(b, strlen(b), &rq) == PARSE_ERROR && rq.error_status == 414 ? NULL
                                                                                      : "no 414 at limit+1";
    }
    report("414 streamed target refused at its HTTP_MAX_URI+1st byte", w);
    strcpy(b, "\r\n\r\nGET /");
    append_rep(b, 'b', 9000);
    report("414 streamed target after empty lines, incomplete head",
           parse_guarded(b, strlen(b), &rq) == PARSE_ERROR && rq.error_status == 414 ? NULL : "no 414");

    // header count
    strcpy(b, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 1; i < HTTP_MAX_HEADERS; i++)
        sprintf(b + strlen(b), "X-%d: v\r\n", i);
    strcat(b, "\r\n");
    case_fields("HTTP_MAX_HEADERS fields", b, "GET", "/", 1, HTTP_MAX_HEADERS, -1, false, true);
    b[strlen(b) - 2] = 0;
    strcat(b, "X-Last: v\r\n\r\n");
    case_status("431 HTTP_MAX_HEADERS+1 fields", b, 431);
    char *cut = strstr(b, "X-Last");
    cut[1] = 0;
    report("431 extra field refused at its first byte",
           parse_guarded(b, strlen(b), &rq) == PARSE_ERROR && rq.error_status == 431 ? NULL : "not detected");
    cut[0] = 0;
    report("HTTP_MAX_HEADERS fields, incomplete: PARSE_NEED_MORE",
           parse_guarded(b, strlen(b), &rq) == PARSE_NEED_MORE ? NULL : "not PARSE_NEED_MORE");

    // head size: pad one header so the whole head is exactly HTTP_MAX_HEAD_BYTES
    const char *pre = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
    strcpy(b, pre);
    append_rep(b, 'p', HTTP_MAX_HEAD_BYTES - strlen(pre) - 4);
    strcat(b, "\r\n\r\n");
    case_ok("head of exactly HTTP_MAX_HEAD_BYTES", b);
    b[strlen(b) - 4] = 0;
    strcat(b, "pp\r\n\r\n");
    w = expect_outcome(b, strlen(b), PARSE_ERROR, 431);
    report("431 head over HTTP_MAX_HEAD_BYTES", w);
    b[HTTP_MAX_HEAD_BYTES] = 0;
    report("431 incomplete head reaching HTTP_MAX_HEAD_BYTES",
           parse_guarded(b, strlen(b), &rq) == PARSE_ERROR && rq.error_status == 431 ? NULL : "not 431");
    b[HTTP_MAX_HEAD_BYTES - 1] = 0;
    report("incomplete head one byte short of the limit: PARSE_NEED_MORE",
           parse_guarded(b, strlen(b), &rq) == PARSE_NEED_MORE ? NULL : "not PARSE_NEED_MORE");
    // A huge buffer with a small head: only the head is looked at.
    strcpy(b, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    append_rep(b, 'z', 60000);
    report("small head at the start of a 60 KB buffer",
           parse_guarded(b, strlen(b), &rq) == 27 ? NULL : "wrong length");
    free(b);
}

static void test_pipelining(void)
{
    const char *two = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t n = strlen(two);
    const char *p = place(two, n);
    int r1 = http_parse_request(p, n, &rq);
    const char *w = r1 == (int)(n / 2) ? NULL : why("first head %d", r1);
    if (w == NULL) {
        int r2 = http_parse_request(p + r1, n - (size_t)r1, &rq);
        w = r2 == (int)(n / 2) && span_is(rq.target, rq.target_len, "/2") ? NULL : why("second head %d", r2);
    }
    report("pipelined heads: first length, then second", w);

    const char *body =
        "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    n = strlen(body);
    p = place(body, n);
    r1 = http_parse_request(p, n, &rq);
    w = (r1 > 0 && rq.content_length == 5) ? NULL : why("first %d", r1);
    if (w == NULL) {
        int r2 = http_parse_request(p + r1 + 5, n - (size_t)r1 - 5, &rq);
        w = r2 > 0 && span_is(rq.target, rq.target_len, "/b") ? NULL : why("second %d", r2);
    }
    report("pipelined head, Content-Length body, head", w);

    const char *bad = "GET / HTTP/1.1\r\nHost: h\r\n\r\nGARBAGE\x01\r\n\r\n";
    report("pipelined: garbage after a head does not affect it",
           parse_guarded(bad, strlen(bad), &rq) == 27 ? NULL : "wrong");
}

// Every split point: the first part gives PARSE_NEED_MORE, then the whole gives the full answer (done by
// expect_outcome, flush against the guard page).
static void test_splits(void)
{
    static const char *reqs[] = {
        "GET /index.html HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n",
        "\r\nPOST /form?x=1 HTTP/1.0\nContent-Length: 3\nConnection: keep-alive\n\n",
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        "PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX-Long: "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\t \r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        char name[80];
        snprintf(name, sizeof name, "every split point, guard page: request %zu", i + 1);
        case_ok(name, reqs[i]);
    }
}

// Feeding with http_should_reparse deciding when to parse gives the same result as parsing
// the whole input, within a bounded number of parses.
static void test_reparse_rule(void)
{
    char *b = build(40000);
    strcpy(b, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < 40; i++)
        strcat(b, "X-Some-Header: some value here\r\n");
    strcat(b, "\r\n");
    const char *inputs[4] = {b, "GET / HTTP/1.1\r\nHost : h\r\n\r\n", NULL, NULL};
    char *big = build(20000);
    strcpy(big, "GET /");
    append_rep(big, 'x', 12000);
    inputs[2] = big;
    char *many = build(20000);
    strcpy(many, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < 80; i++)
        strcat(many, "A: b\n");
    inputs[3] = many;
    const char *w = NULL;
    for (int k = 0; k < 4 && w == NULL; k++) {
        size_t n = strlen(inputs[k]);
        struct http_request full;
        int want = http_parse_request(inputs[k], n, &full);
        // Shortest prefix with a decided outcome (outcomes never change once decided).
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (http_parse_request(inputs[k], mid, &rq) == PARSE_NEED_MORE)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (int seg = 1; seg <= 7 && w == NULL; seg += 3) {
            size_t prev = 0, have = 0;
            int got = PARSE_NEED_MORE, parses = 0;
            while (got == PARSE_NEED_MORE && have < n) {
                have = have + (size_t)seg < n ? have + (size_t)seg : n;
                if (http_should_reparse(inputs[k], prev, have)) {
                    parses++;
                    got = http_parse_request(inputs[k], have, &rq);
                    prev = have;
                }
            }
            // Not decided when the input ran out: allowed only within the promised delay.
            if (got == PARSE_NEED_MORE && want != PARSE_NEED_MORE && n < lo + 1024 + (size_t)seg)
                got = http_parse_request(inputs[k], n, &rq);
            else if (got != PARSE_NEED_MORE && have > lo + 1024 + (size_t)seg)
                w = why("input %d seg %d: decided at %zu, decidable at %zu", k, seg, have, lo);
            if (w == NULL && (got != want || (got == PARSE_ERROR && rq.error_status != full.error_status)))
                w = why("input %d seg %d: %d, expected %d", k, seg, got, want);
            else if (parses > 100)
                w = why("input %d seg %d: %d parses", k, seg, parses);
        }
    }
    report("http_should_reparse: same results, bounded parses", w);
    free(b);
    free(big);
    free(many);
}

static void test_helpers(void)
{
    const char *in =
        "GET / HTTP/1.1\r\nHost: h\r\nX-Thing: one\r\nx-thing: two\r\nConnection: a, Upgrade ,b\r\n\r\n";
    parse_guarded(in, strlen(in), &rq);
    const struct http_header *h = http_find_header(&rq, "X-THING", 7);
    report("http_find_header case-insensitive, first match",
           h && span_is(h->value, h->value_len, "one") ? NULL : "wrong header");
    report("http_find_header missing", http_find_header(&rq, "X-Thin", 6) == NULL ? NULL : "found");
    h = http_find_header(&rq, "connection", 10);
    report("http_list_has_token", h && http_list_has_token(h->value, h->value_len, "upgrade", 7) &&
                                          http_list_has_token(h->value, h->value_len, "A", 1) &&
                                          !http_list_has_token(h->value, h->value_len, "upgrad", 6) &&
                                          !http_list_has_token(h->value, h->value_len, "", 0)
                                      ? NULL
                                      : "wrong");
    report("http_list_has_token on empty value", !http_list_has_token("", 0, "x", 1) ? NULL : "wrong");
    report("http_name_eq", http_name_eq("Content-Length", 14, "content-LENGTH", 14) &&
                                   !http_name_eq("a", 1, "ab", 2) && !http_name_eq("[", 1, "{", 1)
                               ? NULL
                               : "wrong");
    report("http_reason_phrase known codes",
           !strcmp(http_reason_phrase(200), "OK") && !strcmp(http_reason_phrase(404), "Not Found") &&
                   !strcmp(http_reason_phrase(431), "Request Header Fields Too Large") &&
                   !strcmp(http_reason_phrase(101), "Switching Protocols") &&
                   !strcmp(http_reason_phrase(505), "HTTP Version Not Supported")
               ? NULL
               : "wrong");
    {
        size_t longest = 0;
        for (int st = 0; st < 1000; st++)
            if (strlen(http_reason_phrase(st)) > longest)
                longest = strlen(http_reason_phrase(st));
        report("http_reason_phrase never longer than HTTP_REASON_MAX",
               longest == HTTP_REASON_MAX ? NULL : why("longest %zu", longest));
    }
    report("http_reason_phrase unknown codes", !strcmp(http_reason_phrase(299), "Success") &&
                                                       !strcmp(http_reason_phrase(499), "Client Error") &&
                                                       !strcmp(http_reason_phrase(42), "Unknown")
                                                   ? NULL
                                                   : "wrong");
}

// ---------------------------------------------------------------- chunked

// What a run of the decoder ended with: the body complete (any count >= 0), or a
// parse_result.
enum { COMPLETE = 1 };

// Runs the decoder over in[0..n) in pieces of seg bytes (0 = all at once), flush against the
// guard page per piece. Returns COMPLETE, PARSE_NEED_MORE or PARSE_ERROR, and the total
// bytes of in that belonged to the body.
static int chunk_run(const char *in, size_t n, size_t seg, size_t *used, struct http_chunked *st)
{
    http_chunked_init(st);
    size_t off = 0;
    int r;
    *used = 0;
    do {
        size_t take = seg == 0 || n - off < seg ? n - off : seg;
        r = http_chunked_feed(st, place(in + off, take), take);
        if (r >= 0) {
            if ((size_t)r > take || r == 0)
                return -100; // contract: the count is within this piece, and ends a body
            *used += (size_t)r;
            return COMPLETE;
        }
        if (r == PARSE_NEED_MORE)
            *used += take; // contract: everything consumed
        off += take;
    } while (r == PARSE_NEED_MORE && off < n);
    return r;
}

// Expects ret with *consumed == used, the same byte-at-a-time, in 3-byte pieces and at once.
static void chunk_case(const char *name, const char *in, size_t n, int ret, size_t used, int status)
{
    const char *w = NULL;
    static const size_t segs[] = {0, 1, 3, 7};
    for (size_t i = 0; i < 4 && w == NULL; i++) {
        struct http_chunked st;
        size_t u;
        int r = chunk_run(in, n, segs[i], &u, &st);
        if (r != ret)
            w = why("seg %zu: returned %d, expected %d", segs[i], r, ret);
        else if (ret == COMPLETE && u != used)
            w = why("seg %zu: consumed %zu, expected %zu", segs[i], u, used);
        else if (ret == PARSE_ERROR && st.error_status != status)
            w = why("seg %zu: status %d, expected %d", segs[i], st.error_status, status);
    }
    report(name, w);
}

static void chunk_ok(const char *name, const char *in, size_t body_len)
{
    chunk_case(name, in, strlen(in), COMPLETE, body_len ? body_len : strlen(in), 0);
}

static void chunk_bad(const char *name, const char *in, int status)
{
    chunk_case(name, in, strlen(in), PARSE_ERROR, 0, status);
}

static void test_chunked(void)
{
    chunk_ok("chunked: simple body", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0);
    chunk_ok("chunked: empty body", "0\r\n\r\n", 0);
    chunk_ok("chunked: upper and lower hex", "A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", 0);
    chunk_ok("chunked: leading zeros", "0005\r\nhello\r\n000\r\n\r\n", 0);
    chunk_ok("chunked: extensions ignored", "5;name=val;q=\"a;b\\\"c\"\r\nhello\r\n0;last\r\n\r\n", 0);
    chunk_ok("chunked: BWS before extension", "5 \t;a=b\r\nhello\r\n0\r\n\r\n", 0);
    chunk_ok("chunked: BWS around every part of an extension",
             "5 ; a = b ;\tc\t=\t\"x y\" ; d\r\nhello\r\n0\r\n\r\n", 0);
    chunk_ok("chunked: extension names only", "5;a;b;c\r\nhello\r\n0;z\r\n\r\n", 0);
    chunk_ok("chunked: empty and escaped quoted values",
             "5;a=\"\";b=\"\\\\\";c=\"caf\xc3\xa9\"\r\nhello\r\n0\r\n\r\n", 0);
    chunk_ok("chunked: many leading zeros do not overflow",
             "00000000000000000000000005\r\nhello\r\n0\r\n\r\n", 0);
    chunk_ok("chunked: bare LF line ends", "5\nhello\n0\n\n", 0);
    chunk_ok("chunked: trailer fields", "5\r\nhello\r\n0\r\nX-Sum: 1\r\nY:\r\nZ: a\tb\xc3\xa9\n\r\n", 0);
    chunk_ok("chunked: data containing CRLF", "4\r\n\r\n\r\n\r\n0\r\n\r\n", 0);
    const char *pipe = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    chunk_case("chunked: stops before pipelined request", pipe, strlen(pipe), 1,
               strlen("3\r\nabc\r\n0\r\n\r\n"), 0);
    chunk_bad("chunked: empty size line", "\r\n", 400);
    chunk_bad("chunked: non-hex size", "g\r\n", 400);
    chunk_bad("chunked: 0x prefix", "0x5\r\nhello\r\n", 400);
    chunk_bad("chunked: negative size", "-5\r\n", 400);
    chunk_bad("chunked: garbage after size", "5x\r\nhello\r\n", 400);
    chunk_bad("chunked: space inside size", "1 0\r\n", 400);
    chunk_bad("chunked: data longer than size", "5\r\nhelloX\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: bare CR after data", "5\r\nhello\r0\r\n\r\n", 400);
    chunk_bad("chunked: bare CR in size line", "5\rhello", 400);
    chunk_bad("chunked: control byte in extension", "5;a\x01\r\nhello\r\n", 400);
    chunk_bad("chunked: bare CR in extension", "5;a\rb\r\nhello\r\n", 400);
    chunk_bad("chunked: trailer without colon", "0\r\nBad Trailer\r\n\r\n", 400);
    chunk_bad("chunked: obs-fold in trailers", "0\r\nX: a\r\n b\r\n\r\n", 400);
    chunk_bad("chunked: trailer with empty name", "0\r\n: a\r\n\r\n", 400);
    chunk_case("chunked: NUL in trailer value", "0\r\nX: a\0b\r\n\r\n", 12, PARSE_ERROR, 0, 400);
    // chunk-ext grammar (RFC 9112 7.1.1): everything else is a 400
    chunk_bad("chunked: whitespace after size, no extension", "5 \r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: HTAB after size, no extension", "5\t\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: whitespace after last-chunk size", "5\r\nhello\r\n0 \r\n\r\n", 400);
    chunk_bad("chunked: whitespace after size, bare LF", "5 \nhello\n0\n\n", 400);
    chunk_bad("chunked: bare semicolon", "5;\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: semicolon and BWS only", "5 ; \r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: trailing semicolon", "5;a=b;\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: two semicolons", "5;;a\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: invalid token in name", "5;bad[=x\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: empty name", "5;=x\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: missing value", "5;a=\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: two equals signs", "5;a==b\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: invalid token in value", "5;a=b@c\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: space inside a token value", "5;a=b c\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: space inside a name", "5;a b=c\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: BWS after name before line end", "5;a \r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: BWS after value before line end", "5;a=b\t\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: BWS after quoted value before line end", "5;a=\"b\" \r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: text after quoted value", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: unterminated quoted value", "5;a=\"b\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: control byte in quoted value", "5;a=\"b\x01\"\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: control byte after backslash", "5;a=\"\\\x7f\"\r\nhello\r\n0\r\n\r\n", 400);
    chunk_bad("chunked: extension on the last chunk checked too", "0;x y\r\n\r\n", 400);
    chunk_bad("chunked: bare CR ending body", "0\r\n\rX", 400);
    chunk_bad("chunked: chunk larger than HTTP_MAX_BODY", "100001\r\n", 413);
    chunk_bad("chunked: size that fits 64 bits but not the limit", "ffffffffffffffff\r\n", 413);
    chunk_bad("chunked: size that overflows 64 bits is malformed", "10000000000000000\r\n", 400);
    chunk_bad("chunked: long hex overflow", "fffffffffffffffffffffffffffff\r\n", 400);
    chunk_case("chunked: chunk of exactly HTTP_MAX_BODY announced", "100000\r\n", 8, PARSE_NEED_MORE, 0, 0);

    // chunk of exactly HTTP_MAX_BODY, then the total grows past it
    size_t cap = HTTP_MAX_BODY + 64;
    char *b = malloc(cap);
    strcpy(b, "80000\r\n");
    size_t n = strlen(b);
    memset(b + n, 'x', 0x80000);
    n += 0x80000;
    memcpy(b + n, "\r\n80000\r\n", 9);
    n += 9;
    memset(b + n, 'y', 0x80000);
    n += 0x80000;
    memcpy(b + n, "\r\n0\r\n\r\n", 7);
    n += 7;
    {
        struct http_chunked st;
        size_t u;
        int r = chunk_run(b, n, 0, &u, &st);
        report("chunked: total of exactly HTTP_MAX_BODY",
               r == COMPLETE && u == n && st.total == HTTP_MAX_BODY ? NULL : why("r=%d", r));
        memcpy(b + n - 7, "\r\n1\r\nz\r\n0\r\n\r\n", 13);
        r = chunk_run(b, n + 6, 0, &u, &st);
        report("chunked: total above HTTP_MAX_BODY is 413",
               r == PARSE_ERROR && st.error_status == 413 ? NULL : why("r=%d", r));
        r = chunk_run(b, n + 6, 4093, &u, &st);
        report("chunked: total above HTTP_MAX_BODY is 413 in pieces",
               r == PARSE_ERROR && st.error_status == 413 ? NULL : why("r=%d", r));
    }
    // metadata budgets
    memset(b, '0', HTTP_MAX_CHUNK_LINE);
    strcpy(b + HTTP_MAX_CHUNK_LINE - 2, "\r\n\r\n"); // line of exactly the limit incl. CRLF
    chunk_case("chunked: size line of HTTP_MAX_CHUNK_LINE bytes", b, strlen(b), COMPLETE, strlen(b), 0);
    memset(b, '0', HTTP_MAX_CHUNK_LINE + 1);
    strcpy(b + HTTP_MAX_CHUNK_LINE - 1, "\r\n\r\n");
    chunk_case("chunked: size line over HTTP_MAX_CHUNK_LINE is 400", b, strlen(b), PARSE_ERROR, 0, 400);
    n = 0;
    for (int i = 0; n < HTTP_MAX_CHUNK_EXT + 4000; i++)
        n += (size_t)sprintf(b + n, "1;%0900d\r\nx\r\n", i);
    strcpy(b + n, "0\r\n\r\n");
    chunk_case("chunked: extensions over HTTP_MAX_CHUNK_EXT are 400", b, strlen(b), PARSE_ERROR, 0, 400);
    strcpy(b, "0\r\n");
    while (strlen(b) < HTTP_MAX_TRAILER_BYTES + 100)
        strcat(b, "X-Trailer: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n");
    strcat(b, "\r\n");
    chunk_case("chunked: trailers over HTTP_MAX_TRAILER_BYTES are 413", b, strlen(b), PARSE_ERROR, 0, 413);

    // after the end: sticky
    {
        struct http_chunked st;
        http_chunked_init(&st);
        int r1 = http_chunked_feed(&st, "0\r\n\r\nGET", 8);
        int r2 = http_chunked_feed(&st, "1\r\n", 3);
        report("chunked: done is sticky and consumes nothing",
               r1 == 5 && r2 == 0 ? NULL : why("%d, %d", r1, r2));
        http_chunked_init(&st);
        r1 = http_chunked_feed(&st, "z", 1);
        r2 = http_chunked_feed(&st, "0\r\n\r\n", 5);
        report("chunked: error is sticky", r1 == PARSE_ERROR && r2 == PARSE_ERROR ? NULL : "wrong");
        http_chunked_init(&st);
        r1 = http_chunked_feed(&st, "", 0);
        report("chunked: empty feed needs more", r1 == PARSE_NEED_MORE ? NULL : "wrong");
    }

    // Random round trips: encode random data with random chunking, extensions and trailers,
    // then decode at once, byte by byte and in random pieces.
    const char *w = NULL;
    int iters = 3000;
    for (int it = 0; it < iters && w == NULL; it++) {
        size_t data = rnd(3000), off = 0;
        n = 0;
        while (off < data) {
            size_t c = 1 + rnd((unsigned)(data - off < 700 ? data - off : 700));
            n += (size_t)sprintf(b + n, rnd(2) ? "%zx" : "%zX", c);
            if (rnd(4) == 0)
                n += (size_t)sprintf(b + n, " ;ext=%u;q=\"x\\\"y\"", rnd(100));
            n += (size_t)sprintf(b + n, rnd(8) ? "\r\n" : "\n");
            for (size_t i = 0; i < c; i++)
                b[n++] = (char)rnd(256);
            n += (size_t)sprintf(b + n, rnd(8) ? "\r\n" : "\n");
            off += c;
        }
        n += (size_t)sprintf(b + n, "0\r\n");
        for (unsigned t = rnd(3); t > 0; t--)
            n += (size_t)sprintf(b + n, "X-T%u: %u\r\n", t, rnd(1000));
        n += (size_t)sprintf(b + n, "\r\n");
        size_t body = n;
        n += (size_t)sprintf(b + n, "GET / HTTP/1.1\r\n");
        size_t seg = rnd(3) == 0 ? 1 : rnd(200);
        struct http_chunked st;
        size_t u;
        int r = chunk_run(b, n, seg, &u, &st);
        if (r != COMPLETE || u != body || st.total != data)
            w = why("iteration %d seg %zu: r=%d used %zu/%zu total %llu/%zu", it, seg, r, u, body,
                    (unsigned long long)st.total, data);
    }
    report("chunked: random round trips in random pieces", w);

    // Random damage: whatever the input, every segmentation gives the same answer.
    w = NULL;
    for (int it = 0; it < 6000 && w == NULL; it++) {
        n = (size_t)sprintf(b, "%x;e=1\r\n", 3 + rnd(20));
        for (unsigned i = rnd(25); i > 0; i--)
            b[n++] = "abc\r\n;:0 9fF\t\"x"[rnd(16)];
        n += (size_t)sprintf(b + n, "\r\n0\r\nT: v\r\n\r\n");
        for (unsigned k = rnd(4); k > 0; k--)
            b[rnd((unsigned)n)] = (char)("\r\n0;: \x01"[rnd(7)]);
        struct http_chunked s1, s2;
        size_t u1, u2;
        int r1 = chunk_run(b, n, 0, &u1, &s1);
        int r2 = chunk_run(b, n, 1 + rnd(5), &u2, &s2);
        if (r1 != r2 || (r1 == COMPLETE && u1 != u2) ||
            (r1 == PARSE_ERROR && s1.error_status != s2.error_status))
            w = why("iteration %d: %d/%zu vs %d/%zu", it, r1, u1, r2, u2);
    }
    report("chunked: damaged bodies decode the same in any pieces", w);
    free(b);
}

int main(void)
{
    guard_init();
    test_valid();
    test_keep_alive();
    test_errors();
    test_bad_byte_positions();
    test_limits();
    test_pipelining();
    test_splits();
    test_reparse_rule();
    test_helpers();
    test_differential();
    test_chunked();
    printf("%d passed, %d failed\n", n_ok, n_fail);
    return n_fail ? 1 : 0;
}
