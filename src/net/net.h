// net.h: TCP for the executor: listen sockets, accepting, recv/send futures, I/O buffers.
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/exec.h"
#include "sys/kernel_abi.h"
#include "sys/thread.h"

// ---- addresses and the listening socket -----------------------------------------------
// Parses a dotted-quad IPv4 address into network byte order. 0 or -1.
int net_parse_ipv4(const char *s, uint32_t *addr_be);
// Parses a port 1..65535. 0 or -1.
int net_parse_port(const char *s, uint16_t *port);
// A listening TCP socket on ip:port (port 0 = any; see net_local_port).
// Returns the fd or -errno (-EADDRINUSE when the port is taken).
int net_listen(uint32_t addr_be, uint16_t port, int backlog);
// Same, with SO_REUSEPORT: several sockets on one port, each with its own
// accept queue; the kernel spreads new connections over them by a hash.
int net_listen_reuseport(uint32_t addr_be, uint16_t port, int backlog);
// The port a socket is bound to, or -errno.
int net_local_port(int fd);

// ---- the acceptor thread ----------------------------------------------------------------
// True when accept failed for want of descriptors or memory (EMFILE, ENFILE,
// ENOBUFS, ENOMEM). Retrying at once would spin at 100% CPU: every way of
// accepting pauses NET_EMFILE_BACKOFF_MS instead, while connections that
// finish give some back.
static inline bool net_accept_out_of_room(int err)
{
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

// [snippet: acceptor-api]
// Called on the acceptor thread with each new connection (non-blocking,
// close-on-exec, TCP_NODELAY). Returns 0 if it took the fd, or -errno if it
// could not (e.g. -EAGAIN: no task slot free); then the acceptor calls
// on_refused(fd) if set, and closes the fd.
typedef int (*net_accept_fn)(int fd, void *arg);

struct net_acceptor {
    int listen_fd;
    net_accept_fn on_accept;
    void (*on_refused)(int fd); // e.g. write a 503; must not block
    void *arg;
    struct sys_thread *thread;
    uint32_t stopping;
    uint64_t accepted, refused, backoffs;
};

// Starts the acceptor thread on a->listen_fd. Returns 0 or -errno.
int net_acceptor_start(struct net_acceptor *a);
// Stops accepting (the listening socket is shut down) and joins the thread.
void net_acceptor_stop(struct net_acceptor *a);
// [end: acceptor-api]

// ---- a connected socket, owned by net from accept to close ----------------------------------
struct net_stream_uring; // the completion path's state (stream_uring.h, chapter 9)

// [snippet: net-stream]
// One connection's socket. The layers above keep it in their task state and
// never touch the fd with a syscall: they read and write through the
// futures below and end it with net_close, which does the one rule of
// closing (forget the registration, then close) in one place.
struct net_stream {
    struct ex_io io;  // the fd and its reactor registration
    uint32_t drained; // the last read emptied the socket (see net_recv)
    // Requests in flight, taken at the first (stream_uring.c).          [later: io_uring]
    struct net_stream_uring *uring; // [later: io_uring]
};

// Takes ownership of a connected, non-blocking fd.
static inline void net_stream_init(struct net_stream *s, int fd)
{
    *s = (struct net_stream){.io = {.fd = fd}};
}
// Registers s for task w from any thread, to wake w when it becomes
// readable (a task spawned idle, first run when its request arrives); on
// the completion path its first receive is submitted at once. 0 or -errno.
int net_stream_watch(struct net_stream *s, struct waker w);
// Stops sending: the peer reads end of stream after the bytes already sent,
// while we can still read (a lingering close).
void net_shutdown_write(struct net_stream *s);
// Forgets the reactor registration, then closes the fd. s is unusable after.
void net_close(struct net_stream *s);
// [end: net-stream]

// For a connection refused on the acceptor thread before any task owns it:
// sends reply if the socket takes it at once, and reads what the client
// already sent, so that the acceptor's close sends FIN, not a reset. Never
// blocks. The fd stays open: the acceptor closes it.
void net_refuse_reply(int fd, const void *reply, size_t len);

// ---- workers accept: a listener task ------------------------------------------------------
// [snippet: listener-api]
// The listening socket goes into the reactor and a task accepts: on
// readiness, whichever worker polls it calls accept4 until -EAGAIN (at most
// NET_ACCEPT_BATCH at a time) and hands each fd to on_accept on that worker.
// Same hooks and the same answers as the acceptor thread: on_refused and
// close when on_accept fails, a pause of NET_EMFILE_BACKOFF_MS (a timer,
// the worker stays free) when out of descriptors. At ex_shutdown the task
// shuts the listening socket down and ends; the caller closes it after ex_join.
struct ex_accept; // the completion path's multishot accept (exec/completion.h) [later: io_uring]
struct net_listener {
    int listen_fd;
    net_accept_fn on_accept;
    void (*on_refused)(int fd);
    void *arg;
    uint32_t home;               // per-core: the ready queue (worker) it runs on  [later: per-core]
    bool spread;                 // its connections go round robin over every queue [later: per-core]
    struct ex_accept *multishot; // io_uring: the multishot accept (listener_uring.c) [later: io_uring]
    struct ex_io io;
    struct ex_timer backoff;
    uint64_t accepted, refused, backoffs; // read them after ex_join
};

// Makes listen_fd non-blocking and spawns the listener task (one task slot).
// Call after ex_init. Returns 0 or -errno (-EAGAIN: no task slot).
int net_listener_start(struct net_listener *l);
// [end: listener-api]

// ---- async I/O on a connected socket ------------------------------------------------------
// [snippet: net-futures]
// Leaf futures. Each does the syscall; on EAGAIN it registers the task with
// the reactor and returns PENDING; when polled again it simply retries.

// Receives up to cap bytes. READY with *result = bytes (> 0), 0 at end of
// stream, or -errno.
poll_t net_recv(struct net_stream *s, void *buf, size_t cap, ssize_t *result, struct sched_cx *cx);

// Sends every byte of an iovec list, resuming after short writes: the state
// remembers how far it got, so a slow peer costs a PENDING, never a blocked
// worker or a lost tail. READY with *result = total bytes, or -errno.
#define NET_SEND_MAX_IOV 4
struct net_send {
    struct iovec iov[NET_SEND_MAX_IOV];
    int iovcnt;
    size_t total, sent;
};
void net_send_init(struct net_send *s, const void *buf, size_t len);
void net_send_add(struct net_send *s, const void *buf, size_t len);
// The part of s not yet sent, as iovecs into out (the first one trimmed to
// where the last send stopped). Returns how many.
int net_send_unsent(const struct net_send *s, struct iovec out[NET_SEND_MAX_IOV]);
poll_t net_send(struct net_stream *st, struct net_send *s, ssize_t *result, struct sched_cx *cx);
// [end: net-futures]

// ---- I/O buffers (buf_pool.c) --------------------------------------------------------------
// [snippet: net-buf-api]
// Buffers of NET_BUF_SIZE bytes for reading and writing sockets. A
// connection takes one when bytes arrive or a reply is written, and gives it
// back as soon as it holds nothing unparsed or unsent, so an idle connection
// holds none. Any thread may give back a buffer any thread took.
void *net_buf_take(void);     // a buffer, or NULL (out of memory)
void net_buf_give(void *buf); // a buffer from net_buf_take; NULL is ignored
// Frees a read buffer that may have been grown: cap NET_BUF_SIZE means a
// pool buffer (back to the pool), any other cap a block from mem_alloc.
void net_buf_release(void *buf, size_t cap);
// Buffers lent out now (taken and not given back), and free ones kept in
// the threads' lists. A snapshot: each is a recent value under load.
struct net_buf_stats {
    uint64_t in_use, cached;
};
void net_buf_stats(struct net_buf_stats *out);
// [end: net-buf-api]

// Picks the stream operations that fit the executor's reactor (see
// stream_ops.h): call once, after ex_init and before the first net_recv.
// Without it net uses readiness, which every reactor supports.
void net_init(void);
// "readiness" or "completion": the operations net_init picked.
const char *net_stream_kind(void);
// Panics if a request of s is in flight. What a request names (the stream's
// ex_ops, a send's bytes and iovecs) is the kernel's until its completion,
// so whoever frees such memory calls this first: freed before net_close,
// it ends the process here rather than let the kernel send reused memory,
// another connection's bytes perhaps, to this peer. Two loads on io_uring,
// one on the readiness backends: it stays on in every build.
void net_stream_check_quiet(const struct net_stream *s);

// Sets TCP_NODELAY (send small responses now, not after the peer's ACK).
int net_set_nodelay(int fd);

#endif
