/* Pages (a lazy listing) and Op (a single-shot operation): holders of a
 * dt_op, driven by libcurl in C or by a Lua transport via next_request/feed. */
#include "lua_dt.h"
#include "core/dt_date.h"

#include <math.h>
#include <stdio.h>
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

static dt_pages *check_holder(lua_State *L, int idx)
{
    dt_pages *p = dt_testudata(L, idx, DT_PAGES_MT);
    if (p == NULL)
        p = dt_testudata(L, idx, DT_OP_MT);
    if (p == NULL)
        luaL_argerror(L, idx, "doctranslate.Pages or doctranslate.Op expected");
    return p;
}

#define CLOSED_LISTING "the listing is closed (a for loop closes it when it ends or breaks, on " \
                       "Lua 5.4); its continuation() resumes it"

static dt_pages *check_open(lua_State *L, int idx)
{
    dt_pages *p = check_holder(L, idx);
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
static int holder_close(lua_State *L)
{
    dt_pages *p = check_holder(L, 1);
    if (p->busy)
        p->close_pending = 1;
    else
        dt_holder_release(L, p);
    return 0;
}

/* __gc: the same release, then the saved token */
static int holder_gc(lua_State *L)
{
    dt_pages *p = check_holder(L, 1);
    holder_close(L);
    free(p->token);
    p->token = NULL;
    return 0;
}

/* ------------------------------------------------------------ options */

static int is_integer(lua_State *L, int idx, long long *out)
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
            if (!is_integer(L, v, &n) || n < 0)
                dt_usage(L, "bad option 'top': a non-negative integer expected");
            q->top = n;
        } else if (strcmp(k, "skip") == 0) {
            if (!is_integer(L, v, &n) || n < 0)
                dt_usage(L, "bad option 'skip': a non-negative integer expected");
            q->skip = n;
        } else if (strcmp(k, "page_size") == 0) {
            if (!is_integer(L, v, &n) || n < 1 || n > 100)
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
            if (!is_integer(L, v, &n) || n < 1 || n > 16)
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
    p->pump = dt_lpump_check(p->pump, cl);
    if (p->pump == NULL && (p->pump = dt_lpump_new(cl, p->op, p->prefetch)) == NULL)
        luaL_error(L, "out of memory (libcurl multi handle)");
    dt_pump_windows(&p->pump->pump, p->concurrency, end);
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

static void push_error_of(lua_State *L, dt_pages *p)
{
    dt_client *cl = dt_client_from_ref(L, p->client_ref);
    lua_pop(L, 1);
    dt_push_error(L, cl, &p->op->err);
}

/* a Document, or a Job of the job list (lua_obj.c) */
static void push_next_doc(lua_State *L, dt_pages *p)
{
    dt_push_item(L, p->client_ref, p->op);
}

/* for doc in pages do ... end: raises the error value. A closed listing
 * raises the usage error next_page raises: a loop cannot tell "closed" from
 * "no more documents", so a listing reused after a break (Lua 5.4's for
 * closes its listing when it ends or breaks) or after close() would look
 * complete. A for loop never calls it after closing: only a caller does. */
static int pages_call(lua_State *L)
{
    dt_pages *p = check_holder(L, 1);
    int r;
    if (p->closed || p->op == NULL)
        return dt_usage(L, "%s", CLOSED_LISTING);
    if (p->busy)
        return dt_usage(L, "the listing is already being run (called again from one of its own callbacks)");
    r = fill(L, p);
    if (r == 0)
        return 0;
    if (r < 0) {
        push_error_of(L, p);
        return lua_error(L);
    }
    push_next_doc(L, p);
    return 1;
}

static int pages_next_page(lua_State *L)
{
    dt_pages *p = check_open(L, 1);
    dt_op *op = p->op;
    int r = fill(L, p), i = 1;
    if (r == 0)
        return 0;
    if (r < 0) {
        lua_pushnil(L);
        push_error_of(L, p);
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
    dt_pages *p = check_holder(L, 1);
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
    dt_pages *p = check_holder(L, 1);
    if (p->op == NULL) {
        lua_pushliteral(L, "doctranslate.Pages: closed");
        return 1;
    }
    if (p->op->kind != DT_OP_DOCUMENTS) {
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
    dt_pages *p = check_open(L, 1);
    p->external = 1;
    dt_lpump_free(p->pump);
    p->pump = NULL;
    lua_settop(L, 1);
    return 1;
}

/* it:next_request() -> {method, url, headers, body} | {wait = s} | nil */
static int holder_next_request(lua_State *L)
{
    dt_pages *p = check_open(L, 1);
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
    dt_pages *p = check_open(L, 1);
    long long status = 0;
    const char *body = NULL;
    size_t len = 0;
    dt_resp *r;
    if (lua_type(L, 2) != LUA_TTABLE)
        return dt_usage(L, "bad argument 'response': a table {status=, headers=, body=} expected");
    if (!dt_op_inflight(p->op))
        return dt_usage(L, "feed() without a request: call next_request() first");
    lua_getfield(L, 2, "status");
    if (!is_integer(L, -1, &status) || status < 100 || status > 999)
        return dt_usage(L, "bad argument 'response.status': an HTTP status expected");
    lua_getfield(L, 2, "body");
    if (lua_type(L, -1) == LUA_TSTRING)
        body = lua_tolstring(L, -1, &len);
    else if (!lua_isnil(L, -1))
        return dt_usage(L, "bad argument 'response.body': a string expected");
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
    holder_log(L, p, 0, (long)status);
    dt_op_feed(p->op, r, body, len);
    lua_pushboolean(L, 1);
    return 1;
}

/* it:feed_error(kind, message): kind "network", "timeout" or "protocol" */
static int holder_feed_error(lua_State *L)
{
    dt_pages *p = check_open(L, 1);
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

/* op:result() -> Job | Document, or nil, err */
static int op_result(lua_State *L)
{
    dt_pages *p = check_open(L, 1);
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
        push_error_of(L, p);
        return 2;
    }
    if (s != DT_STEP_READY || op->page == NULL)
        return dt_usage(L, "the operation's result was already taken");
    dt_push_result(L, p->client_ref, op); /* Job, Document or formats (lua_obj.c) */
    dt_op_release(op);
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

void dt_pages_open(lua_State *L)
{
    static const luaL_Reg pages_methods[] = {
        {"next_page", pages_next_page}, {"continuation", pages_continuation},
        {"close", holder_close},        {"next_request", holder_next_request},
        {"from_lua", holder_from_lua},
        {"feed", holder_feed},          {"feed_error", holder_feed_error},
        {NULL, NULL}};
    static const luaL_Reg op_methods[] = {
        {"result", op_result},     {"close", holder_close},   {"next_request", holder_next_request},
        {"from_lua", holder_from_lua},
        {"feed", holder_feed},     {"feed_error", holder_feed_error}, {NULL, NULL}};
    dt_newmetatable(L, DT_PAGES_MT);
    lua_newtable(L);
    dt_setfuncs(L, pages_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, pages_call);
    lua_setfield(L, -2, "__call");
    lua_pushcfunction(L, holder_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, holder_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, pages_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);

    dt_newmetatable(L, DT_OP_MT);
    lua_newtable(L);
    dt_setfuncs(L, op_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, holder_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, holder_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, pages_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);

    dt_newmetatable(L, DT_REQUEST_MT);
    lua_pushcfunction(L, request_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}
