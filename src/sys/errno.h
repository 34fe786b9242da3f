// errno.h: the errno values the project checks; syscalls return them negated (-EAGAIN).
#ifndef SYS_ERRNO_H
#define SYS_ERRNO_H

#define EPERM         1
#define ENOENT        2
#define ESRCH         3
#define EINTR         4
#define EIO           5
#define EBADF         9
#define ECHILD        10
#define EAGAIN        11
#define ENOMEM        12
#define EACCES        13
#define EFAULT        14
#define EBUSY         16
#define EEXIST        17
#define EINVAL        22
#define ENFILE        23
#define EMFILE        24
#define ENOSPC        28
#define ESPIPE        29
#define EPIPE         32
#define ERANGE        34
#define ENOSYS        38
#define ETIME         62
#define ENOTSOCK      88
#define EOPNOTSUPP    95
#define EADDRINUSE    98
#define EADDRNOTAVAIL 99
#define ENETDOWN      100
#define ECONNABORTED  103
#define ECONNRESET    104
#define ENOBUFS       105
#define ENOTCONN      107
#define ETIMEDOUT     110
#define ECONNREFUSED  111
#define EALREADY      114
#define EINPROGRESS   115
#define ECANCELED     125

// [snippet: sys-is-err]
// Raw syscalls return -4095..-1 for errors; everything else is a result.
#define SYS_IS_ERR(r) ((unsigned long)(r) > (unsigned long)-4096L)
// [end: sys-is-err]

// Returns a short name for -e or e ("EAGAIN"), or "E?" when unknown.
const char *sys_errno_name(long e);

#endif
