// testing.h: a tiny freestanding unit-test harness: one line per case, [OK], [FAIL] or [SKIP].
#ifndef SYS_TESTING_H
#define SYS_TESTING_H

#include "sys/atomic.h"
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/sys.h"

// Usage:
//     static void pipe_round_trip(void) { CHECK(x == 1); CHECK_EQ(a, b); }
//     int main(void) { RUN(pipe_round_trip); return test_summary(); }
// A case fails if any CHECK in it fails (from any thread); the first failing
// check is reported as "file:line: expression". Run with case names as
// arguments (`test_sched slots_run_out_cleanly`) to run only those cases.

static int test_failures;
static int test_case_failed;
static int test_case_skipped;
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
// Ends nothing by itself: marks the case skipped, with a reason, and the
// case returns. For what this machine cannot do (a kernel feature it
// refuses), never for a result the code got wrong: that is a CHECK.
#define SKIP(...)                                                       \
    do {                                                                \
        test_case_skipped = 1;                                          \
        if (!atomic_load_seq(&test_case_failed))                        \
            sys_snprintf(test_reason, sizeof test_reason, __VA_ARGS__); \
    } while (0)
#define CHECK_EQ(a, b)                                                          \
    do {                                                                        \
        long check_a_ = (long)(a), check_b_ = (long)(b);                        \
        if (check_a_ != check_b_)                                               \
            test_fail(__FILE__, __LINE__, #a " == " #b, check_a_, check_b_, 1); \
    } while (0)

// True if the command line names no case, or names this one: exactly, or
// up to a variant suffix ("pipe_ping_pong" selects "pipe_ping_pong [ppoll]").
static inline bool test_selected(const char *name)
{
    if (sys_argc < 2)
        return true;
    for (int i = 1; i < sys_argc; i++) {
        size_t n = sys_strlen(sys_argv[i]);
        if (sys_starts_with(name, sys_argv[i]) && (name[n] == '\0' || name[n] == ' '))
            return true;
    }
    return false;
}

static inline void test_run(const char *name, void (*fn)(void))
{
    if (!test_selected(name))
        return;
    test_case_failed = 0;
    test_case_skipped = 0;
    test_reason[0] = '\0';
    fn();
    if (atomic_load_seq(&test_case_failed)) {
        test_failures++;
        sys_printf("[FAIL] %s: %s\n", name, test_reason);
    } else if (test_case_skipped) {
        sys_printf("[SKIP] %s: %s\n", name, test_reason);
    } else {
        sys_printf("[OK] %s\n", name);
    }
}
#define RUN(fn) test_run(#fn, fn)

// For death tests: runs fn in a forked child with stderr captured. Returns the wait status
// and copies what the child wrote to stderr into msg.
static inline int test_run_child(void (*fn)(void), char *msg, size_t cap)
{
    int fds[2];
    msg[0] = '\0';
    if (sys_pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    int pid = sys_fork();
    if (pid == 0) {
        sys_dup2(fds[1], STDERR_FILENO);
        fn();
        sys_exit_group(0); // reaching here means the misuse went unnoticed
    }
    sys_close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = sys_read(fds[0], msg + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    msg[len] = '\0';
    sys_close(fds[0]);
    int status = 0;
    if (pid < 0 || sys_wait4(pid, &status, 0, NULL) != pid)
        return -1;
    return status;
}

// True if the string s contains part.
static inline bool test_contains(const char *s, const char *part)
{
    size_t n = sys_strlen(part);
    for (; *s; s++)
        if (sys_memcmp(s, part, n) == 0)
            return true;
    return false;
}

// Exit status for main: 0 if every case passed.
static inline int test_summary(void) { return test_failures ? 1 : 0; }

#endif
