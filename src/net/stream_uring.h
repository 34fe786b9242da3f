// stream_uring.h: a connection's state on the completion path (io_uring): its recv and send in flight.
#ifndef NET_STREAM_URING_H
#define NET_STREAM_URING_H

#include <stdint.h>

#include "exec/completion.h"
#include "sys/kernel_abi.h"

#define NET_URING_MAX_IOV 4 // == NET_SEND_MAX_IOV (checked in stream_uring.c)

// [snippet: net-stream-uring]
// Zero when idle. The two ex_ops are the requests' user_data, so this
// struct (inside the caller's net_stream) must outlive them: net_close
// cancels and waits for both. The send's iovecs and msghdr are copied here,
// since the kernel reads them after the caller's poll has returned. The
// bytes they point at are the caller's, and also the kernel's until the
// send's completion: another reason close must wait for it.
struct net_stream_uring {
    struct ex_op recv, send;
    // A provided buffer not yet copied out entirely (the caller asked for
    // less than the recv brought): its id, where the rest starts, how much.
    uint32_t bid;
    uint32_t rest_off, rest_len;
    // Which net_send the send in flight belongs to, and where it started,
    // so that the completion of an abandoned send is not counted as another's.
    const void *send_owner;
    size_t send_from, send_total;
    struct msghdr msg;
    struct iovec iov[NET_URING_MAX_IOV];
};
// [end: net-stream-uring]

#endif
