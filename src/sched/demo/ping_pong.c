// ping_pong.c: stage-3 demo: two tasks hand a token back and forth through wakers, run by two threads.
#include "config.h"
#include "sched/sched.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/sys.h"
#include "sys/thread.h"

#define ROUNDS 1000000

struct player {
    const char *name;
    uint32_t *token; // whose turn: 0 = ping, 1 = pong
    uint32_t me;
    struct waker *other;
    uint64_t hits;
};

// Each poll: if it is our turn, hit the ball (flip the token) and wake the
// other player; then wait. No spinning: a task runs only when woken.
static poll_t player_poll(void *state, struct sched_cx *cx)
{
    (void)cx;
    struct player *p = state;
    if (atomic_load_acquire(p->token) == p->me) {
        p->hits++;
        atomic_store_release(p->token, p->me ^ 1);
        sched_wake(*p->other);
    }
    return p->hits == ROUNDS ? READY : PENDING;
}

static uint32_t stop;
static int runner(void *arg)
{
    (void)arg;
    while (!atomic_load_seq(&stop))
        if (!sched_run_one())
            sys_cpu_relax();
    return 0;
}

int main(void)
{
    sched_init(SCHED_DEFAULT_TASKS);
    uint32_t token = 0;
    struct waker wping, wpong;
    struct player ping = {"ping", &token, 0, &wpong, 0}, pong = {"pong", &token, 1, &wping, 0};
    sched_spawn_idle(player_poll, &ping, NULL, &wping);
    sched_spawn_idle(player_poll, &pong, NULL, &wpong);
    uint64_t t0 = sys_now_ns();
    struct sys_thread *t[2];
    sys_thread_spawn(&t[0], runner, NULL, THREAD_STACK_SIZE);
    sys_thread_spawn(&t[1], runner, NULL, THREAD_STACK_SIZE);
    sched_wake(wping);
    while (sched_live())
        sys_sleep_ns(NS_PER_MS);
    uint64_t ns = sys_now_ns() - t0;
    atomic_store_seq(&stop, 1);
    sys_thread_join(t[0]);
    sys_thread_join(t[1]);
    sys_printf("%s hit %lu, %s hit %lu: %lu hand-offs in %lu ms (%lu ns each) on 2 threads\n", ping.name,
               ping.hits, pong.name, pong.hits, 2ul * ROUNDS, ns / NS_PER_MS, ns / (2 * ROUNDS));
    return 0;
}
