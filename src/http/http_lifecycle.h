// http_lifecycle.h: one connection's life, whatever protocol it speaks: socket, timer, read buffer, end.
#ifndef HTTP_LIFECYCLE_H
#define HTTP_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include "exec/exec.h"
#include "http/http_deadline.h"
#include "http/http_server.h"
#include "net/net.h"

// [snippet: http-lifecycle]
// What every connection has, from accept to close, whichever protocol it
// speaks: HTTP/1.1 first, then perhaps the protocol of an upgrade. The
// protocols read, send and linger through the functions below, and only
// here does the connection touch its socket; so the waits share one
// timeout policy, the read buffer one rule for going back to the pool, and
// the end one order.
struct http_lifecycle {
    struct net_stream sock;
    struct http_deadline deadline; // the current wait's deadline, one timer for all of them
    // Received bytes: [start, len) of in are not yet consumed. in is lent
    // while it holds bytes: a pool buffer (cap NET_BUF_SIZE) or a grown
    // block (any other cap); NULL while there are none. It stays across an
    // upgrade: bytes the client sent behind its handshake are the new
    // protocol's first bytes, with no copy.
    char *in;
    size_t cap, start, len;
    bool lingering; // http_lifecycle_linger has shut the write side down
    // The protocol that took over after an upgrade, and its state: freed at
    // the end, after the socket is closed.
    const struct http_upgrade_hook *upgrade;
    void *upgrade_state;
};
// [end: http-lifecycle]

// Takes ownership of a connected, non-blocking fd.
void http_lifecycle_init(struct http_lifecycle *l, int fd);
// Starts the wait for the first bytes of the task w (spawned idle): arms
// the timer for idle_ms and watches the socket. Returns false when either
// cannot be done: the caller then wakes w, whose first wait ends it.
bool http_lifecycle_start(struct http_lifecycle *l, uint64_t idle_ms, struct waker w);

// Makes room to receive: forgets consumed bytes, moves an unconsumed tail
// to the front of a full buffer, takes a buffer when there is none (a pool
// buffer, or a block of `want` bytes when want > NET_BUF_SIZE), and grows
// a smaller one to `want` bytes, keeping its bytes. Returns false when no
// byte of room is left: full, or no memory for a buffer.
bool http_lifecycle_room(struct http_lifecycle *l, size_t want);
// Gives the read buffer back if it holds no unconsumed byte.
void http_lifecycle_give_back(struct http_lifecycle *l);

// Receives into the room http_lifecycle_room made, within the deadline.
// READY with *result = bytes (> 0; then len grew by them), 0 at end of
// stream, -ETIMEDOUT when the deadline passed, or -errno. Whenever it
// returns with no byte gained the empty buffer goes back: an idle
// connection holds none.
poll_t http_lifecycle_recv(struct http_lifecycle *l, ssize_t *result, struct sched_cx *cx);
// Sends all of s within the deadline: READY with *result = bytes sent,
// -ETIMEDOUT, or -errno.
poll_t http_lifecycle_send(struct http_lifecycle *l, struct net_send *s, ssize_t *result,
                           struct sched_cx *cx);

// The lingering close: stops sending (FIN after what was sent), then reads
// and drops the peer's bytes for at most ms, until it closes. READY when done.
poll_t http_lifecycle_linger(struct http_lifecycle *l, uint64_t ms, struct sched_cx *cx);

// Ends the connection in the one safe order: the timer and the socket
// first (net_close cancels what is in flight and returns once the
// completions are in), then what those requests named: the upgrade's
// state, then the read buffer. The caller frees its own buffers after it.
void http_lifecycle_end(struct http_lifecycle *l);

#endif
