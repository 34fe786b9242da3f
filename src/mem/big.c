// big.c: big blocks: requests above the largest class get their own mmap, bounded by MEM_BIG_LIMIT.
#include "mem/mem_internal.h"
#include "sys/sys.h"

// Each big block is at least MEM_CHUNK_SIZE + 1 bytes, so the limit bounds
// how many can be alive at once, and a fixed table can list them all.
#define BIG_MAX (MEM_BIG_LIMIT / MEM_CHUNK_SIZE)

static struct sys_mutex big_lock = SYS_MUTEX_INIT;
// All below: guarded by big_lock.
static struct {
    void *addr;
    size_t len;
} table[BIG_MAX];
static size_t nbig;
static size_t big_bytes; // mapped or being mapped: what the limit is checked against
static size_t big_high;
static uint64_t big_allocs, big_frees;

// Index of p in the table, or -1. Caller holds big_lock.
static long find(const void *p)
{
    for (size_t i = 0; i < nbig; i++)
        if (table[i].addr == p)
            return (long)i;
    return -1;
}

// [snippet: mem-big-alloc]
void *mem_big_alloc(size_t n)
{
    if (n > MEM_BIG_LIMIT)
        return NULL; // also keeps the rounding below from overflowing
    size_t len = (n + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);

    // Reserve the bytes first, so that threads mapping at the same time can
    // never overshoot the limit together; the syscall runs without the lock.
    sys_mutex_lock(&big_lock);
    bool room = big_bytes + len <= MEM_BIG_LIMIT;
    if (room)
        big_bytes += len;
    sys_mutex_unlock(&big_lock);
    if (!room)
        return NULL;

    void *p = sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sys_mutex_lock(&big_lock);
    if (SYS_IS_ERR(p)) {
        big_bytes -= len; // the kernel said no (ENOMEM): the same NULL
        p = NULL;
    } else {
        table[nbig].addr = p; // cannot overflow: see BIG_MAX
        table[nbig].len = len;
        nbig++;
        big_allocs++;
        if (big_bytes > big_high)
            big_high = big_bytes;
    }
    sys_mutex_unlock(&big_lock);
    return p;
}

// Looking p up in the table (rather than trusting a header in front of it)
// turns a double or foreign free into a clear panic instead of a munmap of
// whatever happens to be there.
void mem_big_free(void *p)
{
    sys_mutex_lock(&big_lock);
    long i = find(p);
    if (i < 0) {
        sys_mutex_unlock(&big_lock);
        mem_panic("mem_free", p, "is not a live block (double free, or not from mem_alloc)");
    }
    size_t len = table[i].len;
    table[i] = table[--nbig];
    big_bytes -= len;
    big_frees++;
    sys_mutex_unlock(&big_lock);
    sys_munmap(p, len);
}
// [end: mem-big-alloc]

size_t mem_big_size(void *p, const char *who)
{
    sys_mutex_lock(&big_lock);
    long i = find(p);
    size_t len = i < 0 ? 0 : table[i].len;
    sys_mutex_unlock(&big_lock);
    if (i < 0)
        mem_panic(who, p, "is not a live block (freed already, or not from mem_alloc)");
    return len;
}

void mem_big_stats(struct mem_stats *out)
{
    sys_mutex_lock(&big_lock);
    out->big_bytes = big_bytes;
    out->big_high = big_high;
    out->big_blocks = nbig;
    out->allocs += big_allocs;
    out->frees += big_frees;
    out->in_use += big_bytes;
    sys_mutex_unlock(&big_lock);
}
