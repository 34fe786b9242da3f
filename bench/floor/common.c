// common.c: the floor servers' shared parts: arguments, listener, signals, answer tables, request counting.
#define _GNU_SOURCE
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

volatile sig_atomic_t floor_stop;

void floor_args(int argc, char **argv, const char *name, struct floor_addr *a)
{
    const char *port = argc == 2 ? argv[1] : argc == 3 ? argv[2] : NULL;
    a->ip = argc == 3 ? argv[1] : "127.0.0.1";
    char *end = NULL;
    long v = port ? strtol(port, &end, 10) : 0;
    struct in_addr unused;
    if (!port || *port == '\0' || *end != '\0' || v < 1 || v > 65535 ||
        inet_pton(AF_INET, a->ip, &unused) != 1) {
        fprintf(stderr, "usage: %s [IPV4] PORT   (PORT 1-65535, IPV4 default 127.0.0.1)\n", name);
        exit(2);
    }
    a->port = (int)v;
}

int floor_listen(const char *name, const struct floor_addr *a, int nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a->port)};
    inet_pton(AF_INET, a->ip, &sa.sin_addr);
    // SO_REUSEADDR for restarts over TIME_WAIT, as ours; TCP_NODELAY is
    // copied to every accepted socket, which saves a setsockopt per connection.
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, FLOOR_BACKLOG) < 0) {
        fprintf(stderr, "%s: cannot listen on %s:%d: %s\n", name, a->ip, a->port, strerror(errno));
        exit(1);
    }
    return fd;
}

static void on_signal(int sig)
{
    (void)sig;
    floor_stop = 1;
}

void floor_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal}; // no SA_RESTART: waits return EINTR
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

// One response; the Date is filled in by write_date. Same headers, in the
// same order, as our server's /plaintext answer.
static size_t format_one(char *p, const char *server, int close)
{
    return (size_t)sprintf(p,
                           "HTTP/1.1 200 OK\r\nServer: %s\r\nDate: ddd, dd mmm yyyy hh:mm:ss GMT\r\n"
                           "Content-Type: text/plain\r\nContent-Length: 13\r\n%s\r\nHello, World!",
                           server, close ? "Connection: close\r\n" : "");
}

void floor_answers_init(struct floor_answers *t, const char *server, time_t now)
{
    char one[256];
    t->keep_len = format_one(one, server, 0);
    t->keep = malloc(t->keep_len * FLOOR_MAX_PIPELINE);
    for (int i = 0; i < FLOOR_MAX_PIPELINE; i++)
        memcpy(t->keep + i * t->keep_len, one, t->keep_len);
    t->close = malloc(t->keep_len * FLOOR_MAX_PIPELINE + 64);
    memcpy(t->close, t->keep, t->keep_len * (FLOOR_MAX_PIPELINE - 1));
    t->close_len = format_one(t->close + t->keep_len * (FLOOR_MAX_PIPELINE - 1), server, 1);
    floor_answers_date(t, now);
}

static void write_date(char *resp, size_t len, const char *date)
{
    char *d = memmem(resp, len, "\r\nDate: ", 8);
    memcpy(d + 8, date, 29);
}

void floor_answers_date(struct floor_answers *t, time_t now)
{
    char date[32];
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm); // 29 characters
    for (int i = 0; i < FLOOR_MAX_PIPELINE; i++)
        write_date(t->keep + i * t->keep_len, t->keep_len, date);
    for (int i = 0; i < FLOOR_MAX_PIPELINE - 1; i++)
        write_date(t->close + i * t->keep_len, t->keep_len, date);
    write_date(t->close + (FLOOR_MAX_PIPELINE - 1) * t->keep_len, t->close_len, date);
    t->second = now;
}

const char *floor_answers_span(const struct floor_answers *t, unsigned n, int close, size_t *len)
{
    if (!close) {
        *len = n * t->keep_len;
        return t->keep;
    }
    *len = n * t->keep_len + t->close_len;
    return t->close + (FLOOR_MAX_PIPELINE - 1 - n) * t->keep_len;
}

// Does the head h[0..n) hold a "Connection: close" header line (any case)?
static int wants_close(const char *h, size_t n)
{
    const char *end = h + n;
    for (const char *q = memchr(h, '\n', n); q && end - q > 17;
         q = memchr(q + 1, '\n', (size_t)(end - q - 1))) {
        if (strncasecmp(q + 1, "connection:", 11) != 0)
            continue;
        const char *v = q + 12;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        return end - v >= 5 && strncasecmp(v, "close", 5) == 0;
    }
    return 0;
}

size_t floor_scan(const char *p, size_t n, unsigned *reqs, int *close)
{
    size_t off = 0;
    *reqs = 0;
    *close = 0;
    for (;;) {
        const char *e = memmem(p + off, n - off, "\r\n\r\n", 4);
        if (!e)
            return off;
        size_t head = (size_t)(e + 4 - (p + off));
        ++*reqs;
        if (wants_close(p + off, head)) {
            *close = 1;
            return off + head;
        }
        off += head;
    }
}
