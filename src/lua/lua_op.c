/* The holder of one op (a Pages listing or a single-shot Op): its life
 * (close, collection) and the Lua runner's side: next_request, feed,
 * feed_error, from_lua. What runs it with libcurl is lua_run.c; listing
 * iteration and results are lua_pages.c. */
#include "lua_op.h"
#include "core/dt_date.h"
#include "curl/dt_clock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

dt_pages *dt_holder_new(lua_State *L, int client_idx, const char *mt)
{
    dt_pages *p = lua_newuserdata(L, sizeof *p);
    memset(p, 0, sizeof *p);
    p->client_ref = LUA_NOREF;
    luaL_getmetatable(L, mt);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, client_idx);
    p->client_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return p;
}

dt_pages *dt_check_holder(lua_State *L, int idx)
{
    dt_pages *p = dt_testudata(L, idx, DT_PAGES_MT);
    if (p == NULL)
        p = dt_testudata(L, idx, DT_OP_MT);
    if (p == NULL)
        luaL_argerror(L, idx, "doctranslate.Pages or doctranslate.Op expected");
    return p;
}

dt_pages *dt_check_open(lua_State *L, int idx)
{
    dt_pages *p = dt_check_holder(L, idx);
    if ((p->closed || p->op == NULL) && dt_testudata(L, idx, DT_PAGES_MT) != NULL)
        dt_usage(L, "%s", CLOSED_LISTING);
    if (p->closed || p->op == NULL)
        dt_usage(L, "the operation is closed");
    if (p->busy)
        dt_usage(L, "%s is already being run (called again from one of its own callbacks)",
                 p->op->kind == DT_OP_DOCUMENTS ? "the listing" : "the operation");
    return p;
}

/* close and __close (break out of a for loop): one idempotent path that frees
 * the operation, its page and the client reference, keeping only the
 * continuation token so a listing left early can still be resumed. */
void dt_holder_release(lua_State *L, dt_pages *p)
{
    p->close_pending = 0;
    dt_lpump_free(p->pump); /* a prefetched page in flight stops here */
    p->pump = NULL;
    if (p->op != NULL) {
        if (p->op->kind == DT_OP_DOCUMENTS && p->token == NULL)
            p->token = dt_op_continuation(p->op);
        dt_op_free(p->op);
        p->op = NULL;
    }
    p->closed = 1;
    if (p->client_ref != LUA_NOREF && p->client_ref != LUA_REFNIL)
        luaL_unref(L, LUA_REGISTRYINDEX, p->client_ref);
    p->client_ref = LUA_NOREF;
}

/* A close from a callback while the holder runs (dt_run) is put off until
 * the run returns: the pump and the op are in use. */
int dt_holder_close(lua_State *L)
{
    dt_pages *p = dt_check_holder(L, 1);
    if (p->busy)
        p->close_pending = 1;
    else
        dt_holder_release(L, p);
    return 0;
}

/* __gc: the same release, then the saved token */
int dt_holder_gc(lua_State *L)
{
    dt_pages *p = dt_check_holder(L, 1);
    dt_holder_close(L);
    free(p->token);
    p->token = NULL;
    return 0;
}

int dt_is_integer(lua_State *L, int idx, long long *out)
{
    lua_Number n;
    if (lua_type(L, idx) != LUA_TNUMBER)
        return 0;
    n = lua_tonumber(L, idx);
    if (n != floor(n) || n < -9.0e15 || n > 9.0e15)
        return 0;
    *out = (long long)n;
    return 1;
}

/* Callbacks of the Lua runner's side (the log, a token function) run with
 * the holder marked busy: a close from one of them is done when it returns,
 * and raised as a usage error, before the op is touched again. */
static void callbacks_begin(dt_pages *p)
{
    p->busy = 1;
}

static void callbacks_end(lua_State *L, dt_pages *p)
{
    p->busy = 0;
    if (p->close_pending) {
        int listing = p->op != NULL && p->op->kind == DT_OP_DOCUMENTS;
        dt_holder_release(L, p);
        dt_usage(L, "%s was closed by one of its own callbacks while it ran",
                 listing ? "the listing" : "the operation");
    }
}

/* A log line of the Lua runner, in the words of the libcurl runner's:
 * what = 0 a response (status 0: none), 1 a retry wait, 2 the op failed. */
static void holder_log(lua_State *L, dt_pages *p, int what, long status)
{
    dt_client *cl = dt_client_from_ref(L, p->client_ref);
    if (cl != NULL && cl->log_ref != LUA_NOREF && cl->log_ref != LUA_REFNIL) {
        callbacks_begin(p);
        if (what == 0)
            dt_log_response(L, cl, p->op->method, p->op->url, status, dt_now() - p->sent_at, 0);
        else if (what == 1)
            dt_log_retry(L, cl, p->op);
        else
            dt_log_failure(L, cl, p->op);
        callbacks_end(L, p);
    }
    lua_pop(L, 1);
}

static void emit_header(void *ud, const char *name, const char *value)
{
    lua_State *L = ud;
    lua_pushstring(L, value);
    lua_setfield(L, -2, name);
}

/* it:from_lua() -> it: driven by next_request/feed only from now on (libcurl
 * never runs it); next_request does the same on its first call */
static int holder_from_lua(lua_State *L)
{
    dt_pages *p = dt_check_open(L, 1);
    p->external = 1;
    dt_lpump_free(p->pump);
    p->pump = NULL;
    lua_settop(L, 1);
    return 1;
}

/* it:next_request() -> {method, url, headers, body} | {wait = s} | nil */
static int holder_next_request(lua_State *L)
{
    dt_pages *p = dt_check_open(L, 1);
    double left;
    dt_step s;
    p->external = 1;
    dt_lpump_free(p->pump); /* driven from Lua from now on */
    p->pump = NULL;
    if (dt_op_has_items(p->op))
        return 0;
    left = dt_op_deadline(p->op, dt_now()); /* the clock is the driver's (dt_op.h) */
    s = dt_op_step(p->op);
    /* a token due (function tokens): fetched now; a failure is fed to the op */
    callbacks_begin(p);
    while (s == DT_STEP_REQUEST && !dt_auth_ready_ref(L, p->client_ref, p->op))
        s = dt_op_step(p->op);
    callbacks_end(L, p);
    if (s == DT_STEP_ERROR && p->op->err.kind == DT_ERR_USAGE) {
        dt_push_op_error(L, p);
        dt_raise_error_value(L);
    }
    if (s == DT_STEP_WAIT) {
        holder_log(L, p, 1, 0);
        lua_createtable(L, 0, 1);
        lua_pushnumber(L, p->op->wait);
        lua_setfield(L, -2, "wait");
        return 1;
    }
    if (s == DT_STEP_ERROR && !p->failure_logged) {
        p->failure_logged = 1;
        holder_log(L, p, 2, 0);
    }
    if (s != DT_STEP_REQUEST)
        return 0;
    p->sent_at = dt_now();
    lua_createtable(L, 0, 4);
    lua_pushstring(L, p->op->method);
    lua_setfield(L, -2, "method");
    if (p->op->body != NULL) {
        lua_pushstring(L, p->op->body);
        lua_setfield(L, -2, "body");
    }
    lua_pushstring(L, p->op->url);
    lua_setfield(L, -2, "url");
    lua_newtable(L);
    dt_op_headers(p->op, emit_header, L);
    lua_setfield(L, -2, "headers");
    if (left >= 0) {
        /* what is left of the deadline, when a transport must end this request */
        lua_pushnumber(L, left > 0.001 ? left : 0.001);
        lua_setfield(L, -2, "timeout");
    }
    luaL_getmetatable(L, DT_REQUEST_MT);
    lua_setmetatable(L, -2);
    return 1;
}

/* it:feed{status = n, headers = {...}, body = s} */
static int holder_feed(lua_State *L)
{
    dt_pages *p = dt_check_open(L, 1);
    long long status = 0;
    const char *body = NULL;
    size_t len = 0;
    dt_resp *r;
    if (lua_type(L, 2) != LUA_TTABLE)
        return dt_usage(L, "bad argument 'response': a table {status=, headers=, body=} expected");
    if (!dt_op_inflight(p->op))
        return dt_usage(L, "feed() without a request: call next_request() first");
    lua_getfield(L, 2, "status");
    if (!dt_is_integer(L, -1, &status) || status < 100 || status > 999)
        return dt_usage(L, "bad argument 'response.status': an HTTP status expected");
    lua_getfield(L, 2, "body");
    if (lua_type(L, -1) == LUA_TSTRING)
        body = lua_tolstring(L, -1, &len);
    else if (!lua_isnil(L, -1))
        return dt_usage(L, "bad argument 'response.body': a string expected");
    /* the log line first: a callback that closes the holder raises before anything is built */
    holder_log(L, p, 0, (long)status);
    r = dt_resp_new((long)status);
    if (r == NULL)
        return luaL_error(L, "out of memory");
    lua_getfield(L, 2, "headers");
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                size_t nl, vl;
                const char *n = lua_tolstring(L, -2, &nl), *v = NULL;
                if (lua_type(L, -1) == LUA_TTABLE) {
                    lua_rawgeti(L, -1, 1);
                    lua_replace(L, -2);
                }
                if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)
                    v = lua_tolstring(L, -1, &vl);
                if (v != NULL && dt_resp_add(r, n, nl, v, vl) != 0) {
                    dt_resp_unref(r);
                    return luaL_error(L, "out of memory");
                }
            }
            lua_pop(L, 1);
        }
    }
    dt_op_feed(p->op, r, body, len);
    lua_pushboolean(L, 1);
    return 1;
}

/* it:feed_error(kind, message): kind "network", "timeout" or "protocol" */
static int holder_feed_error(lua_State *L)
{
    dt_pages *p = dt_check_open(L, 1);
    const char *kind = luaL_checkstring(L, 2);
    const char *msg = luaL_optstring(L, 3, kind);
    dt_err_kind k;
    if (strcmp(kind, "network") == 0)
        k = DT_ERR_NETWORK;
    else if (strcmp(kind, "timeout") == 0)
        k = DT_ERR_TIMEOUT;
    else if (strcmp(kind, "protocol") == 0)
        k = DT_ERR_PROTOCOL;
    else
        return dt_usage(L, "bad argument 'kind': network, timeout or protocol expected");
    if (!dt_op_inflight(p->op))
        return dt_usage(L, "feed_error() without a request: call next_request() first");
    holder_log(L, p, 0, 0);
    if (k == DT_ERR_TIMEOUT && dt_op_at_deadline(p->op, dt_now()))
        dt_op_expire(p->op, NULL); /* the request's timeout was what was left */
    else
        dt_op_feed_error(p->op, k, msg);
    lua_pushboolean(L, 1);
    return 1;
}

static int request_tostring(lua_State *L)
{
    char *red;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "method");
    lua_getfield(L, 1, "url");
    red = dt_url_redact(lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_pushfstring(L, "doctranslate.Request: %s %s (headers hidden)",
                    lua_tostring(L, -2) ? lua_tostring(L, -2) : "?", red ? red : "?");
    free(red);
    return 1;
}

void dt_push_op_error(lua_State *L, dt_pages *p)
{
    dt_client *cl = dt_client_from_ref(L, p->client_ref);
    lua_pop(L, 1);
    dt_push_error(L, DT_CONF(cl), &p->op->err);
}

void dt_holder_methods(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"close", dt_holder_close},         {"next_request", holder_next_request},
        {"from_lua", holder_from_lua},      {"feed", holder_feed},
        {"feed_error", holder_feed_error},  {NULL, NULL}};
    dt_setfuncs(L, methods);
}

void dt_op_open(lua_State *L)
{
    dt_newmetatable(L, DT_REQUEST_MT);
    lua_pushcfunction(L, request_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}
