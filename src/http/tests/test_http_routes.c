// test_http_routes.c: the route table: lookups, method sets, 404 vs 405, OPTIONS and its Allow field.
#include "config.h"
#include "http/http_routes.h"
#include "http/http_server.h"
#include "sys/string.h"
#include "sys/testing.h"

static const struct http_route *find(const char *path) { return http_route_find(path, sys_strlen(path)); }

static unsigned bit(const char *m) { return http_method_bit(m, sys_strlen(m)); }

static void methods_are_case_sensitive_tokens(void)
{
    CHECK_EQ(bit("GET"), HTTP_M_GET);
    CHECK_EQ(bit("OPTIONS"), HTTP_M_OPTIONS);
    CHECK_EQ(bit("PATCH"), HTTP_M_PATCH);
    CHECK_EQ(bit("get"), 0u);
    CHECK_EQ(bit("GETX"), 0u);
    CHECK_EQ(bit("BREW"), 0u);
}

static void paths_match_exactly(void)
{
    CHECK(find("/plaintext") != NULL);
    CHECK(find("/") != NULL);
    CHECK(find("/metrics") != NULL);
    CHECK(find("/plaintext") != find("/"));
    CHECK(find("/plaintex") == NULL);
    CHECK(find("/plaintext/") == NULL);
    CHECK(find("") == NULL);
    CHECK(find("/Metrics") == NULL);
}

static void not_found_is_404_whatever_the_method(void)
{
    CHECK_EQ(http_route_check(find("/nope"), HTTP_M_GET), 404);
    CHECK_EQ(http_route_check(find("/nope"), HTTP_M_OPTIONS), 404);
    CHECK_EQ(http_route_check(find("/nope"), 0), 404);
}

static void method_outside_the_set_is_405(void)
{
    const struct http_route *r = find("/plaintext");
    CHECK_EQ(http_route_check(r, HTTP_M_GET), 0);
    CHECK_EQ(http_route_check(r, HTTP_M_HEAD), 0);
    CHECK_EQ(http_route_check(r, HTTP_M_POST), 405);
    CHECK_EQ(http_route_check(r, HTTP_M_DELETE), 405);
    CHECK_EQ(http_route_check(r, 0), 405); // an unknown method on a known path
    CHECK_EQ(http_route_check(r, HTTP_M_OPTIONS), 200);
}

static void connect_is_501_on_any_target(void)
{
    CHECK_EQ(http_route_check(find("/plaintext"), HTTP_M_CONNECT), 501);
    CHECK_EQ(http_route_check(find("example.com:443"), HTTP_M_CONNECT), 501); // no route: still 501
    CHECK_EQ(http_route_check(find("/nope"), HTTP_M_GET), 404);
}

static void allow_is_built_from_the_method_set(void)
{
    char allow[HTTP_ALLOW_MAX];
    size_t n = http_allow_field(find("/plaintext")->methods, allow);
    CHECK(sys_streq(allow, "\r\nAllow: GET, HEAD, OPTIONS"));
    CHECK_EQ(n, sys_strlen(allow));
    http_allow_field(HTTP_M_POST | HTTP_M_GET, allow);
    CHECK(sys_streq(allow, "\r\nAllow: GET, POST, OPTIONS"));
    http_allow_field(0, allow); // OPTIONS is always answered
    CHECK(sys_streq(allow, "\r\nAllow: OPTIONS"));
    http_allow_field(~0u, allow); // the longest fits
    CHECK(sys_streq(allow, "\r\nAllow: GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH"));
    CHECK_EQ(http_routes_all_methods(), HTTP_M_GET | HTTP_M_HEAD);
}

static int hs(const struct http_request *req, char *out, size_t cap, size_t *len)
{
    (void)req, (void)out, (void)cap;
    *len = 0;
    return 400;
}

static void upgrades_follow_the_hooks_path(void)
{
    // No hook: the default path is routed (and answered 426 by its handler).
    CHECK(find(HTTP_UPGRADE_PATH) != NULL);
    CHECK(find("/chat") == NULL);
    static const struct http_upgrade_hook hook = {.path = "/chat", .handshake = hs};
    http_set_upgrade_hook(&hook);
    CHECK(find("/chat") != NULL);
    CHECK(find(HTTP_UPGRADE_PATH) == NULL);
    CHECK_EQ(http_route_check(find("/chat"), HTTP_M_POST), 405);
    http_set_upgrade_hook(NULL);
    CHECK(find("/chat") == NULL);
}

int main(void)
{
    RUN(methods_are_case_sensitive_tokens);
    RUN(paths_match_exactly);
    RUN(not_found_is_404_whatever_the_method);
    RUN(method_outside_the_set_is_405);
    RUN(connect_is_501_on_any_target);
    RUN(allow_is_built_from_the_method_set);
    RUN(upgrades_follow_the_hooks_path);
    return test_summary();
}
