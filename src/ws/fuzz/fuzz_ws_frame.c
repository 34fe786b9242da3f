// fuzz_ws_frame.c: libFuzzer target: frame parser and message machine on arbitrary client bytes.
#include "ws/tests/ws_drive.h"
#include "ws/ws_frame.h"
#include "ws/ws_message.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Header-level invariants at one position of the input.
static void check_header(const uint8_t *p, size_t n)
{
    struct ws_frame full;
    size_t lim = n < WS_FRAME_HEADER_MAX ? n : WS_FRAME_HEADER_MAX;
    int r = ws_frame_parse(p, lim, &full);

    if (r == PARSE_ERROR) {
        if (full.close_code != WS_CLOSE_PROTOCOL && full.close_code != WS_CLOSE_TOO_BIG)
            abort();
    } else if (r >= 0) {
        unsigned len7 = p[1] & 0x7F;
        int want = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
        if (r != want || full.close_code != 0 || !full.masked || full.payload_len > WS_MAX_FRAME)
            abort();
        if ((p[0] & 0x70) != 0)
            abort();
        if ((full.opcode & 8) && (!full.fin || full.payload_len > WS_CONTROL_MAX || full.opcode > WS_OP_PONG))
            abort();
        if (!(full.opcode & 8) && full.opcode > WS_OP_BINARY)
            abort();
        if (memcmp(full.mask, p + r - 4, 4) != 0)
            abort();
        // Re-encoding gives a header that parses to the same frame.
        uint8_t re[WS_FRAME_HEADER_MAX];
        size_t h = ws_frame_header_encode(re, full.fin, full.opcode, full.payload_len);
        re[1] |= 0x80;
        memcpy(re + h, full.mask, 4);
        struct ws_frame back;
        if (ws_frame_parse(re, h + 4, &back) != (int)(h + 4) || back.payload_len != full.payload_len ||
            back.fin != full.fin || back.opcode != full.opcode)
            abort();
    } else if (r != PARSE_NEED_MORE || lim == WS_FRAME_HEADER_MAX) {
        abort(); // 14 bytes always decide
    }

    // Fail fast and no surprises: every prefix either needs more bytes or
    // already gives exactly the final answer.
    for (size_t k = 0; k < lim; k++) {
        struct ws_frame f;
        int rk = ws_frame_parse(p, k, &f);
        if (rk == PARSE_NEED_MORE)
            continue;
        if (rk != r || (r == PARSE_ERROR && f.close_code != full.close_code))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t seed = (uint32_t)data[0] << 8 | data[1];
    const uint8_t *in = data + 2;
    size_t n = size - 2;

    for (size_t i = 0; i < n && i < 64; i++)
        check_header(in + i, n - i);

    // The stream delivered at once and in seeded random chunks must give
    // the same event log (the driver itself checks event invariants).
    uint8_t *a = malloc(n + 1), *b = malloc(n + 1);
    memcpy(a, in, n);
    memcpy(b, in, n);
    static struct drive d1, d2;
    drive_init(&d1);
    drive_feed(&d1, a, n);
    drive_init(&d2);
    for (size_t off = 0; off < n && d2.error == 0;) {
        seed = seed * 1103515245u + 12345u;
        size_t k = (seed >> 16) % 24;
        if (k > n - off)
            k = n - off;
        drive_feed(&d2, b + off, k);
        off += k;
    }
    if (d1.broken || d2.broken)
        abort();
    if (strcmp(d1.log, d2.log) != 0 || d1.error != d2.error)
        abort();
    // Following the contract, the machine never reports misuse, and only
    // these codes ever come out.
    if (d1.error != 0 && d1.error != WS_CLOSE_PROTOCOL && d1.error != WS_CLOSE_BAD_DATA &&
        d1.error != WS_CLOSE_TOO_BIG)
        abort();
    // Errors are sticky.
    if (d1.error != 0) {
        struct ws_frame f = {.fin = true, .opcode = WS_OP_PING, .masked = true};
        struct ws_event ev;
        if (d1.error_where != 1 &&
            (ws_msg_on_frame(&d1.st, &f) != d1.error || ws_msg_on_frame_end(&d1.st, &ev) != d1.error))
            abort();
    }
    drive_free(&d1);
    drive_free(&d2);
    free(a);
    free(b);
    return 0;
}
