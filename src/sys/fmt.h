// fmt.h: integer formatting and parsing, and a small printf onto a buffered writer.
#ifndef SYS_FMT_H
#define SYS_FMT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Writes v in decimal to out (room for 20 bytes, no NUL); returns the length.
size_t sys_fmt_u64(char *out, uint64_t v);
// Same for a signed value (room for 20 bytes).
size_t sys_fmt_i64(char *out, int64_t v);
// Lower-case hex, at least min_digits digits (room for 16); returns the length.
size_t sys_fmt_hex(char *out, uint64_t v, int min_digits);
// Parses s[0..n) as a decimal number with no sign or spaces.
// Returns 0 and sets *out, or -1 if empty, not all digits, or over UINT64_MAX.
int sys_parse_u64(const char *s, size_t n, uint64_t *out);

// A writer collects output in a caller's buffer and writes it to fd on flush
// or when full. fd < 0 makes it a string builder that truncates at cap-1 and
// keeps the buffer NUL-terminated.
struct sys_writer {
    int fd;
    char *buf;
    size_t cap, len;
    bool truncated; // string builder ran out of room
    int error;      // first write error (-errno), sticky
};

void sys_writer_init(struct sys_writer *w, int fd, char *buf, size_t cap);
void sys_w_mem(struct sys_writer *w, const void *p, size_t n);
void sys_w_str(struct sys_writer *w, const char *s);
void sys_w_char(struct sys_writer *w, char c);
void sys_w_u64(struct sys_writer *w, uint64_t v);
void sys_w_i64(struct sys_writer *w, int64_t v);
void sys_w_hex(struct sys_writer *w, uint64_t v);
// Supports %d %i %u %x %ld %li %lu %lx %zu %zd %s %.*s %c %p %% and a width
// (%8d, %*d) with optional '0' padding (%08x, %0*lu). Unknown directives are copied verbatim.
void sys_w_vprintf(struct sys_writer *w, const char *fmt, va_list ap);
void sys_w_printf(struct sys_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Writes out what is buffered; returns 0 or the sticky -errno.
int sys_w_flush(struct sys_writer *w);

// Formats into buf (always NUL-terminated); returns the length written.
size_t sys_snprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
// Formats into a stack buffer and writes it with one write(2) call, so lines
// from different threads do not interleave. Lines longer than 1 KiB are cut.
void sys_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sys_eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sys_dprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
