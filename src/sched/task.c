// task.c: the task table and its state machine: spawn, wake, and polling one task.
#include "config.h"
#include "sched/ready_queue.h"
#include "sched/sched.h"
#include "sched/slot_pool.h"
#include "sys/atomic.h"
#include "sys/errno.h"
#include "sys/sys.h"
#include "sys/thread.h"

// [snippet: task-table]
// Room for every slot in the ready queue, rounded up to a power of two.
#define QUEUE_CAPACITY (1u << (32 - __builtin_clz(SCHED_MAX_TASK_SLOTS - 1)))

struct task {
    uint64_t word; // gen << 32 | enum task_state
    sched_poll_fn poll;
    void *state;
    void (*drop)(void *);
    uint32_t home;              // the ready queue it is queued to, chosen at spawn [later: per-core]
} __attribute__((aligned(64))); // one cache line each: no false sharing between workers

static struct task tasks[SCHED_MAX_TASK_SLOTS];
static uint32_t pool_next[SCHED_MAX_TASK_SLOTS];
static struct slot_pool pool;
static void (*notify_hook)(uint32_t home);
static uint32_t task_limit;
// One ready queue per worker with the per-core executor, one for all with
// the shared one (chapter 10). sched_init initialises only the cells a
// queue can need, so the queues never used cost no memory.
static struct ready_cell queue_cells[SCHED_MAX_QUEUES][QUEUE_CAPACITY];
static struct ready_queue queues[SCHED_MAX_QUEUES];
static uint32_t nqueues = 1;
static uint32_t spread_next; // round-robin placement for threads that have no queue
static uint32_t live;
// Counters touched once per task (not per poll), so they cost the hot path nothing.
static uint64_t stat_spawned, stat_completed, stat_stale, stat_spawn_fail;

#define WORD(gen, state) ((uint64_t)(gen) << 32 | (state))
#define GEN(word)        ((uint32_t)((word) >> 32))
#define STATE(word)      ((uint32_t)(word))
// [end: task-table]

#define QUEUE_MIN_LAP 4096u // cells a queue gets at least (see below)
_Static_assert(QUEUE_MIN_LAP <= QUEUE_CAPACITY, "QUEUE_MIN_LAP above the cells there are");

int sched_init(uint32_t max_tasks)
{
    if (max_tasks == 0 || max_tasks > SCHED_MAX_TASK_SLOTS || atomic_load_seq(&live) != 0)
        return -EINVAL;
    task_limit = max_tasks;
    sched_slot_pool_init(&pool, pool_next, max_tasks);
    // Room for every slot is not quite enough: a consumer that has moved
    // head past a cell but not yet handed the cell back (it was preempted
    // between the two) makes that cell look full to the producer a lap
    // later, however few tasks are queued, and enqueue would panic. So a
    // lap is at least QUEUE_MIN_LAP cells (the whole table's QUEUE_CAPACITY
    // for a large limit, as with one queue), which no preemption outlasts
    // in practice.
    uint64_t cap = QUEUE_MIN_LAP;
    while (cap < 2 * (uint64_t)max_tasks && cap < QUEUE_CAPACITY)
        cap <<= 1;
    for (uint32_t q = 0; q < nqueues; q++)
        sched_ready_queue_init(&queues[q], queue_cells[q], cap);
    // Every slot is FREE already: a never-used one is zero (FREE, generation
    // 0), and a task's word goes FREE before `live` drops. The words are left
    // alone, which keeps the generations (old wakers stay stale) and leaves the
    // slots beyond those ever used untouched: their pages of .bss cost memory
    // only once a spawn uses them, so a large limit is free until it is used.
    return 0;
}

void sched_set_notify(void (*notify)(uint32_t home)) { atomic_store_seq(&notify_hook, notify); }

int sched_set_queues(uint32_t n)
{
    if (n == 0 || n > SCHED_MAX_QUEUES || atomic_load_seq(&live) != 0)
        return -EINVAL;
    nqueues = n;
    return sched_init(task_limit ? task_limit : SCHED_DEFAULT_TASKS);
}

uint32_t sched_queues(void) { return nqueues; }

void sched_thread_attach(struct sched_thread *st) { sys_thread_self()->slot[SLOT_SCHED] = st; }

static struct sched_thread *this_thread(void) { return sys_thread_self()->slot[SLOT_SCHED]; }

static uint32_t this_queue(void)
{
    struct sched_thread *st = this_thread();
    return st ? st->queue : 0;
}

// [snippet: sched-note-shared]
void sched_note_shared_writes(uint32_t n)
{
    struct sched_thread *st = this_thread();
    if (st)
        st->shared_writes += n; // this thread's own word: counting shares nothing
}
// [end: sched-note-shared]

// A push writes the queue's tail and a cell: shared when the queue is
// another worker's or every worker's. A pop writes head: shared when every
// worker pops from this queue.
static void note_push(uint32_t home)
{
    struct sched_thread *st = this_thread();
    if (st && (st->queue_shared || st->queue != home))
        st->shared_writes++;
}

static void note_pop(void)
{
    struct sched_thread *st = this_thread();
    if (st && st->queue_shared)
        st->shared_writes++;
}

bool sched_spread_spawns(bool on)
{
    struct sched_thread *st = this_thread();
    if (!st)
        return true; // a thread without a queue always spreads
    bool was = st->spread;
    st->spread = on;
    return was;
}

// [snippet: task-place]
// Where a new task lives: the spawning worker's own queue, so that a task
// and what it spawns stay on one core; round robin from a thread without a
// queue (main, the acceptor thread) or one that asked to spread.
static uint32_t place(void)
{
    struct sched_thread *st = this_thread();
    if (st && !st->spread)
        return st->queue;
    if (nqueues == 1)
        return 0;
    sched_note_shared_writes(1);
    return atomic_fetch_add(&spread_next, 1) % nqueues;
}

uint32_t sched_home(struct waker w) { return w.slot < task_limit ? tasks[w.slot].home : 0; }
// [end: task-place]

// [snippet: task-enqueue]
static void enqueue(uint32_t slot)
{
    uint32_t home = tasks[slot].home;
    // The queue has room for every slot and a task is queued at most once,
    // so it is never really full. But a push can still find its cell taken:
    // a consumer that moved head past that cell a lap ago and was preempted
    // before handing it back. The cell is free the moment that consumer
    // runs again, so yield and retry: never panic, never drop the task.
    note_push(home); // [later: per-core]
    while (!sched_ready_queue_push(&queues[home], slot))
        sys_sched_yield();
    void (*notify)(uint32_t) = atomic_load_acquire(&notify_hook);
    if (notify)
        notify(home);
}
// [end: task-enqueue]

static int spawn(uint32_t home, sched_poll_fn poll, void *state, void (*drop)(void *), struct waker *out,
                 enum task_state first)
{
    int64_t slot = sched_slot_pool_pop(&pool);
    if (slot < 0) {
        atomic_add_relaxed(&stat_spawn_fail, 1);
        return -EAGAIN;
    }
    struct task *t = &tasks[slot];
    uint32_t gen = GEN(atomic_load_acquire(&t->word));
    t->poll = poll;
    t->state = state;
    t->drop = drop;
    t->home = home < nqueues ? home : 0;
    sched_note_shared_writes(1); // live, the slot pool: per task, not per request [later: per-core]
    atomic_fetch_add(&live, 1);
    atomic_add_relaxed(&stat_spawned, 1);
    if (out)
        *out = (struct waker){(uint32_t)slot, gen};
    atomic_store_release(&t->word, WORD(gen, first)); // publishes poll/state/drop
    if (first == TASK_SCHEDULED)
        enqueue((uint32_t)slot);
    return 0;
}

int sched_spawn(sched_poll_fn poll, void *state, void (*drop)(void *), struct waker *out)
{
    return spawn(place(), poll, state, drop, out, TASK_SCHEDULED);
}

int sched_spawn_idle(sched_poll_fn poll, void *state, void (*drop)(void *), struct waker *out)
{
    return spawn(place(), poll, state, drop, out, TASK_IDLE);
}

int sched_spawn_on(uint32_t home, sched_poll_fn poll, void *state, void (*drop)(void *), struct waker *out)
{
    return spawn(home, poll, state, drop, out, TASK_SCHEDULED);
}

// [snippet: task-wake]
// Makes the task w names runnable, following the state machine
// (task-states): IDLE -> SCHEDULED (and queue it), RUNNING -> NOTIFIED (the
// worker polling it queues it again). Returns true if this call queued the
// task; false for a stale waker (the slot's generation moved on), a task
// already SCHEDULED or NOTIFIED, or one that is RUNNING. Safe from any thread,
// any number of times. Called by reactors, timers, wakers and YIELD.
// [lab: sched_wake]
bool sched_wake(struct waker w)
{
    if (w.slot >= task_limit)
        return false;
    struct task *t = &tasks[w.slot];
    uint64_t word = atomic_load_acquire(&t->word);
    for (;;) {
        if (GEN(word) != w.gen) { // the task this waker named is gone
            atomic_add_relaxed(&stat_stale, 1);
            return false;
        }
        switch (STATE(word)) {
        case TASK_IDLE:
            if (atomic_cas(&t->word, &word, WORD(w.gen, TASK_SCHEDULED))) {
                enqueue(w.slot);
                return true;
            }
            break; // lost a race; `word` now holds the current value: retry
        case TASK_RUNNING:
            if (atomic_cas(&t->word, &word, WORD(w.gen, TASK_NOTIFIED)))
                return false; // the worker polling it will queue it again
            break;
        default: // SCHEDULED or NOTIFIED: it will run anyway. FREE: gone.
            return false;
        }
    }
}
// [end lab: sched_wake]
// [end: task-wake]

// [snippet: task-run]
// Dequeues one runnable task, moves it SCHEDULED -> RUNNING and polls it
// once. READY: free the slot with the next generation (every old waker goes
// stale), drop its state. PENDING: RUNNING -> IDLE, or, if a wake came during
// the poll (NOTIFIED), SCHEDULED and queued again. Returns 1 if a task ran,
// 0 if the queue was empty. Called in a loop by every worker thread.
// [lab: sched_run_one]
int sched_run_one(void)
{
    uint32_t slot;
    if (!sched_ready_queue_pop(&queues[this_queue()], &slot))
        return 0;
    note_pop(); // [later: per-core]
    struct task *t = &tasks[slot];
    uint64_t word = atomic_load_acquire(&t->word);
    uint32_t gen = GEN(word);
    // We dequeued it, so it is SCHEDULED and nobody else may move it on.
    if (STATE(word) != TASK_SCHEDULED || !atomic_cas(&t->word, &word, WORD(gen, TASK_RUNNING)))
        SYS_PANIC("dequeued a task that is not SCHEDULED: the state word was moved by someone else");

    struct sched_cx cx = {.waker = {slot, gen}};
    poll_t r = t->poll(t->state, &cx);

    if (r == READY) {
        void (*drop)(void *) = t->drop;
        void *state = t->state;
        // RUNNING or NOTIFIED -> FREE with the next generation: every waker
        // still out there for this task becomes stale at this instant.
        word = atomic_load_acquire(&t->word);
        while (!atomic_cas(&t->word, &word, WORD(gen + 1, TASK_FREE)))
            ;
        if (drop)
            drop(state);
        sched_slot_pool_push(&pool, slot);
        atomic_add_relaxed(&stat_completed, 1);
        sched_note_shared_writes(1); // [later: per-core]
        atomic_fetch_sub(&live, 1);
        return 1;
    }
    word = WORD(gen, TASK_RUNNING);
    if (atomic_cas(&t->word, &word, WORD(gen, TASK_IDLE)))
        return 1; // parked until a waker fires
    // The CAS failed, so a wake arrived during the poll (NOTIFIED): run again.
    atomic_store_release(&t->word, WORD(gen, TASK_SCHEDULED));
    enqueue(slot);
    return 1;
}
// [end lab: sched_run_one]
// [end: task-run]

void sched_wake_all(void)
{
    for (uint32_t i = 0; i < task_limit; i++) {
        uint64_t word = atomic_load_acquire(&tasks[i].word);
        if (STATE(word) != TASK_FREE)
            sched_wake((struct waker){i, GEN(word)});
    }
}

bool sched_has_ready(void) { return sched_ready_queue_length(&queues[this_queue()]) != 0; }
uint32_t sched_live(void) { return atomic_load_seq(&live); }

void sched_get_stats(struct sched_stats *out)
{
    *out = (struct sched_stats){
        .spawned = atomic_load_relaxed(&stat_spawned),
        .completed = atomic_load_relaxed(&stat_completed),
        .stale_wakes = atomic_load_relaxed(&stat_stale),
        .spawn_failures = atomic_load_relaxed(&stat_spawn_fail),
        .live = atomic_load_relaxed(&live),
        .limit = task_limit,
    };
}
