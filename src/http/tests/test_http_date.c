// test_http_date.c: the Date cache under threads: every value is a whole, current IMF-fixdate.
#include "config.h"
#include "exec/exec.h"
#include "exec/reactor.h"
#include "http/http_date.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

#define THREADS 4

static uint32_t arrived, go;
static uint64_t until_ns;

static int64_t wall_seconds(void)
{
    struct timespec ts;
    sys_clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

// True if d is exactly the IMF-fixdate of a second in [lo, hi].
static bool is_date_between(const char d[HTTP_DATE_LEN], int64_t lo, int64_t hi)
{
    char want[HTTP_DATE_LEN];
    for (int64_t t = lo; t <= hi; t++) {
        http_date_format(t, want);
        if (sys_memcmp(d, want, HTTP_DATE_LEN) == 0)
            return true;
    }
    return false;
}

// Each thread starts on the same signal, so that several of them make the
// very first call at once (the start-up case: nothing published yet), then
// keeps asking, refreshing the executor's clock as a poller would, until
// the time is up: across at least one change of second.
static int hammer(void *arg)
{
    uint32_t *bad = arg;
    atomic_fetch_add(&arrived, 1);
    while (!atomic_load_acquire(&go))
        sys_cpu_relax();
    uint32_t calls = 0;
    do {
        int64_t lo = wall_seconds();
        char d[HTTP_DATE_LEN];
        http_date_now(d);
        int64_t hi = wall_seconds();
        // A cached value may lag the wall clock by the time the poller
        // takes to refresh: one second of slack before, none after.
        if (!is_date_between(d, lo - 1, hi))
            atomic_fetch_add(bad, 1);
        if (++calls % 64 == 0)
            ex_clock_refresh();
    } while (sys_now_ns() < atomic_load_relaxed(&until_ns));
    return (int)calls;
}

// The writer stalls half-way through its copy, the first time and then once
// a second: on a 2-core machine the readers would otherwise rarely meet it.
static uint32_t stalls;
static void stall_writer(void)
{
    atomic_fetch_add(&stalls, 1);
    sys_sleep_ns(20 * NS_PER_MS);
}

static void every_date_is_whole_from_the_first_call_on(void)
{
    http_date_write_hook = stall_writer;
    uint32_t bad = 0;
    struct sys_thread *t[THREADS];
    ex_clock_refresh();
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(sys_thread_spawn(&t[i], hammer, &bad, THREAD_STACK_SIZE), 0);
    while (atomic_load_acquire(&arrived) < THREADS)
        sys_cpu_relax();
    atomic_store_relaxed(&until_ns, sys_now_ns() + 1300 * NS_PER_MS);
    atomic_store_release(&go, 1);
    long calls = 0;
    for (int i = 0; i < THREADS; i++)
        calls += sys_thread_join(t[i]);
    http_date_write_hook = NULL;
    CHECK(calls > THREADS);
    CHECK(atomic_load_relaxed(&stalls) >= 2); // the first publish, and at least one change of second
    CHECK_EQ(atomic_load_relaxed(&bad), 0);
}

static void format_matches_rfc_examples(void)
{
    char d[HTTP_DATE_LEN];
    http_date_format(784111777, d); // RFC 9110 5.6.7's example
    CHECK(sys_memcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT", HTTP_DATE_LEN) == 0);
    http_date_format(951782400, d); // a leap day
    CHECK(sys_memcmp(d, "Tue, 29 Feb 2000 00:00:00 GMT", HTTP_DATE_LEN) == 0);
}

int main(void)
{
    RUN(every_date_is_whole_from_the_first_call_on);
    RUN(format_matches_rfc_examples);
    return test_summary();
}
