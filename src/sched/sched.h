// sched.h: task slots, the task state machine, wakers and the ready queue: the scheduler's API.
#ifndef SCHED_H
#define SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/future.h"

typedef poll_t (*sched_poll_fn)(void *state, struct sched_cx *cx);

// [snippet: task-states]
// A task's state word is the one source of truth for scheduling. Every
// transition is a single compare-and-swap on this 64-bit word, which holds
// the slot's generation (high half) and the state (low half):
//
//   FREE       slot unused                     spawn -> SCHEDULED
//   IDLE       waiting for a wake              wake  -> SCHEDULED (+ enqueue)
//   SCHEDULED  in the ready queue, once        worker dequeues -> RUNNING
//   RUNNING    being polled by one worker      wake  -> NOTIFIED
//                                              poll PENDING -> IDLE
//                                              poll READY   -> FREE, gen+1
//   NOTIFIED   woken while running             poll PENDING -> SCHEDULED (+ enqueue)
//
// Only the IDLE -> SCHEDULED and NOTIFIED -> SCHEDULED transitions enqueue,
// so a task is in the queue at most once and never polled by two workers at
// once; a wake during a poll is remembered (NOTIFIED), never lost; and a wake
// whose generation differs from the slot's is stale and does nothing.
enum task_state { TASK_FREE = 0, TASK_IDLE, TASK_SCHEDULED, TASK_RUNNING, TASK_NOTIFIED };
// [end: task-states]

struct sched_stats {
    uint64_t spawned, completed, stale_wakes, spawn_failures;
    uint32_t live, limit;
};

// Resets the scheduler to hold at most max_tasks tasks (<= SCHED_MAX_TASK_SLOTS).
// Only valid while no task is alive. Returns 0 or -EINVAL.
int sched_init(uint32_t max_tasks);

// Called (from any thread) each time a task becomes runnable, with the
// ready queue it went to, so the layer above can wake the worker that takes
// from that queue. The executor installs it; NULL = none.
void sched_set_notify(void (*notify)(uint32_t home));

// ---- ready queues: one for all workers, or one per worker (chapter 10) ----
// [snippet: sched-queues]
// Makes n ready queues (1..SCHED_MAX_QUEUES; 1 after start-up) and resets
// the scheduler as sched_init does. Only valid while no task is alive.
// Returns 0 or -EINVAL.
int sched_set_queues(uint32_t n);
uint32_t sched_queues(void);
// A thread that runs tasks says which queue is its own: sched_run_one and
// sched_has_ready use it, and the tasks this thread spawns go to it (unless
// spread is set). A thread that never attached uses queue 0 and spreads.
struct sched_thread {
    uint32_t queue;
    bool spread;
    bool queue_shared;      // other threads pop from this queue too (the shared executor)
    uint64_t shared_writes; // see sched_note_shared_write
};
void sched_thread_attach(struct sched_thread *st);
// Tasks this thread spawns from now on go round robin over every queue (on)
// or to its own (off). Returns the previous setting. For a listener that
// accepts for all workers.
bool sched_spread_spawns(bool on);
// Counts, on the calling thread, n writes to words that other workers
// write too: the cache line it is on must travel between cores, which is
// what stops an executor from scaling. The scheduler and the executor call
// it at each such write they make (its callers are the list); a thread with
// no sched_thread counts nothing. Not counted: the allocator's and the I/O
// buffers' central lists (reached only when a thread's cache runs dry or
// overflows) and the kernel's own locks. The counts are the
// evidence behind chapter 10's claim: none per keep-alive request with the
// per-core executor.
void sched_note_shared_writes(uint32_t n);

// The queue of the task w names: where a wake queues it, and so which
// worker runs it. Stable for the task's life.
uint32_t sched_home(struct waker w);
// [end: sched-queues]

// Creates a task polling poll(state, cx); drop(state) runs after it returns
// READY (drop may be NULL). The task is queued to run. Returns 0, or -EAGAIN
// when every slot is taken. *out (if not NULL) receives its waker.
int sched_spawn(sched_poll_fn poll, void *state, void (*drop)(void *), struct waker *out);
// Same, but the task starts IDLE: it first runs when someone wakes it
// (e.g. the reactor, once its socket has data).
int sched_spawn_idle(sched_poll_fn poll, void *state, void (*drop)(void *), struct waker *out);

// As sched_spawn, on ready queue `home` (< sched_queues()).
int sched_spawn_on(uint32_t home, sched_poll_fn poll, void *state, void (*drop)(void *), struct waker *out);

// Makes the task runnable (see task-states). Safe from any thread, any
// number of times. Returns true if this call queued the task.
bool sched_wake(struct waker w);

// Dequeues one runnable task from this thread's queue and polls it once.
// Returns 1 if a task ran, 0 if the queue was empty.
int sched_run_one(void);

// Wakes every live task once (used at shutdown so each can notice and finish).
void sched_wake_all(void);

// True if this thread's ready queue looks non-empty (a hint, for idle loops).
bool sched_has_ready(void);
// Number of live (spawned, not finished) tasks.
uint32_t sched_live(void);
void sched_get_stats(struct sched_stats *out);

#endif
