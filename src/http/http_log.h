// http_log.h: the server's log file with the original's tags, buffered per thread so logging stays cheap.
#ifndef HTTP_LOG_H
#define HTTP_LOG_H

// Opens (truncating) the log file; returns 0 or -errno. Without it, logging is off.
int http_log_open(const char *path);
// Appends one line, printf-style ("[HTTP] fd=%d route=%s"), to this thread's
// buffer. Lines reach the file when the buffer fills or the thread goes idle.
void http_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Writes this thread's buffered lines to the file. Installed as the
// executor's idle hook; also call it from non-worker threads before blocking.
void http_log_flush(void);

#endif
