#include "dt_op_impl.h"
#include "dt_buf.h"
#include "dt_date.h"
#include "dt_guard.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* The service's request ids of e from the headers r (NULL: none). */
static void resp_ids(dt_error *e, const dt_resp *r)
{
    free(e->apim_request_id);
    free(e->x_requestid);
    e->apim_request_id = dt_strdup(dt_resp_get(r, "apim-request-id"));
    e->x_requestid = dt_strdup(dt_resp_get(r, "x-requestid"));
}

/* Fills the request ids of e from the response and the op. */
static void error_ids(dt_op *op, dt_error *e, const dt_resp *r)
{
    resp_ids(e, r);
    e->client_request_id = dt_strdup(op->client_id[0] ? op->client_id : NULL);
    if (r != NULL)
        e->status = r->status;
}

void dt_op_set_error(dt_op *op, dt_error *e, dt_err_kind kind, const dt_resp *r,
                      const char *fmt, ...)
{
    va_list ap;
    dt_error_clear(e);
    e->kind = kind;
    va_start(ap, fmt);
    /* the secrets out first, then the cut: a cut secret is no longer found */
    e->message = dt_conf_message(op->conf, 1024, fmt, ap);
    va_end(ap);
    error_ids(op, e, r);
}

/* ------------------------------------------------------------ op basics */

static void new_call(dt_op *op)
{
    uint64_t a = dt_conf_random(op->conf), b = dt_conf_random(op->conf);
    /* RFC 4122 version 4 */
    a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x4000ULL;
    b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    snprintf(op->client_id, sizeof op->client_id, "%08lx-%04lx-%04lx-%04lx-%012llx",
             (unsigned long)(a >> 32), (unsigned long)((a >> 16) & 0xFFFF),
             (unsigned long)(a & 0xFFFF), (unsigned long)(b >> 48),
             (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
    op->attempt = 0;
    op->auth_retried = 0;
    dt_error_clear(&op->retried);
}

static dt_op *op_alloc(dt_conf *conf, dt_op_kind kind)
{
    dt_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->kind = kind;
    op->conf = conf;
    op->method = "GET";
    op->err.retry_after = -1;
    op->pending.retry_after = -1;
    op->retried.retry_after = -1;
    op->q.top = -1;
    op->q.page_size = -1;
    op->top_left = -1;
    return op;
}

/* An operation of one request to url (taken), with method and body (copied). */
static dt_op *single_new(dt_conf *conf, dt_op_kind kind, const char *method, char *url,
                         const char *job_id, const char *body)
{
    dt_op *op = op_alloc(conf, kind);
    if (op == NULL) {
        free(url);
        return NULL;
    }
    op->method = method;
    op->url = url;
    op->job_id = dt_strdup(job_id);
    op->body = dt_strdup(body);
    if (op->url == NULL || (job_id && !op->job_id) || (body && !op->body)) {
        dt_op_free(op);
        return NULL;
    }
    op->state = ST_NEED;
    new_call(op);
    return op;
}

dt_op *dt_op_single(dt_conf *conf, dt_op_kind kind, const char *method, char *url,
                    const char *job_id, const char *body)
{
    return single_new(conf, kind, method, url, job_id, body);
}

dt_op *dt_op_new_job(dt_conf *conf, const char *job_id)
{
    return single_new(conf, DT_OP_JOB, "GET", dt_url_job(conf->endpoint, conf->api_version, job_id),
                      job_id, NULL);
}

dt_op *dt_op_new_document(dt_conf *conf, const char *job_id, const char *doc_id)
{
    return single_new(conf, DT_OP_DOCUMENT, "GET",
                      dt_url_document(conf->endpoint, conf->api_version, job_id, doc_id), job_id,
                      NULL);
}

/* A listing: of the documents of job_id, or of jobs when job_id is NULL. */
static dt_op *list_new(dt_conf *conf, const char *job_id, const dt_list_query *q)
{
    dt_op *op = op_alloc(conf, DT_OP_DOCUMENTS);
    if (op == NULL)
        return NULL;
    op->list_jobs = job_id == NULL;
    op->job_id = dt_strdup(job_id ? job_id : "");
    op->q = *q;
    op->q.statuses = op->own[0] = dt_strdup(q->statuses);
    op->q.ids = op->own[1] = dt_strdup(q->ids);
    op->q.created_after = op->own[2] = dt_strdup(q->created_after);
    op->q.created_before = op->own[3] = dt_strdup(q->created_before);
    op->q.order_by = op->own[4] = dt_strdup(q->order_by);
    op->top_left = q->top;
    op->deadline = conf->deadline;
    if (op->job_id == NULL || (q->statuses && !op->q.statuses) || (q->ids && !op->q.ids) ||
        (q->created_after && !op->q.created_after) ||
        (q->created_before && !op->q.created_before) || (q->order_by && !op->q.order_by)) {
        dt_op_free(op);
        return NULL;
    }
    if (q->top == 0) {
        op->state = ST_DONE; /* nothing asked for: no request at all */
        return op;
    }
    op->url = job_id ? dt_url_documents(conf->endpoint, conf->api_version, job_id, &op->q)
                     : dt_url_jobs(conf->endpoint, conf->api_version, &op->q);
    if (op->url == NULL) {
        dt_op_free(op);
        return NULL;
    }
    op->links[0] = dt_hash_str(op->url);
    op->nlinks = 1;
    op->state = ST_NEED;
    new_call(op);
    return op;
}

dt_op *dt_op_new_documents(dt_conf *conf, const char *job_id, const dt_list_query *q)
{
    return list_new(conf, job_id, q);
}

dt_op *dt_op_new_jobs(dt_conf *conf, const dt_list_query *q)
{
    return list_new(conf, NULL, q);
}

dt_op *dt_op_new_start(dt_conf *conf, const char *body)
{
    return single_new(conf, DT_OP_START, "POST", dt_url_start(conf->endpoint, conf->api_version),
                      NULL, body);
}

dt_op *dt_op_new_cancel(dt_conf *conf, const char *job_id)
{
    return single_new(conf, DT_OP_CANCEL, "DELETE",
                      dt_url_job(conf->endpoint, conf->api_version, job_id), job_id, NULL);
}

dt_op *dt_op_new_formats(dt_conf *conf, const char *type)
{
    return single_new(conf, DT_OP_FORMATS, "GET",
                      dt_url_formats(conf->endpoint, conf->api_version, type), NULL, NULL);
}


static void drop_slot(dt_op *op)
{
    dt_resp_unref(op->resp);
    dt_page_unref(op->page);
    free(op->page_next);
    op->resp = NULL;
    op->page = NULL;
    op->page_next = NULL;
    op->count = op->offset = 0;
    free(op->raw);
    op->raw = NULL;
    op->raw_len = 0;
}

void dt_op_free(dt_op *op)
{
    if (op == NULL)
        return;
    drop_slot(op);
    free(op->url);
    free(op->body);
    free(op->job_id);
    {
        int i;
        for (i = 0; i < 5; i++)
            free(op->own[i]);
    }
    free(op->prev_ids);
    free(op->cur_ids);
    dt_parts_free(op);
    dt_idset_free(&op->seen);
    dt_error_clear(&op->err);
    dt_error_clear(&op->pending);
    dt_error_clear(&op->retried);
    free(op);
}

dt_step dt_op_step(dt_op *op)
{
    switch (op->state) {
    case ST_NEED:
        op->state = ST_INFLIGHT;
        op->upload_started = 0;
        return DT_STEP_REQUEST;
    case ST_INFLIGHT:
        /* asked again without a response: the request is still the one to send */
        return DT_STEP_REQUEST;
    case ST_WAIT:
        op->state = ST_NEED;
        return DT_STEP_WAIT;
    case ST_READY:
        if (op->kind != DT_OP_DOCUMENTS || op->offset < op->count)
            return DT_STEP_READY;
        /* the page is used up: what comes after it */
        drop_slot(op);
        if (op->pending.kind != DT_ERR_NONE) {
            dt_error_move(&op->err, &op->pending);
            op->state = ST_ERROR;
            return DT_STEP_ERROR;
        }
        if (op->url == NULL) {
            op->state = ST_DONE;
            return DT_STEP_DONE;
        }
        op->state = ST_INFLIGHT;
        new_call(op);
        return DT_STEP_REQUEST;
    case ST_ERROR:
        return DT_STEP_ERROR;
    default:
        return DT_STEP_DONE;
    }
}

/* ---------------------------------------------------------------- retry */

static double header_delay(const dt_resp *r)
{
    return dt_retry_delay(dt_resp_get(r, "retry-after-ms"), dt_resp_get(r, "x-ms-retry-after-ms"),
                          dt_resp_get(r, "retry-after"), (double)time(NULL));
}

static double backoff(dt_op *op)
{
    double d = op->conf->retry_base * pow(2.0, op->attempt - 1);
    double jitter = 0.8 + 0.4 * (double)(dt_conf_random(op->conf) >> 11) / 9007199254740992.0;
    d *= jitter;
    return d;
}

/* Schedules a retry when the budget allows; returns 1 when scheduled. */
static int schedule_retry(dt_op *op, double delay)
{
    if (op->attempt >= op->conf->retries)
        return 0;
    op->attempt++;
    if (delay < 0)
        delay = backoff(op);
    if (delay > op->conf->retry_max)
        delay = op->conf->retry_max;
    op->wait = delay;
    op->state = ST_WAIT;
    return 1;
}

static int retryable_status(const dt_op *op, long s, const dt_resp *r)
{
    /* a start only where the service surely did not take it (Azure Core) */
    if (op->kind == DT_OP_START)
        return s == 500 || s == 503 || s == 504;
    /* a translation the service timed out on may have been done and charged */
    if (op->kind == DT_OP_TRANSLATE && s == 408)
        return 0;
    if (s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504)
        return 1;
    /* a Retry-After that is not one (dt_guard.h) is no reason to retry */
    return s >= 400 && s < 500 && header_delay(r) >= 0;
}

/* ----------------------------------------------------------------- feed */

/* Keeps what a retried failure said (its ids, when headers had arrived) for
 * a deadline that passes before the call succeeds. */
static void note_retry(dt_op *op, dt_err_kind kind, const char *message, const dt_resp *r)
{
    if (op->deadline > 0)
        dt_op_set_error(op, &op->retried, kind, r, "%s", message);
}

void dt_op_fail(dt_op *op)
{
    drop_slot(op);
    op->state = ST_ERROR;
}

/* The string member name of the object at span obj of pg, as a C string
 * (malloc'd), or NULL when absent, not a string or out of memory. */
static char *find_cstr(const dt_page *pg, const dt_span *obj, const char *name)
{
    dt_span v;
    if (!dt_page_find(pg, obj, name, strlen(name), &v))
        return NULL;
    return dt_page_cstr(pg, &v);
}

static void http_error(dt_op *op, dt_resp *r, const char *body, size_t len)
{
    dt_error *e = &op->err;
    char why[160];
    dt_page *pg = NULL;
    const dt_pmember *eo;
    dt_error_clear(e);
    e->kind = DT_ERR_HTTP;
    error_ids(op, e, r);
    e->retry_after = header_delay(r);
    if (len > 0)
        pg = dt_page_parse(body, len, dt_conf_max_depth(op->conf), dt_conf_max_string(op->conf),
                           why, sizeof why);
    eo = pg != NULL ? dt_page_member(pg, DT_PAGE_ROOT, "error", 5) : NULL;
    if (eo != NULL && eo->val.type == DT_J_OBJECT) {
        dt_span inner;
        e->code = find_cstr(pg, &eo->val, "code");
        e->message = find_cstr(pg, &eo->val, "message");
        e->target = find_cstr(pg, &eo->val, "target");
        /* a null innerError is absent: innererror is looked at then */
        if (((dt_page_find(pg, &eo->val, "innerError", 10, &inner) && inner.type != DT_J_NULL) ||
             dt_page_find(pg, &eo->val, "innererror", 10, &inner)) &&
            inner.type == DT_J_OBJECT) {
            e->inner_page = dt_page_ref(pg);
            e->inner = inner;
        }
    }
    if (e->code == NULL) {
        const char *hc = dt_resp_get(r, "x-ms-error-code");
        e->code = dt_strdup(hc);
    }
    if (e->message == NULL) {
        char msg[64];
        snprintf(msg, sizeof msg, "HTTP %ld%s", r ? r->status : 0L,
                 len == 0 ? " with an empty body" : (pg ? "" : " with a non-JSON body"));
        e->message = dt_strdup(msg);
    }
    dt_page_unref(pg);
}

/* A start the service accepted: the job id comes from Operation-Location, the
 * rest from the body where there is one (v1.x answers 202 with no body). The
 * job exists now, so nothing here may lead to a second POST. The job read is
 * the body's object with an "id" member added last (the last of a name is
 * the one read), or {"id": ...} when the body is absent or no object. */
static void accept_start(dt_op *op, const char *body, size_t len)
{
    char why[160];
    const char *loc = dt_resp_get(op->resp, "operation-location");
    char *id = dt_url_operation_id(loc);
    dt_page *pg = NULL;
    dt_buf b;
    if (id == NULL) {
        dt_op_set_error(op, &op->err, DT_ERR_PROTOCOL, op->resp,
                  "the service accepted the job (HTTP %ld) without an Operation-Location naming it",
                  op->resp->status);
        dt_op_fail(op);
        return;
    }
    dt_buf_init(&b);
    if (len > 0)
        pg = dt_page_parse(body, len, dt_conf_max_depth(op->conf), dt_conf_max_string(op->conf),
                           why, sizeof why);
    if (pg != NULL && pg->root_type == DT_J_OBJECT) {
        /* the object without its closing brace */
        (void)dt_buf_add(&b, pg->body + pg->root.off, pg->root.len - 1);
        if (pg->nrmembers > 0)
            (void)dt_buf_addc(&b, ',');
    } else {
        (void)dt_buf_addc(&b, '{');
    }
    dt_page_unref(pg);
    pg = NULL;
    if (dt_buf_adds(&b, "\"id\":") == 0 && dt_buf_add_json(&b, id, strlen(id)) == 0 &&
        dt_buf_addc(&b, '}') == 0)
        pg = dt_page_parse(b.data, b.len, dt_conf_max_depth(op->conf) + 1, (size_t)-1, why,
                           sizeof why);
    dt_buf_free(&b);
    if (pg == NULL) {
        free(id);
        dt_op_set_error(op, &op->err, DT_ERR_PROTOCOL, op->resp, "out of memory");
        dt_op_fail(op);
        return;
    }
    free(op->job_id);
    op->job_id = id;
    op->page = pg;
    free(op->url);
    op->url = NULL;
    op->state = ST_READY;
}

/* A 2xx body read into pg (NULL: why says why) that is a JSON object, kept in
 * op's slot: 1; else op ended with a parse error: 0. */
static int root_object(dt_op *op, dt_resp *resp, dt_page *pg, const char *why)
{
    if (pg == NULL) {
        dt_op_set_error(op, &op->err, DT_ERR_PARSE, resp, "the response body is not usable JSON: %s", why);
        dt_op_fail(op);
        return 0;
    }
    op->page = pg;
    if (pg->root_type != DT_J_OBJECT) {
        dt_op_set_error(op, &op->err, DT_ERR_PARSE, resp, "the response body is not a JSON object");
        dt_op_fail(op);
        return 0;
    }
    return 1;
}

/* Judges the body of a 2xx answer to a single object (pg NULL: not usable
 * JSON, why says why): a job or document has an "id" string, the formats
 * answer a "value" array. */
static void judge_object(dt_op *op, dt_resp *resp, dt_page *pg, const char *why)
{
    const dt_pmember *m;
    if (!root_object(op, resp, pg, why))
        return;
    if (op->kind == DT_OP_FORMATS) {
        m = dt_page_member(pg, DT_PAGE_ROOT, "value", 5);
        if (m == NULL || m->val.type != DT_J_ARRAY) {
            dt_op_set_error(op, &op->err, DT_ERR_PARSE, resp, "the formats answer has no \"value\" array");
            dt_op_fail(op);
            return;
        }
    } else {
        m = dt_page_member(pg, DT_PAGE_ROOT, "id", 2);
        if (m == NULL || m->val.type != DT_J_STRING) {
            dt_op_set_error(op, &op->err, DT_ERR_PARSE, resp, "the response body has no \"id\" string");
            dt_op_fail(op);
            return;
        }
    }
    free(op->url);
    op->url = NULL;
    op->state = ST_READY;
}

/* Judges a 2xx page of a listing, read in one pass (dt_page.h): pg, or NULL with why. */
static void judge_page(dt_op *op, dt_resp *resp, dt_page *pg, const char *why)
{
    if (!root_object(op, resp, pg, why))
        return;
    if (pg->value_type != DT_J_ARRAY) {
        dt_op_set_error(op, &op->err, DT_ERR_PARSE, resp,
                  "the page has no \"value\" array");
        dt_op_fail(op);
        return;
    }
    op->pages++;
    op->offset = 0;
    {
        char *current = op->url;
        op->url = NULL;
        dt_listing_accept(op, current);
        free(current);
    }
    if (op->state == ST_ERROR)
        return;
    op->state = ST_READY;
}

/* Judges a 2xx body read into pg (NULL: why says why). */
static void judge_body(dt_op *op, dt_resp *resp, dt_page *pg, const char *why)
{
    if (op->kind == DT_OP_DOCUMENTS)
        judge_page(op, resp, pg, why);
    else
        judge_object(op, resp, pg, why);
}

void dt_op_feed_buf(dt_op *op, dt_resp *resp, dt_buf *b)
{
    long s = resp ? resp->status : 0;
    if (op->state == ST_INFLIGHT && op->kind == DT_OP_TRANSLATE && s >= 200 && s < 300) {
        size_t len = b->len;
        char *body = b->data != NULL ? dt_buf_take(b) : NULL; /* the bytes, not copied */
        drop_slot(op);
        op->resp = resp;
        if (body == NULL)
            body = dt_strdup("");
        dt_translate_accept(op, body, len, (long long)len);
        return;
    }
    if (op->state == ST_INFLIGHT && op->kind != DT_OP_START && s >= 200 && s < 300 &&
        b->data != NULL && b->len > 0) {
        char why[160];
        size_t len = b->len, cap = b->cap;
        char *body = dt_buf_take(b); /* NUL terminated */
        (void)dt_buf_reserve(b, cap - 1); /* the next body's room: no copy (may fail: it grows) */
        drop_slot(op);
        op->resp = resp;
        judge_body(op, resp, dt_page_parse_owned(body, len, dt_conf_max_depth(op->conf),
                                                 dt_conf_max_string(op->conf), why, sizeof why),
                   why);
        return;
    }
    dt_op_feed(op, resp, b->data, b->len);
}

void dt_op_feed(dt_op *op, dt_resp *resp, const char *body, size_t len)
{
    char why[160];
    long s = resp ? resp->status : 0;
    if (op->state != ST_INFLIGHT) {
        dt_resp_unref(resp);
        return;
    }
    drop_slot(op);
    if (s < 200 || s >= 300) {
        if (s == 401 && op->conf->token_refresh && !op->auth_retried) {
            /* the token expired or was revoked: once more with a new one */
            op->auth_retried = 1;
            op->conf->token_stale = 1;
            op->state = ST_NEED;
            dt_resp_unref(resp);
            return;
        }
        if (retryable_status(op, s, resp) && schedule_retry(op, header_delay(resp))) {
            char what[32];
            snprintf(what, sizeof what, "HTTP %ld", s);
            note_retry(op, DT_ERR_HTTP, what, resp);
            dt_resp_unref(resp);
            return;
        }
        http_error(op, resp, body, len);
        dt_resp_unref(resp);
        dt_op_fail(op);
        return;
    }
    op->resp = resp;
    if (op->kind == DT_OP_START) {
        accept_start(op, body, len);
        return;
    }
    if (op->kind == DT_OP_TRANSLATE) {
        char *copy = malloc(len + 1);
        if (copy == NULL) {
            dt_op_set_error(op, &op->err, DT_ERR_PROTOCOL, resp, "out of memory");
            dt_op_fail(op);
            return;
        }
        if (len > 0)
            memcpy(copy, body, len);
        copy[len] = '\0';
        dt_translate_accept(op, copy, len, (long long)len);
        return;
    }
    judge_body(op, resp, dt_page_parse(body, len, dt_conf_max_depth(op->conf),
                                       dt_conf_max_string(op->conf), why, sizeof why), why);
}

void dt_op_feed_error_resp(dt_op *op, dt_err_kind kind, const char *message, const dt_resp *r)
{
    if (op->state != ST_INFLIGHT)
        return;
    drop_slot(op);
    /* a start that may have reached the service is never sent again, nor a
     * translation whose upload had begun (it may have been charged) */
    if ((kind == DT_ERR_NETWORK || kind == DT_ERR_TIMEOUT) && op->kind != DT_OP_START &&
        !(op->kind == DT_OP_TRANSLATE && op->upload_started) && schedule_retry(op, -1)) {
        note_retry(op, kind, message, r);
        return;
    }
    if ((kind == DT_ERR_NETWORK || kind == DT_ERR_TIMEOUT) && op->kind == DT_OP_TRANSLATE)
        dt_op_set_error(op, &op->err, kind, NULL,
                        "%s (not sent again: the upload had begun, and the service may have "
                        "translated and charged for the document)",
                        message);
    else
        dt_op_set_error(op, &op->err, kind, NULL, "%s", message);
    /* ids only: the status of an answer that never completed is not its result */
    resp_ids(&op->err, r);
    op->state = ST_ERROR;
}

void dt_op_feed_error(dt_op *op, dt_err_kind kind, const char *message)
{
    dt_op_feed_error_resp(op, kind, message, NULL);
}

void dt_op_consumed(dt_op *op, size_t n)
{
    if (op->offset + n > op->count)
        n = op->count - op->offset;
    op->offset += n;
    op->handed += (long long)n;
}

void dt_op_release(dt_op *op)
{
    drop_slot(op);
    if (op->state == ST_READY)
        op->state = ST_DONE;
}

/* ------------------------------------------------------------- deadline */

void dt_op_expire(dt_op *op, const dt_resp *r)
{
    dt_error *e = &op->err;
    const dt_error *last = &op->retried;
    const char *ra = r ? dt_resp_get(r, "apim-request-id") : NULL;
    const char *rx = r ? dt_resp_get(r, "x-requestid") : NULL;
    if (op->state == ST_DONE || op->state == ST_ERROR)
        return;
    if (op->state == ST_READY && (op->kind != DT_OP_DOCUMENTS || op->url == NULL ||
                                  op->pending.kind != DT_ERR_NONE))
        return; /* complete: the result, or the last page, is in the slot */
    if (op->state == ST_READY && op->offset < op->count)
        e = &op->pending; /* the page received goes out first */
    if (last->kind != DT_ERR_NONE)
        dt_op_set_error(op, e, DT_ERR_TIMEOUT, NULL,
                  "the deadline of %g s passed (the last try failed: %s)", op->deadline,
                  last->message ? last->message : dt_err_kind_name(last->kind));
    else
        dt_op_set_error(op, e, DT_ERR_TIMEOUT, NULL, "the deadline of %g s passed", op->deadline);
    if (ra == NULL && rx == NULL) {
        ra = last->apim_request_id;
        rx = last->x_requestid;
    }
    e->apim_request_id = dt_strdup(ra);
    e->x_requestid = dt_strdup(rx);
    if (e == &op->pending)
        return;
    drop_slot(op);
    op->state = ST_ERROR;
}

int dt_op_at_deadline(const dt_op *op, double now)
{
    /* a transport's timer may fire a few ms before the time it was given */
    return op->deadline_at > 0 && now >= op->deadline_at - 0.005;
}

double dt_op_deadline(dt_op *op, double now)
{
    double left;
    if (op->deadline <= 0)
        return -1;
    if (op->deadline_at <= 0)
        op->deadline_at = now + op->deadline;
    left = op->deadline_at - now;
    if (op->state == ST_DONE || op->state == ST_ERROR || op->pending.kind != DT_ERR_NONE)
        return left > 0 ? left : 0;
    if (left <= 0 || (op->state == ST_WAIT && op->wait >= left)) {
        dt_op_expire(op, NULL);
        if (op->state == ST_ERROR || op->pending.kind != DT_ERR_NONE)
            return 0;
    }
    return left > 0 ? left : 0;
}


/* A header value goes out exactly as it is, or not at all: the entry points
 * refuse what could not (dt_guard.h); this is the last line. */
static void emit_exact(dt_header_fn emit, void *ud, const char *name, const char *value)
{
    if (value != NULL && dt_header_value_why(value, strlen(value)) == NULL)
        emit(ud, name, value);
}

void dt_op_headers(const dt_op *op, dt_header_fn emit, void *ud)
{
    dt_origin o;
    const dt_conf *c = op->conf;
    emit(ud, "Accept", op->kind == DT_OP_TRANSLATE ? "*/*" : "application/json");
    if (op->body != NULL)
        emit(ud, "Content-Type", "application/json");
    if (op->url != NULL && dt_url_origin(op->url, &o) == 0 && dt_origin_equal(&o, &c->origin)) {
        if (c->key != NULL) {
            emit_exact(emit, ud, "Ocp-Apim-Subscription-Key", c->key);
        } else if (c->token != NULL) {
            char bearer[DT_MAX_HEADER_VALUE + 8];
            if (dt_header_value_why(c->token, strlen(c->token)) == NULL) {
                snprintf(bearer, sizeof bearer, "Bearer %s", c->token);
                emit(ud, "Authorization", bearer);
                memset(bearer, 0, sizeof bearer);
            }
        }
    }
    emit_exact(emit, ud, "Ocp-Apim-Subscription-Region", c->region);
    emit(ud, "x-ms-client-request-id", op->client_id);
    emit_exact(emit, ud, "User-Agent", c->user_agent);
}

int dt_op_has_items(const dt_op *op)
{
    return op->state == ST_READY && op->kind == DT_OP_DOCUMENTS && op->page != NULL &&
           op->offset < op->count;
}

int dt_op_needs_io(const dt_op *op)
{
    switch (op->state) {
    case ST_NEED:
    case ST_INFLIGHT:
    case ST_WAIT:
        return 1;
    case ST_READY:
        return op->kind == DT_OP_DOCUMENTS && op->offset >= op->count &&
               op->pending.kind == DT_ERR_NONE && op->url != NULL;
    default:
        return 0;
    }
}

int dt_op_listed_all(const dt_op *op)
{
    return op->state == ST_DONE || (op->state == ST_READY && op->offset >= op->count &&
                                    op->url == NULL && op->pending.kind == DT_ERR_NONE);
}

int dt_op_inflight(const dt_op *op)
{
    return op->state == ST_INFLIGHT;
}
