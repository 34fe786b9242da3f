// syscall_nr.h: the x86_64 Linux syscall numbers this project uses (arch/x86/entry/syscalls/syscall_64.tbl).
#ifndef SYS_SYSCALL_NR_H
#define SYS_SYSCALL_NR_H

#define NR_read              0
#define NR_write             1
#define NR_open              2
#define NR_close             3
#define NR_fstat             5
#define NR_lseek             8
#define NR_mmap              9
#define NR_mprotect         10
#define NR_munmap           11
#define NR_rt_sigaction     13
#define NR_rt_sigprocmask   14
#define NR_rt_sigreturn     15
#define NR_pread64          17
#define NR_writev           20
#define NR_pipe             22
#define NR_sched_yield      24
#define NR_madvise          28
#define NR_dup2             33
#define NR_nanosleep        35
#define NR_getpid           39
#define NR_socket           41
#define NR_connect          42
#define NR_accept           43
#define NR_sendto           44
#define NR_recvfrom         45
#define NR_shutdown         48
#define NR_bind             49
#define NR_listen           50
#define NR_getsockname      51
#define NR_setsockopt       54
#define NR_getsockopt       55
#define NR_clone            56
#define NR_fork             57
#define NR_execve           59
#define NR_exit             60
#define NR_wait4            61
#define NR_kill             62
#define NR_fcntl            72
#define NR_getrlimit        97
#define NR_getrusage        98
#define NR_setrlimit       160
#define NR_arch_prctl      158
#define NR_gettid          186
#define NR_futex           202
#define NR_sched_getaffinity 204
#define NR_epoll_create    213
#define NR_clock_gettime   228
#define NR_clock_nanosleep 230
#define NR_exit_group      231
#define NR_epoll_wait      232
#define NR_epoll_ctl       233
#define NR_tgkill          234
#define NR_openat          257
#define NR_ppoll           271
#define NR_epoll_pwait     281
#define NR_eventfd2        290
#define NR_epoll_create1   291
#define NR_pipe2           293
#define NR_accept4         288
#define NR_prlimit64       302
#define NR_getrandom       318
#define NR_epoll_pwait2    441

#endif
