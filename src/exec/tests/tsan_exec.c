// tsan_exec.c: TSan stress of the executor: park, kick, poller hand-off, I/O and timers, both reactors.
#include "config.h"
#include "exec/exec.h"
#include "exec/tests/exec_testing.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/hosted/tsan.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

#define WORKERS 3 // more than the cores: workers park, poll and hand the reactor over all the time

// ---- tasks waking tasks, and wakes from outside -------------------------------------
// A token goes round a ring of tasks; each holder wakes the next from its
// worker (notify()'s worker branch). Meanwhile a plain thread wakes every
// task over and over (the other branch: wake a parked worker or kick the
// poller). A task's own fields are plain: consecutive polls of one task run
// on different workers, and only the scheduler orders them.
#define RING 16
struct ring_task {
    uint32_t me, runs, polls;
    uint64_t laps;
};
static struct ring_task ring[RING];
static struct waker ring_wakers[RING];
static uint32_t token, outside_stop;

static poll_t ring_poll(void *state, struct sched_cx *cx)
{
    (void)cx;
    struct ring_task *t = state;
    t->polls++;
    if (atomic_load_acquire(&token) == t->me) {
        t->runs++;
        atomic_store_release(&token, (t->me + 1) % RING);
        sched_wake(ring_wakers[(t->me + 1) % RING]);
    }
    return t->runs == t->laps ? READY : PENDING;
}

static int outside_waker(void *arg)
{
    (void)arg;
    while (!atomic_load_acquire(&outside_stop)) {
        for (int i = 0; i < RING; i++)
            sched_wake(ring_wakers[i]);
        sys_sleep_ns(20000); // let workers park in between, so the wakes find them asleep
    }
    return 0;
}

static void tasks_wake_tasks_across_workers(void)
{
    uint64_t laps = tsan_iters(20000);
    token = 0;
    outside_stop = 0;
    start_executor(WORKERS, 256);
    for (uint32_t i = 0; i < RING; i++) {
        ring[i] = (struct ring_task){.me = i, .laps = laps};
        CHECK_EQ(sched_spawn_idle(ring_poll, &ring[i], NULL, &ring_wakers[i]), 0);
    }
    struct sys_thread *w;
    CHECK_EQ(sys_thread_spawn(&w, outside_waker, NULL, THREAD_STACK_SIZE), 0);
    sched_wake(ring_wakers[0]);
    uint64_t deadline = sys_now_ns() + 120 * NS_PER_SEC;
    while (sched_live() && sys_now_ns() < deadline)
        sys_sleep_ns(NS_PER_MS);
    // Stop the outside waker before ex_join releases the reactor it kicks.
    atomic_store_release(&outside_stop, 1);
    sys_thread_join(w);
    CHECK(finish_executor(NS_PER_SEC));
    for (uint32_t i = 0; i < RING; i++)
        CHECK_EQ(ring[i].runs, laps);
}

// ---- pipes: the reactor hands readiness from its poller to the workers ---------------
// Four pairs of tasks bounce a byte over pipes. Each wait registers with the
// reactor (epoll_ctl, or the ppoll table plus a kick) while another worker
// may be blocked in it; the woken task runs on whichever worker takes it.
#define PAIRS 4
struct pinger {
    struct ex_io in;
    int out;
    int serves;
    uint64_t rounds, want;
};
static struct pinger pingers[2 * PAIRS];

static poll_t pinger_poll(void *state, struct sched_cx *cx)
{
    struct pinger *p = state;
    char c = 'x';
    if (p->serves) {
        p->serves = 0;
        sys_write(p->out, &c, 1);
    }
    while (p->rounds < p->want) {
        ssize_t n = sys_read(p->in.fd, &c, 1);
        if (n == -EAGAIN)
            return ex_io_wait(&p->in, EX_READABLE, cx, NULL);
        if (n != 1)
            return READY; // the CHECK on rounds reports it
        p->rounds++;
        if (p->rounds < p->want || p->serves == 0)
            sys_write(p->out, &c, 1);
    }
    return READY;
}

static void pipes_across_workers(void)
{
    uint64_t want = tsan_iters(20000);
    int fds[2 * PAIRS][2];
    for (int i = 0; i < 2 * PAIRS; i++)
        CHECK_EQ(sys_pipe2(fds[i], O_NONBLOCK | O_CLOEXEC), 0);
    start_executor(WORKERS, 256);
    for (int i = 0; i < PAIRS; i++) {
        int a = 2 * i, b = 2 * i + 1; // ping reads pipe b, writes pipe a; pong the other way
        pingers[a] = (struct pinger){.in = {.fd = fds[b][0]}, .out = fds[a][1], .serves = 1, .want = want};
        pingers[b] = (struct pinger){.in = {.fd = fds[a][0]}, .out = fds[b][1], .want = want};
        CHECK_EQ(sched_spawn(pinger_poll, &pingers[b], NULL, NULL), 0);
        CHECK_EQ(sched_spawn(pinger_poll, &pingers[a], NULL, NULL), 0);
    }
    CHECK(finish_executor(120 * NS_PER_SEC));
    for (int i = 0; i < 2 * PAIRS; i++)
        CHECK_EQ(pingers[i].rounds, want);
    for (int i = 0; i < 2 * PAIRS; i++)
        sys_close(fds[i][0]), sys_close(fds[i][1]);
}

// ---- timers: armed, cancelled and fired from several workers ------------------------
// Tasks sleep for a few microseconds again and again (arm on one worker,
// fire on the poller, wake on another), and each also keeps a long timer it
// re-arms and cancels (never due) so cancels run against concurrent fires.
#define SLEEPERS 32
struct sleeper {
    int resume;
    struct ex_sleep sleep;
    struct ex_timer guard;
    uint64_t naps, want, rng;
};
static struct sleeper sleepers[SLEEPERS];

static poll_t sleeper_poll(void *state, struct sched_cx *cx)
{
    struct sleeper *s = state;
    ASYNC_BEGIN(s);
    while (s->naps < s->want) {
        s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
        ex_sleep_init(&s->sleep, (s->rng >> 33) % 200000); // 0 .. 200 us
        if (ex_timer_arm(&s->guard, ex_now_ns() + 10 * NS_PER_SEC, cx->waker) != 0)
            CHECK(!"timer heap full");
        AWAIT(s, ex_sleep_poll(&s->sleep, cx));
        ex_timer_cancel(&s->guard);
        s->naps++;
    }
    ASYNC_END(s);
}

static void timers_across_workers(void)
{
    uint64_t want = tsan_iters(1000);
    start_executor(WORKERS, 256);
    for (int i = 0; i < SLEEPERS; i++) {
        sleepers[i] = (struct sleeper){.guard = EX_TIMER_INIT, .want = want, .rng = (uint64_t)i + 1};
        CHECK_EQ(sched_spawn(sleeper_poll, &sleepers[i], NULL, NULL), 0);
    }
    CHECK(finish_executor(120 * NS_PER_SEC));
    for (int i = 0; i < SLEEPERS; i++)
        CHECK_EQ(sleepers[i].naps, want);
}

// ---- shutdown while tasks still run ----------------------------------------------------
// ex_shutdown from a plain thread while workers poll, park and sleep in the
// reactor; every task notices ex_stopping() within a few naps and finishes.
struct stopper {
    int resume;
    struct ex_sleep sleep;
    uint32_t naps_after_stop;
};
static struct stopper stoppers[SLEEPERS];

static poll_t stopper_poll(void *state, struct sched_cx *cx)
{
    struct stopper *s = state;
    ASYNC_BEGIN(s);
    while (s->naps_after_stop < 3) {
        ex_sleep_init(&s->sleep, 50000);
        AWAIT(s, ex_sleep_poll(&s->sleep, cx));
        if (ex_stopping())
            s->naps_after_stop++;
    }
    ASYNC_END(s);
}

static void shutdown_while_tasks_run(void)
{
    uint64_t rounds = tsan_iters(100);
    for (uint64_t r = 0; r < rounds; r++) {
        start_executor(WORKERS, 256);
        for (int i = 0; i < SLEEPERS; i++) {
            stoppers[i] = (struct stopper){0};
            CHECK_EQ(sched_spawn(stopper_poll, &stoppers[i], NULL, NULL), 0);
        }
        sys_sleep_ns(200000);
        ex_shutdown();
        CHECK_EQ(ex_join(), 0);
    }
}

#define RUN_BOTH(fn) run_on_each_backend(#fn, fn)

int main(void)
{
    RUN_BOTH(tasks_wake_tasks_across_workers);
    RUN_BOTH(pipes_across_workers);
    RUN_BOTH(timers_across_workers);
    RUN_BOTH(shutdown_while_tasks_run);
    return test_summary();
}
