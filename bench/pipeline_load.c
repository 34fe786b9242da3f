// pipeline_load.c: closed-loop pipelining HTTP/1.1 load generator (hosted C, epoll, one thread); prints JSON.
//
//   pipeline_load [-c CONNS] [-D DEPTH] [-d SECONDS] [-n BATCHES] [-p PATH] HOST PORT
//
// Opens CONNS keep-alive connections. Each writes DEPTH GET requests for
// PATH in one write (a batch), reads until all DEPTH responses are
// complete (framed by their Content-Length; each must be 200 and fit in
// 64 KiB), then writes the next batch: the shape of TechEmpower's
// plaintext test. Runs for SECONDS, or until every connection has had
// BATCHES batches answered (-n, for exact counts in tests). A connection
// the server closes or answers wrongly is counted as an error and opened
// again, so the load stays at CONNS connections.
//
// Reports the complete responses, the errors, the batch round-trip times
// (write of a batch to the last byte of its last response) and the
// generator's own CPU time: if its share of one core nears 100%, the
// generator, not the server, is the limit. Built by bench/bench.mk with `cc -O2`.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH  256
#define RBUF_SIZE  (64 * 1024) // a batch of responses, or at least one response head
#define HEAD_MAX   8192        // a response head longer than this is a protocol error
#define WBUF_SIZE  (MAX_DEPTH * 512)
#define MAX_EVENTS 512

enum state { CONNECTING, OPEN, DONE, DEAD };

struct conn {
    int fd;
    enum state st;
    uint32_t events;   // what epoll watches for on fd
    int answered;      // responses of the current batch complete so far
    int counted;       // ... of which were counted in st.requests
    uint64_t batches;  // batches fully answered on this connection
    uint64_t sent_ns;  // when the current batch was written
    size_t woff;       // bytes of the batch written so far
    size_t rlen, rpos; // bytes in rbuf; start of the first unparsed response
    char *rbuf;
};

struct stats {
    uint64_t requests, batches, bytes, err_connect, err_read, err_write, err_status, reconnects;
    uint64_t sum_ns, max_ns;
};

static struct stats st;
static char g_req[WBUF_SIZE];
static size_t g_req_len;
static int g_depth = 16, g_epfd;
static uint64_t g_batches_each; // 0: run for the duration
static struct sockaddr_in g_sa;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// ---- batch round-trip histogram: bench/hist.h --------------------------
#include "hist.h"

// ---- connections -------------------------------------------------------------

static void conn_open(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->answered = c->counted = 0;
    c->woff = c->rlen = c->rpos = 0;
    if (c->fd < 0) {
        c->st = DEAD;
        st.err_connect++;
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&g_sa, sizeof g_sa) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->st = DEAD;
        st.err_connect++;
        return;
    }
    c->st = CONNECTING;
    c->events = EPOLLOUT;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(g_epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

// Counts the error in *err, closes the connection and opens a new one in
// its place. The batch it was waiting for is lost: its responses so far
// are taken back out of the count.
static void conn_fail(struct conn *c, uint64_t *err)
{
    (*err)++;
    st.requests -= (uint64_t)c->counted;
    close(c->fd);
    st.reconnects++;
    conn_open(c);
}

// Changes the events watched, with a system call only when they differ:
// a batch that leaves in one send needs none.
static void set_events(struct conn *c, uint32_t events)
{
    if (c->events == events)
        return;
    c->events = events;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(g_epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

// Writes what is left of the current batch. Returns -1 on a write error.
static int conn_flush(struct conn *c)
{
    while (c->woff < g_req_len) {
        ssize_t w = send(c->fd, g_req + c->woff, g_req_len - c->woff, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            set_events(c, EPOLLIN | EPOLLOUT);
            return 0;
        }
        if (w <= 0)
            return -1;
        c->woff += (size_t)w;
    }
    set_events(c, EPOLLIN);
    return 0;
}

static int send_batch(struct conn *c)
{
    c->answered = c->counted = 0;
    c->woff = 0;
    c->sent_ns = now_ns();
    return conn_flush(c);
}

// [snippet: pipeline-load-framing]
// Length of the response at p (n bytes available): 0 if incomplete, -1 if
// it is not a 200 response framed by Content-Length. One pass over the
// head, a line at a time: it runs once per response, so it is the
// generator's own per-request cost.
static long response_length(const char *p, size_t n)
{
    if (n < 12)
        return memcmp(p, "HTTP/1.1 200", n) == 0 ? 0 : -1;
    if (memcmp(p, "HTTP/1.1 200", 12) != 0)
        return -1;
    long clen = -1;
    const char *end = p + (n < HEAD_MAX ? n : HEAD_MAX);
    for (const char *line = memchr(p, '\n', (size_t)(end - p)); line;) {
        line++; // the start of the next line
        size_t left = (size_t)(end - line);
        if (left >= 2 && line[0] == '\r' && line[1] == '\n') { // the empty line: the head ends
            if (clen < 0)
                return -1;
            size_t total = (size_t)(line + 2 - p) + (size_t)clen;
            return total <= n ? (long)total : 0;
        }
        if (left > 15 && (line[0] | 0x20) == 'c' && strncasecmp(line, "Content-Length:", 15) == 0)
            clen = strtol(line + 15, NULL, 10); // stops at the '\r'
        line = memchr(line, '\n', left);
    }
    return n >= HEAD_MAX ? -1 : 0; // no end of the head yet
}
// [end: pipeline-load-framing]

static void on_readable(struct conn *c, int counting)
{
    if (c->rpos > 0 && c->rpos == c->rlen)
        c->rpos = c->rlen = 0;
    if (c->rlen == RBUF_SIZE) { // make room: move the partial response down
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    ssize_t r = recv(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, 0);
    if (r < 0 && errno == EAGAIN)
        return;
    if (r <= 0) { // EOF or reset in the middle of a batch
        conn_fail(c, &st.err_read);
        return;
    }
    c->rlen += (size_t)r;
    if (counting)
        st.bytes += (uint64_t)r;
    for (;;) {
        long len = response_length(c->rbuf + c->rpos, c->rlen - c->rpos);
        if (len < 0 || (len > 0 && c->answered == g_depth)) { // wrong, or a response nobody asked for
            conn_fail(c, &st.err_status);
            return;
        }
        if (len == 0 && c->rpos == 0 && c->rlen == RBUF_SIZE) { // a response larger than the buffer
            conn_fail(c, &st.err_status);
            return;
        }
        if (len == 0)
            break;
        c->rpos += (size_t)len;
        c->answered++;
        if (counting) {
            st.requests++;
            c->counted++;
        }
    }
    if (c->answered < g_depth)
        return;
    uint64_t rtt = now_ns() - c->sent_ns;
    c->batches++;
    if (counting) {
        st.batches++;
        st.sum_ns += rtt;
        if (rtt > st.max_ns)
            st.max_ns = rtt;
        hist[hist_index(rtt)]++;
    }
    if (g_batches_each && c->batches >= g_batches_each) {
        c->st = DONE; // out of epoll: a close by the server now must not wake the loop
        epoll_ctl(g_epfd, EPOLL_CTL_DEL, c->fd, NULL);
        return;
    }
    if (send_batch(c) < 0)
        conn_fail(c, &st.err_write);
}

static void on_writable(struct conn *c)
{
    if (c->st == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            close(c->fd);
            st.err_connect++;
            c->st = DEAD;
            return;
        }
        c->st = OPEN;
        if (send_batch(c) < 0)
            conn_fail(c, &st.err_write);
        return;
    }
    if (conn_flush(c) < 0)
        conn_fail(c, &st.err_write);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: pipeline_load [-c CONNS] [-D DEPTH] [-d SECONDS] [-n BATCHES] [-p PATH] HOST PORT\n");
    exit(2);
}

static double self_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    int nconn = 1, opt;
    double duration = 3;
    const char *path = "/plaintext";
    while ((opt = getopt(argc, argv, "c:D:d:n:p:")) != -1) {
        switch (opt) {
        case 'c':
            nconn = atoi(optarg);
            break;
        case 'D':
            g_depth = atoi(optarg);
            break;
        case 'd':
            duration = atof(optarg);
            break;
        case 'n':
            g_batches_each = strtoull(optarg, NULL, 10);
            break;
        case 'p':
            path = optarg;
            break;
        default:
            usage();
        }
    }
    if (argc - optind != 2 || nconn < 1 || duration <= 0 || g_depth < 1 || g_depth > MAX_DEPTH ||
        strlen(path) > 256 || path[0] != '/')
        usage();
    const char *host = argv[optind];
    int port = atoi(argv[optind + 1]);
    g_sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (port < 1 || port > 65535 || inet_pton(AF_INET, host, &g_sa.sin_addr) != 1) {
        fprintf(stderr, "pipeline_load: HOST must be an IPv4 address and PORT 1-65535\n");
        return 2;
    }
    char one[512];
    int n1 = snprintf(one, sizeof one, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);
    for (int i = 0; i < g_depth; i++) {
        memcpy(g_req + g_req_len, one, (size_t)n1);
        g_req_len += (size_t)n1;
    }

    g_epfd = epoll_create1(EPOLL_CLOEXEC);
    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    if (!conns || g_epfd < 0) {
        perror("pipeline_load");
        return 1;
    }
    double cpu0 = self_cpu_seconds();
    uint64_t t_start = now_ns(), t_end = t_start + (uint64_t)(duration * 1e9);
    for (int i = 0; i < nconn; i++) {
        conns[i].rbuf = malloc(RBUF_SIZE);
        if (!conns[i].rbuf) {
            perror("pipeline_load");
            return 1;
        }
        conn_open(&conns[i]);
    }
    struct epoll_event evs[MAX_EVENTS];
    uint64_t t = t_start;
    while (t < t_end) {
        int ms = (int)((t_end - t) / 1000000) + 1;
        int n = epoll_wait(g_epfd, evs, MAX_EVENTS, ms > 100 ? 100 : ms);
        t = now_ns();
        int counting = t < t_end; // responses after the end do not count
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->st == DEAD || c->st == DONE)
                continue;
            if (evs[i].events & (EPOLLOUT | EPOLLERR))
                on_writable(c);
            if (c->st == OPEN && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                on_readable(c, counting);
        }
        int live = 0;
        for (int i = 0; i < nconn; i++)
            live += conns[i].st == OPEN || conns[i].st == CONNECTING;
        if (live == 0)
            break; // every connection finished its -n batches (or could not connect)
    }
    double elapsed = (double)(now_ns() - t_start) / 1e9, cpu = self_cpu_seconds() - cpu0;
    int open = 0;
    for (int i = 0; i < nconn; i++) {
        if (conns[i].st == OPEN || conns[i].st == DONE)
            open++;
        if (conns[i].st != DEAD)
            close(conns[i].fd);
    }
    printf("{\"connections\": %d, \"open_at_end\": %d, \"depth\": %d, \"duration_s\": %.3f, "
           "\"requests\": %llu, \"batches\": %llu, \"bytes\": %llu, \"rps\": %.1f, "
           "\"batch_mean_us\": %.1f, \"batch_max_us\": %.1f, \"batch_p50_us\": %.1f, \"batch_p90_us\": %.1f, "
           "\"batch_p99_us\": %.1f, \"batch_p999_us\": %.1f, \"err_connect\": %llu, \"err_read\": %llu, "
           "\"err_write\": %llu, \"err_status\": %llu, \"reconnects\": %llu, \"cpu_s\": %.3f, "
           "\"cpu_share\": %.3f}\n",
           nconn, open, g_depth, elapsed, (unsigned long long)st.requests, (unsigned long long)st.batches,
           (unsigned long long)st.bytes, (double)st.requests / elapsed,
           st.batches ? (double)st.sum_ns / (double)st.batches / 1000.0 : 0.0, (double)st.max_ns / 1000.0,
           hist_percentile(st.batches, 50), hist_percentile(st.batches, 90), hist_percentile(st.batches, 99),
           hist_percentile(st.batches, 99.9), (unsigned long long)st.err_connect,
           (unsigned long long)st.err_read, (unsigned long long)st.err_write,
           (unsigned long long)st.err_status, (unsigned long long)st.reconnects, cpu, cpu / elapsed);
    return st.requests > 0 ? 0 : 1;
}
