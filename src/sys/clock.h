// clock.h: monotonic time in nanoseconds, and sleeping.
#ifndef SYS_CLOCK_H
#define SYS_CLOCK_H

#include <stdint.h>

#include "sys/sys.h"
#include "sys/vdso.h"

#define NS_PER_MS  1000000ul
#define NS_PER_SEC 1000000000ul

// [snippet: clock-read]
// Reads clock into ts; returns 0 or -errno, as clock_gettime does. Through
// the vDSO when the kernel maps one, without entering the kernel; by the
// syscall when there is no vDSO or its function fails.
static inline int sys_clock_read(int clock, struct timespec *ts)
{
    sys_vdso_clock_fn vdso = sys_vdso_clock_gettime;
    if (vdso && vdso(clock, ts) == 0)
        return 0;
    return sys_clock_gettime(clock, ts);
}

// Nanoseconds since an arbitrary fixed point; never goes backwards.
static inline uint64_t sys_now_ns(void)
{
    struct timespec ts;
    sys_clock_read(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}
// [end: clock-read]

// CPU time this process has used (all threads), in nanoseconds. A syscall
// on purpose: the vDSO computes only the clocks the kernel publishes (wall,
// monotonic and their relatives) and would make this same syscall itself.
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
