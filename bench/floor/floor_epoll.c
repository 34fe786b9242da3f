// floor_epoll.c: the least an HTTP/1.1 responder can do per request with epoll (hosted C, the bench's floor).
//
//   floor_epoll [IPV4] PORT
//
// One thread, one level-triggered epoll loop: one epoll_wait per batch of
// ready sockets, then for each ready connection one recv and one send that
// answers every complete request head the recv brought (pipelined ones
// included) with our server's /plaintext response, whatever the path.
// Connection: close is answered and the socket closed; EOF closes it. No
// routing, no parsing beyond finding the heads' ends, no timers, no task
// per connection: what is left is what epoll and TCP cost.
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define NAME   "floor_epoll"
#define EVENTS 512

struct conn {
    int open;          // accepted and not closed
    size_t len;        // bytes of an unfinished request head at the start of buf
    char *unsent;      // what a short send left, sent on EPOLLOUT (rare: the socket buffer was full)
    size_t unsent_len; // bytes in unsent
    size_t unsent_off; // bytes of unsent already sent
    int close_after;   // close once unsent is out
    char buf[FLOOR_HEAD_MAX];
};

static int ep;
static struct conn **conns; // indexed by fd
static int nconns;
static struct floor_answers answers;

// A connection's struct stays with its fd number once allocated: the kernel
// hands out the lowest free numbers, so they are reused, and a malloc and
// free per connection (with the page faults of a heap that grows and
// shrinks) is no part of the least work.
static void conn_open(int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (fd >= nconns || (!conns[fd] && !(conns[fd] = malloc(sizeof *conns[fd]))) ||
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        return;
    }
    struct conn *c = conns[fd];
    c->open = 1;
    c->len = c->unsent_len = c->unsent_off = 0;
    c->unsent = NULL;
    c->close_after = 0;
}

// close() also takes the socket out of the epoll set: no EPOLL_CTL_DEL.
static void conn_close(int fd)
{
    free(conns[fd]->unsent);
    conns[fd]->unsent = NULL;
    conns[fd]->open = 0;
    close(fd);
}

// Queues p[0..n) behind what a short send left; returns -1 if out of memory.
static int stash(struct conn *c, const char *p, size_t n)
{
    char *u = realloc(c->unsent, c->unsent_len + n);
    if (!u)
        return -1;
    memcpy(u + c->unsent_len, p, n);
    c->unsent = u;
    c->unsent_len += n;
    return 0;
}

// Sends p[0..n), or stashes what the socket would not take. Returns -1 if
// the connection is broken.
static int send_or_stash(int fd, struct conn *c, const char *p, size_t n)
{
    ssize_t w = 0;
    if (!c->unsent_len) {
        w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN)
            return -1;
        if (w == (ssize_t)n)
            return 0;
        if (w < 0)
            w = 0;
    }
    return stash(c, p + w, n - (size_t)w);
}

// Answers reqs requests (the last with Connection: close if close); one
// send unless more than FLOOR_MAX_PIPELINE were pipelined in one recv.
// Returns -1 if the connection is to be closed now.
static int answer(int fd, struct conn *c, unsigned reqs, int close)
{
    while (reqs) {
        // The close table holds one keep-alive response fewer than FLOOR_MAX_PIPELINE.
        int last = close && reqs <= FLOOR_MAX_PIPELINE;
        unsigned n = last || reqs < FLOOR_MAX_PIPELINE ? reqs : FLOOR_MAX_PIPELINE;
        size_t len;
        const char *p = floor_answers_span(&answers, last ? n - 1 : n, last, &len);
        if (send_or_stash(fd, c, p, len) < 0)
            return -1;
        reqs -= n;
    }
    if (c->unsent_len) {
        struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd}; // no more reads until it is out
        c->close_after = close;
        return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    }
    return close ? -1 : 0;
}

// [snippet: floor-epoll-read]
// One readable connection: one recv, count the complete heads, one send.
static void conn_readable(int fd, struct conn *c)
{
    ssize_t r = recv(fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (r <= 0) {
        if (r == 0 || errno != EAGAIN)
            conn_close(fd); // EOF or a reset
        return;
    }
    c->len += (size_t)r;
    unsigned reqs;
    int close;
    size_t used = floor_scan(c->buf, c->len, &reqs, &close);
    if ((reqs && answer(fd, c, reqs, close) < 0) || (close && !c->unsent_len)) {
        conn_close(fd);
        return;
    }
    // A head cut by the end of the recv waits at the start of buf for the rest.
    c->len -= used;
    if (c->len && used)
        memmove(c->buf, c->buf + used, c->len);
    if (c->len == sizeof c->buf)
        conn_close(fd); // a head longer than FLOOR_HEAD_MAX
}
// [end: floor-epoll-read]

// EPOLLOUT after a short send: send the rest, then read again (or close).
static void conn_writable(int fd, struct conn *c)
{
    ssize_t w = send(fd, c->unsent + c->unsent_off, c->unsent_len - c->unsent_off, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) {
        conn_close(fd);
        return;
    }
    c->unsent_off += w > 0 ? (size_t)w : 0;
    if (c->unsent_off < c->unsent_len)
        return;
    free(c->unsent);
    c->unsent = NULL;
    c->unsent_len = c->unsent_off = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (c->close_after || epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0)
        conn_close(fd);
}

int main(int argc, char **argv)
{
    struct floor_addr a;
    floor_args(argc, argv, NAME, &a);
    int lfd = floor_listen(NAME, &a, 1);
    floor_signals();
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    nconns = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
    conns = calloc((size_t)nconns, sizeof *conns);
    floor_answers_init(&answers, "floor-epoll", time(NULL));
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
    if (!conns || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        perror(NAME);
        return 1;
    }
    printf("%s: listening on http://%s:%d/\n", NAME, a.ip, a.port);
    fflush(stdout);
    unsigned long accepted = 0;
    // [snippet: floor-epoll-loop]
    struct epoll_event ev[EVENTS];
    while (!floor_stop) {
        int n = epoll_wait(ep, ev, EVENTS, -1);
        if (n < 0 && errno != EINTR) {
            perror(NAME ": epoll_wait");
            return 1;
        }
        time_t now = time(NULL); // the vDSO: no system call
        if (now != answers.second)
            floor_answers_date(&answers, now);
        for (int i = 0; i < n; i++) {
            int fd = ev[i].data.fd;
            if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    conn_open(c);
                    accepted++;
                }
            } else if (!conns[fd]->open) {
                continue; // closed earlier in this batch
            } else if (conns[fd]->unsent_len) {
                conn_writable(fd, conns[fd]);
            } else {
                conn_readable(fd, conns[fd]);
            }
        }
    }
    // [end: floor-epoll-loop]
    printf("%s: stopped (%lu connections accepted)\n", NAME, accepted);
    return 0;
}
