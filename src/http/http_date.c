// http_date.c: IMF-fixdate formatting from unix time, and a once-per-second cache of "now".
#include "http/http_date.h"
#include "exec/exec.h"
#include "sys/atomic.h"
#include "sys/clock.h"
#include "sys/string.h"
#include "sys/sys.h"

// Days since 1970-01-01 -> civil date (Howard Hinnant's days_from_civil, inverted).
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void two(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void http_date_format(int64_t t, char out[HTTP_DATE_LEN])
{
    static const char wdays[] = "ThuFriSatSunMonTueWed"; // 1970-01-01 was a Thursday
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    int64_t wd = days % 7;
    if (wd < 0)
        wd += 7;
    sys_memcpy(out, wdays + 3 * wd, 3);
    out[3] = ',', out[4] = ' ';
    two(out + 5, d);
    out[7] = ' ';
    sys_memcpy(out + 8, months + 3 * (m - 1), 3);
    out[11] = ' ';
    two(out + 12, y / 100), two(out + 14, y % 100);
    out[16] = ' ';
    two(out + 17, (int)(secs / 3600)), out[19] = ':';
    two(out + 20, (int)(secs / 60 % 60)), out[22] = ':';
    two(out + 23, (int)(secs % 60));
    sys_memcpy(out + 25, " GMT", 4);
}

// [snippet: http-date-cache]
// One shared copy, rewritten once a second by whichever thread first sees it
// expire, read by every response. A seqlock: the writer makes `seq` odd,
// rewrites the words, makes it even again; a reader copies the words between
// two reads of `seq` and keeps the copy only if both are the same even value.
// The date is kept as words read with atomic loads, so a reader racing the
// writer reads a torn copy, notices, and never uses it (with plain memcpy the
// race itself would be undefined behaviour).
//
// A reader never waits: when the copy is torn, or nothing has been published
// yet (the first requests after start-up, on several workers at once), it
// formats the date itself from the wall clock. Either way every Date header
// is a whole IMF-fixdate.
#define DATE_WORDS ((HTTP_DATE_LEN + 7) / 8)
static uint64_t date_words[DATE_WORDS];
static uint32_t seq;            // even: date_words is whole; 0: never written
static uint64_t valid_until_ns; // ex_now_ns() at which the published second ends
static uint32_t formatting;     // try-lock: one writer at a time
void (*http_date_write_hook)(void);

static uint64_t format_now(char out[HTTP_DATE_LEN])
{
    struct timespec ts;
    sys_clock_read(CLOCK_REALTIME, &ts);
    http_date_format(ts.tv_sec, out);
    return NS_PER_SEC - (uint64_t)ts.tv_nsec; // until the next wall-clock second
}

static void publish(uint64_t now)
{
    union {
        char text[DATE_WORDS * 8];
        uint64_t words[DATE_WORDS];
    } d = {{0}};
    uint64_t left = format_now(d.text);
    uint32_t s = atomic_load_relaxed(&seq);
    atomic_store_relaxed(&seq, s + 1);
    atomic_fence_release(); // the odd seq is visible before any new word
    for (int i = 0; i < DATE_WORDS; i++) {
        atomic_store_relaxed(&date_words[i], d.words[i]);
        if (i == DATE_WORDS / 2 && http_date_write_hook)
            http_date_write_hook(); // a test stalls the writer mid-copy here
    }
    atomic_store_release(&seq, s + 2);
    atomic_store_release(&valid_until_ns, now + left);
}

void http_date_now(char out[HTTP_DATE_LEN])
{
    uint64_t now = ex_now_ns();
    if (now >= atomic_load_acquire(&valid_until_ns) && !atomic_exchange(&formatting, 1)) {
        publish(now);
        atomic_store_release(&formatting, 0);
    }
    uint64_t words[DATE_WORDS];
    uint32_t s0 = atomic_load_acquire(&seq);
    for (int i = 0; i < DATE_WORDS; i++)
        words[i] = atomic_load_relaxed(&date_words[i]);
    atomic_fence_acquire(); // the words are read before seq is read again
    if (s0 == 0 || (s0 & 1) || atomic_load_relaxed(&seq) != s0) {
        format_now(out); // nothing whole to copy: make our own
        return;
    }
    __builtin_memcpy(out, words, HTTP_DATE_LEN); // a constant length: a few moves
}
// [end: http-date-cache]
