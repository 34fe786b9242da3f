// signal.h: installing signal handlers through rt_sigaction, with our own SA_RESTORER trampoline.
#ifndef SYS_SIGNAL_H
#define SYS_SIGNAL_H

// Runs handler(sig) on delivery of sig; interrupted syscalls restart
// (SA_RESTART) unless they are the kind that never restarts (epoll_wait,
// ppoll, nanosleep return -EINTR). Returns 0 or -errno.
int sys_signal_handle(int sig, void (*handler)(int));
// Ignores sig (SIGPIPE: a write to a closed socket then returns -EPIPE
// instead of killing the process). Returns 0 or -errno.
int sys_signal_ignore(int sig);
// Restores the default action for sig. Returns 0 or -errno.
int sys_signal_default(int sig);

#endif
