// http_date.h: the Date header value (RFC 9110 IMF-fixdate), reformatted at most once per second.
#ifndef HTTP_DATE_H
#define HTTP_DATE_H

#include <stdint.h>

#define HTTP_DATE_LEN 29 // "Sun, 06 Nov 1994 08:49:37 GMT"

// Formats unix time t (seconds, UTC) into out[HTTP_DATE_LEN].
void http_date_format(int64_t t, char out[HTTP_DATE_LEN]);
// Copies the current date into out; reads the wall clock at most once a second.
void http_date_now(char out[HTTP_DATE_LEN]);
// Test seam: called by the thread rewriting the shared date, half-way
// through. A test stalls it there to prove readers never copy a torn value.
extern void (*http_date_write_hook)(void);

#endif
