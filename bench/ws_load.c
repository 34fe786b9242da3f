// ws_load.c: closed-loop WebSocket echo load generator (hosted C, epoll); prints one JSON object.
//
//   ws_load [-c CONNS] [-d SECONDS] [-w WARMUP_SECONDS] [-s SIZE] [-p PATH] HOST PORT
//
// Opens CONNS connections, does a real handshake on each (checking
// Sec-WebSocket-Accept), then keeps exactly one masked text frame of SIZE
// bytes in flight per connection: send, wait for the echo, check it, send
// the next. Echoes that arrive in the measured window (after the warm-up,
// once every connection is open) are counted and their round-trip times go
// into a log-linear histogram. Built by bench/bench.mk with `cc -O2`.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAYLOAD 65535
#define RBUF_SIZE   (MAX_PAYLOAD + 16)
#define HS_MAX      2048

enum state { CONNECTING, HANDSHAKE, OPEN, DEAD };

struct conn {
    int fd;
    enum state st;
    uint64_t sent_ns;  // when the frame now in flight was queued
    size_t wlen, woff; // bytes of wbuf to write, bytes written
    size_t rlen;       // bytes in rbuf
    char accept[32];   // the Sec-WebSocket-Accept value we expect
    uint8_t wbuf[HS_MAX];
    uint8_t *rbuf;
};

struct stats {
    uint64_t messages, err_connect, err_handshake, err_closed, err_protocol;
    uint64_t sum_ns, max_ns;
};

// ---- clock, random -------------------------------------------------------

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rng32(void)
{ // xorshift64*: masks need to vary, not to be secret
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1du) >> 32);
}

// ---- latency histogram: bench/hist.h ------------------------------------
#include "hist.h"

// ---- SHA-1 and base64, for the handshake check (RFC 3174, RFC 4648) -------

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1(const uint8_t *msg, size_t len, uint8_t out[20])
{
    uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    uint8_t block[64];
    size_t total = ((len + 8) / 64 + 1) * 64;
    for (size_t off = 0; off < total; off += 64) {
        for (size_t i = 0; i < 64; i++) {
            size_t k = off + i;
            if (k < len)
                block[i] = msg[k];
            else if (k == len)
                block[i] = 0x80;
            else if (k >= total - 8)
                block[i] = (uint8_t)(((uint64_t)len * 8) >> (8 * (total - 1 - k)));
            else
                block[i] = 0;
        }
        uint32_t w[80];
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
                   (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
        for (int i = 16; i < 80; i++)
            w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5a827999;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ed9eba1;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8f1bbcdc;
            } else {
                f = b ^ c ^ d;
                k = 0xca62c1d6;
            }
            uint32_t t = rol(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rol(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

static void base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v =
            (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = 0;
}

// ---- connections -----------------------------------------------------------

static const char *g_host, *g_path = "/ws";
static int g_port;
static size_t g_size = 64;
static uint8_t g_payload[MAX_PAYLOAD];
static struct stats st;
static int g_epfd;
static int measuring; // echoes count only while set

static void conn_kill(struct conn *c, uint64_t *counter)
{
    if (c->st == DEAD)
        return;
    if (counter)
        (*counter)++;
    epoll_ctl(g_epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->st = DEAD;
}

// Writes what is left of wbuf; returns 0 when done or waiting for EPOLLOUT, -1 on error.
static int conn_flush(struct conn *c)
{
    while (c->woff < c->wlen) {
        ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
        if (n > 0) {
            c->woff += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            return 0;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return -1;
        }
    }
    return 0;
}

static void send_handshake(struct conn *c)
{
    uint8_t key[16];
    char key64[32];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)rng32();
    base64(key, 16, key64);
    char cat[96];
    int n = snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key64);
    uint8_t digest[20];
    sha1((const uint8_t *)cat, (size_t)n, digest);
    base64(digest, 20, c->accept);
    c->wlen =
        (size_t)snprintf((char *)c->wbuf, sizeof c->wbuf,
                         "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                         g_path, g_host, g_port, key64);
    c->woff = 0;
    c->st = HANDSHAKE;
    if (conn_flush(c) < 0)
        conn_kill(c, &st.err_handshake);
}

// [snippet: ws-load-send-frame]
// Queues one masked text frame carrying g_payload and starts writing it.
// Clients must mask every frame (RFC 6455 5.3), with a fresh key each time.
static void send_message(struct conn *c)
{
    uint8_t *f = c->wbuf;
    size_t h = 0;
    f[h++] = 0x81; // FIN, opcode 1 (text)
    if (g_size < 126) {
        f[h++] = (uint8_t)(0x80 | g_size);
    } else {
        f[h++] = 0x80 | 126;
        f[h++] = (uint8_t)(g_size >> 8);
        f[h++] = (uint8_t)g_size;
    }
    uint32_t key = rng32();
    uint8_t *mask = f + h;
    memcpy(mask, &key, 4);
    h += 4;
    for (size_t i = 0; i < g_size; i++)
        f[h + i] = g_payload[i] ^ mask[i & 3];
    c->wlen = h + g_size;
    c->woff = 0;
    c->sent_ns = now_ns();
    if (conn_flush(c) < 0)
        conn_kill(c, &st.err_closed);
}
// [end: ws-load-send-frame]

static void on_echo(struct conn *c, uint64_t t)
{
    if (measuring) {
        uint64_t lat = t - c->sent_ns;
        st.messages++;
        st.sum_ns += lat;
        if (lat > st.max_ns)
            st.max_ns = lat;
        hist[hist_index(lat)]++;
    }
    send_message(c);
}

// Parses the handshake answer in rbuf; returns 1 when open, 0 for more input, -1 if refused.
static int parse_handshake(struct conn *c)
{
    c->rbuf[c->rlen] = 0;
    char *end = strstr((char *)c->rbuf, "\r\n\r\n");
    if (!end)
        return c->rlen >= HS_MAX ? -1 : 0;
    if (strncmp((char *)c->rbuf, "HTTP/1.1 101", 12) != 0)
        return -1;
    char *h = strcasestr((char *)c->rbuf, "\r\nSec-WebSocket-Accept:");
    if (!h || h > end)
        return -1;
    h += strlen("\r\nSec-WebSocket-Accept:");
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncmp(h, c->accept, strlen(c->accept)) != 0)
        return -1;
    size_t used = (size_t)(end + 4 - (char *)c->rbuf);
    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
    c->rlen -= used;
    c->st = OPEN;
    return 1;
}

// Consumes complete frames in rbuf. Returns 0, or -1 after killing the connection.
static int parse_frames(struct conn *c, uint64_t t)
{
    size_t off = 0;
    while (c->rlen - off >= 2) {
        uint8_t *f = c->rbuf + off;
        size_t avail = c->rlen - off, h = 2, len = f[1] & 0x7f;
        if (f[1] & 0x80) { // servers never mask
            conn_kill(c, &st.err_protocol);
            return -1;
        }
        if (len == 126) {
            if (avail < 4)
                break;
            len = (size_t)f[2] << 8 | f[3];
            h = 4;
        } else if (len == 127) {
            conn_kill(c, &st.err_protocol);
            return -1;
        }
        if (avail < h + len)
            break;
        int opcode = f[0] & 0x0f;
        if (opcode == 0x8) {
            conn_kill(c, &st.err_closed);
            return -1;
        }
        if (opcode == 0x9 || opcode == 0xa) { // ping/pong: not expected, not an echo
            off += h + len;
            continue;
        }
        if (opcode != 0x1 || !(f[0] & 0x80) || len != g_size || memcmp(f + h, g_payload, len) != 0) {
            conn_kill(c, &st.err_protocol);
            return -1;
        }
        off += h + len;
        on_echo(c, t);
        if (c->st == DEAD)
            return -1;
    }
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    return 0;
}

static void on_readable(struct conn *c)
{
    for (;;) {
        size_t room = (c->st == HANDSHAKE ? HS_MAX : RBUF_SIZE) - c->rlen;
        ssize_t n = read(c->fd, c->rbuf + c->rlen, room);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            conn_kill(c, c->st == HANDSHAKE ? &st.err_handshake : &st.err_closed);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; // EAGAIN: drained
        }
        c->rlen += (size_t)n;
        uint64_t t = now_ns(); // after the read: an echo may answer a frame sent in this very loop
        if (c->st == HANDSHAKE) {
            int r = parse_handshake(c);
            if (r < 0) {
                conn_kill(c, &st.err_handshake);
                return;
            }
            if (r == 0)
                continue;
            send_message(c);
            if (c->st == DEAD)
                return;
        }
        if (parse_frames(c, t) < 0)
            return;
    }
}

static void on_writable(struct conn *c)
{
    if (c->st == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            conn_kill(c, &st.err_connect);
            return;
        }
        send_handshake(c);
        return;
    }
    if (c->woff < c->wlen && conn_flush(c) < 0)
        conn_kill(c, &st.err_closed);
}

static void usage(void)
{
    fprintf(stderr, "usage: ws_load [-c CONNS] [-d SECONDS] [-w WARMUP] [-s SIZE] [-p PATH] HOST PORT\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int nconn = 1, opt;
    double duration = 3, warmup = 1;
    while ((opt = getopt(argc, argv, "c:d:w:s:p:")) != -1) {
        switch (opt) {
        case 'c':
            nconn = atoi(optarg);
            break;
        case 'd':
            duration = atof(optarg);
            break;
        case 'w':
            warmup = atof(optarg);
            break;
        case 's':
            g_size = (size_t)atol(optarg);
            break;
        case 'p':
            g_path = optarg;
            break;
        default:
            usage();
        }
    }
    if (argc - optind != 2 || nconn < 1 || duration <= 0 || warmup < 0 || g_size < 1 || g_size > MAX_PAYLOAD)
        usage();
    g_host = argv[optind];
    g_port = atoi(argv[optind + 1]);
    getrandom(&rng_state, sizeof rng_state, 0);
    rng_state |= 1;
    for (size_t i = 0; i < g_size; i++)
        g_payload[i] = (uint8_t)('a' + i % 26);

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    if (inet_pton(AF_INET, g_host, &sa.sin_addr) != 1) {
        fprintf(stderr, "ws_load: HOST must be an IPv4 address\n");
        return 2;
    }
    g_epfd = epoll_create1(EPOLL_CLOEXEC);
    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    if (!conns || g_epfd < 0) {
        perror("ws_load");
        return 1;
    }
    for (int i = 0; i < nconn; i++) {
        struct conn *c = &conns[i];
        c->rbuf = malloc(RBUF_SIZE + 1);
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || !c->rbuf) {
            perror("ws_load: socket");
            return 1;
        }
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->st = CONNECTING;
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
            close(c->fd);
            c->st = DEAD;
            st.err_connect++;
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
        epoll_ctl(g_epfd, EPOLL_CTL_ADD, c->fd, &ev);
    }

    // The warm-up starts once every connection is open (or given up on:
    // 10 s at most); the measured window follows it.
    uint64_t t_start = now_ns(), t_open = 0, t_measure = 0, t_end = 0;
    struct epoll_event evs[512];
    for (;;) {
        int n = epoll_wait(g_epfd, evs, 512, 5);
        uint64_t t = now_ns();
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->st == DEAD)
                continue;
            if (evs[i].events & (EPOLLOUT | EPOLLERR))
                on_writable(c);
            if (c->st != DEAD && c->st != CONNECTING && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                on_readable(c);
        }
        if (!t_open) {
            int pending = 0, open = 0;
            for (int i = 0; i < nconn; i++) {
                pending += conns[i].st == CONNECTING || conns[i].st == HANDSHAKE;
                open += conns[i].st == OPEN;
            }
            if (pending == 0 || t - t_start > 10000000000ull) {
                if (open == 0) {
                    fprintf(stderr,
                            "ws_load: no connection opened (connect errors %llu, handshake errors %llu)\n",
                            (unsigned long long)st.err_connect,
                            (unsigned long long)(st.err_handshake + pending));
                    return 1;
                }
                st.err_handshake += (uint64_t)pending;
                for (int i = 0; i < nconn; i++)
                    if (conns[i].st == CONNECTING || conns[i].st == HANDSHAKE)
                        conn_kill(&conns[i], NULL);
                t_open = t;
                t_measure = t + (uint64_t)(warmup * 1e9);
                t_end = t_measure + (uint64_t)(duration * 1e9);
            }
        }
        if (t_open && !measuring && t >= t_measure && t < t_end)
            measuring = 1;
        if (t_open && t >= t_end)
            break;
    }
    measuring = 0;
    double window = (double)(now_ns() - t_measure) / 1e9;
    int open = 0;
    for (int i = 0; i < nconn; i++) {
        struct conn *c = &conns[i];
        if (c->st == DEAD)
            continue;
        open++;
        static const uint8_t close_frame[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8}; // 1000, zero mask
        ssize_t w = write(c->fd, close_frame, sizeof close_frame);
        (void)w;
        close(c->fd);
    }
    printf("{\"connections\": %d, \"open_at_end\": %d, \"size\": %zu, \"duration_s\": %.3f, "
           "\"messages\": %llu, \"msgs_per_s\": %.1f, \"lat_mean_us\": %.1f, \"lat_max_us\": %.1f, "
           "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, "
           "\"err_connect\": %llu, \"err_handshake\": %llu, \"err_closed\": %llu, \"err_protocol\": %llu}\n",
           nconn, open, g_size, window, (unsigned long long)st.messages, (double)st.messages / window,
           st.messages ? (double)st.sum_ns / (double)st.messages / 1000.0 : 0.0, (double)st.max_ns / 1000.0,
           hist_percentile(st.messages, 50), hist_percentile(st.messages, 90),
           hist_percentile(st.messages, 99), hist_percentile(st.messages, 99.9),
           (unsigned long long)st.err_connect, (unsigned long long)st.err_handshake,
           (unsigned long long)st.err_closed, (unsigned long long)st.err_protocol);
    return st.messages > 0 ? 0 : 1;
}
