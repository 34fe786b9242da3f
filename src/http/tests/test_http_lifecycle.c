// test_http_lifecycle.c: the read buffer both protocols share: taken for a receive, kept, grown, given back.
#include "config.h"
#include "http/http_lifecycle.h"
#include "net/net.h"
#include "sys/string.h"
#include "sys/testing.h"

static uint64_t buffers_in_use(void)
{
    struct net_buf_stats s;
    net_buf_stats(&s);
    return s.in_use;
}

// Bytes received, as http_lifecycle_recv would append them.
static void arrive(struct http_lifecycle *l, const char *bytes)
{
    size_t n = sys_strlen(bytes);
    sys_memcpy(l->in + l->len, bytes, n);
    l->len += n;
}

// An idle connection holds no buffer: one is taken for a receive and goes
// back as soon as every byte in it was consumed, not before.
static void buffer_is_lent_only_while_it_holds_bytes(void)
{
    struct http_lifecycle l;
    http_lifecycle_init(&l, -1);
    uint64_t before = buffers_in_use();
    CHECK(l.in == NULL);
    CHECK(http_lifecycle_room(&l, NET_BUF_SIZE));
    CHECK(l.in != NULL && l.cap == NET_BUF_SIZE);
    CHECK_EQ(buffers_in_use(), before + 1);
    arrive(&l, "GET / HTTP/1.1\r\n");
    l.start = 4; // part consumed: the rest still needs the buffer
    http_lifecycle_give_back(&l);
    CHECK(l.in != NULL);
    l.start = l.len;
    http_lifecycle_give_back(&l);
    CHECK(l.in == NULL && l.cap == 0 && l.len == 0);
    CHECK_EQ(buffers_in_use(), before);
}

// A full buffer keeps its unconsumed tail: moved to the front, and when it
// fills the buffer, grown to the size asked for (HTTP's long head, a large
// WebSocket payload), with the bytes kept.
static void room_keeps_the_unconsumed_bytes(void)
{
    struct http_lifecycle l;
    http_lifecycle_init(&l, -1);
    CHECK(http_lifecycle_room(&l, NET_BUF_SIZE));
    sys_memset(l.in, 'x', l.cap);
    l.len = l.cap;
    l.start = l.cap - 3;
    l.in[l.start] = 'a';
    CHECK(http_lifecycle_room(&l, NET_BUF_SIZE));
    CHECK(l.start == 0 && l.len == 3 && l.in[0] == 'a');

    sys_memset(l.in, 'y', l.cap);
    l.in[0] = 'b';
    l.start = 0;
    l.len = l.cap;
    CHECK(!http_lifecycle_room(&l, NET_BUF_SIZE)); // full of unconsumed bytes: no room at this size
    CHECK(http_lifecycle_room(&l, HTTP_READ_BUF_MAX));
    CHECK(l.cap == HTTP_READ_BUF_MAX && l.len == NET_BUF_SIZE && l.in[0] == 'b' && l.in[l.len - 1] == 'y');
    l.start = l.len;
    http_lifecycle_give_back(&l); // a grown block goes back to the allocator
    CHECK(l.in == NULL);
}

int main(void)
{
    RUN(buffer_is_lent_only_while_it_holds_bytes);
    RUN(room_keeps_the_unconsumed_bytes);
    return test_summary();
}
