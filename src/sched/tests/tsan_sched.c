// tsan_sched.c: ThreadSanitizer stress of the scheduler: slot pool, ready queue, task state word and wakers.
#include "config.h"
#include "sched/ready_queue.h"
#include "sched/sched.h"
#include "sched/slot_pool.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/hosted/tsan.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

#define NTHREADS 4
static uint32_t gate;

static struct sys_thread *start(int (*fn)(void *), void *arg)
{
    struct sys_thread *t = NULL;
    if (sys_thread_spawn(&t, fn, arg, THREAD_STACK_SIZE) != 0)
        sys_panic("test: cannot spawn a thread");
    return t;
}

static void run_threads(int n, int (*fn)(void *))
{
    struct sys_thread *t[NTHREADS];
    gate = 0;
    for (long i = 0; i < n; i++)
        t[i] = start(fn, (void *)i);
    atomic_store_release(&gate, 1);
    for (int i = 0; i < n; i++)
        sys_thread_join(t[i]);
}

// ---- slot pool ----------------------------------------------------------------------
// Fewer slots than threads want, so pops fail and the stack empties and
// refills all the time: the ABA window is crossed constantly. owner[] is
// written with plain stores: only the pool's own ordering keeps two holders
// of one slot (or a holder and the next one) apart, and TSan checks exactly that.
#define POOL_SLOTS 8
static struct slot_pool pool;
static uint32_t pool_next[POOL_SLOTS];
static long owner[POOL_SLOTS];
static uint64_t pool_rounds, pool_taken[NTHREADS];

static int pool_thread(void *arg)
{
    long id = (long)arg;
    tsan_wait_gate(&gate);
    for (uint64_t r = 0; r < pool_rounds; r++) {
        int64_t a = sched_slot_pool_pop(&pool), b = sched_slot_pool_pop(&pool);
        if (a >= 0) {
            if (owner[a] != 0)
                CHECK(!"slot handed out twice");
            owner[a] = id + 1;
        }
        if (b >= 0) {
            if (owner[b] != 0)
                CHECK(!"slot handed out twice");
            owner[b] = id + 1;
        }
        if (a >= 0) {
            CHECK_EQ(owner[a], id + 1);
            owner[a] = 0;
            sched_slot_pool_push(&pool, (uint32_t)a);
            pool_taken[id]++;
        }
        if (b >= 0) {
            CHECK_EQ(owner[b], id + 1);
            owner[b] = 0;
            sched_slot_pool_push(&pool, (uint32_t)b);
            pool_taken[id]++;
        }
    }
    return 0;
}

static void slot_pool_concurrent_take_give(void)
{
    sched_slot_pool_init(&pool, pool_next, POOL_SLOTS);
    pool_rounds = tsan_iters(300000);
    run_threads(NTHREADS, pool_thread);
    uint64_t taken = 0;
    for (int i = 0; i < NTHREADS; i++)
        taken += pool_taken[i];
    CHECK(taken > 0);
    // Every slot is back, once.
    uint32_t seen = 0;
    int64_t s;
    while ((s = sched_slot_pool_pop(&pool)) >= 0) {
        CHECK(!(seen & 1u << s));
        seen |= 1u << s;
    }
    CHECK_EQ(seen, (1u << POOL_SLOTS) - 1);
}

// ---- ready queue --------------------------------------------------------------------
// Two producers, two consumers, a ring of 64 cells: full and empty are hit
// all the time. A producer writes payload[v] with a plain store before it
// pushes v; the consumer that pops v reads it and marks seen[v], also plain.
#define QCAP 64
static struct ready_queue rq;
static struct ready_cell rq_cells[QCAP];
static uint64_t rq_per_producer;
static uint64_t *payload;
static uint8_t *seen;
static uint64_t consumed, bad_values;

static int rq_producer(void *arg)
{
    long id = (long)arg;
    tsan_wait_gate(&gate);
    for (uint64_t i = 0; i < rq_per_producer; i++) {
        uint32_t v = (uint32_t)((uint64_t)id * rq_per_producer + i);
        payload[v] = (uint64_t)v * 0x9e3779b97f4a7c15ull;
        while (!sched_ready_queue_push(&rq, v))
            sys_sched_yield(); // full: let a consumer in
    }
    return 0;
}

static int rq_consumer(void *arg)
{
    (void)arg;
    tsan_wait_gate(&gate);
    uint64_t total = 2 * rq_per_producer;
    while (atomic_load_relaxed(&consumed) < total) {
        uint32_t v;
        if (!sched_ready_queue_pop(&rq, &v)) {
            sys_cpu_relax();
            continue;
        }
        if (v >= total || seen[v] || payload[v] != (uint64_t)v * 0x9e3779b97f4a7c15ull)
            atomic_add_relaxed(&bad_values, 1);
        else
            seen[v] = 1;
        atomic_fetch_add(&consumed, 1);
    }
    return 0;
}

static int rq_thread(void *arg) { return (long)arg < 2 ? rq_producer(arg) : rq_consumer(arg); }

static uint64_t scratch[2 * 200000];
static uint8_t scratch_seen[2 * 200000];

static void ready_queue_mpmc_each_value_once(void)
{
    rq_per_producer = tsan_iters(200000);
    payload = scratch;
    seen = scratch_seen;
    consumed = bad_values = 0;
    sched_ready_queue_init(&rq, rq_cells, QCAP);
    run_threads(4, rq_thread);
    CHECK_EQ(bad_values, 0);
    CHECK_EQ(consumed, 2 * rq_per_producer);
    for (uint64_t v = 0; v < 2 * rq_per_producer; v++)
        if (!seen[v]) {
            CHECK(!"a value was never popped");
            break;
        }
    CHECK_EQ(sched_ready_queue_length(&rq), 0);
}

// ---- task state word and wakers -------------------------------------------------------
// Two runner threads poll, two waker threads wake while the tasks run. A
// task's state is touched with plain accesses only inside its poll and by
// its spawner before sched_spawn: if two workers ever polled one task at
// once, or a poll did not see its spawner's writes, TSan reports it. Each
// wake carries a token; a task finishes once it has collected them all, so a
// lost wake leaves it waiting forever (the test's deadline catches that).
// Tasks are spawned in rounds, so slots and generations are reused while
// wakers for the previous round's tasks still fly: those must be stale.
#define TASKS     64
#define WAKES_PER 50
struct counted {
    uint32_t tokens; // atomic: added by wakers
    uint64_t polls, collected, spawned_tag;
    uint32_t dropped; // atomic
};
static struct counted tasks[TASKS];
static struct waker wakers[TASKS];
static uint32_t stop_runners, round_no;

static poll_t counted_poll(void *state, struct sched_cx *cx)
{
    (void)cx;
    struct counted *c = state;
    if (c->spawned_tag != atomic_load_relaxed(&round_no) + 1)
        CHECK(!"poll did not see its spawner's writes");
    c->polls++;
    c->collected += atomic_exchange(&c->tokens, 0);
    return c->collected == 2 * WAKES_PER ? READY : PENDING;
}

static void counted_drop(void *state) { atomic_store_seq(&((struct counted *)state)->dropped, 1); }

static int waker_thread(void *arg)
{
    (void)arg;
    for (int m = 0; m < WAKES_PER; m++)
        for (int k = 0; k < TASKS; k++) {
            atomic_fetch_add(&tasks[k].tokens, 1);
            sched_wake(wakers[k]);
        }
    return 0;
}

static int runner_thread(void *arg)
{
    (void)arg;
    while (!atomic_load_seq(&stop_runners))
        if (!sched_run_one())
            sys_sched_yield();
    return 0;
}

static void wakes_from_many_threads_while_running(void)
{
    CHECK_EQ(sched_init(TASKS), 0);
    stop_runners = 0;
    struct sys_thread *r[2];
    for (int i = 0; i < 2; i++)
        r[i] = start(runner_thread, NULL);
    uint64_t rounds = tsan_iters(200);
    for (uint64_t round = 0; round < rounds; round++) {
        atomic_store_relaxed(&round_no, (uint32_t)round);
        for (int k = 0; k < TASKS; k++) {
            tasks[k] = (struct counted){.spawned_tag = round + 1};
            CHECK_EQ(sched_spawn_idle(counted_poll, &tasks[k], counted_drop, &wakers[k]), 0);
        }
        struct sys_thread *w[2];
        for (int i = 0; i < 2; i++)
            w[i] = start(waker_thread, NULL);
        for (int i = 0; i < 2; i++)
            sys_thread_join(w[i]);
        uint64_t deadline = sys_now_ns() + 20 * NS_PER_SEC;
        while (sched_live() && sys_now_ns() < deadline)
            sys_sched_yield();
        if (sched_live()) {
            CHECK(!"a wake was lost: tasks still waiting");
            break;
        }
        for (int k = 0; k < TASKS; k++) {
            CHECK_EQ(tasks[k].collected, 2 * WAKES_PER);
            CHECK(atomic_load_seq(&tasks[k].dropped));
            CHECK(tasks[k].polls >= 1 && tasks[k].polls <= 2 * WAKES_PER);
        }
    }
    atomic_store_seq(&stop_runners, 1);
    for (int i = 0; i < 2; i++)
        sys_thread_join(r[i]);
    struct sched_stats st;
    sched_get_stats(&st);
    CHECK_EQ(st.completed, rounds * TASKS);
}

int main(void)
{
    RUN(slot_pool_concurrent_take_give);
    RUN(ready_queue_mpmc_each_value_once);
    RUN(wakes_from_many_threads_while_running);
    return test_summary();
}
