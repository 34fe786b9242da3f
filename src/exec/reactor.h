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
//
// A backend runs n instances, one per ready queue: one for the shared
// executor, one per worker for the per-core executor (chapter 10).
// Instance i watches the fds of the tasks whose home is queue i
// (sched_home), so arm picks the instance from the waker.
struct reactor_ops {
    const char *name;
    // Creates instances 0..n-1. 0 or -errno (then nothing is left open).
    // per_worker: instance i belongs to worker i alone (the per-core
    // executor), which calls attach(i) on its own thread before it uses it.
    int (*init)(uint32_t n, bool per_worker);
    void (*destroy)(void);
    // NULL, or: the calling thread is instance i's worker from now on
    // (attach), or is leaving it (detach: the last call it makes).
    void (*attach)(uint32_t i);
    void (*detach)(uint32_t i);
    // Register interest for task w after EAGAIN, in the instance of w's
    // queue (recorded in io->home). 0 or -errno.
    int (*arm)(struct ex_io *io, uint32_t events, struct waker w);
    // Drop every registration of io->fd (before it is closed).
    void (*forget)(struct ex_io *io);
    // Block up to timeout_ns (-1: no limit) for readiness or a kick on
    // instance i, and wake the tasks whose fds fired. Returns the number of
    // events or -errno.
    int (*wait)(uint32_t i, int64_t timeout_ns);
    // Make a blocked wait() of instance i return soon. Async-signal-safe.
    void (*kick)(uint32_t i);
    // True if an event for this registration reported that the peer closed
    // or the connection broke (EPOLLRDHUP/HUP/ERR). An edge-triggered backend
    // needs it: that edge comes once, and a reader must not wait for another.
    bool (*hup_seen)(const struct ex_io *io);
};
// [end: reactor-ops]

// True when instance i's words (its timer heap's lock, its ring's SQ lock)
// are written by other threads too: the shared executor with several
// workers, or a thread that is not instance i's worker. For the count of
// shared writes (sched_note_shared_writes).
bool ex_instance_shared(uint32_t i);

// Backends call this right after their wait syscall returns (see worker.c):
// it refreshes the calling worker's cached clock.
void ex_clock_refresh(void);

extern const struct reactor_ops reactor_epoll;
extern const struct reactor_ops reactor_ppoll;
extern const struct reactor_ops reactor_uring;

#endif
