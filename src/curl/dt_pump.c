#include "dt_pump.h"
#include "dt_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- dt_pump */

int dt_pump_init(dt_pump *p, dt_multi *mt, const dt_curl_opts *copts, dt_op *op, int prefetch)
{
    int i;
    memset(p, 0, sizeof *p);
    p->cur = -1;
    for (i = 0; i < DT_PUMP_SLOTS; i++)
        p->ahead_skip[i] = -1;
    p->op = op;
    p->copts = copts;
    p->prefetch = prefetch;
    p->mt = dt_multi_ref(mt);
    return mt != NULL ? 0 : -1;
}

void dt_pump_windows(dt_pump *p, int n, long long end)
{
    if (n > DT_PUMP_MAX_WINDOWS)
        n = DT_PUMP_MAX_WINDOWS;
    p->windows = n;
    p->win_end = end;
    p->win_state = n > 0 ? 1 : 0;
}

static void forget_transfer(dt_curl *c)
{
    dt_multi_remove(c);
    if (c->easy != NULL)
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(c->headers); /* it held the secret */
    c->headers = NULL;
    c->done = 0;
}

static void drop_ahead(dt_pump *p, int i)
{
    if (p->ahead_url[i] == NULL)
        return;
    forget_transfer(p->x[i]);
    free(p->ahead_url[i]);
    p->ahead_url[i] = NULL;
    p->ahead_skip[i] = -1;
    p->nahead--;
}

static void cancel_aheads(dt_pump *p)
{
    int i;
    for (i = 0; i < DT_PUMP_SLOTS; i++)
        drop_ahead(p, i);
}

void dt_pump_close(dt_pump *p)
{
    int i;
    cancel_aheads(p);
    for (i = 0; i < DT_PUMP_SLOTS; i++) {
        if (p->x[i] != NULL) {
            dt_curl_close(p->x[i]);
            free(p->x[i]);
            p->x[i] = NULL;
        }
    }
    p->cur = -1;
    free(p->last_url);
    p->last_url = NULL;
    dt_multi_unref(p->mt);
    p->mt = NULL;
}

void dt_pump_abandon(dt_pump *p)
{
    int i;
    for (i = 0; i < DT_PUMP_SLOTS; i++) {
        free(p->ahead_url[i]);
        p->ahead_url[i] = NULL;
        p->ahead_skip[i] = -1;
        if (p->x[i] != NULL) {
            dt_curl_abandon(p->x[i]);
            free(p->x[i]);
            p->x[i] = NULL;
        }
    }
    p->nahead = 0;
    p->mt = NULL; /* the parent's: neither unreferenced nor cleaned up here */
    dt_pump_close(p);
}

static dt_curl *slot(dt_pump *p, int i)
{
    const char *why = NULL;
    dt_curl *c = p->x[i];
    if (c != NULL)
        return c;
    c = malloc(sizeof *c);
    if (c == NULL)
        return NULL;
    if (dt_curl_open(c, p->copts, &why) != 0) {
        dt_curl_close(c);
        free(c);
        return NULL;
    }
    dt_curl_attach(c, p->mt);
    p->x[i] = c;
    return c;
}

static int free_slot(const dt_pump *p)
{
    int i;
    for (i = 0; i < DT_PUMP_SLOTS; i++)
        if (i != p->cur && p->ahead_url[i] == NULL)
            return i;
    return -1;
}

static char *dup_s(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* The id the next call of op will carry (a version 4 UUID, as dt_op makes). */
static void next_call_id(dt_op *op, char *out, size_t n)
{
    uint64_t a = dt_conf_random(op->conf), b = dt_conf_random(op->conf);
    a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x4000ULL;
    b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    snprintf(out, n, "%08lx-%04lx-%04lx-%04lx-%012llx", (unsigned long)(a >> 32),
             (unsigned long)((a >> 16) & 0xFFFF), (unsigned long)(a & 0xFFFF),
             (unsigned long)(b >> 48), (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
}

static void note(dt_pump *p, dt_pump_event ev)
{
    if (p->event != NULL)
        p->event(p->event_ud, ev, p);
}

/* May a piece of work that lately cost about *avg start in this poll? A
 * piece put off once runs at the next poll, so none waits for ever. */
static int fits(dt_pump *p, const double *avg)
{
    if (p->slice <= 0 || p->put_off || dt_now() - p->poll_started + *avg <= p->slice) {
        p->put_off = 0;
        return 1;
    }
    p->put_off = 1;
    return 0;
}

/* Folds what a piece cost (since t0) into its moving average. */
static void cost(double *avg, double t0)
{
    double t = dt_now() - t0;
    *avg = *avg > 0 ? 0.75 * *avg + 0.25 * t : t;
}

/* Sends url (owned: taken) ahead of op, for the offset skip (-1: url only). */
static void send_ahead(dt_pump *p, char *url, long long skip)
{
    dt_op *op = p->op;
    dt_curl *c;
    int i = free_slot(p);
    if (url == NULL)
        return;
    if (i < 0 || (c = slot(p, i)) == NULL) {
        free(url);
        return;
    }
    next_call_id(op, p->ahead_id[i], sizeof p->ahead_id[i]);
    dt_curl_prepare_url(c, op, url, p->ahead_id[i]);
    if (dt_multi_add(c) != 0) {
        forget_transfer(c);
        free(url);
        return;
    }
    p->ahead_url[i] = url;
    p->ahead_skip[i] = skip;
    p->nahead++;
}

static void give_up_windows(dt_pump *p, const char *why)
{
    p->win_state = 0;
    p->fallback = why;
    note(p, DT_PUMP_EV_SEQUENTIAL);
}

/* Page N is in op's slot and its next link judged (dt_op sets op->url only
 * for a link it will follow: same origin, not seen before, within top and
 * max_pages). Windows: the next pages by offset; prefetch: that link. */
static void start_ahead(dt_pump *p)
{
    dt_op *op = p->op;
    long long sk;
    double t0;
    if (p->cur >= 0 || op->kind != DT_OP_DOCUMENTS || op->url == NULL ||
        op->pending.kind != DT_ERR_NONE || strcmp(op->method, "GET") != 0 ||
        !dt_op_has_items(op))
        return;
    if (!(p->win_state == 1 || (p->win_state == 2 && p->nahead < p->windows && p->win_next < p->win_end) ||
          (p->prefetch && p->nahead == 0)))
        return; /* nothing to send */
    if (!fits(p, &p->cost_send))
        return;
    t0 = dt_now();
    if (p->before != NULL && !p->before(p->event_ud, op))
        return;
    if (p->win_state == 1) {
        /* the first page: does the service page by offset, where we expect? */
        if (dt_url_query_int(op->url, "skip", "$skip", &sk) != 0 ||
            sk != op->q.skip + op->received || op->received <= 0) {
            give_up_windows(p, "the service's next link does not page by skip");
        } else {
            p->win_state = 2;
            p->win_next = sk;
            p->win_stride = op->received;
            if (op->conf->max_pages > 0 &&
                p->win_end > op->q.skip + op->conf->max_pages * p->win_stride)
                p->win_end = op->q.skip + op->conf->max_pages * p->win_stride; /* no page past the cap */
        }
    }
    if (p->win_state == 2) {
        while (p->nahead < p->windows && p->win_next < p->win_end) {
            dt_list_query q = op->q;
            long long off = p->win_next;
            q.skip = off;
            if (op->q.top >= 0)
                q.top = op->q.top - (off - op->q.skip);
            if (free_slot(p) < 0)
                break;
            send_ahead(p, dt_url_documents(op->conf->endpoint, op->conf->api_version,
                                           op->job_id, &q), off);
            p->win_next += p->win_stride;
        }
        if (p->nahead > 0 || !p->prefetch) {
            dt_multi_pump(p->mt);
            cost(&p->cost_send, t0);
            return;
        }
        /* past the job's total, yet a next link: on one page ahead */
    }
    if (p->prefetch && p->nahead == 0) {
        send_ahead(p, dup_s(op->url), -1);
        dt_multi_pump(p->mt); /* the request leaves now, not at the next poll */
    }
    cost(&p->cost_send, t0);
}

/* The transfer of slot cur ended: feed op. Every body is read whole by
 * dt_page (dt_page.h) within any slice: about 2 us for a 4 KiB job, 20 us
 * for a page of 100 documents. */
static void finish(dt_pump *p)
{
    dt_curl *c = p->x[p->cur];
    dt_op *op = p->op;
    free(p->last_url);
    p->last_url = op->url != NULL ? dup_s(op->url) : NULL;
    p->last_method = op->method;
    p->cur = -1;
    c->done = 0;
    dt_curl_finish(c, op, c->rc);
    p->last_status = c->last_status;
    p->last_seconds = c->last_seconds;
    note(p, DT_PUMP_EV_RESPONSE);
    p->last_prefetched = 0;
}

/* The slot fetching what op asks for now, or -1. */
static int find_ahead(const dt_pump *p, const char *url)
{
    long long sk = -1;
    int i, by_skip = p->win_state == 2 && dt_url_query_int(url, "skip", "$skip", &sk) == 0;
    for (i = 0; i < DT_PUMP_SLOTS; i++) {
        if (p->ahead_url[i] == NULL)
            continue;
        if (strcmp(p->ahead_url[i], url) == 0 || (by_skip && p->ahead_skip[i] == sk))
            return i;
    }
    return -1;
}

/* 0 sent (or adopted), 1 op was fed an error, 2 put off to the next poll
 * (the slice), -1 no transfer could start */
static int start_request(dt_pump *p)
{
    dt_op *op = p->op;
    dt_curl *c;
    double t0;
    int i = op->url != NULL ? find_ahead(p, op->url) : -1;
    if (i >= 0) {
        /* the page fetched ahead is this request: it becomes the call (op's
         * url stays the one it judged, for relative links and the checks) */
        memcpy(op->client_id, p->ahead_id[i], sizeof op->client_id);
        free(p->ahead_url[i]);
        p->ahead_url[i] = NULL;
        p->ahead_skip[i] = -1;
        p->nahead--;
        p->cur = i;
        p->last_prefetched = 1;
        return 0;
    }
    if (!fits(p, &p->cost_send))
        return 2;
    t0 = dt_now();
    if (p->win_state != 2 || free_slot(p) < 0)
        cancel_aheads(p); /* a request nobody foresaw: what ran ahead is stale */
    if (p->before != NULL && !p->before(p->event_ud, op))
        return 1;
    i = free_slot(p);
    if (i < 0 || (c = slot(p, i)) == NULL)
        return -1;
    dt_curl_prepare(c, op);
    if (dt_multi_add(c) != 0) {
        forget_transfer(c);
        return -1;
    }
    p->cur = i;
    dt_multi_pump(p->mt);
    cost(&p->cost_send, t0);
    return 0;
}

dt_pump_state dt_pump_poll(dt_pump *p)
{
    dt_op *op = p->op;
    int round, sent;
    if (p->mt == NULL)
        return DT_PUMP_ERROR;
    p->poll_started = dt_now();
    if (p->cur >= 0 || p->nahead > 0)
        dt_multi_pump(p->mt);
    if (p->cur >= 0 && p->x[p->cur]->progress) {
        p->x[p->cur]->progress = 0;
        note(p, DT_PUMP_EV_PROGRESS);
    }
    for (round = 0; round < 8; round++) {
        dt_step s;
        if (p->cur >= 0) {
            double t0;
            if (!p->x[p->cur]->done || !fits(p, &p->cost_read))
                return DT_PUMP_BUSY;
            t0 = dt_now();
            finish(p); /* the one parse of this poll */
            cost(&p->cost_read, t0);
        }
        if (p->wait_until > 0) {
            if (dt_now() < p->wait_until)
                return DT_PUMP_BUSY;
            p->wait_until = 0;
        }
        if (dt_op_has_items(op)) {
            start_ahead(p);
            return DT_PUMP_READY;
        }
        dt_op_deadline(op, dt_now()); /* the clock is the driver's (dt_op.h) */
        s = dt_op_step(op);
        switch (s) {
        case DT_STEP_REQUEST:
            sent = start_request(p);
            if (sent == 2)
                return DT_PUMP_BUSY; /* op asks for it again at the next poll */
            if (sent < 0)
                dt_op_feed_error(op, DT_ERR_NETWORK, "could not start a transfer (libcurl)");
            break;
        case DT_STEP_WAIT:
            p->wait_until = dt_now() + op->wait;
            note(p, DT_PUMP_EV_RETRY);
            break;
        case DT_STEP_READY:
            return DT_PUMP_READY;
        case DT_STEP_DONE:
            cancel_aheads(p);
            return DT_PUMP_DONE;
        default:
            cancel_aheads(p);
            note(p, DT_PUMP_EV_ERROR);
            return DT_PUMP_ERROR;
        }
    }
    return DT_PUMP_BUSY;
}

double dt_pump_due(const dt_pump *p)
{
    double d;
    if (p->cur >= 0)
        return p->x[p->cur]->done ? 0 : -1; /* an ended transfer is read at once */
    if (p->wait_until > 0) {
        d = p->wait_until - dt_now();
        return d > 0 ? d : 0;
    }
    if (dt_op_has_items(p->op))
        return p->nahead > 0 ? -1 : 0;
    return 0;
}

dt_pump_state dt_pump_run(dt_pump *p)
{
    for (;;) {
        dt_pump_state st = dt_pump_poll(p);
        if (st != DT_PUMP_BUSY)
            return st;
        if (p->cur < 0 && p->wait_until > 0)
            dt_sleep(p->wait_until - dt_now());
        else
            dt_multi_wait(p->mt, 1000);
    }
}
