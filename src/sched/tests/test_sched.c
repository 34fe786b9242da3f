// test_sched.c: stage-3 tests: slot pool and ready queue under contention, the task state machine, wakers.
#include "config.h"
#include "sched/ready_queue.h"
#include "sched/sched.h"
#include "sched/slot_pool.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

#define STACK THREAD_STACK_SIZE

static struct sys_thread *start(int (*fn)(void *), void *arg)
{
    struct sys_thread *t = NULL;
    if (sys_thread_spawn(&t, fn, arg, STACK) != 0)
        sys_panic("thread spawn failed");
    return t;
}

// ---- slot pool ------------------------------------------------------------------
#define POOL_N 64
static struct slot_pool test_pool;
static uint32_t test_pool_next[POOL_N];
static uint32_t owner[POOL_N]; // 1 while some thread holds the slot

static int pool_churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200000; i++) {
        int64_t s = sched_slot_pool_pop(&test_pool);
        if (s < 0)
            continue;
        if (atomic_exchange(&owner[s], 1) != 0) // someone else holds it: ABA struck
            CHECK(!"slot handed out twice");
        atomic_store_seq(&owner[s], 0);
        sched_slot_pool_push(&test_pool, (uint32_t)s);
    }
    return 0;
}

static void slot_pool_never_hands_out_twice(void)
{
    sched_slot_pool_init(&test_pool, test_pool_next, POOL_N);
    struct sys_thread *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = start(pool_churn, NULL);
    for (int i = 0; i < 4; i++)
        sys_thread_join(t[i]);
    int n = 0; // every slot is back exactly once
    uint8_t seen[POOL_N] = {0};
    for (int64_t s; (s = sched_slot_pool_pop(&test_pool)) >= 0; n++) {
        CHECK(!seen[s]);
        seen[s] = 1;
    }
    CHECK_EQ(n, POOL_N);
}

// ---- ready queue ----------------------------------------------------------------
#define Q_CAP 256
static struct ready_cell q_cells[Q_CAP];
static struct ready_queue q;

static void ready_queue_is_fifo_and_bounded(void)
{
    sched_ready_queue_init(&q, q_cells, Q_CAP);
    uint32_t v;
    CHECK(!sched_ready_queue_pop(&q, &v));
    for (uint32_t i = 0; i < Q_CAP; i++)
        CHECK(sched_ready_queue_push(&q, i));
    CHECK(!sched_ready_queue_push(&q, 999)); // full
    for (uint32_t i = 0; i < Q_CAP; i++)
        CHECK(sched_ready_queue_pop(&q, &v) && v == i);
    CHECK(!sched_ready_queue_pop(&q, &v));
}

#define MPMC_PER_PRODUCER 100000
static uint8_t taken[2 * MPMC_PER_PRODUCER];
static uint64_t consumed;

static int producer(void *arg)
{
    uint32_t base = (uint32_t)(long)arg * MPMC_PER_PRODUCER;
    for (uint32_t i = 0; i < MPMC_PER_PRODUCER; i++)
        while (!sched_ready_queue_push(&q, base + i))
            sys_cpu_relax();
    return 0;
}

static int consumer(void *arg)
{
    (void)arg;
    uint32_t v;
    while (atomic_load_seq(&consumed) < 2 * MPMC_PER_PRODUCER) {
        if (!sched_ready_queue_pop(&q, &v)) {
            sys_cpu_relax();
            continue;
        }
        if (atomic_exchange(&taken[v], 1))
            CHECK(!"value dequeued twice");
        atomic_fetch_add(&consumed, 1);
    }
    return 0;
}

static void ready_queue_mpmc_each_value_once(void)
{
    sched_ready_queue_init(&q, q_cells, Q_CAP);
    consumed = 0;
    struct sys_thread *t[4];
    t[0] = start(producer, (void *)0);
    t[1] = start(producer, (void *)1);
    t[2] = start(consumer, NULL);
    t[3] = start(consumer, NULL);
    for (int i = 0; i < 4; i++)
        sys_thread_join(t[i]);
    int all = 1;
    for (int i = 0; i < 2 * MPMC_PER_PRODUCER; i++)
        all &= taken[i];
    CHECK(all);
}

// ---- the task state machine under stress -------------------------------------------
// K tasks; W waker threads each deliver M "tokens" to every task: add to the
// task's token count, then wake it. A task's poll takes all tokens present and
// finishes once it has seen all W*M. A lost wake-up leaves a task waiting with
// tokens it never collects (the test times out); a double poll trips in_poll.
#define K_TASKS  64
#define W_WAKERS 2
#define M_WAKES  5000
#define RUNNERS  2

struct counting_task {
    uint32_t tokens; // delivered, not yet collected
    uint32_t collected;
    uint32_t in_poll;
    uint32_t polls;
    uint32_t done;
};
static struct counting_task ct[K_TASKS];
static struct waker ct_waker[K_TASKS];
static uint32_t stop_runners;

static poll_t counting_poll(void *state, struct sched_cx *cx)
{
    (void)cx;
    struct counting_task *c = state;
    if (atomic_exchange(&c->in_poll, 1) != 0)
        CHECK(!"task polled by two workers at once");
    c->polls++;
    c->collected += atomic_exchange(&c->tokens, 0);
    atomic_store_seq(&c->in_poll, 0);
    return c->collected == W_WAKERS * M_WAKES ? READY : PENDING;
}

static void counting_drop(void *state) { atomic_store_seq(&((struct counting_task *)state)->done, 1); }

static int waker_thread(void *arg)
{
    (void)arg;
    for (int m = 0; m < M_WAKES; m++)
        for (int k = 0; k < K_TASKS; k++) {
            atomic_fetch_add(&ct[k].tokens, 1);
            sched_wake(ct_waker[k]);
        }
    return 0;
}

static int runner_thread(void *arg)
{
    (void)arg;
    while (!atomic_load_seq(&stop_runners))
        if (!sched_run_one())
            sys_cpu_relax();
    return 0;
}

static void wakes_are_never_lost_or_doubled(void)
{
    CHECK_EQ(sched_init(SCHED_DEFAULT_TASKS), 0);
    stop_runners = 0;
    for (int k = 0; k < K_TASKS; k++) {
        ct[k] = (struct counting_task){0};
        CHECK_EQ(sched_spawn_idle(counting_poll, &ct[k], counting_drop, &ct_waker[k]), 0);
    }
    struct sys_thread *r[RUNNERS], *w[W_WAKERS];
    for (int i = 0; i < RUNNERS; i++)
        r[i] = start(runner_thread, NULL);
    for (int i = 0; i < W_WAKERS; i++)
        w[i] = start(waker_thread, NULL);
    for (int i = 0; i < W_WAKERS; i++)
        sys_thread_join(w[i]);
    uint64_t deadline = sys_now_ns() + 20 * NS_PER_SEC;
    while (sched_live() && sys_now_ns() < deadline)
        sys_sleep_ns(NS_PER_MS);
    atomic_store_seq(&stop_runners, 1);
    for (int i = 0; i < RUNNERS; i++)
        sys_thread_join(r[i]);
    CHECK_EQ(sched_live(), 0);
    uint64_t polls = 0;
    for (int k = 0; k < K_TASKS; k++) {
        CHECK_EQ(ct[k].collected, W_WAKERS * M_WAKES);
        CHECK(ct[k].done);
        // Each poll collects at least one token, except possibly a last one after a wake
        // that raced: never more polls than wakes.
        CHECK(ct[k].polls >= 1 && ct[k].polls <= W_WAKERS * M_WAKES);
        polls += ct[k].polls;
    }
    CHECK(polls >= K_TASKS);
}

// ---- stale wakers -------------------------------------------------------------------
static int simple_polls;
static poll_t finish_at_once(void *state, struct sched_cx *cx)
{
    (void)state, (void)cx;
    simple_polls++;
    return READY;
}
// Waits on its first poll, finishes on its second.
static poll_t finish_second_time(void *state, struct sched_cx *cx)
{
    (void)cx;
    simple_polls++;
    return ++*(int *)state >= 2 ? READY : PENDING;
}

static void stale_waker_does_nothing(void)
{
    CHECK_EQ(sched_init(1), 0); // one slot: the second task must reuse it
    struct waker old, fresh;
    int fresh_polls = 0;
    simple_polls = 0;
    CHECK_EQ(sched_spawn(finish_at_once, NULL, NULL, &old), 0);
    CHECK_EQ(sched_run_one(), 1);
    CHECK_EQ(sched_live(), 0);
    CHECK_EQ(sched_spawn_idle(finish_second_time, &fresh_polls, NULL, &fresh), 0);
    CHECK_EQ(fresh.slot, old.slot);
    CHECK(fresh.gen != old.gen);
    CHECK(!sched_wake(old));      // stale: must not schedule the new task
    CHECK_EQ(sched_run_one(), 0); // nothing was queued
    CHECK(sched_wake(fresh));
    CHECK(!sched_wake(fresh)); // already scheduled: queued once only
    CHECK_EQ(sched_run_one(), 1);
    CHECK_EQ(sched_run_one(), 0);
    CHECK_EQ(simple_polls, 2);
    CHECK(sched_wake(fresh));
    CHECK_EQ(sched_run_one(), 1); // second poll: READY, slot freed
    CHECK_EQ(sched_live(), 0);
    CHECK(!sched_wake(fresh)); // finished: its waker is stale now
    struct sched_stats st;
    sched_get_stats(&st);
    CHECK(st.stale_wakes >= 1);
}

static void slots_run_out_cleanly(void)
{
    CHECK_EQ(sched_init(2), 0);
    int a = 0, b = 0;
    struct waker wa, wb;
    CHECK_EQ(sched_spawn_idle(finish_second_time, &a, NULL, &wa), 0);
    CHECK_EQ(sched_spawn_idle(finish_second_time, &b, NULL, &wb), 0);
    CHECK_EQ(sched_spawn(finish_at_once, NULL, NULL, NULL), -EAGAIN); // full: refused, not blocked
    CHECK_EQ(sched_init(4), -EINVAL);                                 // cannot resize under live tasks
    for (int i = 0; i < 2; i++) {
        sched_wake(wa), sched_wake(wb);
        while (sched_run_one())
            ;
    }
    CHECK_EQ(sched_live(), 0);
    CHECK_EQ(sched_spawn(finish_at_once, NULL, NULL, NULL), 0); // slots came back
    CHECK_EQ(sched_run_one(), 1);
}

// A wake that arrives while the task is being polled makes it run exactly once more.
struct self_waker {
    int polls;
};
static poll_t wake_self_during_poll(void *state, struct sched_cx *cx)
{
    struct self_waker *s = state;
    s->polls++;
    if (s->polls == 1) {
        CHECK(!sched_wake(cx->waker)); // RUNNING -> NOTIFIED: not queued now...
        CHECK(!sched_wake(cx->waker)); // ...and a second wake adds nothing
        return PENDING;                // ...but queued when we return
    }
    return READY;
}

static void wake_while_running_runs_once_more(void)
{
    struct self_waker s = {0};
    CHECK_EQ(sched_init(8), 0);
    CHECK_EQ(sched_spawn(wake_self_during_poll, &s, NULL, NULL), 0);
    CHECK_EQ(sched_run_one(), 1);
    CHECK_EQ(sched_run_one(), 1);
    CHECK_EQ(sched_run_one(), 0);
    CHECK_EQ(s.polls, 2);
}

int main(void)
{
    RUN(slot_pool_never_hands_out_twice);
    RUN(ready_queue_is_fifo_and_bounded);
    RUN(ready_queue_mpmc_each_value_once);
    RUN(wakes_are_never_lost_or_doubled);
    RUN(stale_waker_does_nothing);
    RUN(slots_run_out_cleanly);
    RUN(wake_while_running_runs_once_more);
    return test_summary();
}
