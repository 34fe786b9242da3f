// http_metrics.h: live server counters, kept per thread and summed only when /metrics is read.
#ifndef HTTP_METRICS_H
#define HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum http_counter {
    M_CONN_ACCEPTED,
    M_CONN_CLOSED,
    M_CONN_REFUSED,
    M_BYTES_IN,
    M_BYTES_OUT,
    M_WS_MESSAGES,
    M_WS_OPENED,
    M_COUNTERS
};

// Adds v to counter c of the calling thread (no atomics, no shared cache line).
void http_metric_add(enum http_counter c, uint64_t v);
// Counts one response with this status code.
void http_metric_status(int status);
// Marks the process start (for the uptime gauge).
void http_metrics_start(void);
// Renders every metric in Prometheus text format into buf; returns the length
// (truncated at cap; HTTP_METRICS_BUF holds it with EX_MAX_WORKERS workers).
size_t http_metrics_render(char *buf, size_t cap);

#endif
