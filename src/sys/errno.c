// errno.c: errno names for messages (sys_errno_name); pure, so hosted builds use it too.
#include <stddef.h>

#include "sys/errno.h"

const char *sys_errno_name(long e)
{
    static const struct {
        int code;
        const char *name;
    } names[] = {
        {EPERM, "EPERM"},
        {ENOENT, "ENOENT"},
        {EINTR, "EINTR"},
        {EBADF, "EBADF"},
        {EAGAIN, "EAGAIN"},
        {ENOMEM, "ENOMEM"},
        {EACCES, "EACCES"},
        {EFAULT, "EFAULT"},
        {EBUSY, "EBUSY"},
        {EEXIST, "EEXIST"},
        {EINVAL, "EINVAL"},
        {ENFILE, "ENFILE"},
        {EMFILE, "EMFILE"},
        {EPIPE, "EPIPE"},
        {ENOSYS, "ENOSYS"},
        {ETIME, "ETIME"},
        {ENOTSOCK, "ENOTSOCK"},
        {EADDRINUSE, "EADDRINUSE"},
        {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
        {ECONNABORTED, "ECONNABORTED"},
        {ECONNRESET, "ECONNRESET"},
        {ENOTCONN, "ENOTCONN"},
        {ETIMEDOUT, "ETIMEDOUT"},
        {ECONNREFUSED, "ECONNREFUSED"},
        {EINPROGRESS, "EINPROGRESS"},
        {ENOBUFS, "ENOBUFS"},
        {EALREADY, "EALREADY"},
        {ECANCELED, "ECANCELED"},
        {EOPNOTSUPP, "EOPNOTSUPP"},
    };
    if (e < 0)
        e = -e;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == e)
            return names[i].name;
    return "E?";
}
