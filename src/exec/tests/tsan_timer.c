// tsan_timer.c: ThreadSanitizer stress of the timer heap without workers: arm, cancel, fire and free at once.
#include "config.h"
#include "exec/exec.h"
#include "exec/timer.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/hosted/tsan.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

// libc's, on purpose: TSan knows that free() ends the block, so an access
// to a freed timer is reported at once (heap-use-after-free, or a race with
// the free) instead of surfacing later as a race with the block's next user.
void *malloc(size_t n);
void free(void *p);

#define OWNERS 2
static uint32_t gate, stop;
static uint64_t owner_rounds;
// Timers fired before their owner cancelled them: each such cancel took the
// lock-free exit, and then freed the timer.
static uint64_t fired_first;

// The poller's part, done by hand: fire whatever is due, as fast as it can.
static int firer(void *arg)
{
    (void)arg;
    tsan_wait_gate(&gate);
    while (!atomic_load_acquire(&stop))
        atomic_add_relaxed(&fired_first, timer_fire_due(0, sys_now_ns()));
    return 0;
}

// A task's part: arm a timer that is due about now, cancel it a moment later
// (a request that finished just as its timeout came), then free the memory
// it lived in. ex_timer_cancel's contract: once it returns, the timer's
// memory may go away. No task exists behind the waker: slot 0 of a
// scheduler with no live task, so the wake is stale and does nothing.
static int owner(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 2 + 1;
    tsan_wait_gate(&gate);
    for (uint64_t i = 0; i < owner_rounds; i++) {
        struct ex_timer *t = malloc(sizeof *t);
        if (!t)
            sys_panic("test: malloc failed");
        *t = (struct ex_timer)EX_TIMER_INIT;
        if (ex_timer_arm(t, sys_now_ns(), (struct waker){0, 12345}) != 0)
            CHECK(!"timer heap full");
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        for (uint64_t spin = (rng >> 33) % 2000; spin; spin--)
            sys_cpu_relax();
        ex_timer_cancel(t);
        free(t);
    }
    return 0;
}

static void cancel_then_free_while_firing(void)
{
    CHECK_EQ(sched_init(16), 0);
    owner_rounds = tsan_iters(50000);
    gate = stop = 0;
    fired_first = 0;
    struct sys_thread *f, *o[OWNERS];
    CHECK_EQ(sys_thread_spawn(&f, firer, NULL, THREAD_STACK_SIZE), 0);
    for (long i = 0; i < OWNERS; i++)
        CHECK_EQ(sys_thread_spawn(&o[i], owner, (void *)i, THREAD_STACK_SIZE), 0);
    atomic_store_release(&gate, 1);
    for (int i = 0; i < OWNERS; i++)
        sys_thread_join(o[i]);
    atomic_store_release(&stop, 1);
    sys_thread_join(f);
    CHECK(timer_next_deadline(0) == UINT64_MAX); // the heap is empty
    // The race was run: some cancels found their timer fired already.
    CHECK(atomic_load_relaxed(&fired_first) >= 10);
    sys_printf("# %lu of %lu cancels after the fire\n", (unsigned long)fired_first,
               (unsigned long)(OWNERS * owner_rounds));
}

int main(void)
{
    RUN(cancel_then_free_while_firing);
    return test_summary();
}
