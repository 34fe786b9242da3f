// ready_queue.c: Dmitry Vyukov's bounded MPMC queue: FIFO, no allocation, no ABA.
#include "sched/ready_queue.h"
#include "sys/atomic.h"

void sched_ready_queue_init(struct ready_queue *q, struct ready_cell *cells, uint64_t capacity)
{
    q->cells = cells;
    q->mask = capacity - 1;
    for (uint64_t i = 0; i < capacity; i++)
        atomic_store_relaxed(&cells[i].seq, i);
    atomic_store_seq(&q->tail, 0);
    atomic_store_seq(&q->head, 0);
}

// [snippet: ready-queue]
// Each cell carries a sequence number that says whose turn it is. For the
// cell at position pos (modulo capacity):
//   seq == pos       free, a producer at position pos may fill it;
//   seq == pos + 1   full, a consumer at position pos may take it;
// after taking, the consumer sets seq = pos + capacity: free for the next lap.
// Producers and consumers first claim a position with a CAS on tail/head,
// then own that cell alone. Positions are 64-bit counters that never wrap in
// practice, so no ABA: a position is claimed once, ever.
// Push appends v at the tail; returns true, or false when the queue is full.
// Safe from any thread. Called by the scheduler's enqueue (sched_wake, spawn
// and a task woken while it ran), which panics on false.
// [lab: sched_ready_queue_push]
bool sched_ready_queue_push(struct ready_queue *q, uint32_t v)
{
    uint64_t pos = atomic_load_relaxed(&q->tail);
    for (;;) {
        struct ready_cell *c = &q->cells[pos & q->mask];
        uint64_t seq = atomic_load_acquire(&c->seq);
        int64_t diff = (int64_t)(seq - pos);
        if (diff == 0) {
            if (atomic_cas(&q->tail, &pos, pos + 1)) {
                c->value = v;
                atomic_store_release(&c->seq, pos + 1);
                return true;
            }
        } else if (diff < 0) {
            return false; // the cell still holds last lap's value: full
        } else {
            pos = atomic_load_relaxed(&q->tail);
        }
    }
}
// [end lab: sched_ready_queue_push]

bool sched_ready_queue_pop(struct ready_queue *q, uint32_t *v)
{
    uint64_t pos = atomic_load_relaxed(&q->head);
    for (;;) {
        struct ready_cell *c = &q->cells[pos & q->mask];
        uint64_t seq = atomic_load_acquire(&c->seq);
        int64_t diff = (int64_t)(seq - (pos + 1));
        if (diff == 0) {
            if (atomic_cas(&q->head, &pos, pos + 1)) {
                *v = c->value;
                atomic_store_release(&c->seq, pos + q->mask + 1);
                return true;
            }
        } else if (diff < 0) {
            // Empty, or a producer claimed this cell and has not filled it yet.
            // Either way the producer's wake-up comes after it fills the cell.
            return false;
        } else {
            pos = atomic_load_relaxed(&q->head);
        }
    }
}
// [end: ready-queue]

uint64_t sched_ready_queue_length(struct ready_queue *q)
{
    // Sequentially consistent loads: the executor's "announce, then
    // re-check" argument needs them in the C11 model (on x86 they are
    // plain loads anyway).
    uint64_t head = atomic_load_seq(&q->head), tail = atomic_load_seq(&q->tail);
    return tail > head ? tail - head : 0;
}
