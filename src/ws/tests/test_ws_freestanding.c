// test_ws_freestanding.c: the WebSocket layer's pure code run freestanding (hosted runs sanitize it).
#include "http/http_parse.h"
#include "sys/string.h"
#include "sys/testing.h"
#include "ws/ws_accept.h"
#include "ws/ws_base64.h"
#include "ws/ws_frame.h"
#include "ws/ws_handshake.h"
#include "ws/ws_message.h"
#include "ws/ws_sha1.h"
#include "ws/ws_utf8.h"

static void sha1_rfc3174_vectors(void)
{
    uint8_t d[20];
    static const uint8_t abc[20] = {0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
                                    0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d};
    ws_sha1("abc", 3, d);
    CHECK(sys_memcmp(d, abc, 20) == 0);
    static const uint8_t two_blocks[20] = {0x84, 0x98, 0x3e, 0x44, 0x1c, 0x3b, 0xd2, 0x6e, 0xba, 0xae,
                                           0x4a, 0xa1, 0xf9, 0x51, 0x29, 0xe5, 0xe5, 0x46, 0x70, 0xf1};
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ws_sha1(m, sys_strlen(m), d);
    CHECK(sys_memcmp(d, two_blocks, 20) == 0);
}

static void accept_key_rfc6455_sample(void)
{
    char out[WS_ACCEPT_LEN];
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    CHECK(ws_key_valid(key, 24));
    ws_accept_key(key, 24, out);
    CHECK(sys_memcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WS_ACCEPT_LEN) == 0);
    CHECK(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=", 23));
    CHECK(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ!!", 24));
}

static void base64_round_trip(void)
{
    uint8_t in[64], back[64];
    char enc[WS_BASE64_ENC_LEN(64)];
    for (size_t n = 0; n <= 64; n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)(i * 37 + n);
        size_t e = ws_base64_encode(in, n, enc);
        CHECK_EQ(ws_base64_decode(enc, e, back, sizeof back), (long)n);
        CHECK(sys_memcmp(in, back, n) == 0);
    }
}

static void utf8_rejects_and_accepts(void)
{
    CHECK(ws_utf8_valid((const uint8_t *)"h\xc3\xa9llo \xf0\x9f\x98\x80", 11));
    CHECK(!ws_utf8_valid((const uint8_t *)"\xc0\xaf", 2));         // overlong
    CHECK(!ws_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));     // surrogate
    CHECK(!ws_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); // above U+10FFFF
    ws_utf8_state st = WS_UTF8_ACCEPT;
    size_t bad = 0;
    CHECK(ws_utf8_feed(&st, (const uint8_t *)"\xe2\x82", 2, &bad)); // split code point: not yet done
    CHECK(!ws_utf8_done(st));
    CHECK(ws_utf8_feed(&st, (const uint8_t *)"\xac", 1, &bad));
    CHECK(ws_utf8_done(st));
}

static void frame_parse_and_encode(void)
{
    // A masked client text frame "Hi" (RFC 6455 5.7 style).
    uint8_t f[] = {0x81, 0x82, 1, 2, 3, 4, 'H' ^ 1, 'i' ^ 2};
    struct ws_frame fr;
    CHECK_EQ(ws_frame_parse(f, sizeof f, &fr), 6);
    CHECK(fr.fin && fr.opcode == WS_OP_TEXT && fr.masked && fr.payload_len == 2);
    ws_unmask(f + 6, 2, fr.mask, 0);
    CHECK(f[6] == 'H' && f[7] == 'i');
    CHECK_EQ(ws_frame_parse(f, 3, &fr), PARSE_NEED_MORE);
    uint8_t unmasked[] = {0x81, 0x02, 'H', 'i'};
    CHECK_EQ(ws_frame_parse(unmasked, sizeof unmasked, &fr), PARSE_ERROR);
    CHECK_EQ(fr.close_code, WS_CLOSE_PROTOCOL);
    uint8_t hdr[10];
    CHECK_EQ(ws_frame_header_encode(hdr, true, WS_OP_BINARY, 125), 2);
    CHECK_EQ(ws_frame_header_encode(hdr, true, WS_OP_BINARY, 126), 4);
    CHECK_EQ(ws_frame_header_encode(hdr, true, WS_OP_BINARY, 65536), 10);
    CHECK(hdr[0] == 0x82 && hdr[1] == 127);
}

static void message_machine_fragments(void)
{
    struct ws_msg st;
    struct ws_event ev;
    ws_msg_init(&st);
    struct ws_frame first = {.fin = false, .opcode = WS_OP_TEXT, .masked = true, .payload_len = 3};
    struct ws_frame ping = {.fin = true, .opcode = WS_OP_PING, .masked = true, .payload_len = 1};
    struct ws_frame last = {.fin = true, .opcode = WS_OP_CONT, .masked = true, .payload_len = 2};
    CHECK_EQ(ws_msg_on_frame(&st, &first), 0);
    CHECK_EQ(ws_msg_on_payload(&st, (const uint8_t *)"abc", 3), 0);
    CHECK_EQ(ws_msg_on_frame_end(&st, &ev), 0);
    CHECK_EQ(ev.kind, WS_EV_NONE);
    CHECK_EQ(ws_msg_on_frame(&st, &ping), 0); // a control frame between fragments
    CHECK_EQ(ws_msg_on_payload(&st, (const uint8_t *)"p", 1), 0);
    CHECK_EQ(ws_msg_on_frame_end(&st, &ev), 0);
    CHECK(ev.kind == WS_EV_PING && ev.len == 1 && ev.data[0] == 'p');
    CHECK_EQ(ws_msg_on_frame(&st, &last), 0);
    CHECK_EQ(ws_msg_on_payload(&st, (const uint8_t *)"de", 2), 0);
    CHECK_EQ(ws_msg_on_frame_end(&st, &ev), 0);
    CHECK(ev.kind == WS_EV_MESSAGE && ev.opcode == WS_OP_TEXT && ev.msg_len == 5);
    struct ws_frame stray = {.fin = true, .opcode = WS_OP_CONT, .masked = true, .payload_len = 0};
    CHECK_EQ(ws_msg_on_frame(&st, &stray), WS_CLOSE_PROTOCOL); // continuation with nothing open
}

// However little room the caller gives, the handshake never writes a head
// cut short: the whole 101, or a bare 500, or nothing.
static void handshake_never_truncated(void)
{
    static const char hs[] =
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    static const char bare[] =
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    struct http_request req;
    CHECK_EQ(http_parse_request(hs, sizeof hs - 1, &req), (int)(sizeof hs - 1));
    char full[512], out[512];
    size_t full_len = 0;
    CHECK_EQ(ws_handshake(&req, full, sizeof full, &full_len), 101);
    CHECK(full_len > 100 && sys_memcmp(full + full_len - 4, "\r\n\r\n", 4) == 0);
    int bad = 0;
    for (size_t cap = 0; cap <= full_len + 1; cap++) {
        size_t len = 99999;
        int st = ws_handshake(&req, out, cap, &len);
        if (st == 101)
            bad += len != full_len || len > cap || sys_memcmp(out, full, len) != 0;
        else if (st == 500 && len == sizeof bare - 1)
            bad += len > cap || sys_memcmp(out, bare, len) != 0;
        else
            bad += st != 500 || len != 0 || cap >= sizeof bare - 1;
    }
    CHECK_EQ(bad, 0);
    size_t len = 0; // one byte short of the NUL the writer keeps: not a 101
    CHECK_EQ(ws_handshake(&req, out, full_len, &len), 500);
    CHECK_EQ(ws_handshake(&req, out, full_len + 1, &len), 101);
}

int main(void)
{
    RUN(sha1_rfc3174_vectors);
    RUN(accept_key_rfc6455_sample);
    RUN(base64_round_trip);
    RUN(utf8_rejects_and_accepts);
    RUN(frame_parse_and_encode);
    RUN(message_machine_fragments);
    RUN(handshake_never_truncated);
    return test_summary();
}
