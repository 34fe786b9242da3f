// lifo_vs_fifo.c: chapter 3's measurement: a self-waking hog and three short tasks, LIFO against FIFO.
//
// Not part of src/. The LIFO half rebuilds the shape of the original's ready
// structure (a Treiber stack of task indices with an untagged head) just far
// enough to run tasks; the FIFO half is the real stage-3 scheduler. Both run
// the same poll function, on one thread, so the numbers are exact and the
// same on every run. Build and run from the repository root, after
// `make STAGE=3`, with one command line (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=3
//       chapters/code/lifo_vs_fifo.c build/stage-3/libnostd.a -o build/lifo_vs_fifo
//   build/lifo_vs_fifo
#include "config.h"
#include "sched/sched.h"
#include "sys/atomic.h"
#include "sys/fmt.h"

#define HOG_POLLS   100000
#define SHORT_POLLS 100
#define NSHORT      3

// The task of the starvation test: `limit` polls that each advance a shared
// step counter and wake the task again, then one last poll that records when
// it finished. first_at is the step at which the task was first polled.
struct yielder {
    int i, limit;
    int first_at, finished_at;
    int spawn_shorts; // the hog, scenario B: the short tasks arrive during its first poll
};

static int steps;
static struct yielder hog, shorts[NSHORT];

// What differs between the two runs: how a task is queued and taken.
struct ready_ops {
    const char *name;
    void (*reset)(void);
    void (*spawn)(struct yielder *y);
    void (*wake)(struct waker w);
    int (*run_one)(void);
};
static const struct ready_ops *ops;

static poll_t yielder_poll(void *state, struct sched_cx *cx)
{
    struct yielder *y = state;
    if (y->first_at < 0)
        y->first_at = steps;
    if (y->spawn_shorts) {
        y->spawn_shorts = 0;
        for (int k = 0; k < NSHORT; k++)
            ops->spawn(&shorts[k]);
    }
    if (y->i < y->limit) {
        y->i++;
        steps++;
        ops->wake(cx->waker); // the self-wake of YIELD
        return PENDING;
    }
    y->finished_at = steps;
    return READY;
}

// ---- (a) the original's shape: a LIFO stack of ready tasks ------------------------
// Spawn and wake push, the worker pops the top. The head is index + 1 with no
// tag (the ABA hole), and a wake pushes whatever state the task is in (the
// double-scheduling hole); neither matters on one thread, so this run measures
// nothing but the order.
#define LIFO_SLOTS 8
static struct yielder *lifo_task[LIFO_SLOTS];
static uint32_t lifo_below[LIFO_SLOTS]; // index + 1 of the entry below, 0 = bottom
static uint32_t lifo_head;              // index + 1 of the top, 0 = empty
static uint32_t lifo_used;

static void lifo_push(uint32_t i)
{
    uint32_t head = atomic_load_acquire(&lifo_head);
    do
        lifo_below[i] = head;
    while (!atomic_cas(&lifo_head, &head, i + 1));
}

static int64_t lifo_pop(void)
{
    uint32_t head = atomic_load_acquire(&lifo_head);
    while (head && !atomic_cas(&lifo_head, &head, lifo_below[head - 1]))
        ;
    return (int64_t)head - 1;
}

static void lifo_reset(void) { lifo_head = lifo_used = 0; }
static void lifo_spawn(struct yielder *y)
{
    lifo_task[lifo_used] = y;
    lifo_push(lifo_used++);
}
static void lifo_wake(struct waker w) { lifo_push(w.slot); }

static int lifo_run_one(void)
{
    int64_t slot = lifo_pop();
    if (slot < 0)
        return 0;
    struct sched_cx cx = {.waker = {(uint32_t)slot, 0}};
    yielder_poll(lifo_task[slot], &cx);
    return 1;
}

// ---- (b) the stage-3 scheduler: the FIFO ready queue -------------------------------
static void fifo_reset(void) { sched_init(SCHED_DEFAULT_TASKS); }
static void fifo_spawn(struct yielder *y) { sched_spawn(yielder_poll, y, NULL, NULL); }
static void fifo_wake(struct waker w) { sched_wake(w); }

static const struct ready_ops lifo = {"LIFO stack", lifo_reset, lifo_spawn, lifo_wake, lifo_run_one};
static const struct ready_ops fifo = {"FIFO queue", fifo_reset, fifo_spawn, fifo_wake, sched_run_one};

// Scenario A is the starvation test's order: the hog runs once and re-queues
// itself, then the short tasks are spawned. Scenario B: the short tasks arrive
// while the hog is being polled, as new connections do on a busy server.
static void run(const struct ready_ops *o, char scenario)
{
    ops = o;
    ops->reset();
    steps = 0;
    hog = (struct yielder){.limit = HOG_POLLS, .first_at = -1, .spawn_shorts = scenario == 'B'};
    for (int k = 0; k < NSHORT; k++)
        shorts[k] = (struct yielder){.limit = SHORT_POLLS, .first_at = -1};
    ops->spawn(&hog);
    if (scenario == 'A') {
        ops->run_one();
        for (int k = 0; k < NSHORT; k++)
            ops->spawn(&shorts[k]);
    }
    while (ops->run_one())
        ;
    sys_printf("%s, scenario %c:", ops->name, scenario);
    for (int k = 0; k < NSHORT; k++)
        sys_printf(" short %d ran %d..%d;", k, shorts[k].first_at, shorts[k].finished_at);
    sys_printf(" hog finished at %d\n", hog.finished_at);
}

int main(void)
{
    run(&fifo, 'A');
    run(&lifo, 'A');
    run(&fifo, 'B');
    run(&lifo, 'B');
    return 0;
}
