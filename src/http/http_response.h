// http_response.h: the response writer: status line, Server/Date/Content-Length/Connection, error replies.
#ifndef HTTP_RESPONSE_H
#define HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http/http_date.h"
#include "http/http_parse.h"

// The Content-Types this server sends.
#define HTTP_CTYPE_TEXT    "text/plain; charset=utf-8"
#define HTTP_CTYPE_PLAIN   "text/plain"
#define HTTP_CTYPE_HTML    "text/html; charset=utf-8"
#define HTTP_CTYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define HTTP_CTYPE_MAX     (sizeof HTTP_CTYPE_METRICS - 1) // the longest of them
// Extra header fields (each starts with CRLF) a head may carry: Allow, Upgrade, ...
#define HTTP_EXTRA_MAX     96

// The longest head http_head_write can write, each piece at its longest: a
// 3-digit status, the longest reason phrase, the longest Content-Type, a
// 20-digit Content-Length, the longer Connection field, the extra fields.
#define HTTP_HEAD_MAX                                                                                       \
    (sizeof "HTTP/1.1 999 " - 1 + HTTP_REASON_MAX + sizeof "\r\nServer: " HTTP_SERVER_NAME "\r\nDate: " -   \
     1 + HTTP_DATE_LEN + sizeof "\r\nContent-Type: " - 1 + HTTP_CTYPE_MAX + sizeof "\r\nContent-Length: " - \
     1 + 20 + sizeof "\r\nConnection: keep-alive" - 1 + HTTP_EXTRA_MAX + sizeof "\r\n\r\n" - 1)

// Writes a complete response head into out, which has HTTP_HEAD_MAX bytes
// free; returns its length. ctype is at most HTTP_CTYPE_MAX bytes and extra
// (NULL: none) at most HTTP_EXTRA_MAX. Without keep_alive the head says
// "Connection: close"; with it, an HTTP/1.0 client is told "keep-alive".
size_t http_head_write(char *out, int status, const char *ctype, uint64_t content_length, bool keep_alive,
                       bool http10, const char *extra);

// A complete text reply after which the connection closes: the head and
// body (a static string). Writes it into out[0..cap) and returns its length,
// or 0 if it does not fit (nothing is written then: a reply is never cut short).
size_t http_error_reply(char *out, size_t cap, int status, const char *extra, const char *body);

#endif
