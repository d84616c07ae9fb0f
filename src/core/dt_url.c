#include "dt_url.h"
#include "dt_buf.h"
#include "dt_consts.h"

#include <curl/curl.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dt_family dt_api_family(const char *v)
{
    size_t i;
    if (v == NULL)
        return (dt_family)0;
    for (i = 0; dt_api_versions[i].name != NULL; i++)
        if (strcmp(v, dt_api_versions[i].name) == 0)
            return dt_api_versions[i].family;
    return (dt_family)0;
}

static int has_prefix_ci(const char *s, const char *p)
{
    for (; *p != '\0'; s++, p++)
        if (tolower((unsigned char)*s) != *p)
            return 0;
    return 1;
}

/* libcurl's URL parser (curl_url: no I/O) reads every URL here: the one that
 * checks an origin is the one that connects. An absolute http(s) URL with a
 * host, no userinfo and a port in 1..65535, or NULL. */
static CURLU *parse_abs(const char *url, unsigned flags)
{
    CURLU *h;
    char *scheme = NULL, *user = NULL, *pass = NULL;
    int ok;
    if (url == NULL || strlen(url) > 1000000)
        return NULL;
    h = curl_url();
    if (h == NULL)
        return NULL;
    ok = curl_url_set(h, CURLUPART_URL, url, flags) == CURLUE_OK &&
         curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
         (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
         curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_NO_USER &&
         curl_url_get(h, CURLUPART_PASSWORD, &pass, 0) == CURLUE_NO_PASSWORD;
    curl_free(scheme);
    curl_free(user);
    curl_free(pass);
    if (!ok) {
        curl_url_cleanup(h);
        return NULL;
    }
    return h;
}

static int origin_of(CURLU *h, dt_origin *o)
{
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    memset(o, 0, sizeof *o);
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        size_t hl = strlen(host), i;
        long pn = 0;
        const char *p;
        for (p = port; *p >= '0' && *p <= '9' && pn <= 65535; p++)
            pn = pn * 10 + (*p - '0');
        if (hl > 0 && hl < sizeof o->host && strlen(scheme) < sizeof o->scheme && *p == '\0' &&
            p != port && pn >= 1 && pn <= 65535) {
            strcpy(o->scheme, scheme);
            for (i = 0; i < hl; i++)
                o->host[i] = (char)tolower((unsigned char)host[i]);
            o->host[hl] = '\0';
            /* a trailing dot names the same host ("example.com." == "example.com") */
            if (hl > 1 && o->host[hl - 1] == '.')
                o->host[hl - 1] = '\0';
            o->port = (int)pn;
            rc = 0;
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    if (rc != 0)
        memset(o, 0, sizeof *o);
    return rc;
}

int dt_url_origin(const char *url, dt_origin *o)
{
    CURLU *h = parse_abs(url, 0);
    int rc;
    memset(o, 0, sizeof *o);
    if (h == NULL)
        return -1;
    rc = origin_of(h, o);
    curl_url_cleanup(h);
    return rc;
}

int dt_origin_equal(const dt_origin *a, const dt_origin *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 && a->port == b->port;
}

char *dt_url_normalize_endpoint(const char *endpoint, const char **why)
{
    dt_origin o;
    CURLU *h;
    char *canon = NULL, *q = NULL, *f = NULL, *out;
    const char *p;
    size_t n, path;
    int has_qf;
    for (p = endpoint; p != NULL && *p != '\0'; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            *why = "must not carry a query, a fragment, spaces or control characters";
            return NULL;
        }
    }
    h = parse_abs(endpoint, 0);
    if (h == NULL || origin_of(h, &o) != 0 ||
        curl_url_get(h, CURLUPART_URL, &canon, 0) != CURLUE_OK) {
        curl_url_cleanup(h);
        *why = "must be an http:// or https:// URL with a host";
        return NULL;
    }
    has_qf = curl_url_get(h, CURLUPART_QUERY, &q, 0) != CURLUE_NO_QUERY ||
             curl_url_get(h, CURLUPART_FRAGMENT, &f, 0) != CURLUE_NO_FRAGMENT ||
             strpbrk(endpoint, "?#") != NULL;
    curl_free(q);
    curl_free(f);
    curl_url_cleanup(h);
    if (has_qf) {
        curl_free(canon);
        *why = "must not carry a query, a fragment, spaces or control characters";
        return NULL;
    }
    /* libcurl's own form of it (the URL it connects to); only the path may
     * lose its slashes and "/translator": never the authority (a host may
     * itself be called "translator") */
    {
        const char *auth = strstr(canon, "://");
        const char *slash = auth ? strchr(auth + 3, '/') : NULL;
        path = slash ? (size_t)(slash - canon) : strlen(canon);
        n = strlen(canon);
        while (n > path && canon[n - 1] == '/')
            n--;
        if (n >= path + 11 && strncmp(canon + n - 11, "/translator", 11) == 0)
            n -= 11;
        while (n > path && canon[n - 1] == '/')
            n--;
    }
    out = malloc(n + 1);
    if (out == NULL) {
        curl_free(canon);
        *why = "out of memory";
        return NULL;
    }
    memcpy(out, canon, n);
    out[n] = '\0';
    curl_free(canon);
    return out;
}

static int add_base(dt_buf *b, const char *ep, const char *ver)
{
    if (dt_buf_adds(b, ep) != 0)
        return -1;
    if (dt_api_family(ver) == DT_FAMILY_V1)
        return dt_buf_adds(b, "/translator/text/batch/") || dt_buf_adds(b, ver);
    return dt_buf_adds(b, "/translator/document");
}

/* An id as one path segment: escaped, and "." or ".." written as %2E so
 * that no URL parser removes it as a dot segment. */
static int add_segment(dt_buf *b, const char *id)
{
    if (strcmp(id, ".") == 0)
        return dt_buf_adds(b, "%2E");
    if (strcmp(id, "..") == 0)
        return dt_buf_adds(b, "%2E%2E");
    return dt_buf_add_escaped(b, id);
}

static int add_batch(dt_buf *b, const char *ep, const char *ver, const char *job_id)
{
    return add_base(b, ep, ver) || dt_buf_adds(b, "/batches/") || add_segment(b, job_id);
}

/* sep: the character before the next query parameter; updated. */
static int add_param(dt_buf *b, char *sep, const char *name, const char *value, int escape)
{
    if (dt_buf_addc(b, *sep) || dt_buf_adds(b, name) || dt_buf_addc(b, '='))
        return -1;
    *sep = '&';
    return escape ? dt_buf_add_escaped(b, value) : dt_buf_adds(b, value);
}

/* A comma list: each item escaped, the commas kept; items of any length. */
static int add_list(dt_buf *b, char *sep, const char *name, const char *list)
{
    const char *p = list;
    dt_buf item;
    int failed = 0;
    if (dt_buf_addc(b, *sep) || dt_buf_adds(b, name) || dt_buf_addc(b, '='))
        return -1;
    *sep = '&';
    dt_buf_init(&item);
    while (!failed && *p != '\0') {
        size_t n = strcspn(p, ",");
        dt_buf_reset(&item);
        failed = dt_buf_add(&item, p, n) || dt_buf_addc(&item, '\0') ||
                 dt_buf_add_escaped(b, item.data);
        p += n;
        if (!failed && *p == ',') {
            failed = dt_buf_addc(b, ',');
            p++;
        }
    }
    dt_buf_free(&item);
    return failed ? -1 : 0;
}

static char *finish(dt_buf *b, const char *ver, char sep, int failed)
{
    if (!failed && dt_api_family(ver) == DT_FAMILY_DATED)
        failed = add_param(b, &sep, "api-version", ver, 1);
    if (failed) {
        dt_buf_free(b);
        return NULL;
    }
    return dt_buf_take(b);
}

char *dt_url_job(const char *ep, const char *ver, const char *job_id)
{
    dt_buf b;
    dt_buf_init(&b);
    return finish(&b, ver, '?', add_batch(&b, ep, ver, job_id));
}

char *dt_url_document(const char *ep, const char *ver, const char *job_id, const char *doc_id)
{
    dt_buf b;
    int failed;
    dt_buf_init(&b);
    failed = add_batch(&b, ep, ver, job_id) || dt_buf_adds(&b, "/documents/") ||
             add_segment(&b, doc_id);
    return finish(&b, ver, '?', failed);
}

/* The query of a listing after its path, then api-version. */
static char *add_list_query(dt_buf *b, const char *ver, const dt_list_query *q, int failed)
{
    char sep = '?', num[32];
    int v1 = dt_api_family(ver) == DT_FAMILY_V1;
    if (!failed && q->statuses != NULL)
        failed = add_list(b, &sep, "statuses", q->statuses);
    if (!failed && q->ids != NULL)
        failed = add_list(b, &sep, "ids", q->ids);
    if (!failed && q->created_after != NULL)
        failed = add_param(b, &sep, "createdDateTimeUtcStart", q->created_after, 1);
    if (!failed && q->created_before != NULL)
        failed = add_param(b, &sep, "createdDateTimeUtcEnd", q->created_before, 1);
    if (!failed && q->order_by != NULL)
        failed = add_param(b, &sep, v1 ? "$orderBy" : "orderby", q->order_by, 1);
    if (!failed && q->skip > 0) {
        snprintf(num, sizeof num, "%lld", q->skip);
        failed = add_param(b, &sep, v1 ? "$skip" : "skip", num, 0);
    }
    if (!failed && q->top >= 0) {
        snprintf(num, sizeof num, "%lld", q->top);
        failed = add_param(b, &sep, v1 ? "$top" : "top", num, 0);
    }
    if (!failed && q->page_size > 0) {
        snprintf(num, sizeof num, "%d", q->page_size);
        failed = add_param(b, &sep, v1 ? "$maxpagesize" : "maxpagesize", num, 0);
    }
    return finish(b, ver, sep, failed);
}

char *dt_url_documents(const char *ep, const char *ver, const char *job_id, const dt_list_query *q)
{
    dt_buf b;
    dt_buf_init(&b);
    return add_list_query(&b, ver, q,
                          add_batch(&b, ep, ver, job_id) || dt_buf_adds(&b, "/documents"));
}

char *dt_url_jobs(const char *ep, const char *ver, const dt_list_query *q)
{
    dt_buf b;
    dt_buf_init(&b);
    return add_list_query(&b, ver, q, add_base(&b, ep, ver) || dt_buf_adds(&b, "/batches"));
}

char *dt_url_start(const char *ep, const char *ver)
{
    dt_buf b;
    dt_buf_init(&b);
    return finish(&b, ver, '?', add_base(&b, ep, ver) || dt_buf_adds(&b, "/batches"));
}

char *dt_url_translate(const char *ep, const char *ver, const char *to, const char *from,
                       const char *category, int allow_fallback, int text_within_image)
{
    dt_buf b;
    char sep = '?';
    int failed;
    dt_buf_init(&b);
    failed = dt_buf_adds(&b, ep) || dt_buf_adds(&b, "/translator/document:translate") ||
             add_param(&b, &sep, "targetLanguage", to, 1);
    if (!failed && from != NULL)
        failed = add_param(&b, &sep, "sourceLanguage", from, 1);
    if (!failed && category != NULL)
        failed = add_param(&b, &sep, "category", category, 1);
    if (!failed && allow_fallback >= 0)
        failed = add_param(&b, &sep, "allowFallback", allow_fallback ? "true" : "false", 0);
    if (!failed && text_within_image >= 0)
        failed = add_param(&b, &sep, "translateTextWithinImage", text_within_image ? "true" : "false", 0);
    return finish(&b, ver, sep, failed);
}

char *dt_url_formats(const char *ep, const char *ver, const char *type)
{
    dt_buf b;
    char sep = '?';
    int failed;
    dt_buf_init(&b);
    failed = add_base(&b, ep, ver);
    if (dt_api_family(ver) == DT_FAMILY_V1) {
        failed = failed || dt_buf_adds(&b, strcmp(type, "glossary") == 0 ? "/glossaries/formats"
                                                                         : "/documents/formats");
    } else {
        failed = failed || dt_buf_adds(&b, "/formats") || add_param(&b, &sep, "type", type, 1);
    }
    return finish(&b, ver, sep, failed);
}

char *dt_url_operation_id(const char *location)
{
    const char *p, *seg = NULL, *end;
    size_t n;
    char *out;
    if (location == NULL)
        return NULL;
    end = location + strcspn(location, "?#");
    /* the last "/batches/" before the query */
    for (p = location; (p = strstr(p, "/batches/")) != NULL && p < end; p += 9)
        seg = p + 9;
    if (seg == NULL || seg >= end)
        return NULL;
    n = (size_t)(end - seg);
    while (n > 0 && seg[n - 1] == '/')
        n--;
    if (n == 0 || memchr(seg, '/', n) != NULL || (n == 1 && seg[0] == '.') ||
        (n == 2 && seg[0] == '.' && seg[1] == '.'))
        return NULL;
    out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, seg, n);
    out[n] = '\0';
    return out;
}

/* Whether the query q (without its '?') has a parameter name. */
static int query_has(const char *q, const char *name)
{
    size_t n = strlen(name);
    for (;;) {
        if (strncmp(q, name, n) == 0 && q[n] == '=')
            return 1;
        q = strchr(q, '&');
        if (q == NULL)
            return 0;
        q++;
    }
}

char *dt_url_resolve_next(const char *ep, const char *current, const char *link,
                          const char *ver)
{
    dt_buf b;
    int failed = 0;
    const char *p;
    CURLU *h;
    char *canon = NULL, *query = NULL, *out = NULL;
    dt_buf_init(&b);
    if (link == NULL || *link == '\0')
        return NULL;
    /* a link that cannot be sent as it is (a space, any control character) is refused */
    for (p = link; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return NULL;
    if (has_prefix_ci(link, "http://") || has_prefix_ci(link, "https://")) {
        failed = dt_buf_adds(&b, link);
    } else if (link[0] == '/' && link[1] == '/') {
        /* scheme-relative: keep the endpoint's scheme, the host is the link's */
        const char *colon = strchr(ep, ':');
        failed = dt_buf_add(&b, ep, (size_t)(colon - ep) + 1) || dt_buf_adds(&b, link);
    } else if (link[0] == '/') {
        /* absolute path: on the endpoint's origin; the endpoint's own path
         * prefix is kept unless the link already starts with it */
        const char *path = strchr(strstr(ep, "://") + 3, '/');
        size_t origin_len = path ? (size_t)(path - ep) : strlen(ep);
        if (path != NULL && strncmp(link, path, strlen(path)) != 0)
            origin_len = strlen(ep);
        failed = dt_buf_add(&b, ep, origin_len) || dt_buf_adds(&b, link);
    } else if (link[0] == '?') {
        size_t n = strcspn(current, "?#");
        failed = dt_buf_add(&b, current, n) || dt_buf_adds(&b, link);
    } else {
        failed = dt_buf_adds(&b, ep) || dt_buf_addc(&b, '/') || dt_buf_adds(&b, link);
    }
    if (failed) {
        dt_buf_free(&b);
        return NULL;
    }
    /* libcurl's parser reads it (the one that connects), its fragment is
     * dropped (never sent), api-version goes into its query, and the URL
     * sent is libcurl's own form of it */
    h = parse_abs(b.data, CURLU_URLENCODE);
    dt_buf_free(&b);
    if (h == NULL)
        return NULL;
    failed = curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK;
    if (!failed && dt_api_family(ver) == DT_FAMILY_DATED) {
        CURLUcode qc = curl_url_get(h, CURLUPART_QUERY, &query, 0);
        if (qc == CURLUE_NO_QUERY || (qc == CURLUE_OK && !query_has(query, "api-version"))) {
            dt_buf_init(&b);
            failed = dt_buf_adds(&b, "api-version=") || dt_buf_add_escaped(&b, ver) ||
                     curl_url_set(h, CURLUPART_QUERY, b.data, CURLU_APPENDQUERY) != CURLUE_OK;
            dt_buf_free(&b);
        } else if (qc != CURLUE_OK) {
            failed = 1;
        }
    }
    if (!failed && curl_url_get(h, CURLUPART_URL, &canon, 0) == CURLUE_OK)
        out = dt_strdup(canon);
    curl_free(canon);
    curl_free(query);
    curl_url_cleanup(h);
    return out;
}

/* The next "sig=" from p on, in any case, or NULL. */
static const char *find_sig(const char *p)
{
    for (; *p != '\0'; p++)
        if (has_prefix_ci(p, "sig="))
            return p;
    return NULL;
}

char *dt_url_redact(const char *url)
{
    dt_buf b;
    const char *p = url;
    dt_buf_init(&b);
    while (*p != '\0') {
        const char *hit = find_sig(p);
        if (hit == NULL || (hit != url && hit[-1] != '?' && hit[-1] != '&')) {
            size_t n = hit ? (size_t)(hit - p) + 4 : strlen(p);
            if (dt_buf_add(&b, p, n)) {
                dt_buf_free(&b);
                return NULL;
            }
            p += n;
            continue;
        }
        if (dt_buf_add(&b, p, (size_t)(hit - p) + 4) || dt_buf_adds(&b, "REDACTED")) {
            dt_buf_free(&b);
            return NULL;
        }
        p = hit + 4;
        p += strcspn(p, "&#\" \t\r\n\f\v");
    }
    return dt_buf_take(&b);
}

int dt_url_query_int(const char *url, const char *name1, const char *name2, long long *out)
{
    const char *q = strchr(url, '?');
    while (q != NULL) {
        const char *names[2];
        int i;
        q++;
        names[0] = name1;
        names[1] = name2;
        for (i = 0; i < 2; i++) {
            size_t n = names[i] ? strlen(names[i]) : 0;
            if (n > 0 && strncmp(q, names[i], n) == 0 && q[n] == '=') {
                char *end;
                long long v = strtoll(q + n + 1, &end, 10);
                if (end == q + n + 1 || (*end != '\0' && *end != '&' && *end != '#'))
                    return -1;
                *out = v;
                return 0;
            }
        }
        q = strchr(q, '&');
    }
    return -1;
}
