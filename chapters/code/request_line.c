// request_line.c: chapter 6's first program: parse an HTTP request-line from bytes that arrive in pieces.
//
// Not part of src/. The parser looks at a buffer and answers "a request-line
// of n bytes", "need more" (no CRLF yet) or "bad"; it keeps nothing between
// calls, so after more bytes arrive it starts again from the first byte.
// main hands it longer and longer prefixes of one request. Build and run
// from the repository root, after `make STAGE=6`, with one command line
// (split here to fit):
//
//   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector
//       -fno-pie -nostdlib -static -no-pie -iquote src -DSTAGE=6
//       chapters/code/request_line.c build/stage-6/libnostd.a -o build/request_line
//   build/request_line
#include "sys/fmt.h"

// [snippet: first-request-line]
enum { BAD = -1, NEED_MORE = 0 };

struct span {
    const char *p;
    int n;
};

// Returns the request-line's length with its CRLF, NEED_MORE when buf ends
// before the CRLF, BAD unless the line is METHOD SP TARGET SP VERSION.
static int parse_request_line(const char *buf, int len, struct span part[3])
{
    int field = 0, start = 0;
    for (int i = 0; i < len; i++) {
        if (buf[i] != ' ' && buf[i] != '\r')
            continue;
        if (field == 3 || i == start)
            return BAD; // a fourth part, or an empty one
        part[field++] = (struct span){buf + start, i - start};
        start = i + 1;
        if (buf[i] == '\r') {
            if (i + 1 == len)
                return NEED_MORE; // cut between CR and LF
            return field == 3 && buf[i + 1] == '\n' ? i + 2 : BAD;
        }
    }
    return NEED_MORE;
}

int main(void)
{
    const char req[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
    int cuts[] = {3, 16, 25, 26, sizeof req - 1}; // bytes received so far
    struct span p[3];
    for (int i = 0; i < 5; i++) {
        int r = parse_request_line(req, cuts[i], p);
        if (r == NEED_MORE)
            sys_printf("%2d bytes: need more\n", cuts[i]);
        else
            sys_printf("%2d bytes: method \"%.*s\" target \"%.*s\" version \"%.*s\", line of %d bytes\n",
                       cuts[i], p[0].n, p[0].p, p[1].n, p[1].p, p[2].n, p[2].p, r);
    }
    sys_printf("GET / without a version: %s\n",
               parse_request_line("GET /\r\n", 7, p) == BAD ? "bad" : "accepted");
    return 0;
}
// [end: first-request-line]
