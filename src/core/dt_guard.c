#include "dt_guard.h"
#include "dt_date.h"
#include "dt_url.h"

#include <stdlib.h>
#include <string.h>

const char *dt_header_value_why(const char *s, size_t len)
{
    size_t i;
    if (s == NULL || len == 0)
        return "is empty";
    if (len > DT_MAX_HEADER_VALUE)
        return "is longer than 8000 bytes (it could not be sent as it is)";
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0)
            return "holds a NUL byte (it could not be sent as it is)";
        if (c < 0x20 || c == 0x7f)
            return "holds a control character (a line break, a tab, DEL...)";
    }
    return NULL;
}

const char *dt_id_why(const char *s, size_t len)
{
    if (s == NULL || len == 0)
        return "is empty";
    if (memchr(s, '\0', len) != NULL)
        return "holds a NUL byte";
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return "is a dot segment (\".\" or \"..\"), which names another resource";
    return NULL;
}

char *dt_redact(const char *s, const char *const *secrets, size_t n)
{
    char *out = dt_url_redact(s), *p;
    size_t i;
    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        const char *sec = secrets[i];
        size_t sl;
        if (sec == NULL || (sl = strlen(sec)) < DT_MIN_SECRET)
            continue;
        p = out;
        while ((p = strstr(p, sec)) != NULL) {
            /* sl >= 8: "REDACTED" fits where the secret was */
            memcpy(p, "REDACTED", 8);
            memmove(p + 8, p + sl, strlen(p + sl) + 1);
            p += 8;
        }
    }
    return out;
}

void dt_cut(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return;
    n = max - 3;
    /* not inside a UTF-8 sequence: back over continuation bytes */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(s + n, "...", 4);
}

/* 1*DIGIT, saturating at 1e9 (more digits than any wait). */
static int digits(const char *v, double *out)
{
    double t = 0;
    const char *p = v;
    if (v == NULL || *v < '0' || *v > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++)
        if (t < 1e9)
            t = t * 10 + (*p - '0');
    if (*p != '\0')
        return -1;
    *out = t > 1e9 ? 1e9 : t;
    return 0;
}

int dt_retry_after_parse(const char *v, double now, double *out)
{
    double t;
    if (v == NULL)
        return -1;
    if (digits(v, out) == 0)
        return 0;
    if (dt_parse_http_date(v, &t) == 0) {
        t -= now;
        *out = t > 0 ? (t > 1e9 ? 1e9 : t) : 0;
        return 0;
    }
    return -1;
}

int dt_retry_after_ms_parse(const char *v, double *out)
{
    double t;
    if (digits(v, &t) != 0)
        return -1;
    *out = t / 1000.0;
    return 0;
}

double dt_retry_delay(const char *ms, const char *x_ms, const char *retry_after, double now)
{
    double t;
    if (dt_retry_after_ms_parse(ms, &t) == 0 || dt_retry_after_ms_parse(x_ms, &t) == 0 ||
        dt_retry_after_parse(retry_after, now, &t) == 0)
        return t;
    return -1;
}

void dt_head_reset(dt_head *h)
{
    dt_resp_unref(h->resp);
    h->resp = NULL;
    h->done = 0;
}

int dt_head_line(dt_head *h, const char *ptr, size_t n)
{
    size_t nl, vs, ve;
    const char *colon;
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        /* a new response (after 100-continue or a proxy CONNECT): start over */
        dt_head_reset(h);
        h->resp = dt_resp_new(0);
        return h->resp == NULL ? -1 : 0;
    }
    if (h->done)
        return 0; /* a trailer of a chunked body: not a header (no delay, no ids from it) */
    if (n == 0 || (n <= 2 && (ptr[0] == '\r' || ptr[0] == '\n'))) {
        h->done = 1; /* the blank line that ends the head */
        return 0;
    }
    colon = memchr(ptr, ':', n);
    if (colon == NULL || h->resp == NULL)
        return 0;
    nl = (size_t)(colon - ptr);
    vs = nl + 1;
    ve = n;
    while (vs < ve && (ptr[vs] == ' ' || ptr[vs] == '\t'))
        vs++;
    while (ve > vs && (ptr[ve - 1] == '\r' || ptr[ve - 1] == '\n' || ptr[ve - 1] == ' ' ||
                       ptr[ve - 1] == '\t'))
        ve--;
    if (nl == 0)
        return 0;
    return dt_resp_add(h->resp, ptr, nl, ptr + vs, ve - vs) != 0 ? -1 : 0;
}
