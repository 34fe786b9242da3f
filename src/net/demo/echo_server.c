// echo_server.c: stage-5 demo: a TCP echo server: acceptor thread, one stackless task per connection.
#include "config.h"
#include "exec/completion.h"
#include "exec/exec.h"
#include "mem/mem.h"
#include "net/net.h"
#include "sys/atomic.h"
#include "sys/fmt.h"
#include "sys/signal.h"
#include "sys/string.h"
#include "sys/sys.h"

// [snippet: echo-task]
// [snippet: echo-conn]
struct echo_conn {
    int resume;
    struct net_stream sock;
    ssize_t got, sent;
    struct net_send send;
    char buf[16384];
};

static poll_t echo_poll(void *state, struct sched_cx *cx)
{
    struct echo_conn *c = state;
    ASYNC_BEGIN(c);
    for (;;) {
        // An idle read gives up when the server stops: the shutdown wakes
        // every task once, and this poll then sees ex_stopping().
        AWAIT(c,
              ex_stopping() ? (c->got = 0, READY) : net_recv(&c->sock, c->buf, sizeof c->buf, &c->got, cx));
        if (c->got <= 0)
            break; // end of stream (the peer half-closed) or an error
        net_send_init(&c->send, c->buf, (size_t)c->got);
        AWAIT(c, net_send(&c->sock, &c->send, &c->sent, cx));
        if (c->sent < 0)
            break;
    }
    ASYNC_END(c);
}

static void echo_drop(void *state)
{
    struct echo_conn *c = state;
    net_close(&c->sock);
    mem_free(c);
}
// [end: echo-conn]

// [snippet: echo-accept]
// Runs on the acceptor thread, or on a worker in the listener task.
static int on_accept(int fd, void *arg)
{
    (void)arg;
    struct echo_conn *c = mem_alloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    c->resume = 0;
    net_stream_init(&c->sock, fd);
    struct waker w;
    int r = sched_spawn_idle(echo_poll, c, echo_drop, &w);
    if (r < 0) {
        mem_free(c);
        return r;
    }
    // First poll when data arrives: no wake-up, no syscall wasted before.
    if (net_stream_watch(&c->sock, w) < 0)
        sched_wake(w); // could not register: let the task find out itself
    return 0;
}
// [end: echo-accept]
// [end: echo-task]

static uint32_t stop_requested;
static void on_signal(int sig)
{
    (void)sig;
    atomic_store_seq(&stop_requested, 1);
    sys_futex_wake(&stop_requested, 1);
}

int main(int argc, char **argv)
{
    uint16_t port = 7007;
    int workers = 2;
    enum ex_backend backend = EX_BACKEND_EPOLL;
    bool workers_accept = argc > 4 && sys_streq(argv[4], "workers");
    if ((argc > 1 && net_parse_port(argv[1], &port) < 0) ||
        (argc > 3 && ex_backend_parse(argv[3], &backend) < 0) ||
        (argc > 4 && !workers_accept && !sys_streq(argv[4], "thread"))) {
        sys_eprintf("usage: %s [PORT] [WORKERS] [epoll|ppoll|io_uring] [thread|workers]\n", argv[0]);
        return 2;
    }
    if (argc > 2) {
        uint64_t v;
        if (sys_parse_u64(argv[2], sys_strlen(argv[2]), &v) < 0 || v < 1 || v > EX_MAX_WORKERS) {
            sys_eprintf("%s: WORKERS must be 1..%d\n", argv[0], EX_MAX_WORKERS);
            return 2;
        }
        workers = (int)v;
    }
    uint32_t addr;
    net_parse_ipv4("127.0.0.1", &addr);
    int lfd = net_listen(addr, port, NET_LISTEN_BACKLOG);
    if (lfd < 0) {
        sys_eprintf("%s: cannot listen on 127.0.0.1:%u: %s\n", argv[0], port, sys_errno_name(lfd));
        return 1;
    }
    sys_signal_ignore(SIGPIPE);
    sys_signal_handle(SIGINT, on_signal);
    sys_signal_handle(SIGTERM, on_signal);
    struct ex_config cfg = {.workers = workers, .backend = backend};
    int r = ex_init(&cfg);
    if (r < 0 && backend == EX_BACKEND_IO_URING) {
        sys_eprintf("%s: io_uring unavailable: %s\n", argv[0], ex_uring_why());
        return 1;
    }
    if (r < 0)
        return 1;
    net_init(); // completion streams on io_uring, readiness on epoll and ppoll
    if (ex_start() < 0)
        return 1;
    struct net_acceptor acc = {.listen_fd = lfd, .on_accept = on_accept};
    struct net_listener lis = {.listen_fd = lfd, .on_accept = on_accept};
    if ((workers_accept ? net_listener_start(&lis) : net_acceptor_start(&acc)) < 0)
        return 1;
    sys_printf("echo server on 127.0.0.1:%u (%d workers, %s)\n", port, workers, ex_backend_name());
    while (!atomic_load_seq(&stop_requested))
        sys_futex_wait(&stop_requested, 0, NULL);
    net_acceptor_stop(&acc); // (no thread with workers accepting: nothing to do)
    ex_shutdown();           // the listener task, if any, ends here
    uint32_t left = ex_join();
    sys_close(lfd);
    sys_printf("echo server: %lu connections, stopped with %u tasks left\n", acc.accepted + lis.accepted,
               left);
    if (backend == EX_BACKEND_IO_URING) {
        // What the kernel still held at the end: nothing, after a clean stop.
        struct ex_op_stats st;
        ex_op_stats(&st);
        sys_printf("echo server: io_uring: %u requests in flight, %u buffers out\n", st.in_flight,
                   st.bufs_out);
    }
    return 0;
}
