// test_signals.c: stage-1 tests of signal delivery through our restorer, SIGPIPE, and exit vs exit_group.
#include "config.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/signal.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

static volatile int handled_sig;
static volatile int handler_calls;

static void on_signal(int sig)
{
    handled_sig = sig;
    handler_calls++;
}

// The handler must run and then return into the interrupted code through the
// SA_RESTORER trampoline; if rt_sigreturn went wrong we would crash here.
static void tgkill_runs_handler_and_returns(void)
{
    handler_calls = 0;
    CHECK_EQ(sys_signal_handle(SIGUSR1, on_signal), 0);
    long before = 0x1234567890;
    CHECK_EQ(sys_tgkill(sys_getpid(), sys_gettid(), SIGUSR1), 0);
    CHECK_EQ(handler_calls, 1);
    CHECK_EQ(handled_sig, SIGUSR1);
    CHECK_EQ(before, 0x1234567890); // registers and stack intact after sigreturn
    for (int i = 0; i < 100; i++)
        sys_tgkill(sys_getpid(), sys_gettid(), SIGUSR1);
    CHECK_EQ(handler_calls, 101);
    CHECK_EQ(sys_signal_default(SIGUSR1), 0);
}

static void sigpipe_ignored_gives_epipe(void)
{
    CHECK_EQ(sys_signal_ignore(SIGPIPE), 0);
    int fds[2];
    CHECK_EQ(sys_pipe2(fds, O_CLOEXEC), 0);
    sys_close(fds[0]);
    CHECK_EQ(sys_write(fds[1], "x", 1), -EPIPE); // without SIG_IGN this would kill us
    sys_close(fds[1]);
}

static void blocked_signal_stays_pending(void)
{
    handler_calls = 0;
    CHECK_EQ(sys_signal_handle(SIGUSR2, on_signal), 0);
    uint64_t set = 1ull << (SIGUSR2 - 1), old = 0;
    CHECK_EQ(sys_rt_sigprocmask(SIG_BLOCK, &set, &old), 0);
    sys_tgkill(sys_getpid(), sys_gettid(), SIGUSR2);
    CHECK_EQ(handler_calls, 0);
    CHECK_EQ(sys_rt_sigprocmask(SIG_SETMASK, &old, NULL), 0); // delivery happens on unblock
    CHECK_EQ(handler_calls, 1);
    sys_signal_default(SIGUSR2);
}

static int exit_whole_process(void *arg)
{
    (void)arg;
    sys_exit_group(3);
}

static int exit_only_thread(void *arg)
{
    (void)arg;
    sys_exit_thread(0);
}

// exit_group from any thread ends the process at once; exit ends one thread.
static void exit_group_vs_exit(void)
{
    int pid = sys_fork();
    if (pid == 0) {
        struct sys_thread *t;
        sys_thread_spawn(&t, exit_only_thread, NULL, THREAD_STACK_SIZE);
        sys_thread_join(t); // we are still here: exit ended only that thread
        sys_thread_spawn(&t, exit_whole_process, NULL, THREAD_STACK_SIZE);
        sys_sleep_ns(10 * NS_PER_SEC); // killed long before this ends
        sys_exit_group(1);
    }
    uint64_t start = sys_now_ns();
    int status = 0;
    CHECK_EQ(sys_wait4(pid, &status, 0, NULL), pid);
    CHECK(W_IFEXITED(status));
    CHECK_EQ(W_EXITCODE(status), 3);
    CHECK(sys_now_ns() - start < 5 * NS_PER_SEC);
}

int main(void)
{
    RUN(tgkill_runs_handler_and_returns);
    RUN(sigpipe_ignored_gives_epipe);
    RUN(blocked_signal_stays_pending);
    RUN(exit_group_vs_exit);
    return test_summary();
}
