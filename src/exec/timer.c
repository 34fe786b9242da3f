// timer.c: a binary min-heap of armed timers keyed by deadline, under a futex mutex.
#include "exec/timer.h"
#include "config.h"
#include "exec/exec.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/lock.h"

// [snippet: timer-heap]
// A binary heap gives O(log n) arm and cancel and O(1) "what is next?", the
// one question the reactor asks before every wait. Each timer remembers its
// index in the heap, so cancelling (a request finished before its timeout,
// the common case) removes it directly without a search.
static struct ex_timer *heap[EX_MAX_TIMERS];
// A connection holds one timer, and a task may sleep while its connection's
// timer is armed: two per task slot means arming never fails for want of
// room in a running server (ex_timer_arm's -ENOMEM stays handled anyway).
_Static_assert(EX_MAX_TIMERS >= 2 * SCHED_MAX_TASK_SLOTS, "EX_MAX_TIMERS below two timers per task slot");
static uint32_t size;
static struct sys_mutex lock = SYS_MUTEX_INIT;
void (*timer_earlier_hook)(uint64_t deadline);
void (*timer_released_hook)(struct ex_timer *t);

// index is also read without the lock (ex_timer_cancel's fast path), so it
// is written atomically.
static void place(uint32_t i, struct ex_timer *t)
{
    heap[i] = t;
    atomic_store_relaxed(&t->index, (int32_t)i);
}

// Moves heap[i] up while its parent's deadline is later, so the earliest
// deadline ends at heap[0]; every timer it moves gets its new index (place).
// Called under the lock by ex_timer_arm (a timer added last) and remove_at
// (the last timer moved into a hole).
// [lab: sift_up]
static void sift_up(uint32_t i)
{
    struct ex_timer *t = heap[i];
    while (i > 0 && heap[(i - 1) / 2]->deadline > t->deadline) {
        place(i, heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(i, t);
}
// [end lab: sift_up]

static void sift_down(uint32_t i)
{
    struct ex_timer *t = heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= size)
            break;
        if (c + 1 < size && heap[c + 1]->deadline < heap[c]->deadline)
            c++;
        if (heap[c]->deadline >= t->deadline)
            break;
        place(i, heap[c]);
        i = c;
    }
    place(i, t);
}

// Takes heap[i] out and stores `outcome` (EX_TIMER_IDLE or EX_TIMER_FIRED)
// as its index: one release store, after which its owner may free it.
static void remove_at(uint32_t i, int32_t outcome)
{
    struct ex_timer *gone = heap[i];
    atomic_store_release(&gone->index, outcome); // the last touch: from here on its owner may free it
    void (*hook)(struct ex_timer *) = timer_released_hook;
    if (hook)
        hook(gone);
    struct ex_timer *last = heap[--size];
    if (i == size)
        return;
    place(i, last);
    sift_down(i);
    sift_up((uint32_t)last->index);
}
// [end: timer-heap]

// [snippet: timer-arm]
int ex_timer_arm(struct ex_timer *t, uint64_t deadline, struct waker w)
{
    sys_mutex_lock(&lock);
    if (t->index >= 0)
        remove_at((uint32_t)t->index, EX_TIMER_IDLE);
    if (size == EX_MAX_TIMERS) {
        sys_mutex_unlock(&lock);
        return -ENOMEM;
    }
    t->deadline = deadline;
    t->waker = w;
    place(size++, t);
    sift_up(size - 1);
    bool earliest = heap[0] == t;
    sys_mutex_unlock(&lock);
    void (*hook)(uint64_t) = timer_earlier_hook;
    if (earliest && hook)
        hook(deadline);
    return 0;
}
// [end: timer-arm]

// [snippet: timer-cancel]
// The fast path reads index without the lock: once it is negative the heap
// has let go of t, and the owner may free t the moment this returns. So the
// heap stores nothing to t after that index (see remove_at).
void ex_timer_cancel(struct ex_timer *t)
{
    if (atomic_load_acquire(&t->index) < 0)
        return; // cheap exit for the common "never armed / already fired" case
    sys_mutex_lock(&lock);
    if (t->index >= 0)
        remove_at((uint32_t)t->index, EX_TIMER_IDLE);
    sys_mutex_unlock(&lock);
}
// [end: timer-cancel]

bool ex_timer_armed(const struct ex_timer *t) { return atomic_load_acquire(&t->index) >= 0; }

bool ex_timer_fired(const struct ex_timer *t) { return atomic_load_acquire(&t->index) == EX_TIMER_FIRED; }

uint64_t timer_next_deadline(void)
{
    sys_mutex_lock(&lock);
    uint64_t d = size ? heap[0]->deadline : UINT64_MAX;
    sys_mutex_unlock(&lock);
    return d;
}

// [snippet: timer-fire]
uint32_t timer_fire_due(uint64_t now)
{
    struct waker due[EX_TIMER_FIRE_BATCH];
    uint32_t total = 0;
    for (;;) {
        uint32_t n = 0;
        sys_mutex_lock(&lock);
        while (size && heap[0]->deadline <= now && n < EX_TIMER_FIRE_BATCH) {
            struct ex_timer *t = heap[0];
            due[n++] = t->waker;
            // "Fired" and "left the heap" are one store. They were two (a
            // `fired` flag and index = -1), and either order was a use after
            // free: the owner may free t on seeing either one, cancel's fast
            // path on the index, a sleep on the flag, while the other store
            // was still to come.
            remove_at(0, EX_TIMER_FIRED);
        }
        sys_mutex_unlock(&lock);
        // Wake outside the lock: a woken task may re-arm at once on another worker.
        for (uint32_t i = 0; i < n; i++)
            sched_wake(due[i]);
        total += n;
        if (n < EX_TIMER_FIRE_BATCH)
            return total;
    }
}
// [end: timer-fire]

poll_t ex_sleep_poll(struct ex_sleep *s, struct sched_cx *cx)
{
    if (!s->started) {
        s->started = 1;
        // A fresh clock, not ex_now_ns(): a sleep must never end early, and
        // the cached clock may be as old as the current batch of tasks.
        if (ex_timer_arm(&s->timer, sys_now_ns() + s->ns, cx->waker) < 0)
            return READY; // no timer to be had: do not hang, end the sleep now
        return PENDING;
    }
    // Woken for another reason (spurious wakes are allowed): keep waiting.
    return ex_timer_fired(&s->timer) ? READY : PENDING;
}
