// io.c: whole-buffer writes: the conveniences of the syscall layer's third tier.
#include "sys/sys.h"

// [snippet: write-all]
ssize_t sys_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    size_t left = n;
    while (left) {
        ssize_t r = sys_write(fd, p, left);
        if (r == -EINTR)
            continue;
        if (r < 0)
            return r;
        p += r;
        left -= (size_t)r;
    }
    return (ssize_t)n;
}
// [end: write-all]

ssize_t sys_puts(int fd, const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return sys_write_all(fd, s, n);
}
