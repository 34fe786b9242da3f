// slot_pool.c: a Treiber stack of free slot indices, made ABA-safe by a tag beside the head.
#include "sched/slot_pool.h"
#include "sys/atomic.h"

void sched_slot_pool_init(struct slot_pool *p, uint32_t *next, uint32_t capacity)
{
    p->next = next;
    p->capacity = capacity;
    for (uint32_t i = 0; i < capacity; i++)
        next[i] = i + 1 < capacity ? i + 2 : 0;
    atomic_store_seq(&p->head, capacity ? 1u : 0u);
}

// [snippet: slot-pool-pop]
// The ABA problem, in the original's words: thread A reads head = X and
// next = Y, and is preempted. B pops X, pops Y, pushes X back. A wakes up,
// sees head == X as expected, and its CAS installs Y: a slot that B is using
// is now on the free stack twice. The fix is to make "head == X" mean "nothing
// happened since": every successful CAS bumps a 32-bit tag stored beside the
// index in the same 64-bit word, so A's CAS fails because the tag moved on.
// Pop returns a free slot index and takes it off the stack, or -1 if every
// slot is in use. Safe from any thread. Called by spawn (sched_spawn and
// sched_spawn_idle), which answers -EAGAIN on -1.
// [lab: sched_slot_pool_pop]
int64_t sched_slot_pool_pop(struct slot_pool *p)
{
    uint64_t head = atomic_load_acquire(&p->head);
    for (;;) {
        uint32_t top = (uint32_t)head;
        if (top == 0)
            return -1;
        // May read a stale value if another thread popped `top` meanwhile;
        // then the tag has changed and the CAS below fails and retries.
        uint32_t below = atomic_load_relaxed(&p->next[top - 1]);
        uint64_t tag = (head >> 32) + 1;
        if (atomic_cas(&p->head, &head, tag << 32 | below))
            return top - 1;
    }
}
// [end lab: sched_slot_pool_pop]
// [end: slot-pool-pop]

void sched_slot_pool_push(struct slot_pool *p, uint32_t i)
{
    uint64_t head = atomic_load_acquire(&p->head);
    for (;;) {
        atomic_store_relaxed(&p->next[i], (uint32_t)head);
        uint64_t tag = (head >> 32) + 1;
        if (atomic_cas(&p->head, &head, tag << 32 | (i + 1)))
            return;
    }
}
