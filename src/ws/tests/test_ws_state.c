// test_ws_state.c: an idle connection's memory: the HTTP and WebSocket states and their allocator classes.
#include "config.h"
#include "http/http_conn.h"
#include "mem/mem.h"
#include "sys/testing.h"
#include "ws/ws_server.h"

// What a connection costs besides its states: its task (one 64-byte cache
// line, a 4-byte free-list link, a ready-queue cell) and its timer's place
// in the heap. Rounded up.
#define SLOT_AND_TIMER 128

// The bytes the allocator really takes for an n-byte state: its size class.
static size_t charged(size_t n)
{
    void *p = mem_alloc(n);
    size_t u = mem_usable_size(p);
    mem_free(p);
    return u;
}

// An idle keep-alive connection, or an idle WebSocket (which keeps HTTP's
// state too), holds no buffer: its state alone must fit in 1 KiB.
static void idle_connection_fits_in_a_kilobyte(void)
{
    size_t http = charged(sizeof(struct http_conn)), ws = charged(ws_conn_state_size);
    sys_printf("# struct http_conn: %lu bytes (class %lu); struct ws_conn: %lu bytes (class %lu)\n",
               sizeof(struct http_conn), http, ws_conn_state_size, ws);
    sys_printf("# idle keep-alive: %lu bytes; idle WebSocket: %lu bytes (with %d for slot and timer)\n",
               http + SLOT_AND_TIMER, http + ws + SLOT_AND_TIMER, SLOT_AND_TIMER);
    CHECK(http + SLOT_AND_TIMER <= 1024);
    CHECK(http + ws + SLOT_AND_TIMER <= 1024);
}

int main(void)
{
    RUN(idle_connection_fits_in_a_kilobyte);
    return test_summary();
}
