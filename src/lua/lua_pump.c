/* A dt_pump of the binding: the core's libcurl pump with the client's log
 * lines and token refreshes as its callbacks, over the client's one multi
 * handle (one pool of kept-alive connections for every transfer). */
#include "lua_pump.h"

#include <stdlib.h>

dt_multi *dt_client_multi(dt_client *cl)
{
    if (cl->multi == NULL)
        cl->multi = dt_multi_new();
    return cl->multi;
}

/* on_progress("upload" | "download", done, total): total nil when unknown;
 * an error it raises stops the transfer and is raised after the run. */
static void call_progress(dt_lpump *lp, dt_pump *p)
{
    lua_State *L = lp->L;
    dt_curl *c = p->x[p->cur];
    int up = c->up_total > 0 && c->down_now == 0 && c->down_total == 0;
    curl_off_t done = up ? c->up_now : c->down_now, total = up ? c->up_total : c->down_total;
    if (lp->progress_ref <= 0 || lp->progress_error_ref > 0 || (!up && done == 0 && total == 0))
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->progress_ref);
    lua_pushstring(L, up ? "upload" : "download");
    dt_pushint64(L, (long long)done);
    if (total > 0)
        dt_pushint64(L, (long long)total);
    else
        lua_pushnil(L);
    if (lua_pcall(L, 3, 0, 0) != 0) {
        lp->progress_error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        c->abort = 1;
    }
}

void dt_lpump_raise_progress(lua_State *L, dt_lpump *lp)
{
    int ref;
    if (lp == NULL || lp->progress_error_ref <= 0)
        return;
    ref = lp->progress_error_ref;
    lp->progress_error_ref = 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    lua_error(L);
}

static void lpump_event(void *ud, dt_pump_event ev, dt_pump *p)
{
    dt_lpump *lp = ud;
    if (lp->L == NULL || lp->cl == NULL)
        return;
    switch (ev) {
    case DT_PUMP_EV_PROGRESS:
        call_progress(lp, p);
        break;
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

static dt_lpump *lpump_new(dt_client *cl, dt_op *op, int prefetch)
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
static dt_lpump *lpump_check(dt_lpump *lp, dt_client *cl)
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

dt_lpump *dt_lpump_ready(lua_State *L, dt_lpump **slot, dt_client *cl, dt_op *op, int prefetch)
{
    *slot = lpump_check(*slot, cl);
    if (*slot == NULL && (*slot = lpump_new(cl, op, prefetch)) == NULL)
        luaL_error(L, "out of memory (libcurl multi handle)");
    (*slot)->L = L;
    (*slot)->cl = cl;
    return *slot;
}
