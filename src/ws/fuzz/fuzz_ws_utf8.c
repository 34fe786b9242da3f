// fuzz_ws_utf8.c: libFuzzer target: the UTF-8 validator in random chunks against one call and a model.
#include "ws/tests/ws_utf8_model.h"
#include "ws/ws_utf8.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    // The first byte seeds the chunking; the rest is the text.
    uint32_t seed = data[0] * 2654435761u + 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;

    // One call.
    ws_utf8_state st1 = WS_UTF8_ACCEPT;
    size_t bad1 = 0;
    bool ok1 = ws_utf8_feed(&st1, p, n, &bad1);
    bool done1 = ok1 && ws_utf8_done(st1);
    if (ws_utf8_valid(p, n) != done1)
        abort();
    if (!ok1 && (st1 != WS_UTF8_REJECT || bad1 >= n))
        abort();

    // Random chunks, sizes 0..16, absolute failing index compared.
    ws_utf8_state st2 = WS_UTF8_ACCEPT;
    bool ok2 = true;
    size_t bad2 = 0;
    for (size_t off = 0; off < n || off == 0;) {
        seed = seed * 1103515245u + 12345u;
        size_t k = (seed >> 16) % 17;
        if (k > n - off)
            k = n - off;
        size_t b = 0;
        if (!ws_utf8_feed(&st2, p + off, k, &b)) {
            ok2 = false;
            bad2 = off + b;
            break;
        }
        off += k;
        if (n == 0)
            break;
    }
    if (ok1 != ok2 || (!ok1 && bad1 != bad2) || (ok1 && ws_utf8_done(st2) != done1))
        abort();

    // Independent model.
    bool mdone;
    size_t mbad = model_first_bad(p, n, &mdone);
    if (mbad < n ? (ok1 || bad1 != mbad) : (!ok1 || done1 != mdone))
        abort();
    return 0;
}
