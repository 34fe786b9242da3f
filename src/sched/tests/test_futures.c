// test_futures.c: stage-3 tests of the resume-point macros and of fairness (no starvation).
#include "config.h"
#include "sched/sched.h"
#include "sys/sys.h"
#include "sys/testing.h"

// A leaf future: PENDING `remaining` times (waking itself each time, as if
// the event it waits for had just happened), then READY.
struct countdown {
    int remaining;
};
static poll_t countdown_poll(struct countdown *c, struct sched_cx *cx)
{
    if (c->remaining-- > 0) {
        sched_wake(cx->waker);
        return PENDING;
    }
    return READY;
}

// [snippet: async-example]
// An async function with two awaits and a loop. Everything that must survive
// an await lives in the state struct, exactly as a Rust async fn's locals do.
struct two_steps {
    int resume;           // where to continue (0 = start)
    int i;                // a "local" that lives across awaits
    struct countdown sub; // the future being awaited
    int trace[8], n;
};

static poll_t two_steps_poll(void *state, struct sched_cx *cx)
{
    struct two_steps *st = state;
    ASYNC_BEGIN(st);
    st->trace[st->n++] = 1;
    st->sub.remaining = 2;
    AWAIT(st, countdown_poll(&st->sub, cx));
    st->trace[st->n++] = 2;
    for (st->i = 0; st->i < 3; st->i++) {
        st->sub.remaining = 1;
        AWAIT(st, countdown_poll(&st->sub, cx));
        st->trace[st->n++] = 10 + st->i;
    }
    ASYNC_END(st);
}
// [end: async-example]

static void await_resumes_where_it_left_off(void)
{
    CHECK_EQ(sched_init(SCHED_DEFAULT_TASKS), 0);
    struct two_steps st = {0};
    CHECK_EQ(sched_spawn(two_steps_poll, &st, NULL, NULL), 0);
    int polls = 0;
    while (sched_run_one())
        polls++;
    CHECK_EQ(sched_live(), 0);
    CHECK_EQ(polls, 1 + 2 + 3); // first run, 2 pendings of the first await, 1 per loop await
    int want[] = {1, 2, 10, 11, 12};
    CHECK_EQ(st.n, 5);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(st.trace[i], want[i]);
    CHECK_EQ(st.resume, -1);
}

struct yielder {
    int resume;
    int i, limit;
    int *clock; // shared step counter: when did we finish?
    int finished_at;
};

static poll_t yielder_poll(void *state, struct sched_cx *cx)
{
    struct yielder *y = state;
    ASYNC_BEGIN(y);
    for (y->i = 0; y->i < y->limit; y->i++) {
        ++*y->clock;
        YIELD(y, cx);
    }
    y->finished_at = *y->clock;
    ASYNC_END(y);
}

// [snippet: starvation-test]
// A "hog" that re-wakes itself on every poll for 100,000 polls, and three
// short tasks of 100 polls each, spawned after it. On a FIFO ready queue the
// hog goes to the back after each poll, so the short tasks finish after
// about 4 x 100 steps. On the original's LIFO stack, whichever task woke
// last runs next: the newest short task first, and the others wait behind
// it (chapter 3 measures both orders).
static void self_waking_task_does_not_starve_others(void)
{
    CHECK_EQ(sched_init(SCHED_DEFAULT_TASKS), 0);
    int clock = 0;
    struct yielder hog = {.limit = 100000, .clock = &clock};
    struct yielder shorts[3];
    CHECK_EQ(sched_spawn(yielder_poll, &hog, NULL, NULL), 0);
    CHECK_EQ(sched_run_one(), 1); // the hog is running and re-queued before the others exist
    for (int i = 0; i < 3; i++) {
        shorts[i] = (struct yielder){.limit = 100, .clock = &clock};
        CHECK_EQ(sched_spawn(yielder_poll, &shorts[i], NULL, NULL), 0);
    }
    while (sched_run_one())
        ;
    for (int i = 0; i < 3; i++) {
        CHECK(shorts[i].finished_at > 0);
        CHECK(shorts[i].finished_at <= 4 * 100 + 4); // round-robin bound
    }
    CHECK_EQ(hog.finished_at, 100000 + 300);
}
// [end: starvation-test]

// ---- what the macros catch at run time ---------------------------------------------
// An AWAIT inside a nested switch: its `case` label belongs to the inner
// switch. It compiles; the resume must then panic, not return READY.
struct nested {
    int resume;
    int mode;
    struct countdown sub;
};

static poll_t nested_poll(void *state, struct sched_cx *cx)
{
    struct nested *st = state;
    ASYNC_BEGIN(st);
    switch (st->mode) {
    case 1:
        st->sub.remaining = 1;
        AWAIT(st, countdown_poll(&st->sub, cx)); // breaks the rule on purpose
        break;
    }
    ASYNC_END(st);
}

static void await_in_nested_switch(void)
{
    sched_init(SCHED_DEFAULT_TASKS);
    struct nested st = {.mode = 1};
    sched_spawn(nested_poll, &st, NULL, NULL);
    while (sched_run_one())
        ;
}

// A resume value no AWAIT ever stored (memory overwritten, a state struct
// not zeroed): loud, with the place.
static void unknown_resume_value(void)
{
    sched_init(SCHED_DEFAULT_TASKS);
    struct two_steps st = {.resume = 12345};
    sched_spawn(two_steps_poll, &st, NULL, NULL);
    sched_run_one();
}

static void expect_resume_panic(void (*fn)(void))
{
    char msg[512];
    int status = test_run_child(fn, msg, sizeof msg);
    CHECK(status != -1);
    CHECK(W_IFEXITED(status));
    CHECK_EQ(W_EXITCODE(status), 134);
    CHECK(test_contains(msg, "panic: resume point"));
    CHECK(test_contains(msg, "test_futures.c:")); // the future's file and line
}

static void await_in_nested_switch_panics(void) { expect_resume_panic(await_in_nested_switch); }
static void unknown_resume_point_panics(void) { expect_resume_panic(unknown_resume_value); }

// A finished future polled again stays finished: READY, no panic.
static void finished_future_stays_ready(void)
{
    struct two_steps st = {.resume = -1};
    struct sched_cx cx = {.waker = {0, 0}};
    CHECK_EQ(two_steps_poll(&st, &cx), READY);
    CHECK_EQ(st.n, 0);
}

int main(void)
{
    RUN(await_resumes_where_it_left_off);
    RUN(self_waking_task_does_not_starve_others);
    RUN(await_in_nested_switch_panics);
    RUN(unknown_resume_point_panics);
    RUN(finished_future_stays_ready);
    return test_summary();
}
