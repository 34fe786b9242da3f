// short_sleeps.c: chapter 4's measurement: 200 us sleeps under epoll's ms timeout and ppoll's ns.
//
// Not part of src/. One task sleeps 200 us, 2,000 times in a row, on two
// workers; the program prints how long a sleep really took, per backend.
// Build and run from the repository root, after `make STAGE=4`, with one
// command line (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=4
//       chapters/code/short_sleeps.c build/stage-4/libnostd.a -o build/short_sleeps
//   build/short_sleeps
#include "config.h"
#include "exec/exec.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/sys.h"

#define SLEEPS   2000
#define SLEEP_NS (200 * 1000)

struct napper {
    int resume;
    int i;
    struct ex_sleep sleep;
    uint32_t done;
};

static poll_t napper_poll(void *state, struct sched_cx *cx)
{
    struct napper *n = state;
    ASYNC_BEGIN(n);
    for (n->i = 0; n->i < SLEEPS; n->i++) {
        ex_sleep_init(&n->sleep, SLEEP_NS);
        AWAIT(n, ex_sleep_poll(&n->sleep, cx));
    }
    atomic_store_seq(&n->done, 1);
    ASYNC_END(n);
}

static void run(enum ex_backend backend)
{
    struct ex_config cfg = {.workers = 2, .backend = backend};
    if (ex_init(&cfg) < 0 || ex_start() < 0)
        sys_panic("executor failed to start");
    struct napper n = {0};
    uint64_t t0 = sys_now_ns();
    sched_spawn(napper_poll, &n, NULL, NULL);
    while (!atomic_load_seq(&n.done))
        sys_sleep_ns(NS_PER_MS);
    uint64_t ns = sys_now_ns() - t0;
    ex_shutdown();
    ex_join();
    sys_printf("%s: %d sleeps of %d us in %lu ms: %lu us per sleep\n", ex_backend_name(), SLEEPS,
               SLEEP_NS / 1000, ns / NS_PER_MS, ns / SLEEPS / 1000);
}

int main(void)
{
    run(EX_BACKEND_EPOLL);
    run(EX_BACKEND_PPOLL);
    return 0;
}
