// worker.c: the executor: worker threads, a shared reactor or one per worker, notify, shutdown.
#include "config.h"
#include "exec/exec.h"
#include "exec/reactor.h"
#include "exec/timer.h"
#include "mem/mem.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/errno.h"
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/thread.h"

// [snippet: executor-state]
// Who does what when there is nothing to run, with the shared executor
// (one ready queue, one reactor instance):
//   - at most one worker is the *poller*: it blocks in the reactor and wakes
//     the tasks whose fds or timers fired (leader/follower);
//   - the other idle workers *park* on a futex word (park_seq).
// Every path that makes a task runnable ends in notify(), which must reach
// a sleeping worker if the task would otherwise sit in the queue:
//   - a parked worker is woken through the futex;
//   - a poller blocked in the reactor is kicked through its eventfd.
// With the per-core executor (chapter 10) every worker has its own queue, // [later: per-core]
// reactor instance, timers and clock, and is always its own poller.       // [later: per-core]
struct poller {
    uint32_t blocked;           // 1 while its worker is (about to be) inside wait()
    uint64_t wait_deadline;     // what the blocked poller waits for (UINT64_MAX: no timer)
    uint32_t wait_failures;     // reactor waits failed in a row (see poll_reactor)
    uint64_t now;               // cached clock, refreshed by the poller
} __attribute__((aligned(64))); // one per reactor instance, on its own cache line

struct worker {
    struct sched_thread queue; // its ready queue (per-core: its own; shared: queue 0) [later: per-core]
    uint32_t reactor;          // the reactor instance and timer heap it polls [later: per-core]
    struct sys_thread *thread;
} __attribute__((aligned(64)));

struct executor {
    const struct reactor_ops *reactor;
    enum ex_executor kind; // the shared executor (chapter 4) or the per-core one (chapter 10)
    int nworkers;
    uint32_t ninstances; // reactor instances = ready queues = timer heaps [later: per-core]
    struct worker workers[EX_MAX_WORKERS];
    struct poller pollers[EX_MAX_WORKERS];
    uint32_t poller_taken;   // shared: 1 while some worker owns the reactor
    uint32_t parked;         // shared: workers sleeping on park_seq
    uint32_t park_seq;       // shared: bumped by every wake of a parked worker
    uint32_t waking;         // shared: a parked worker was woken and has not yet looked for work
    uint32_t stopping;       // 0 running, 1 stopping (grace period), 2 leave now
    uint64_t stop_deadline;  // set once, by the ex_shutdown that wins, before stopping
    void (*idle_hook)(void); // before a worker blocks, and when it exits
};
// [end: executor-state]
_Static_assert(EX_MAX_WORKERS <= SCHED_MAX_QUEUES, "a ready queue per worker");

static struct executor ex;

static struct worker *this_worker(void) { return sys_thread_self()->slot[SLOT_EXECUTOR]; }
static bool on_worker_thread(void) { return this_worker() != NULL; }

static void kick_all(void)
{
    for (uint32_t i = 0; i < ex.ninstances; i++)
        ex.reactor->kick(i);
}

// Wakes up to n parked workers. The bump makes a worker that is just about
// to sleep (it read the old park_seq) return from futex_wait at once.
static void wake_parked(int n)
{
    sched_note_shared_writes(1);
    atomic_fetch_add(&ex.park_seq, 1);
    sys_futex_wake(&ex.park_seq, n);
}

// [snippet: notify-per-core]
// A task was queued on `home`. The queue's own worker drains it before it
// blocks; anyone else kicks that worker if it is blocked in its reactor.
static void notify_per_core(uint32_t home)
{
    struct worker *me = this_worker();
    if ((!me || me->queue.queue != home) && atomic_load_seq(&ex.pollers[home].blocked)) {
        sched_note_shared_writes(1); // the other worker's kick word
        ex.reactor->kick(home);
    }
}
// [end: notify-per-core]

// [snippet: notify]
// Installed as the scheduler's notify hook: runs after every enqueue, with
// the queue the task went to.
static void notify(uint32_t home)
{
    if (ex.kind == EX_PER_CORE) { // [later: per-core]
        notify_per_core(home);    // [later: per-core]
        return;                   // [later: per-core]
    }                             // [later: per-core]
    if (on_worker_thread()) {
        // This worker drains the queue before it sleeps, so nothing can be
        // stranded; waking a parked peer only adds parallelism. One wake in
        // flight at a time, so a burst of wakes costs one futex call.
        bool parked = atomic_load_seq(&ex.parked) != 0;
        if (parked && !atomic_exchange(&ex.waking, 1))
            wake_parked(1);
        sched_note_shared_writes(parked); // the exchange on waking [later: per-core]
        return;
    }
    // Another thread (the acceptor, a signal handler, a test): if no worker
    // is awake to see the task, wake one.
    if (atomic_load_seq(&ex.parked))
        wake_parked(1);
    else if (atomic_load_seq(&ex.pollers[0].blocked))
        ex.reactor->kick(0);
    sched_note_shared_writes(1); // the kick word, or park_seq [later: per-core]
}
// [end: notify]

// [snippet: timer-earlier]
static void timer_earlier(uint32_t heap, uint64_t deadline)
{
    // A new earliest timer: a poller blocked with a later (or no) timeout
    // must recompute it.
    struct poller *p = &ex.pollers[heap];
    if (atomic_load_seq(&p->blocked) && deadline < atomic_load_seq(&p->wait_deadline)) {
        sched_note_shared_writes(ex_instance_shared(heap)); // [later: per-core]
        ex.reactor->kick(heap);
    }
}
// [end: timer-earlier]

// [snippet: ex-clock]
// The calling worker's cached clock; a thread that is no worker reads the
// clock itself (from the vDSO: no syscall either).
uint64_t ex_now_ns(void)
{
    struct worker *w = this_worker();
    return w ? atomic_load_relaxed(&ex.pollers[w->reactor].now) : sys_now_ns();
}

// Called by a backend as soon as its wait returns, before it wakes a task:
// a woken task may arm a timer from ex_now_ns() on another worker at once,
// and a clock as old as the whole wait would make that timer fire early.
void ex_clock_refresh(void)
{
    struct worker *w = this_worker();
    atomic_store_relaxed(&ex.pollers[w ? w->reactor : 0].now, sys_now_ns());
}
// [end: ex-clock]
bool ex_stopping(void) { return atomic_load_acquire(&ex.stopping) != 0; }

// The grace deadline, or UINT64_MAX while running. stopping is stored after
// stop_deadline (ex_shutdown) and read here with acquire: who sees it set
// also sees the deadline, never a stale 0 that would end the grace at once.
static uint64_t stop_deadline(void)
{
    return atomic_load_acquire(&ex.stopping) ? atomic_load_relaxed(&ex.stop_deadline) : UINT64_MAX;
}
void ex_set_idle_hook(void (*fn)(void)) { atomic_store_seq(&ex.idle_hook, fn); }

static void run_idle_hook(void)
{
    void (*fn)(void) = atomic_load_acquire(&ex.idle_hook);
    if (fn)
        fn();
}
const char *ex_backend_name(void) { return ex.reactor ? ex.reactor->name : "none"; }

int ex_backend_parse(const char *name, enum ex_backend *out)
{
    if (sys_streq(name, "epoll"))
        *out = EX_BACKEND_EPOLL;
    else if (sys_streq(name, "ppoll"))
        *out = EX_BACKEND_PPOLL;
    else if (sys_streq(name, "io_uring"))
        *out = EX_BACKEND_IO_URING;
    else
        return -1;
    return 0;
}

int ex_executor_parse(const char *name, enum ex_executor *out)
{
    if (sys_streq(name, "shared"))
        *out = EX_SHARED;
    else if (sys_streq(name, "per-core"))
        *out = EX_PER_CORE;
    else
        return -1;
    return 0;
}

const char *ex_executor_name(void) { return ex.kind == EX_PER_CORE ? "per-core" : "shared"; }

int ex_worker_id(void)
{
    struct worker *me = this_worker();
    return me ? (int)(me - ex.workers) : -1;
}

int ex_worker_count(void) { return ex.nworkers; }

bool ex_instance_shared(uint32_t i)
{
    struct worker *me = this_worker();
    return (ex.kind == EX_SHARED && ex.nworkers > 1) || !me || me->reactor != i;
}

uint64_t ex_shared_writes(void)
{
    uint64_t n = 0;
    for (int i = 0; i < ex.nworkers; i++)
        n += atomic_load_relaxed(&ex.workers[i].queue.shared_writes);
    return n;
}

poll_t ex_io_wait(struct ex_io *io, uint32_t events, struct sched_cx *cx, int *err)
{
    int r = ex.reactor->arm(io, events, cx->waker);
    if (err)
        *err = r;
    if (r < 0)
        sched_wake(cx->waker); // let the caller see the error on its next poll
    return PENDING;
}

int ex_io_watch(struct ex_io *io, uint32_t events, struct waker w) { return ex.reactor->arm(io, events, w); }

bool ex_io_hup_seen(const struct ex_io *io) { return ex.reactor->hup_seen(io); }

void ex_io_forget(struct ex_io *io) { ex.reactor->forget(io); }

// A failed wait returns at once, so retrying in a loop would spin a core.
// -ENOMEM (the kernel is short of memory) may pass: back off, 1 ms doubling
// to 128 ms. Anything else (-EBADF, -EINVAL, -EFAULT) means the reactor
// itself is broken, and no retry can mend it: say so and stop the process.
static void reactor_failed(struct poller *p, int err)
{
    if (err != -ENOMEM && err != -EAGAIN) {
        char msg[96];
        sys_snprintf(msg, sizeof msg, "%s reactor: wait failed with %s", ex.reactor->name,
                     sys_errno_name(-err));
        sys_panic(msg);
    }
    uint32_t n = p->wait_failures < 7 ? p->wait_failures++ : 7;
    struct timespec pause = {0, (long)(NS_PER_MS << n)};
    sys_nanosleep(&pause, NULL);
}

// [snippet: poll-reactor]
// The poller's turn on reactor instance i: block until I/O, a timer or a
// kick, then fire due timers. `may_block` is false when there may be work
// already.
static void poll_reactor(uint32_t i, bool may_block)
{
    struct poller *p = &ex.pollers[i];
    int64_t timeout = 0;
    if (may_block) {
        // Announce first, then read the earliest timer. A timer armed before
        // the read is in the heap we read; one armed after it sees us
        // announced and compares with wait_deadline, which stays "unknown"
        // (UINT64_MAX: every new timer kicks) until the value we wait for
        // is stored. Reading first would miss a timer armed in between.
        atomic_store_seq(&p->wait_deadline, UINT64_MAX);
        atomic_store_seq(&p->blocked, 1);
        uint64_t deadline = timer_next_deadline(i);
        if (stop_deadline() < deadline)
            deadline = stop_deadline();
        atomic_store_seq(&p->wait_deadline, deadline);
        // Re-check after announcing ourselves: a task queued before the store
        // was not followed by a kick, so we must not sleep on it.
        if (sched_has_ready() || atomic_load_seq(&ex.stopping) > 1)
            timeout = 0;
        else if (deadline == UINT64_MAX)
            timeout = -1;
        else {
            uint64_t now = sys_now_ns();
            timeout = deadline > now ? (int64_t)(deadline - now) : 0;
        }
    }
    int r = ex.reactor->wait(i, timeout); // refreshes the clock (ex_clock_refresh) before it wakes anyone
    atomic_store_seq(&p->blocked, 0);
    if (r < 0)
        reactor_failed(p, r);
    else
        p->wait_failures = 0;
    timer_fire_due(i, atomic_load_relaxed(&p->now));
}
// [end: poll-reactor]

// [snippet: park]
// Sleep until notify(). We get here only after failing to take the poller
// role, so some other worker is awake (polling, or about to retry the role)
// and the reactor is always watched.
static void park(void)
{
    atomic_fetch_add(&ex.parked, 1);
    uint32_t seq = atomic_load_seq(&ex.park_seq);
    // Re-check after counting ourselves as parked: a notify() from now on sees
    // us and bumps park_seq (so the futex_wait returns at once), and a task
    // queued before that is visible to this check.
    if (!sched_has_ready() && atomic_load_seq(&ex.stopping) < 2)
        sys_futex_wait(&ex.park_seq, seq, NULL);
    atomic_fetch_sub(&ex.parked, 1);
    atomic_store_seq(&ex.waking, 0);
    sched_note_shared_writes(3); // parked twice, waking [later: per-core]
}
// [end: park]

static bool should_exit(void)
{
    uint32_t s = atomic_load_seq(&ex.stopping);
    if (!s)
        return false;
    if (sched_live() == 0 || sys_now_ns() >= stop_deadline()) {
        atomic_store_seq(&ex.stopping, 2); // tell everyone: leave now
        return true;
    }
    return false;
}

// [snippet: worker-loop]
// Runs up to EX_RUN_BATCH tasks from this worker's ready queue. Returns how
// many ran, or -1 when the worker must leave (shutdown says so).
static int run_batch(void)
{
    int ran = 0;
    while (ran < EX_RUN_BATCH && sched_run_one())
        ran++;
    if (should_exit() || atomic_load_seq(&ex.stopping) > 1)
        return -1;
    return ran;
}

static void shared_loop(void)
{
    for (;;) {
        int ran = run_batch();
        if (ran < 0)
            return;
        uint32_t expected = 0;
        bool poller = atomic_cas(&ex.poller_taken, &expected, 1);
        sched_note_shared_writes(ex.nworkers > 1 ? 1u + poller : 0); // the CAS, the release [later: per-core]
        if (ran == EX_RUN_BATCH) {
            // Still busy: look for I/O without blocking, so a stream of ready
            // tasks cannot starve the sockets, then run more.
            if (poller) {
                poll_reactor(0, false);
                atomic_store_seq(&ex.poller_taken, 0);
            }
            continue;
        }
        run_idle_hook();
        if (poller) {
            poll_reactor(0, true);
            atomic_store_seq(&ex.poller_taken, 0);
        } else {
            park();
        }
    }
}
// [end: worker-loop]

// [snippet: worker-loop-per-core]
// A per-core worker runs its own queue and polls its own reactor, and
// nothing else: it never parks (its reactor wait is its sleep) and never
// takes a task from another queue.
static void per_core_loop(struct worker *me)
{
    for (;;) {
        int ran = run_batch();
        if (ran < 0)
            return;
        if (ran < EX_RUN_BATCH)
            run_idle_hook();
        poll_reactor(me->reactor, ran < EX_RUN_BATCH);
    }
}
// [end: worker-loop-per-core]

// [snippet: worker-main]
static int worker_main(void *arg)
{
    struct worker *me = arg;
    sys_thread_self()->slot[SLOT_EXECUTOR] = me;
    sched_thread_attach(&me->queue);                  // [later: per-core]
    if (ex.kind == EX_PER_CORE && ex.reactor->attach) // [later: per-core]
        ex.reactor->attach(me->reactor);              // [later: per-core]
    if (ex.kind == EX_SHARED)
        shared_loop();
    else                   // [later: per-core]
        per_core_loop(me); // [later: per-core]
    run_idle_hook();
    if (ex.kind == EX_PER_CORE && ex.reactor->detach) // [later: per-core]
        ex.reactor->detach(me->reactor);              // [later: per-core]
    // Whoever leaves first makes sure nobody stays asleep.
    wake_parked(EX_MAX_WORKERS);
    kick_all();
    sched_thread_attach(NULL); // [later: per-core]
    sys_thread_self()->slot[SLOT_EXECUTOR] = NULL;
    mem_thread_exit();
    return 0;
}
// [end: worker-main]

int ex_init(const struct ex_config *cfg)
{
    if (cfg->workers < 1 || cfg->workers > EX_MAX_WORKERS ||
        (cfg->executor != EX_SHARED && cfg->executor != EX_PER_CORE))
        return -EINVAL;
    uint32_t n = cfg->executor == EX_PER_CORE ? (uint32_t)cfg->workers : 1;
    int r = sched_set_queues(n);
    if (r == 0)
        r = sched_init(cfg->max_tasks ? cfg->max_tasks : SCHED_DEFAULT_TASKS);
    if (r < 0)
        return r;
    void (*idle_hook)(void) = ex.idle_hook; // may be installed before ex_init
    sys_memset(&ex, 0, sizeof ex);
    ex.idle_hook = idle_hook;
    ex.kind = cfg->executor;
    ex.nworkers = cfg->workers;
    ex.ninstances = n;
    for (int i = 0; i < cfg->workers; i++) {
        uint32_t own = ex.kind == EX_PER_CORE ? (uint32_t)i : 0;
        ex.workers[i] =
            (struct worker){.queue = {.queue = own, .queue_shared = ex.kind == EX_SHARED && cfg->workers > 1},
                            .reactor = own};
    }
    for (uint32_t i = 0; i < n; i++)
        ex.pollers[i].now = sys_now_ns();
    ex.reactor = cfg->backend == EX_BACKEND_PPOLL      ? &reactor_ppoll
                 : cfg->backend == EX_BACKEND_IO_URING ? &reactor_uring
                                                       : &reactor_epoll;
    r = ex.reactor->init(n, ex.kind == EX_PER_CORE);
    if (r < 0) {
        ex.reactor = NULL; // nothing to destroy, no one to kick
        return r;
    }
    timer_earlier_hook = timer_earlier;
    sched_set_notify(notify);
    return 0;
}

int ex_start(void)
{
    for (int i = 0; i < ex.nworkers; i++) {
        int r = sys_thread_spawn(&ex.workers[i].thread, worker_main, &ex.workers[i], THREAD_STACK_SIZE);
        if (r < 0) {
            ex_shutdown();
            for (int j = 0; j < i; j++)
                sys_thread_join(ex.workers[j].thread);
            ex.nworkers = 0;
            return r;
        }
    }
    return 0;
}

// [snippet: ex-shutdown]
void ex_shutdown(void)
{
    // One caller wins, by a compare-and-swap on the deadline: a signal may
    // arrive while main is already shutting down, and two winners would each
    // start the grace period and wake every task again. The deadline is
    // stored before `stopping`, so whoever sees stopping sees the deadline.
    uint64_t none = 0;
    if (!atomic_cas(&ex.stop_deadline, &none, sys_now_ns() + EX_SHUTDOWN_GRACE_MS * NS_PER_MS))
        return;
    atomic_store_seq(&ex.stopping, 1);
    sched_wake_all(); // every task gets one poll in which to notice
    wake_parked(EX_MAX_WORKERS);
    if (ex.reactor)
        kick_all();
}
// [end: ex-shutdown]

uint32_t ex_join(void)
{
    for (int i = 0; i < ex.nworkers; i++)
        sys_thread_join(ex.workers[i].thread);
    ex.nworkers = 0;
    sched_set_notify(NULL);
    timer_earlier_hook = NULL;
    uint32_t left = sched_live();
    if (ex.reactor)
        ex.reactor->destroy();
    return left;
}
