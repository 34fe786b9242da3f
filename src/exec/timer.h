// timer.h: the executor's timer heap (internal): the reactor's timeout and firing due timers.
#ifndef EXEC_TIMER_H
#define EXEC_TIMER_H

#include <stdint.h>

// One heap per ready queue (sched_home of a timer's waker picks it).
// Earliest armed deadline in heap, or UINT64_MAX when none is armed.
uint64_t timer_next_deadline(uint32_t heap);
// Fires (wakes) every timer of heap whose deadline is <= now. Returns how many.
uint32_t timer_fire_due(uint32_t heap, uint64_t now);
// Called by ex_timer_arm when a timer became the earliest of its heap, so
// the executor can kick a poller blocked with a later timeout.
extern void (*timer_earlier_hook)(uint32_t heap, uint64_t deadline);
// Test seam: called under the heap's lock the moment a timer leaves the heap
// (its index is -1), which is the moment its owner may free it. A test
// poisons the timer here and checks that nothing writes to it afterwards.
struct ex_timer;
extern void (*timer_released_hook)(struct ex_timer *t);

#endif
