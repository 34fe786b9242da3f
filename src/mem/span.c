// span.c: the central free lists: per class, the spans that have a block to give, under one mutex.
#include "mem/mem_internal.h"

struct sys_mutex mem_lock = SYS_MUTEX_INIT;

// Per class, a doubly linked list of its spans that can hand out a block
// (something on their free list, or room left to carve). Guarded by mem_lock.
static struct mem_span *partial[MEM_MAX_CLASSES];

static void list_add(struct mem_span *s)
{
    s->prev = NULL;
    s->next = partial[s->cls];
    if (s->next)
        s->next->prev = s;
    partial[s->cls] = s;
    s->listed = true;
}

static void list_remove(struct mem_span *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        partial[s->cls] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->listed = false;
}

// [snippet: mem-central-take]
// Takes up to want blocks of class c under mem_lock: first from the class's
// partial spans, then from fresh chunks (mem_chunk_take), each block marked
// free. Links them on *out (NULL-terminated) and returns how many: fewer than
// want, or 0, only when the arena is full. A span with nothing left to give
// leaves the partial list. Called by cache_refill (a thread cache ran dry)
// and by alloc_uncached (a thread that could not claim a cache).
// [lab: mem_central_take]
unsigned mem_central_take(unsigned c, struct mem_free_block **out, unsigned want)
{
    uint32_t size = mem_class_size[c], per_chunk = MEM_CHUNK_SIZE / size;
    struct mem_free_block *list = NULL, **tail = &list;
    unsigned got = 0;

    sys_mutex_lock(&mem_lock);
    while (got < want) {
        struct mem_span *s = partial[c];
        if (!s) {
            s = mem_chunk_take(c);
            if (!s)
                break; // arena full: hand out what we have, maybe nothing
            list_add(s);
        }
        struct mem_free_block *b = s->free;
        if (b) {
            s->free = b->next; // a block given back earlier: it is marked already
        } else {
            b = (struct mem_free_block *)(mem_span_base(s) + (size_t)s->carved++ * size);
            b->mark = mem_mark_of(b); // a fresh block: mark it free like the rest
        }
        s->live++;
        if (!s->free && s->carved == per_chunk)
            list_remove(s); // nothing left to give; a block coming back relists it
        *tail = b;          // appended: a fresh span is handed out in address order
        tail = &b->next;
        got++;
    }
    *tail = NULL;
    sys_mutex_unlock(&mem_lock);
    *out = list;
    return got;
}
// [end lab: mem_central_take]
// [end: mem-central-take]

// [snippet: mem-central-give]
void mem_central_give(struct mem_free_block *list)
{
    sys_mutex_lock(&mem_lock);
    while (list) {
        struct mem_free_block *b = list;
        list = b->next;
        struct mem_span *s = &mem_spans[mem_chunk_index(b)];
        b->next = s->free;
        s->free = b;
        if (--s->live == 0) {
            // Every block of the span is home: the whole chunk goes back to
            // the arena, where any class can take it. This is what keeps a
            // burst of one size from fencing off the heap for the others.
            if (s->listed)
                list_remove(s);
            mem_chunk_release(s);
        } else if (!s->listed) {
            list_add(s);
        }
    }
    sys_mutex_unlock(&mem_lock);
}
// [end: mem-central-give]
