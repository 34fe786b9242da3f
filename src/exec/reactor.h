// reactor.h: the reactor backend table (inside the executor): ppoll, epoll and io_uring behind one interface.
#ifndef EXEC_REACTOR_H
#define EXEC_REACTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "exec/exec.h"

// [snippet: reactor-ops]
// Like redis's ae_*.c or nginx's event modules: the executor talks to a
// backend only through this table, so ppoll and epoll coexist and the
// executor's logic (who polls, who sleeps, who wakes whom) is written once.
struct reactor_ops {
    const char *name;
    int (*init)(void);
    void (*destroy)(void);
    // Register interest for the current task after EAGAIN. 0 or -errno.
    int (*arm)(struct ex_io *io, uint32_t events, struct waker w);
    // Drop every registration of io->fd (before it is closed).
    void (*forget)(struct ex_io *io);
    // Block up to timeout_ns (-1: no limit) for readiness or a kick, and wake
    // the tasks whose fds fired. Returns the number of events or -errno.
    int (*wait)(int64_t timeout_ns);
    // Make a blocked wait() return soon. Async-signal-safe.
    void (*kick)(void);
    // True if an event for this registration reported that the peer closed
    // or the connection broke (EPOLLRDHUP/HUP/ERR). An edge-triggered backend
    // needs it: that edge comes once, and a reader must not wait for another.
    bool (*hup_seen)(const struct ex_io *io);
};
// [end: reactor-ops]

// Backends call this right after their wait syscall returns (see worker.c).
void ex_clock_refresh(void);

extern const struct reactor_ops reactor_epoll;
extern const struct reactor_ops reactor_ppoll;
extern const struct reactor_ops reactor_uring;

#endif
