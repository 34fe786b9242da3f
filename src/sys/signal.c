// signal.c: rt_sigaction with an SA_RESTORER trampoline, since there is no libc to provide one.
#include "sys/signal.h"
#include "sys/sys.h"

void sys_signal_restorer(void);

// [snippet: sigreturn-restorer]
// When a handler returns, it returns to the address the kernel pushed on the
// signal stack frame: sa_restorer. That code must call rt_sigreturn so the
// kernel can restore the interrupted registers and signal mask. libc normally
// supplies it; without libc, x86_64 kernels refuse handlers that lack
// SA_RESTORER, so we write the two instructions ourselves. It is naked: a
// compiled prologue would move rsp off the signal frame rt_sigreturn reads.
__attribute__((naked)) void sys_signal_restorer(void)
{
    __asm__ volatile("mov $15, %eax\n\t" // NR_rt_sigreturn
                     "syscall\n\t"
                     "hlt\n\t");
}
// [end: sigreturn-restorer]

// [snippet: signal-install]
static int install(int sig, void (*handler)(int), unsigned long flags)
{
    struct kernel_sigaction sa = {
        .handler = handler,
        .flags = flags | SA_RESTORER,
        .restorer = sys_signal_restorer,
        .mask = 0,
    };
    return sys_rt_sigaction(sig, &sa, NULL);
}

int sys_signal_handle(int sig, void (*handler)(int)) { return install(sig, handler, SA_RESTART); }
int sys_signal_ignore(int sig) { return install(sig, SIG_IGN, 0); }
int sys_signal_default(int sig) { return install(sig, SIG_DFL, 0); }
// [end: signal-install]
