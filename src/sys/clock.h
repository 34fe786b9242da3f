// clock.h: monotonic time in nanoseconds, and sleeping.
#ifndef SYS_CLOCK_H
#define SYS_CLOCK_H

#include <stdint.h>

#include "sys/sys.h"

#define NS_PER_MS  1000000ul
#define NS_PER_SEC 1000000000ul

// [snippet: now-ns]
// Nanoseconds since an arbitrary fixed point; never goes backwards.
static inline uint64_t sys_now_ns(void)
{
    struct timespec ts;
    sys_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}
// [end: now-ns]

// CPU time this process has used (all threads), in nanoseconds.
static inline uint64_t sys_cpu_ns(void)
{
    struct timespec ts;
    sys_clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

// Sleeps at least ns nanoseconds, resuming after signals.
static inline void sys_sleep_ns(uint64_t ns)
{
    struct timespec req = {(long)(ns / NS_PER_SEC), (long)(ns % NS_PER_SEC)}, rem;
    while (sys_nanosleep(&req, &rem) == -EINTR)
        req = rem;
}

#endif
