// future.h: futures in C: a poll function over a state struct, and resume-point macros for await.
#ifndef SCHED_FUTURE_H
#define SCHED_FUTURE_H

#include <stdint.h>

#include "sys/fmt.h"
#include "sys/sys.h"

// [snippet: poll-result]
// What the Rust compiler generates for an `async fn` is a state machine: a
// struct holding every local that lives across an `.await`, plus a number
// saying where to resume, and a poll function that jumps to that point, runs
// until the next await that is not ready, and returns Pending. We write the
// same thing by hand. A poll function returns READY when the future is done,
// or PENDING after it has arranged (through the waker in `cx`) to be polled
// again when progress is possible.
typedef enum { PENDING = 0, READY = 1 } poll_t;

// A waker names a task by slot and generation. When the slot is reused by a
// new task the generation differs, so an old waker can do no harm. It packs
// into 64 bits, so it fits in epoll_event.data.
struct waker {
    uint32_t slot;
    uint32_t gen;
};

// The context a poll function gets (Rust's Context): who to wake.
struct sched_cx {
    struct waker waker;
};
// [end: poll-result]

static inline uint64_t waker_pack(struct waker w) { return (uint64_t)w.gen << 32 | w.slot; }
static inline struct waker waker_unpack(uint64_t v)
{
    return (struct waker){(uint32_t)v, (uint32_t)(v >> 32)};
}

// A resume value with no case label: a broken rule (see below), never input.
__attribute__((noreturn)) static inline void async_bad_resume(const char *file, int line, int resume)
{
    char msg[160];
    sys_snprintf(msg, sizeof msg, "resume point %d of the future ending at %s:%d has no label", resume, file,
                 line);
    sys_panic(msg);
}

// [snippet: async-macros]
// Resume points, Duff's-device style. A future's state struct has an
// `int resume` field that starts at 0. The body of its poll function is
//
//     ASYNC_BEGIN(st);
//     ...
//     AWAIT(st, some_future_poll(&st->child, cx));
//     ...
//     ASYNC_END(st);
//
// and ASYNC_BEGIN is a `switch (st->resume)` whose `case` labels sit inside
// the AWAITs: returning PENDING records the line, and the next poll jumps
// straight back into the middle of the AWAIT to poll the child again.
// Rules that follow from the trick, and what catches a broken one:
//   - locals do not survive an AWAIT: keep such values in the state struct.
//     gcc's -Wjump-misses-init (on in our build) flags a local whose
//     initialiser a resume would jump over; a local assigned after its
//     declaration and read after an AWAIT is caught by nothing: read the
//     body for it;
//   - at most one AWAIT per source line (the line number is the label):
//     the compiler reports a duplicate case label;
//   - no AWAIT inside a nested switch: its `case` would belong to the inner
//     switch. That compiles; the first resume then finds no label in the
//     outer switch and ASYNC_END's default panics, naming the file and line.
// A finished future (resume -1) polled again stays READY; any other resume
// value with no label panics the same way, instead of returning READY as if
// the future had run to its end.
#define ASYNC_BEGIN(st)     \
    switch ((st)->resume) { \
    case 0:

#define AWAIT(st, poll_expr)        \
    do {                            \
        (st)->resume = __LINE__;    \
        /* fall through */          \
    case __LINE__:                  \
        if ((poll_expr) == PENDING) \
            return PENDING;         \
    } while (0)

// Give other tasks a turn: wake ourselves, return PENDING, resume after.
#define YIELD(st, cx)            \
    do {                         \
        (st)->resume = __LINE__; \
        sched_wake((cx)->waker); \
        return PENDING;          \
    case __LINE__:;              \
    } while (0)

// Finish early from inside the body.
#define ASYNC_RETURN(st)   \
    do {                   \
        (st)->resume = -1; \
        return READY;      \
    } while (0)

#define ASYNC_END(st)                                       \
    case -1:                                                \
        break;                                              \
    default:                                                \
        async_bad_resume(__FILE__, __LINE__, (st)->resume); \
        }                                                   \
        (st)->resume = -1;                                  \
        return READY
// [end: async-macros]

#endif
