// test_syscalls.c: stage-1 tests of files, memory, processes, clocks and the entry ABI against the kernel.
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"

static int saved_argc;
static char **saved_argv, **saved_envp;
static uintptr_t main_frame;

static void pipe_round_trip(void)
{
    int fds[2];
    CHECK_EQ(sys_pipe2(fds, O_CLOEXEC), 0);
    const char msg[] = "hello through the kernel";
    CHECK_EQ(sys_write(fds[1], msg, sizeof msg), sizeof msg);
    char buf[64] = {0};
    CHECK_EQ(sys_read(fds[0], buf, sizeof buf), sizeof msg);
    CHECK(sys_memcmp(buf, msg, sizeof msg) == 0);
    sys_close(fds[1]);
    CHECK_EQ(sys_read(fds[0], buf, sizeof buf), 0); // EOF once the writer is gone
    sys_close(fds[0]);
}

static void nonblocking_read_gives_eagain(void)
{
    int fds[2];
    CHECK_EQ(sys_pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    char c;
    CHECK_EQ(sys_read(fds[0], &c, 1), -EAGAIN);
    sys_close(fds[0]);
    sys_close(fds[1]);
}

static void bad_fd_gives_ebadf(void)
{
    char c = 0;
    CHECK_EQ(sys_write(-1, &c, 1), -EBADF);
    CHECK_EQ(sys_read(9999, &c, 1), -EBADF);
    CHECK_EQ(sys_close(9999), -EBADF);
}

static void file_write_read(void)
{
    const char *path = "/tmp/async-nostd-test-file";
    int fd = sys_open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(sys_write_all(fd, "0123456789", 10), 10);
    CHECK_EQ(sys_lseek(fd, 3, 0), 3);
    char buf[4] = {0};
    CHECK_EQ(sys_read(fd, buf, 3), 3);
    CHECK(sys_memcmp(buf, "345", 3) == 0);
    sys_close(fd);
    CHECK_EQ(sys_open("/nonexistent/dir/file", O_RDONLY, 0), -ENOENT);
}

static void mmap_munmap(void)
{
    size_t len = 1 << 20;
    unsigned char *p = sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(!SYS_IS_ERR(p));
    if (SYS_IS_ERR(p))
        return;
    CHECK(((uintptr_t)p & (PAGE_SIZE - 1)) == 0);
    CHECK(p[12345] == 0); // anonymous memory starts zeroed
    sys_memset(p, 0xAB, len);
    CHECK(p[len - 1] == 0xAB);
    CHECK_EQ(sys_munmap(p, len), 0);
    void *bad = sys_mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK_EQ((long)bad, -EINVAL);
}

// A guard page must really fault. We prove it in a child process (so the
// fault does not kill the test) and check that the child died of SIGSEGV.
static void guard_page_faults(void)
{
    char *p = sys_mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(!SYS_IS_ERR(p));
    CHECK_EQ(sys_mprotect(p + PAGE_SIZE, PAGE_SIZE, PROT_NONE), 0);
    p[PAGE_SIZE - 1] = 1; // the page below the guard is fine
    int pid = sys_fork();
    if (pid == 0) {
        *(volatile char *)(p + PAGE_SIZE) = 1; // must fault
        sys_exit_group(0);
    }
    CHECK(pid > 0);
    int status = 0;
    CHECK_EQ(sys_wait4(pid, &status, 0, NULL), pid);
    CHECK(W_IFSIGNALED(status));
    CHECK_EQ(W_TERMSIG(status), SIGSEGV);
    sys_munmap(p, 2 * PAGE_SIZE);
}

static void exit_code_reaches_parent(void)
{
    int pid = sys_fork();
    if (pid == 0)
        sys_exit_group(42);
    int status = 0;
    CHECK_EQ(sys_wait4(pid, &status, 0, NULL), pid);
    CHECK(W_IFEXITED(status));
    CHECK_EQ(W_EXITCODE(status), 42);
}

static void monotonic_clock_and_sleep(void)
{
    uint64_t a = sys_now_ns();
    sys_sleep_ns(20 * NS_PER_MS);
    uint64_t b = sys_now_ns();
    CHECK(b >= a + 20 * NS_PER_MS);
    CHECK(b < a + 2 * NS_PER_SEC); // generous: shared machines stall
}

static void stack_aligned_at_main(void)
{
    // __builtin_frame_address(0) in main is rsp at entry minus the saved rbp:
    // 16-aligned exactly when _start called main with the ABI's alignment.
    CHECK_EQ(main_frame % 16, 0);
}

static void argv_and_envp_reach_main(void)
{
    CHECK(saved_argc >= 1);
    CHECK(saved_argv[saved_argc] == NULL);
    CHECK(saved_argv == sys_argv && saved_envp == sys_envp);
    // Run ourselves with known arguments and environment; the child checks them.
    char *argv[] = {"probe", "--argv-probe", "two words", NULL};
    char *envp[] = {"PROBE_A=1", "PROBE_B=hello=world", NULL};
    int pid = sys_fork();
    if (pid == 0) {
        sys_execve("/proc/self/exe", argv, envp);
        sys_exit_group(99);
    }
    int status = 0;
    CHECK_EQ(sys_wait4(pid, &status, 0, NULL), pid);
    CHECK(W_IFEXITED(status));
    CHECK_EQ(W_EXITCODE(status), 0);
}

static int argv_probe(int argc, char **argv)
{
    int ok = argc == 3 && sys_streq(argv[0], "probe") && sys_streq(argv[2], "two words") && argv[3] == NULL &&
             sys_streq(sys_getenv("PROBE_A"), "1") && sys_streq(sys_getenv("PROBE_B"), "hello=world") &&
             sys_getenv("PROBE") == NULL && sys_getauxval(AT_PAGESZ) == PAGE_SIZE;
    return ok ? 0 : 1;
}

static void cpu_count_positive(void)
{
    int n = sys_cpu_count();
    CHECK(n >= 1 && n <= 1024);
}

static void fd_limit_raised_to_hard(void)
{
    struct rlimit was, now;
    CHECK_EQ(sys_prlimit(0, RLIMIT_NOFILE, NULL, &was), 0);
    struct rlimit low = {.cur = was.max < 64 ? was.max : 64, .max = was.max};
    CHECK_EQ(sys_prlimit(0, RLIMIT_NOFILE, &low, NULL), 0); // lowering the soft limit is always allowed
    long got = sys_fd_limit_raise();
    CHECK_EQ(sys_prlimit(0, RLIMIT_NOFILE, NULL, &now), 0);
    CHECK_EQ(now.cur, was.max);
    CHECK_EQ(now.max, was.max);
    CHECK_EQ(got, was.max > INT32_MAX ? INT32_MAX : (long)was.max);
    CHECK_EQ(sys_prlimit(0, RLIMIT_NOFILE, &was, NULL), 0);
}

int main(int argc, char **argv, char **envp)
{
    main_frame = (uintptr_t)__builtin_frame_address(0);
    if (argc >= 2 && sys_streq(argv[1], "--argv-probe"))
        return argv_probe(argc, argv);
    saved_argc = argc, saved_argv = argv, saved_envp = envp;
    RUN(pipe_round_trip);
    RUN(nonblocking_read_gives_eagain);
    RUN(bad_fd_gives_ebadf);
    RUN(file_write_read);
    RUN(mmap_munmap);
    RUN(guard_page_faults);
    RUN(exit_code_reaches_parent);
    RUN(monotonic_clock_and_sleep);
    RUN(stack_aligned_at_main);
    RUN(argv_and_envp_reach_main);
    RUN(cpu_count_positive);
    RUN(fd_limit_raised_to_hard);
    return test_summary();
}
