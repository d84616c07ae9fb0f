/* Job and Document userdata: fields read lazily from the response's JSON. */
#include "lua_obj.h"
#include "core/dt_date.h"
#include "core/dt_url.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values of a Job or Document, pushed straight from its body's bytes ---- */

/* A number's text (strict JSON, as the reader saw it): an integer (no
 * fraction, no exponent) in the int64 range as an integer; else a float. An
 * integer out of that range is pushed as the float nearest to it, never
 * clamped: that is what Lua 5.3+ makes of such a decimal numeral itself, its
 * magnitude and leading digits survive, and a body that is valid JSON (RFC
 * 8259 sets no bound on numbers) stays readable for a member the caller may
 * never look at, where a parse error would lose the whole job. */
static void push_number(lua_State *L, const char *s, size_t n, int real)
{
    char local[64], *buf;
    long long v;
    if (!real && n > 0 && n <= 18) {
        /* up to 18 digits (and a sign) cannot overflow: no copy, no strtoll */
        size_t i = s[0] == '-';
        v = 0;
        for (; i < n; i++)
            v = v * 10 + (s[i] - '0');
        dt_pushint64(L, s[0] == '-' ? -v : v);
        return;
    }
    buf = n < sizeof local ? local : malloc(n + 1);
    if (buf == NULL) {
        luaL_error(L, "out of memory");
        return;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    if (!real && (v = strtoll(buf, NULL, 10), errno != ERANGE))
        dt_pushint64(L, v);
    else
        lua_pushnumber(L, (lua_Number)strtod(buf, NULL));
    if (buf != local)
        free(buf);
}

/* A string's content s[0..n), escaped or not. cstr: cut at a NUL (a name). */
static void push_string(lua_State *L, const char *s, size_t n, int esc, int cstr)
{
    char local[256], *buf;
    size_t m;
    if (!esc) {
        lua_pushlstring(L, s, n);
        return;
    }
    buf = dt_page_decode(s, n, cstr, local, sizeof local, &m);
    if (buf == NULL) {
        luaL_error(L, "out of memory");
        return;
    }
    lua_pushlstring(L, buf, m);
    if (buf != local)
        free(buf);
}

static size_t skip_ws(const char *s, size_t p)
{
    while (s[p] == ' ' || s[p] == '\n' || s[p] == '\r' || s[p] == '\t')
        p++;
    return p;
}

/* The end of the string whose content starts at p (after the quote), and
 * whether it has escapes. */
static size_t string_end(const char *s, size_t p, int *esc)
{
    *esc = 0;
    while (s[p] != '"') {
        if (s[p] == '\\') {
            *esc = 1;
            p++;
        }
        p++;
    }
    return p;
}

/* Pushes the JSON value at s[p] (text the page reader validated): objects
 * and arrays as tables, every member kept but null ones (absent in Lua), a
 * member name cut at a NUL; returns where the value ends. */
static size_t push_text(lua_State *L, const char *s, size_t p)
{
    size_t q;
    int esc;
    p = skip_ws(s, p);
    switch (s[p]) {
    case '{':
        luaL_checkstack(L, 4, "JSON too deep");
        lua_newtable(L);
        p = skip_ws(s, p + 1);
        if (s[p] == '}')
            return p + 1;
        for (;;) {
            q = string_end(s, p + 1, &esc);
            push_string(L, s + p + 1, q - p - 1, esc, 1);
            p = skip_ws(s, q + 1) + 1; /* the ':' */
            p = push_text(L, s, p);    /* null: nil, so the member is absent */
            lua_rawset(L, -3);
            p = skip_ws(s, p);
            if (s[p++] == '}')
                return p;
            p = skip_ws(s, p);
        }
    case '[': {
        int i = 0;
        luaL_checkstack(L, 4, "JSON too deep");
        lua_newtable(L);
        p = skip_ws(s, p + 1);
        if (s[p] == ']')
            return p + 1;
        for (;;) {
            p = push_text(L, s, p);
            lua_rawseti(L, -2, ++i);
            p = skip_ws(s, p);
            if (s[p++] == ']')
                return p;
        }
    }
    case '"':
        q = string_end(s, p + 1, &esc);
        push_string(L, s + p + 1, q - p - 1, esc, 0);
        return q + 1;
    case 't':
        lua_pushboolean(L, 1);
        return p + 4;
    case 'f':
        lua_pushboolean(L, 0);
        return p + 5;
    case 'n':
        lua_pushnil(L);
        return p + 4;
    default: {
        int real = 0;
        q = p;
        while ((s[q] >= '0' && s[q] <= '9') || s[q] == '-' || s[q] == '+' || s[q] == '.' ||
               s[q] == 'e' || s[q] == 'E') {
            if (s[q] == '.' || s[q] == 'e' || s[q] == 'E')
                real = 1;
            q++;
        }
        push_number(L, s + p, q - p, real);
        return q;
    }
    }
}

/* Pushes the value of span v of page pg. */
static void push_span(lua_State *L, const dt_page *pg, const dt_span *v)
{
    const char *s = pg->body + v->off;
    switch (v->type) {
    case DT_J_STRING:
        push_string(L, s, v->len, v->flags & DT_JF_ESC, 0);
        break;
    case DT_J_NUMBER:
        push_number(L, s, v->len, v->flags & DT_JF_REAL);
        break;
    case DT_J_TRUE:
        lua_pushboolean(L, 1);
        break;
    case DT_J_FALSE:
        lua_pushboolean(L, 0);
        break;
    case DT_J_ARRAY:
    case DT_J_OBJECT:
        push_text(L, pg->body, v->off);
        break;
    default:
        lua_pushnil(L);
    }
}

/* The member name of a Job or Document (NULL when absent or null). */
static const dt_span *page_field(const dt_obj *o, const char *name)
{
    const dt_pmember *m;
    if (o->page == NULL)
        return NULL;
    m = dt_page_member(o->page, o->item, name, strlen(name));
    return m != NULL && m->val.type != DT_J_NULL ? &m->val : NULL;
}

/* The string member name as a C string (pushed on the stack), or NULL
 * when absent or not a string. */
static const char *obj_str(lua_State *L, dt_obj *o, const char *name)
{
    const dt_span *v = page_field(o, name);
    if (v == NULL || v->type != DT_J_STRING)
        return NULL;
    push_string(L, o->page->body + v->off, v->len, v->flags & DT_JF_ESC, 0);
    return lua_tostring(L, -1);
}

int dt_push_response(lua_State *L, const dt_resp *r)
{
    size_t i;
    lua_createtable(L, 0, 2);
    if (r == NULL)
        return 1;
    dt_pushint64(L, r->status);
    lua_setfield(L, -2, "status");
    lua_createtable(L, 0, (int)r->n);
    for (i = 0; i < r->n; i++) {
        lua_getfield(L, -1, r->h[i].name);
        if (lua_isstring(L, -1)) {
            /* a repeated header: joined as HTTP allows */
            lua_pushliteral(L, ", ");
            lua_pushstring(L, r->h[i].value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushstring(L, r->h[i].value);
        }
        lua_setfield(L, -2, r->h[i].name);
    }
    lua_setfield(L, -2, "headers");
    return 1;
}

static dt_obj *obj_new(lua_State *L, const char *mt)
{
    dt_obj *o = lua_newuserdata(L, sizeof *o);
    memset(o, 0, sizeof *o);
    o->client_ref = LUA_NOREF;
    luaL_getmetatable(L, mt);
    lua_setmetatable(L, -2);
    return o;
}

/* The registry holds the Document metatable under this address too: a
 * document is made per listed item, and a lookup by name costs a strcmp. */
static char document_mt_key;

dt_obj *dt_push_document(lua_State *L, dt_page *page, size_t item, dt_resp *resp)
{
    dt_obj *o;
    /* the userdata exists (and owns nothing) before it takes the references */
    o = lua_newuserdata(L, sizeof *o);
    memset(o, 0, sizeof *o);
    o->client_ref = LUA_NOREF;
    o->page = page;
    o->item = item;
    o->resp = resp;
    o->owner = 1;
    dt_getreg(L, &document_mt_key);
    lua_setmetatable(L, -2);
    return o;
}

dt_obj *dt_push_job(lua_State *L, int client_idx, dt_page *page, size_t item, dt_resp *resp,
                    const char *job_id)
{
    dt_obj *o = obj_new(L, DT_JOB_MT);
    size_t n = strlen(job_id);
    o->page = page;
    o->item = item;
    o->resp = resp;
    o->owner = 1;
    o->job_id = malloc(n + 1);
    if (o->job_id == NULL) {
        luaL_error(L, "out of memory");
        return o;
    }
    memcpy(o->job_id, job_id, n + 1);
    lua_pushvalue(L, client_idx);
    o->client_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return o;
}

/* Registry keys (addresses): the metatable of listed documents, the
 * Document methods, the anchors' metatable, the weak table of anchors. */
static char listed_mt_key, document_methods_key, anchor_mt_key, anchors_key;

/* The userdata at idx when its metatable is registry[key], else NULL. */
static void *test_by_key(lua_State *L, int idx, void *key)
{
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx))
        return NULL;
    dt_getreg(L, key);
    if (!lua_rawequal(L, -1, -2))
        p = NULL;
    lua_pop(L, 2);
    return p;
}

static dt_obj *check_obj(lua_State *L, int idx)
{
    dt_obj *o = dt_testudata(L, idx, DT_JOB_MT);
    if (o == NULL)
        o = dt_testudata(L, idx, DT_DOCUMENT_MT);
    if (o == NULL)
        o = test_by_key(L, idx, &listed_mt_key);
    if (o == NULL)
        luaL_argerror(L, idx, "doctranslate.Job or doctranslate.Document expected");
    return o;
}

/* The object at idx when its metatable is upvalue up of the running C
 * function (__index, __gc: no lookup by name), else as check_obj. */
static dt_obj *fast_obj(lua_State *L, int idx, int up)
{
    dt_obj *o = lua_touserdata(L, idx);
    int same = 0;
    if (o != NULL && lua_getmetatable(L, idx)) {
        same = lua_rawequal(L, -1, lua_upvalueindex(up));
        lua_pop(L, 1);
    }
    return same ? o : check_obj(L, idx);
}

/* __gc of Jobs and Documents (upvalue 1: the class's metatable). Listed
 * documents have none, but may be handed to it by hand: their page and
 * response are their anchor's, never released here. */
static int obj_gc(lua_State *L)
{
    dt_obj *o = fast_obj(L, 1, 1);
    if (o->owner) {
        dt_page_unref(o->page);
        dt_resp_unref(o->resp);
    }
    o->page = NULL;
    free(o->job_id);
    if (o->client_ref != LUA_NOREF && o->client_ref != LUA_REFNIL)
        luaL_unref(L, LUA_REGISTRYINDEX, o->client_ref);
    o->owner = 0;
    o->resp = NULL;
    o->job_id = NULL;
    o->client_ref = LUA_NOREF;
    return 0;
}

/* __index: methods first (upvalue 1), then the JSON member of that name.
 * Upvalue 2 is the class's metatable: the check costs no lookup by name. */
static int obj_index(lua_State *L)
{
    dt_obj *o = fast_obj(L, 1, 2);
    const dt_span *sv;
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1))
        return 1;
    if (lua_type(L, 2) != LUA_TSTRING)
        return 1;
    sv = page_field(o, lua_tostring(L, 2));
    if (sv == NULL)
        lua_pushnil(L);
    else
        push_span(L, o->page, sv);
    return 1;
}

static int obj_time(lua_State *L)
{
    dt_obj *o = check_obj(L, 1);
    const char *field = luaL_checkstring(L, 2);
    const char *s = obj_str(L, o, field);
    double t;
    if (s == NULL)
        return 0;
    if (dt_parse_iso8601(s, &t) != 0) {
        lua_pushnil(L);
        dt_push_simple_error(L, DT_ERR_PARSE, "not an ISO-8601 date");
        return 2;
    }
    lua_pushnumber(L, t);
    return 1;
}

static int obj_response(lua_State *L)
{
    dt_obj *o = check_obj(L, 1);
    return dt_push_response(L, o->resp);
}

static const char *field_or(lua_State *L, dt_obj *o, const char *name, const char *dflt)
{
    const char *s = obj_str(L, o, name);
    return s ? s : dflt;
}

static long long summary_int(dt_obj *o, const char *name)
{
    const dt_span *sum = page_field(o, "summary");
    dt_span v;
    long long n = 0;
    if (sum != NULL && dt_page_find(o->page, sum, name, strlen(name), &v))
        (void)dt_page_int(o->page, &v, &n);
    return n;
}

static int job_tostring(lua_State *L)
{
    dt_obj *o = check_obj(L, 1);
    lua_pushfstring(L, "doctranslate.Job: %s %s (total %d, success %d, failed %d, in progress %d)",
                    field_or(L, o, "id", "?"), field_or(L, o, "status", "?"),
                    (int)summary_int(o, "total"), (int)summary_int(o, "success"),
                    (int)summary_int(o, "failed"), (int)summary_int(o, "inProgress"));
    return 1;
}

/* A member as a number (a number, or a string that is one; else 0). */
static double page_double(const dt_page *pg, const dt_span *v)
{
    char local[64], *buf, *end;
    double d = 0;
    switch (v->type) {
    case DT_J_TRUE:
        return 1;
    case DT_J_NUMBER:
        /* the body is NUL terminated and a number ends where strtod stops */
        return strtod(pg->body + v->off, NULL);
    case DT_J_STRING:
        if ((v->flags & DT_JF_ESC) || v->len >= sizeof local)
            return 0; /* not a plain number */
        buf = local;
        memcpy(buf, pg->body + v->off, v->len);
        buf[v->len] = '\0';
        d = strtod(buf, &end);
        if (end == buf || *end != '\0')
            return 0;
        return d;
    default:
        return 0;
    }
}

static int doc_tostring(lua_State *L)
{
    dt_obj *o = check_obj(L, 1);
    char prog[32] = "?";
    const char *id, *status, *to;
    const dt_span *v = page_field(o, "progress");
    if (v != NULL)
        snprintf(prog, sizeof prog, "%g", page_double(o->page, v));
    id = field_or(L, o, "id", "?");
    status = field_or(L, o, "status", "?");
    to = field_or(L, o, "to", "?");
    lua_pushfstring(L, "doctranslate.Document: %s %s to %s (progress %s)", id, status, to, prog);
    return 1;
}

/* Replaces the job's body and response with the op's result. */
static void take_result(dt_obj *o, dt_op *op)
{
    dt_page_unref(o->page);
    dt_resp_unref(o->resp);
    o->page = op->page;
    o->item = DT_PAGE_ROOT;
    o->resp = op->resp;
    op->page = NULL;
    op->resp = NULL;
}

/* job:job_id() -> the job's id: its JSON id, or (a v1.x start answers with no
 * body) the last segment of the Operation-Location it came with */
static int job_job_id(lua_State *L)
{
    dt_obj *o = luaL_checkudata(L, 1, DT_JOB_MT);
    lua_pushstring(L, o->job_id ? o->job_id : "");
    return 1;
}

/* job:client() -> the client the job uses (for the non-blocking forms) */
static int job_client(lua_State *L)
{
    dt_obj *o = luaL_checkudata(L, 1, DT_JOB_MT);
    if (dt_client_from_ref(L, o->client_ref) == NULL)
        return dt_usage(L, "the job's client is closed");
    return 1;
}

/* job:adopt(other) -> job: takes the state another read of the same job gave
 * (job_async's result), as refresh would have */
static int job_adopt(lua_State *L)
{
    dt_obj *o = luaL_checkudata(L, 1, DT_JOB_MT);
    dt_obj *n = luaL_checkudata(L, 2, DT_JOB_MT);
    if (o->job_id == NULL || n->job_id == NULL || strcmp(o->job_id, n->job_id) != 0)
        return dt_usage(L, "bad argument 'other': a read of the same job expected");
    if (n != o) {
        dt_page_unref(o->page);
        dt_resp_unref(o->resp);
        o->page = dt_page_ref(n->page);
        o->item = n->item;
        o->resp = dt_resp_ref(n->resp);
    }
    lua_settop(L, 1);
    return 1;
}

/* The anchor of a page: a userdata holding the page and its response, made
 * once per page and kept by every document of it (as its user value), so a
 * listed document needs no finalizer of its own: the anchor's runs once the
 * last document of the page is gone. */
typedef struct page_anchor {
    dt_page *page;
    dt_resp *resp;
} page_anchor;

static int anchor_gc(lua_State *L)
{
    /* only anchors carry this finalizer */
    page_anchor *a = lua_touserdata(L, 1);
    if (a != NULL) {
        dt_page_unref(a->page);
        dt_resp_unref(a->resp);
        a->page = NULL;
        a->resp = NULL;
    }
    return 0;
}

/* Pushes the anchor of op's page (found in the weak table of anchors, or made). */
static void push_anchor(lua_State *L, dt_op *op)
{
    dt_getreg(L, &anchors_key);
    lua_pushlightuserdata(L, op->page);
    lua_rawget(L, -2);
    if (lua_isnil(L, -1)) {
        page_anchor *a;
        lua_pop(L, 1);
        a = lua_newuserdata(L, sizeof *a);
        a->page = NULL;
        a->resp = NULL;
        dt_getreg(L, &anchor_mt_key);
        lua_setmetatable(L, -2);
        a->page = dt_page_ref(op->page);
        a->resp = dt_resp_ref(op->resp);
#if LUA_VERSION_NUM < 503
        /* a user value (5.2) or environment (5.1) must be a table */
        lua_createtable(L, 1, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
#endif
        lua_pushlightuserdata(L, op->page);
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
    }
    lua_remove(L, -2);
}

void dt_push_listed(lua_State *L, dt_op *op)
{
    dt_obj *d;
    int top;
    luaL_checkstack(L, 8, "out of stack");
    d = lua_newuserdata(L, sizeof *d);
    memset(d, 0, sizeof *d);
    d->client_ref = LUA_NOREF;
    d->page = op->page; /* held by the anchor */
    d->resp = op->resp;
    d->item = op->offset;
    top = lua_gettop(L);
    dt_getreg(L, &listed_mt_key);
    lua_setmetatable(L, top);
    push_anchor(L, op);
#if LUA_VERSION_NUM >= 504
    lua_setiuservalue(L, top, 1);
#elif LUA_VERSION_NUM >= 502
    lua_setuservalue(L, top);
#else
    lua_setfenv(L, top);
#endif
    dt_op_consumed(op, 1);
}

void dt_push_item(lua_State *L, int client_ref, dt_op *op)
{
    if (op->list_jobs) {
        /* a job of the job list: a Job holding the page (its element) */
        const dt_pmember *m = dt_page_member(op->page, op->offset, "id", 2);
        char *id = m != NULL ? dt_page_cstr(op->page, &m->val) : NULL;
        dt_obj *j;
        int ci;
        lua_rawgeti(L, LUA_REGISTRYINDEX, client_ref);
        ci = lua_gettop(L);
        lua_pushstring(L, id ? id : "");
        free(id);
        j = dt_push_job(L, ci, NULL, DT_PAGE_ROOT, NULL, lua_tostring(L, -1));
        j->page = dt_page_ref(op->page);
        j->item = op->offset;
        j->resp = dt_resp_ref(op->resp);
        lua_remove(L, ci + 1);
        lua_remove(L, ci);
        dt_op_consumed(op, 1);
    } else {
        dt_push_listed(L, op);
    }
}

/* r:response() of a translation: its upvalue */
static int translation_response(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    return 1;
}

/* A header's value as a number field of the table on top (absent: not set). */
static void header_number(lua_State *L, const dt_resp *r, const char *header, const char *field)
{
    const char *v = dt_resp_get(r, header);
    char *end;
    double d;
    if (v == NULL)
        return;
    d = strtod(v, &end);
    if (end == v || *end != '\0' || d < 0 || d > 9.0e15 || d != floor(d))
        return; /* not a count: left out rather than guessed (r:response() has it) */
    dt_pushint64(L, (long long)d);
    lua_setfield(L, -2, field);
}

/* The result of a translation: { body (nil when it went to output), output,
 * content_type, size, characters_charged, image_scans_succeeded,
 * image_scans_failed, response = function }. */
static void push_translation(lua_State *L, dt_op *op)
{
    lua_createtable(L, 0, 8);
    if (op->output == NULL) {
        lua_pushlstring(L, op->raw != NULL ? op->raw : "", op->raw_len);
        lua_setfield(L, -2, "body");
    } else {
        lua_pushstring(L, op->output);
        lua_setfield(L, -2, "output");
    }
    dt_pushint64(L, op->raw_size);
    lua_setfield(L, -2, "size");
    if (dt_resp_get(op->resp, "content-type") != NULL) {
        lua_pushstring(L, dt_resp_get(op->resp, "content-type"));
        lua_setfield(L, -2, "content_type");
    }
    header_number(L, op->resp, "x-metered-usage", "characters_charged");
    header_number(L, op->resp, "total-image-scans-succeeded", "image_scans_succeeded");
    header_number(L, op->resp, "total-image-scans-failed", "image_scans_failed");
    dt_push_response(L, op->resp);
    lua_pushcclosure(L, translation_response, 1);
    lua_setfield(L, -2, "response");
    free(op->raw);
    op->raw = NULL;
    op->raw_len = 0;
    dt_resp_unref(op->resp);
    op->resp = NULL;
}

void dt_push_result(lua_State *L, int client_ref, dt_op *op)
{
    if (op->kind == DT_OP_TRANSLATE) {
        push_translation(L, op);
    } else if (op->kind == DT_OP_JOB || op->kind == DT_OP_START || op->kind == DT_OP_CANCEL) {
        dt_obj *j;
        int ci;
        lua_rawgeti(L, LUA_REGISTRYINDEX, client_ref);
        ci = lua_gettop(L);
        j = dt_push_job(L, ci, NULL, DT_PAGE_ROOT, NULL, op->job_id ? op->job_id : "");
        lua_remove(L, ci);
        take_result(j, op);
    } else if (op->kind == DT_OP_FORMATS) {
        /* the array of formats, every member kept */
        const dt_pmember *m = dt_page_member(op->page, DT_PAGE_ROOT, "value", 5);
        if (m != NULL)
            push_span(L, op->page, &m->val);
        else
            lua_pushnil(L);
        dt_page_unref(op->page);
        dt_resp_unref(op->resp);
        op->page = NULL;
        op->resp = NULL;
    } else {
        dt_obj *d = dt_push_document(L, NULL, DT_PAGE_ROOT, NULL);
        d->page = op->page;
        d->resp = op->resp;
        op->page = NULL;
        op->resp = NULL;
    }
}

void dt_job_methods(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, DT_JOB_MT ".methods");
}

static void make_class(lua_State *L, const char *mt, const luaL_Reg *methods,
                       lua_CFunction tostring)
{
    dt_newmetatable(L, mt);
    lua_newtable(L);
    dt_setfuncs(L, methods);
    if (strcmp(mt, DT_JOB_MT) == 0) {
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, DT_JOB_MT ".methods");
    } else {
        lua_pushvalue(L, -2);
        dt_setreg(L, &document_mt_key);
        lua_pushvalue(L, -1);
        dt_setreg(L, &document_methods_key);
    }
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, obj_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, obj_gc, 1);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

void dt_obj_open(lua_State *L)
{
    static const luaL_Reg job_methods[] = {
        {"time", obj_time},     {"response", obj_response}, {"job_id", job_job_id},
        {"client", job_client}, {"adopt", job_adopt},       {NULL, NULL}};
    static const luaL_Reg doc_methods[] = {
        {"time", obj_time}, {"response", obj_response}, {NULL, NULL}};
    make_class(L, DT_JOB_MT, job_methods, job_tostring);
    make_class(L, DT_DOCUMENT_MT, doc_methods, doc_tostring);

    /* Opened again (package.loaded cleared): the tables below stay those the
     * documents and anchors made so far already carry. */
    dt_getreg(L, &listed_mt_key);
    if (!lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);

    /* listed documents: the Document class (same name, methods, __index and
     * __tostring) without a finalizer; their page is held by its anchor */
    lua_newtable(L);
    lua_pushliteral(L, DT_DOCUMENT_MT);
    lua_setfield(L, -2, "__name");
    dt_getreg(L, &document_methods_key);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, obj_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, doc_tostring);
    lua_setfield(L, -2, "__tostring");
    dt_setreg(L, &listed_mt_key);

    /* the anchors of pages, and the weak table that finds a page's anchor */
    lua_newtable(L);
    lua_pushcfunction(L, anchor_gc);
    lua_setfield(L, -2, "__gc");
    dt_setreg(L, &anchor_mt_key);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    dt_setreg(L, &anchors_key);
}
