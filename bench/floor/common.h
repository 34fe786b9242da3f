// common.h: what the floor servers share: arguments, the listener, the answer bytes, request counting.
//
// The floor servers (floor_epoll.c, floor_uring.c) are hosted C and live
// only in the bench: each is the least an HTTP responder can do per request
// on one kind of I/O, so the bench can read every figure of ours as a
// distance to it.
#ifndef BENCH_FLOOR_COMMON_H
#define BENCH_FLOOR_COMMON_H

#include <signal.h>
#include <stddef.h>
#include <time.h>

#define FLOOR_MAX_PIPELINE 64   // responses written in a row: the most one send carries
#define FLOOR_HEAD_MAX     8192 // a request head longer than this closes its connection
#define FLOOR_BACKLOG      1024 // as the bench's nginx gets

struct floor_addr {
    const char *ip;
    int port;
};

// Reads "PORT" or "IP PORT" from the command line; prints the usage and
// exits 2 if they are missing or malformed.
void floor_args(int argc, char **argv, const char *name, struct floor_addr *a);

// A listening TCP socket on a->ip:a->port with TCP_NODELAY (inherited by
// every accepted socket); non-blocking if nonblock. Prints why and exits 1
// if it cannot (the port is in use, the address is not ours).
int floor_listen(const char *name, const struct floor_addr *a, int nonblock);

// Set to 1 by SIGINT or SIGTERM. The handlers are installed without
// SA_RESTART, so a blocked wait returns EINTR and the loop sees the flag.
extern volatile sig_atomic_t floor_stop;
void floor_signals(void);

// The only answer a floor server gives, pre-written FLOOR_MAX_PIPELINE
// times in a row so that n pipelined requests are answered by one send of
// n copies: nothing is formatted or copied per request.
struct floor_answers {
    char *keep;       // FLOOR_MAX_PIPELINE keep-alive responses
    char *close;      // FLOOR_MAX_PIPELINE - 1 keep-alive responses, then one with Connection: close
    size_t keep_len;  // bytes of one keep-alive response
    size_t close_len; // bytes of the Connection: close one
    time_t second;    // the Date they carry
};

// Allocates the tables; `server` is the Server header's value, 11
// characters like "async-nostd" so that the responses have our size.
void floor_answers_init(struct floor_answers *t, const char *server, time_t now);

// Rewrites the Date of every response for second `now` (their length does not change).
void floor_answers_date(struct floor_answers *t, time_t now);

// The bytes of n keep-alive responses, followed by the Connection: close
// one if close; n <= FLOOR_MAX_PIPELINE, or FLOOR_MAX_PIPELINE - 1 with close.
const char *floor_answers_span(const struct floor_answers *t, unsigned n, int close, size_t *len);

// Counts the complete request heads (up to their blank line) at the start
// of p[0..n): returns the bytes they span and sets *reqs to their number.
// Sets *close to 1 and stops there if a head asks for Connection: close.
// A request body is not expected (the bench sends GETs).
size_t floor_scan(const char *p, size_t n, unsigned *reqs, int *close);

#endif
