// panic.c: the one way out on a broken invariant: a message, then the whole process ends.
#include "sys/fmt.h"
#include "sys/sys.h"

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
