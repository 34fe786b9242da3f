// stream.c: a connection's socket from accept to close: net's futures through the stream table, shutdown.
#include "config.h"
#include "exec/completion.h"
#include "net/stream_ops.h"
#include "sys/sys.h"

// [snippet: net-stream-dispatch]
// Readiness until net_init says otherwise: it works on every reactor, so a
// program that never calls net_init (a stage-5 test, say) is still right.
static const struct net_stream_ops *ops = &net_stream_readiness;

poll_t net_recv(struct net_stream *s, void *buf, size_t cap, ssize_t *result, struct sched_cx *cx)
{
    return ops->recv(s, buf, cap, result, cx);
}

poll_t net_send(struct net_stream *st, struct net_send *s, ssize_t *result, struct sched_cx *cx)
{
    return ops->send(st, s, result, cx);
}

void net_close(struct net_stream *s) { ops->close(s); }
// [end: net-stream-dispatch]

// [snippet: net-init]
void net_init(void) { ops = ex_completion_active() ? &net_stream_completion : &net_stream_readiness; }
// [end: net-init]

// [snippet: net-close]
// The reactor's registration goes first: the fd number is free the moment
// it is closed, and the acceptor may hand it to a new connection at once.
void net_stream_close_fd(struct net_stream *s)
{
    ex_io_forget(&s->io);
    sys_close(s->io.fd);
    s->io.fd = -1;
}
// [end: net-close]

const char *net_stream_kind(void) { return ops->name; }

const struct net_stream_ops *net_stream_table(void) { return ops; }

int net_stream_watch(struct net_stream *s, struct waker w) { return ops->watch(s, w); }

void net_shutdown_write(struct net_stream *s) { sys_shutdown(s->io.fd, SHUT_WR); }

void net_refuse_reply(int fd, const void *reply, size_t len)
{
    sys_send(fd, reply, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    char sink[NET_REFUSE_DRAIN];
    sys_recv(fd, sink, sizeof sink, MSG_DONTWAIT);
}
