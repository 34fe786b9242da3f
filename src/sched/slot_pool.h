// slot_pool.h: a lock-free stack of free task-slot indices whose head carries an ABA tag.
#ifndef SCHED_SLOT_POOL_H
#define SCHED_SLOT_POOL_H

#include <stdint.h>

struct slot_pool {
    uint64_t head;  // tag << 32 | (index + 1); low half 0 = empty
    uint32_t *next; // next[i]: the index+1 below slot i in the stack
    uint32_t capacity;
};

// Fills the pool with 0..capacity-1 (0 on top). next[] has room for capacity.
void sched_slot_pool_init(struct slot_pool *p, uint32_t *next, uint32_t capacity);
// Takes a free index; returns it, or -1 if every slot is in use.
int64_t sched_slot_pool_pop(struct slot_pool *p);
// Returns index i to the pool.
void sched_slot_pool_push(struct slot_pool *p, uint32_t i);

#endif
