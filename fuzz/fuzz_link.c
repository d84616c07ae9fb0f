/* libFuzzer harness: next links and response heads, against libcurl's own
 * URL parser (curl_url: no I/O), which is the parser that connects.
 *
 * An input is byte 0 (selects the api-version) and up to four fields
 * separated by '\n':
 *
 *   endpoint \n current request URL \n next link \n response head
 *
 * where the response head is lines separated by '|' (a status line, header
 * lines, an empty field for the blank line, then trailers).
 *
 * Properties checked besides "no sanitizer report":
 *  - dt_url_origin agrees with an origin read here straight from curl_url
 *    (scheme, host lower-cased without a trailing dot, port with the
 *    scheme's default) on every string: both accept it or both refuse it,
 *    and when they accept, the origins are the same;
 *  - a resolved next link is one libcurl accepts (the URL sent is libcurl's
 *    own form of it), holds no space, control byte or '#',
 *    carries api-version when the dated family needs it, and its origin
 *    (dt_url_origin) is the one libcurl connects to;
 *  - a link with a space or a control byte never resolves;
 *  - the head reader never keeps a line after the blank line (a trailer),
 *    and a Retry-After it accepts is 1*DIGIT or an HTTP-date, a ms form
 *    1*DIGIT: the delay is never negative, NaN or infinite.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "dt_date.h"
#include "dt_guard.h"
#include "dt_resp.h"
#include "dt_url.h"
#include "fuzz_common.h"

static const char *const versions[] = {"2024-05-01", "v1.1", "v1.0", "2024-11-01-preview",
                                       "v1.0-preview.1", "2026-03-01", "", "v9"};

/* The origin as libcurl reads url, written here from curl_url alone. */
static int curl_origin(const char *url, dt_origin *o)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pass = NULL;
    int rc = -1;
    memset(o, 0, sizeof *o);
    if (h == NULL)
        return -1;
    if (curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
        curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_NO_USER &&
        curl_url_get(h, CURLUPART_PASSWORD, &pass, 0) == CURLUE_NO_PASSWORD &&
        curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        char *end;
        long pn = strtol(port, &end, 10);
        size_t hl = strlen(host), i;
        if (*end == '\0' && pn >= 1 && pn <= 65535 && hl > 0 && hl < sizeof o->host) {
            snprintf(o->scheme, sizeof o->scheme, "%s", scheme);
            for (i = 0; i < hl; i++)
                o->host[i] = (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
            if (hl > 1 && o->host[hl - 1] == '.')
                o->host[hl - 1] = '\0';
            o->port = (int)pn;
            rc = 0;
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(h);
    return rc;
}

static void check_origin_agrees(const char *s)
{
    dt_origin a, b;
    int ra = dt_url_origin(s, &a), rb = curl_origin(s, &b);
    FUZZ_CHECK(ra == rb, "dt_url_origin %d, curl_url %d: %s", ra, rb, s);
    if (ra == 0)
        FUZZ_CHECK(dt_origin_equal(&a, &b), "origins differ: %s://%s:%d vs %s://%s:%d for %s",
                   a.scheme, a.host, a.port, b.scheme, b.host, b.port, s);
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static void check_next(const char *ep, const char *cur, const char *link, const char *ver)
{
    char *next = dt_url_resolve_next(ep, cur, link, ver);
    dt_origin o, c;
    if (next == NULL)
        return;
    FUZZ_CHECK(!has_ctl(link), "a link with a space or a control byte resolved: %s", next);
    FUZZ_CHECK(!has_ctl(next) && strchr(next, '#') == NULL, "unsendable or fragment: %s", next);
    {
        CURLU *h = curl_url();
        char *back = NULL, *q = NULL;
        if (h != NULL && curl_url_set(h, CURLUPART_URL, next, 0) == CURLUE_OK &&
            curl_url_get(h, CURLUPART_URL, &back, 0) == CURLUE_OK) {
            /* (not always the same string: libcurl 7.88 writes "https://9.0/" and reads it as
             * 9.0.0.0; the origin below is compared on what it reads) */
            if (dt_api_family(ver) == DT_FAMILY_DATED) {
                FUZZ_CHECK(curl_url_get(h, CURLUPART_QUERY, &q, 0) == CURLUE_OK &&
                               strstr(q, "api-version=") != NULL,
                           "no api-version in the query of %s", next);
            }
        } else if (h != NULL) {
            FUZZ_CHECK(0, "libcurl refuses the resolved link %s", next);
        }
        curl_free(back);
        curl_free(q);
        curl_url_cleanup(h);
    }
    /* the origin checked (or refused: the client then follows nothing) is the one libcurl connects to */
    if (dt_url_origin(next, &o) == 0)
        FUZZ_CHECK(curl_origin(next, &c) == 0 && dt_origin_equal(&o, &c),
                   "the origin of %s is not the one libcurl connects to", next);
    else
        FUZZ_CHECK(curl_origin(next, &c) != 0, "libcurl reads an origin in %s, the client none", next);
    free(next);
}

static int all_digits(const char *v)
{
    if (v == NULL || *v == '\0')
        return 0;
    for (; *v; v++)
        if (*v < '0' || *v > '9')
            return 0;
    return 1;
}

static void check_head(char *head)
{
    dt_head h;
    char *line = head, *bar;
    size_t before = 0;
    int blank = 0;
    double d, t;
    memset(&h, 0, sizeof h);
    for (;;) {
        bar = strchr(line, '|');
        if (bar != NULL)
            *bar = '\0';
        if (dt_head_line(&h, line, strlen(line)) != 0)
            break;
        if (strncmp(line, "HTTP/", 5) == 0) {
            blank = 0;
        } else if (*line == '\0' || strcmp(line, "\r") == 0) {
            blank = 1;
            before = h.resp ? h.resp->n : 0;
        } else if (blank && h.resp != NULL) {
            FUZZ_CHECK(h.resp->n == before, "a trailer became a header: %s", line);
        }
        if (bar == NULL)
            break;
        line = bar + 1;
    }
    if (h.resp != NULL) {
        const char *ms = dt_resp_get(h.resp, "retry-after-ms");
        const char *xms = dt_resp_get(h.resp, "x-ms-retry-after-ms");
        const char *ra = dt_resp_get(h.resp, "retry-after");
        d = dt_retry_delay(ms, xms, ra, 1.7e9);
        FUZZ_CHECK(d == -1 || (d >= 0 && isfinite(d) && d <= 1e9), "delay %g", d);
        if (d >= 0 && !all_digits(ms) && !all_digits(xms))
            FUZZ_CHECK(all_digits(ra) || dt_parse_http_date(ra, &t) == 0,
                       "a Retry-After that is not one was read: %s", ra ? ra : "(none)");
    }
    dt_head_reset(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char empty[1];
    char *buf, *f[4], *p;
    const char *ver, *why;
    char *ep;
    int i;
    if (size < 1)
        return 0;
    ver = versions[data[0] & 7];
    buf = malloc(size);
    if (buf == NULL)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    p = buf;
    for (i = 0; i < 4; i++)
        f[i] = empty;
    for (i = 0; i < 4; i++) {
        f[i] = p;
        p = i < 3 ? strchr(p, '\n') : NULL;
        if (p == NULL)
            break;
        *p++ = '\0';
    }
    check_origin_agrees(f[0]);
    check_origin_agrees(f[1]);
    check_origin_agrees(f[2]);
    ep = dt_url_normalize_endpoint(f[0][0] ? f[0] : "https://fuzz.cognitiveservices.azure.com", &why);
    if (ep != NULL) {
        const char *cur = f[1][0] ? f[1] : ep;
        check_next(ep, cur, f[2], ver);
        free(ep);
    }
    check_head(f[3]);
    free(buf);
    return 0;
}
