#include "dt_cont.h"
#include "dt_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_field(dt_buf *b, const char *name, const char *value)
{
    if (value == NULL)
        return 0;
    return dt_buf_addc(b, '&') || dt_buf_adds(b, name) || dt_buf_addc(b, '=') ||
           dt_buf_add_escaped(b, value);
}

char *dt_op_continuation(const dt_op *op)
{
    dt_buf b;
    char num[64];
    long long skip = op->q.skip + op->handed;
    long long top = op->q.top >= 0 ? op->q.top - op->handed : -1;
    int failed;
    dt_buf_init(&b);
    if (op->list_jobs)
        failed = dt_buf_adds(&b, "dt1:jobs=1");
    else
        failed = dt_buf_adds(&b, "dt1:job=") || dt_buf_add_escaped(&b, op->job_id);
    snprintf(num, sizeof num, "%lld", skip);
    failed = failed || add_field(&b, "skip", num);
    if (top >= 0) {
        snprintf(num, sizeof num, "%lld", top);
        failed = failed || add_field(&b, "top", num);
    }
    if (op->q.page_size > 0) {
        snprintf(num, sizeof num, "%d", op->q.page_size);
        failed = failed || add_field(&b, "ps", num);
    }
    failed = failed || add_field(&b, "st", op->q.statuses) || add_field(&b, "ids", op->q.ids) ||
             add_field(&b, "ca", op->q.created_after) ||
             add_field(&b, "cb", op->q.created_before) || add_field(&b, "ob", op->q.order_by);
    /* a listing that already ended says so, so a resume costs no request */
    if (!failed && dt_op_listed_all(op))
        failed = add_field(&b, "end", "1");
    if (failed) {
        dt_buf_free(&b);
        return NULL;
    }
    return dt_buf_take(&b);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Unescapes in place; -1 on a bad escape. */
static int unescape(char *s)
{
    char *w = s;
    for (; *s != '\0'; s++) {
        if (*s == '%') {
            int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
            if (hi < 0 || lo < 0)
                return -1;
            *w++ = (char)(hi * 16 + lo);
            s += 2;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
    return 0;
}

static int parse_ll(const char *s, long long *out)
{
    char *end;
    long long v;
    if (*s == '\0')
        return -1;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || v < 0)
        return -1;
    *out = v;
    return 0;
}

int dt_op_parse_continuation(const char *token, const char *job_id, dt_list_query *q,
                             char **storage, const char **why)
{
    char *s, *p;
    int have_job = 0;
    *storage = NULL;
    if (strncmp(token, "dt1:", 4) != 0) {
        *why = "is not a continuation token of this module";
        return -1;
    }
    s = dt_strdup(token + 4);
    if (s == NULL) {
        *why = "out of memory";
        return -1;
    }
    *storage = s;
    q->statuses = q->ids = q->created_after = q->created_before = q->order_by = NULL;
    q->top = -1;
    q->skip = 0;
    q->page_size = -1;
    for (p = s; p != NULL && *p != '\0';) {
        char *amp = strchr(p, '&'), *eq;
        long long v;
        if (amp != NULL)
            *amp = '\0';
        eq = strchr(p, '=');
        if (eq == NULL)
            goto bad;
        *eq = '\0';
        if (unescape(eq + 1) != 0)
            goto bad;
        if (strcmp(p, "jobs") == 0) {
            if (job_id != NULL) {
                *why = "belongs to the job list";
                return -1;
            }
            have_job = 1;
        } else if (strcmp(p, "job") == 0) {
            if (job_id == NULL) {
                *why = "belongs to a document listing";
                return -1;
            }
            if (strcmp(eq + 1, job_id) != 0) {
                *why = "belongs to another job";
                return -1;
            }
            have_job = 1;
        } else if (strcmp(p, "skip") == 0) {
            if (parse_ll(eq + 1, &v))
                goto bad;
            q->skip = v;
        } else if (strcmp(p, "top") == 0) {
            if (parse_ll(eq + 1, &v))
                goto bad;
            q->top = v;
        } else if (strcmp(p, "ps") == 0) {
            if (parse_ll(eq + 1, &v) || v < 1 || v > 100)
                goto bad;
            q->page_size = (int)v;
        } else if (strcmp(p, "st") == 0) {
            q->statuses = eq + 1;
        } else if (strcmp(p, "ids") == 0) {
            q->ids = eq + 1;
        } else if (strcmp(p, "ca") == 0) {
            q->created_after = eq + 1;
        } else if (strcmp(p, "cb") == 0) {
            q->created_before = eq + 1;
        } else if (strcmp(p, "ob") == 0) {
            q->order_by = eq + 1;
        } else if (strcmp(p, "end") == 0) {
            q->top = 0;
        } else {
            goto bad;
        }
        p = amp ? amp + 1 : NULL;
    }
    if (!have_job)
        goto bad;
    return 0;
bad:
    *why = "is malformed";
    return -1;
}
