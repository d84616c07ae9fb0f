/* Records of one HTTP answer: its status and headers, shared by reference
 * by every object made from it; and the error value of an operation. */
#include "dt_resp.h"
#include "dt_buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

dt_resp *dt_resp_new(long status)
{
    dt_resp *r = calloc(1, sizeof *r);
    if (r != NULL) {
        r->refs = 1;
        r->status = status;
    }
    return r;
}

dt_resp *dt_resp_ref(dt_resp *r)
{
    if (r != NULL)
        r->refs++;
    return r;
}

void dt_resp_unref(dt_resp *r)
{
    size_t i;
    if (r == NULL || --r->refs > 0)
        return;
    for (i = 0; i < r->n; i++) {
        free(r->h[i].name);
        free(r->h[i].value);
    }
    free(r->h);
    free(r);
}

int dt_resp_add(dt_resp *r, const char *name, size_t nlen, const char *value, size_t vlen)
{
    dt_header *h;
    size_t i;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        h = realloc(r->h, cap * sizeof *h);
        if (h == NULL)
            return -1;
        r->h = h;
        r->cap = cap;
    }
    h = &r->h[r->n];
    h->name = malloc(nlen + 1);
    h->value = malloc(vlen + 1);
    if (h->name == NULL || h->value == NULL) {
        free(h->name);
        free(h->value);
        return -1;
    }
    for (i = 0; i < nlen; i++)
        h->name[i] = (char)tolower((unsigned char)name[i]);
    h->name[nlen] = '\0';
    memcpy(h->value, value, vlen);
    h->value[vlen] = '\0';
    r->n++;
    return 0;
}

const char *dt_resp_get(const dt_resp *r, const char *lower_name)
{
    size_t i;
    if (r == NULL)
        return NULL;
    for (i = 0; i < r->n; i++)
        if (strcmp(r->h[i].name, lower_name) == 0)
            return r->h[i].value;
    return NULL;
}

/* --------------------------------------------------------------- error */

const char *dt_err_kind_name(dt_err_kind k)
{
    switch (k) {
    case DT_ERR_HTTP: return "http";
    case DT_ERR_NETWORK: return "network";
    case DT_ERR_TIMEOUT: return "timeout";
    case DT_ERR_PARSE: return "parse";
    case DT_ERR_PROTOCOL: return "protocol";
    case DT_ERR_USAGE: return "usage";
    default: return "none";
    }
}

void dt_error_clear(dt_error *e)
{
    free(e->code);
    free(e->message);
    free(e->target);
    free(e->apim_request_id);
    free(e->x_requestid);
    free(e->client_request_id);
    dt_page_unref(e->inner_page);
    memset(e, 0, sizeof *e);
    e->retry_after = -1;
}

void dt_error_move(dt_error *dst, dt_error *src)
{
    dt_error_clear(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
    src->retry_after = -1;
}

