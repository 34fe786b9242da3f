// start.c: the process entry point _start, which finds argc/argv/envp/auxv and calls main.
#include "sys/sys.h"
#include "sys/thread.h"
#include "sys/vdso.h"

int main(int argc, char **argv, char **envp);

int sys_argc;
char **sys_argv;
char **sys_envp;
static unsigned long *auxv;

__attribute__((noreturn, used)) void sys_start_c(long *sp);
__attribute__((naked, noreturn)) void _start(void);

// [snippet: start]
// The kernel starts a new process at _start with no return address and this
// stack (System V x86_64 ABI, "Process Initialization"):
//
//     rsp ->  argc
//             argv[0] ... argv[argc-1], NULL
//             envp[0] ... , NULL
//             auxv pairs (type, value) ... , AT_NULL
//
// rsp is 16-byte aligned here. A C function expects to be entered by `call`,
// i.e. with rsp 8 past a 16-byte boundary; compiled code relies on that for
// aligned SSE spills, so we cannot write _start in C. This naked stub hands
// the original rsp to C and calls it exactly as a compiler would.
__attribute__((naked, noreturn)) void _start(void)
{
    __asm__ volatile("xor %ebp, %ebp\n\t" // mark the outermost frame for debuggers
                     "mov %rsp, %rdi\n\t" // first argument: pointer to argc
                     "and $-16, %rsp\n\t" // already aligned by the ABI; cheap insurance
                     "call sys_start_c\n\t"
                     "hlt\n\t");
}

void sys_start_c(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    char **p = envp;
    while (*p)
        p++;
    auxv = (unsigned long *)(p + 1);

    sys_argc = argc;
    sys_argv = argv;
    sys_envp = envp;
    sys_thread_init_main(); // %fs must point at a thread block before any code asks for it
    sys_vdso_init((const void *)sys_getauxval(AT_SYSINFO_EHDR)); // before any thread reads the clock
    sys_exit_group(main(argc, argv, envp));
}
// [end: start]

unsigned long sys_getauxval(unsigned long type)
{
    for (unsigned long *a = auxv; a && a[0] != AT_NULL; a += 2)
        if (a[0] == type)
            return a[1];
    return 0;
}

const char *sys_getenv(const char *name)
{
    size_t n = 0;
    while (name[n])
        n++;
    for (char **e = sys_envp; e && *e; e++) {
        size_t i = 0;
        while (i < n && (*e)[i] == name[i])
            i++;
        if (i == n && (*e)[n] == '=')
            return *e + n + 1;
    }
    return NULL;
}

// [snippet: cpu-count]
int sys_cpu_count(void)
{
    uint64_t mask[16] = {0};
    int r = sys_sched_getaffinity(0, sizeof mask, mask);
    if (r <= 0)
        return 1;
    int n = 0;
    // Count bits by hand: __builtin_popcount would call into libgcc unless
    // the target has the popcnt instruction, and we link no libgcc.
    for (size_t i = 0; i < (size_t)r / 8; i++)
        for (uint64_t m = mask[i]; m; m &= m - 1)
            n++;
    return n > 0 ? n : 1;
}
// [end: cpu-count]

// The soft limit is often 1,024 while the hard one is far higher: 1,024 is
// what select()'s fd_set holds, and a program that may use select() must
// not get descriptors past it. Nothing here uses select(), so, as Go's
// runtime does at start-up, take every descriptor the hard limit allows.
long sys_fd_limit_raise(void)
{
    struct rlimit rl;
    int r = sys_prlimit(0, RLIMIT_NOFILE, NULL, &rl);
    if (r < 0)
        return r;
    if (rl.cur < rl.max) {
        struct rlimit want = {.cur = rl.max, .max = rl.max};
        if (sys_prlimit(0, RLIMIT_NOFILE, &want, NULL) == 0)
            rl.cur = rl.max;
    }
    return rl.cur > (unsigned long)INT32_MAX ? INT32_MAX : (long)rl.cur;
}
