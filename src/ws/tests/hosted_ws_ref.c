// hosted_ws_ref.c: hosted tests: SHA-1 and base64 against an independent implementation, random inputs.
// The reference is OpenSSL's libcrypto (link with -lcrypto) when its headers are
// installed, else python3's hashlib/base64 fed through a temporary file.
#include "ws/ws_base64.h"
#include "ws/ws_sha1.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __has_include(<openssl/evp.h>) && !defined(WS_REF_PYTHON)
#define REF_OPENSSL 1
#include <openssl/evp.h>
#endif

#include "ws_test_case.h"

#define NINPUTS 400
#define MAXLEN  3000

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void) // xorshift64*: deterministic, so failures reproduce
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

struct input {
    size_t len;
    uint8_t data[MAXLEN];
};

static struct input inputs[NINPUTS];
static uint8_t ref_sha[NINPUTS][20];
static char *ref_b64[NINPUTS];

static void make_inputs(void)
{
    for (int i = 0; i < NINPUTS; i++) {
        // Every length 0..199 once, then random lengths up to MAXLEN.
        size_t len = i < 200 ? (size_t)i : next_rand() % MAXLEN;
        inputs[i].len = len;
        for (size_t j = 0; j < len; j++)
            inputs[i].data[j] = (uint8_t)next_rand();
    }
}

#ifdef REF_OPENSSL
static const char *ref_name = "openssl";

static bool compute_reference(void)
{
    for (int i = 0; i < NINPUTS; i++) {
        unsigned mdlen = 0;
        if (!EVP_Digest(inputs[i].data, inputs[i].len, ref_sha[i], &mdlen, EVP_sha1(), NULL) || mdlen != 20)
            return false;
        ref_b64[i] = malloc(WS_BASE64_ENC_LEN(inputs[i].len) + 1);
        EVP_EncodeBlock((unsigned char *)ref_b64[i], inputs[i].data, (int)inputs[i].len);
    }
    return true;
}
#else
static const char *ref_name = "python3";

static bool compute_reference(void)
{
    char path[] = "/tmp/ws-ref-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return false;
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < NINPUTS; i++) {
        for (size_t j = 0; j < inputs[i].len; j++)
            fprintf(f, "%02x", inputs[i].data[j]);
        fputc('\n', f);
    }
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import sys,hashlib,base64\n"
             "for l in open(sys.argv[1]):\n"
             " b=bytes.fromhex(l.strip())\n"
             " print(hashlib.sha1(b).hexdigest(), base64.b64encode(b).decode() or \"-\")' %s",
             path);
    FILE *p = popen(cmd, "r");
    bool ok = p != NULL;
    static char line[2 * MAXLEN + 64];
    for (int i = 0; ok && i < NINPUTS; i++) {
        char hx[41];
        if (!fgets(line, sizeof line, p) || sscanf(line, "%40s", hx) != 1) {
            ok = false;
            break;
        }
        for (int j = 0; j < 20; j++) {
            unsigned v;
            sscanf(hx + 2 * j, "%2x", &v);
            ref_sha[i][j] = (uint8_t)v;
        }
        char *b = line + 41;
        b[strcspn(b, "\n")] = 0;
        if (strcmp(b, "-") == 0)
            b[0] = 0;
        ref_b64[i] = strdup(b);
    }
    if (p != NULL && pclose(p) != 0)
        ok = false;
    remove(path);
    return ok;
}
#endif

int main(void)
{
    char name[96];
    make_inputs();
    bool have = compute_reference();
    snprintf(name, sizeof name, "reference %s available", ref_name);
    CASE(name, have, "could not compute reference digests");
    if (!have)
        return 1;

    int sha_bad = 0, inc_bad = 0, enc_bad = 0, dec_bad = 0;
    static char enc[WS_BASE64_ENC_LEN(MAXLEN) + 1];
    static uint8_t dec[MAXLEN];
    for (int i = 0; i < NINPUTS; i++) {
        const uint8_t *d = inputs[i].data;
        size_t n = inputs[i].len;
        uint8_t got[20];

        ws_sha1(d, n, got);
        sha_bad += memcmp(got, ref_sha[i], 20) != 0;

        // Incremental, in random-sized pieces.
        struct ws_sha1 s;
        ws_sha1_init(&s);
        for (size_t off = 0; off < n;) {
            size_t k = next_rand() % 150;
            if (k > n - off)
                k = n - off;
            ws_sha1_update(&s, d + off, k);
            off += k;
        }
        ws_sha1_final(&s, got);
        inc_bad += memcmp(got, ref_sha[i], 20) != 0;

        size_t en = ws_base64_encode(d, n, enc);
        enc_bad += en != strlen(ref_b64[i]) || memcmp(enc, ref_b64[i], en) != 0;
        ptrdiff_t dn = ws_base64_decode(ref_b64[i], strlen(ref_b64[i]), dec, sizeof dec);
        dec_bad += dn != (ptrdiff_t)n || memcmp(dec, d, n) != 0;
        free(ref_b64[i]);
    }
    snprintf(name, sizeof name, "sha1 one-shot matches %s on %d inputs", ref_name, NINPUTS);
    CASE(name, sha_bad == 0, "%d mismatches", sha_bad);
    snprintf(name, sizeof name, "sha1 random chunks match %s on %d inputs", ref_name, NINPUTS);
    CASE(name, inc_bad == 0, "%d mismatches", inc_bad);
    snprintf(name, sizeof name, "base64 encode matches %s on %d inputs", ref_name, NINPUTS);
    CASE(name, enc_bad == 0, "%d mismatches", enc_bad);
    snprintf(name, sizeof name, "base64 decodes %s output on %d inputs", ref_name, NINPUTS);
    CASE(name, dec_bad == 0, "%d mismatches", dec_bad);
    return failures ? 1 : 0;
}
