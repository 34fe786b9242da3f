// testing.h: a tiny freestanding unit-test harness: one line per case, [OK] or [FAIL].
#ifndef SYS_TESTING_H
#define SYS_TESTING_H

#include "sys/atomic.h"
#include "sys/fmt.h"
#include "sys/sys.h"

// Usage:
//     static void pipe_round_trip(void) { CHECK(x == 1); CHECK_EQ(a, b); }
//     int main(void) { RUN(pipe_round_trip); return test_summary(); }
// A case fails if any CHECK in it fails (from any thread); the first failing
// check is reported as "file:line: expression".

static int test_failures;
static int test_case_failed;
static char test_reason[256];

static inline void test_fail(const char *file, int line, const char *what, long a, long b, int show)
{
    if (__atomic_exchange_n(&test_case_failed, 1, __ATOMIC_SEQ_CST))
        return; // keep the first reason
    if (show)
        sys_snprintf(test_reason, sizeof test_reason, "%s:%d: %s (%ld vs %ld)", file, line, what, a, b);
    else
        sys_snprintf(test_reason, sizeof test_reason, "%s:%d: %s", file, line, what);
}

#define CHECK(cond)                                        \
    do {                                                   \
        if (!(cond))                                       \
            test_fail(__FILE__, __LINE__, #cond, 0, 0, 0); \
    } while (0)
#define CHECK_EQ(a, b)                                                          \
    do {                                                                        \
        long check_a_ = (long)(a), check_b_ = (long)(b);                        \
        if (check_a_ != check_b_)                                               \
            test_fail(__FILE__, __LINE__, #a " == " #b, check_a_, check_b_, 1); \
    } while (0)

static inline void test_run(const char *name, void (*fn)(void))
{
    test_case_failed = 0;
    test_reason[0] = '\0';
    fn();
    if (atomic_load_seq(&test_case_failed)) {
        test_failures++;
        sys_printf("[FAIL] %s: %s\n", name, test_reason);
    } else {
        sys_printf("[OK] %s\n", name);
    }
}
#define RUN(fn) test_run(#fn, fn)

// Exit status for main: 0 if every case passed.
static inline int test_summary(void) { return test_failures ? 1 : 0; }

#endif
