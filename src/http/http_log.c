// http_log.c: per-thread log buffers: a log line is a memcpy, a write(2) happens only when idle or full.
#include <stdarg.h>

#include "config.h"
#include "http/http_log.h"
#include "mem/mem.h"
#include "sys/atomic.h"
#include "sys/fmt.h"
#include "sys/sys.h"
#include "sys/thread.h"

struct log_buf {
    size_t len;
    char data[HTTP_LOG_BUF];
};

static int log_fd = -1;

int http_log_open(const char *path)
{
    int fd = sys_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return fd;
    atomic_store_seq(&log_fd, fd);
    return 0;
}

static struct log_buf *this_thread_buf(void)
{
    struct sys_thread *self = sys_thread_self();
    struct log_buf *b = self->slot[SLOT_HTTP_LOG];
    if (!b) {
        b = mem_alloc(sizeof *b);
        if (b)
            b->len = 0;
        self->slot[SLOT_HTTP_LOG] = b;
    }
    return b;
}

void http_log_flush(void)
{
    struct log_buf *b = sys_thread_self()->slot[SLOT_HTTP_LOG];
    int fd = atomic_load_relaxed(&log_fd);
    if (b && b->len && fd >= 0) {
        // O_APPEND makes each write land whole at the end, whichever thread writes.
        sys_write_all(fd, b->data, b->len);
        b->len = 0;
    }
}

// [snippet: http-log]
void http_log(const char *fmt, ...)
{
    if (atomic_load_relaxed(&log_fd) < 0)
        return;
    struct log_buf *b = this_thread_buf();
    if (!b)
        return; // no memory for a buffer: drop the line, never the request
    if (HTTP_LOG_BUF - b->len < 256)
        http_log_flush();
    struct sys_writer w;
    sys_writer_init(&w, -1, b->data + b->len, HTTP_LOG_BUF - b->len);
    va_list ap;
    va_start(ap, fmt);
    sys_w_vprintf(&w, fmt, ap);
    va_end(ap);
    b->len += w.len;
    if (b->len < HTTP_LOG_BUF)
        b->data[b->len++] = '\n';
}
// [end: http-log]
