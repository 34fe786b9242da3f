// test_timer.c: the timer heap alone, deterministically: release order on firing, a full heap, order.
#include "config.h"
#include "exec/exec.h"
#include "exec/timer.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"

#define POISON 0xA5

// ---- a fired timer is not touched after it leaves the heap --------------------------
// ex_timer_cancel returns without the lock once a timer's index is -1, and
// its owner may then free it (an HTTP connection does, in conn_drop). The
// release hook runs at exactly that moment: it checks the timer already
// reads as fired and no longer armed, then poisons it as a free would.
// Any store the heap makes to the timer after that shows in the poison.
static struct ex_timer *victim;
static bool released, fired_when_released, armed_when_released;

static void poison_on_release(struct ex_timer *t)
{
    if (t != victim)
        return;
    released = true;
    fired_when_released = ex_timer_fired(t);
    armed_when_released = ex_timer_armed(t);
    ex_timer_cancel(t); // the owner's fast path: returns at once (a lock here would deadlock)
    sys_memset(t, POISON, sizeof *t);
}

static bool all_poison(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != POISON)
            return false;
    return true;
}

static void fired_timer_untouched_after_release(void)
{
    struct ex_timer other = EX_TIMER_INIT, t = EX_TIMER_INIT;
    struct waker w = {0, 0};                    // a waker of no live task: waking it does nothing
    CHECK_EQ(ex_timer_arm(&other, 2000, w), 0); // keeps the heap non-empty around the victim
    CHECK_EQ(ex_timer_arm(&t, 1000, w), 0);
    CHECK(ex_timer_armed(&t));
    victim = &t;
    timer_released_hook = poison_on_release;
    CHECK_EQ(timer_fire_due(0, 1500), 1);
    timer_released_hook = NULL;
    victim = NULL;
    CHECK(released);
    CHECK(fired_when_released);      // "fired" and "left the heap" are one store ...
    CHECK(!armed_when_released);     // ... so it reads as both at that moment
    CHECK(all_poison(&t, sizeof t)); // ... and nothing was written after it
    CHECK(ex_timer_armed(&other));
    ex_timer_cancel(&other);
    CHECK(!ex_timer_armed(&other));
    CHECK_EQ(timer_next_deadline(0), UINT64_MAX);
}

// ---- a cancelled timer is released the same way -------------------------------------
static void cancelled_timer_untouched_after_release(void)
{
    struct ex_timer t = EX_TIMER_INIT;
    struct waker w = {0, 0};
    CHECK_EQ(ex_timer_arm(&t, 1000, w), 0);
    victim = &t;
    released = false;
    timer_released_hook = poison_on_release;
    ex_timer_cancel(&t);
    timer_released_hook = NULL;
    victim = NULL;
    CHECK(released);
    CHECK(all_poison(&t, sizeof t));
    CHECK_EQ(timer_fire_due(0, UINT64_MAX - 1), 0);
}

// ---- a full heap says so, and a sleep does not hang on it ---------------------------
static struct ex_timer many[EX_MAX_TIMERS];

static void full_heap_refuses_and_recovers(void)
{
    struct waker w = {0, 0};
    for (uint32_t i = 0; i < EX_MAX_TIMERS; i++) {
        many[i] = (struct ex_timer)EX_TIMER_INIT;
        if (ex_timer_arm(&many[i], 1000 + (EX_MAX_TIMERS - i), w) != 0) {
            CHECK(!"arm failed before the heap was full");
            return;
        }
    }
    struct ex_timer extra = EX_TIMER_INIT;
    CHECK_EQ(ex_timer_arm(&extra, 5, w), -ENOMEM);
    CHECK(!ex_timer_armed(&extra));
    // The sleep future's answer to a full heap: end now rather than never.
    struct ex_sleep s;
    ex_sleep_init(&s, 1000);
    struct sched_cx cx = {.waker = w};
    CHECK_EQ(ex_sleep_poll(&s, &cx), READY);
    // Everything fires, earliest first, and the heap is usable again.
    CHECK_EQ(timer_next_deadline(0), 1001);
    CHECK_EQ(timer_fire_due(0, UINT64_MAX - 1), EX_MAX_TIMERS);
    for (uint32_t i = 0; i < EX_MAX_TIMERS; i++)
        if (!ex_timer_fired(&many[i]) || ex_timer_armed(&many[i])) {
            CHECK(!"a timer neither fired nor left the heap");
            break;
        }
    CHECK_EQ(ex_timer_arm(&extra, 5, w), 0);
    ex_timer_cancel(&extra);
}

int main(void)
{
    CHECK_EQ(sched_init(16), 0); // wakers need the task table, even for no task
    RUN(fired_timer_untouched_after_release);
    RUN(cancelled_timer_untouched_after_release);
    RUN(full_heap_refuses_and_recovers);
    return test_summary();
}
