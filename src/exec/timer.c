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
static uint32_t size;
static struct sys_mutex lock = SYS_MUTEX_INIT;
void (*timer_earlier_hook)(uint64_t deadline);

// index is also read without the lock (ex_timer_cancel's fast path), so it
// is written atomically.
static void place(uint32_t i, struct ex_timer *t)
{
    heap[i] = t;
    atomic_store_relaxed(&t->index, (int32_t)i);
}

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

static void remove_at(uint32_t i)
{
    atomic_store_release(&heap[i]->index, -1);
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
        remove_at((uint32_t)t->index);
    if (size == EX_MAX_TIMERS) {
        sys_mutex_unlock(&lock);
        return -ENOMEM;
    }
    t->deadline = deadline;
    t->waker = w;
    atomic_store_relaxed(&t->fired, 0);
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

void ex_timer_cancel(struct ex_timer *t)
{
    if (atomic_load_acquire(&t->index) < 0)
        return; // cheap exit for the common "never armed / already fired" case
    sys_mutex_lock(&lock);
    if (t->index >= 0)
        remove_at((uint32_t)t->index);
    sys_mutex_unlock(&lock);
}

bool ex_timer_fired(const struct ex_timer *t) { return atomic_load_acquire(&t->fired) != 0; }

uint64_t timer_next_deadline(void)
{
    sys_mutex_lock(&lock);
    uint64_t d = size ? heap[0]->deadline : UINT64_MAX;
    sys_mutex_unlock(&lock);
    return d;
}

uint32_t timer_count(void)
{
    sys_mutex_lock(&lock);
    uint32_t n = size;
    sys_mutex_unlock(&lock);
    return n;
}

// [snippet: timer-fire]
uint32_t timer_fire_due(uint64_t now)
{
    struct waker due[64];
    uint32_t total = 0;
    for (;;) {
        uint32_t n = 0;
        sys_mutex_lock(&lock);
        while (size && heap[0]->deadline <= now && n < 64) {
            struct ex_timer *t = heap[0];
            due[n++] = t->waker;
            remove_at(0);
            atomic_store_release(&t->fired, 1);
        }
        sys_mutex_unlock(&lock);
        // Wake outside the lock: a woken task may re-arm at once on another worker.
        for (uint32_t i = 0; i < n; i++)
            sched_wake(due[i]);
        total += n;
        if (n < 64)
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
