// cpu_per_op.c: chapter 8's first program: clock time per operation moves with the load, CPU time does not.
//
// Not part of src/. Times a million getpid system calls twice, by the clock
// and by the CPU time the process spent: once on its own, once while a forked
// child spins on the same core. Run under `taskset -c 0` so that both share
// one core. Build and run from the repository root, after `make STAGE=7`,
// with one command line (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=7
//       chapters/code/cpu_per_op.c build/stage-7/libnostd.a -o build/cpu_per_op
//   taskset -c 0 build/cpu_per_op
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/sys.h"

// [snippet: first-cpu-per-op]
#define OPS 1000000

static void measure(const char *label)
{
    uint64_t wall0 = sys_now_ns(), cpu0 = sys_cpu_ns(); // CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID
    for (int i = 0; i < OPS; i++)
        sys_getpid(); // one operation: a system call, as a request makes a few
    uint64_t wall = sys_now_ns() - wall0, cpu = sys_cpu_ns() - cpu0;
    sys_printf("%s: clock %lu ns per op, cpu %lu ns per op\n", label, wall / OPS, cpu / OPS);
}

int main(void)
{
    measure("alone");
    int pid = sys_fork();
    if (pid == 0)
        for (;;) // the child: another process that wants the same core
            ;
    measure("sharing the core");
    sys_kill(pid, SIGKILL);
    sys_wait4(pid, NULL, 0, NULL);
    return 0;
}
// [end: first-cpu-per-op]
