// io.c: whole-buffer writes and panic: the conveniences of the syscall layer's third tier.
#include "sys/fmt.h"
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

// [snippet: panic]
void sys_panic(const char *msg)
{
    sys_puts(STDERR_FILENO, "panic: ");
    sys_puts(STDERR_FILENO, msg);
    sys_puts(STDERR_FILENO, "\n");
    // exit_group, not exit: exit would end only this thread and leave the
    // rest of the process running without it (a bug of the original).
    sys_exit_group(134);
}
// [end: panic]

void sys_panic_at(const char *file, int line, const char *msg)
{
    char where[256];
    sys_snprintf(where, sizeof where, "%s:%d: %s", file, line, msg);
    sys_panic(where);
}
