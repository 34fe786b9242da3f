// http_metrics.c: per-thread counters (no contended cache line per request), summed in Prometheus format.
#include "http/http_metrics.h"
#include "config.h"
#include "exec/exec.h"
#include "net/net.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/thread.h"

#define MAX_THREADS (EX_MAX_WORKERS + 8)

static const int statuses[] = {101, 200, 400, 404, 405, 408, 413, 414, 426, 431, 500, 501, 503, 505};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

// [snippet: http-metrics]
// A shared atomic counter bumped by every request on every worker would bounce
// its cache line between CPUs on each increment. Instead each thread owns a
// row; /metrics sums the rows. The increments are still atomic (`lock add`,
// since a reader sums them concurrently and threads past MAX_THREADS share
// one row), but an uncontended lock on a line only this core touches costs a
// few cycles, not a cache-line transfer. A reader may see a count a few
// increments old: fine for monitoring.
struct metrics_row {
    uint64_t counter[M_COUNTERS];
    uint64_t status[NSTATUS + 1]; // last: any other status
    int32_t worker;               // its thread's worker number + 1 (0: not a worker thread); set once
} __attribute__((aligned(64)));

static struct metrics_row rows[MAX_THREADS];
static uint32_t rows_used;
static uint64_t started_ns;
static struct metrics_row overflow_row; // shared by threads beyond MAX_THREADS (atomically)

static struct metrics_row *my_row(void)
{
    struct sys_thread *self = sys_thread_self();
    struct metrics_row *r = self->slot[SLOT_HTTP_METRICS];
    if (!r) {
        uint32_t i = atomic_fetch_add(&rows_used, 1);
        r = i < MAX_THREADS ? &rows[i] : &overflow_row;
        if (r != &overflow_row) // written once, before this thread counts anything in it
            atomic_store_release(&r->worker, ex_worker_id() + 1);
        self->slot[SLOT_HTTP_METRICS] = r;
    }
    return r;
}

void http_metric_add(enum http_counter c, uint64_t v)
{
    struct metrics_row *r = my_row();
    atomic_add_relaxed(&r->counter[c], v);
}
// [end: http-metrics]

void http_metric_status(int status)
{
    size_t i = 0;
    while (i < NSTATUS && statuses[i] != status)
        i++;
    atomic_add_relaxed(&my_row()->status[i], 1);
}

void http_metrics_start(void) { started_ns = sys_now_ns(); }

static uint64_t sum_counter(enum http_counter c)
{
    uint64_t s = atomic_load_relaxed(&overflow_row.counter[c]);
    for (uint32_t i = 0; i < MAX_THREADS; i++)
        s += atomic_load_relaxed(&rows[i].counter[c]);
    return s;
}

static uint64_t sum_status(size_t k)
{
    uint64_t s = atomic_load_relaxed(&overflow_row.status[k]);
    for (uint32_t i = 0; i < MAX_THREADS; i++)
        s += atomic_load_relaxed(&rows[i].status[k]);
    return s;
}

// [snippet: http-metrics-per-worker]
// The rows are per thread already, so counts per worker cost the request path
// nothing: each row remembers the worker it belongs to, and the reader sums
// by worker. What the rows of threads that are not workers (the acceptor
// thread, threads beyond MAX_THREADS) counted is shown as worker="other".
static uint64_t row_responses(const struct metrics_row *r)
{
    uint64_t s = 0;
    for (size_t k = 0; k <= NSTATUS; k++)
        s += atomic_load_relaxed(&r->status[k]);
    return s;
}

static void per_worker(struct sys_writer *w, const char *name, const char *help, int what)
{
    int n = ex_worker_count();
    sys_w_printf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (int k = 0; k <= n; k++) { // k == n: the threads that are not workers
        uint64_t v = 0;
        for (uint32_t i = 0; i < MAX_THREADS + 1; i++) {
            const struct metrics_row *r = i < MAX_THREADS ? &rows[i] : &overflow_row;
            int32_t id = i < MAX_THREADS ? atomic_load_acquire(&r->worker) - 1 : -1;
            if (id == k || (k == n && (id < 0 || id >= n)))
                v += what < 0 ? row_responses(r) : atomic_load_relaxed(&r->counter[what]);
        }
        if (k < n)
            sys_w_printf(w, "%s{worker=\"%d\"} %lu\n", name, k, v);
        else if (v)
            sys_w_printf(w, "%s{worker=\"other\"} %lu\n", name, v);
    }
}
// [end: http-metrics-per-worker]

static void metric(struct sys_writer *w, const char *name, const char *type, const char *help, uint64_t v)
{
    sys_w_printf(w, "# HELP %s %s\n# TYPE %s %s\n%s %lu\n", name, help, name, type, name, v);
}

size_t http_metrics_render(char *buf, size_t cap)
{
    struct sys_writer w;
    sys_writer_init(&w, -1, buf, cap);
    uint64_t accepted = sum_counter(M_CONN_ACCEPTED), closed = sum_counter(M_CONN_CLOSED);
    metric(&w, "async_nostd_connections_accepted_total", "counter", "Connections handed to a task.",
           accepted);
    metric(&w, "async_nostd_connections_active", "gauge", "Connections open now.", accepted - closed);
    metric(&w, "async_nostd_connections_refused_total", "counter", "Connections answered 503 (no task slot).",
           sum_counter(M_CONN_REFUSED));
    sys_w_str(&w, "# HELP async_nostd_requests_total Responses sent, by status code.\n"
                  "# TYPE async_nostd_requests_total counter\n");
    for (size_t k = 0; k <= NSTATUS; k++) {
        uint64_t v = sum_status(k);
        if (v == 0 && k != 1) // always show 200 so the series exists from the start
            continue;
        if (k < NSTATUS)
            sys_w_printf(&w, "async_nostd_requests_total{status=\"%d\"} %lu\n", statuses[k], v);
        else
            sys_w_printf(&w, "async_nostd_requests_total{status=\"other\"} %lu\n", v);
    }
    metric(&w, "async_nostd_bytes_received_total", "counter", "Bytes read from clients.",
           sum_counter(M_BYTES_IN));
    metric(&w, "async_nostd_bytes_sent_total", "counter", "Bytes written to clients.",
           sum_counter(M_BYTES_OUT));
    metric(&w, "async_nostd_ws_connections_total", "counter", "WebSocket handshakes completed.",
           sum_counter(M_WS_OPENED));
    metric(&w, "async_nostd_ws_messages_total", "counter", "WebSocket messages echoed.",
           sum_counter(M_WS_MESSAGES));
    struct net_buf_stats bs;
    net_buf_stats(&bs);
    metric(&w, "async_nostd_io_buffers_in_use", "gauge",
           "I/O buffers lent to connections (an idle connection holds none).", bs.in_use);
    metric(&w, "async_nostd_io_buffers_free", "gauge", "Free I/O buffers kept in the threads' lists.",
           bs.cached);
    struct sched_stats st;
    sched_get_stats(&st);
    metric(&w, "async_nostd_tasks_live", "gauge", "Tasks alive in the scheduler.", st.live);
    metric(&w, "async_nostd_shared_writes_total", "counter",
           "Writes to words other workers write too (ready queues, the poller role, parking, kicks, "
           "timer and ring locks), as the executor counts them.",
           ex_shared_writes());
    metric(&w, "async_nostd_task_slots", "gauge", "Task slots (the most concurrent connections).", st.limit);
    per_worker(&w, "async_nostd_worker_connections_accepted_total",
               "Connections handed to a task, by the worker that accepted them.", M_CONN_ACCEPTED);
    per_worker(&w, "async_nostd_worker_connections_closed_total",
               "Connections ended, by the worker that ran them last (per-core: their home).", M_CONN_CLOSED);
    per_worker(&w, "async_nostd_worker_requests_total", "Responses sent, by the worker that sent them.", -1);
    metric(&w, "async_nostd_uptime_seconds", "gauge", "Seconds since the server started.",
           (sys_now_ns() - started_ns) / NS_PER_SEC);
    return w.len;
}
