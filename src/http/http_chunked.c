// http_chunked.c: byte-driven state machine for chunked request bodies, resumable at any byte.
#include "http/http_chunked.h"

typedef unsigned char u8;

// chunked-body   = *chunk last-chunk trailer-section CRLF
// chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
// chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// chunk-ext-name = token; chunk-ext-val = token / quoted-string
// As in the request head, a bare LF is accepted wherever CRLF is expected, and a CR must be
// followed by LF. Extensions are ignored but must match the grammar exactly: a bare ";",
// a name that is not a token, or whitespace before the line end ("5 " CRLF) is a 400,
// since a lenient reader and a strict one would split the stream differently (RFC 9112 7.1.1).
enum {
    CH_SIZE_FIRST,  // expecting the first hex digit of a chunk-size
    CH_SIZE,        // more hex digits, or what ends the size
    CH_EXT_BWS,     // BWS after the size or an extension: only BWS or ';' may follow
    CH_EXT_SEMI,    // after ';': BWS, then an extension name
    CH_EXT_NAME,    // inside an extension name
    CH_EXT_NAME_WS, // BWS after a name: '=' or ';' must follow
    CH_EXT_EQ,      // after '=': BWS, then a token or a quoted-string
    CH_EXT_TOKEN,   // inside a token value
    CH_EXT_QUOTED,  // inside a quoted-string value
    CH_EXT_QPAIR,   // after a backslash in a quoted-string
    CH_EXT_CLOSED,  // right after the closing quote
    CH_SIZE_LF,     // CR seen at the end of the size line
    CH_DATA,        // skipping chunk data
    CH_DATA_END,    // CRLF (or LF) after the data
    CH_DATA_LF,
    CH_TR_START, // start of a trailer line, or of the final empty line
    CH_TR_NAME,
    CH_TR_VALUE,
    CH_TR_LF,  // CR seen at the end of a trailer line
    CH_END_LF, // CR seen on the final empty line
    CH_DONE,
    CH_ERROR,
};

static const u8 tchar[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1,
    ['%'] = 1,         ['&'] = 1,         ['\''] = 1,        ['*'] = 1, ['+'] = 1, ['-'] = 1,
    ['.'] = 1,         ['^'] = 1,         ['_'] = 1,         ['`'] = 1, ['|'] = 1, ['~'] = 1,
};

// HTAB, SP, VCHAR, obs-text: bytes allowed in trailer values and after a quoted-pair's '\'.
static const u8 text_ok[256] = {
    ['\t'] = 1,
    [0x20 ... 0x7e] = 1,
    [0x80 ... 0xff] = 1,
};

// qdtext (RFC 9110 5.6.4): text_ok without '"' and '\'.
static const u8 qdtext[256] = {
    ['\t'] = 1, [0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1, [0x80 ... 0xff] = 1,
};

static inline bool is_bws(u8 c) { return c == ' ' || c == '\t'; }

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

// The size line ended: a zero size starts the trailer section, anything else the data.
static void size_line_done(struct http_chunked *st)
{
    st->line_bytes = 0;
    st->state = st->remaining == 0 ? CH_TR_START : CH_DATA;
}

// A byte that may end an extension element: ';', BWS, or the line end. Returns false for any
// other byte (a 400).
static bool ext_element_end(struct http_chunked *st, u8 c)
{
    if (c == ';')
        st->state = CH_EXT_SEMI;
    else if (is_bws(c))
        st->state = CH_EXT_BWS;
    else if (c == '\r')
        st->state = CH_SIZE_LF;
    else if (c == '\n')
        size_line_done(st);
    else
        return false;
    return true;
}

// Runs the state machine above over buf[0..len), resuming where the last
// call stopped (st->state). Returns the bytes of buf that ended the body
// (>= 0, the rest is the next request), PARSE_NEED_MORE when all len were
// consumed, or PARSE_ERROR with st->error_status (400, or 413 when a chunk
// size is too big); see http_chunked.h. Called by http_body_skip.
// [lab: http_chunked_feed]
int http_chunked_feed(struct http_chunked *st, const char *buf, size_t len)
{
    const u8 *p = (const u8 *)buf, *end = p + len;
    int status = 400;

    if (st->state == CH_DONE)
        return 0;
    if (st->state == CH_ERROR)
        return PARSE_ERROR;

    // [snippet: http-chunked-machine]
    while (p < end) {
        u8 c = *p;
        // Per-line and trailer budgets: a client cannot make us read metadata forever. A
        // size line or extensions past their budget are broken framing (400), not content.
        if (st->state <= CH_SIZE_LF && ++st->line_bytes > HTTP_MAX_CHUNK_LINE)
            goto fail;
        if (st->state > CH_SIZE && st->state < CH_SIZE_LF && ++st->ext_bytes > HTTP_MAX_CHUNK_EXT)
            goto fail;
        if (st->state >= CH_TR_START && ++st->trailer_bytes > HTTP_MAX_TRAILER_BYTES) {
            status = 413;
            goto fail;
        }
        switch (st->state) {
        case CH_SIZE_FIRST:
        case CH_SIZE: {
            unsigned d = hex_digit(c);
            if (d < 16) {
                // A numeral that does not fit 64 bits is malformed (RFC 9112 7.1 MUST).
                if (st->remaining >> 60)
                    goto fail;
                st->remaining = st->remaining * 16 + d;
                st->state = CH_SIZE;
                break;
            }
            if (st->state == CH_SIZE_FIRST)
                goto fail;
            // The size is complete: one that fits but exceeds the body limit is content too large.
            if (st->remaining > HTTP_MAX_BODY - st->total) {
                status = 413;
                goto fail;
            }
            if (!ext_element_end(st, c)) // "5 " goes to CH_EXT_BWS: only ';' may follow
                goto fail;
            break;
        }
        case CH_EXT_BWS:
            if (c == ';')
                st->state = CH_EXT_SEMI;
            else if (!is_bws(c))
                goto fail; // includes the line end: no BWS before CRLF
            break;
        case CH_EXT_SEMI:
            if (tchar[c])
                st->state = CH_EXT_NAME;
            else if (!is_bws(c))
                goto fail; // a bare ";" or a name that is no token
            break;
        case CH_EXT_NAME:
            if (c == '=')
                st->state = CH_EXT_EQ;
            else if (is_bws(c))
                st->state = CH_EXT_NAME_WS;
            else if (!tchar[c] && !ext_element_end(st, c))
                goto fail;
            break;
        case CH_EXT_NAME_WS:
            if (c == '=')
                st->state = CH_EXT_EQ;
            else if (c == ';')
                st->state = CH_EXT_SEMI;
            else if (!is_bws(c))
                goto fail;
            break;
        case CH_EXT_EQ:
            if (c == '"')
                st->state = CH_EXT_QUOTED;
            else if (tchar[c])
                st->state = CH_EXT_TOKEN;
            else if (!is_bws(c))
                goto fail;
            break;
        case CH_EXT_TOKEN:
            if (!tchar[c] && !ext_element_end(st, c))
                goto fail;
            break;
        case CH_EXT_QUOTED:
            if (c == '"')
                st->state = CH_EXT_CLOSED;
            else if (c == '\\')
                st->state = CH_EXT_QPAIR;
            else if (!qdtext[c])
                goto fail;
            break;
        case CH_EXT_QPAIR:
            if (!text_ok[c])
                goto fail;
            st->state = CH_EXT_QUOTED;
            break;
        case CH_EXT_CLOSED:
            if (!ext_element_end(st, c))
                goto fail;
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                goto fail;
            size_line_done(st);
            break;
        case CH_DATA: {
            // The only state that eats more than a byte per step: data is skipped in bulk.
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
                goto fail; // includes obs-fold and a line starting with ':'
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
    return PARSE_NEED_MORE;

done:
    st->state = CH_DONE;
    return (int)(p + 1 - (const u8 *)buf);

fail:
    st->state = CH_ERROR;
    st->error_status = status;
    return PARSE_ERROR;
}
// [end lab: http_chunked_feed]
