// alloc_stress.c: stage-2 demo: threads allocate and free server-like sizes; prints ops/s and heap stats.
#include "config.h"
#include "mem/mem.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/thread.h"

// About 450 blocks alive at once, 12 KiB on average: a third of the heap.
#define LIVE_BLOCKS  320
#define SHARED_SLOTS 128
#define MAX_THREADS  16

static uint32_t stop;
static int own_slots; // per thread: LIVE_BLOCKS / threads
static void *shared[SHARED_SLOTS];

struct worker {
    struct sys_thread *thread;
    uint64_t seed;
    uint64_t ops;
    uint64_t failed;
};

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

// What a server asks for: mostly connection state and small strings, I/O
// buffers of 4, 16 and 64 KiB, odd sizes in between, and now and then a
// big message buffer.
static size_t server_size(uint64_t *s)
{
    uint64_t r = next_random(s);
    switch (r % 16) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
        return 16 + (r >> 8) % 496; // state structs, headers, small strings
    case 7:
    case 8:
    case 9:
        return 4096;
    case 10:
    case 11:
        return 16384;
    case 12:
        return 65536;
    case 13:
    case 14:
        return 1 + (r >> 8) % 65536; // anything up to the largest class
    default:
        return (r >> 8) % 1000 == 0 ? 256 * 1024 : 300; // rarely a big block
    }
}

static int work(void *arg)
{
    struct worker *w = arg;
    void *own[LIVE_BLOCKS] = {0};
    uint64_t s = w->seed, ops = 0;
    while (!atomic_load_relaxed(&stop)) {
        for (int i = 0; i < 1024; i++) {
            uint64_t r = next_random(&s);
            void *p = mem_alloc(server_size(&s));
            if (!p) {
                w->failed++;
                continue;
            }
            *(volatile uint64_t *)p = r; // touch it, as a user would
            void *old;
            if (r % 8 == 0) // one block in eight dies on another thread
                old = atomic_exchange(&shared[(r >> 16) % SHARED_SLOTS], p);
            else {
                old = own[(r >> 16) % (unsigned)own_slots];
                own[(r >> 16) % (unsigned)own_slots] = p;
            }
            mem_free(old);
        }
        ops += 1024;
    }
    for (int i = 0; i < own_slots; i++)
        mem_free(own[i]);
    mem_thread_exit(); // the contract: give the cache back before returning
    w->ops = ops;
    return 0;
}

// Resident KiB of this process: the second number of /proc/self/statm, in pages.
static unsigned long resident_kib(void)
{
    char buf[128];
    int fd = sys_open("/proc/self/statm", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    ssize_t n = sys_read(fd, buf, sizeof buf - 1);
    sys_close(fd);
    long i = 0;
    unsigned long v = 0;
    while (i < n && buf[i] != ' ')
        i++;
    for (i++; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
        v = v * 10 + (unsigned long)(buf[i] - '0');
    return v * (PAGE_SIZE / 1024);
}

static void print_stats(const char *when)
{
    struct mem_stats st;
    mem_stats(&st);
    sys_printf("  %s: in use %zu KiB, cached %zu KiB; heap used %zu KiB, high-water %zu KiB, carved %zu of "
               "%zu KiB;\n"
               "    big blocks %zu (%zu KiB, high-water %zu KiB); allocs %lu, frees %lu, failed %lu, central "
               "trips %lu\n"
               "    resident %lu KiB; empty chunks kept %zu KiB, given back to the kernel %lu\n",
               when, st.in_use / 1024, st.cached / 1024, st.heap_used / 1024, st.heap_high / 1024,
               st.heap_carved / 1024, st.heap_size / 1024, st.big_blocks, st.big_bytes / 1024,
               st.big_high / 1024, (unsigned long)st.allocs, (unsigned long)st.frees,
               (unsigned long)st.failed, (unsigned long)st.central, resident_kib(), st.heap_idle / 1024,
               (unsigned long)st.madvised);
}

int main(int argc, char **argv)
{
    uint64_t seconds = 3;
    int nthreads = sys_cpu_count() < 4 ? 4 : sys_cpu_count();
    if (nthreads > MAX_THREADS)
        nthreads = MAX_THREADS;
    if (argc > 1 && (sys_parse_u64(argv[1], sys_strlen(argv[1]), &seconds) != 0 || seconds == 0)) {
        sys_eprintf("usage: %s [SECONDS]\n", argv[0]);
        return 2;
    }
    own_slots = LIVE_BLOCKS / nthreads;
    if (mem_init() != 0) {
        sys_eprintf("%s: cannot map the %lu-byte heap\n", argv[0], (unsigned long)HEAP_SIZE);
        return 1;
    }
    sys_printf("alloc_stress: %d threads for %lu s; heap %lu KiB, big-block limit %lu MiB\n", nthreads,
               (unsigned long)seconds, (unsigned long)HEAP_SIZE / 1024, (unsigned long)MEM_BIG_LIMIT >> 20);

    static struct worker w[MAX_THREADS];
    uint64_t t0 = sys_now_ns(), cpu0 = sys_cpu_ns();
    for (int i = 0; i < nthreads; i++) {
        w[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        if (sys_thread_spawn(&w[i].thread, work, &w[i], THREAD_STACK_SIZE) != 0) {
            sys_eprintf("%s: cannot start thread %d\n", argv[0], i);
            return 1;
        }
    }
    sys_sleep_ns(seconds * NS_PER_SEC);
    print_stats("while running");
    atomic_store_release(&stop, 1);
    uint64_t ops = 0, failed = 0;
    for (int i = 0; i < nthreads; i++) {
        sys_thread_join(w[i].thread);
        ops += w[i].ops;
        failed += w[i].failed;
    }
    uint64_t ns = sys_now_ns() - t0, cpu = sys_cpu_ns() - cpu0;
    for (int i = 0; i < SHARED_SLOTS; i++)
        mem_free(shared[i]);
    mem_thread_exit();

    sys_printf("  %lu alloc+free pairs in %lu ms: %lu ops/s (%lu ns of CPU per pair), %lu failed\n",
               (unsigned long)ops, (unsigned long)(ns / NS_PER_MS),
               (unsigned long)(ops * NS_PER_SEC / (ns ? ns : 1)), (unsigned long)(cpu / (ops ? ops : 1)),
               (unsigned long)failed);
    print_stats("after freeing all");
    return 0;
}
