// check.c: cheap checks on pointers handed back, which turn double and foreign frees into a clear panic.
#include "mem/mem_internal.h"
#include "sys/fmt.h"
#include "sys/sys.h"

void mem_panic(const char *who, const void *p, const char *what)
{
    char msg[160];
    sys_snprintf(msg, sizeof msg, "%s: %p %s", who, p, what);
    sys_panic(msg);
}

// [snippet: mem-check-block]
// Three loads and a division: cheap enough for every free. What it cannot
// see: a pointer freed, handed out again and then freed a second time looks
// like a legal free of the new owner's block (use-after-free).
unsigned mem_check_block(const void *p, const char *who, bool is_free)
{
    size_t chunk = mem_chunk_index(p);
    unsigned c = atomic_load_relaxed(&mem_chunk_class[chunk]);
    if (c == MEM_NO_CLASS)
        mem_panic(who, p, "is not a live block (double free, or not from mem_alloc)");
    uint32_t offset = (uint32_t)(((uintptr_t)p - (uintptr_t)mem_arena) % MEM_CHUNK_SIZE);
    if (offset % mem_class_size[c] != 0)
        mem_panic(who, p, "points inside a block, not at its start");
    if (is_free && ((const struct mem_free_block *)p)->mark == mem_mark_of(p))
        mem_panic(who, p, "is already free (double free)");
    return c;
}
// [end: mem-check-block]
