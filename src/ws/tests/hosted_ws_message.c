// hosted_ws_message.c: hosted tests: the message machine (fragments, control, UTF-8, size, close codes).
#include "ws/tests/ws_drive.h"
#include "ws/ws_close.h"
#include "ws/ws_message.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_test_case.h"

// A script of frames written as the client would send them.
struct fr {
    bool fin;
    unsigned op;
    const char *data;
    size_t len;
};

#define F(fin, op, s)             \
    {                             \
        fin, op, s, sizeof(s) - 1 \
    }

// Sends the frames as one byte stream, then the same stream one byte at a
// time; both must give `want` as the event log.
static void script(const char *name, const struct fr *frs, size_t nfr, const char *want)
{
    static uint8_t stream[4096], copy[4096];
    size_t n = 0;
    for (size_t i = 0; i < nfr; i++)
        n += drive_build(stream + n, frs[i].fin, frs[i].op, frs[i].data, frs[i].len,
                         0x9e3779b9u * (uint32_t)(i + 1));
    struct drive d;
    memcpy(copy, stream, n);
    drive_init(&d);
    drive_feed(&d, copy, n);
    bool ok = strcmp(d.log, want) == 0 && d.broken == NULL;
    char got[DRIVE_LOG_MAX];
    strcpy(got, d.log);
    drive_free(&d);

    memcpy(copy, stream, n);
    drive_init(&d);
    for (size_t i = 0; i < n && d.error == 0; i++)
        drive_feed(&d, copy + i, 1);
    bool same = strcmp(d.log, want) == 0 && d.broken == NULL;
    drive_free(&d);
    CASE(name, ok && same, "got %s%s want %s", got, same ? "" : " (differs byte by byte)", want);
}

#define SCRIPT(name, want, ...)                                 \
    do {                                                        \
        static const struct fr frs_[] = {__VA_ARGS__};          \
        script(name, frs_, sizeof frs_ / sizeof frs_[0], want); \
    } while (0)

static void test_fragmentation(void)
{
    SCRIPT("msg single text", "M1:5:Hello|", F(true, WS_OP_TEXT, "Hello"));
    SCRIPT("msg single binary", "M2:3:\x01\x02\x03|", F(true, WS_OP_BINARY, "\x01\x02\x03"));
    SCRIPT("msg empty text", "M1:0:|", F(true, WS_OP_TEXT, ""));
    SCRIPT("msg three fragments", "N|N|M1:11:Hello world|", F(false, WS_OP_TEXT, "Hel"),
           F(false, WS_OP_CONT, "lo wo"), F(true, WS_OP_CONT, "rld"));
    SCRIPT("msg empty fragments", "N|N|M2:2:ab|", F(false, WS_OP_BINARY, ""), F(false, WS_OP_CONT, "ab"),
           F(true, WS_OP_CONT, ""));
    SCRIPT("msg ping interleaved between fragments", "N|PI:4:ping|N|PO:0:|M1:9:fragments|",
           F(false, WS_OP_TEXT, "frag"), F(true, WS_OP_PING, "ping"), F(false, WS_OP_CONT, "men"),
           F(true, WS_OP_PONG, ""), F(true, WS_OP_CONT, "ts"));
    SCRIPT("msg close between fragments ends the stream", "N|C1000:|", F(false, WS_OP_TEXT, "part"),
           F(true, WS_OP_CLOSE, "\x03\xe8"));
    SCRIPT("msg two messages back to back", "M1:1:a|M2:1:b|", F(true, WS_OP_TEXT, "a"),
           F(true, WS_OP_BINARY, "b"));
    SCRIPT("msg continuation with no message -> 1002", "E1002@2|", F(true, WS_OP_CONT, "x"));
    SCRIPT("msg continuation after a finished message -> 1002", "M1:1:a|E1002@2|", F(true, WS_OP_TEXT, "a"),
           F(true, WS_OP_CONT, "b"));
    SCRIPT("msg text while a fragmented text is open -> 1002", "N|E1002@2|", F(false, WS_OP_TEXT, "a"),
           F(true, WS_OP_TEXT, "b"));
    SCRIPT("msg binary while a fragmented text is open -> 1002", "N|PI:0:|E1002@2|",
           F(false, WS_OP_TEXT, "a"), F(true, WS_OP_PING, ""), F(true, WS_OP_BINARY, "b"));
    SCRIPT("msg frame after close -> 1002", "C1000:|E1002@2|", F(true, WS_OP_CLOSE, "\x03\xe8"),
           F(true, WS_OP_TEXT, "late"));
    SCRIPT("msg ping payload of 125 bytes",
           "PI:125:"
           "ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
           "pppppppppppppppppppppppppppp|",
           F(true, WS_OP_PING,
             "ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
             "pppppppppppppppppppppppppppppp"));
}

static void test_utf8_rules(void)
{
    SCRIPT("msg text with invalid UTF-8 -> 1007", "E1007@3|", F(true, WS_OP_TEXT, "ok\xff"));
    SCRIPT("msg binary with invalid UTF-8 is fine", "M2:3:ok\xff|", F(true, WS_OP_BINARY, "ok\xff"));
    SCRIPT("msg code point split across fragments", "N|M1:4:\xf0\x9f\x98\x80|",
           F(false, WS_OP_TEXT, "\xf0\x9f"), F(true, WS_OP_CONT, "\x98\x80"));
    SCRIPT("msg code point split around an interleaved ping", "N|PI:1:\xff|M1:3:\xe2\x82\xac|",
           F(false, WS_OP_TEXT, "\xe2"), F(true, WS_OP_PING, "\xff"), F(true, WS_OP_CONT, "\x82\xac"));
    SCRIPT("msg text ending inside a code point -> 1007", "E1007@4|", F(true, WS_OP_TEXT, "abc\xe2\x82"));
    SCRIPT("msg text fragments ending inside a code point -> 1007", "N|E1007@4|", F(false, WS_OP_TEXT, "a"),
           F(true, WS_OP_CONT, "\xc3"));
    SCRIPT("msg invalid UTF-8 in a non-final fragment fails before FIN", "E1007@3|",
           F(false, WS_OP_TEXT, "\xed\xa0\x80"), F(true, WS_OP_CONT, "never seen"));
    SCRIPT("msg invalid UTF-8 in a continuation -> 1007", "N|E1007@3|", F(false, WS_OP_TEXT, "good "),
           F(true, WS_OP_CONT, "bad \xc0\xaf"));
    SCRIPT("msg a new text message resets UTF-8 state", "M2:1:\xe2|M1:1:a|", F(true, WS_OP_BINARY, "\xe2"),
           F(true, WS_OP_TEXT, "a"));

    // Fail fast inside one frame: the chunk holding the bad byte fails,
    // earlier chunks of the same frame do not.
    struct ws_msg st;
    ws_msg_init(&st);
    struct ws_frame f = {.fin = true, .opcode = WS_OP_TEXT, .masked = true, .payload_len = 1000};
    int r0 = ws_msg_on_frame(&st, &f);
    uint8_t chunk[100];
    memset(chunk, 'a', sizeof chunk);
    int r1 = ws_msg_on_payload(&st, chunk, 100);
    chunk[50] = 0xc0;
    int r2 = ws_msg_on_payload(&st, chunk, 100);
    CASE("msg invalid UTF-8 fails in the chunk that carries it, mid-frame", r0 == 0 && r1 == 0 && r2 == 1007,
         "r0=%d r1=%d r2=%d", r0, r1, r2);
}

static void test_size_limit(void)
{
    // Driven with hand-built headers so the payload can be large without
    // building frames: the machine sees exactly what a connection would.
    size_t max = WS_MAX_MESSAGE;
    uint8_t *buf = malloc(max);
    memset(buf, 'a', max);
    struct ws_event ev;
    char name[128];

    struct ws_msg st;
    ws_msg_init(&st);
    struct ws_frame f = {.fin = false, .opcode = WS_OP_TEXT, .masked = true, .payload_len = max - 1};
    int r0 = ws_msg_on_frame(&st, &f);
    int r1 = ws_msg_on_payload(&st, buf, max - 1);
    int r2 = ws_msg_on_frame_end(&st, &ev);
    struct ws_frame c = {.fin = true, .opcode = WS_OP_CONT, .masked = true, .payload_len = 2};
    int r3 = ws_msg_on_frame(&st, &c);
    snprintf(name, sizeof name, "msg fragments totalling WS_MAX_MESSAGE + 1 (%zu) -> 1009 at the header",
             max + 1);
    CASE(name, r0 == 0 && r1 == 0 && r2 == 0 && ev.kind == WS_EV_NONE && r3 == 1009, "r=%d %d %d %d", r0, r1,
         r2, r3);
    int r4 = ws_msg_on_payload(&st, buf, 1);
    CASE("msg errors are sticky",
         r4 == 1009 && ws_msg_on_frame_end(&st, &ev) == 1009 && ws_msg_on_frame(&st, &f) == 1009, "r4=%d",
         r4);

    ws_msg_init(&st);
    r0 = ws_msg_on_frame(&st, &f);
    r1 = ws_msg_on_payload(&st, buf, max - 1);
    r2 = ws_msg_on_frame_end(&st, &ev);
    struct ws_frame ping = {.fin = true, .opcode = WS_OP_PING, .masked = true, .payload_len = 4};
    int rp = ws_msg_on_frame(&st, &ping);
    rp |= ws_msg_on_payload(&st, (const uint8_t *)"ping", 4);
    rp |= ws_msg_on_frame_end(&st, &ev);
    c.payload_len = 1;
    r3 = ws_msg_on_frame(&st, &c);
    r4 = ws_msg_on_payload(&st, buf, 1);
    int r5 = ws_msg_on_frame_end(&st, &ev);
    snprintf(name, sizeof name, "msg fragments totalling exactly WS_MAX_MESSAGE (%zu), ping between", max);
    CASE(name, (r0 | r1 | r2 | rp | r3 | r4 | r5) == 0 && ev.kind == WS_EV_MESSAGE && ev.msg_len == max,
         "r=%d %d %d %d %d %d %d len=%llu", r0, r1, r2, rp, r3, r4, r5, (unsigned long long)ev.msg_len);

    ws_msg_init(&st);
    struct ws_frame one = {
        .fin = true, .opcode = WS_OP_BINARY, .masked = true, .payload_len = (uint64_t)max + 1};
    r0 = ws_msg_on_frame(&st, &one);
    CASE("msg single frame above WS_MAX_MESSAGE -> 1009", r0 == 1009, "r=%d", r0);
    ws_msg_init(&st);
    one.payload_len = UINT64_MAX;
    r0 = ws_msg_on_frame(&st, &one);
    CASE("msg 2^64-1 length does not wrap the size check", r0 == 1009, "r=%d", r0);
    free(buf);
}

static void test_close(void)
{
    SCRIPT("close empty payload -> 1005 (no status)", "C1005:|", F(true, WS_OP_CLOSE, ""));
    SCRIPT("close 1000 with reason", "C1000:bye|",
           F(true, WS_OP_CLOSE,
             "\x03\xe8"
             "bye"));
    SCRIPT("close 1-byte payload -> 1002", "E1002@4|", F(true, WS_OP_CLOSE, "\x03"));
    SCRIPT("close reason invalid UTF-8 -> 1007", "E1007@4|", F(true, WS_OP_CLOSE, "\x03\xe8\xff"));
    SCRIPT("close reason truncated UTF-8 -> 1007", "E1007@4|", F(true, WS_OP_CLOSE, "\x03\xe8\xc3"));
    SCRIPT("close reason multibyte UTF-8", "C4000:\xc3\xa9t\xc3\xa9|",
           F(true, WS_OP_CLOSE, "\x0f\xa0\xc3\xa9t\xc3\xa9"));
    SCRIPT("close 123-byte reason (largest)",
           "C1001:"
           "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
           "rrrrrrrrrrrrrrrrrrrrrr|",
           F(true, WS_OP_CLOSE,
             "\x03\xe9rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
             "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"));

    // Named codes through the whole path, as a peer would send them.
    static const struct {
        unsigned code;
        bool ok;
    } codes[] = {
        {0, false},    {999, false},  {1000, true},  {1001, true},   {1002, true}, {1003, true},
        {1004, false}, {1005, false}, {1006, false}, {1007, true},   {1008, true}, {1009, true},
        {1010, true},  {1011, true},  {1012, true},  {1013, true},   {1014, true}, {1015, false},
        {1016, false}, {1100, false}, {2000, false}, {2999, false},  {3000, true}, {3999, true},
        {4000, true},  {4999, true},  {5000, false}, {65535, false},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        struct ws_msg st;
        struct ws_event ev;
        uint8_t p[2] = {(uint8_t)(codes[i].code >> 8), (uint8_t)codes[i].code};
        struct ws_frame f = {.fin = true, .opcode = WS_OP_CLOSE, .masked = true, .payload_len = 2};
        ws_msg_init(&st);
        int r = ws_msg_on_frame(&st, &f);
        r |= ws_msg_on_payload(&st, p, 2);
        r |= ws_msg_on_frame_end(&st, &ev);
        char name[96];
        snprintf(name, sizeof name, "close code %u %s", codes[i].code, codes[i].ok ? "accepted" : "-> 1002");
        bool good =
            codes[i].ok ? (r == 0 && ev.kind == WS_EV_CLOSE && ev.close_code == codes[i].code) : r == 1002;
        CASE(name, good, "r=%d", r);
    }

    // The whole code space against RFC 6455 7.4 plus the IANA registry,
    // written out independently as the list of refused codes.
    int bad = 0;
    for (unsigned c = 0; c <= 65535; c++) {
        bool want = !(c < 1000 || c == 1004 || c == 1005 || c == 1006 || c == 1015 ||
                      (c >= 1016 && c <= 2999) || c >= 5000);
        bad += ws_close_code_valid(c) != want;
        uint8_t p[3] = {(uint8_t)(c >> 8), (uint8_t)c, 'x'};
        uint16_t got = 0;
        int r = ws_close_payload_check(p, 3, &got);
        bad += want ? (r != 0 || got != c) : r != 1002;
        bad += (ws_close_payload_check(p, 3, NULL) == 0) != want;
    }
    CASE("close all 65536 codes follow RFC 6455 7.4 and the IANA registry", bad == 0, "%d wrong", bad);
    uint16_t got = 0;
    CASE("close payload check empty -> valid, 1005",
         ws_close_payload_check(NULL, 0, &got) == 0 && got == 1005, "got %u", got);
}

static void test_contract(void)
{
    struct ws_msg st;
    struct ws_event ev;
    struct ws_frame f = {.fin = true, .opcode = WS_OP_TEXT, .masked = true, .payload_len = 3};

    ws_msg_init(&st);
    CASE("api payload with no frame open -> 1011", ws_msg_on_payload(&st, (const uint8_t *)"a", 1) == 1011,
         "no");
    ws_msg_init(&st);
    CASE("api frame end with no frame open -> 1011", ws_msg_on_frame_end(&st, &ev) == 1011, "no");
    ws_msg_init(&st);
    ws_msg_on_frame(&st, &f);
    CASE("api more payload than announced -> 1011",
         ws_msg_on_payload(&st, (const uint8_t *)"abcd", 4) == 1011, "no");
    ws_msg_init(&st);
    ws_msg_on_frame(&st, &f);
    ws_msg_on_payload(&st, (const uint8_t *)"ab", 2);
    CASE("api frame end with payload missing -> 1011", ws_msg_on_frame_end(&st, &ev) == 1011, "no");
    ws_msg_init(&st);
    ws_msg_on_frame(&st, &f);
    CASE("api new frame before frame end -> 1011", ws_msg_on_frame(&st, &f) == 1011, "no");

    // Payload in chunks of any size, including empty ones.
    ws_msg_init(&st);
    int r = ws_msg_on_frame(&st, &f);
    r |= ws_msg_on_payload(&st, NULL, 0);
    r |= ws_msg_on_payload(&st, (const uint8_t *)"a", 1);
    r |= ws_msg_on_payload(&st, (const uint8_t *)"bc", 2);
    r |= ws_msg_on_payload(&st, NULL, 0);
    r |= ws_msg_on_frame_end(&st, &ev);
    CASE("api payload in chunks including empty ones", r == 0 && ev.kind == WS_EV_MESSAGE && ev.msg_len == 3,
         "r=%d", r);
    // Control payload kept by the machine across chunks.
    struct ws_frame p = {.fin = true, .opcode = WS_OP_PING, .masked = true, .payload_len = 6};
    r = ws_msg_on_frame(&st, &p);
    r |= ws_msg_on_payload(&st, (const uint8_t *)"pi", 2);
    r |= ws_msg_on_payload(&st, (const uint8_t *)"ng!!", 4);
    r |= ws_msg_on_frame_end(&st, &ev);
    CASE("api ping payload gathered across chunks",
         r == 0 && ev.kind == WS_EV_PING && ev.len == 6 && memcmp(ev.data, "ping!!", 6) == 0, "r=%d", r);

    // Hand-built headers the parser would never produce are still refused.
    static const struct {
        const char *name;
        struct ws_frame f;
    } badf[] = {
        {"api control header with FIN=0 -> 1002", {.fin = false, .opcode = WS_OP_PING, .masked = true}},
        {"api control header with 126 bytes -> 1002",
         {.fin = true, .opcode = WS_OP_PONG, .masked = true, .payload_len = 126}},
        {"api reserved data opcode -> 1002", {.fin = true, .opcode = 3, .masked = true}},
        {"api reserved control opcode -> 1002", {.fin = true, .opcode = 0xB, .masked = true}},
    };
    for (size_t i = 0; i < sizeof badf / sizeof badf[0]; i++) {
        ws_msg_init(&st);
        r = ws_msg_on_frame(&st, &badf[i].f);
        CASE(badf[i].name, r == 1002, "r=%d", r);
    }
}

int main(void)
{
    test_fragmentation();
    test_utf8_rules();
    test_size_limit();
    test_close();
    test_contract();
    return failures ? 1 : 0;
}
