/* http_chunked.c: byte-driven state machine for chunked request bodies, resumable at any byte. */
#include "http/http_chunked.h"

typedef unsigned char u8;

/*
 * chunked-body   = *chunk last-chunk trailer-section CRLF
 * chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * chunk-ext      = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 * As in the request head, a bare LF is accepted wherever CRLF is expected, and a CR must be
 * followed by LF. Extensions are ignored but may not hold control bytes; since neither tokens
 * nor quoted-strings can contain CR or LF, the line end is found without parsing them.
 */
enum {
    CH_SIZE_FIRST, /* expecting the first hex digit of a chunk-size */
    CH_SIZE,       /* more hex digits, or what ends the size */
    CH_SIZE_WS,    /* BWS after the size: only ';' or the line end may follow */
    CH_EXT,        /* inside chunk extensions, up to the line end */
    CH_SIZE_LF,    /* CR seen at the end of the size line */
    CH_DATA,       /* skipping chunk data */
    CH_DATA_END,   /* CRLF (or LF) after the data */
    CH_DATA_LF,
    CH_TR_START, /* start of a trailer line, or of the final empty line */
    CH_TR_NAME,
    CH_TR_VALUE,
    CH_TR_LF,  /* CR seen at the end of a trailer line */
    CH_END_LF, /* CR seen on the final empty line */
    CH_DONE,
    CH_ERROR,
};

static const u8 tchar[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1,
    ['%'] = 1,         ['&'] = 1,         ['\''] = 1,        ['*'] = 1, ['+'] = 1, ['-'] = 1,
    ['.'] = 1,         ['^'] = 1,         ['_'] = 1,         ['`'] = 1, ['|'] = 1, ['~'] = 1,
};

/* HTAB, SP, VCHAR, obs-text: bytes allowed in extensions and trailer values. */
static const u8 text_ok[256] = {
    ['\t'] = 1,
    [0x20 ... 0x7e] = 1,
    [0x80 ... 0xff] = 1,
};

static inline unsigned hex_digit(u8 c)
{
    if ((unsigned)(c - '0') < 10u)
        return (unsigned)(c - '0');
    c |= 0x20;
    if ((unsigned)(c - 'a') < 6u)
        return (unsigned)(c - 'a') + 10u;
    return 16;
}

void http_chunked_init(struct http_chunked *st)
{
    __builtin_memset(st, 0, sizeof *st);
    st->state = CH_SIZE_FIRST;
}

/* The size line ended: a zero size starts the trailer section, anything else the data. */
static void size_line_done(struct http_chunked *st)
{
    st->line_bytes = 0;
    st->state = st->remaining == 0 ? CH_TR_START : CH_DATA;
}

// [lab: http_chunked_feed]
int http_chunked_feed(struct http_chunked *st, const char *buf, size_t len, size_t *consumed)
{
    const u8 *p = (const u8 *)buf, *end = p + len;
    int status = 400;

    if (st->state == CH_DONE || st->state == CH_ERROR) {
        *consumed = 0;
        return st->state == CH_DONE ? 1 : -1;
    }

    // [snippet: http-chunked-machine]
    while (p < end) {
        u8 c = *p;
        /* Per-line and trailer budgets: a client cannot make us read metadata forever. */
        if (st->state <= CH_SIZE_LF && ++st->line_bytes > HTTP_MAX_CHUNK_LINE) {
            status = 413;
            goto fail;
        }
        if (st->state >= CH_TR_START && ++st->trailer_bytes > HTTP_MAX_TRAILER_BYTES) {
            status = 413;
            goto fail;
        }
        switch (st->state) {
        case CH_SIZE_FIRST:
        case CH_SIZE: {
            unsigned d = hex_digit(c);
            if (d < 16) {
                /* Bounded by the body limit before it can overflow: no huge numerals. */
                st->remaining = st->remaining * 16 + d;
                if (st->remaining > HTTP_MAX_BODY - st->total) {
                    status = 413;
                    goto fail;
                }
                st->state = CH_SIZE;
            } else if (st->state == CH_SIZE_FIRST) {
                goto fail;
            } else if (c == ' ' || c == '\t') {
                st->state = CH_SIZE_WS;
            } else if (c == ';') {
                st->state = CH_EXT;
            } else if (c == '\r') {
                st->state = CH_SIZE_LF;
            } else if (c == '\n') {
                size_line_done(st);
            } else {
                goto fail;
            }
            break;
        }
        case CH_SIZE_WS:
            if (c == ';')
                st->state = CH_EXT;
            else if (c == '\r')
                st->state = CH_SIZE_LF;
            else if (c == '\n')
                size_line_done(st);
            else if (c != ' ' && c != '\t')
                goto fail;
            break;
        case CH_EXT:
            if (c == '\r')
                st->state = CH_SIZE_LF;
            else if (c == '\n')
                size_line_done(st);
            else if (!text_ok[c])
                goto fail;
            else if (++st->ext_bytes > HTTP_MAX_CHUNK_EXT) {
                status = 413;
                goto fail;
            }
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                goto fail;
            size_line_done(st);
            break;
        case CH_DATA: {
            /* The only state that eats more than a byte per step: data is skipped in bulk. */
            size_t n = (size_t)(end - p);
            if (n > st->remaining)
                n = (size_t)st->remaining;
            st->total += n;
            st->remaining -= n;
            p += n;
            if (st->remaining == 0)
                st->state = CH_DATA_END;
            continue;
        }
        case CH_DATA_END:
            if (c == '\r')
                st->state = CH_DATA_LF;
            else if (c == '\n')
                st->state = CH_SIZE_FIRST;
            else
                goto fail;
            break;
        case CH_DATA_LF:
            if (c != '\n')
                goto fail;
            st->state = CH_SIZE_FIRST;
            break;
        case CH_TR_START:
            if (c == '\r')
                st->state = CH_END_LF;
            else if (c == '\n')
                goto done;
            else if (tchar[c])
                st->state = CH_TR_NAME;
            else
                goto fail; /* includes obs-fold and a line starting with ':' */
            break;
        case CH_TR_NAME:
            if (c == ':')
                st->state = CH_TR_VALUE;
            else if (!tchar[c])
                goto fail;
            break;
        case CH_TR_VALUE:
            if (c == '\r')
                st->state = CH_TR_LF;
            else if (c == '\n')
                st->state = CH_TR_START;
            else if (!text_ok[c])
                goto fail;
            break;
        case CH_TR_LF:
            if (c != '\n')
                goto fail;
            st->state = CH_TR_START;
            break;
        case CH_END_LF:
            if (c != '\n')
                goto fail;
            goto done;
        default:
            goto fail;
        }
        p++;
    }
    // [end: http-chunked-machine]
    *consumed = len;
    return 0;

done:
    st->state = CH_DONE;
    *consumed = (size_t)(p + 1 - (const u8 *)buf);
    return 1;

fail:
    st->state = CH_ERROR;
    st->error_status = status;
    *consumed = (size_t)(p - (const u8 *)buf);
    return -1;
}
// [end lab: http_chunked_feed]
