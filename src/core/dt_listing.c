/* The pages of a listing: which documents of a page can be trusted (no
 * repeat, no more than top, each a document), and where the next page is
 * (a next link on the configured origin, at the offset due, never followed
 * twice, within max_pages). */
#include "dt_op_impl.h"
#include "dt_buf.h"

#include <stdlib.h>
#include <string.h>

/* A next-link member (0 "@nextLink", 1 "nextLink") that is present, not null, and not a string. */
static int link_is_bad(const dt_page *pg, int k)
{
    return pg->has_link[k] && pg->link[k].type != DT_J_NULL && pg->link[k].type != DT_J_STRING;
}

static int link_usable(const dt_page *pg, int k)
{
    return pg->has_link[k] && pg->link[k].type == DT_J_STRING && pg->link[k].len > 0;
}

/* Whether the C string s of the link v was cut at a NUL it holds (\u0000):
 * what would be sent is not the link. */
static int link_cut(const dt_page *pg, const dt_span *v, const char *s)
{
    size_t n = strlen(s);
    if (!(v->flags & DT_JF_ESC))
        return n != (size_t)v->len;
    {
        char *full = malloc((size_t)v->len + 1);
        size_t m;
        if (full == NULL)
            return 1;
        m = dt_page_unescape(pg->body + v->off, v->len, full);
        free(full);
        return n != m;
    }
}

/* Hands out the page's documents up to the first that is not one or that
 * the listing already gave (the error follows them); 0, or -1 when op failed. */
static int take_ids(dt_op *op)
{
    const dt_page *pg = op->page;
    size_t n = pg->nitems, i;
    uint64_t *swap;

    /* ids: no document twice in this listing (every id while the set has room, and always
     * this page and the previous one) */
    if (n > op->ids_cap) {
        uint64_t *a = realloc(op->prev_ids, n * sizeof *a), *b;
        if (a != NULL)
            op->prev_ids = a;
        b = realloc(op->cur_ids, n * sizeof *b);
        if (b != NULL)
            op->cur_ids = b;
        if (a == NULL || b == NULL) {
            dt_op_set_error(op, &op->err, DT_ERR_PROTOCOL, op->resp, "out of memory");
            dt_op_fail(op);
            return -1;
        }
        op->ids_cap = n;
    }
    op->ncur = 0;
    for (i = 0; i < n; i++) {
        const dt_pmember *m = dt_page_member(pg, i, "id", 2);
        uint64_t h;
        if (m == NULL || m->val.type != DT_J_STRING) {
            /* not a document or job: the items before it are handed out, then the error */
            dt_op_set_error(op, &op->pending, DT_ERR_PARSE, op->resp,
                      "item %zu of the page is not a %s with an \"id\" string", i + 1,
                      op->list_jobs ? "job" : "document");
            break;
        }
        h = dt_hash_span(pg, &m->val);
        /* while the set grows it holds every id so far, this page's and the previous one's */
        if (dt_idset_has(&op->seen, h) ||
            (op->seen.full && (dt_hash_in(op->prev_ids, op->nprev, h) || dt_hash_in(op->cur_ids, op->ncur, h)))) {
            char *id = dt_page_cstr(pg, &m->val);
            dt_op_set_error(op, &op->pending, DT_ERR_PROTOCOL, op->resp,
                      "the service listed %s %s twice; the listing stops before the repeat",
                      op->list_jobs ? "job" : "document", id ? id : "?");
            free(id);
            break;
        }
        op->cur_ids[op->ncur++] = h;
        dt_idset_add(&op->seen, h);
    }
    op->count = i;
    op->received += (long long)n;
    swap = op->prev_ids;
    op->prev_ids = op->cur_ids;
    op->cur_ids = swap;
    op->nprev = op->ncur;
    op->ncur = 0;

    /* top: never more than asked for */
    if (op->top_left >= 0) {
        if ((long long)op->count > op->top_left)
            op->count = (size_t)op->top_left;
        op->top_left -= (long long)op->count;
    }

    return 0;
}

/* The page's next link as a C string (malloc'd), or NULL: none (the listing
 * ends), or op->pending set when the link cannot be used. */
static char *page_link(dt_op *op)
{
    const dt_page *pg = op->page;
    char *link = NULL;
    /* a next link that is neither a string nor null would end the listing silently */
    if (link_is_bad(pg, 0) || link_is_bad(pg, 1)) {
        dt_op_set_error(op, &op->pending, DT_ERR_PROTOCOL, op->resp,
                  "the service sent a next link that is not a string; the listing stops here");
        return NULL;
    }
    if (link_usable(pg, 0) || link_usable(pg, 1)) {
        const dt_span *v = &pg->link[link_usable(pg, 0) ? 0 : 1];
        link = dt_page_cstr(pg, v);
        if (link == NULL) {
            dt_op_set_error(op, &op->pending, DT_ERR_PROTOCOL, op->resp, "out of memory");
            return NULL;
        }
        if (link_cut(pg, v, link)) {
            free(link);
            dt_op_set_error(op, &op->pending, DT_ERR_PROTOCOL, op->resp,
                      "the service sent a next link that cannot be sent (it holds a NUL)");
            return NULL;
        }
    }
    return link;
}


/* Follows link (taken) from the request to current: resolved against the
 * endpoint, checked, and made the op's next request; else op->pending. */
static void follow_link(dt_op *op, const char *current, char *link)
{
    char *next = dt_url_resolve_next(op->conf->endpoint, current, link, op->conf->api_version);
    dt_origin o;
    uint64_t h;
    free(link);
    if (next == NULL || dt_url_origin(next, &o) != 0) {
        dt_op_set_error(op, &op->pending, DT_ERR_PROTOCOL, op->resp,
                  "the service sent a next link that cannot be resolved");
        free(next);
        return;
    }
    if (!dt_origin_equal(&o, &op->conf->origin)) {
        char *red = dt_url_redact(next);
        dt_op_set_error(op, &op->pending, DT_ERR_PROTOCOL, op->resp,
                  "the service sent a next link to another origin (%s); it was not followed",
                  red ? red : "?");
        free(red);
        free(next);
        return;
    }
    {
        /* a next link that names its offset must continue exactly where
         * this page ended: lower repeats documents, higher loses some */
        long long skip, expect = op->q.skip + op->received;
        if (dt_url_query_int(next, "skip", "$skip", &skip) == 0 && skip != expect) {
            dt_op_set_error(op, &op->pending, DT_ERR_PROTOCOL, op->resp,
                      "the service sent a next link at offset %lld where %lld was due; "
                      "following it would %s documents",
                      skip, expect, skip < expect ? "repeat" : "lose");
            free(next);
            return;
        }
    }
    h = dt_hash_str(next);
    if (dt_hash_in(op->links, op->nlinks < DT_LINK_RING ? op->nlinks : DT_LINK_RING, h)) {
        dt_op_set_error(op, &op->pending, DT_ERR_PROTOCOL, op->resp,
                  "the service sent a next link already followed in this listing");
        free(next);
        return;
    }
    if (op->conf->max_pages > 0 && op->pages >= op->conf->max_pages) {
        dt_op_set_error(op, &op->pending, DT_ERR_PROTOCOL, op->resp,
                  "the listing reached the cap of %lld pages (max_pages)", op->conf->max_pages);
        free(next);
        return;
    }
    op->links[op->nlinks % DT_LINK_RING] = h;
    op->nlinks++;
    if (op->count == 0) {
        if (++op->empty_run > DT_MAX_EMPTY_PAGES) {
            dt_op_set_error(op, &op->pending, DT_ERR_PROTOCOL, op->resp,
                      "the service keeps sending empty pages with a next link");
            free(next);
            return;
        }
    } else {
        op->empty_run = 0;
    }
    op->page_next = dt_strdup(next);
    op->url = next;
}

void dt_listing_accept(dt_op *op, const char *current)
{
    char *link;
    if (take_ids(op) != 0)
        return;
    if (op->pending.kind != DT_ERR_NONE || op->top_left == 0)
        return;
    link = page_link(op);
    if (link == NULL) {
        if (op->pending.kind == DT_ERR_NONE)
            op->empty_run = 0;
        return;
    }
    follow_link(op, current, link);
}
