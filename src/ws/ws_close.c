// ws_close.c: close frame payload rules: which status codes a peer may send, and a UTF-8 reason.
#include "ws/ws_close.h"
#include "ws/ws_utf8.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// [snippet: ws-close-code-check]
bool ws_close_code_valid(unsigned code)
{
    if (code >= 1000 && code <= 1003)
        return true; // normal, going away, protocol, unsupported data
    if (code >= 1007 && code <= 1011)
        return true; // bad data, policy, too big, extension, internal
    if (code >= 1012 && code <= 1014)
        return true; // added to the IANA registry after RFC 6455:
                     // service restart, try again later, bad gateway
    // 1004 is reserved; 1005, 1006 and 1015 only describe a closure locally
    // and must never travel in a frame; 1016-2999 are unassigned.
    return code >= 3000 && code <= 4999; // registered (3xxx) and private (4xxx) use
}

int ws_close_payload_check(const uint8_t *p, size_t n, uint16_t *code_out)
{
    if (n == 0) { // a bare Close: no code, no reason
        if (code_out != NULL)
            *code_out = WS_CLOSE_NO_STATUS;
        return 0;
    }
    if (n == 1) // half a status code
        return WS_CLOSE_PROTOCOL;
    unsigned code = (unsigned)p[0] << 8 | p[1];
    if (!ws_close_code_valid(code))
        return WS_CLOSE_PROTOCOL;
    if (!ws_utf8_valid(p + 2, n - 2))
        return WS_CLOSE_BAD_DATA;
    if (code_out != NULL)
        *code_out = (uint16_t)code;
    return 0;
}
// [end: ws-close-code-check]
