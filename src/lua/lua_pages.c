/* Pages (a lazy listing) and Op (a single-shot operation): holders of a
 * dt_op, driven by libcurl in C or by a Lua transport via next_request/feed. */
#include "lua_pages.h"
#include "lua_run.h"
#include "core/dt_date.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOSED_LISTING "the listing is closed (a for loop closes it when it ends or breaks, on " \
                       "Lua 5.4); its continuation() resumes it"

/* ------------------------------------------------------------ options */

double dt_budget_opt(lua_State *L, int idx)
{
    double b = lua_tonumber(L, idx);
    if (lua_type(L, idx) != LUA_TNUMBER || !(b >= 0 && b <= 1))
        dt_usage(L, "bad option 'budget': seconds in 0..1 expected (0: no bound)");
    return b;
}


/* A string or an array of strings -> comma list pushed on the stack. */
static const char *list_opt(lua_State *L, int idx, const char *name)
{
    luaL_Buffer b;
    size_t n, i;
    if (lua_type(L, idx) == LUA_TSTRING) {
        lua_pushvalue(L, idx);
        return lua_tostring(L, -1);
    }
    if (lua_type(L, idx) != LUA_TTABLE)
        dt_usage(L, "bad option '%s': a string or an array of strings expected", name);
    n = dt_rawlen(L, idx);
    if (n == 0)
        dt_usage(L, "bad option '%s': the list is empty", name);
    luaL_buffinit(L, &b);
    for (i = 1; i <= n; i++) {
        const char *s;
        size_t len;
        lua_rawgeti(L, idx, (int)i);
        if (lua_type(L, -1) != LUA_TSTRING)
            dt_usage(L, "bad option '%s': item %d is not a string", name, (int)i);
        s = lua_tolstring(L, -1, &len);
        if (len == 0 || strchr(s, ',') != NULL)
            dt_usage(L, "bad option '%s': item %d is empty or holds a comma", name, (int)i);
        if (i > 1)
            luaL_addchar(&b, ',');
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

static const char *date_opt(lua_State *L, int idx, const char *name)
{
    char buf[40];
    double t;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        if (dt_format_iso8601(lua_tonumber(L, idx), buf, sizeof buf) != 0)
            dt_usage(L, "bad option '%s': the time is out of range", name);
        lua_pushstring(L, buf);
        return lua_tostring(L, -1);
    }
    if (lua_type(L, idx) != LUA_TSTRING)
        dt_usage(L, "bad option '%s': an epoch number or an ISO-8601 string expected", name);
    if (dt_parse_iso8601(lua_tostring(L, idx), &t) != 0)
        dt_usage(L, "bad option '%s': not an ISO-8601 date-time", name);
    lua_pushvalue(L, idx);
    return lua_tostring(L, -1);
}

static const char *order_opt(lua_State *L, int idx)
{
    static const char *const ok[] = {"createdDateTimeUtc", "createdDateTimeUtc asc",
                                     "createdDateTimeUtc desc", "lastActionDateTimeUtc",
                                     "lastActionDateTimeUtc asc", "lastActionDateTimeUtc desc",
                                     NULL};
    const char *s;
    int i;
    if (lua_type(L, idx) != LUA_TSTRING)
        dt_usage(L, "bad option 'order_by': a string expected");
    s = lua_tostring(L, idx);
    for (i = 0; ok[i] != NULL; i++)
        if (strcmp(s, ok[i]) == 0)
            return s;
    dt_usage(L, "bad option 'order_by': expected createdDateTimeUtc or lastActionDateTimeUtc, "
                "optionally followed by asc or desc");
    return NULL;
}

/* Reads the listing options at opts_idx (0: none) into q; strings stay on the
 * stack above the current top until the op copies them. */
static const char *read_list_opts(lua_State *L, int opts_idx, dt_client *cl, dt_list_query *q,
                                  int async, dt_list_extra *x)
{
    const char *continuation = NULL;
    int others = 0, keep, nkeep = 0;
    x->prefetch = cl->prefetch;
    x->concurrency = cl->concurrency > 0 ? cl->concurrency : 1;
    x->deadline = cl->conf.deadline;
    x->budget = -1;
    x->page_size_given = 0;
    q->statuses = q->ids = q->created_after = q->created_before = q->order_by = NULL;
    q->top = -1;
    q->skip = 0;
    q->page_size = cl->page_size;
    if (opts_idx == 0)
        return NULL;
    if (lua_type(L, opts_idx) != LUA_TTABLE)
        dt_usage(L, "bad argument 'opts': a table expected, got %s", luaL_typename(L, opts_idx));
    lua_newtable(L); /* keeps the strings built here alive until the op copies them */
    keep = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, opts_idx) != 0) {
        const char *k;
        int v = lua_gettop(L);
        long long n = 0;
        if (lua_type(L, -2) != LUA_TSTRING)
            dt_usage(L, "bad option: option names are strings");
        k = lua_tostring(L, -2);
        if (strcmp(k, "statuses") == 0) {
            q->statuses = list_opt(L, v, k);
            lua_rawseti(L, keep, ++nkeep);
        } else if (strcmp(k, "ids") == 0) {
            q->ids = list_opt(L, v, k);
            lua_rawseti(L, keep, ++nkeep);
        } else if (strcmp(k, "created_after") == 0) {
            q->created_after = date_opt(L, v, k);
            lua_rawseti(L, keep, ++nkeep);
        } else if (strcmp(k, "created_before") == 0) {
            q->created_before = date_opt(L, v, k);
            lua_rawseti(L, keep, ++nkeep);
        } else if (strcmp(k, "order_by") == 0) {
            q->order_by = order_opt(L, v);
        } else if (strcmp(k, "top") == 0) {
            if (!dt_is_integer(L, v, &n) || n < 0)
                dt_usage(L, "bad option 'top': a non-negative integer expected");
            q->top = n;
        } else if (strcmp(k, "skip") == 0) {
            if (!dt_is_integer(L, v, &n) || n < 0)
                dt_usage(L, "bad option 'skip': a non-negative integer expected");
            q->skip = n;
        } else if (strcmp(k, "page_size") == 0) {
            if (!dt_is_integer(L, v, &n) || n < 1 || n > 100)
                dt_usage(L, "bad option 'page_size': an integer in 1..100 expected");
            q->page_size = (int)n;
            x->page_size_given = 1;
            others--;
        } else if (strcmp(k, "prefetch") == 0) {
            if (lua_type(L, v) != LUA_TBOOLEAN)
                dt_usage(L, "bad option 'prefetch': a boolean expected");
            x->prefetch = lua_toboolean(L, v);
            others--;
        } else if (strcmp(k, "concurrency") == 0) {
            if (!dt_is_integer(L, v, &n) || n < 1 || n > 16)
                dt_usage(L, "bad option 'concurrency': an integer in 1..16 expected");
            x->concurrency = (int)n;
            others--;
        } else if (strcmp(k, "deadline") == 0) {
            if (lua_type(L, v) != LUA_TNUMBER || !(lua_tonumber(L, v) >= 0) ||
                lua_tonumber(L, v) > 86400)
                dt_usage(L, "bad option 'deadline': seconds in 0..86400 expected (0: none)");
            x->deadline = lua_tonumber(L, v);
            others--;
        } else if (async && strcmp(k, "budget") == 0) {
            x->budget = dt_budget_opt(L, v);
            others--;
        } else if (async && (strcmp(k, "on_documents") == 0 || strcmp(k, "on_done") == 0)) {
            others--; /* read by lua_async.c */
        } else if (strcmp(k, "continuation") == 0) {
            if (lua_type(L, v) != LUA_TSTRING)
                dt_usage(L, "bad option 'continuation': a string expected");
            continuation = lua_tostring(L, v);
            others--;
        } else {
            dt_usage(L, "bad option '%s': not a listing option", k);
        }
        others++;
        lua_settop(L, v - 1);
    }
    if (continuation != NULL && others > 0)
        dt_usage(L, "bad option 'continuation': the token carries the listing's options; "
                    "only page_size, prefetch, concurrency, deadline and budget may be given with it");
    return continuation;
}

/* ------------------------------------------------- parallel page windows */

/* concurrency = n: only where the result is well defined. Looks the job up
 * (one request) and arms the pump's windows, or says through the log why the
 * listing runs sequentially. */
static void window_check(lua_State *L, dt_pages *p)
{
    dt_client *cl = dt_client_from_ref(L, p->client_ref);
    const dt_list_query *q = &p->op->q;
    const char *why = NULL, *status = NULL;
    long long total = -1, end;
    dt_op *jop;
    p->win_checked = 1;
    if (cl == NULL)
        dt_usage(L, "the listing's client is closed");
    if (q->statuses || q->ids || q->created_after || q->created_before) {
        why = "filters make the number of documents unknown";
    } else if ((jop = dt_op_new_job(&cl->conf, p->op->job_id)) == NULL) {
        why = "out of memory";
    } else {
        dt_pages *h = dt_holder_new(L, lua_gettop(L), DT_OP_MT); /* frees jop when collected */
        h->op = jop;
        if (dt_run(L, h) != DT_STEP_READY) {
            why = "the job could not be read";
        } else {
            const dt_pmember *sum = dt_page_member(jop->page, DT_PAGE_ROOT, "summary", 7), *m;
            char *st = NULL;
            dt_span t;
            if ((m = dt_page_member(jop->page, DT_PAGE_ROOT, "status", 6)) != NULL)
                status = st = dt_page_cstr(jop->page, &m->val);
            if (sum != NULL && dt_page_find(jop->page, &sum->val, "total", 5, &t))
                (void)dt_page_int(jop->page, &t, &total);
            if (!dt_status_terminal(status))
                why = "the job has not ended (its list may still change)";
            else if (total < 0)
                why = "the job does not say how many documents it has";
            free(st);
        }
        lua_pop(L, 1);
    }
    if (why != NULL) {
        dt_log(L, cl, "info", "concurrency %d: %s; the listing runs sequentially",
               p->concurrency, why);
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    end = total;
    if (q->top >= 0 && q->skip + q->top < end)
        end = q->skip + q->top;
    dt_pump_windows(&dt_lpump_ready(L, &p->pump, cl, p->op, p->prefetch)->pump, p->concurrency, end);
}

dt_op *dt_list_op_new(lua_State *L, int client_idx, const char *job_id, int opts_idx, int async,
                      dt_list_extra *x)
{
    dt_client *cl = lua_touserdata(L, client_idx);
    dt_list_query q;
    const char *cont;
    char *storage = NULL;
    dt_op *op;
    int top = lua_gettop(L);
    if (opts_idx < 0)
        opts_idx = top + opts_idx + 1;
    cont = read_list_opts(L, opts_idx, cl, &q, async, x);
    if (cont != NULL) {
        const char *why;
        int ps = q.page_size;
        if (dt_op_parse_continuation(cont, job_id, &q, &storage, &why) != 0) {
            free(storage);
            storage = NULL;
            dt_usage(L, "bad option 'continuation': the token %s", why);
        }
        /* the token's page size, unless the caller gave one (or the token has none) */
        if (x->page_size_given || q.page_size < 0)
            q.page_size = ps;
    }
    op = job_id != NULL ? dt_op_new_documents(&cl->conf, job_id, &q) : dt_op_new_jobs(&cl->conf, &q);
    free(storage);
    lua_settop(L, top);
    if (op == NULL)
        luaL_error(L, "out of memory");
    op->deadline = x->deadline;
    return op;
}

int dt_pages_new(lua_State *L, int client_idx, const char *job_id, int opts_idx)
{
    dt_list_extra x;
    dt_pages *p;
    int top;
    if (opts_idx < 0)
        opts_idx = lua_gettop(L) + opts_idx + 1;
    p = dt_holder_new(L, client_idx, DT_PAGES_MT);
    top = lua_gettop(L);
    p->op = dt_list_op_new(L, client_idx, job_id, opts_idx, 0, &x);
    p->prefetch = x.prefetch;
    p->concurrency = x.concurrency;
    lua_settop(L, top);
#if LUA_VERSION_NUM >= 504
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushvalue(L, top);
    return 4;
#else
    return 1;
#endif
}

/* ------------------------------------------------------------ hand-out */

/* Makes documents available. Returns 1 (documents ready), 0 (done) or
 * raises/returns -1 with the error (op->err). */
static int fill(lua_State *L, dt_pages *p)
{
    for (;;) {
        dt_step s;
        if (dt_op_has_items(p->op))
            return 1;
        if (p->external) {
            if (dt_op_needs_io(p->op))
                return dt_usage(L, "this listing is driven by next_request()/feed(): call next_request()");
            s = dt_op_step(p->op);
        } else {
            if (p->concurrency > 1 && !p->win_checked)
                window_check(L, p);
            s = dt_run(L, p);
        }
        if (s == DT_STEP_DONE)
            return 0;
        if (s == DT_STEP_ERROR)
            return -1;
    }
}

/* a Document, or a Job of the job list (lua_obj.c) */
static void push_next_doc(lua_State *L, dt_pages *p)
{
    dt_push_item(L, p->client_ref, p->op);
}

/* The error value that ended the listing at idx is kept in a table of the registry with weak
 * keys (the listing): listing:error() gives it after the loop raised, even once the loop closed
 * the listing, and it goes with the listing. The value is on top of the stack and stays there. */
static const char ERRORS_KEY[] = "doctranslate.listing_errors";

static void remember_error(lua_State *L, int idx) /* idx > 0 */
{
    lua_getfield(L, LUA_REGISTRYINDEX, ERRORS_KEY);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, ERRORS_KEY);
    }
    lua_pushvalue(L, idx);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* listing:error() -> the error value that ended the listing (raised by its for loop or returned
 * by next_page), or nil */
static int pages_error(lua_State *L)
{
    dt_check_holder(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, ERRORS_KEY);
    if (!lua_istable(L, -1))
        return 0;
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    return 1;
}

/* for doc in pages do ... end: raises the error as a string (kind, status, code, message,
 * request ids: it prints on Lua 5.1, LuaJIT and in nginx's error log) and keeps the error value
 * for listing:error(). A closed listing
 * raises the usage error next_page raises: a loop cannot tell "closed" from
 * "no more documents", so a listing reused after a break (Lua 5.4's for
 * closes its listing when it ends or breaks) or after close() would look
 * complete. A for loop never calls it after closing: only a caller does. */
static int pages_call(lua_State *L)
{
    dt_pages *p = dt_check_holder(L, 1);
    int r;
    if (p->closed || p->op == NULL)
        return dt_usage(L, "%s", CLOSED_LISTING);
    if (p->busy)
        return dt_usage(L, "the listing is already being run (called again from one of its own callbacks)");
    r = fill(L, p);
    if (r == 0)
        return 0;
    if (r < 0) {
        dt_push_op_error(L, p);
        remember_error(L, 1);
        return dt_raise_error_value(L);
    }
    push_next_doc(L, p);
    return 1;
}

static int pages_next_page(lua_State *L)
{
    dt_pages *p = dt_check_open(L, 1);
    dt_op *op = p->op;
    int r = fill(L, p), i = 1;
    if (r == 0)
        return 0;
    if (r < 0) {
        lua_pushnil(L);
        dt_push_op_error(L, p);
        remember_error(L, 1);
        return 2;
    }
    lua_createtable(L, (int)(op->count - op->offset), 1);
    if (op->page_next != NULL) {
        lua_pushstring(L, op->page_next);
        lua_setfield(L, -2, "next_link");
    }
    while (op->offset < op->count) {
        push_next_doc(L, p);
        lua_rawseti(L, -2, i++);
    }
    return 1;
}

static int pages_continuation(lua_State *L)
{
    dt_pages *p = dt_check_holder(L, 1);
    char *t;
    if (p->op == NULL) {
        if (p->token == NULL)
            return dt_usage(L, "the listing is closed");
        lua_pushstring(L, p->token);
        return 1;
    }
    t = dt_op_continuation(p->op);
    if (t == NULL)
        return luaL_error(L, "out of memory");
    lua_pushstring(L, t);
    free(t);
    return 1;
}

static int pages_tostring(lua_State *L)
{
    dt_pages *p = dt_check_holder(L, 1);
    if (p->op == NULL) {
        lua_pushliteral(L, "doctranslate.Pages: closed");
        return 1;
    }
    if (p->op->kind != DT_OP_DOCUMENTS) {
        if (p->op->kind == DT_OP_TRANSLATE) {
            lua_pushfstring(L, "doctranslate.Op: translation of %s%s", p->op->parts[0].filename,
                            p->external ? " (driven by next_request/feed)" : "");
            return 1;
        }
        lua_pushfstring(L, "doctranslate.Op: %s of job %s%s",
                        p->op->kind == DT_OP_JOB ? "job status" : "document status",
                        p->op->job_id ? p->op->job_id : "?",
                        p->external ? " (driven by next_request/feed)" : "");
        return 1;
    }
    if (p->op->list_jobs) {
        lua_pushfstring(L, "doctranslate.Pages: the job list (%d jobs handed out, %d pages)",
                        (int)p->op->handed, (int)p->op->pages);
        return 1;
    }
    lua_pushfstring(L, "doctranslate.Pages: job %s (%d documents handed out, %d pages)",
                    p->op->job_id ? p->op->job_id : "?", (int)p->op->handed, (int)p->op->pages);
    return 1;
}

/* --------------------------------------------------- Lua transport side */

/* op:result() -> Job | Document, or nil, err */
static int op_result(lua_State *L)
{
    dt_pages *p = dt_check_open(L, 1);
    dt_op *op = p->op;
    dt_step s;
    if (!p->external) {
        s = dt_run(L, p);
    } else {
        if (dt_op_needs_io(op))
            return dt_usage(L, "the operation is not finished: call next_request()");
        s = dt_op_step(op);
    }
    if (s == DT_STEP_ERROR) {
        lua_pushnil(L);
        dt_push_op_error(L, p);
        return 2;
    }
    if (s != DT_STEP_READY || (op->kind == DT_OP_TRANSLATE ? op->resp == NULL : op->page == NULL))
        return dt_usage(L, "the operation's result was already taken");
    dt_push_result(L, p->client_ref, op); /* Job, Document or formats (lua_obj.c) */
    dt_op_release(op);
    return 1;
}

void dt_pages_open(lua_State *L)
{
    static const luaL_Reg pages_methods[] = {{"next_page", pages_next_page},
                                             {"continuation", pages_continuation},
                                             {"error", pages_error},         {NULL, NULL}};
    static const luaL_Reg op_methods[] = {{"result", op_result}, {NULL, NULL}};
    dt_class_new(L, DT_PAGES_MT, pages_methods);
    dt_holder_methods(L);
    lua_pop(L, 1);
    lua_pushcfunction(L, pages_call);
    lua_setfield(L, -2, "__call");
    dt_class_ends(L, dt_holder_gc, dt_holder_close, pages_tostring);
    lua_pop(L, 1);

    dt_class_new(L, DT_OP_MT, op_methods);
    dt_holder_methods(L);
    lua_pop(L, 1);
    dt_class_ends(L, dt_holder_gc, dt_holder_close, pages_tostring);
    lua_pop(L, 1);
}
