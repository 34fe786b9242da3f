// would_block.c: chapter 5's first program: a non-blocking socket says EAGAIN instead of waiting.
//
// Not part of src/. A connected pair of Unix stream sockets, both
// non-blocking: a recv before anything was sent, a send and the recv that
// gets it, then a send larger than the socket's buffer, which takes only part.
// Build and run from the repository root, after `make STAGE=5`, with one
// command line (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=5
//       chapters/code/would_block.c build/stage-5/libnostd.a -o build/would_block
//   build/would_block
#include "sys/errno.h"
#include "sys/fmt.h"
#include "sys/sys.h"

static char big[1 << 20]; // 1 MiB, more than a socket buffers

// [snippet: first-would-block]
int main(void)
{
    int fds[2]; // a connected pair: what is sent on fds[1] is received on fds[0]
    if (sys_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) < 0)
        sys_panic("socketpair failed");
    char buf[16];

    ssize_t r = sys_recv(fds[0], buf, sizeof buf, 0);
    sys_printf("recv, nothing sent yet: %ld (%s)\n", (long)r, sys_errno_name(r));
    r = sys_send(fds[1], "ping", 4, 0);
    sys_printf("send \"ping\": %ld\n", (long)r);
    r = sys_recv(fds[0], buf, sizeof buf, 0);
    sys_printf("recv: %ld bytes, \"%.*s\"\n", (long)r, (int)r, buf);

    r = sys_send(fds[1], big, sizeof big, 0);
    sys_printf("send 1 MiB: %ld bytes taken\n", (long)r);
    r = sys_send(fds[1], big + r, sizeof big - (size_t)r, 0);
    sys_printf("send the rest: %ld (%s)\n", (long)r, sys_errno_name(r));
    return 0;
}
// [end: first-would-block]
