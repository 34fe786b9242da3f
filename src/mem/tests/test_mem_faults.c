// test_mem_faults.c: stage-2 tests that misuse (double, foreign, interior frees) ends in a clear panic.
#include "config.h"
#include "mem/mem.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"

// The child must die by the allocator's panic: exit status 134, a message
// that starts with "panic: mem_" and names the problem.
static void expect_panic(void (*fn)(void), const char *what)
{
    char msg[512];
    int status = test_run_child(fn, msg, sizeof msg);
    CHECK(status != -1);
    CHECK(W_IFEXITED(status));
    CHECK_EQ(W_EXITCODE(status), 134);
    CHECK(test_contains(msg, "panic: mem_"));
    CHECK(test_contains(msg, what));
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
    int status = test_run_child(nothing_wrong, msg, sizeof msg);
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
