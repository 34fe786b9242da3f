// main.c: the async-nostd server: arguments, listening sockets, executor, accept mode, signals, shutdown.
#include "config.h"
#include "exec/completion.h"
#include "exec/exec.h"
#include "http/http_log.h"
#include "http/http_metrics.h"
#include "http/http_server.h"
#include "net/net.h"
#include "sys/atomic.h"
#include "sys/fmt.h"
#include "sys/signal.h"
#include "sys/string.h"
#include "sys/sys.h"
#if STAGE >= 7
#include "ws/ws_server.h"
#endif

static void usage(const char *prog, int fd)
{
    // Two writes: sys_dprintf formats into a bounded buffer.
    sys_dprintf(fd,
                "usage: %s [WORKERS] [IP] [PORT] [options]\n"
                "  WORKERS            worker threads (default: the number of CPUs)\n"
                "  IP                 IPv4 address to listen on (default " NET_DEFAULT_IP ")\n"
                "  PORT               TCP port (default %d)\n"
                "  --reactor=NAME     epoll (default), ppoll or io_uring\n"
                "  --executor=KIND    shared (default: one ready queue and reactor for all\n"
                "                     workers) or per-core (a queue, reactor and timers per\n"
                "                     worker; a connection stays on one worker)\n"
                "  --accept=MODE      who accepts: workers (default; the listening socket in\n"
                "                     the reactor), thread (a dedicated acceptor thread), or\n"
                "                     reuseport (one SO_REUSEPORT socket per worker)\n",
                prog, NET_DEFAULT_PORT);
    sys_dprintf(fd,
                "  --max-tasks=N      most concurrent connections (default: one per file\n"
                "                     descriptor the limit allows, less a reserve; at most %d)\n"
                "  --log=PATH         log file (default " LOG_FILE_PATH "), --no-log to disable\n"
                "  --header-timeout=MS, --idle-timeout=MS, --send-timeout=MS\n"
                "                     request head / keep-alive idle / one send batch limits\n"
                "                     (defaults %d, %d, %d)\n"
#if STAGE >= 7
                "  --ws-idle-timeout=MS\n"
                "                     WebSocket silence before a ping; as long again\n"
                "                     without a byte back closes (default %d)\n"
#endif
                "  --help             this text\n"
                "Routes: / demo page, /ws WebSocket echo%s, /plaintext, /metrics.\n",
                SCHED_MAX_TASK_SLOTS, HTTP_HEADER_TIMEOUT_MS, HTTP_IDLE_TIMEOUT_MS, HTTP_SEND_TIMEOUT_MS,
#if STAGE >= 7
                WS_IDLE_TIMEOUT_MS,
#endif
                STAGE >= 7 ? "" : " (not in this stage: 426)");
}

// Who calls accept4 (chapter 5 measures the three).
enum accept_mode { ACCEPT_WORKERS, ACCEPT_THREAD, ACCEPT_REUSEPORT };

struct options {
    int workers;
    enum accept_mode accept;
    uint32_t addr;
    const char *ip;
    uint16_t port;
    enum ex_backend backend;
    enum ex_executor executor;
    uint32_t max_tasks;
    const char *log_path;
};

// Returns 0, 1 if --help was printed, or -1 after printing what is wrong.
static int parse_args(int argc, char **argv, struct options *o)
{
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (sys_streq(a, "--help") || sys_streq(a, "-h")) {
            usage(argv[0], STDOUT_FILENO);
            return 1;
        } else if (sys_starts_with(a, "--reactor=")) {
            if (ex_backend_parse(a + 10, &o->backend) < 0) {
                sys_eprintf("%s: unknown reactor '%s' (use epoll, ppoll or io_uring)\n", argv[0], a + 10);
                return -1;
            }
        } else if (sys_starts_with(a, "--executor=")) {
            if (ex_executor_parse(a + 11, &o->executor) < 0) {
                sys_eprintf("%s: unknown executor '%s' (use shared or per-core)\n", argv[0], a + 11);
                return -1;
            }
        } else if (sys_starts_with(a, "--accept=")) {
            const char *m = a + 9;
            if (sys_streq(m, "workers"))
                o->accept = ACCEPT_WORKERS;
            else if (sys_streq(m, "thread"))
                o->accept = ACCEPT_THREAD;
            else if (sys_streq(m, "reuseport"))
                o->accept = ACCEPT_REUSEPORT;
            else {
                sys_eprintf("%s: unknown accept mode '%s' (use workers, thread or reuseport)\n", argv[0], m);
                return -1;
            }
        } else if (sys_starts_with(a, "--max-tasks=")) {
            if (sys_parse_u64(a + 12, sys_strlen(a + 12), &v) < 0 || v < 1 || v > SCHED_MAX_TASK_SLOTS) {
                sys_eprintf("%s: --max-tasks must be 1..%d, not '%s'\n", argv[0], SCHED_MAX_TASK_SLOTS,
                            a + 12);
                return -1;
            }
            o->max_tasks = (uint32_t)v;
        } else if (sys_starts_with(a, "--header-timeout=") || sys_starts_with(a, "--idle-timeout=") ||
                   sys_starts_with(a, "--send-timeout=") ||
                   (STAGE >= 7 && sys_starts_with(a, "--ws-idle-timeout="))) {
            const char *val = a + 2;
            while (*val != '=')
                val++;
            val++;
            if (sys_parse_u64(val, sys_strlen(val), &v) < 0 || v < 1 || v > 3600000) {
                sys_eprintf("%s: %.*s must be 1..3600000 ms, not '%s'\n", argv[0], (int)(val - a - 1), a,
                            val);
                return -1;
            }
            uint32_t *slot = a[2] == 'h'   ? &http_settings.header_timeout_ms
                             : a[2] == 'i' ? &http_settings.idle_timeout_ms
                                           : &http_settings.send_timeout_ms;
#if STAGE >= 7
            if (a[2] == 'w')
                slot = &ws_settings.idle_timeout_ms;
#endif
            *slot = (uint32_t)v;
        } else if (sys_starts_with(a, "--log=")) {
            o->log_path = a + 6;
        } else if (sys_streq(a, "--no-log")) {
            o->log_path = NULL;
        } else if (a[0] == '-') {
            sys_eprintf("%s: unknown option '%s' (see --help)\n", argv[0], a);
            return -1;
        } else if (positional == 0) {
            if (sys_parse_u64(a, sys_strlen(a), &v) < 0 || v < 1 || v > EX_MAX_WORKERS) {
                sys_eprintf("%s: WORKERS must be a number from 1 to %d, not '%s'\n", argv[0], EX_MAX_WORKERS,
                            a);
                return -1;
            }
            o->workers = (int)v;
            positional++;
        } else if (positional == 1) {
            if (net_parse_ipv4(a, &o->addr) < 0) {
                sys_eprintf("%s: '%s' is not an IPv4 address like 127.0.0.1\n", argv[0], a);
                return -1;
            }
            o->ip = a;
            positional++;
        } else if (positional == 2) {
            if (net_parse_port(a, &o->port) < 0) {
                sys_eprintf("%s: PORT must be 1..65535, not '%s'\n", argv[0], a);
                return -1;
            }
            positional++;
        } else {
            sys_eprintf("%s: too many arguments at '%s' (see --help)\n", argv[0], a);
            return -1;
        }
    }
    return 0;
}

// [snippet: server-max-tasks]
// The default --max-tasks: a task slot for each descriptor the limit leaves
// for connections (config.h, SERVER_FD_RESERVE), so that stalled clients
// holding every slot is a matter of descriptors, not of a fixed 1,024.
static uint32_t default_max_tasks(long fd_limit, int workers)
{
    if (fd_limit < 0) // unreadable: the scheduler's own default
        return SCHED_DEFAULT_TASKS;
    long n = fd_limit - SERVER_FD_RESERVE - (long)workers * SERVER_FD_RESERVE_PER_WORKER;
    if (n > SCHED_MAX_TASK_SLOTS)
        n = SCHED_MAX_TASK_SLOTS;
    return n < 1 ? 1 : (uint32_t)n; // a tiny limit still serves, one connection at a time
}
// [end: server-max-tasks]

// [snippet: server-stop-signal]
static uint32_t stop_requested;

// Async-signal-safe: an atomic store and a futex wake, nothing else.
static void on_stop_signal(int sig)
{
    atomic_store_seq(&stop_requested, (uint32_t)sig);
    sys_futex_wake(&stop_requested, 1);
}
// [end: server-stop-signal]

int main(int argc, char **argv)
{
    struct options o = {
        .workers = sys_cpu_count(),
        .ip = NET_DEFAULT_IP,
        .port = NET_DEFAULT_PORT,
        .backend = EX_BACKEND_EPOLL,
        .max_tasks = 0, // 0: not given; derived from the descriptor limit below
        .log_path = LOG_FILE_PATH,
    };
    net_parse_ipv4(NET_DEFAULT_IP, &o.addr);
    if (o.workers > EX_MAX_WORKERS)
        o.workers = EX_MAX_WORKERS;
    int r = parse_args(argc, argv, &o);
    if (r != 0)
        return r > 0 ? 0 : 2;
    // Each connection is a descriptor: take all the hard limit allows.
    long fd_limit = sys_fd_limit_raise();
    if (o.max_tasks == 0)
        o.max_tasks = default_max_tasks(fd_limit, o.workers);

    // One listening socket, or one per worker with SO_REUSEPORT (the first
    // one's port for the rest, in case PORT was 0).
    int nlisten = o.accept == ACCEPT_REUSEPORT ? o.workers : 1;
    int lfds[EX_MAX_WORKERS];
    for (int i = 0; i < nlisten; i++) {
        uint16_t port = i == 0 ? o.port : (uint16_t)net_local_port(lfds[0]);
        int lfd = o.accept == ACCEPT_REUSEPORT ? net_listen_reuseport(o.addr, port, NET_LISTEN_BACKLOG)
                                               : net_listen(o.addr, port, NET_LISTEN_BACKLOG);
        if (lfd < 0) {
            sys_eprintf("%s: cannot listen on %s:%u: %s%s\n", argv[0], o.ip, o.port, sys_errno_name(lfd),
                        lfd == -EADDRINUSE ? " (the port is in use)" : "");
            return 1;
        }
        lfds[i] = lfd;
    }
    if (o.log_path && http_log_open(o.log_path) < 0)
        sys_eprintf("%s: warning: cannot open log file %s; logging is off\n", argv[0], o.log_path);

    sys_signal_ignore(SIGPIPE); // a vanished peer is an -EPIPE, not a death
    sys_signal_handle(SIGINT, on_stop_signal);
    sys_signal_handle(SIGTERM, on_stop_signal);

    // A listener task takes a task slot: give it one beyond --max-tasks, so
    // the 503 comes at the same count in every mode (at the maximum the
    // listeners' slots come out of the connections').
    uint32_t slots = o.max_tasks + (o.accept == ACCEPT_THREAD ? 0 : (uint32_t)nlisten);
    if (slots > SCHED_MAX_TASK_SLOTS)
        slots = SCHED_MAX_TASK_SLOTS;
    struct ex_config cfg = {
        .workers = o.workers, .backend = o.backend, .max_tasks = slots, .executor = o.executor};
    r = ex_init(&cfg);
    if (r < 0 && o.backend == EX_BACKEND_IO_URING) {
        // Asked for by name: say why, and do not fall back to epoll behind the user's back.
        sys_eprintf("async-nostd: io_uring unavailable: %s\n", ex_uring_why());
        return 1;
    }
    if (r < 0) {
        sys_eprintf("%s: cannot start the executor: %s\n", argv[0], sys_errno_name(r));
        return 1;
    }
    net_init(); // the stream operations that fit the reactor, chosen once
    ex_set_idle_hook(http_log_flush);
#if STAGE >= 7
    ws_server_install();
#endif
    http_metrics_start();
    if ((r = ex_start()) < 0) {
        sys_eprintf("%s: cannot start worker threads: %s\n", argv[0], sys_errno_name(r));
        return 1;
    }
    static const char *const accept_names[] = {"workers", "thread", "reuseport"};
    struct net_acceptor acceptor = {
        .listen_fd = lfds[0], .on_accept = http_accept, .on_refused = http_refuse};
    static struct net_listener listeners[EX_MAX_WORKERS];
    if (o.accept == ACCEPT_THREAD) {
        r = net_acceptor_start(&acceptor);
    } else {
        // [snippet: server-listeners]
        // With per-core workers a listener's connections stay where it
        // spawns them: one reuseport listener on each worker keeps its own,
        // a single listener spreads them over every worker.
        for (int i = 0; i < nlisten && r >= 0; i++) {
            listeners[i] = (struct net_listener){.listen_fd = lfds[i],
                                                 .on_accept = http_accept,
                                                 .on_refused = http_refuse,
                                                 .home = (uint32_t)i % sched_queues(),
                                                 .spread = nlisten == 1};
            r = net_listener_start(&listeners[i]);
        }
        // [end: server-listeners]
    }
    if (r < 0) {
        sys_eprintf("%s: cannot start accepting (%s): %s\n", argv[0], accept_names[o.accept],
                    sys_errno_name(r));
        return 1;
    }
    sys_printf("async-nostd: listening on http://%s:%u/ (%d workers, %s reactor, %s executor, accept=%s, "
               "max-tasks=%u (fd limit %ld), log %s)\n",
               o.ip, o.port, o.workers, ex_backend_name(), ex_executor_name(), accept_names[o.accept],
               o.max_tasks, fd_limit, o.log_path ? o.log_path : "off");

    // [snippet: server-shutdown]
    while (!atomic_load_seq(&stop_requested))
        sys_futex_wait(&stop_requested, 0, NULL);

    // Stop accepting, then let every task finish what it was doing: idle
    // keep-alive connections close, in-flight responses complete. Listener
    // tasks stop accepting at ex_shutdown, the first thing they see.
    http_log("[SHUTDOWN] signal=%u", stop_requested);
    http_log_flush();
    net_acceptor_stop(&acceptor);
    ex_shutdown();
    uint32_t left = ex_join();
    uint64_t accepted = acceptor.accepted;
    for (int i = 0; i < nlisten; i++) {
        accepted += listeners[i].accepted;
        sys_close(lfds[i]);
    }
    sys_printf("async-nostd: stopped (%lu connections served, %u still open at exit)\n", accepted, left);
    // [end: server-shutdown]
    if (o.backend == EX_BACKEND_IO_URING) {
        // What the kernel still held: nothing, after a clean stop (chapter 9).
        struct ex_op_stats st;
        ex_op_stats(&st);
        sys_printf("async-nostd: io_uring: %u requests in flight, %u buffers out at exit\n", st.in_flight,
                   st.bufs_out);
    }
    return 0;
}
