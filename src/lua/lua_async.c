/* Operations that never block, for game and app loops: c:documents_async,
 * c:job_async, c:document_async. Each frame the host calls op:step(), which
 * does a bounded amount of work over the client's libcurl multi handle and
 * returns at once; op:take() hands out the documents that arrived. Lua is
 * only ever called from step() itself (the log, on_documents, on_done), never
 * from inside libcurl. */
#include "lua_async.h"
#include "lua_pages.h"
#include "lua_run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DT_ASYNC_MT "doctranslate.Async"
#define DT_ASYNC_FDS 64
/* seconds of work a step aims at unless the `budget` option says otherwise:
 * reading a page that arrived and sending the next request each cost up to
 * about 0.25 ms (100 documents, loopback), so a step mostly does one of them */
#define DT_ASYNC_BUDGET 0.0002

enum { A_RUNNING = 0, A_DONE, A_FAILED, A_CANCELLED };

typedef struct dt_async {
    dt_op *op;
    dt_lpump *pump;      /* NULL until the first step, and after the end */
    int client_ref;
    int state;
    int prefetch;
    double budget;       /* seconds a step aims at, 0 no bound */
    int result_ref;      /* the Job or Document (single-shot ops) */
    int error_ref;       /* the error value */
    int on_documents_ref, on_done_ref;
    int progress_ref;    /* a translation's on_progress, or <= 0 */
    long long documents; /* documents handed out (take or on_documents) */
    long long pages;
    char *token;         /* the continuation kept when the op is released */
    int busy;            /* step() is polling its pump (callbacks may run) */
    int end_pending;     /* 1 cancel, 2 close, asked by a callback while busy */
} dt_async;

/* ------------------------------------------------------------ the object */

static dt_async *check_async(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, DT_ASYNC_MT);
}

static void unref(lua_State *L, int *ref)
{
    if (*ref != LUA_NOREF && *ref != LUA_REFNIL)
        luaL_unref(L, LUA_REGISTRYINDEX, *ref);
    *ref = LUA_NOREF;
}

/* Stops the transfers and frees the handles; the op (and so the continuation)
 * stays until close/__gc. */
static void release_io(dt_async *a)
{
    dt_lpump_free(a->pump);
    a->pump = NULL;
}

static void save_token(dt_async *a)
{
    if (a->op != NULL && a->op->kind == DT_OP_DOCUMENTS && a->token == NULL)
        a->token = dt_op_continuation(a->op);
}

static int async_cancel(lua_State *L);

/* close / __close / __gc: one idempotent path; from a callback inside step()
 * it is done when the poll returns */
static int async_close(lua_State *L)
{
    dt_async *a = check_async(L, 1);
    if (a->busy) {
        a->end_pending = 2;
        return 0;
    }
    release_io(a);
    unref(L, &a->progress_ref);
    save_token(a);
    dt_op_free(a->op);
    a->op = NULL;
    if (a->state == A_RUNNING)
        a->state = A_CANCELLED;
    unref(L, &a->client_ref);
    unref(L, &a->on_documents_ref);
    unref(L, &a->on_done_ref);
    return 0;
}

static int async_gc(lua_State *L)
{
    dt_async *a = check_async(L, 1);
    async_close(L);
    unref(L, &a->result_ref);
    unref(L, &a->error_ref);
    free(a->token);
    a->token = NULL;
    return 0;
}

static dt_async *async_new(lua_State *L, int client_idx)
{
    dt_async *a = lua_newuserdata(L, sizeof *a);
    memset(a, 0, sizeof *a);
    a->client_ref = a->result_ref = a->error_ref = LUA_NOREF;
    a->on_documents_ref = a->on_done_ref = a->progress_ref = LUA_NOREF;
    luaL_getmetatable(L, DT_ASYNC_MT);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, client_idx);
    a->client_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return a;
}

static int callback_opt(lua_State *L, int opts_idx, const char *name)
{
    int ref = LUA_NOREF;
    if (opts_idx == 0)
        return ref;
    lua_getfield(L, opts_idx, name);
    if (lua_type(L, -1) == LUA_TFUNCTION)
        ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else if (!lua_isnil(L, -1))
        dt_usage(L, "bad option '%s': a function expected", name);
    else
        lua_pop(L, 1);
    return ref;
}

/* opts.budget of job_async / document_async (opts_idx 0: none) */
static double budget_of(lua_State *L, int opts_idx)
{
    double b = DT_ASYNC_BUDGET;
    if (opts_idx == 0)
        return b;
    lua_getfield(L, opts_idx, "budget");
    if (!lua_isnil(L, -1))
        b = dt_budget_opt(L, lua_gettop(L));
    lua_pop(L, 1);
    return b;
}

/* c:documents_async(job_id, opts): the listing options plus on_documents,
 * on_done and prefetch */
static int client_documents_async(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    dt_list_extra x;
    dt_async *a;
    int opts = lua_isnoneornil(L, 3) ? 0 : 3;
    dt_check_id(L, 2, "job_id");
    lua_settop(L, 3);
    a = async_new(L, 1);
    a->op = dt_list_op_new(L, 1, lua_tostring(L, 2), opts, 1, &x);
    a->prefetch = x.prefetch;
    a->budget = x.budget >= 0 ? x.budget : DT_ASYNC_BUDGET;
    a->on_documents_ref = callback_opt(L, opts, "on_documents");
    a->on_done_ref = callback_opt(L, opts, "on_done");
    if (x.concurrency > 1)
        dt_log(L, cl, "info", "documents_async runs one page at a time (concurrency %d ignored)",
               x.concurrency);
    return 1;
}

static int client_job_async(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    dt_async *a;
    dt_check_id(L, 2, "job_id");
    lua_settop(L, 3);
    if (!lua_isnil(L, 3) && lua_type(L, 3) != LUA_TTABLE)
        return dt_usage(L, "bad argument 'opts': a table expected");
    a = async_new(L, 1);
    a->op = dt_op_new_job(&cl->conf, lua_tostring(L, 2));
    if (a->op == NULL)
        return luaL_error(L, "out of memory");
    a->on_done_ref = callback_opt(L, lua_isnil(L, 3) ? 0 : 3, "on_done");
    a->budget = budget_of(L, lua_isnil(L, 3) ? 0 : 3);
    return 1;
}

/* c:translate_async_op(request, opts): a translation (the request as for
 * translate_op) that step() moves on; opts: on_done, budget */
static int client_translate_async_op(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    dt_async *a;
    dt_op *op;
    int ref;
    lua_settop(L, 3);
    if (!lua_isnil(L, 3) && lua_type(L, 3) != LUA_TTABLE)
        return dt_usage(L, "bad argument 'opts': a table expected");
    op = dt_translate_from_lua(L, cl, 2, &ref);
    a = async_new(L, 1);
    a->op = op;
    a->progress_ref = ref;
    a->on_done_ref = callback_opt(L, lua_isnil(L, 3) ? 0 : 3, "on_done");
    a->budget = budget_of(L, lua_isnil(L, 3) ? 0 : 3);
    return 1;
}

static int client_document_async(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    dt_async *a;
    dt_check_id(L, 2, "job_id");
    dt_check_id(L, 3, "doc_id");
    lua_settop(L, 4);
    if (!lua_isnil(L, 4) && lua_type(L, 4) != LUA_TTABLE)
        return dt_usage(L, "bad argument 'opts': a table expected");
    a = async_new(L, 1);
    a->op = dt_op_new_document(&cl->conf, lua_tostring(L, 2), lua_tostring(L, 3));
    if (a->op == NULL)
        return luaL_error(L, "out of memory");
    a->on_done_ref = callback_opt(L, lua_isnil(L, 4) ? 0 : 4, "on_done");
    a->budget = budget_of(L, lua_isnil(L, 4) ? 0 : 4);
    return 1;
}

/* ---------------------------------------------------------------- stepping */

/* Fills the table at idx (cleared first) with the documents in the slot. */
static int take_into(lua_State *L, dt_async *a, int idx)
{
    dt_op *op = a->op;
    int n = 0, i, old;
    old = (int)dt_rawlen(L, idx);
    if (op != NULL && dt_op_has_items(op)) {
        while (op->offset < op->count) {
            dt_push_listed(L, op); /* lua_obj.c */
            lua_rawseti(L, idx, ++n);
        }
    }
    for (i = n + 1; i <= old; i++) {
        lua_pushnil(L);
        lua_rawseti(L, idx, i);
    }
    a->documents += n;
    return n;
}

/* Calls on_done(op, err) once the op ended (from step only). */
static void call_done(lua_State *L, dt_async *a, int self)
{
    int ref = a->on_done_ref;
    if (ref == LUA_NOREF)
        return;
    a->on_done_ref = LUA_NOREF; /* once */
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    lua_pushvalue(L, self);
    if (a->error_ref != LUA_NOREF)
        lua_rawgeti(L, LUA_REGISTRYINDEX, a->error_ref);
    else
        lua_pushnil(L);
    lua_call(L, 2, 0);
}

/* op:step() -> done: never sleeps, never waits on a socket. One ended
 * transfer is read (one page parsed) at most per step. */
static int async_step(lua_State *L)
{
    dt_async *a = check_async(L, 1);
    dt_client *cl;
    dt_pump_state st;
    lua_settop(L, 1);
    if (a->busy)
        return dt_usage(L, "op:step() called from one of the operation's own callbacks");
    if (a->state != A_RUNNING || a->op == NULL) {
        lua_pushboolean(L, 1);
        return 1;
    }
    cl = dt_client_from_ref(L, a->client_ref);
    if (cl == NULL)
        return dt_usage(L, "the operation's client is closed");
    dt_lpump_ready(L, &a->pump, cl, a->op, a->prefetch)->pump.slice = a->budget;
    a->pump->progress_ref = a->progress_ref;
    a->busy = 1;
    st = dt_pump_poll(&a->pump->pump);
    a->busy = 0;
    a->pump->L = NULL;
    if (a->pump->progress_error_ref > 0 && !a->end_pending && !cl->closed) {
        /* on_progress raised: the transfer stops (cancelled), the error is raised here */
        int ref = a->pump->progress_error_ref;
        a->pump->progress_error_ref = 0;
        lua_pushcfunction(L, async_cancel);
        lua_pushvalue(L, 1);
        lua_call(L, 1, 0);
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return lua_error(L);
    }
    if (a->end_pending) {
        /* a callback (the log, a token function) ended it during the poll */
        lua_pushcfunction(L, a->end_pending == 2 ? async_close : async_cancel);
        lua_pushvalue(L, 1);
        a->end_pending = 0;
        lua_call(L, 1, 0);
        lua_pushboolean(L, 1);
        return 1;
    }
    if (cl->closed) {
        lua_pushcfunction(L, async_cancel);
        lua_pushvalue(L, 1);
        lua_call(L, 1, 0);
        return dt_usage(L, "the operation's client was closed by a callback while it ran");
    }
    a->pages = a->op->pages;
    if (st == DT_PUMP_BUSY) {
        lua_pushboolean(L, 0);
        return 1;
    }
    if (st == DT_PUMP_READY && a->op->kind == DT_OP_DOCUMENTS) {
        if (a->on_documents_ref != LUA_NOREF) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, a->on_documents_ref);
            lua_pushvalue(L, 1);
            lua_newtable(L);
            take_into(L, a, lua_gettop(L));
            lua_call(L, 2, 0);
        }
        lua_pushboolean(L, 0);
        return 1;
    }
    if (st == DT_PUMP_READY) {
        dt_push_result(L, a->client_ref, a->op); /* lua_obj.c */
        dt_op_release(a->op);
        a->result_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        a->state = A_DONE;
    } else if (st == DT_PUMP_DONE) {
        a->state = A_DONE;
    } else {
        dt_push_error(L, DT_CONF(cl), &a->op->err);
        a->error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        a->state = A_FAILED;
    }
    release_io(a);
    call_done(L, a, 1);
    lua_pushboolean(L, 1);
    return 1;
}

/* op:take([t]) -> documents, n: those that arrived since the last take, in
 * order (t, when given, is cleared and reused: no garbage per frame) */
static int async_take(lua_State *L)
{
    dt_async *a = check_async(L, 1);
    int n;
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_settop(L, 2);
    }
    n = take_into(L, a, 2);
    lua_pushinteger(L, n);
    return 2;
}

/* op:cancel(): stops at once; its transfers end, its handles are freed */
static int async_cancel(lua_State *L)
{
    dt_async *a = check_async(L, 1);
    if (a->busy) {
        if (a->end_pending == 0)
            a->end_pending = 1;
        return 0;
    }
    release_io(a);
    save_token(a);
    if (a->op != NULL) {
        dt_op_free(a->op);
        a->op = NULL;
    }
    if (a->state == A_RUNNING)
        a->state = A_CANCELLED;
    unref(L, &a->on_documents_ref);
    unref(L, &a->on_done_ref);
    return 0;
}

static int async_continuation(lua_State *L)
{
    dt_async *a = check_async(L, 1);
    char *t;
    if (a->op == NULL || a->op->kind != DT_OP_DOCUMENTS) {
        if (a->token == NULL)
            return dt_usage(L, "no continuation: not a listing, or closed before it began");
        lua_pushstring(L, a->token);
        return 1;
    }
    t = dt_op_continuation(a->op);
    if (t == NULL)
        return luaL_error(L, "out of memory");
    lua_pushstring(L, t);
    free(t);
    return 1;
}

/* op:fds() -> { {fd =, read =, write =}, ... }, timeout_ms: what a host's
 * poller waits on before the next step (timeout_ms -1: no timer; 0: step now) */
static int async_fds(lua_State *L)
{
    dt_async *a = check_async(L, 1);
    dt_fd fds[DT_ASYNC_FDS];
    long t = -1;
    int n = 0, i;
    double due;
    if (a->state != A_RUNNING || a->op == NULL) {
        lua_newtable(L);
        lua_pushinteger(L, -1);
        return 2;
    }
    if (a->pump == NULL || dt_op_has_items(a->op)) {
        t = 0;
    } else {
        n = dt_multi_fds(a->pump->pump.mt, fds, DT_ASYNC_FDS, &t);
        due = dt_pump_due(&a->pump->pump);
        if (due >= 0) {
            long ms = (long)ceil(due * 1000.0);
            if (t < 0 || ms < t)
                t = ms;
        }
    }
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, fds[i].fd);
        lua_setfield(L, -2, "fd");
        lua_pushboolean(L, fds[i].read);
        lua_setfield(L, -2, "read");
        lua_pushboolean(L, fds[i].write);
        lua_setfield(L, -2, "write");
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushinteger(L, (lua_Integer)t);
    return 2;
}

static int async_tostring(lua_State *L)
{
    dt_async *a = check_async(L, 1);
    static const char *const names[] = {"running", "done", "failed", "cancelled"};
    lua_pushfstring(L, "doctranslate.Async: %s (%d documents, %d pages)", names[a->state],
                    (int)a->documents, (int)a->pages);
    return 1;
}

static int async_index(lua_State *L)
{
    dt_async *a = check_async(L, 1);
    const char *k = luaL_checkstring(L, 2);
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1))
        return 1;
    if (strcmp(k, "done") == 0) {
        lua_pushboolean(L, a->state != A_RUNNING);
    } else if (strcmp(k, "cancelled") == 0) {
        lua_pushboolean(L, a->state == A_CANCELLED);
    } else if (strcmp(k, "error") == 0) {
        if (a->error_ref == LUA_NOREF)
            lua_pushnil(L);
        else
            lua_rawgeti(L, LUA_REGISTRYINDEX, a->error_ref);
    } else if (strcmp(k, "result") == 0) {
        if (a->result_ref == LUA_NOREF)
            lua_pushnil(L);
        else
            lua_rawgeti(L, LUA_REGISTRYINDEX, a->result_ref);
    } else if (strcmp(k, "documents") == 0) {
        dt_pushint64(L, a->documents);
    } else if (strcmp(k, "ready") == 0) {
        dt_pushint64(L, a->op != NULL && dt_op_has_items(a->op)
                            ? (long long)(a->op->count - a->op->offset) : 0);
    } else if (strcmp(k, "pages") == 0) {
        dt_pushint64(L, a->op != NULL ? a->op->pages : a->pages);
    } else if (strcmp(k, "waiting") == 0) {
        lua_pushboolean(L, a->pump != NULL && a->pump->pump.wait_until > 0);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

void dt_async_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"step", async_step},       {"take", async_take},
        {"cancel", async_cancel},   {"continuation", async_continuation},
        {"fds", async_fds},         {"close", async_close},
        {NULL, NULL}};
    static const luaL_Reg client_methods[] = {
        {"documents_async", client_documents_async},
        {"job_async", client_job_async}, {"translate_async_op", client_translate_async_op},
        {"document_async", client_document_async},
        {NULL, NULL}};
    dt_newmetatable(L, DT_ASYNC_MT);
    lua_newtable(L);
    dt_setfuncs(L, methods);
    lua_pushcclosure(L, async_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, async_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, async_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, async_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_getmetatable(L, DT_CLIENT_MT);
    lua_getfield(L, -1, "__index");
    dt_setfuncs(L, client_methods);
    lua_pop(L, 2);
}
