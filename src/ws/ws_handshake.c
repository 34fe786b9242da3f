// ws_handshake.c: the RFC 6455 opening handshake, checked on a parsed HTTP request: 101, 400 or 426.
#include "ws/ws_handshake.h"
#include "config.h"
#include "http/http_parse.h"
#include "http/http_response.h"
#include "sys/fmt.h"
#include "sys/string.h"
#include "ws/ws_accept.h"
#include "ws/ws_proto.h"

// A reply is never cut short: a broken head would confuse the client. When
// a reply does not fit in out[0..cap), a bare 500 (shorter than any reply
// below) goes out instead if it fits, else nothing: the HTTP layer then
// just closes the connection.
static int bare_500(char *out, size_t cap, size_t *len)
{
    static const char bare[] =
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    *len = 0;
    if (sizeof bare - 1 <= cap) {
        sys_memcpy(out, bare, sizeof bare - 1);
        *len = sizeof bare - 1;
    }
    return 500;
}

// The HTTP layer's writer makes the error replies: the same status line
// and fields as every other answer of the server.
static int error_reply(char *out, size_t cap, size_t *len, int status, const char *extra, const char *body)
{
    *len = http_error_reply(out, cap, status, extra, body);
    return *len ? status : bare_500(out, cap, len);
}

// [snippet: ws-handshake]
int ws_handshake(const struct http_request *req, char *out, size_t cap, size_t *len)
{
    // RFC 6455 4.2.1: a GET, HTTP/1.1 or later, "Upgrade: websocket", a
    // Connection header with the "upgrade" token, a Sec-WebSocket-Key that
    // is base64 of 16 bytes, and version 13.
    bool get = req->method_len == 3 && sys_memcmp(req->method, "GET", 3) == 0;
    bool upgrade = req->upgrade && http_list_has_token(req->upgrade, req->upgrade_len, "websocket", 9);
    if (!upgrade || !req->connection_upgrade) {
        // A plain request to the WebSocket endpoint: say what it needs (RFC 9110 15.5.22).
        return error_reply(out, cap, len, 426, "\r\nUpgrade: websocket\r\nConnection: Upgrade",
                           "426 this endpoint speaks WebSocket only\n");
    }
    if (!get || req->minor_version < 1) {
        return error_reply(out, cap, len, 400, NULL, "400 a WebSocket handshake is a GET over HTTP/1.1\n");
    }
    const struct http_header *version = http_find_header(req, "Sec-WebSocket-Version", 21);
    if (!version || version->value_len != 2 || sys_memcmp(version->value, "13", 2) != 0) {
        // 4.4: an unsupported version gets 426 and the versions we speak.
        return error_reply(out, cap, len, 426, "\r\nSec-WebSocket-Version: 13",
                           "426 WebSocket version 13 only\n");
    }
    const struct http_header *key = http_find_header(req, "Sec-WebSocket-Key", 17);
    size_t keys = 0;
    for (size_t i = 0; i < req->num_headers; i++)
        keys += http_name_eq(req->headers[i].name, req->headers[i].name_len, "Sec-WebSocket-Key", 17);
    if (!key || keys != 1 || !ws_key_valid(key->value, key->value_len)) {
        return error_reply(out, cap, len, 400, NULL, "400 missing or invalid Sec-WebSocket-Key\n");
    }
    char accept[WS_ACCEPT_LEN];
    ws_accept_key(key->value, key->value_len, accept);
    // No subprotocol and no extension is offered back, so none is in use:
    // a client's permessage-deflate offer is declined by silence (4.2.2).
    struct sys_writer w;
    sys_writer_init(&w, -1, out, cap);
    sys_w_printf(&w,
                 "HTTP/1.1 101 Switching Protocols\r\nServer: " HTTP_SERVER_NAME "\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %.*s\r\n\r\n",
                 WS_ACCEPT_LEN, accept);
    if (w.truncated)
        return bare_500(out, cap, len);
    *len = w.len;
    return 101;
}
// [end: ws-handshake]
