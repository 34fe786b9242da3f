// fmt.c: integer formatting/parsing and a small printf, all writing through struct sys_writer.
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/sys.h"

size_t sys_fmt_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

size_t sys_fmt_i64(char *out, int64_t v)
{
    if (v >= 0)
        return sys_fmt_u64(out, (uint64_t)v);
    out[0] = '-';
    // Negate in unsigned arithmetic: -INT64_MIN overflows as a signed value.
    return 1 + sys_fmt_u64(out + 1, 0 - (uint64_t)v);
}

size_t sys_fmt_hex(char *out, uint64_t v, int min_digits)
{
    static const char digits[] = "0123456789abcdef";
    int n = 1;
    while (n < 16 && (v >> (4 * n)))
        n++;
    if (n < min_digits)
        n = min_digits > 16 ? 16 : min_digits;
    for (int i = 0; i < n; i++)
        out[i] = digits[(v >> (4 * (n - 1 - i))) & 15];
    return (size_t)n;
}

int sys_parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

void sys_writer_init(struct sys_writer *w, int fd, char *buf, size_t cap)
{
    *w = (struct sys_writer){.fd = fd, .buf = buf, .cap = cap};
    if (fd < 0 && cap)
        buf[0] = '\0';
}

int sys_w_flush(struct sys_writer *w)
{
    if (w->fd >= 0 && w->len) {
        ssize_t r = sys_write_all(w->fd, w->buf, w->len);
        if (r < 0 && !w->error)
            w->error = (int)r;
        w->len = 0;
    }
    return w->error;
}

void sys_w_mem(struct sys_writer *w, const void *p, size_t n)
{
    const char *s = p;
    if (w->fd < 0) { // string builder: keep room for the NUL
        size_t room = w->cap ? w->cap - 1 - w->len : 0;
        if (n > room) {
            n = room;
            w->truncated = true;
        }
        sys_memcpy(w->buf + w->len, s, n);
        w->len += n;
        if (w->cap)
            w->buf[w->len] = '\0';
        return;
    }
    while (n) {
        if (w->len == w->cap)
            sys_w_flush(w);
        size_t k = w->cap - w->len < n ? w->cap - w->len : n;
        sys_memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
}

void sys_w_str(struct sys_writer *w, const char *s) { sys_w_mem(w, s, sys_strlen(s)); }
void sys_w_char(struct sys_writer *w, char c) { sys_w_mem(w, &c, 1); }

void sys_w_u64(struct sys_writer *w, uint64_t v)
{
    char b[20];
    sys_w_mem(w, b, sys_fmt_u64(b, v));
}

void sys_w_i64(struct sys_writer *w, int64_t v)
{
    char b[21];
    sys_w_mem(w, b, sys_fmt_i64(b, v));
}

void sys_w_hex(struct sys_writer *w, uint64_t v)
{
    char b[16];
    sys_w_mem(w, b, sys_fmt_hex(b, v, 1));
}

static void w_padded(struct sys_writer *w, const char *s, size_t n, int width, char pad)
{
    if (pad == '0' && n && s[0] == '-' && (int)n < width) { // sign goes before zero padding
        sys_w_char(w, '-');
        s++, n--, width--;
    }
    for (int i = (int)n; i < width; i++)
        sys_w_char(w, pad);
    sys_w_mem(w, s, n);
}

void sys_w_vprintf(struct sys_writer *w, const char *fmt, va_list ap)
{
    while (*fmt) {
        const char *pct = fmt;
        while (*pct && *pct != '%')
            pct++;
        sys_w_mem(w, fmt, (size_t)(pct - fmt));
        if (!*pct)
            return;
        const char *spec = pct + 1;
        char pad = ' ';
        int width = 0, precision = -1, longs = 0;
        if (*spec == '0')
            pad = '0', spec++;
        if (*spec == '*') {
            width = va_arg(ap, int);
            spec++;
        }
        while (*spec >= '0' && *spec <= '9')
            width = width * 10 + (*spec++ - '0');
        if (spec[0] == '.' && spec[1] == '*') {
            precision = va_arg(ap, int);
            spec += 2;
        }
        while (*spec == 'l' || *spec == 'z')
            longs++, spec++;
        char num[24];
        size_t n;
        switch (*spec) {
        case 'd':
        case 'i': {
            int64_t v = longs ? va_arg(ap, long) : va_arg(ap, int);
            n = sys_fmt_i64(num, v);
            w_padded(w, num, n, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            n = *spec == 'u' ? sys_fmt_u64(num, v) : sys_fmt_hex(num, v, 1);
            w_padded(w, num, n, width, pad);
            break;
        }
        case 'p': {
            num[0] = '0', num[1] = 'x';
            n = 2 + sys_fmt_hex(num + 2, (uint64_t)(uintptr_t)va_arg(ap, void *), 1);
            w_padded(w, num, n, width, pad);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            size_t len = 0;
            while ((precision < 0 || (int)len < precision) && s[len])
                len++;
            w_padded(w, s, len, width, ' ');
            break;
        }
        case 'c':
            num[0] = (char)va_arg(ap, int);
            w_padded(w, num, 1, width, ' ');
            break;
        case '%':
            sys_w_char(w, '%');
            break;
        default: // unknown: copy the directive as written
            sys_w_mem(w, pct, (size_t)(spec - pct) + (*spec ? 1 : 0));
            break;
        }
        fmt = *spec ? spec + 1 : spec;
    }
}

void sys_w_printf(struct sys_writer *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sys_w_vprintf(w, fmt, ap);
    va_end(ap);
}

size_t sys_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
    struct sys_writer w;
    sys_writer_init(&w, -1, buf, cap);
    va_list ap;
    va_start(ap, fmt);
    sys_w_vprintf(&w, fmt, ap);
    va_end(ap);
    return w.len;
}

static void vdprintf_line(int fd, const char *fmt, va_list ap)
{
    char buf[1024];
    struct sys_writer w;
    sys_writer_init(&w, -1, buf, sizeof buf);
    sys_w_vprintf(&w, fmt, ap);
    sys_write_all(fd, buf, w.len);
}

void sys_dprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdprintf_line(fd, fmt, ap);
    va_end(ap);
}

void sys_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdprintf_line(STDOUT_FILENO, fmt, ap);
    va_end(ap);
}

void sys_eprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdprintf_line(STDERR_FILENO, fmt, ap);
    va_end(ap);
}
