/* libFuzzer harness: the response parser and the paging state machine.
 *
 * An input is a script of responses that a hostile or broken service sends to
 * one operation (a document listing, the job list, one job, one document),
 * driven through dt_op_step / dt_op_feed (or dt_op_feed_buf) for as many
 * pages as the script holds:
 *
 *   ["!" c0 c1 c2 c3]          optional configuration bytes (see conf_from)
 *   chunk ("\n@@\n" chunk)*    one chunk per response
 *
 * A chunk is "!net", "!timeout" or "!proto" (the request failed without a
 * response), or "NNN\n" + "name: value\n"* + "\n" + body (status, headers,
 * body), or anything else: a 200 whose whole body is the chunk (so a raw
 * recording is a valid input).
 *
 * Beyond "no sanitizer report", the harness checks properties the module
 * promises: every request goes to the configured origin, the key is
 * sent only there and never appears in an error, a listing never hands out
 * more than top, a continuation token always parses back, no id is handed
 * out twice.
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
#include "dt_buf.h"
#include "dt_date.h"
#include "fuzz_common.h"

#define SECRET_KEY "FUZZSECRETKEY0123456789abcdef"
#define SECRET_TOKEN "FUZZSECRETTOKEN.eyJhbGciOi"
#define ENDPOINT "https://fuzz.cognitiveservices.azure.com"
#define SEP "\n@@\n"
#define MAX_STEPS 400

/* writable copies: dt_conf holds char * */
static char v_dated[] = "2024-05-01", v_11[] = "v1.1", v_10[] = "v1.0";
static char *const versions[] = {v_dated, v_11, v_10, v_dated};
static char key_str[] = SECRET_KEY, token_str[] = SECRET_TOKEN, region_str[] = "westeurope",
            ua_str[] = "doctranslate-fuzz";

typedef struct script {
    const char *p, *end;
} script;

/* The next chunk of the script; 0 when none is left. */
static int next_chunk(script *s, const char **c, size_t *n)
{
    const char *hit;
    if (s->p == NULL || s->p > s->end)
        return 0;
    hit = s->p;
    for (;;) {
        hit = memchr(hit, '\n', (size_t)(s->end - hit));
        if (hit == NULL || (size_t)(s->end - hit) < 4 || memcmp(hit, SEP, 4) == 0)
            break;
        hit++;
    }
    if (hit == NULL || (size_t)(s->end - hit) < 4) {
        *c = s->p;
        *n = (size_t)(s->end - s->p);
        s->p = NULL;
        return 1;
    }
    *c = s->p;
    *n = (size_t)(hit - s->p);
    s->p = hit + 4;
    return 1;
}

/* Set when the script itself carries a secret (a service that echoes it):
 * then its presence in an error is the service's text, not a leak. */
static int input_has_secret;

static int has_secret(const char *s)
{
    return !input_has_secret && s != NULL &&
           (strstr(s, SECRET_KEY) != NULL || strstr(s, SECRET_TOKEN) != NULL);
}

static int mem_has(const uint8_t *d, size_t n, const char *needle)
{
    size_t k = strlen(needle), i;
    for (i = 0; i + k <= n; i++)
        if (d[i] == (uint8_t)needle[0] && memcmp(d + i, needle, k) == 0)
            return 1;
    return 0;
}

static void check_error(const dt_error *e)
{
    FUZZ_CHECK(e->kind != DT_ERR_NONE, "an operation ended in error with no kind");
    FUZZ_CHECK(dt_err_kind_name(e->kind) != NULL, "kind %d has no name", (int)e->kind);
    FUZZ_CHECK(!has_secret(e->message) && !has_secret(e->code) && !has_secret(e->target) &&
                   !has_secret(e->apim_request_id) && !has_secret(e->x_requestid) &&
                   !has_secret(e->client_request_id),
               "the secret is in an error: %s", e->message ? e->message : "(null)");
    if (e->inner_page != NULL) {
        /* the innerError chain, walked as the binding walks it */
        dt_span o = e->inner, v;
        int depth;
        for (depth = 0; depth < 32 && o.type == DT_J_OBJECT; depth++) {
            free(dt_page_cstr(e->inner_page, dt_page_find(e->inner_page, &o, "code", 4, &v) ? &v : NULL));
            if (!dt_page_find(e->inner_page, &o, "innerError", 10, &v) || v.type == DT_J_NULL)
                if (!dt_page_find(e->inner_page, &o, "innererror", 10, &v))
                    break;
            o = v;
        }
    }
}

typedef struct hdr_check {
    int on_origin;
    int secret_sent;
} hdr_check;

static void on_header(void *ud, const char *name, const char *value)
{
    hdr_check *h = ud;
    FUZZ_CHECK(name != NULL && value != NULL, "a NULL request header");
    if (has_secret(value))
        h->secret_sent = 1;
}

static void feed_chunk(dt_op *op, const char *c, size_t n, int parsed)
{
    long status = 200;
    dt_resp *r;
    const char *body = c, *end = c + n;
    if (n >= 4 && c[0] == '!') {
        if (n == 4 && memcmp(c, "!net", 4) == 0) {
            dt_op_feed_error(op, DT_ERR_NETWORK, "connection reset by peer");
            return;
        }
        if (n == 8 && memcmp(c, "!timeout", 8) == 0) {
            dt_op_feed_error(op, DT_ERR_TIMEOUT, "operation timed out");
            return;
        }
        if (n == 6 && memcmp(c, "!proto", 6) == 0) {
            dt_op_feed_error(op, DT_ERR_PROTOCOL, "the body is over the size cap");
            return;
        }
    }
    if (n >= 4 && c[0] >= '0' && c[0] <= '9' && c[1] >= '0' && c[1] <= '9' && c[2] >= '0' &&
        c[2] <= '9' && c[3] == '\n') {
        status = (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0');
        r = dt_resp_new(status);
        if (r == NULL)
            abort();
        body = c + 4;
        /* headers up to the empty line */
        while (body < end && *body != '\n') {
            const char *eol = memchr(body, '\n', (size_t)(end - body)), *colon, *v;
            if (eol == NULL)
                eol = end;
            colon = memchr(body, ':', (size_t)(eol - body));
            if (colon != NULL) {
                v = colon + 1;
                while (v < eol && *v == ' ')
                    v++;
                if (dt_resp_add(r, body, (size_t)(colon - body), v, (size_t)(eol - v)) != 0)
                    abort();
            }
            body = eol < end ? eol + 1 : end;
        }
        if (body < end)
            body++; /* the empty line */
    } else {
        r = dt_resp_new(200);
        if (r == NULL)
            abort();
    }
    if (parsed) {
        /* the path of the libcurl driver: a 2xx body is taken, not copied */
        dt_buf b;
        dt_buf_init(&b);
        if (dt_buf_add(&b, body, (size_t)(end - body)) != 0)
            abort();
        dt_op_feed_buf(op, r, &b);
        dt_buf_free(&b);
    } else {
        /* no NUL after the body: the parser must respect len */
        char *copy = malloc((size_t)(end - body) + 1);
        if (copy == NULL)
            abort();
        memcpy(copy, body, (size_t)(end - body));
        dt_op_feed(op, r, copy, (size_t)(end - body));
        free(copy);
    }
}

/* Every id the listing handed out (each id once, or a typed error). */
typedef struct id_set {
    char **v;
    size_t n, cap;
} id_set;

static int id_set_add(id_set *s, const char *id)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        if (strcmp(s->v[i], id) == 0)
            return 0;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (s->v == NULL)
            abort();
    }
    s->v[s->n++] = fuzz_strndup(id, strlen(id));
    return 1;
}

static void id_set_free(id_set *s)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

/* A string member of element i of the page, decoded, as a C string (malloc'd), or NULL. */
static char *page_str(const dt_page *pg, size_t i, const char *name)
{
    const dt_pmember *m = dt_page_member(pg, i, name, strlen(name));
    char *s;
    size_t n;
    if (m == NULL || m->val.type != DT_J_STRING)
        return NULL;
    s = malloc((size_t)m->val.len + 1);
    if (s == NULL)
        abort();
    if (m->val.flags & DT_JF_ESC) {
        n = dt_page_unescape(pg->body + m->val.off, m->val.len, s);
    } else {
        n = m->val.len;
        memcpy(s, pg->body + m->val.off, n);
    }
    s[n] = '\0';
    return s;
}

static void look_at_listed(const dt_page *pg, size_t i)
{
    static const char *const dates[] = {"createdDateTimeUtc", "lastActionDateTimeUtc"};
    size_t k;
    double t;
    free(page_str(pg, i, "status"));
    (void)dt_page_member(pg, i, "summary", 7);
    for (k = 0; k < sizeof dates / sizeof dates[0]; k++) {
        char *s = page_str(pg, i, dates[k]);
        if (s != NULL)
            (void)dt_parse_iso8601(s, &t);
        free(s);
    }
}

static void check_continuation(const dt_op *op, const char *job_id)
{
    char *tok = dt_op_continuation(op), *storage = NULL;
    const char *why = NULL;
    dt_list_query q;
    if (tok == NULL)
        return; /* out of memory only */
    FUZZ_CHECK(!has_secret(tok), "the secret is in a continuation token");
    FUZZ_CHECK(dt_op_parse_continuation(tok, op->list_jobs ? NULL : job_id, &q, &storage, &why) == 0,
               "the token %s does not parse back: %s", tok, why ? why : "?");
    FUZZ_CHECK(q.skip == op->q.skip + op->handed, "token skip %lld, expected %lld", q.skip,
               op->q.skip + op->handed);
    free(storage);
    free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char job_id[] = "8a2e4e60-0000-4a5e-9e3f-000000000001";
    uint8_t c0 = 0, c1 = 0xff, c2 = 0, c3 = 0;
    dt_conf conf;
    dt_list_query q;
    dt_op *op;
    script s;
    int steps, parsed;
    const char *why = NULL;
    id_set handed = {NULL, 0, 0};

    input_has_secret = mem_has(data, size, SECRET_KEY) || mem_has(data, size, SECRET_TOKEN);
    if (size >= 5 && data[0] == '!') {
        c0 = data[1];
        c1 = data[2];
        c2 = data[3];
        c3 = data[4];
        data += 5;
        size -= 5;
    }
    memset(&conf, 0, sizeof conf);
    conf.endpoint = dt_url_normalize_endpoint(ENDPOINT "/translator/", &why);
    FUZZ_CHECK(conf.endpoint != NULL, "the endpoint does not normalise: %s", why);
    FUZZ_CHECK(dt_url_origin(conf.endpoint, &conf.origin) == 0, "no origin");
    conf.api_version = versions[(c0 >> 2) & 3];
    if (c0 & 0x20) {
        conf.token = token_str;
        conf.token_refresh = 1;
    } else {
        conf.key = key_str;
    }
    conf.region = region_str;
    conf.user_agent = ua_str;
    conf.retries = 3;
    conf.retry_base = 0.8;
    conf.retry_max = 60;
    conf.max_pages = (c0 & 0x40) ? 3 : 0;
    conf.rng = 0x9e3779b97f4a7c15ULL;
    parsed = (c0 & 0x10) != 0;

    memset(&q, 0, sizeof q);
    q.top = c1 == 0xff ? -1 : (long long)c1;
    q.skip = c2;
    /* 1..100: the range the Lua layer lets through (lua_core.c, lua_pages.c) */
    q.page_size = (c3 & 0x80) ? -1 : (c3 & 0x7f) % 100 + 1;
    switch (c0 & 3) {
    case 0:
        op = dt_op_new_documents(&conf, job_id, &q);
        break;
    case 1:
        op = dt_op_new_jobs(&conf, &q);
        break;
    case 2:
        op = dt_op_new_job(&conf, job_id);
        break;
    default:
        op = dt_op_new_document(&conf, job_id, "d0c00000-0000-0000-0000-000000000001");
        break;
    }
    FUZZ_CHECK(op != NULL, "no operation");

    s.p = (const char *)data;
    s.end = (const char *)data + size;
    for (steps = 0; steps < MAX_STEPS; steps++) {
        dt_step st = dt_op_step(op);
        if (st == DT_STEP_REQUEST) {
            dt_origin o;
            hdr_check h = {0, 0};
            const char *c;
            size_t n;
            FUZZ_CHECK(op->url != NULL, "a request with no URL");
            FUZZ_CHECK(dt_url_origin(op->url, &o) == 0 && dt_origin_equal(&o, &conf.origin),
                       "a request to another origin: %s", op->url);
            h.on_origin = 1;
            dt_op_headers(op, on_header, &h);
            FUZZ_CHECK(!h.secret_sent || h.on_origin, "the secret went elsewhere");
            if (!next_chunk(&s, &c, &n))
                break;
            feed_chunk(op, c, n, parsed);
        } else if (st == DT_STEP_WAIT) {
            FUZZ_CHECK(op->wait >= 0 && op->wait <= conf.retry_max,
                       "a wait of %g s (retry_max %g)", op->wait, conf.retry_max);
        } else if (st == DT_STEP_READY) {
            if (op->kind == DT_OP_DOCUMENTS) {
                size_t i, take;
                FUZZ_CHECK(op->page != NULL && op->offset <= op->count &&
                               op->count <= op->page->nitems,
                           "a page slot out of bounds: offset %zu count %zu", op->offset,
                           op->count);
                take = op->count - op->offset;
                if ((c3 & 0x0f) != 0 && take > (size_t)(c3 & 0x0f))
                    take = (size_t)(c3 & 0x0f);
                for (i = op->offset; i < op->offset + take; i++) {
                    char *id = page_str(op->page, i, "id");
                    look_at_listed(op->page, i);
                    /* each id once, or a typed error (regressions/parse/
                     * duplicate-two-pages-apart: fixed in dt_op.c, ce0aac0) */
                    FUZZ_CHECK(id == NULL || id_set_add(&handed, id),
                               "the listing handed out %s twice", id);
                    free(id);
                }
                dt_op_consumed(op, take);
                FUZZ_CHECK(q.top < 0 || op->handed <= q.top, "handed %lld documents, top %lld",
                           op->handed, q.top);
                check_continuation(op, job_id);
            } else {
                char *id = op->page != NULL ? page_str(op->page, DT_PAGE_ROOT, "id") : NULL;
                FUZZ_CHECK(id != NULL, "a result with no id");
                free(id);
                look_at_listed(op->page, DT_PAGE_ROOT);
                dt_op_release(op);
            }
        } else if (st == DT_STEP_ERROR) {
            check_error(&op->err);
            break;
        } else {
            FUZZ_CHECK(st == DT_STEP_DONE, "an unknown step %d", (int)st);
            break;
        }
        (void)dt_op_needs_io(op);
        (void)dt_op_has_items(op);
    }
    if (op->kind == DT_OP_DOCUMENTS)
        check_continuation(op, job_id);
    dt_op_free(op);
    id_set_free(&handed);
    free(conf.endpoint);
    return 0;
}
