// test_net.c: stage-5 unit tests: addresses, listening, partial sends, the io_uring completion path.
#include "config.h"
#include "exec/completion.h"
#include "exec/exec.h"
#include "exec/tests/exec_testing.h"
#include "net/net.h"
#include "net/stream_uring.h"
#include "sys/atomic.h"
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

// A connected loopback TCP pair: *server non-blocking (as accepted), *client
// blocking; a positive small shrinks the server's send buffer and the
// client's receive buffer, so that a send must wait for the client to read.
static void tcp_pair(int *client, int *server, int small)
{
    uint32_t lo;
    net_parse_ipv4("127.0.0.1", &lo);
    int l = net_listen(lo, 0, 16);
    int port = net_local_port(l);
    int c = sys_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (small > 0)
        sys_setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = (uint16_t)((port & 0xff) << 8 | port >> 8), .sin_addr = lo};
    CHECK_EQ(sys_connect(c, &sa, sizeof sa), 0);
    int s = sys_accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    CHECK(s >= 0);
    if (small > 0)
        sys_setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    sys_close(l);
    *client = c;
    *server = s;
}

static void accepted_sockets_inherit_nodelay(void)
{
    int c, s;
    tcp_pair(&c, &s, 0);
    int v = 0;
    unsigned len = sizeof v;
    CHECK_EQ(sys_getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    CHECK(v != 0); // the claim net_listen's comment makes
    sys_close(s), sys_close(c);
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
    int c, s;
    tcp_pair(&c, &s, 4096);
    static uint8_t data[4 << 20];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31 + (i >> 12));
    struct big_send b = {.sock = {.io = {.fd = s}}};
    net_send_init(&b.send, data, sizeof data / 2);
    net_send_add(&b.send, data + sizeof data / 2, sizeof data / 2); // two iovecs
    struct ex_config cfg = {.workers = 1, .backend = backend};
    CHECK_EQ(ex_init(&cfg), 0);
    net_init();
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
    if (backend == EX_BACKEND_IO_URING) {
        struct ex_op_stats st;
        ex_op_stats(&st);
        CHECK_EQ(st.in_flight, 0);
        CHECK(st.submitted > 1); // partial sends: the rest went in further SENDMSGs
        sys_printf("# io_uring: 4 MiB through a 4 KiB socket buffer in %lu sends\n",
                   (unsigned long)st.submitted);
    }
    sys_close(s), sys_close(c);
}

// A short read proves the socket empty, and the next read may wait for its
// edge without a syscall: but only if nothing else waited on the socket in
// between. Here a read comes back short, then a send fills the socket and
// waits for room; bytes arrive during that wait, and their edge wakes the
// send, which finds no room and waits again. Once the send is done, the next
// read must return those bytes, with no further byte or edge to wake it.
struct send_then_read {
    int resume;
    struct net_stream sock;
    struct net_send send;
    uint8_t buf[4096];
    ssize_t first, sent, second;
    int in_send, sent_all, done;
};
static poll_t send_then_read_poll(void *state, struct sched_cx *cx)
{
    struct send_then_read *t = state;
    ASYNC_BEGIN(t);
    AWAIT(t, net_recv(&t->sock, t->buf, sizeof t->buf, &t->first, cx));
    atomic_store_seq(&t->in_send, 1);
    AWAIT(t, net_send(&t->sock, &t->send, &t->sent, cx));
    atomic_store_seq(&t->sent_all, 1);
    AWAIT(t, net_recv(&t->sock, t->buf, sizeof t->buf, &t->second, cx));
    atomic_store_seq(&t->done, 1);
    ASYNC_END(t);
}

static void read_after_send_wait_sees_bytes_that_came_meanwhile(void)
{
    // TCP, not a socketpair: a Unix socket signals room at every read of
    // its peer, and that late edge would hide the lost one.
    int p[2];
    tcp_pair(&p[1], &p[0], 4096);
    static uint8_t data[1 << 20];
    static uint8_t sink[1 << 16];
    static struct send_then_read t;
    t = (struct send_then_read){0};
    net_stream_init(&t.sock, p[0]);
    net_send_init(&t.send, data, sizeof data);
    CHECK_EQ(sys_write(p[1], "first", 5), 5); // a short read: 5 of 4096
    struct ex_config cfg = {.workers = 1, .backend = backend};
    CHECK_EQ(ex_init(&cfg), 0);
    net_init();
    CHECK_EQ(ex_start(), 0);
    CHECK_EQ(sched_spawn(send_then_read_poll, &t, NULL, NULL), 0);
    uint64_t deadline = sys_now_ns() + 2 * NS_PER_SEC;
    while (sys_now_ns() < deadline && !atomic_load_seq(&t.in_send))
        sys_sleep_ns(NS_PER_MS);
    sys_sleep_ns(50 * NS_PER_MS);              // the send has filled the socket and waits for room
    CHECK_EQ(sys_write(p[1], "second", 6), 6); // its edge wakes the waiting send
    sys_sleep_ns(50 * NS_PER_MS);              // which finds no room and waits again
    // Read until the last byte is in the socket, then no more: reading
    // on would free room, and that edge would wake the read.
    size_t got = 0;
    while (!atomic_load_seq(&t.sent_all) && sys_now_ns() < deadline) {
        ssize_t n = sys_recv(p[1], sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else
            sys_sleep_ns(NS_PER_MS / 10);
    }
    CHECK(atomic_load_seq(&t.sent_all));
    while (sys_now_ns() < deadline + NS_PER_SEC && !atomic_load_seq(&t.done))
        sys_sleep_ns(NS_PER_MS);
    if (!atomic_load_seq(&t.done))
        sys_printf("# the read after the send still waits for the 6 bytes that came during it\n");
    CHECK(atomic_load_seq(&t.done));
    for (ssize_t n; got < sizeof data && (n = sys_recv(p[1], sink, sizeof sink, 0)) > 0;)
        got += (size_t)n;
    CHECK_EQ(got, sizeof data);
    sys_shutdown(p[1], SHUT_WR); // a task still waiting (the bug) wakes on the end of stream
    ex_shutdown();
    CHECK_EQ(ex_join(), 0);
    CHECK_EQ(t.first, 5);
    CHECK_EQ(t.sent, (ssize_t)sizeof data);
    CHECK_EQ(t.second, 6);
    sys_close(p[1]);
}

// ---- the completion path (io_uring) ---------------------------------------------------------

struct reader {
    int resume;
    struct net_stream *sock;
    uint8_t buf[4096];
    size_t cap, cap_later; // cap_later (if set): the cap from the second poll on
    ssize_t result;
    int close_after, done;
};
static poll_t reader_poll(void *state, struct sched_cx *cx)
{
    struct reader *r = state;
    if (net_recv(r->sock, r->buf, r->cap, &r->result, cx) == PENDING) {
        if (r->cap_later)
            r->cap = r->cap_later;
        return PENDING;
    }
    if (r->close_after)
        net_close(r->sock);
    atomic_store_seq(&r->done, 1);
    return READY;
}

static bool run_reader(struct reader *r, uint64_t limit_ns)
{
    atomic_store_seq(&r->done, 0);
    CHECK_EQ(sched_spawn(reader_poll, r, NULL, NULL), 0);
    uint64_t deadline = sys_now_ns() + limit_ns;
    while (!atomic_load_seq(&r->done) && sys_now_ns() < deadline)
        sys_sleep_ns(NS_PER_MS);
    return atomic_load_seq(&r->done);
}

// One provided buffer: stream a's recv takes it and, asked for 1 byte by
// the time it completed (the recv was submitted for 4096), keeps the other
// 99 in it. Stream b's recv then finds the ring empty
// (-ENOBUFS); its bytes must still arrive (read straight from the socket),
// and a's 99 must come next, none dropped.
static void buffer_ring_exhaustion_drops_nothing(void)
{
    if (!ex_uring_available()) {
        SKIP("io_uring unavailable: %s", ex_uring_why());
        return;
    }
    int a[2], b[2];
    CHECK_EQ(sys_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, a), 0);
    CHECK_EQ(sys_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, b), 0);
    struct net_stream sa, sb;
    net_stream_init(&sa, a[0]);
    net_stream_init(&sb, b[0]);
    ex_op_set_test_bufs(1);
    struct ex_config cfg = {.workers = 1, .backend = EX_BACKEND_IO_URING};
    CHECK_EQ(ex_init(&cfg), 0);
    net_init();
    ex_op_set_test_bufs(0);
    CHECK_EQ(ex_start(), 0);
    uint8_t msg_a[100], msg_b[50];
    for (int i = 0; i < 100; i++)
        msg_a[i] = (uint8_t)(i + 1);
    sys_memset(msg_b, 'b', sizeof msg_b);
    static struct reader r;
    r = (struct reader){.sock = &sa, .cap = sizeof r.buf, .cap_later = 1};
    atomic_store_seq(&r.done, 0);
    CHECK_EQ(sched_spawn(reader_poll, &r, NULL, NULL), 0);
    sys_sleep_ns(50 * NS_PER_MS); // the recv is in flight, for up to 4096 bytes
    CHECK_EQ(sys_write(a[1], msg_a, sizeof msg_a), 100);
    uint64_t deadline = sys_now_ns() + 2 * NS_PER_SEC;
    while (!atomic_load_seq(&r.done) && sys_now_ns() < deadline)
        sys_sleep_ns(NS_PER_MS);
    CHECK(atomic_load_seq(&r.done));
    CHECK_EQ(r.result, 1);
    CHECK_EQ(r.buf[0], 1);
    CHECK_EQ(sa.uring->rest_len, 99); // the only buffer, still taken
    r = (struct reader){.sock = &sb, .cap = sizeof r.buf, .close_after = 1};
    CHECK_EQ(sys_write(b[1], msg_b, sizeof msg_b), 50);
    CHECK(run_reader(&r, 2 * NS_PER_SEC));
    CHECK_EQ(r.result, 50);
    CHECK(sys_memcmp(r.buf, msg_b, 50) == 0);
    struct ex_op_stats st;
    ex_op_stats(&st);
    CHECK(st.enobufs >= 1);
    r = (struct reader){.sock = &sa, .cap = sizeof r.buf, .close_after = 1};
    CHECK(run_reader(&r, 2 * NS_PER_SEC));
    CHECK_EQ(r.result, 99);
    CHECK(sys_memcmp(r.buf, msg_a + 1, 99) == 0);
    ex_shutdown();
    CHECK_EQ(ex_join(), 0);
    ex_op_stats(&st);
    CHECK_EQ(st.in_flight, 0);
    CHECK_EQ(st.bufs_out, 0);
    sys_printf("# io_uring: 1 provided buffer, %lu -ENOBUFS, 150 bytes delivered in order\n",
               (unsigned long)st.enobufs);
    sys_close(a[1]), sys_close(b[1]);
}

// A send waits in the kernel (the peer does not read); the task then
// closes the stream. net_close must cancel the send and return only after
// its completion: then nothing of the stream's or the data's is the kernel's.
struct closer {
    int resume;
    struct net_stream sock;
    struct net_send send;
    ssize_t result;
    int pendings, close_now, closed;
    struct ex_op_stats after;
    struct waker self;
};
static poll_t closer_poll(void *state, struct sched_cx *cx)
{
    struct closer *c = state;
    if (atomic_load_seq(&c->close_now)) {
        net_close(&c->sock);
        ex_op_stats(&c->after);
        atomic_store_seq(&c->closed, 1);
        return READY;
    }
    poll_t r = net_send(&c->sock, &c->send, &c->result, cx);
    atomic_fetch_add(&c->pendings, r == PENDING);
    return r;
}

static void close_cancels_send_in_flight(void)
{
    if (!ex_uring_available()) {
        SKIP("io_uring unavailable: %s", ex_uring_why());
        return;
    }
    int p[2];
    CHECK_EQ(sys_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p), 0);
    static uint8_t data[1 << 20];
    static struct closer c;
    c = (struct closer){0};
    net_stream_init(&c.sock, p[0]);
    net_send_init(&c.send, data, sizeof data);
    struct ex_config cfg = {.workers = 2, .backend = EX_BACKEND_IO_URING};
    CHECK_EQ(ex_init(&cfg), 0);
    net_init();
    CHECK_EQ(ex_start(), 0);
    CHECK_EQ(sched_spawn(closer_poll, &c, NULL, &c.self), 0);
    uint64_t deadline = sys_now_ns() + 2 * NS_PER_SEC;
    while (sys_now_ns() < deadline && (!atomic_load_acquire(&c.sock.uring) ||
                                       atomic_load_acquire(&c.sock.uring->send.state) != EX_OP_FLIGHT))
        sys_sleep_ns(NS_PER_MS);
    sys_sleep_ns(50 * NS_PER_MS); // the send has filled the socket and waits for room
    CHECK(c.sock.uring && atomic_load_acquire(&c.sock.uring->send.state) == EX_OP_FLIGHT);
    atomic_store_seq(&c.close_now, 1);
    sched_wake(c.self);
    while (sys_now_ns() < deadline + NS_PER_SEC && !atomic_load_seq(&c.closed))
        sys_sleep_ns(NS_PER_MS);
    CHECK(atomic_load_seq(&c.closed));
    CHECK_EQ(c.after.in_flight, 0); // the send's completion came before net_close returned
    ex_shutdown();
    CHECK_EQ(ex_join(), 0);
    struct ex_op_stats st;
    ex_op_stats(&st);
    CHECK_EQ(st.in_flight, 0);
    CHECK_EQ(st.bufs_out, 0);
    sys_close(p[1]);
}

// A ring starts with EX_URING_BUFS_FIRST of its buffers and adds one for
// each recv that finds it empty; once its last stream has closed, their
// pages go back to the kernel, but not while a stream still holds bytes
// in one. Each of EX_URING_BUFS_FIRST + 1 streams gets 2 bytes and reads
// 1: the first EX_URING_BUFS_FIRST keep their buffers (1 byte left in
// each), so the last recv finds the ring empty, reads from the socket,
// and the ring grows by one.
static void provided_buffers_grow_and_go_back(void)
{
    if (!ex_uring_available()) {
        SKIP("io_uring unavailable: %s", ex_uring_why());
        return;
    }
    enum { N = EX_URING_BUFS_FIRST + 1 };
    static struct net_stream socks[N];
    static struct reader rs[N];
    int peer[N];
    for (int i = 0; i < N; i++) {
        int p[2];
        CHECK_EQ(sys_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p), 0);
        net_stream_init(&socks[i], p[0]);
        peer[i] = p[1];
    }
    struct ex_config cfg = {.workers = 1, .backend = EX_BACKEND_IO_URING};
    CHECK_EQ(ex_init(&cfg), 0);
    net_init();
    CHECK_EQ(ex_start(), 0);
    struct ex_op_stats st;
    ex_op_stats(&st);
    CHECK_EQ(st.bufs_added, EX_URING_BUFS_FIRST);
    for (int i = 0; i < N; i++) {
        rs[i] = (struct reader){.sock = &socks[i], .cap = sizeof rs[i].buf, .cap_later = 1};
        CHECK_EQ(sched_spawn(reader_poll, &rs[i], NULL, NULL), 0);
    }
    sys_sleep_ns(50 * NS_PER_MS); // every recv in flight
    for (int i = 0; i < N; i++)
        CHECK_EQ(sys_write(peer[i], "xy", 2), 2);
    uint64_t deadline = sys_now_ns() + 2 * NS_PER_SEC;
    for (int i = 0; i < N; i++) {
        while (!atomic_load_seq(&rs[i].done) && sys_now_ns() < deadline)
            sys_sleep_ns(NS_PER_MS);
        CHECK_EQ(rs[i].result, 1);
    }
    ex_op_stats(&st);
    CHECK_EQ(st.enobufs, 1);
    CHECK_EQ(st.bufs_added, N);
    CHECK_EQ(st.bufs_out, EX_URING_BUFS_FIRST);
    // Every stream reads its last byte and closes, the first one last: till
    // then it holds its buffer, and no close may give the pages back.
    for (int i = N - 1; i >= 0; i--) {
        if (i == 0) {
            ex_op_stats(&st);
            CHECK_EQ(st.bufs_trims, 0);
            CHECK_EQ(st.bufs_out, 1);
        }
        rs[i] = (struct reader){.sock = &socks[i], .cap = sizeof rs[i].buf, .close_after = 1};
        CHECK(run_reader(&rs[i], 2 * NS_PER_SEC));
        CHECK_EQ(rs[i].result, 1);
        CHECK_EQ(rs[i].buf[0], 'y');
    }
    ex_op_stats(&st);
    CHECK_EQ(st.bufs_trims, 1);
    CHECK_EQ(st.bufs_out, 0);
    ex_shutdown();
    CHECK_EQ(ex_join(), 0);
    sys_printf(
        "# io_uring: %u provided buffers at start, %u added by %lu -ENOBUFS, pages given back %lu time(s)\n",
        EX_URING_BUFS_FIRST, st.bufs_added - EX_URING_BUFS_FIRST, (unsigned long)st.enobufs,
        (unsigned long)st.bufs_trims);
    for (int i = 0; i < N; i++)
        sys_close(peer[i]);
}

static void partial_sends_resume_on_io_uring(void)
{
    if (!ex_uring_available()) {
        SKIP("io_uring unavailable: %s", ex_uring_why());
        return;
    }
    backend = EX_BACKEND_IO_URING;
    partial_sends_resume();
    backend = EX_BACKEND_EPOLL;
}

// net_init picks the table once, from the reactor: readiness on epoll and
// ppoll, completion on io_uring; net_recv and net_send then ask nothing.
static void net_init_picks_the_stream_table(void)
{
    static const char *const want[] = {"readiness", "readiness", "completion"}; // by backend
    struct ex_config cfg = {.workers = 1, .backend = backend};
    CHECK_EQ(ex_init(&cfg), 0);
    net_init();
    CHECK(sys_streq(net_stream_kind(), want[backend]));
    CHECK_EQ(ex_start(), 0);
    ex_shutdown();
    CHECK_EQ(ex_join(), 0);
}

int main(void)
{
    RUN(parses_ipv4);
    RUN(port_in_use_is_reported);
    RUN(accepted_sockets_inherit_nodelay);
    run_on_each_backend("net_init_picks_the_stream_table", net_init_picks_the_stream_table);
    RUN(partial_sends_resume);
    run_on_each_backend("read_after_send_wait_sees_bytes_that_came_meanwhile",
                        read_after_send_wait_sees_bytes_that_came_meanwhile);
    RUN(partial_sends_resume_on_io_uring);
    RUN(buffer_ring_exhaustion_drops_nothing);
    RUN(close_cancels_send_in_flight);
    RUN(provided_buffers_grow_and_go_back);
    return test_summary();
}
