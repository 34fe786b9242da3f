// http_deadline.h: a connection's timeout policy: one timer, re-armed lazily, for every wait.
#ifndef HTTP_DEADLINE_H
#define HTTP_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "exec/exec.h"

struct http_deadline {
    uint64_t at; // when the current wait must end (0: already passed)
    struct ex_timer timer;
};

#define HTTP_DEADLINE_INIT \
    {                      \
        0, EX_TIMER_INIT   \
    }

// Arms the timer for d->at, to wake w. If it cannot be armed (the timer
// heap is full), d->at becomes 0: the next wait ends at once.
void http_deadline_arm(struct http_deadline *d, struct waker w);
// The current wait ends at `at` (ex_now_ns() clock), or in ms milliseconds.
void http_deadline_at(struct http_deadline *d, uint64_t at, struct sched_cx *cx);
void http_deadline_in(struct http_deadline *d, uint64_t ms, struct sched_cx *cx);
// Call on each poll of a wait: true once the deadline has passed, or when
// the timer (fired early, for an older deadline) cannot be re-armed: a wait
// without a timer would have no end. Else the timer will wake the task in time.
bool http_deadline_expired(struct http_deadline *d, struct sched_cx *cx);
// Disarms the timer; call before d's memory goes away.
static inline void http_deadline_cancel(struct http_deadline *d) { ex_timer_cancel(&d->timer); }

#endif
