// test_mem_faults.c: stage-2 tests that misuse (double free, foreign and interior pointers) ends in a clear
// panic.
#include "config.h"
#include "mem/mem.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"

// Runs fn in a forked child with stderr captured. Returns the wait status
// and copies what the child wrote to stderr into msg.
static int run_child(void (*fn)(void), char *msg, size_t cap)
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

static bool contains(const char *s, const char *part)
{
    size_t n = sys_strlen(part);
    for (; *s; s++)
        if (sys_memcmp(s, part, n) == 0)
            return true;
    return false;
}

// The child must die by the allocator's panic: exit status 134, a message
// that starts with "panic: mem_" and names the problem.
static void expect_panic(void (*fn)(void), const char *what)
{
    char msg[512];
    int status = run_child(fn, msg, sizeof msg);
    CHECK(status != -1);
    CHECK(W_IFEXITED(status));
    CHECK_EQ(W_EXITCODE(status), 134);
    CHECK(contains(msg, "panic: mem_"));
    CHECK(contains(msg, what));
}

static void free_twice(void)
{
    void *p = mem_alloc(64);
    mem_free(p);
    mem_free(p);
}

static void free_twice_across_flush(void)
{
    void *keep = mem_alloc(64); // keeps the span alive
    void *p = mem_alloc(64);
    mem_free(p);
    mem_thread_exit(); // p is now on the central lists, not in a cache
    mem_free(p);
    mem_free(keep);
}

static void free_twice_whole_span_gone(void)
{
    void *p = mem_alloc(3000);
    mem_free(p);
    mem_thread_exit(); // its chunk went back to the arena
    mem_free(p);
}

static void free_interior(void)
{
    char *p = mem_alloc(256);
    mem_free(p + 32);
}

static void free_stack_address(void)
{
    char local[64] __attribute__((aligned(16)));
    mem_alloc(1); // the allocator is set up: the pointer is really foreign
    mem_free(local);
}

static void free_misaligned(void)
{
    char *p = mem_alloc(100);
    mem_free(p + 1);
}

static void free_big_twice(void)
{
    void *p = mem_alloc(1 << 20);
    mem_free(p);
    mem_free(p);
}

static void usable_size_of_freed_big(void)
{
    void *p = mem_alloc(300000);
    mem_free(p);
    mem_usable_size(p);
}

static void double_free_panics(void) { expect_panic(free_twice, "double free"); }
static void double_free_after_flush_panics(void) { expect_panic(free_twice_across_flush, "double free"); }
static void double_free_of_released_chunk_panics(void)
{
    expect_panic(free_twice_whole_span_gone, "not a live block");
}
static void interior_pointer_panics(void) { expect_panic(free_interior, "inside a block"); }
static void foreign_pointer_panics(void) { expect_panic(free_stack_address, "not a live block"); }
static void misaligned_pointer_panics(void) { expect_panic(free_misaligned, "not aligned"); }
static void big_double_free_panics(void) { expect_panic(free_big_twice, "not a live block"); }
static void big_usable_size_after_free_panics(void)
{
    expect_panic(usable_size_of_freed_big, "not a live block");
}

// The harness itself: a child that does nothing wrong exits 0, so the checks
// above are not passing for some unrelated reason.
static void nothing_wrong(void) { mem_free(mem_alloc(64)); }

static void correct_use_does_not_panic(void)
{
    char msg[256];
    int status = run_child(nothing_wrong, msg, sizeof msg);
    CHECK(W_IFEXITED(status));
    CHECK_EQ(W_EXITCODE(status), 0);
    CHECK_EQ(msg[0], '\0');
}

int main(void)
{
    RUN(correct_use_does_not_panic);
    RUN(double_free_panics);
    RUN(double_free_after_flush_panics);
    RUN(double_free_of_released_chunk_panics);
    RUN(interior_pointer_panics);
    RUN(foreign_pointer_panics);
    RUN(misaligned_pointer_panics);
    RUN(big_double_free_panics);
    RUN(big_usable_size_after_free_panics);
    return test_summary();
}
