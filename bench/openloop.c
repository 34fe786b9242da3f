// openloop.c: open-loop HTTP/1.1 load generator (hosted C, epoll): constant rate, latency from intended send.
//
//   openloop [-c CONNS] [-R RATE] [-d SECONDS] [-w WARMUP] [-t THREADS] [-T DRAIN] URL
//   openloop -H < VALUES      check the histogram: one value in ns per input line
//
// Sends keep-alive GET requests at a constant total RATE over CONNS
// connections. Request k of connection i is due at t0 + (i + k * CONNS) / RATE:
// each connection runs at RATE / CONNS, the connections' phases are staggered
// so that the whole stream is evenly spaced. A request's latency is measured
// from the time it was due, not from the time it was written, to the last
// byte of its response: a server that stalls cannot hide the requests that
// would have been sent meanwhile (coordinated omission).
//
// A request that falls due while its connection still waits for the previous
// answer is queued on that connection and sent as soon as the answer is in;
// its clock has been running since it fell due. We queue rather than
// pipeline because the clients we stand in for (browsers, HTTP client
// libraries) do not pipeline, and a pipelined burst would let the server
// answer several requests per read, a batching real traffic does not offer.
//
// URL is http://HOST[:PORT][/PATH] (the http:// may be left out). Prints the
// percentiles for people, then one `result: key=value ...` line for scripts.
// Exits 2 on bad arguments, 1 if a connection cannot be opened (5 s at
// most each) or no request was answered. Once connected it runs WARMUP +
// SECONDS, then waits at most DRAIN for the answers still due. Built by
// bench/bench.mk with `cc -O2 -pthread`.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE   16384 // a response head must fit; bodies are skipped as they stream by
#define MAX_THREADS 64
#define CONNECT_MS  5000

// ---- clock ---------------------------------------------------------------

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// ---- log-linear histogram ------------------------------------------------
// Values are nanoseconds. Below 256 ns every value has its own bucket; above,
// each power of two [2^m, 2^(m+1)) is split into 128 equal buckets, so a
// bucket is at most 1/128 of its values wide and its middle is within 0.4% of
// any value in it (HdrHistogram with 2 significant digits does the same).
// The range ends at 2^36 ns (68.7 s); a larger value is counted in the top
// bucket (and in `clamped`): no sample is ever thrown away.

#define HIST_SUB_BITS 7
#define HIST_SUB      (1 << HIST_SUB_BITS)
#define HIST_EXACT    (2 * HIST_SUB)
#define HIST_TOP_BIT  36
#define HIST_SIZE     (HIST_EXACT + (HIST_TOP_BIT - HIST_SUB_BITS - 1) * HIST_SUB)

struct hist {
    uint64_t count[HIST_SIZE];
    uint64_t total, max, clamped;
    double sum;
};

// [snippet: openloop-hist]
static int hist_index(uint64_t v)
{
    if (v >= 1ull << HIST_TOP_BIT)
        v = (1ull << HIST_TOP_BIT) - 1;
    if (v < HIST_EXACT)
        return (int)v;
    int msb = 63 - __builtin_clzll(v); // v is in [2^msb, 2^(msb+1))
    int sub = (int)((v >> (msb - HIST_SUB_BITS)) & (HIST_SUB - 1));
    return HIST_EXACT + (msb - HIST_SUB_BITS - 1) * HIST_SUB + sub;
}

// The middle of bucket i: the value every sample in it is reported as.
static uint64_t hist_value(int i)
{
    if (i < HIST_EXACT)
        return (uint64_t)i;
    int shift = (i - HIST_EXACT) / HIST_SUB + 1, sub = (i - HIST_EXACT) % HIST_SUB;
    return ((uint64_t)(HIST_SUB + sub) << shift) + ((1ull << shift) >> 1);
}

static void hist_record(struct hist *h, uint64_t v)
{
    h->count[hist_index(v)]++;
    h->total++;
    h->sum += (double)v;
    if (v > h->max)
        h->max = v;
    if (v >= 1ull << HIST_TOP_BIT)
        h->clamped++;
}
// [end: openloop-hist]

static void hist_add(struct hist *to, const struct hist *from)
{
    for (int i = 0; i < HIST_SIZE; i++)
        to->count[i] += from->count[i];
    to->total += from->total;
    to->sum += from->sum;
    to->clamped += from->clamped;
    if (from->max > to->max)
        to->max = from->max;
}

// The p-th percentile in ns: the smallest bucket holding at least p% of the
// samples at or below it, reported as its middle (never above the true max).
static uint64_t hist_percentile(const struct hist *h, double p)
{
    if (h->total == 0)
        return 0;
    // The epsilon keeps 99.9% of 1000 at 999 where floating point gives 999.0000000000001.
    uint64_t want = (uint64_t)ceil(p * (double)h->total / 100.0 - 1e-6), seen = 0;
    if (want < 1)
        want = 1;
    for (int i = 0; i < HIST_SIZE; i++) {
        seen += h->count[i];
        if (seen >= want) {
            uint64_t v = hist_value(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

// ---- configuration, shared by the threads (read-only once they run) -------

static struct sockaddr_in g_addr;
static char g_request[2048];
static size_t g_request_len;
static int g_conns = 10, g_threads = 1;
static double g_rate = 1000, g_duration = 3, g_warmup = 1, g_drain = 2;
static double g_ns_per_req;                 // 1e9 / rate
static uint64_t g_t0, g_t_measure, g_t_end; // the schedule's start, measured window, end
static uint64_t g_t_stop;                   // nothing runs past this (end + drain)

// The time request number n of the whole stream is due (n = conn + k * conns).
static uint64_t intended(uint64_t n) { return g_t0 + (uint64_t)((double)n * g_ns_per_req); }

// ---- connections -----------------------------------------------------------

enum cstate { DEAD, CONNECTING, OPEN };
enum pstate { P_HEAD, P_BODY, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_CRLF, P_TRAILER };

struct conn {
    int fd;
    enum cstate st;
    uint64_t index;           // the connection's number in the whole stream, 0 .. conns-1
    uint64_t due, sent, done; // requests of this connection fallen due, written, finished
    uint64_t sent_ns;         // when the request in flight was written
    size_t woff;              // bytes of g_request written so far
    enum pstate ps;           // response parser state
    uint64_t left;            // body or chunk bytes still to skip
    int status, close_after;  // of the response being read
    size_t rlen;
    char rbuf[RBUF_SIZE + 1];
};

struct stats {
    uint64_t scheduled, answered, in_window, err_connect, err_read, err_parse, err_status, unfinished;
};

struct worker {
    int id, nconn, epfd;
    struct conn *conns;
    uint64_t next;        // the worker's next request to fall due, counted over its own connections
    int sched_done;       // every request of the schedule has fallen due
    uint64_t outstanding; // fallen due, not finished
    struct hist lat;      // from the intended send time: the figure we report
    struct hist svc;      // from the actual send time: what a closed-loop tool would see
    struct stats st;
    pthread_t thread;
};

// Request k of connection c, as a number of the whole stream.
static uint64_t stream_no(const struct conn *c, uint64_t k) { return c->index + k * (uint64_t)g_conns; }

static void conn_close(struct worker *w, struct conn *c)
{
    if (c->st == DEAD)
        return;
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->st = DEAD;
    c->rlen = 0;
    c->ps = P_HEAD;
    c->woff = 0;
}

// Ends the request at the head of c's queue without an answer: counted in
// *counter, never in the histograms (it has no latency). With no request
// due (bytes nobody asked for), only counts.
static void fail_head(struct worker *w, struct conn *c, uint64_t *counter)
{
    if (c->done == c->due) {
        (*counter)++;
        return;
    }
    if (intended(stream_no(c, c->done)) >= g_t_measure)
        (*counter)++;
    if (c->sent == c->done)
        c->sent++;
    c->done++;
    w->outstanding--;
}

static void conn_open(struct worker *w, struct conn *c);

// Writes what is left of the request in flight; returns 0, or -1 on an error.
static int conn_flush(struct conn *c)
{
    while (c->woff < g_request_len) {
        // MSG_NOSIGNAL: a server that closed the connection is an error to count, not a SIGPIPE.
        ssize_t n = send(c->fd, g_request + c->woff, g_request_len - c->woff, MSG_NOSIGNAL);
        if (n > 0)
            c->woff += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && errno == EAGAIN)
            return 0; // EPOLLOUT resumes
        else
            return -1;
    }
    return 0;
}

// Sends the next queued request if the connection is free for it.
static void send_next(struct worker *w, struct conn *c)
{
    if (c->due == c->sent || c->sent != c->done)
        return;
    if (c->st == DEAD) {
        conn_open(w, c);
        return;
    }
    if (c->st != OPEN)
        return;
    c->sent++;
    c->woff = 0;
    c->sent_ns = now_ns();
    if (conn_flush(c) < 0) {
        conn_close(w, c);
        fail_head(w, c, &w->st.err_read);
        send_next(w, c);
    }
}

// Starts a connect. A refused one ends the head request, so that a server
// that is gone costs one attempt per request, not a busy loop.
static void conn_open(struct worker *w, struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fail_head(w, c, &w->st.err_connect);
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&g_addr, sizeof g_addr) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        fail_head(w, c, &w->st.err_connect);
        return;
    }
    c->st = CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

// [snippet: openloop-record]
// The response to c's oldest request has ended at time t: record it, then
// send the next queued request, if any.
static void on_response(struct worker *w, struct conn *c, uint64_t t)
{
    uint64_t due_at = intended(stream_no(c, c->done));
    if (due_at >= g_t_measure) { // requests due during the warm-up are not counted
        hist_record(&w->lat, t - due_at);
        hist_record(&w->svc, t - c->sent_ns);
        w->st.answered++;
        if (c->status >= 400)
            w->st.err_status++;
    }
    if (t >= g_t_measure && t < g_t_end)
        w->st.in_window++;
    c->done++;
    w->outstanding--;
    if (c->close_after)
        conn_close(w, c);
    send_next(w, c);
}
// [end: openloop-record]

// Parses a response head in p[0..len) (len covers the blank line). Returns 0 or -1.
static int parse_head(struct conn *c, const char *p, size_t len)
{
    if (len < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
        return -1;
    c->status = atoi(p + 9);
    c->close_after = p[7] == '0';
    int chunked = 0, have_length = 0;
    uint64_t length = 0;
    const char *end = p + len, *line = memchr(p, '\n', len) + 1;
    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (colon) {
            size_t nlen = (size_t)(colon - line);
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vlen = (size_t)(eol - v);
            if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
                char *stop;
                length = strtoull(v, &stop, 10);
                if (stop == v)
                    return -1;
                have_length = 1;
            } else if (nlen == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
                chunked = memmem(v, vlen, "chunked", 7) != NULL;
            } else if (nlen == 10 && strncasecmp(line, "Connection", 10) == 0) {
                if (memmem(v, vlen, "close", 5))
                    c->close_after = 1;
                else if (memmem(v, vlen, "keep-alive", 10))
                    c->close_after = 0;
            }
        }
        line = eol + 1;
    }
    if (c->status < 200 || c->status == 204 || c->status == 304) {
        c->ps = P_HEAD; // no body; a 1xx is followed by the real head
        return 0;
    }
    if (chunked) {
        c->ps = P_CHUNK_SIZE;
    } else if (have_length) {
        c->ps = P_BODY;
        c->left = length;
    } else {
        return -1; // a body ended by close: no use on a keep-alive benchmark
    }
    return 0;
}

// Consumes complete pieces of responses from rbuf, calling on_response for
// each one that ends. Returns 0, or -1 if the bytes are not a response.
static int parse(struct worker *w, struct conn *c, uint64_t t)
{
    size_t off = 0;
    for (;;) {
        char *p = c->rbuf + off;
        size_t avail = c->rlen - off;
        if (avail == 0)
            break;
        if (c->sent == c->done)
            return -1; // bytes nobody asked for
        if (c->ps == P_HEAD) {
            char *e = memmem(p, avail, "\r\n\r\n", 4);
            if (!e) {
                if (c->rlen >= RBUF_SIZE)
                    return -1;
                break;
            }
            size_t hlen = (size_t)(e + 4 - p);
            if (parse_head(c, p, hlen) < 0)
                return -1;
            off += hlen;
            if (c->ps == P_HEAD && c->status >= 200) {
                on_response(w, c, t);
            } else if (c->ps == P_BODY && c->left == 0) {
                c->ps = P_HEAD;
                on_response(w, c, t);
            }
        } else if (c->ps == P_BODY || c->ps == P_CHUNK_DATA) {
            uint64_t take = avail < c->left ? avail : c->left;
            off += take;
            c->left -= take;
            if (c->left == 0 && c->ps == P_CHUNK_DATA) {
                c->ps = P_CHUNK_CRLF;
            } else if (c->left == 0) {
                c->ps = P_HEAD;
                on_response(w, c, t);
            }
        } else if (c->ps == P_CHUNK_CRLF) {
            if (avail < 2)
                break;
            if (p[0] != '\r' || p[1] != '\n')
                return -1;
            off += 2;
            c->ps = P_CHUNK_SIZE;
        } else { // P_CHUNK_SIZE, P_TRAILER: one line each
            char *e = memmem(p, avail, "\r\n", 2);
            if (!e) {
                if (c->rlen >= RBUF_SIZE)
                    return -1;
                break;
            }
            off += (size_t)(e + 2 - p);
            if (c->ps == P_TRAILER && e == p) { // the blank line after the trailers
                c->ps = P_HEAD;
                on_response(w, c, t);
            } else if (c->ps == P_CHUNK_SIZE) {
                char *stop;
                c->left = strtoull(p, &stop, 16);
                if (stop == p)
                    return -1;
                c->ps = c->left ? P_CHUNK_DATA : P_TRAILER;
            }
        }
        if (c->st != OPEN)
            return 0; // on_response closed it (Connection: close); the rest is moot
    }
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    return 0;
}

// Reads and parses what has arrived. A read shorter than the room it had
// drained the socket, and with edge-triggered epoll new bytes bring a new
// event: skip the read that would only say EAGAIN, one system call per
// response, unless the peer has hung up (then read on to the end of file).
static void on_readable(struct worker *w, struct conn *c, uint32_t events)
{
    while (c->st == OPEN) {
        size_t room = RBUF_SIZE - c->rlen;
        ssize_t n = read(c->fd, c->rbuf + c->rlen, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) { // closed or reset: the request in flight, if any, is lost
            int busy = c->sent != c->done;
            conn_close(w, c);
            if (busy)
                fail_head(w, c, &w->st.err_read);
            send_next(w, c);
            return;
        }
        c->rlen += (size_t)n;
        if (parse(w, c, now_ns()) < 0) {
            conn_close(w, c);
            fail_head(w, c, &w->st.err_parse);
            send_next(w, c);
            return;
        }
        if ((size_t)n < room && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            return;
    }
}

static void on_writable(struct worker *w, struct conn *c)
{
    if (c->st == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            conn_close(w, c);
            fail_head(w, c, &w->st.err_connect);
            send_next(w, c);
            return;
        }
        c->st = OPEN;
        send_next(w, c);
        return;
    }
    if (c->st == OPEN && c->sent != c->done && conn_flush(c) < 0) {
        conn_close(w, c);
        fail_head(w, c, &w->st.err_read);
        send_next(w, c);
    }
}

// [snippet: openloop-schedule]
// Makes every request whose time has come due, in stream order, and sends
// it at once if its connection is free; returns when the next one is due
// (0 once the schedule is over). The worker owns connections id, id +
// threads, id + 2 * threads, ...; its count `next` walks them round-robin.
static uint64_t fall_due(struct worker *w, uint64_t now)
{
    while (!w->sched_done) {
        struct conn *c = &w->conns[w->next % (uint64_t)w->nconn];
        uint64_t k = w->next / (uint64_t)w->nconn;
        uint64_t at = intended(stream_no(c, k));
        if (at >= g_t_end) {
            w->sched_done = 1;
            break;
        }
        if (at > now)
            return at;
        if (at >= g_t_measure)
            w->st.scheduled++;
        c->due++;
        w->outstanding++;
        w->next++;
        send_next(w, c); // no-op while the previous request is unanswered
    }
    return 0;
}
// [end: openloop-schedule]

static int wait_events(struct worker *w, struct epoll_event *evs, int max, uint64_t until)
{
    uint64_t now = now_ns(), d = until > now ? until - now : 0;
    struct timespec ts = {.tv_sec = (time_t)(d / 1000000000u), .tv_nsec = (long)(d % 1000000000u)};
    int n = epoll_pwait2(w->epfd, evs, max, &ts, NULL);
    if (n < 0 && errno == ENOSYS) // kernels before 5.11: millisecond timeouts, rounded up
        n = epoll_wait(w->epfd, evs, max, (int)((d + 999999) / 1000000));
    return n;
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    prctl(PR_SET_TIMERSLACK, 1UL); // wake when asked to, not up to 50 µs later
    struct epoll_event evs[256];
    for (;;) {
        uint64_t now = now_ns();
        uint64_t next = fall_due(w, now);
        if (w->sched_done && (w->outstanding == 0 || now >= g_t_stop))
            break;
        int n = wait_events(w, evs, 256, next ? next : g_t_stop);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->st == DEAD)
                continue;
            if (evs[i].events & (EPOLLOUT | EPOLLERR))
                on_writable(w, c);
            if (c->st == OPEN && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                on_readable(w, c, evs[i].events);
        }
    }
    // What never finished still waited until now: record that much (a lower
    // bound), so that a server which stopped answering cannot look fast.
    uint64_t t = now_ns();
    for (int i = 0; i < w->nconn; i++) {
        struct conn *c = &w->conns[i];
        for (uint64_t k = c->done; k < c->due; k++) {
            uint64_t at = intended(stream_no(c, k));
            if (at >= g_t_measure) {
                hist_record(&w->lat, t - at);
                w->st.unfinished++;
            }
        }
        conn_close(w, c);
    }
    return NULL;
}

// ---- set-up ----------------------------------------------------------------

// Connects fd to g_addr within CONNECT_MS; returns 0 or an errno.
static int connect_wait(int fd)
{
    if (connect(fd, (struct sockaddr *)&g_addr, sizeof g_addr) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return errno;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (poll(&p, 1, CONNECT_MS) != 1)
        return ETIMEDOUT;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    return err;
}

// Splits URL into g_addr and the request bytes; returns 0 or -1 with a message.
static int parse_url(const char *url)
{
    const char *s = url;
    if (strncmp(s, "https://", 8) == 0) {
        fprintf(stderr, "openloop: https is not supported: %s\n", url);
        return -1;
    }
    if (strncmp(s, "http://", 7) == 0)
        s += 7;
    size_t hlen = strcspn(s, ":/");
    char host[256];
    if (hlen == 0 || hlen >= sizeof host) {
        fprintf(stderr, "openloop: no host in URL %s\n", url);
        return -1;
    }
    memcpy(host, s, hlen);
    host[hlen] = 0;
    s += hlen;
    long port = 80;
    if (*s == ':') {
        char *stop;
        port = strtol(s + 1, &stop, 10);
        if (stop == s + 1 || port < 1 || port > 65535 || (*stop && *stop != '/')) {
            fprintf(stderr, "openloop: bad port in URL %s\n", url);
            return -1;
        }
        s = stop;
    }
    const char *path = *s ? s : "/";
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
    int r = getaddrinfo(host, NULL, &hints, &ai);
    if (r != 0) {
        fprintf(stderr, "openloop: cannot resolve %s: %s\n", host, gai_strerror(r));
        return -1;
    }
    g_addr = *(struct sockaddr_in *)ai->ai_addr;
    g_addr.sin_port = htons((uint16_t)port);
    freeaddrinfo(ai);
    int n = snprintf(g_request, sizeof g_request,
                     "GET %s HTTP/1.1\r\nHost: %s:%ld\r\nUser-Agent: openloop\r\n\r\n", path, host, port);
    if (n < 0 || (size_t)n >= sizeof g_request) {
        fprintf(stderr, "openloop: URL too long\n");
        return -1;
    }
    g_request_len = (size_t)n;
    return 0;
}

static void usage(const char *why)
{
    if (why)
        fprintf(stderr, "openloop: %s\n", why);
    fprintf(stderr,
            "usage: openloop [-c CONNS] [-R RATE] [-d SECONDS] [-w WARMUP] [-t THREADS] [-T DRAIN] URL\n"
            "       openloop -H < VALUES\n");
    exit(2);
}

static double num_arg(const char *s, const char *what, double lo, double hi)
{
    char *stop;
    double v = strtod(s, &stop);
    if (stop == s || *stop || !(v >= lo && v <= hi)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s must be a number from %g to %g, not '%s'", what, lo, hi, s);
        usage(msg);
    }
    return v;
}

static void print_ms(const char *label, uint64_t ns) { printf("  %s %.3f ms", label, (double)ns / 1e6); }

static double us(uint64_t ns) { return (double)ns / 1e3; }

// -H: records each value of stdin, prints "value reported-value" for each,
// then the percentiles: what the tests check the histogram against.
static int hist_check(void)
{
    static struct hist h;
    unsigned long long v;
    while (scanf("%llu", &v) == 1) {
        hist_record(&h, v);
        printf("%llu %llu\n", v, (unsigned long long)hist_value(hist_index(v)));
    }
    printf("result: count=%llu p50_ns=%llu p90_ns=%llu p99_ns=%llu p999_ns=%llu p9999_ns=%llu max_ns=%llu "
           "clamped=%llu\n",
           (unsigned long long)h.total, (unsigned long long)hist_percentile(&h, 50),
           (unsigned long long)hist_percentile(&h, 90), (unsigned long long)hist_percentile(&h, 99),
           (unsigned long long)hist_percentile(&h, 99.9), (unsigned long long)hist_percentile(&h, 99.99),
           (unsigned long long)h.max, (unsigned long long)h.clamped);
    return 0;
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "c:R:d:w:t:T:H")) != -1) {
        switch (opt) {
        case 'c':
            g_conns = (int)num_arg(optarg, "-c (connections)", 1, 100000);
            break;
        case 'R':
            g_rate = num_arg(optarg, "-R (requests per second)", 0.001, 1e8);
            break;
        case 'd':
            g_duration = num_arg(optarg, "-d (seconds)", 0.001, 3600);
            break;
        case 'w':
            g_warmup = num_arg(optarg, "-w (warm-up seconds)", 0, 3600);
            break;
        case 't':
            g_threads = (int)num_arg(optarg, "-t (threads)", 1, MAX_THREADS);
            break;
        case 'T':
            g_drain = num_arg(optarg, "-T (drain seconds)", 0, 3600);
            break;
        case 'H':
            if (argc != 2)
                usage("-H takes no other arguments");
            return hist_check();
        default:
            usage(NULL);
        }
    }
    if (argc - optind != 1)
        usage(argc - optind == 0 ? "no URL given" : "one URL only");
    if (g_threads > g_conns)
        usage("-t must not exceed -c: each thread needs a connection");
    if (parse_url(argv[optind]) < 0)
        return 2;

    static struct worker workers[MAX_THREADS];
    // Connection i belongs to thread i % threads.
    for (int j = 0; j < g_threads; j++) {
        workers[j].id = j;
        workers[j].epfd = epoll_create1(EPOLL_CLOEXEC);
        workers[j].conns = calloc((size_t)(g_conns / g_threads + 1), sizeof(struct conn));
        if (workers[j].epfd < 0 || !workers[j].conns) {
            perror("openloop");
            return 1;
        }
    }
    for (int i = 0; i < g_conns; i++) {
        struct worker *w = &workers[i % g_threads];
        struct conn *c = &w->conns[w->nconn++];
        c->index = (uint64_t)i;
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int err = c->fd < 0 ? errno : connect_wait(c->fd);
        if (err) {
            fprintf(stderr, "openloop: connect to %s:%d: %s\n", inet_ntoa(g_addr.sin_addr),
                    ntohs(g_addr.sin_port), strerror(err));
            return 1;
        }
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->st = OPEN;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev);
    }

    g_ns_per_req = 1e9 / g_rate;
    g_t0 = now_ns() + 1000000; // 1 ms for the threads to start
    g_t_measure = g_t0 + (uint64_t)(g_warmup * 1e9);
    g_t_end = g_t_measure + (uint64_t)(g_duration * 1e9);
    g_t_stop = g_t_end + (uint64_t)(g_drain * 1e9);
    for (int j = 1; j < g_threads; j++)
        if (pthread_create(&workers[j].thread, NULL, worker_run, &workers[j]) != 0) {
            perror("openloop: pthread_create");
            return 1;
        }
    worker_run(&workers[0]);
    static struct hist lat, svc;
    struct stats st = {0};
    for (int j = 0; j < g_threads; j++) {
        if (j > 0)
            pthread_join(workers[j].thread, NULL);
        struct worker *w = &workers[j];
        hist_add(&lat, &w->lat);
        hist_add(&svc, &w->svc);
        uint64_t *to = (uint64_t *)&st, *from = (uint64_t *)&w->st;
        for (size_t k = 0; k < sizeof st / sizeof(uint64_t); k++)
            to[k] += from[k];
    }

    double achieved = (double)st.in_window / g_duration;
    uint64_t errors = st.err_connect + st.err_read + st.err_parse + st.err_status + st.unfinished;
    printf("openloop: GET %s: %d connections, %d thread%s, %.1f req/s offered, %.3g s warm-up + %.3g s "
           "measured\n",
           argv[optind], g_conns, g_threads, g_threads > 1 ? "s" : "", g_rate, g_warmup, g_duration);
    printf("latency from the intended send time (corrected for coordinated omission), %llu requests:\n",
           (unsigned long long)lat.total);
    print_ms("p50", hist_percentile(&lat, 50));
    print_ms("p90", hist_percentile(&lat, 90));
    print_ms("p99", hist_percentile(&lat, 99));
    print_ms("p99.9", hist_percentile(&lat, 99.9));
    print_ms("p99.99", hist_percentile(&lat, 99.99));
    print_ms("max", lat.max);
    printf("\nlatency from the actual send time (what a closed-loop generator reports):\n");
    print_ms("p50", hist_percentile(&svc, 50));
    print_ms("p99", hist_percentile(&svc, 99));
    print_ms("max", svc.max);
    printf("\nanswered %llu of %llu scheduled, achieved %.1f req/s; errors: connect %llu, read %llu, parse "
           "%llu, "
           "status %llu, unfinished %llu\n",
           (unsigned long long)st.answered, (unsigned long long)st.scheduled, achieved,
           (unsigned long long)st.err_connect, (unsigned long long)st.err_read,
           (unsigned long long)st.err_parse, (unsigned long long)st.err_status,
           (unsigned long long)st.unfinished);
    printf("result: offered_rps=%.1f achieved_rps=%.1f scheduled=%llu answered=%llu p50_us=%.1f p90_us=%.1f "
           "p99_us=%.1f p999_us=%.1f p9999_us=%.1f max_us=%.1f mean_us=%.1f svc_p50_us=%.1f svc_p99_us=%.1f "
           "svc_max_us=%.1f err_connect=%llu err_read=%llu err_parse=%llu err_status=%llu unfinished=%llu "
           "errors=%llu connections=%d threads=%d duration_s=%.3f warmup_s=%.3f\n",
           g_rate, achieved, (unsigned long long)st.scheduled, (unsigned long long)st.answered,
           us(hist_percentile(&lat, 50)), us(hist_percentile(&lat, 90)), us(hist_percentile(&lat, 99)),
           us(hist_percentile(&lat, 99.9)), us(hist_percentile(&lat, 99.99)), us(lat.max),
           lat.total ? lat.sum / (double)lat.total / 1e3 : 0.0, us(hist_percentile(&svc, 50)),
           us(hist_percentile(&svc, 99)), us(svc.max), (unsigned long long)st.err_connect,
           (unsigned long long)st.err_read, (unsigned long long)st.err_parse,
           (unsigned long long)st.err_status, (unsigned long long)st.unfinished, (unsigned long long)errors,
           g_conns, g_threads, g_duration, g_warmup);
    return st.answered > 0 ? 0 : 1;
}
