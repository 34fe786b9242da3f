// per_core_wake.c: chapter 10's first program: two workers, each with its own queue, and wakes that cross.
//
// Not part of src/. Each worker owns one task and a queue only it takes from
// (with one task per worker, a count of pending wakes is the whole queue), and
// an eventfd only it reads: it blocks there when its queue is empty. A wake
// from another thread adds to the owner's queue and then writes the owner's
// eventfd. The two tasks hand a token back and forth; every run of a task is
// on its own worker, and every wake crosses between the threads. Build and
// run from the repository root, after `make STAGE=4`, with one command line
// (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=4
//       chapters/code/per_core_wake.c build/stage-4/libnostd.a -o build/per_core_wake
//   build/per_core_wake
#include "config.h"
#include "sys/atomic.h"
#include "sys/fmt.h"
#include "sys/sys.h"
#include "sys/thread.h"

// [snippet: first-per-core]
struct worker {
    int id;
    const char *task;    // the one task whose home is this worker
    uint32_t queued;     // wakes queued for it and not yet run: its ready queue
    int efd;             // its eventfd: read by this worker only
    struct worker *peer; // the worker whose task this task wakes
};

// A wake from any thread: queue the task on its home, then kick the home.
static void wake(struct worker *home)
{
    atomic_fetch_add(&home->queued, 1);
    sys_write(home->efd, &(uint64_t){1}, sizeof(uint64_t));
}

static int worker_main(void *arg)
{
    struct worker *me = arg;
    for (int run = 1; run <= 3; run++) {
        while (atomic_load_seq(&me->queued) == 0)                // a kick written before the read is kept
            sys_read(me->efd, &(uint64_t){0}, sizeof(uint64_t)); // its one place to sleep
        atomic_fetch_sub(&me->queued, 1);
        sys_printf("worker %d runs %s (%d)\n", me->id, me->task, run);
        wake(me->peer);
    }
    return 0;
}

int main(void)
{
    struct worker w[2] = {{0, "ping", 0, sys_eventfd2(0, EFD_CLOEXEC), &w[1]},
                          {1, "pong", 0, sys_eventfd2(0, EFD_CLOEXEC), &w[0]}};
    struct sys_thread *t0, *t1;
    sys_thread_spawn(&t0, worker_main, &w[0], THREAD_STACK_SIZE);
    sys_thread_spawn(&t1, worker_main, &w[1], THREAD_STACK_SIZE);
    wake(&w[0]); // from main, a thread with no queue of its own
    sys_thread_join(t0);
    sys_thread_join(t1);
    sys_printf("ping ran only on worker 0, pong only on worker 1\n");
    return 0;
}
// [end: first-per-core]
