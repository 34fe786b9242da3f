// kick.h: the eventfd a thread writes to make a poller blocked in ppoll or epoll_wait return.
#ifndef EXEC_KICK_H
#define EXEC_KICK_H

#include <stdint.h>

struct kicker {
    int fd;                // non-blocking eventfd, watched by the reactor
    uint32_t kick_pending; // a kick was written and not yet read: no need for another
};

// Creates the eventfd. Returns 0 or -errno.
int kick_init(struct kicker *k);
void kick_close(struct kicker *k);
// Makes the fd readable (once per burst of kicks). Async-signal-safe.
void kick_signal(struct kicker *k);
// Called by the poller when the fd was readable: empties it, then re-allows kicks.
void kick_drain(struct kicker *k);

#endif
