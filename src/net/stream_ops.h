// stream_ops.h: the table of stream operations net picks once at start-up: readiness or completion.
#ifndef NET_STREAM_OPS_H
#define NET_STREAM_OPS_H

#include "net/net.h"

// [snippet: net-stream-ops]
// As exec talks to its reactor only through struct reactor_ops, net's
// futures go through this table. One table is chosen once, by net_init, so
// no call asks which kind of I/O is in use: net_recv, net_send and net_close
// are one indirect call each.
struct net_stream_ops {
    const char *name;
    poll_t (*recv)(struct net_stream *s, void *buf, size_t cap, ssize_t *result, struct sched_cx *cx);
    poll_t (*send)(struct net_stream *st, struct net_send *s, ssize_t *result, struct sched_cx *cx);
    void (*close)(struct net_stream *s);
    // Wake task w when the stream first has bytes (or an end) to read: for
    // a connection spawned idle at accept. 0 or -errno.
    int (*watch)(struct net_stream *s, struct waker w);
    // The listener task's poll (state: a struct net_listener): accept4 in
    // batches on readiness (listener.c), a multishot accept on completion
    // (listener_uring.c).
    sched_poll_fn listen;
};
// The table net_init chose.
const struct net_stream_ops *net_stream_table(void);

// Readiness (stream_ready.c): try the syscall, on -EAGAIN wait for the
// reactor's event, retry. Works on every reactor.
extern const struct net_stream_ops net_stream_readiness;
// [end: net-stream-ops]
// Forgets the reactor registration, then closes the fd: the end of every
// table's close (readiness has nothing else to do).
void net_stream_close_fd(struct net_stream *s);

// Completion (stream_uring.c): hand the operation to io_uring and wait for
// its completion. Only on the io_uring reactor.
extern const struct net_stream_ops net_stream_completion;

// What both listeners share (listener.c).
poll_t net_listener_ready_poll(void *state, struct sched_cx *cx);
poll_t net_listener_completion_poll(void *state, struct sched_cx *cx);
void net_listener_hand_over(struct net_listener *l, int fd);
poll_t net_listener_back_off(struct net_listener *l, struct sched_cx *cx);
poll_t net_listener_stop(struct net_listener *l);

#endif
