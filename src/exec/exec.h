// exec.h: the executor's API: worker threads, I/O readiness, timers, and shutdown.
#ifndef EXEC_H
#define EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"

enum ex_backend { EX_BACKEND_EPOLL = 0, EX_BACKEND_PPOLL = 1, EX_BACKEND_IO_URING = 2 };

// How workers share the work (chapter 10 compares them):
//   EX_SHARED    one ready queue and one reactor for all workers; an idle
//                worker polls the reactor or parks (leader/follower);
//   EX_PER_CORE  a queue, a reactor instance, timers and a clock per worker;
//                a task stays on the worker it was spawned on.
enum ex_executor { EX_SHARED = 0, EX_PER_CORE = 1 };

struct ex_config {
    int workers;             // worker threads, 1..EX_MAX_WORKERS
    enum ex_backend backend; // reactor
    uint32_t max_tasks;      // task slots (0 = SCHED_DEFAULT_TASKS)
    enum ex_executor executor;
};

// Sets up the scheduler and the reactor; starts no threads. Returns 0 or
// -errno (for io_uring, ex_uring_why in completion.h says why).
int ex_init(const struct ex_config *cfg);
// Starts the worker threads. Returns 0 or -errno.
int ex_start(void);
// Asks everything to stop: every task is woken once so it can see
// ex_stopping(); workers exit when no task is left or the grace period
// (EX_SHUTDOWN_GRACE_MS) is over. Async-signal-safe: may be called from a
// signal handler.
void ex_shutdown(void);
// Waits for the workers to exit and releases the reactor. Returns the number
// of tasks still alive when the workers gave up (0 after a clean stop).
uint32_t ex_join(void);
bool ex_stopping(void);
// Runs fn on a worker thread each time it is about to block (park or wait in
// the reactor) and once when it exits: the place for per-thread work that
// should not cost the hot path, such as flushing a buffered log. NULL = none.
void ex_set_idle_hook(void (*fn)(void));
// Name of the active backend ("epoll", "ppoll" or "io_uring").
const char *ex_backend_name(void);
// Parses "epoll"/"ppoll"/"io_uring"; returns 0 and sets *out, or -1.
int ex_backend_parse(const char *name, enum ex_backend *out);
// Parses "shared"/"per-core"; returns 0 and sets *out, or -1.
int ex_executor_parse(const char *name, enum ex_executor *out);
const char *ex_executor_name(void);
// The calling thread's worker number, 0..ex_worker_count()-1, or -1 on a
// thread that is not a worker (main, the acceptor thread, a test's thread).
int ex_worker_id(void);
// Worker threads configured by ex_init (0 before it).
int ex_worker_count(void);
// Writes to words shared between workers, counted by the scheduler and the
// executor at each such write (sched_note_shared_writes), summed over the
// workers: the bench divides it by the requests served.
uint64_t ex_shared_writes(void);

// ---- I/O readiness --------------------------------------------------------------
#define EX_READABLE 1u
#define EX_WRITABLE 2u

// One per file descriptor a task waits on; zero-initialise, then set fd.
struct ex_io {
    int fd;
    uint32_t registered; // epoll: the events in the interest list (0: not added)
    struct waker waker;  // epoll: the waker stored with the registration
    uint32_t home;       // the reactor instance it is registered with (its task's queue)
};

// [snippet: io-wait-contract]
// Call after a non-blocking syscall on io->fd returned -EAGAIN: arranges for
// the current task to be woken when the fd may be ready for `events`, and
// returns PENDING. When the task is polled again it simply retries the
// syscall; a wake-up may be spurious, and the retry finds that out cheaply.
// On a registration error (-ENOMEM, -EBADF, ...) the task is woken at once
// and *err (if not NULL) is set, so the caller can fail the operation.
poll_t ex_io_wait(struct ex_io *io, uint32_t events, struct sched_cx *cx, int *err);
// [end: io-wait-contract]
// Registers io for task w from any thread (not only from inside w's poll):
// e.g. the acceptor, for a task spawned idle that should first run when its
// socket has data. Returns 0 or -errno.
int ex_io_watch(struct ex_io *io, uint32_t events, struct waker w);
// True if the reactor saw io's peer hang up (end of stream or error) since
// io was registered: then a read returns at once and must not wait for an
// edge. The mark belongs to this registration: another fd of the same task
// does not see it. It may err towards true (then a read costs a syscall),
// never towards false.
bool ex_io_hup_seen(const struct ex_io *io);
// Call before closing io->fd: forgets every registration for it.
void ex_io_forget(struct ex_io *io);

// ---- time and timers ------------------------------------------------------------
// Monotonic nanoseconds, as of the reactor's last wake-up (cheap; no syscall).
uint64_t ex_now_ns(void);

// A timer's one atomic word is its index: its position in the heap while
// armed, or what became of it. Leaving the heap is a single release store of
// EX_TIMER_IDLE or EX_TIMER_FIRED, the heap's last touch of the timer: who
// reads either value (acquire) may re-arm, re-initialise or free it.
#define EX_TIMER_IDLE  (-1) // never armed, or cancelled
#define EX_TIMER_FIRED (-2) // its deadline passed and its waker was woken
struct ex_timer {
    uint64_t deadline;
    struct waker waker;
    int32_t index;
    uint32_t heap; // the heap it is (or was last) armed in: its task's queue
};
#define EX_TIMER_INIT               \
    {                               \
        0, {0, 0}, EX_TIMER_IDLE, 0 \
    }

// Arms (or re-arms) t to wake w at `deadline` (ex_now_ns() clock).
// Returns 0, or -ENOMEM when EX_MAX_TIMERS are armed.
int ex_timer_arm(struct ex_timer *t, uint64_t deadline, struct waker w);
// Disarms t if armed. Must be called before t's memory goes away.
void ex_timer_cancel(struct ex_timer *t);
// True while t is in the timer heap (armed, not yet fired or cancelled).
// Any thread may ask: the heap moves t's index under its lock at any time.
bool ex_timer_armed(const struct ex_timer *t);
// True once t's deadline has passed and it was fired.
bool ex_timer_fired(const struct ex_timer *t);

// A sleep future: READY once `ns` have passed since its first poll.
struct ex_sleep {
    struct ex_timer timer;
    uint64_t ns;
    uint32_t started;
};
static inline void ex_sleep_init(struct ex_sleep *s, uint64_t ns)
{
    *s = (struct ex_sleep){.timer = EX_TIMER_INIT, .ns = ns};
}
poll_t ex_sleep_poll(struct ex_sleep *s, struct sched_cx *cx);

#endif
