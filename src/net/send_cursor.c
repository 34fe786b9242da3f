// send_cursor.c: the send cursor: a list of iovecs and how far a send of them has got.
#include "net/net.h"
#include "sys/sys.h"

void net_send_init(struct net_send *s, const void *buf, size_t len)
{
    s->iovcnt = 0;
    s->total = s->sent = 0;
    if (len)
        net_send_add(s, buf, len);
}

void net_send_add(struct net_send *s, const void *buf, size_t len)
{
    if (s->iovcnt == NET_SEND_MAX_IOV)
        SYS_PANIC("net_send_add: more than NET_SEND_MAX_IOV buffers in one send"); // a programming error
    s->iov[s->iovcnt++] = (struct iovec){(void *)buf, len};
    s->total += len;
}

// [snippet: net-send-unsent]
int net_send_unsent(const struct net_send *s, struct iovec out[NET_SEND_MAX_IOV])
{
    // Skip the iovecs already sent and trim the one we stopped inside.
    int cnt = 0;
    size_t skip = s->sent;
    for (int i = 0; i < s->iovcnt; i++) {
        if (skip >= s->iov[i].iov_len) {
            skip -= s->iov[i].iov_len;
            continue;
        }
        out[cnt++] = (struct iovec){(char *)s->iov[i].iov_base + skip, s->iov[i].iov_len - skip};
        skip = 0;
    }
    return cnt;
}
// [end: net-send-unsent]
