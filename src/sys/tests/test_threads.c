// test_threads.c: stage-1 tests of clone threads, TLS, futex hand-off, join and stack guard pages.
#include "config.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/lock.h"
#include "sys/sys.h"
#include "sys/testing.h"
#include "sys/thread.h"

#define NTHREADS 8
#define NINCS    100000

static uint64_t counter;

static int increment(void *arg)
{
    (void)arg;
    for (int i = 0; i < NINCS; i++)
        atomic_fetch_add(&counter, 1);
    return 7;
}

static void eight_threads_count_exactly(void)
{
    struct sys_thread *t[NTHREADS];
    counter = 0;
    for (int i = 0; i < NTHREADS; i++)
        CHECK_EQ(sys_thread_spawn(&t[i], increment, NULL, THREAD_STACK_SIZE), 0);
    for (int i = 0; i < NTHREADS; i++)
        CHECK_EQ(sys_thread_join(t[i]), 7);
    CHECK_EQ(counter, (uint64_t)NTHREADS * NINCS);
}

struct tls_probe {
    struct sys_thread *seen_self;
    int tid;
    uintptr_t frame;
};

static int report_self(void *arg)
{
    struct tls_probe *p = arg;
    p->frame = (uintptr_t)__builtin_frame_address(0);
    p->seen_self = sys_thread_self();
    p->seen_self->slot[0] = arg; // write our own slot; others must not see it
    p->tid = sys_gettid();
    return p->seen_self->slot[0] == arg;
}

static void tls_differs_per_thread(void)
{
    struct tls_probe probes[4];
    struct sys_thread *t[4];
    for (int i = 0; i < 4; i++)
        CHECK_EQ(sys_thread_spawn(&t[i], report_self, &probes[i], THREAD_STACK_SIZE), 0);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(sys_thread_join(t[i]), 1);
        CHECK(probes[i].seen_self == t[i]);
        CHECK(probes[i].tid != sys_gettid());
        for (int j = 0; j < i; j++)
            CHECK(probes[i].tid != probes[j].tid);
    }
    CHECK(sys_thread_self()->slot[0] == NULL); // the main thread's slot is untouched
    CHECK_EQ(sys_thread_self()->tid, sys_gettid());
}

static void stack_aligned_at_thread_entry(void)
{
    struct tls_probe p;
    struct sys_thread *t;
    CHECK_EQ(sys_thread_spawn(&t, report_self, &p, THREAD_STACK_SIZE), 0);
    sys_thread_join(t);
    CHECK_EQ(p.frame % 16, 0);
}

// Ping-pong through one futex word: each side waits for its turn, flips it
// and wakes the other. A lost wake-up would hang the test (bounded below).
static uint32_t turn;
#define ROUNDS 2000

static int ponger(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        while (atomic_load_acquire(&turn) != 1)
            sys_futex_wait(&turn, 0, NULL);
        atomic_store_release(&turn, 0);
        sys_futex_wake(&turn, 1);
    }
    return 0;
}

static void futex_hand_off(void)
{
    struct sys_thread *t;
    turn = 0;
    CHECK_EQ(sys_thread_spawn(&t, ponger, NULL, THREAD_STACK_SIZE), 0);
    for (int i = 0; i < ROUNDS; i++) {
        atomic_store_release(&turn, 1);
        sys_futex_wake(&turn, 1);
        while (atomic_load_acquire(&turn) != 0)
            sys_futex_wait(&turn, 1, NULL);
    }
    sys_thread_join(t);
    CHECK_EQ(turn, 0);
}

static void futex_wait_checks_value(void)
{
    uint32_t word = 5;
    CHECK_EQ(sys_futex_wait(&word, 4, NULL), -EAGAIN); // value differs: no sleep
    struct timespec ts = {0, 10 * 1000 * 1000};
    CHECK_EQ(sys_futex_wait(&word, 5, &ts), -ETIMEDOUT);
}

static struct sys_mutex mutex = SYS_MUTEX_INIT;
static uint64_t plain_counter;

static int locked_increment(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        sys_mutex_lock(&mutex);
        plain_counter++; // not atomic: only the mutex keeps this exact
        sys_mutex_unlock(&mutex);
    }
    return 0;
}

static void mutex_excludes(void)
{
    struct sys_thread *t[4];
    plain_counter = 0;
    for (int i = 0; i < 4; i++)
        CHECK_EQ(sys_thread_spawn(&t[i], locked_increment, NULL, THREAD_STACK_SIZE), 0);
    for (int i = 0; i < 4; i++)
        sys_thread_join(t[i]);
    CHECK_EQ(plain_counter, 80000);
}

static int quick(void *arg) { return (int)(long)arg; }

// Spawning and joining many threads must not leak their stacks: the mapping
// count in /proc/self/maps stays the same.
static long count_maps(void)
{
    int fd = sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    char buf[4096];
    long lines = 0;
    ssize_t r;
    while ((r = sys_read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < r; i++)
            lines += buf[i] == '\n';
    sys_close(fd);
    return lines;
}

static void join_frees_stacks(void)
{
    long before = count_maps();
    for (int i = 0; i < 500; i++) {
        struct sys_thread *t;
        CHECK_EQ(sys_thread_spawn(&t, quick, (void *)(long)i, THREAD_STACK_SIZE), 0);
        CHECK_EQ(sys_thread_join(t), i);
    }
    CHECK_EQ(count_maps(), before);
}

static int recurse(int depth)
{
    volatile char pad[1024];
    pad[0] = (char)depth;
    return depth > 0 ? recurse(depth - 1) + pad[0] : 0;
}

static int overflow_stack(void *arg)
{
    (void)arg;
    return recurse(1 << 20); // far deeper than a 64 KiB stack
}

// A thread that overflows its stack hits the guard page and dies of SIGSEGV
// (in a child process, so the test survives), rather than scribbling below.
static void stack_overflow_hits_guard(void)
{
    int pid = sys_fork();
    if (pid == 0) {
        struct sys_thread *t;
        sys_thread_spawn(&t, overflow_stack, NULL, THREAD_STACK_SIZE);
        sys_thread_join(t);
        sys_exit_group(0);
    }
    int status = 0;
    CHECK_EQ(sys_wait4(pid, &status, 0, NULL), pid);
    CHECK(W_IFSIGNALED(status));
    CHECK_EQ(W_TERMSIG(status), SIGSEGV);
}

int main(void)
{
    RUN(eight_threads_count_exactly);
    RUN(tls_differs_per_thread);
    RUN(stack_aligned_at_thread_entry);
    RUN(futex_hand_off);
    RUN(futex_wait_checks_value);
    RUN(mutex_excludes);
    RUN(join_frees_stacks);
    RUN(stack_overflow_hits_guard);
    return test_summary();
}
