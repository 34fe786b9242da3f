// test_net.c: stage-5 unit tests: address parsing, listening, acceptor overload and partial sends.
#include "config.h"
#include "exec/exec.h"
#include "net/net.h"
#include "sys/clock.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"

static void parses_ipv4(void)
{
    uint32_t a = 0;
    CHECK(net_parse_ipv4("127.0.0.1", &a) == 0 && a == 0x0100007f);
    CHECK(net_parse_ipv4("0.0.0.0", &a) == 0 && a == 0);
    CHECK(net_parse_ipv4("255.255.255.255", &a) == 0 && a == 0xffffffff);
    CHECK(net_parse_ipv4("256.0.0.1", &a) == -1);
    CHECK(net_parse_ipv4("1.2.3", &a) == -1);
    CHECK(net_parse_ipv4("1.2.3.4.5", &a) == -1);
    CHECK(net_parse_ipv4("01.2.3.4", &a) == -1);
    CHECK(net_parse_ipv4("a.b.c.d", &a) == -1);
    CHECK(net_parse_ipv4("", &a) == -1);
    uint16_t p = 0;
    CHECK(net_parse_port("8080", &p) == 0 && p == 8080);
    CHECK(net_parse_port("0", &p) == -1);
    CHECK(net_parse_port("65536", &p) == -1);
    CHECK(net_parse_port("80x", &p) == -1);
}

static void port_in_use_is_reported(void)
{
    uint32_t lo;
    net_parse_ipv4("127.0.0.1", &lo);
    int a = net_listen(lo, 0, 16);
    CHECK(a >= 0);
    int port = net_local_port(a);
    CHECK(port > 0);
    int b = net_listen(lo, (uint16_t)port, 16);
    CHECK_EQ(b, -EADDRINUSE);
    sys_close(a);
}

static void accepted_sockets_inherit_nodelay(void)
{
    uint32_t lo;
    net_parse_ipv4("127.0.0.1", &lo);
    int l = net_listen(lo, 0, 16);
    int port = net_local_port(l);
    int c = sys_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = (uint16_t)((port & 0xff) << 8 | port >> 8), .sin_addr = lo};
    CHECK_EQ(sys_connect(c, &sa, sizeof sa), 0);
    int s = sys_accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    CHECK(s >= 0);
    int v = 0;
    unsigned len = sizeof v;
    CHECK_EQ(sys_getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    CHECK(v != 0); // the claim net_listen's comment makes
    sys_close(s), sys_close(c), sys_close(l);
}

// A send that does not fit the socket buffer must finish across many polls,
// with every byte arriving in order.
struct big_send {
    int resume;
    struct net_stream sock;
    struct net_send send;
    ssize_t result;
    int pendings;
};
static poll_t big_send_poll(void *state, struct sched_cx *cx)
{
    struct big_send *b = state;
    poll_t r = net_send(&b->sock, &b->send, &b->result, cx);
    b->pendings += r == PENDING;
    return r;
}

static void partial_sends_resume(void)
{
    uint32_t lo;
    net_parse_ipv4("127.0.0.1", &lo);
    int l = net_listen(lo, 0, 16);
    int port = net_local_port(l);
    int c = sys_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    sys_setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = (uint16_t)((port & 0xff) << 8 | port >> 8), .sin_addr = lo};
    CHECK_EQ(sys_connect(c, &sa, sizeof sa), 0);
    int s = sys_accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    sys_setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    static uint8_t data[4 << 20];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31 + (i >> 12));
    struct big_send b = {.sock = {.io = {.fd = s}}};
    net_send_init(&b.send, data, sizeof data / 2);
    net_send_add(&b.send, data + sizeof data / 2, sizeof data / 2); // two iovecs
    struct ex_config cfg = {.workers = 1, .backend = EX_BACKEND_EPOLL};
    CHECK_EQ(ex_init(&cfg), 0);
    CHECK_EQ(ex_start(), 0);
    CHECK_EQ(sched_spawn(big_send_poll, &b, NULL, NULL), 0);
    // Read slowly on this thread, checking every byte.
    static uint8_t got[4 << 20];
    size_t have = 0;
    uint64_t deadline = sys_now_ns() + 20 * NS_PER_SEC;
    while (have < sizeof got && sys_now_ns() < deadline) {
        ssize_t n = sys_read(c, got + have, have % 3 ? 1000 : 50000);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    CHECK_EQ(have, sizeof data);
    CHECK(sys_memcmp(got, data, sizeof data) == 0);
    while (sched_live() && sys_now_ns() < deadline)
        sys_sleep_ns(NS_PER_MS);
    ex_shutdown();
    CHECK_EQ(ex_join(), 0);
    CHECK_EQ(b.result, (ssize_t)sizeof data);
    CHECK(b.pendings > 0); // it really had to wait
    sys_close(s), sys_close(c), sys_close(l);
}

int main(void)
{
    RUN(parses_ipv4);
    RUN(port_in_use_is_reported);
    RUN(accepted_sockets_inherit_nodelay);
    RUN(partial_sends_resume);
    return test_summary();
}
