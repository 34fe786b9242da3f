// timer.c: a binary min-heap of armed timers keyed by deadline, under a futex mutex.
#include "exec/timer.h"
#include "config.h"
#include "exec/exec.h"
#include "exec/reactor.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/lock.h"

// [snippet: timer-heap]
// A binary heap gives O(log n) arm and cancel and O(1) "what is next?", the
// one question the reactor asks before every wait. Each timer remembers its
// index in the heap, so cancelling (a request finished before its timeout,
// the common case) removes it directly without a search.
// There is one heap per ready queue: a timer goes to the heap of the task it
// wakes, so with the per-core executor (chapter 10) each worker arms, fires
// and cancels its own timers and no lock is ever contended.
struct timer_heap {
    struct sys_mutex lock;
    uint32_t size;
    struct ex_timer *at[EX_MAX_TIMERS];
};
// A connection holds one timer, and a task may sleep while its connection's
// timer is armed: two per task slot means arming never fails for want of
// room in a running server (ex_timer_arm's -ENOMEM stays handled anyway).
_Static_assert(EX_MAX_TIMERS >= 2 * SCHED_MAX_TASK_SLOTS, "EX_MAX_TIMERS below two timers per task slot");
static struct timer_heap heaps[SCHED_MAX_QUEUES]; // pages touched only by the heaps in use
void (*timer_earlier_hook)(uint32_t heap, uint64_t deadline);
void (*timer_released_hook)(struct ex_timer *t);

// index is also read without the lock (ex_timer_cancel's fast path), so it
// is written atomically.
static void place(struct timer_heap *h, uint32_t i, struct ex_timer *t)
{
    h->at[i] = t;
    atomic_store_relaxed(&t->index, (int32_t)i);
}

// Moves heap[i] up while its parent's deadline is later, so the earliest
// deadline ends at heap[0]; every timer it moves gets its new index (place).
// Called under the lock by ex_timer_arm (a timer added last) and remove_at
// (the last timer moved into a hole).
// [lab: sift_up]
static void sift_up(struct timer_heap *h, uint32_t i)
{
    struct ex_timer *t = h->at[i];
    while (i > 0 && h->at[(i - 1) / 2]->deadline > t->deadline) {
        place(h, i, h->at[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(h, i, t);
}
// [end lab: sift_up]

static void sift_down(struct timer_heap *h, uint32_t i)
{
    struct ex_timer *t = h->at[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->size)
            break;
        if (c + 1 < h->size && h->at[c + 1]->deadline < h->at[c]->deadline)
            c++;
        if (h->at[c]->deadline >= t->deadline)
            break;
        place(h, i, h->at[c]);
        i = c;
    }
    place(h, i, t);
}

// Takes heap[i] out and stores `outcome` (EX_TIMER_IDLE or EX_TIMER_FIRED)
// as its index: one release store, after which its owner may free it.
static void remove_at(struct timer_heap *h, uint32_t i, int32_t outcome)
{
    struct ex_timer *gone = h->at[i];
    atomic_store_release(&gone->index, outcome); // the last touch: from here on its owner may free it
    void (*hook)(struct ex_timer *) = timer_released_hook;
    if (hook)
        hook(gone);
    struct ex_timer *last = h->at[--h->size];
    if (i == h->size)
        return;
    place(h, i, last);
    sift_down(h, i);
    sift_up(h, (uint32_t)last->index);
}

// Takes t out of heap h if it is still there (under h's lock).
static void cancel_in(struct timer_heap *h, struct ex_timer *t)
{
    sched_note_shared_writes(ex_instance_shared((uint32_t)(h - heaps))); // the lock [later: per-core]
    sys_mutex_lock(&h->lock);
    if (t->index >= 0 && &heaps[t->heap] == h)
        remove_at(h, (uint32_t)t->index, EX_TIMER_IDLE);
    sys_mutex_unlock(&h->lock);
}
// [end: timer-heap]

// [snippet: timer-arm]
int ex_timer_arm(struct ex_timer *t, uint64_t deadline, struct waker w)
{
    uint32_t home = sched_home(w);
    struct timer_heap *h = &heaps[home];
    sched_note_shared_writes(ex_instance_shared(home));         // the lock [later: per-core]
    if (atomic_load_acquire(&t->index) >= 0 && t->heap != home) // [later: per-core]
        cancel_in(&heaps[t->heap], t); // armed for a task of another heap [later: per-core]
    sys_mutex_lock(&h->lock);
    if (t->index >= 0)
        remove_at(h, (uint32_t)t->index, EX_TIMER_IDLE);
    if (h->size == EX_MAX_TIMERS) {
        sys_mutex_unlock(&h->lock);
        return -ENOMEM;
    }
    t->deadline = deadline;
    t->waker = w;
    t->heap = home;
    place(h, h->size++, t);
    sift_up(h, h->size - 1);
    bool earliest = h->at[0] == t;
    sys_mutex_unlock(&h->lock);
    void (*hook)(uint32_t, uint64_t) = timer_earlier_hook;
    if (earliest && hook)
        hook(home, deadline);
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
    cancel_in(&heaps[t->heap], t);
}
// [end: timer-cancel]

bool ex_timer_armed(const struct ex_timer *t) { return atomic_load_acquire(&t->index) >= 0; }

bool ex_timer_fired(const struct ex_timer *t) { return atomic_load_acquire(&t->index) == EX_TIMER_FIRED; }

uint64_t timer_next_deadline(uint32_t heap)
{
    struct timer_heap *h = &heaps[heap];
    sys_mutex_lock(&h->lock);
    uint64_t d = h->size ? h->at[0]->deadline : UINT64_MAX;
    sys_mutex_unlock(&h->lock);
    return d;
}

// [snippet: timer-fire]
uint32_t timer_fire_due(uint32_t heap, uint64_t now)
{
    struct timer_heap *h = &heaps[heap];
    struct waker due[EX_TIMER_FIRE_BATCH];
    uint32_t total = 0;
    for (;;) {
        uint32_t n = 0;
        sched_note_shared_writes(ex_instance_shared(heap)); // the lock [later: per-core]
        sys_mutex_lock(&h->lock);
        while (h->size && h->at[0]->deadline <= now && n < EX_TIMER_FIRE_BATCH) {
            struct ex_timer *t = h->at[0];
            due[n++] = t->waker;
            // "Fired" and "left the heap" are one store. They were two (a
            // `fired` flag and index = -1), and either order was a use after
            // free: the owner may free t on seeing either one, cancel's fast
            // path on the index, a sleep on the flag, while the other store
            // was still to come.
            remove_at(h, 0, EX_TIMER_FIRED);
        }
        sys_mutex_unlock(&h->lock);
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
