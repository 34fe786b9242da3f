// test_mem_return.c: stage-2 tests that freed memory leaves the RSS and the reserve keeps churn off madvise.
#include "config.h"
#include "mem/mem.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"

_Static_assert(HEAP_SIZE >= (32ul << 20), "these tests need HEAP_SIZE of at least 32 MB");

#define NBLOCKS 2500 // of 4,000 bytes (class 4 KiB): 10 MB, 160 chunks

static void *keep[NBLOCKS];

// Resident pages of this process: the second number of /proc/self/statm.
static long resident_pages(void)
{
    char buf[128];
    int fd = sys_open("/proc/self/statm", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    ssize_t n = sys_read(fd, buf, sizeof buf - 1);
    sys_close(fd);
    long i = 0, v = 0;
    while (i < n && buf[i] != ' ')
        i++;
    for (i++; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
        v = v * 10 + (buf[i] - '0');
    return v;
}

static long kib(long pages) { return pages * (long)(PAGE_SIZE / 1024); }

// 10 MB of small blocks, every page touched, then all freed: the resident
// size falls by all of it but the reserve, and the chunks given back are
// handed out again (as fresh zero pages) and hold data like any other.
static void freed_chunks_leave_resident_memory(void)
{
    struct mem_stats st0, st;
    mem_stats(&st0);
    long r0 = resident_pages();
    for (int i = 0; i < NBLOCKS; i++) {
        keep[i] = mem_alloc(4000);
        CHECK(keep[i] != NULL);
        if (keep[i])
            sys_memset(keep[i], 0x5a, 4000);
    }
    long full = resident_pages();
    for (int i = 0; i < NBLOCKS; i++)
        mem_free(keep[i]);
    mem_thread_exit(); // the cache's blocks too: every chunk comes home
    long after = resident_pages();
    mem_stats(&st);
    sys_printf("# resident: %ld KiB at start, %ld KiB with 10 MB allocated, %ld KiB after freeing; "
               "reserve %zu KiB, %lu chunks given back\n",
               kib(r0), kib(full), kib(after), st.heap_idle / 1024,
               (unsigned long)(st.madvised - st0.madvised));
    CHECK(r0 > 0 && full > 0 && after > 0);
    CHECK(full - r0 >= (long)((9ul << 20) / PAGE_SIZE)); // the blocks really were resident
    // All of it is given back but the reserve (1 MiB) and a page or two of
    // stack and statics: at least 8 of the 10 MB.
    CHECK(full - after >= (long)((8ul << 20) / PAGE_SIZE));
    CHECK_EQ(st.heap_used, 0);
    CHECK_EQ(st.heap_idle, (size_t)MEM_RESERVE_CHUNKS * MEM_CHUNK_SIZE);
    CHECK(st.madvised - st0.madvised >= NBLOCKS * 4096ul / MEM_CHUNK_SIZE - MEM_RESERVE_CHUNKS);

    // Reuse: the returned chunks come back zeroed by the kernel; blocks cut
    // from them must hold what is written, with no stale free-list word.
    for (int i = 0; i < NBLOCKS; i++) {
        keep[i] = mem_alloc(4000);
        CHECK(keep[i] != NULL);
        if (keep[i])
            sys_memset(keep[i], (int)(i & 0xff), 4000);
    }
    for (int i = 0; i < NBLOCKS; i++) {
        const unsigned char *p = keep[i];
        if (p && (p[0] != (i & 0xff) || p[3999] != (i & 0xff))) {
            CHECK_EQ(i, -1); // report the first bad block
            break;
        }
    }
    for (int i = 0; i < NBLOCKS; i++)
        mem_free(keep[i]);
    mem_thread_exit();
}

// Allocates and frees n blocks of the largest class (one chunk each),
// `cycles` times; returns the madvise calls it caused.
static uint64_t churn(int n, int cycles)
{
    struct mem_stats st0, st;
    mem_stats(&st0);
    for (int c = 0; c < cycles; c++) {
        for (int i = 0; i < n; i++) {
            keep[i] = mem_alloc(MEM_CHUNK_SIZE);
            CHECK(keep[i] != NULL);
            if (keep[i])
                *(volatile char *)keep[i] = 1;
        }
        for (int i = 0; i < n; i++)
            mem_free(keep[i]);
    }
    mem_stats(&st);
    return st.madvised - st0.madvised;
}

// A load that keeps taking and freeing fewer chunks than the reserve makes
// no syscall at all; one that swings past it pays at most one madvise per
// chunk beyond the reserve per swing. (A test seam: mem_stats counts every
// madvise call the allocator makes.)
static void reserve_keeps_churn_off_madvise(void)
{
    churn(MEM_RESERVE_CHUNKS, 1); // fill the reserve
    uint64_t steady = churn(MEM_RESERVE_CHUNKS / 2, 10000);
    int big = MEM_RESERVE_CHUNKS + 16, cycles = 100;
    uint64_t swings = churn(big, cycles);
    sys_printf("# madvise calls: %lu in 10000 cycles of %d chunks, %lu in %d cycles of %d chunks\n",
               (unsigned long)steady, MEM_RESERVE_CHUNKS / 2, (unsigned long)swings, cycles, big);
    CHECK_EQ(steady, 0);
    CHECK(swings >= (uint64_t)cycles);                                        // the seam does count
    CHECK(swings <= (uint64_t)cycles * (uint64_t)(big - MEM_RESERVE_CHUNKS)); // and it is bounded
    mem_thread_exit();
}

// Big blocks are their own mappings: freeing one unmaps it at once (nothing
// caches them), so its pages leave the resident size.
static void big_blocks_leave_resident_memory(void)
{
    size_t n = 8ul << 20;
    char *p = mem_alloc(n);
    CHECK(p != NULL);
    if (!p)
        return;
    sys_memset(p, 1, n);
    long full = resident_pages();
    mem_free(p);
    long after = resident_pages();
    CHECK(full - after >= (long)((8ul << 20) / PAGE_SIZE));
}

int main(void)
{
    CHECK_EQ(mem_init(), 0);
    RUN(freed_chunks_leave_resident_memory);
    RUN(reserve_keeps_churn_off_madvise);
    RUN(big_blocks_leave_resident_memory);
    return test_summary();
}
