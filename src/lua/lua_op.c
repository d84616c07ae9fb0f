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
    p->progress_ref = LUA_NOREF;
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
    if (p->progress_ref > 0)
        luaL_unref(L, LUA_REGISTRYINDEX, p->progress_ref);
    p->progress_ref = 0;
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

/* A translation's request: parts = { {name, filename, content_type, path |
 * data, size} }, output (the file the answer goes to, or absent),
 * on_progress (or absent): the transport builds and streams the body. */
static void push_parts(lua_State *L, dt_pages *p)
{
    size_t i;
    const dt_op *op = p->op;
    lua_createtable(L, (int)op->nparts, 0);
    for (i = 0; i < op->nparts; i++) {
        const dt_part *pt = &op->parts[i];
        lua_createtable(L, 0, 6);
        lua_pushstring(L, pt->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, pt->filename);
        lua_setfield(L, -2, "filename");
        if (pt->content_type != NULL) {
            lua_pushstring(L, pt->content_type);
            lua_setfield(L, -2, "content_type");
        }
        if (pt->path != NULL) {
            lua_pushstring(L, pt->path);
            lua_setfield(L, -2, "path");
        } else {
            lua_pushlstring(L, pt->data != NULL ? pt->data : "", pt->len);
            lua_setfield(L, -2, "data");
        }
        dt_pushint64(L, pt->size);
        lua_setfield(L, -2, "size");
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "parts");
    if (op->output != NULL) {
        lua_pushstring(L, op->output);
        lua_setfield(L, -2, "output");
    }
    if (p->progress_ref > 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, p->progress_ref);
        lua_setfield(L, -2, "on_progress");
    }
    lua_pushlstring(L, op->client_id, 8);
    lua_setfield(L, -2, "call_id");
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
    if (p->op->kind == DT_OP_TRANSLATE)
        push_parts(L, p);
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
    long long status = 0, size = 0;
    const char *body = NULL;
    size_t len = 0;
    int to_file;
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
    lua_getfield(L, 2, "size"); /* a translation's answer written to its output file */
    if (!lua_isnil(L, -1) && (!dt_is_integer(L, -1, &size) || size < 0 || body != NULL ||
                              p->op->kind != DT_OP_TRANSLATE || p->op->output == NULL))
        return dt_usage(L, "bad argument 'response.size': the bytes written to the output file of a "
                           "translation (without a body) expected");
    to_file = !lua_isnil(L, -1);
    lua_pop(L, 1);
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
    if (to_file)
        dt_op_feed_file(p->op, r, size);
    else
        dt_op_feed(p->op, r, body, len);
    lua_pushboolean(L, 1);
    return 1;
}

/* it:feed_error(kind, message[, upload_started]): kind "network", "timeout"
 * or "protocol"; upload_started: bytes of the request's body had been sent */
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
    if (lua_toboolean(L, 4))
        dt_op_upload_started(p->op); /* the transport had sent body bytes */
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

/* ---------------------------------------------------------- translation */

static const char *opt_string(lua_State *L, int idx, const char *name, int required)
{
    const char *v;
    lua_getfield(L, idx, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        if (required)
            dt_usage(L, "bad field '%s': required", name);
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING || dt_rawlen(L, -1) == 0)
        dt_usage(L, "bad field '%s': a non-empty string expected, got %s", name,
                 luaL_typename(L, -1));
    v = lua_tostring(L, -1);
    lua_pop(L, 1); /* the table at idx keeps it alive */
    return v;
}

static int opt_flag(lua_State *L, int idx, const char *name)
{
    int v;
    lua_getfield(L, idx, name);
    if (lua_isnil(L, -1))
        v = -1;
    else if (lua_type(L, -1) == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else
        dt_usage(L, "bad field '%s': a boolean expected, got %s", name, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

dt_op *dt_translate_from_lua(lua_State *L, dt_client *cl, int idx, int *progress_ref)
{
    dt_translate_req q;
    dt_part_in parts[DT_TRANSLATE_MAX_PARTS];
    size_t n, i;
    int pi;
    dt_op *op;
    *progress_ref = LUA_NOREF;
    if (lua_type(L, idx) != LUA_TTABLE)
        dt_usage(L, "bad argument 'request': a table expected, got %s", luaL_typename(L, idx));
    if (dt_api_family(cl->conf.api_version) != DT_FAMILY_DATED)
        dt_usage(L, "single-document translation needs API version 2024-05-01 or later (the client "
                    "uses %s, whose v1.x family has no document:translate route)",
                 cl->conf.api_version);
    memset(&q, 0, sizeof q);
    memset(parts, 0, sizeof parts);
    q.to = opt_string(L, idx, "to", 1);
    q.from = opt_string(L, idx, "from", 0);
    q.category = opt_string(L, idx, "category", 0);
    q.output = opt_string(L, idx, "output", 0);
    q.allow_fallback = opt_flag(L, idx, "allow_fallback");
    q.text_within_image = opt_flag(L, idx, "text_within_image");
    if (strchr(q.to, ',') != NULL)
        dt_usage(L, "bad field 'to': one target language (a translation has exactly one)");
    if (q.text_within_image >= 0 && strcmp(cl->conf.api_version, "2024-11-01-preview") < 0)
        dt_usage(L, "bad field 'text_within_image': from API version 2024-11-01-preview on (the "
                    "client uses %s)", cl->conf.api_version);
    lua_getfield(L, idx, "parts");
    pi = lua_gettop(L);
    if (lua_type(L, pi) != LUA_TTABLE)
        dt_usage(L, "bad field 'parts': a table expected");
    n = dt_rawlen(L, pi);
    if (n < 1 || n > DT_TRANSLATE_MAX_PARTS)
        dt_usage(L, "bad field 'parts': 1 to %d parts expected", DT_TRANSLATE_MAX_PARTS);
    for (i = 0; i < n; i++) {
        dt_part_in *pt = &parts[i];
        int ti;
        long long size = -1;
        lua_rawgeti(L, pi, (int)i + 1);
        ti = lua_gettop(L);
        if (lua_type(L, ti) != LUA_TTABLE)
            dt_usage(L, "bad field 'parts[%d]': a table expected", (int)i + 1);
        pt->name = opt_string(L, ti, "name", 1);
        pt->filename = opt_string(L, ti, "filename", 1);
        pt->content_type = opt_string(L, ti, "content_type", 0);
        pt->path = opt_string(L, ti, "path", 0);
        lua_getfield(L, ti, "data");
        if (lua_type(L, -1) == LUA_TSTRING) {
            pt->data = lua_tolstring(L, -1, &pt->len);
            pt->size = (long long)pt->len;
        } else if (!lua_isnil(L, -1) || pt->path == NULL) {
            dt_usage(L, "bad field 'parts[%d]': a path or data (a string) expected", (int)i + 1);
        }
        lua_pop(L, 1); /* the part table keeps it alive */
        if (pt->path != NULL) {
            if (pt->data != NULL)
                dt_usage(L, "bad field 'parts[%d]': path or data, not both", (int)i + 1);
            lua_getfield(L, ti, "size");
            if (!dt_is_integer(L, -1, &size) || size < 0)
                dt_usage(L, "bad field 'parts[%d].size': the file's size expected", (int)i + 1);
            lua_pop(L, 1);
            pt->size = size;
        }
        lua_pop(L, 1); /* the part: the parts table keeps it alive */
    }
    q.parts = parts;
    q.nparts = n;
    op = dt_op_new_translate(&cl->conf, &q); /* copies every string */
    lua_pop(L, 1);
    if (op == NULL)
        luaL_error(L, "out of memory");
    lua_getfield(L, idx, "on_progress");
    if (lua_type(L, -1) == LUA_TFUNCTION) {
        *progress_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
        int bad = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (bad) {
            dt_op_free(op);
            dt_usage(L, "bad field 'on_progress': a function expected");
        }
    }
    return op;
}

void dt_op_open(lua_State *L)
{
    dt_newmetatable(L, DT_REQUEST_MT);
    lua_pushcfunction(L, request_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}
