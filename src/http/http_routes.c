// http_routes.c: the route table and its handlers; OPTIONS, 404, 405, and 501 for CONNECT.
#include "http/http_routes.h"
#include "http/http_log.h"
#include "http/http_metrics.h"
#include "http/http_server.h"
#include "mem/mem.h"
#include "sys/atomic.h"
#include "sys/string.h"

static const struct http_upgrade_hook *upgrade_hook;

void http_set_upgrade_hook(const struct http_upgrade_hook *hook) { atomic_store_seq(&upgrade_hook, hook); }

// ---- methods ---------------------------------------------------------------------------------

#define METHOD(name, bit)          \
    {                              \
        name, sizeof name - 1, bit \
    }
static const struct {
    const char *name;
    size_t len;
    unsigned bit;
} methods[] = {
    METHOD("GET", HTTP_M_GET),         METHOD("HEAD", HTTP_M_HEAD),     METHOD("POST", HTTP_M_POST),
    METHOD("PUT", HTTP_M_PUT),         METHOD("DELETE", HTTP_M_DELETE), METHOD("CONNECT", HTTP_M_CONNECT),
    METHOD("OPTIONS", HTTP_M_OPTIONS), METHOD("TRACE", HTTP_M_TRACE),   METHOD("PATCH", HTTP_M_PATCH),
};
#define NMETHODS (sizeof methods / sizeof methods[0])
_Static_assert(sizeof "\r\nAllow: GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH" <=
                   HTTP_ALLOW_MAX,
               "every method fits the Allow field");
_Static_assert(HTTP_ALLOW_MAX - 1 <= HTTP_EXTRA_MAX, "an Allow field fits a response head's extra fields");

unsigned http_method_bit(const char *m, size_t n)
{
    for (size_t i = 0; i < NMETHODS; i++) // GET first: the common case costs one compare
        if (n == methods[i].len && sys_memcmp(m, methods[i].name, n) == 0)
            return methods[i].bit;
    return 0; // method names are case-sensitive (RFC 9110 9.1): "get" is no GET
}

size_t http_allow_field(unsigned set, char out[HTTP_ALLOW_MAX])
{
    set |= HTTP_M_OPTIONS;
    size_t n = 0;
    const char *sep = "\r\nAllow: ";
    for (size_t i = 0; i < NMETHODS; i++) {
        if (!(set & methods[i].bit))
            continue;
        size_t k = sys_strlen(sep);
        sys_memcpy(out + n, sep, k);
        n += k;
        sys_memcpy(out + n, methods[i].name, methods[i].len);
        n += methods[i].len;
        sep = ", ";
    }
    out[n] = '\0';
    return n;
}

// ---- handlers ----------------------------------------------------------------------------------

static const char plaintext_body[] = "Hello, World!";
static const char body_404[] = "404 Not Found\n";
static const char body_405[] = "405 Method Not Allowed\n";
static const char body_426[] = "426 Upgrade Required: this build has no WebSocket stage\n";
// RFC 9110 15.5.22: a 426 says which protocol to upgrade to.
static const char upgrade_fields[] = "\r\nUpgrade: websocket\r\nConnection: Upgrade";
_Static_assert(sizeof upgrade_fields - 1 <= HTTP_EXTRA_MAX, "the 426's fields fit a response head");

// Sets r's content (its framing is the request's).
static void content(struct http_reply *r, int status, const char *ctype, const void *body, size_t len)
{
    r->status = status;
    r->ctype = ctype;
    r->body = body;
    r->body_len = len;
}

static void plaintext(const struct http_request *req, struct http_reply *r)
{
    (void)req;
    content(r, 200, HTTP_CTYPE_PLAIN, plaintext_body, sizeof plaintext_body - 1);
}

static void page(const struct http_request *req, struct http_reply *r)
{
    (void)req;
    content(r, 200, HTTP_CTYPE_HTML, http_page, http_page_len);
}

static void metrics(const struct http_request *req, struct http_reply *r)
{
    (void)req;
    char *text = mem_alloc(HTTP_METRICS_BUF);
    if (!text) {
        *r = http_reply_error(503);
        return;
    }
    content(r, 200, HTTP_CTYPE_METRICS, text, http_metrics_render(text, HTTP_METRICS_BUF));
    r->body_owned = true; // the writer frees it, once copied or sent
}

// [snippet: http-upgrade-route]
// The upgrade hook's path leads here. Without a hook (a build without the
// WebSocket stage) the path answers 426; with one, the reply says so, and
// the connection lets the hook check the handshake and write the answer.
static void upgrade(const struct http_request *req, struct http_reply *r)
{
    const struct http_upgrade_hook *hook = atomic_load_acquire(&upgrade_hook);
    if (!hook) {
        content(r, 426, HTTP_CTYPE_TEXT, body_426, sizeof body_426 - 1);
        r->extra = upgrade_fields;
        r->keep_alive = false;
    } else if (req->chunked || req->content_length > 0) { // bytes after the head would be taken for frames
        *r = http_reply_error(400);
    } else {
        r->upgrade = hook;
    }
}
// [end: http-upgrade-route]

// [snippet: http-route-table]
// Every route, most frequent first: a lookup compares lengths, then bytes.
#define ROUTE(path, methods, handler)           \
    {                                           \
        path, sizeof path - 1, methods, handler \
    }
static const struct http_route routes[] = {
    ROUTE("/plaintext", HTTP_M_GET | HTTP_M_HEAD, plaintext),
    ROUTE("/", HTTP_M_GET | HTTP_M_HEAD, page),
    ROUTE("/metrics", HTTP_M_GET | HTTP_M_HEAD, metrics),
    {NULL, 0, HTTP_M_GET | HTTP_M_HEAD, upgrade}, // the hook checks the handshake (GET, HTTP/1.1)
};
// [end: http-route-table]
#define NROUTES (sizeof routes / sizeof routes[0])

const struct http_route *http_route_find(const char *path, size_t n)
{
    for (size_t i = 0; i < NROUTES; i++) {
        const char *want = routes[i].path;
        size_t len = routes[i].path_len;
        if (!want) {
            const struct http_upgrade_hook *hook = atomic_load_acquire(&upgrade_hook);
            want = hook ? hook->path : HTTP_UPGRADE_PATH;
            len = sys_strlen(want);
        }
        if (n == len && sys_memcmp(path, want, n) == 0)
            return &routes[i];
    }
    return NULL;
}

unsigned http_routes_all_methods(void)
{
    unsigned all = 0;
    for (size_t i = 0; i < NROUTES; i++)
        all |= routes[i].methods;
    return all;
}

// [snippet: http-route-check]
int http_route_check(const struct http_route *route, unsigned method)
{
    // CONNECT asks the recipient to become a tunnel (RFC 9110 9.3.6), which
    // is a proxy's work: this origin server implements it for no resource,
    // and a method it does not implement gets 501 (9.1, 15.6.2), whatever
    // the target. Not 404 for its authority-form target ("host:443" is no
    // path), nor 405, which says the method works on some other resource.
    if (method == HTTP_M_CONNECT)
        return 501;
    if (!route)
        return 404;
    if (method == HTTP_M_OPTIONS) // RFC 9110 9.3.7: what this resource answers, in Allow
        return 200;
    if (!(route->methods & method))
        return 405; // RFC 9110 15.5.6: with Allow
    return 0;
}
// [end: http-route-check]

// ---- dispatch ---------------------------------------------------------------------------------

// The path of a request-target: origin-form "/p?q", or absolute-form
// "http://host/p?q" which RFC 9112 section 3.2.2 says a server MUST accept.
static void target_path(const struct http_request *req, const char **path, size_t *len)
{
    const char *t = req->target;
    size_t n = req->target_len;
    if (n > 7 && (sys_memeq_nocase(t, "http://", 7) || (n > 8 && sys_memeq_nocase(t, "https://", 8)))) {
        size_t i = t[4] == ':' ? 7 : 8;
        while (i < n && t[i] != '/' && t[i] != '?')
            i++;
        t += i, n -= i;
        if (n == 0 || t[0] == '?') { // "http://host" means "/"
            *path = "/";
            *len = 1;
            return;
        }
    }
    size_t p = 0;
    while (p < n && t[p] != '?' && t[p] != '#')
        p++;
    *path = t;
    *len = p;
}

// [snippet: http-route]
struct http_reply http_route(const struct http_request *req, int fd)
{
    unsigned method = http_method_bit(req->method, req->method_len);
    struct http_reply r = {
        .keep_alive = req->keep_alive && !ex_stopping(),
        .http10 = req->minor_version == 0,
        .head_only = method == HTTP_M_HEAD,
    };
    // The body comes after the head; framing must survive it. We answer
    // first, and the connection skips the body before parsing the next
    // request. A client waiting for "100 Continue" gets the final answer
    // instead, and the connection closes so that its body never has to be read.
    if ((req->chunked || req->content_length > 0) && req->expect_continue)
        r.keep_alive = false;
    // "OPTIONS *" asks about the server as a whole (RFC 9110 9.3.7); the
    // parser lets "*" through with OPTIONS (and CONNECT, whose target it
    // leaves to routing). OPTIONS answers 200 with Content-Length: 0, which
    // 9.3.7 requires and a 204 may not carry (8.6).
    if (method == HTTP_M_OPTIONS && req->target_len == 1 && req->target[0] == '*') {
        content(&r, 200, HTTP_CTYPE_TEXT, "", 0);
        r.allow = http_routes_all_methods();
        r.head_only = false;
        return r;
    }
    const char *path;
    size_t plen;
    target_path(req, &path, &plen);
    http_log("[HTTP] fd=%d route=%.*s", fd, (int)plen, path);
    const struct http_route *route = http_route_find(path, plen);
    switch (http_route_check(route, method)) {
    case 0:
        route->handler(req, &r);
        break;
    case 404:
        content(&r, 404, HTTP_CTYPE_TEXT, body_404, sizeof body_404 - 1);
        break;
    case 405:
        content(&r, 405, HTTP_CTYPE_TEXT, body_405, sizeof body_405 - 1);
        r.allow = route->methods;
        r.head_only = false;
        break;
    case 501:
        // And close: the bytes after a CONNECT head belong to the tunnel the
        // client asked for (it may send them before our answer), not to a
        // next request, so they cannot be parsed as one.
        r = http_reply_error(501);
        http_log("[HTTP] fd=%d error=501", fd);
        break;
    default: // 200: OPTIONS
        content(&r, 200, HTTP_CTYPE_TEXT, "", 0);
        r.allow = route->methods;
        r.head_only = false;
        break;
    }
    return r;
}
// [end: http-route]
