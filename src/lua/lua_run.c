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
#include "lua_run.h"

#include <stdlib.h>

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
    dt_lpump_ready(L, &p->pump, cl, p->op, p->prefetch)->progress_ref = p->progress_ref;
    p->busy = 1;
    st = dt_pump_run(&p->pump->pump);
    p->busy = 0;
    p->pump->L = NULL;
    lua_pop(L, 1);
    if (!p->close_pending && !cl->closed)
        dt_lpump_raise_progress(L, p->pump); /* on_progress raised: the transfer stopped */
    if (p->close_pending) {
        dt_holder_release(L, p);
        dt_usage(L, "%s was closed by one of its own callbacks while it ran",
                 p->token != NULL ? "the listing" : "the operation");
    }
    if (cl->closed)
        dt_usage(L, "the client was closed by a callback while it ran");
    if (st == DT_PUMP_ERROR && p->op->err.kind == DT_ERR_USAGE) {
        /* a misuse found inside the run (a token function's token): raised now */
        dt_push_error(L, &cl->conf, &p->op->err);
        dt_raise_error_value(L);
    }
    return st == DT_PUMP_DONE ? DT_STEP_DONE : st == DT_PUMP_ERROR ? DT_STEP_ERROR : DT_STEP_READY;
}
