// test_fmt.c: stage-1 tests of number formatting, parsing, printf and the buffered writer.
#include "sys/fmt.h"
#include "sys/string.h"
#include "sys/sys.h"
#include "sys/testing.h"

static int str_is(const char *buf, size_t n, const char *want)
{
    return n == sys_strlen(want) && sys_memcmp(buf, want, n) == 0;
}

static void format_integers(void)
{
    char b[32];
    CHECK(str_is(b, sys_fmt_u64(b, 0), "0"));
    CHECK(str_is(b, sys_fmt_u64(b, 18446744073709551615ull), "18446744073709551615"));
    CHECK(str_is(b, sys_fmt_i64(b, -1), "-1"));
    CHECK(str_is(b, sys_fmt_i64(b, (int64_t)(-9223372036854775807ll - 1)), "-9223372036854775808"));
    CHECK(str_is(b, sys_fmt_hex(b, 0xdeadbeef, 1), "deadbeef"));
    CHECK(str_is(b, sys_fmt_hex(b, 0x2a, 4), "002a"));
    CHECK(str_is(b, sys_fmt_hex(b, 0, 1), "0"));
}

static void parse_integers(void)
{
    uint64_t v = 0;
    CHECK(sys_parse_u64("8080", 4, &v) == 0 && v == 8080);
    CHECK(sys_parse_u64("18446744073709551615", 20, &v) == 0 && v == UINT64_MAX);
    CHECK(sys_parse_u64("18446744073709551616", 20, &v) == -1);
    CHECK(sys_parse_u64("", 0, &v) == -1);
    CHECK(sys_parse_u64("12a", 3, &v) == -1);
    CHECK(sys_parse_u64("-1", 2, &v) == -1);
    CHECK(sys_parse_u64(" 1", 2, &v) == -1);
}

static void printf_directives(void)
{
    char b[128];
    size_t n = sys_snprintf(b, sizeof b, "%d|%u|%x|%ld|%lu|%zu|%s|%c|%%|%05d|%.*s", -42, 7u, 255u,
                            -5000000000l, 5000000000ul, (size_t)3, "str", 'Z', 42, 2, "abc");
    CHECK(str_is(b, n, "-42|7|ff|-5000000000|5000000000|3|str|Z|%|00042|ab"));
    n = sys_snprintf(b, sizeof b, "%05d %4s %p", -7, "ab", (void *)0x10);
    CHECK(str_is(b, n, "-0007   ab 0x10"));
    n = sys_snprintf(b, 6, "%s", "truncated");
    CHECK(str_is(b, n, "trunc"));
    CHECK(b[5] == '\0');
}

static void writer_flushes_to_fd(void)
{
    int fds[2];
    CHECK_EQ(sys_pipe2(fds, O_CLOEXEC), 0);
    char small[8];
    struct sys_writer w;
    sys_writer_init(&w, fds[1], small, sizeof small); // smaller than the output: forces flushes
    sys_w_str(&w, "count=");
    sys_w_u64(&w, 1234567);
    sys_w_char(&w, ' ');
    sys_w_i64(&w, -9);
    sys_w_str(&w, " hex=");
    sys_w_hex(&w, 0xabc);
    CHECK_EQ(sys_w_flush(&w), 0);
    char out[64];
    ssize_t r = sys_read(fds[0], out, sizeof out);
    CHECK(r > 0 && str_is(out, (size_t)r, "count=1234567 -9 hex=abc"));
    sys_close(fds[0]);
    sys_close(fds[1]);
}

static void writer_reports_errors(void)
{
    char buf[4];
    struct sys_writer w;
    sys_writer_init(&w, 9999, buf, sizeof buf);
    sys_w_str(&w, "0123456789");
    CHECK_EQ(sys_w_flush(&w), -EBADF);
}

static void string_helpers(void)
{
    CHECK(sys_streq("abc", "abc"));
    CHECK(!sys_streq("abc", "abd"));
    CHECK(!sys_streq("ab", "abc"));
    CHECK(sys_starts_with("--help", "--"));
    CHECK(!sys_starts_with("-", "--"));
    CHECK(sys_memeq_nocase("WebSocket", "websocket", 9));
    CHECK(!sys_memeq_nocase("Upgrade", "Upgradf", 7));
    char buf[16] = "abcdefghij";
    sys_memmove(buf + 2, buf, 8); // overlapping, forward direction
    CHECK(sys_memcmp(buf, "ababcdefgh", 10) == 0);
    sys_memmove(buf, buf + 2, 8); // overlapping, backward direction
    CHECK(sys_memcmp(buf, "abcdefghgh", 10) == 0);
    CHECK(sys_streq(sys_errno_name(-EAGAIN), "EAGAIN"));
    CHECK(sys_streq(sys_errno_name(12345), "E?"));
}

int main(void)
{
    RUN(format_integers);
    RUN(parse_integers);
    RUN(printf_directives);
    RUN(writer_flushes_to_fd);
    RUN(writer_reports_errors);
    RUN(string_helpers);
    return test_summary();
}
