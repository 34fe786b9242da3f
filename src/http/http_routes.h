// http_routes.h: the route table: {method set, path, handler}, and what a request gets before its handler.
#ifndef HTTP_ROUTES_H
#define HTTP_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include "http/http_parse.h"
#include "http/http_response.h"

// Method sets: one bit per method a route answers (RFC 9110 9.3, and PATCH).
#define HTTP_M_GET     (1u << 0)
#define HTTP_M_HEAD    (1u << 1)
#define HTTP_M_POST    (1u << 2)
#define HTTP_M_PUT     (1u << 3)
#define HTTP_M_DELETE  (1u << 4)
#define HTTP_M_CONNECT (1u << 5)
#define HTTP_M_OPTIONS (1u << 6)
#define HTTP_M_TRACE   (1u << 7)
#define HTTP_M_PATCH   (1u << 8)

// The bit of a method token; 0 for any other method (no route answers it).
unsigned http_method_bit(const char *m, size_t n);

struct http_route {
    const char *path; // NULL: the upgrade route, at the upgrade hook's path
    size_t path_len;
    unsigned methods; // the methods its handler answers; OPTIONS is answered for every route
    // Completes r, whose framing (keep_alive, http10, head_only) is set:
    // the status, the body, and what becomes of the connection.
    void (*handler)(const struct http_request *req, struct http_reply *r);
};

// The reply to one parsed request: routing, the checks before any handler
// (below), and the handler. fd is only for the log.
struct http_reply http_route(const struct http_request *req, int fd);

// The route for a path, or NULL (404). The upgrade route's path is the
// installed hook's, or HTTP_UPGRADE_PATH when no hook is installed.
const struct http_route *http_route_find(const char *path, size_t n);

// What a request for `method` on `route` (NULL: none) gets before any
// handler runs: 501 (CONNECT, on any route or none), 404 (no route), 405
// (route, not its method), 200 (OPTIONS, answered from the method set), or
// 0: run the route's handler.
int http_route_check(const struct http_route *route, unsigned method);

// Writes the Allow field for a method set ("\r\nAllow: GET, HEAD, OPTIONS";
// OPTIONS is always allowed) into out[0..HTTP_ALLOW_MAX) and NUL-terminates it.
#define HTTP_ALLOW_MAX 80
size_t http_allow_field(unsigned methods, char out[HTTP_ALLOW_MAX]);
// The union of every route's methods: the server's, for "OPTIONS *".
unsigned http_routes_all_methods(void);

#endif
