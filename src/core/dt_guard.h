/* What crosses the module's edges: values that go into request headers,
 * ids that go into a path, secrets that must not leave in a string, and the
 * service's Retry-After. Pure functions: no I/O, no Lua. */
#ifndef DT_GUARD_H
#define DT_GUARD_H

#include <stddef.h>

#include "dt_resp.h"
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

/* The longest header value the client sends (a key, a token, a region, a
 * user agent): bytes. Longer values are refused, never cut. */
#define DT_MAX_HEADER_VALUE 8000

/* NULL when the len bytes of s can be sent as a header value exactly (no
 * control character: no CR, LF, NUL, tab, DEL; not empty; not longer than
 * DT_MAX_HEADER_VALUE), else why not. */
const char *dt_header_value_why(const char *s, size_t len);

/* NULL when the len bytes of s can name a job or a document (one path
 * segment: not empty, no NUL, not "." or ".."), else why not. */
const char *dt_id_why(const char *s, size_t len);

/* Secrets shorter than this are not looked for in strings (no real key or
 * token is that short, and words would be masked). */
#define DT_MIN_SECRET 8

/* A malloc'd copy of s with every SAS signature (sig=) and every occurrence
 * of a secret (the n strings of secrets; NULL entries and secrets shorter
 * than DT_MIN_SECRET skipped) replaced by "REDACTED". NULL when out of
 * memory. Cut a string after this, never before. */
char *dt_redact(const char *s, const char *const *secrets, size_t n);

/* Cuts s (NUL terminated, writable) to at most max bytes, never inside a
 * UTF-8 sequence; "..." marks a cut. max >= 4. */
void dt_cut(char *s, size_t max);

/* Retry-After as RFC 9110 defines it: 1*DIGIT seconds, or an HTTP-date
 * (now: epoch seconds, the delay is the date minus now, at least 0). 0 and
 * *out seconds, or -1 when v is anything else (ignored). Huge numbers
 * saturate at 1e9 s. */
int dt_retry_after_parse(const char *v, double now, double *out);
/* retry-after-ms / x-ms-retry-after-ms: 1*DIGIT milliseconds. 0 and *out
 * seconds, or -1. */
int dt_retry_after_ms_parse(const char *v, double *out);
/* The delay the service asked for from the three headers (any may be NULL):
 * the ms forms first, then Retry-After; seconds, or -1 when none is valid. */
double dt_retry_delay(const char *ms, const char *x_ms, const char *retry_after, double now);

/* The head of a response, one line at a time as libcurl hands it over:
 * status lines (each starts a new response: after a 1xx, a proxy CONNECT),
 * header lines, the blank line that ends the head, and the trailers of a
 * chunked body after it, which are not headers and are ignored. */
typedef struct dt_head {
    dt_resp *resp; /* the headers so far (owned), NULL before a status line */
    int done;      /* the blank line came: what follows is a trailer */
} dt_head;

/* Reads one line (n bytes, with or without its CR LF). 0, or -1 when out of
 * memory. dt_head_reset frees what was read and starts over. */
int dt_head_line(dt_head *h, const char *line, size_t n);
void dt_head_reset(dt_head *h);

DT_HIDDEN_END

#endif
