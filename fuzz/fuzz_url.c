/* libFuzzer harness: next-link resolution, the same-origin check, endpoint
 * normalisation, SAS redaction, route building and continuation tokens.
 *
 * An input is byte 0 (selects the api-version and which fields are used) and
 * up to four fields separated by '\n':
 *
 *   endpoint \n current request URL \n next link \n token or job id
 *
 * Properties checked besides "no sanitizer report":
 *  - an endpoint that normalises has the same origin, and is accepted again;
 *  - a next link that is not absolute (no scheme, not "//host") resolves to
 *    the endpoint's origin, or to nothing: a relative link never leaves home;
 *  - a route built with any job or document id stays on the endpoint's origin
 *    (ids are escaped, not spliced);
 *  - redaction keeps a URL with no "sig=" as it is and never leaves the value
 *    of a sig parameter that follows '?' or '&';
 *  - a continuation token that parses rebuilds, through an operation, into a
 *    token that parses to the same query.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_cont.h"
#include "dt_op.h"
#include "dt_cont.h"
#include "dt_url.h"
#include "fuzz_common.h"

#define DEFAULT_EP "https://fuzz.cognitiveservices.azure.com"
#define JOB_ID "8a2e4e60-0000-4a5e-9e3f-000000000001"

static const char *const versions[] = {"2024-05-01", "v1.1", "v1.0", "2024-11-01-preview",
                                       "v1.0-preview.1", "2026-03-01", "", "v9"};

static int str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static int starts_ci(const char *s, const char *p)
{
    for (; *p; s++, p++)
        if ((*s | 0x20) != *p)
            return 0;
    return 1;
}

static void check_on_origin(const char *url, const dt_origin *home, const char *what)
{
    dt_origin o;
    if (url == NULL)
        return; /* out of memory only */
    FUZZ_CHECK(dt_url_origin(url, &o) == 0 && dt_origin_equal(&o, home),
               "%s left the endpoint's origin: %s", what, url);
}

static void check_redact(const char *url)
{
    char *red = dt_url_redact(url);
    const char *p;
    if (red == NULL)
        return;
    if (strstr(url, "sig=") == NULL)
        FUZZ_CHECK(strcmp(red, url) == 0, "redaction changed a URL with no sig=: %s -> %s", url,
                   red);
    /* every sig= after ? or & is followed by REDACTED */
    for (p = red; (p = strstr(p, "sig=")) != NULL; p += 4) {
        if (p != red && (p[-1] == '?' || p[-1] == '&'))
            FUZZ_CHECK(strncmp(p + 4, "REDACTED", 8) == 0, "a signature survived: %s -> %s",
                       url, red);
    }
    free(red);
}

static void check_continuation(dt_conf *conf, const char *token, const char *job_id)
{
    dt_list_query q, q2;
    char *storage = NULL, *storage2 = NULL, *tok2, *url;
    const char *why = NULL;
    dt_op *op;
    dt_origin home;
    int rc = dt_op_parse_continuation(token, job_id, &q, &storage, &why);
    if (rc != 0) {
        FUZZ_CHECK(why != NULL, "a rejected token with no reason");
        free(storage);
        return;
    }
    dt_url_origin(conf->endpoint, &home);
    url = job_id ? dt_url_documents(conf->endpoint, conf->api_version, job_id, &q)
                 : dt_url_jobs(conf->endpoint, conf->api_version, &q);
    check_on_origin(url, &home, "a listing URL from a token");
    if (url != NULL)
        check_redact(url);
    free(url);
    op = job_id ? dt_op_new_documents(conf, job_id, &q) : dt_op_new_jobs(conf, &q);
    if (op != NULL) {
        check_on_origin(op->url, &home, "a listing request from a token");
        tok2 = dt_op_continuation(op);
        if (tok2 != NULL) {
            FUZZ_CHECK(dt_op_parse_continuation(tok2, job_id, &q2, &storage2, &why) == 0,
                       "a rebuilt token does not parse: %s (%s)", tok2, why);
            FUZZ_CHECK(q2.skip == q.skip && q2.top == q.top &&
                           (q2.page_size == q.page_size || (q.page_size < 1 && q2.page_size < 1)) &&
                           str_eq(q2.statuses, q.statuses) && str_eq(q2.ids, q.ids) &&
                           str_eq(q2.created_after, q.created_after) &&
                           str_eq(q2.created_before, q.created_before) &&
                           str_eq(q2.order_by, q.order_by),
                       "a token does not round-trip: %s -> %s", token, tok2);
            free(storage2);
            free(tok2);
        }
        dt_op_free(op);
    }
    free(storage);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char key_str[] = "FUZZSECRETKEY";
    char *buf, *p, *ep, *ep2, *next, *id, *u;
    const char *f[4] = {NULL, NULL, NULL, NULL};
    char verbuf[32];
    const char *why = NULL;
    const char *ver;
    dt_origin home, o;
    dt_conf conf;
    uint8_t sel;
    int i;
    long long v;

    if (size < 1)
        return 0;
    sel = data[0];
    ver = versions[sel & 7];
    buf = fuzz_strndup((const char *)data + 1, size - 1);
    p = buf;
    for (i = 0; i < 4 && p != NULL; i++) {
        char *nl = strchr(p, '\n');
        f[i] = p;
        if (nl != NULL && i < 3)
            *nl = '\0';
        p = nl && i < 3 ? nl + 1 : NULL;
    }
    for (i = 0; i < 4; i++)
        if (f[i] == NULL)
            f[i] = "";

    /* endpoint: normalised, with an origin, idempotent */
    ep = dt_url_normalize_endpoint(f[0], &why);
    /* K1 (fixed): a host named "translator" was taken for the /translator
     * suffix, "http://translator" -> "http:" */
    if (ep != NULL)
        FUZZ_CHECK(dt_url_origin(ep, &home) == 0, "a normalised endpoint has no origin: %s -> %s",
                   f[0], ep);
    if (ep != NULL) {
        ep2 = dt_url_normalize_endpoint(ep, &why);
        /* not idempotent by design on ".../translator/translator": one
         * suffix is stripped per call; what must hold is that the result is
         * accepted again, on the same origin */
        FUZZ_CHECK(ep2 != NULL, "a normalised endpoint is rejected: %s -> %s", f[0], ep);
        FUZZ_CHECK(dt_url_origin(ep2, &o) == 0, "normalising twice lost the origin: %s -> %s", ep, ep2);
        FUZZ_CHECK(dt_origin_equal(&o, &home), "normalising twice moved the origin: %s", ep);
        dt_url_origin(f[0], &o);
        FUZZ_CHECK(dt_origin_equal(&o, &home), "normalising moved the origin: %s -> %s", f[0], ep);
        free(ep2);
    } else {
        FUZZ_CHECK(why != NULL, "an endpoint rejected with no reason");
        ep = fuzz_strndup(DEFAULT_EP, strlen(DEFAULT_EP));
        dt_url_origin(ep, &home);
    }
    (void)dt_api_family(f[3]);

    /* the current request: the raw field when it is on the endpoint, else a
     * listing URL of the endpoint */
    {
        char *cur;
        if ((sel & 8) && strncmp(f[1], ep, strlen(ep)) == 0)
            cur = fuzz_strndup(f[1], strlen(f[1]));
        else
            cur = dt_url_documents(ep, ver, JOB_ID, &(dt_list_query){NULL, NULL, NULL, NULL, NULL, -1, 0, -1});
        if (cur == NULL)
            abort();
        next = dt_url_resolve_next(ep, cur, f[2], ver);
        if (next != NULL) {
            int ok = dt_url_origin(next, &o) == 0;
            int relative = !starts_ci(f[2], "http://") && !starts_ci(f[2], "https://") &&
                           !(f[2][0] == '/' && f[2][1] == '/');
            if (relative && ok && dt_url_origin(cur, &o) == 0 && dt_origin_equal(&o, &home)) {
                dt_url_origin(next, &o);
                FUZZ_CHECK(dt_origin_equal(&o, &home),
                           "a relative next link left the endpoint's origin: %s + %s -> %s", ep,
                           f[2], next);
            }
            if (ok)
                (void)dt_origin_equal(&o, &home);
            (void)dt_url_query_int(next, "skip", "$skip", &v);
            (void)dt_url_query_int(next, "top", "$top", &v);
            check_redact(next);
            free(next);
        }
        free(cur);
    }

    /* raw strings through redaction, the query reader and Operation-Location */
    check_redact(f[1]);
    check_redact(f[2]);
    (void)dt_url_query_int(f[2], "skip", "$skip", &v);
    (void)dt_url_query_int(f[2], NULL, "maxpagesize", &v);
    id = dt_url_operation_id(f[2]);
    if (id != NULL) {
        FUZZ_CHECK(id[0] != '\0' && strpbrk(id, "/?#") == NULL, "a job id with a separator: %s",
                   id);
        free(id);
    }

    /* routes with any id stay home */
    u = dt_url_job(ep, ver, f[3]);
    check_on_origin(u, &home, "a job URL");
    free(u);
    u = dt_url_document(ep, ver, f[3], f[1]);
    check_on_origin(u, &home, "a document URL");
    free(u);
    u = dt_url_formats(ep, ver, (sel & 16) ? "glossary" : "document");
    check_on_origin(u, &home, "a formats URL");
    free(u);
    u = dt_url_start(ep, ver);
    check_on_origin(u, &home, "a start URL");
    free(u);

    /* continuation tokens, of a job's documents and of the job list */
    memset(&conf, 0, sizeof conf);
    conf.endpoint = ep;
    conf.origin = home;
    snprintf(verbuf, sizeof verbuf, "%s", ver);
    conf.api_version = verbuf;
    conf.key = key_str;
    conf.retries = 3;
    conf.retry_base = 0.8;
    conf.retry_max = 60;
    conf.rng = 0x9e3779b97f4a7c15ULL;
    check_continuation(&conf, f[3], (sel & 32) ? NULL : JOB_ID);
    if (strncmp(f[3], "dt1:job=", 8) == 0 && (sel & 64)) {
        /* the job named in the token, whatever it is */
        const char *j = f[3] + 8;
        size_t n = strcspn(j, "&");
        char *job = fuzz_strndup(j, n);
        if (strchr(job, '%') == NULL && job[0] != '\0')
            check_continuation(&conf, f[3], job);
        free(job);
    }

    free(ep);
    free(buf);
    return 0;
}
