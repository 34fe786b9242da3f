// timer.h: the executor's timer heap (internal): the reactor's timeout and firing due timers.
#ifndef EXEC_TIMER_H
#define EXEC_TIMER_H

#include <stdint.h>

// Earliest armed deadline, or UINT64_MAX when no timer is armed.
uint64_t timer_next_deadline(void);
// Fires (wakes) every timer whose deadline is <= now. Returns how many.
uint32_t timer_fire_due(uint64_t now);
// Called by ex_timer_arm when a new deadline is earlier than what the
// blocked poller is waiting for (set by the executor).
extern void (*timer_earlier_hook)(uint64_t deadline);
// Test seam: called under the heap's lock the moment a timer leaves the heap
// (its index is -1), which is the moment its owner may free it. A test
// poisons the timer here and checks that nothing writes to it afterwards.
struct ex_timer;
extern void (*timer_released_hook)(struct ex_timer *t);

#endif
