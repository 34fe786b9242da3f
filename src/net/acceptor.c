// acceptor.c: the acceptor thread: blocking accept4 on its own thread, each fd handed to a new task.
#include "config.h"
#include "mem/mem.h"
#include "net/net.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/sys.h"

// [snippet: acceptor-loop]
// The original's one race-free idea, kept: a dedicated thread blocks in
// accept4 and never polls; workers never accept. accept4 returns the socket
// already non-blocking and close-on-exec, so no fcntl per connection.
// Called as the function of the thread net_acceptor_start spawns: hands
// each socket to a->on_accept (0: taken), closes one it refuses, pauses on
// EMFILE and the like, and returns 0 once net_acceptor_stop has set
// stopping and shut the listening socket down (accept4 then fails -EINVAL).
// [lab: acceptor_main]
static int acceptor_main(void *arg)
{
    struct net_acceptor *a = arg;
    while (!atomic_load_seq(&a->stopping)) {
        int fd = sys_accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (a->on_accept(fd, a->arg) == 0) {
                atomic_add_relaxed(&a->accepted, 1);
                continue;
            }
            // No room (no task slot, no memory): say so and close, never wait.
            atomic_add_relaxed(&a->refused, 1);
            if (a->on_refused)
                a->on_refused(fd);
            sys_close(fd);
        } else if (net_accept_out_of_room(fd)) {
            // Out of descriptors or memory: retrying at once would spin at
            // 100% CPU. Pause; connections finishing meanwhile free some.
            atomic_add_relaxed(&a->backoffs, 1);
            sys_sleep_ns(NET_EMFILE_BACKOFF_MS * NS_PER_MS);
        } else if (fd == -EINVAL || fd == -EBADF) {
            break; // the listening socket was shut down: we are stopping
        }
        // EINTR, ECONNABORTED (peer gave up while queued), ...: just go on.
    }
    mem_thread_exit();
    return 0;
}
// [end lab: acceptor_main]
// [end: acceptor-loop]

int net_acceptor_start(struct net_acceptor *a)
{
    a->stopping = 0;
    return sys_thread_spawn(&a->thread, acceptor_main, a, THREAD_STACK_SIZE);
}

// [snippet: acceptor-stop]
void net_acceptor_stop(struct net_acceptor *a)
{
    if (!a->thread)
        return;
    atomic_store_seq(&a->stopping, 1);
    // shutdown() on a listening socket makes a blocked accept4 return
    // -EINVAL at once (Linux); closing it would not wake the thread.
    sys_shutdown(a->listen_fd, SHUT_RDWR);
    sys_thread_join(a->thread);
    a->thread = NULL;
}
// [end: acceptor-stop]
