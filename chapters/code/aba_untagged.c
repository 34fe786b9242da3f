// aba_untagged.c: chapter 3's ABA measurement: an untagged Treiber stack against the tagged slot pool.
//
// Not part of src/. Four threads each take two slots and give them back, a
// million times; a slot handed to a thread while another holds it is the ABA
// bug at work. The untagged run repeats (at most MAX_TRIES times) until it
// shows one; the program exits 1 if it never does or if the tagged pool does. The untagged stack is
// sched_slot_pool with the tag removed; the tagged one is the real stage-3 code. Build and run from the
// repository root, after `make STAGE=3`, with one command line (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=3
//       chapters/code/aba_untagged.c build/stage-3/libnostd.a -o build/aba_untagged
//   build/aba_untagged
#include "config.h"
#include "sched/slot_pool.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/sys.h"
#include "sys/thread.h"

#define SLOTS   64
#define THREADS 4
#define ROUNDS  1000000

// ---- the untagged stack: the same algorithm, the head is just index + 1 -------------
static uint32_t bare_head;
static uint32_t bare_next[SLOTS];

static int64_t bare_pop(void)
{
    uint32_t head = atomic_load_acquire(&bare_head);
    for (;;) {
        if (head == 0)
            return -1;
        uint32_t below = atomic_load_relaxed(&bare_next[head - 1]);
        if (atomic_cas(&bare_head, &head, below)) // "head is still X": but is it the same X?
            return head - 1;
    }
}

static void bare_push(uint32_t i)
{
    uint32_t head = atomic_load_acquire(&bare_head);
    do
        atomic_store_relaxed(&bare_next[i], head);
    while (!atomic_cas(&bare_head, &head, i + 1));
}

// ---- the tagged pool from src/sched --------------------------------------------------
static struct slot_pool pool;
static uint32_t pool_next[SLOTS];
static int64_t tagged_pop(void) { return sched_slot_pool_pop(&pool); }
static void tagged_push(uint32_t i) { sched_slot_pool_push(&pool, i); }

// ---- the churn -----------------------------------------------------------------------
static int64_t (*pop)(void);
static void (*push)(uint32_t);
static uint32_t holder[SLOTS]; // 1 while a thread holds the slot
static uint64_t pops, doubles, pops_before_first;

static int64_t take(void)
{
    int64_t s = pop();
    if (s < 0)
        return -1;
    uint64_t n = atomic_fetch_add(&pops, 1);
    if (atomic_exchange(&holder[s], 1) != 0 && atomic_fetch_add(&doubles, 1) == 0)
        atomic_store_seq(&pops_before_first, n);
    return s;
}

static void give(int64_t s)
{
    if (s < 0)
        return;
    atomic_store_seq(&holder[s], 0);
    push((uint32_t)s);
}

// Take X, take Y, give X back: exactly the steps that, run by one thread
// between another thread's read of the head and its CAS, make A-B-A.
static int churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        int64_t x = take(), y = take();
        give(x);
        give(y);
    }
    return 0;
}

// Pops until empty (at most 2 * SLOTS times: a corrupted stack may be a cycle).
static int count_left(void)
{
    int n = 0;
    while (n < 2 * SLOTS && pop() >= 0)
        n++;
    return n;
}

// One run of the churn; returns how many slots were handed out while held.
// Also reports what the stack holds afterwards: a corrupted untagged stack may
// hand out more slots than exist (a cycle) or fewer (slots lost off the list).
static uint64_t run(const char *name, int64_t (*pop_fn)(void), void (*push_fn)(uint32_t))
{
    pop = pop_fn, push = push_fn;
    pops = doubles = pops_before_first = 0;
    for (uint32_t i = 0; i < SLOTS; i++)
        holder[i] = 0;
    uint64_t t0 = sys_now_ns();
    struct sys_thread *t[THREADS];
    for (int i = 0; i < THREADS; i++)
        sys_thread_spawn(&t[i], churn, NULL, THREAD_STACK_SIZE);
    for (int i = 0; i < THREADS; i++)
        sys_thread_join(t[i]);
    uint64_t ms = (sys_now_ns() - t0) / NS_PER_MS;
    int left = count_left();
    sys_printf("%s: %lu pops in %lu ms, %lu handed out while held", name, pops, ms, doubles);
    if (doubles)
        sys_printf(" (the first after %lu pops)", pops_before_first);
    sys_printf("; afterwards the stack gives %s%d slots of %d", left == 2 * SLOTS ? "at least " : "", left,
               SLOTS);
    if (left < SLOTS)
        sys_printf(" (%d lost)", SLOTS - left);
    sys_printf("\n");
    return doubles;
}

static void untagged_reset(void)
{
    for (uint32_t i = 0; i < SLOTS; i++)
        bare_next[i] = i + 1 < SLOTS ? i + 2 : 0;
    bare_head = 1;
}

// The race is a matter of timing: a run may show no double hand-out at all.
// Repeat the untagged run, on a fresh stack each time, until one does.
#define MAX_TRIES 20

int main(void)
{
    int tries = 0;
    uint64_t twice = 0;
    while (twice == 0 && tries < MAX_TRIES) {
        char name[32];
        sys_snprintf(name, sizeof name, "untagged, try %d", ++tries);
        untagged_reset();
        twice = run(name, bare_pop, bare_push);
    }
    if (twice)
        sys_printf("untagged: a slot was handed out twice on try %d of at most %d\n", tries, MAX_TRIES);
    else
        sys_printf("untagged: no double hand-out in %d tries\n", MAX_TRIES);
    sched_slot_pool_init(&pool, pool_next, SLOTS);
    uint64_t tagged = run("tagged", tagged_pop, tagged_push);
    return twice && tagged == 0 ? 0 : 1;
}
