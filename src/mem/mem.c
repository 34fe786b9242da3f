// mem.c: the public API: initialisation, and routing each call to the size classes or to big blocks.
#include "mem/mem_internal.h"
#include "sys/string.h"
#include "sys/sys.h"

uintptr_t mem_key;

static uint32_t ready;
static int init_result;
static struct sys_mutex init_lock = SYS_MUTEX_INIT;
static uint64_t failed; // allocations that returned NULL (atomic: rare path)

// [snippet: mem-init]
// Double-checked: after the first call, one acquire load (a plain load on
// x86). The release store of `ready` publishes the tables and the arena to
// every thread whose acquire load sees it.
int mem_init(void)
{
    if (atomic_load_acquire(&ready))
        return init_result;
    sys_mutex_lock(&init_lock);
    if (!ready) {
        // The mark key comes from the 16 random bytes the kernel puts on
        // every new process's stack (AT_RANDOM); getrandom is the fallback.
        uint64_t key = 0;
        const char *rnd = (const char *)sys_getauxval(AT_RANDOM);
        if (rnd)
            sys_memcpy(&key, rnd + 8, sizeof key); // bytes 8..15; no alignment promised
        else if (sys_getrandom(&key, sizeof key, 0) != sizeof key)
            key = 0x9e3779b97f4a7c15ull ^ (uintptr_t)&key;
        mem_key = (uintptr_t)(key | 1ull << 63);
        mem_classes_init();
        init_result = mem_heap_init();
        atomic_store_release(&ready, 1);
    }
    sys_mutex_unlock(&init_lock);
    return init_result;
}
// [end: mem-init]

// [snippet: mem-alloc]
void *mem_alloc(size_t n)
{
    if (__builtin_expect(!atomic_load_acquire(&ready), 0))
        mem_init();
    void *p = n <= MEM_MAX_SMALL ? mem_cache_alloc(mem_class_of(n)) : mem_big_alloc(n);
    if (__builtin_expect(!p, 0))
        atomic_add_relaxed(&failed, 1);
    return p;
}

void mem_free(void *p)
{
    if (!p)
        return;
    if ((uintptr_t)p % MEM_ALIGN != 0)
        mem_panic("mem_free", p, "is not aligned like any block");
    if (mem_in_arena(p))
        mem_cache_free(p, mem_check_block(p, "mem_free", true));
    else
        mem_big_free(p);
}
// [end: mem-alloc]

// Usable size of the live block p (not NULL); panics, naming who, if it is none.
static size_t usable(void *p, const char *who)
{
    if (mem_in_arena(p))
        return mem_class_size[mem_check_block(p, who, false)];
    return mem_big_size(p, who);
}

size_t mem_usable_size(void *p) { return p ? usable(p, "mem_usable_size") : 0; }

void *mem_calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        atomic_add_relaxed(&failed, 1);
        return NULL;
    }
    void *p = mem_alloc(n);
    // A big block is a fresh mapping, and the kernel hands out zeroed pages.
    if (p && n <= MEM_MAX_SMALL)
        sys_memset(p, 0, n);
    return p;
}

// [snippet: mem-realloc]
void *mem_realloc(void *p, size_t n)
{
    if (!p)
        return mem_alloc(n);
    size_t have = usable(p, "mem_realloc");
    // Stay put when the block already fits and is not much too big: the
    // same class for a small block, at most twice the need for a big one.
    if (n <= have) {
        if (have <= MEM_MAX_SMALL ? mem_class_size[mem_class_of(n)] == have : n > have / 2)
            return p;
    }
    void *q = mem_alloc(n);
    if (!q)
        return NULL; // p is untouched and still the caller's
    sys_memcpy(q, p, n < have ? n : have);
    mem_free(p);
    return q;
}
// [end: mem-realloc]

void mem_thread_exit(void) { mem_cache_thread_exit(); }

void mem_stats(struct mem_stats *out)
{
    mem_init();
    sys_memset(out, 0, sizeof *out);
    sys_mutex_lock(&mem_lock);
    mem_heap_stats(out);
    mem_cache_stats(out);
    sys_mutex_unlock(&mem_lock);
    mem_big_stats(out);
    out->failed = atomic_load_relaxed(&failed);
}
