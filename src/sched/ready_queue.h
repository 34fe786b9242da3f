// ready_queue.h: a bounded multi-producer multi-consumer FIFO of task indices.
#ifndef SCHED_READY_QUEUE_H
#define SCHED_READY_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

struct ready_cell {
    uint64_t seq; // which lap of the ring this cell is ready for
    uint32_t value;
};

struct ready_queue {
    struct ready_cell *cells;
    uint64_t mask;                              // capacity - 1 (capacity is a power of two)
    uint64_t tail __attribute__((aligned(64))); // next position to fill
    uint64_t head __attribute__((aligned(64))); // next position to take
};

// cells has room for capacity (a power of two) entries.
void sched_ready_queue_init(struct ready_queue *q, struct ready_cell *cells, uint64_t capacity);
// Appends v; returns false if the queue is full.
bool sched_ready_queue_push(struct ready_queue *q, uint32_t v);
// Takes the oldest value; returns false if the queue is (momentarily) empty.
bool sched_ready_queue_pop(struct ready_queue *q, uint32_t *v);
// An estimate of how many entries are queued (exact when quiescent).
uint64_t sched_ready_queue_length(struct ready_queue *q);

#endif
