/* The single-document translation (POST document:translate): its request is
 * a multipart body the core describes (dt_part) and a runner moves; its
 * answer is the translated document's bytes, not JSON. Retries follow
 * dt_op.c's rules, but for what may already have been charged (see
 * dt_op_new_translate in dt_op.h). */
#include "dt_op_impl.h"

#include <stdlib.h>
#include <string.h>

static int copy_part(dt_part *d, const dt_part_in *s)
{
    memset(d, 0, sizeof *d);
    d->name = dt_strdup(s->name);
    d->filename = dt_strdup(s->filename);
    d->content_type = dt_strdup(s->content_type);
    d->path = dt_strdup(s->path);
    d->len = s->len;
    d->size = s->size;
    if (s->data != NULL) {
        d->data = malloc(s->len > 0 ? s->len : 1);
        if (d->data != NULL && s->len > 0)
            memcpy(d->data, s->data, s->len);
    }
    return (s->name && !d->name) || (s->filename && !d->filename) ||
                   (s->content_type && !d->content_type) || (s->path && !d->path) ||
                   (s->data && !d->data)
               ? -1
               : 0;
}

void dt_parts_free(dt_op *op)
{
    size_t i;
    for (i = 0; i < op->nparts; i++) {
        dt_part *p = &op->parts[i];
        free(p->name);
        free(p->filename);
        free(p->content_type);
        free(p->path);
        free(p->data);
    }
    free(op->parts);
    op->parts = NULL;
    op->nparts = 0;
    free(op->output);
    op->output = NULL;
    free(op->raw);
    op->raw = NULL;
}

dt_op *dt_op_new_translate(dt_conf *conf, const dt_translate_req *q)
{
    size_t i;
    dt_op *op = dt_op_single(conf, DT_OP_TRANSLATE, "POST",
                             dt_url_translate(conf->endpoint, conf->api_version, q->to, q->from,
                                              q->category, q->allow_fallback,
                                              q->text_within_image),
                             NULL, NULL);
    if (op == NULL)
        return NULL;
    op->parts = calloc(q->nparts > 0 ? q->nparts : 1, sizeof *op->parts);
    op->output = dt_strdup(q->output);
    if (op->parts == NULL || (q->output && !op->output)) {
        dt_op_free(op);
        return NULL;
    }
    for (i = 0; i < q->nparts; i++) {
        op->nparts = i + 1;
        if (copy_part(&op->parts[i], &q->parts[i]) != 0) {
            dt_op_free(op);
            return NULL;
        }
    }
    return op;
}

void dt_op_upload_started(dt_op *op)
{
    op->upload_started = 1;
}

/* A 2xx answer: the result is the response and the bytes (body, or what
 * went to the output file). */
void dt_translate_accept(dt_op *op, char *body, size_t len, long long size)
{
    free(op->raw);
    op->raw = body;
    op->raw_len = len;
    op->raw_size = size;
    free(op->url);
    op->url = NULL;
    op->state = ST_READY;
}

void dt_op_feed_file(dt_op *op, dt_resp *resp, long long size)
{
    if (op->state != ST_INFLIGHT || resp == NULL || resp->status < 200 || resp->status >= 300) {
        dt_op_feed(op, resp, NULL, 0);
        return;
    }
    dt_resp_unref(op->resp);
    op->resp = resp;
    dt_translate_accept(op, NULL, 0, size);
}
