// http_deadline.c: a connection's timeout policy: one timer, re-armed lazily, for every wait.
#include "http/http_deadline.h"
#include "sys/clock.h"

// [snippet: http-deadline]
// One timer per connection, armed lazily. Each wait sets d->at; the timer
// is only moved when the new deadline is *earlier* than the armed one.
// When it fires and the deadline has since moved on (the usual case for a
// busy keep-alive connection), it is re-armed once. So a request costs no
// timer operation at all, and an idle connection one per timeout period.
//
// A connection is never left without a timer: if arming fails (the heap is
// full), the deadline becomes 0, which http_deadline_expired reports as
// passed, and the connection ends at its next wait instead of waiting unbounded.
// HTTP and WebSocket both wait through it (http_lifecycle.c): one policy.
void http_deadline_arm(struct http_deadline *d, struct waker w)
{
    if (ex_timer_arm(&d->timer, d->at, w) < 0)
        d->at = 0;
}

void http_deadline_at(struct http_deadline *d, uint64_t at, struct sched_cx *cx)
{
    d->at = at;
    // The heap moves timer.index from other threads: ask it, do not read it.
    // timer.deadline is written only by our own arms, so a plain read is fine.
    if (!ex_timer_armed(&d->timer) || d->timer.deadline > d->at)
        http_deadline_arm(d, cx->waker);
}

void http_deadline_in(struct http_deadline *d, uint64_t ms, struct sched_cx *cx)
{
    http_deadline_at(d, ex_now_ns() + ms * NS_PER_MS, cx);
}

bool http_deadline_expired(struct http_deadline *d, struct sched_cx *cx)
{
    if (ex_now_ns() >= d->at)
        return true;
    if (!ex_timer_armed(&d->timer)) // fired early for an older deadline: re-arm for the current one
        http_deadline_arm(d, cx->waker);
    return d->at == 0; // the re-arm failed
}
// [end: http-deadline]
