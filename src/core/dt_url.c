#include "dt_url.h"
#include "dt_buf.h"
#include "dt_consts.h"

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

int dt_url_origin(const char *url, dt_origin *o)
{
    const char *p, *host, *end, *colon = NULL;
    size_t hl;
    memset(o, 0, sizeof *o);
    if (url == NULL)
        return -1;
    if (has_prefix_ci(url, "https://")) {
        strcpy(o->scheme, "https");
        o->port = 443;
        p = url + 8;
    } else if (has_prefix_ci(url, "http://")) {
        strcpy(o->scheme, "http");
        o->port = 80;
        p = url + 7;
    } else {
        return -1;
    }
    host = p;
    end = p + strcspn(p, "/?#");
    if (memchr(host, '@', (size_t)(end - host)) != NULL || memchr(host, '\\', (size_t)(end - host)))
        return -1;
    if (*host == '[') {
        const char *rb = memchr(host, ']', (size_t)(end - host));
        if (rb == NULL)
            return -1;
        if (rb + 1 < end) {
            if (rb[1] != ':')
                return -1;
            colon = rb + 1;
        }
        hl = (size_t)(rb + 1 - host);
    } else {
        colon = memchr(host, ':', (size_t)(end - host));
        hl = (size_t)((colon ? colon : end) - host);
    }
    if (hl == 0 || hl >= sizeof o->host)
        return -1;
    for (size_t i = 0; i < hl; i++)
        o->host[i] = (char)tolower((unsigned char)host[i]);
    o->host[hl] = '\0';
    /* A trailing dot names the same host ("example.com." == "example.com"). */
    if (hl > 1 && o->host[hl - 1] == '.')
        o->host[hl - 1] = '\0';
    if (colon != NULL && colon + 1 < end) {
        long port = 0;
        for (p = colon + 1; p < end; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            port = port * 10 + (*p - '0');
            if (port > 65535)
                return -1;
        }
        if (port == 0)
            return -1;
        o->port = (int)port;
    }
    return 0;
}

int dt_origin_equal(const dt_origin *a, const dt_origin *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 && a->port == b->port;
}

char *dt_url_normalize_endpoint(const char *endpoint, const char **why)
{
    dt_origin o;
    size_t n;
    char *out;
    if (dt_url_origin(endpoint, &o) != 0) {
        *why = "must be an http:// or https:// URL with a host";
        return NULL;
    }
    if (strpbrk(endpoint, "?# \t\r\n") != NULL) {
        *why = "must not carry a query, a fragment or spaces";
        return NULL;
    }
    /* only the path may lose its slashes and "/translator": never the
     * authority (a host may itself be called "translator") */
    {
        const char *auth = strstr(endpoint, "://");
        const char *slash = auth ? strchr(auth + 3, '/') : NULL;
        size_t path = slash ? (size_t)(slash - endpoint) : strlen(endpoint);
        n = strlen(endpoint);
        while (n > path && endpoint[n - 1] == '/')
            n--;
        if (n >= path + 11 && strncmp(endpoint + n - 11, "/translator", 11) == 0)
            n -= 11;
        while (n > path && endpoint[n - 1] == '/')
            n--;
    }
    out = malloc(n + 1);
    if (out == NULL) {
        *why = "out of memory";
        return NULL;
    }
    memcpy(out, endpoint, n);
    out[n] = '\0';
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

static int add_batch(dt_buf *b, const char *ep, const char *ver, const char *job_id)
{
    return add_base(b, ep, ver) || dt_buf_adds(b, "/batches/") || dt_buf_add_escaped(b, job_id);
}

/* sep: the character before the next query parameter; updated. */
static int add_param(dt_buf *b, char *sep, const char *name, const char *value, int escape)
{
    if (dt_buf_addc(b, *sep) || dt_buf_adds(b, name) || dt_buf_addc(b, '='))
        return -1;
    *sep = '&';
    return escape ? dt_buf_add_escaped(b, value) : dt_buf_adds(b, value);
}

/* A comma list: each item escaped, the commas kept. */
static int add_list(dt_buf *b, char *sep, const char *name, const char *list)
{
    const char *p = list;
    if (dt_buf_addc(b, *sep) || dt_buf_adds(b, name) || dt_buf_addc(b, '='))
        return -1;
    *sep = '&';
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        char item[512];
        if (n >= sizeof item)
            return -1;
        memcpy(item, p, n);
        item[n] = '\0';
        if (dt_buf_add_escaped(b, item))
            return -1;
        p += n;
        if (*p == ',') {
            if (dt_buf_addc(b, ','))
                return -1;
            p++;
        }
    }
    return 0;
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
             dt_buf_add_escaped(&b, doc_id);
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
    if (n == 0 || memchr(seg, '/', n) != NULL)
        return NULL;
    out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, seg, n);
    out[n] = '\0';
    return out;
}

static int query_has(const char *url, const char *name)
{
    const char *q = strchr(url, '?');
    size_t n = strlen(name);
    while (q != NULL) {
        q++;
        if (strncmp(q, name, n) == 0 && q[n] == '=')
            return 1;
        q = strchr(q, '&');
    }
    return 0;
}

char *dt_url_resolve_next(const char *ep, const char *current, const char *link,
                          const char *ver)
{
    dt_buf b;
    int failed = 0;
    dt_buf_init(&b);
    if (link == NULL || *link == '\0' || strpbrk(link, " \t\r\n") != NULL)
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
    if (!failed && dt_api_family(ver) == DT_FAMILY_DATED && !query_has(b.data, "api-version")) {
        char sep = strchr(b.data, '?') ? '&' : '?';
        failed = add_param(&b, &sep, "api-version", ver, 1);
    }
    if (failed) {
        dt_buf_free(&b);
        return NULL;
    }
    return dt_buf_take(&b);
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
