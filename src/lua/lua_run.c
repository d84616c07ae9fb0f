/* The libcurl runner of the binding: every operation a libcurl client runs
 * goes through a dt_pump here, over the client's one multi handle (one pool
 * of kept-alive connections). Blocking calls run the pump to a result
 * (dt_run); the async objects poll it (lua_async.c). Log lines of every
 * transfer and token refreshes before each request are decided here once.
 *
 * Callbacks (the log, a token function) run inside the pump; whatever they
 * do to the object being run, the client or the listing, must not free what
 * the pump holds: holders and async objects count their runs (busy), and a
 * close from inside one is put off until the run returns, which then ends
 * with a usage error instead of a short result. */
#include "lua_dt.h"

#include <stdlib.h>

dt_multi *dt_client_multi(dt_client *cl)
{
    if (cl->multi == NULL)
        cl->multi = dt_multi_new();
    return cl->multi;
}

/* The log lines of every runner (the pump's events here, a Lua transport's
 * requests in lua_pages.c): one wording for each. */
void dt_log_response(lua_State *L, dt_client *cl, const char *method, const char *url, long status,
                     double seconds, int prefetched)
{
    char *red;
    if (cl->log_ref == LUA_NOREF || cl->log_ref == LUA_REFNIL)
        return;
    red = dt_url_redact(url ? url : "");
    if (status > 0)
        dt_log(L, cl, "debug", "%s %s -> %ld (%.1f ms%s)", method, red ? red : "?", status,
               seconds * 1000.0, prefetched ? ", prefetched" : "");
    else
        dt_log(L, cl, "debug", "%s %s -> no response (%.1f ms%s)", method, red ? red : "?",
               seconds * 1000.0, prefetched ? ", prefetched" : "");
    free(red);
}

void dt_log_retry(lua_State *L, dt_client *cl, const dt_op *op)
{
    dt_log(L, cl, "warn", "retry %d of %d in %.3f s (x-ms-client-request-id %s)", op->attempt,
           cl->conf.retries, op->wait, op->client_id);
}

void dt_log_failure(lua_State *L, dt_client *cl, const dt_op *op)
{
    dt_log(L, cl, "debug", "%s error: %s", dt_err_kind_name(op->err.kind),
           op->err.message ? op->err.message : "");
}

static void lpump_event(void *ud, dt_pump_event ev, dt_pump *p)
{
    dt_lpump *lp = ud;
    if (lp->L == NULL || lp->cl == NULL)
        return;
    switch (ev) {
    case DT_PUMP_EV_RESPONSE:
        dt_log_response(lp->L, lp->cl, p->last_method, p->last_url, p->last_status,
                        p->last_seconds, p->last_prefetched);
        break;
    case DT_PUMP_EV_SEQUENTIAL:
        dt_log(lp->L, lp->cl, "info", "concurrency %d: %s; the listing runs sequentially",
               p->windows, p->fallback ? p->fallback : "?");
        break;
    case DT_PUMP_EV_RETRY:
        dt_log_retry(lp->L, lp->cl, p->op);
        break;
    default:
        dt_log_failure(lp->L, lp->cl, p->op);
        break;
    }
}

/* Credentials before each request (a token function may be due). */
static int lpump_before(void *ud, dt_op *op)
{
    dt_lpump *lp = ud;
    if (lp->L == NULL || lp->cl == NULL)
        return 1;
    return dt_auth_ready(lp->L, lp->cl, op);
}

dt_lpump *dt_lpump_new(dt_client *cl, dt_op *op, int prefetch)
{
    dt_lpump *lp;
    dt_multi *mt = dt_client_multi(cl);
    if (mt == NULL)
        return NULL;
    lp = calloc(1, sizeof *lp);
    if (lp == NULL)
        return NULL;
    dt_pump_init(&lp->pump, mt, &cl->copts, op, prefetch);
    lp->pump.event = lpump_event;
    lp->pump.before = lpump_before;
    lp->pump.event_ud = lp;
    return lp;
}

/* The pump of an operation begun before a fork is the parent's: a child
 * starts over with its own (after_fork renewed the client's multi handle). */
dt_lpump *dt_lpump_check(dt_lpump *lp, dt_client *cl)
{
    if (lp == NULL || lp->pump.mt == cl->multi)
        return lp;
    dt_pump_abandon(&lp->pump);
    free(lp);
    return NULL;
}

void dt_lpump_free(dt_lpump *lp)
{
    if (lp == NULL)
        return;
    dt_pump_close(&lp->pump);
    free(lp);
}


/* Runs the holder's op with libcurl until it has a result (an object or
 * documents of a page), has ended, or failed; the client is the one of the
 * holder. A close of the holder or of the client from a callback during the
 * run is done when it returns, and raised as a usage error. */
dt_step dt_run(lua_State *L, dt_pages *p)
{
    dt_client *cl;
    dt_pump_state st;
    if (p->busy)
        dt_usage(L, "%s is already being run (called again from one of its own callbacks)",
                 p->op != NULL && p->op->kind == DT_OP_DOCUMENTS ? "the listing" : "the operation");
    cl = dt_client_from_ref(L, p->client_ref);
    if (cl == NULL)
        dt_usage(L, "the %s's client is closed",
                 p->op != NULL && p->op->kind == DT_OP_DOCUMENTS ? "listing" : "operation");
    p->pump = dt_lpump_check(p->pump, cl);
    if (p->pump == NULL && (p->pump = dt_lpump_new(cl, p->op, p->prefetch)) == NULL)
        luaL_error(L, "out of memory (libcurl multi handle)");
    p->pump->L = L;
    p->pump->cl = cl;
    p->busy = 1;
    st = dt_pump_run(&p->pump->pump);
    p->busy = 0;
    p->pump->L = NULL;
    lua_pop(L, 1);
    if (p->close_pending) {
        dt_holder_release(L, p);
        dt_usage(L, "%s was closed by one of its own callbacks while it ran",
                 p->token != NULL ? "the listing" : "the operation");
    }
    if (cl->closed)
        dt_usage(L, "the client was closed by a callback while it ran");
    return st == DT_PUMP_DONE ? DT_STEP_DONE : st == DT_PUMP_ERROR ? DT_STEP_ERROR : DT_STEP_READY;
}
