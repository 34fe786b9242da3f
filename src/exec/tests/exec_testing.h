// exec_testing.h: what the executor's tests share: start and stop an executor, run a case on each backend.
#ifndef EXEC_TESTS_TESTING_H
#define EXEC_TESTS_TESTING_H

#include "config.h"
#include "exec/completion.h"
#include "exec/exec.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/testing.h"

// The backend the running case uses; run_on_each_backend sets it.
static enum ex_backend backend;
// The executor every case runs on: test_per_core.c runs test_exec.c's
// cases again with EX_PER_CORE.
#ifndef EXEC_TEST_EXECUTOR
#define EXEC_TEST_EXECUTOR EX_SHARED
#endif

static inline void start_executor(int workers, uint32_t max_tasks)
{
    struct ex_config cfg = {
        .workers = workers, .backend = backend, .max_tasks = max_tasks, .executor = EXEC_TEST_EXECUTOR};
    CHECK_EQ(ex_init(&cfg), 0);
    CHECK_EQ(ex_start(), 0);
}

// Waits (bounded) until every task finished, then stops the executor.
// Returns whether they all finished in time.
static inline bool finish_executor(uint64_t limit_ns)
{
    uint64_t deadline = sys_now_ns() + limit_ns;
    while (sched_live() && sys_now_ns() < deadline)
        sys_sleep_ns(NS_PER_MS);
    bool done = sched_live() == 0;
    ex_shutdown();
    CHECK_EQ(ex_join(), 0);
    return done;
}

// The case for a backend the kernel refuses: skipped, with the reason.
static inline void skip_unavailable_backend(void) { SKIP("io_uring unavailable: %s", ex_uring_why()); }

// Runs one case once per backend, as "name [epoll]", "name [ppoll]",
// "name [io_uring]"; the last is skipped with the reason where the kernel
// refuses io_uring (ENOSYS, EPERM, io_uring_disabled, a missing opcode).
// Leaves backend at epoll again, for a case run on its own after it.
static inline void run_on_each_backend(const char *name, void (*fn)(void))
{
    static const enum ex_backend all[] = {EX_BACKEND_EPOLL, EX_BACKEND_PPOLL, EX_BACKEND_IO_URING};
    static const char *const names[] = {"epoll", "ppoll", "io_uring"};
    for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++) {
        backend = all[i];
        char full[96];
        sys_snprintf(full, sizeof full, "%s [%s]", name, names[i]);
        test_run(full,
                 all[i] == EX_BACKEND_IO_URING && !ex_uring_available() ? skip_unavailable_backend : fn);
    }
    backend = EX_BACKEND_EPOLL;
}

#endif
