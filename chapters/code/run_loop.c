// run_loop.c: chapter 4's first program: a run loop, a ready queue, and a task nobody wakes.
//
// Not part of src/. Three tasks go in a ready queue; the loop polls whatever
// the queue holds until it is empty. A task that returns PENDING must have
// arranged to be woken (put back in the queue), or it is never polled again:
// task c forgets, and the loop ends without it. Build and run from the
// repository root, after `make STAGE=4`, with one command line (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=4
//       chapters/code/run_loop.c build/stage-4/libnostd.a -o build/run_loop
//   build/run_loop
#include "sys/fmt.h"
#include <stdbool.h>

// [snippet: first-run-loop]
enum poll { PENDING, READY };

struct task {
    const char *name;
    int steps;       // polls until READY
    bool wakes_self; // arranges its own wake-up when PENDING (a reactor's job, later)
};

static struct task *ready[8]; // a ring: each task is in it at most once
static unsigned head, tail;

static void wake(struct task *t) { ready[tail++ % 8] = t; }

static enum poll task_poll(struct task *t)
{
    sys_printf("poll %s\n", t->name);
    if (--t->steps == 0)
        return READY;
    if (t->wakes_self)
        wake(t);
    return PENDING;
}

int main(void)
{
    struct task tasks[3] = {{"a", 1, true}, {"b", 3, true}, {"c", 2, false}};
    for (int i = 0; i < 3; i++)
        wake(&tasks[i]);
    int done = 0;
    while (head != tail) { // the run loop: poll what is ready, until nothing is
        struct task *t = ready[head++ % 8];
        if (task_poll(t) == READY)
            sys_printf("%s is done (%d)\n", t->name, ++done);
    }
    sys_printf("queue empty with %d of 3 tasks done\n", done);
    return 0;
}
// [end: first-run-loop]
