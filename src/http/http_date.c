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
// Two buffers: the writer fills the one readers are not told about, then
// publishes it. A formatting race between two writers is avoided by a
// try-lock; the loser just uses the published value.
static char dates[2][HTTP_DATE_LEN];
static uint32_t published; // index of the buffer readers use
static uint64_t valid_until_ns;
static uint32_t formatting;

void http_date_now(char out[HTTP_DATE_LEN])
{
    uint64_t now = ex_now_ns();
    if (now >= atomic_load_acquire(&valid_until_ns) && !atomic_exchange(&formatting, 1)) {
        struct timespec ts;
        sys_clock_gettime(CLOCK_REALTIME, &ts);
        uint32_t next = atomic_load_relaxed(&published) ^ 1;
        http_date_format(ts.tv_sec, dates[next]);
        atomic_store_release(&published, next);
        // Valid until the next wall-clock second begins.
        atomic_store_release(&valid_until_ns, now + (NS_PER_SEC - (uint64_t)ts.tv_nsec));
        atomic_store_seq(&formatting, 0);
    }
    sys_memcpy(out, dates[atomic_load_acquire(&published)], HTTP_DATE_LEN);
}
// [end: http-date-cache]
