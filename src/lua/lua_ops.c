/* The binding's table of operations: one constructor per op of the core
 * (job, document, documents, jobs, start, cancel, formats), each giving a
 * holder that a runner runs (lua_run.c, or a Lua runner through
 * next_request/feed); and the start request's body, built and checked here. */
#include "lua_ops.h"
#include "lua_pages.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TARGETS 10
#define FIELD_MAX 160

/* ------------------------------------------------------------- tokens */

/* --------------------------------------------------------- start body */

typedef struct field {
    const char *name;
    int type;       /* LUA_TSTRING, LUA_TBOOLEAN, LUA_TTABLE */
    int required;
} field;

/* out = path + suffix (+ [index] when index > 0), cut to FIELD_MAX. */
static void sub_path(char *out, const char *path, const char *suffix, int index)
{
    size_t n = strlen(path), m = strlen(suffix);
    char num[24] = "";
    if (index > 0)
        snprintf(num, sizeof num, "[%d]", index);
    if (n > FIELD_MAX - 40)
        n = FIELD_MAX - 40;
    if (m > 16)
        m = 16;
    memcpy(out, path, n);
    memcpy(out + n, suffix, m);
    memcpy(out + n + m, num, strlen(num) + 1);
}

/* Raises a usage error naming path.name. */
static DT_NORETURN void bad(lua_State *L, const char *path, const char *name, const char *what)
{
    dt_usage(L, "bad field '%s%s%s': %s", path, *path && *name ? "." : "", name, what);
}

/* Checks that the table at idx has only the given keys. */
static void only_keys(lua_State *L, int idx, const field *fields, const char *path)
{
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        int i, known = 0;
        if (lua_type(L, -2) != LUA_TSTRING)
            bad(L, path, "", "field names are strings (an object expected, not an array)");
        for (i = 0; fields[i].name != NULL; i++)
            if (strcmp(lua_tostring(L, -2), fields[i].name) == 0)
                known = 1;
        if (!known)
            bad(L, path, lua_tostring(L, -2), "not a field of the start request");
        lua_pop(L, 1);
    }
}

/* The length of the array at idx; raises when it is not a sequence 1..n. */
static size_t array_len(lua_State *L, int idx, const char *path)
{
    size_t n = dt_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_Number k = lua_type(L, -2) == LUA_TNUMBER ? lua_tonumber(L, -2) : 0;
        if (k != floor(k) || k < 1 || k > (lua_Number)n)
            bad(L, path, "", "an array expected");
        count++;
        lua_pop(L, 1);
    }
    if (count != n)
        bad(L, path, "", "an array without holes expected");
    return n;
}

/* The start request's JSON text, written while the request is walked (a
 * NULL writer: check only). A member or an element gets a comma before it
 * unless it opens its container. */
typedef struct jw {
    dt_buf b;
    int oom;
} jw;

static void jw_put(jw *w, const char *s)
{
    if (dt_buf_adds(&w->b, s) != 0)
        w->oom = 1;
}

static void jw_key(jw *w, const char *name)
{
    char last = w->b.len > 0 ? w->b.data[w->b.len - 1] : '{';
    if (last != '{' && last != '[' && last != ':')
        jw_put(w, ",");
    if (name != NULL) {
        if (dt_buf_add_json(&w->b, name, strlen(name)) != 0)
            w->oom = 1;
        jw_put(w, ":");
    }
}

/* Opens an object ("{") or array ("[") as member name (NULL: an element). */
static void jw_open(jw *w, const char *name, const char *bracket)
{
    if (w != NULL) {
        jw_key(w, name);
        jw_put(w, bracket);
    }
}

static void jw_close(jw *w, const char *bracket)
{
    if (w != NULL)
        jw_put(w, bracket);
}

static void add_string(jw *obj, const char *name, lua_State *L, int idx)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    jw_key(obj, name);
    if (dt_buf_add_json(&obj->b, s, len) != 0)
        obj->oom = 1;
}

/* Checks (and when obj is not NULL, copies into obj) the members of the table
 * at idx that fields names and that are not tables. Raises on a wrong type, a
 * missing required member or an unknown key. */
static void scalars(lua_State *L, int idx, const field *fields, const char *path, jw *obj)
{
    int i;
    only_keys(L, idx, fields, path);
    for (i = 0; fields[i].name != NULL; i++) {
        int t;
        lua_getfield(L, idx, fields[i].name);
        t = lua_type(L, -1);
        if (t == LUA_TNIL) {
            if (fields[i].required)
                bad(L, path, fields[i].name, "required");
        } else if (t != fields[i].type) {
            bad(L, path, fields[i].name,
                fields[i].type == LUA_TSTRING    ? "a string expected"
                : fields[i].type == LUA_TBOOLEAN ? "a boolean expected"
                                                 : "a table expected");
        } else if (t == LUA_TSTRING) {
            if (dt_rawlen(L, -1) == 0)
                bad(L, path, fields[i].name, "an empty string");
            if (obj != NULL)
                add_string(obj, fields[i].name, L, -1);
        } else if (t == LUA_TBOOLEAN && obj != NULL) {
            jw_key(obj, fields[i].name);
            jw_put(obj, lua_toboolean(L, -1) ? "true" : "false");
        }
        lua_pop(L, 1);
    }
}

static void check_enum(lua_State *L, int idx, const char *name, const char *path,
                       const char *a, const char *b)
{
    lua_getfield(L, idx, name);
    if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), a) != 0 &&
        strcmp(lua_tostring(L, -1), b) != 0) {
        char what[96];
        snprintf(what, sizeof what, "'%s' or '%s' expected", a, b);
        bad(L, path, name, what);
    }
    lua_pop(L, 1);
}

static const field SOURCE_FIELDS[] = {{"sourceUrl", LUA_TSTRING, 1},
                                      {"filter", LUA_TTABLE, 0},
                                      {"language", LUA_TSTRING, 0},
                                      {"storageSource", LUA_TSTRING, 0},
                                      {NULL, 0, 0}};
static const field FILTER_FIELDS[] = {
    {"prefix", LUA_TSTRING, 0}, {"suffix", LUA_TSTRING, 0}, {NULL, 0, 0}};
static const field TARGET_FIELDS[] = {{"targetUrl", LUA_TSTRING, 1},
                                      {"language", LUA_TSTRING, 1},
                                      {"category", LUA_TSTRING, 0},
                                      {"glossaries", LUA_TTABLE, 0},
                                      {"storageSource", LUA_TSTRING, 0},
                                      {NULL, 0, 0}};
static const field GLOSSARY_FIELDS[] = {{"glossaryUrl", LUA_TSTRING, 1},
                                        {"format", LUA_TSTRING, 1},
                                        {"version", LUA_TSTRING, 0},
                                        {"storageSource", LUA_TSTRING, 0},
                                        {NULL, 0, 0}};
static const field INPUT_FIELDS[] = {{"source", LUA_TTABLE, 1},
                                     {"targets", LUA_TTABLE, 1},
                                     {"storageType", LUA_TSTRING, 0},
                                     {NULL, 0, 0}};
static const field OPTIONS_FIELDS[] = {{"experimental", LUA_TBOOLEAN, 0}, {NULL, 0, 0}};
static const field REQUEST_FIELDS[] = {
    {"inputs", LUA_TTABLE, 1}, {"options", LUA_TTABLE, 0}, {NULL, 0, 0}};

/* The object at idx (a table checked against fields) with its sub-objects;
 * obj NULL: check only. */
static void source(lua_State *L, int idx, const char *path, jw *obj)
{
    char sub[FIELD_MAX];
    scalars(L, idx, SOURCE_FIELDS, path, obj);
    lua_getfield(L, idx, "filter");
    if (lua_istable(L, -1)) {
        sub_path(sub, path, ".filter", 0);
        jw_open(obj, "filter", "{");
        scalars(L, lua_gettop(L), FILTER_FIELDS, sub, obj);
        jw_close(obj, "}");
    }
    lua_pop(L, 1);
}

static void target(lua_State *L, int idx, const char *path, jw *obj)
{
    char sub[FIELD_MAX];
    scalars(L, idx, TARGET_FIELDS, path, obj);
    lua_getfield(L, idx, "glossaries");
    if (lua_istable(L, -1)) {
        int gi = lua_gettop(L);
        size_t n, i;
        sub_path(sub, path, ".glossaries", 0);
        n = array_len(L, gi, sub);
        jw_open(obj, "glossaries", "[");
        for (i = 1; i <= n; i++) {
            sub_path(sub, path, ".glossaries", (int)i);
            lua_rawgeti(L, gi, (int)i);
            if (!lua_istable(L, -1))
                bad(L, sub, "", "a table expected");
            jw_open(obj, NULL, "{");
            scalars(L, lua_gettop(L), GLOSSARY_FIELDS, sub, obj);
            jw_close(obj, "}");
            lua_pop(L, 1);
        }
        jw_close(obj, "]");
    }
    lua_pop(L, 1);
}

static void input(lua_State *L, int idx, const char *path, jw *obj)
{
    char sub[FIELD_MAX];
    size_t n, i;
    int ti;
    scalars(L, idx, INPUT_FIELDS, path, NULL);
    check_enum(L, idx, "storageType", path, "Folder", "File");

    lua_getfield(L, idx, "source");
    sub_path(sub, path, ".source", 0);
    jw_open(obj, "source", "{");
    source(L, lua_gettop(L), sub, obj);
    jw_close(obj, "}");
    lua_pop(L, 1);

    lua_getfield(L, idx, "targets");
    ti = lua_gettop(L);
    sub_path(sub, path, ".targets", 0);
    n = array_len(L, ti, sub);
    if (n == 0)
        bad(L, sub, "", "at least one target is required");
    if (n > MAX_TARGETS)
        bad(L, sub, "", "at most 10 targets are allowed");
    jw_open(obj, "targets", "[");
    for (i = 1; i <= n; i++) {
        sub_path(sub, path, ".targets", (int)i);
        lua_rawgeti(L, ti, (int)i);
        if (!lua_istable(L, -1))
            bad(L, sub, "", "a table expected");
        jw_open(obj, NULL, "{");
        target(L, lua_gettop(L), sub, obj);
        jw_close(obj, "}");
        lua_pop(L, 1);
    }
    jw_close(obj, "]");
    lua_pop(L, 1);
    if (obj != NULL) {
        lua_getfield(L, idx, "storageType");
        if (lua_type(L, -1) == LUA_TSTRING)
            add_string(obj, "storageType", L, -1);
        lua_pop(L, 1);
    }
}

/* Walks the request at idx: checks it (raising usage errors) when root is
 * NULL, builds it into root otherwise (after a successful check). */
static void request(lua_State *L, int idx, int v1, jw *root)
{
    char sub[FIELD_MAX];
    size_t n, i;
    int ii;
    if (!lua_istable(L, idx))
        dt_usage(L, "bad argument 'request': a table { inputs = {...}, options = {...} } expected, got %s",
                 luaL_typename(L, idx));
    scalars(L, idx, REQUEST_FIELDS, "", NULL);
    lua_getfield(L, idx, "inputs");
    ii = lua_gettop(L);
    n = array_len(L, ii, "inputs");
    if (n == 0)
        bad(L, "inputs", "", "at least one input is required");
    jw_open(root, "inputs", "[");
    for (i = 1; i <= n; i++) {
        sub_path(sub, "inputs", "", (int)i);
        lua_rawgeti(L, ii, (int)i);
        if (!lua_istable(L, -1))
            bad(L, sub, "", "a table expected");
        jw_open(root, NULL, "{");
        input(L, lua_gettop(L), sub, root);
        jw_close(root, "}");
        lua_pop(L, 1);
    }
    jw_close(root, "]");
    lua_pop(L, 1);

    lua_getfield(L, idx, "options");
    if (lua_istable(L, -1)) {
        if (v1)
            bad(L, "options", "", "not part of the v1.x API (2024-05-01 and later only)");
        jw_open(root, "options", "{");
        scalars(L, lua_gettop(L), OPTIONS_FIELDS, "options", root);
        jw_close(root, "}");
    }
    lua_pop(L, 1);
}

/* Pushes the JSON body of the start request at idx (raises usage errors). */
static const char *start_body(lua_State *L, int idx, dt_client *cl)
{
    int v1 = dt_api_family(cl->conf.api_version) == DT_FAMILY_V1;
    jw w;
    request(L, idx, v1, NULL); /* raises before anything is allocated */
    dt_buf_init(&w.b);
    w.oom = 0;
    jw_open(&w, NULL, "{");
    request(L, idx, v1, &w);
    jw_close(&w, "}");
    if (w.oom) {
        dt_buf_free(&w.b);
        luaL_error(L, "out of memory");
    }
    lua_pushlstring(L, w.b.data, w.b.len);
    dt_buf_free(&w.b);
    return lua_tostring(L, -1);
}

/* c:start_body(request) -> the JSON text c:start would send (checked) */
static int client_start_body(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    start_body(L, 2, cl);
    return 1;
}

/* ------------------------------------------------------------ ops */

static dt_pages *new_op(lua_State *L, dt_op *op)
{
    dt_pages *h = dt_holder_new(L, 1, DT_OP_MT);
    h->op = op;
    if (op == NULL)
        luaL_error(L, "out of memory");
    return h;
}

static const char *format_type(lua_State *L, int idx)
{
    const char *t;
    if (lua_isnoneornil(L, idx))
        return "document";
    if (lua_type(L, idx) != LUA_TSTRING)
        dt_usage(L, "bad argument 'type': \"document\" or \"glossary\" expected, got %s",
                 luaL_typename(L, idx));
    t = lua_tostring(L, idx);
    if (strcmp(t, "document") != 0 && strcmp(t, "glossary") != 0)
        dt_usage(L, "bad argument 'type': \"document\" or \"glossary\" expected, got '%s'", t);
    return t;
}

/* c:start_op(request): the same for Lua transports (next_request / feed / result) */
static int client_start_op(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    const char *body;
    lua_settop(L, 2);
    body = start_body(L, 2, cl);
    new_op(L, dt_op_new_start(&cl->conf, body));
    return 1;
}

/* c:cancel_op(job_id) */
static int client_cancel_op(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    dt_check_id(L, 2, "job_id");
    new_op(L, dt_op_new_cancel(&cl->conf, lua_tostring(L, 2)));
    return 1;
}

/* c:formats_op("document" | "glossary"): the formats array as its result */
static int client_formats_op(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    new_op(L, dt_op_new_formats(&cl->conf, format_type(L, 2)));
    return 1;
}

/* c:translate_op(request): a single-document translation, in the form
 * doctranslate.translate makes of c:translate's arguments */
static int client_translate_op(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    int ref;
    dt_op *op;
    dt_pages *h;
    lua_settop(L, 2);
    op = dt_translate_from_lua(L, cl, 2, &ref);
    h = dt_holder_new(L, 1, DT_OP_MT);
    h->op = op;
    h->progress_ref = ref;
    return 1;
}

/* c:jobs_op(opts): the lazy job list (the Pages object of documents) */
static int client_jobs_op(lua_State *L)
{
    dt_check_client(L, 1);
    return dt_pages_new(L, 1, NULL, lua_isnoneornil(L, 2) ? 0 : 2);
}

/* ------------------------------------------------------ module helpers */

/* c:documents_op(job_id, opts): the lazy listing of a job's documents */
static int client_documents_op(lua_State *L)
{
    dt_check_client(L, 1);
    dt_check_id(L, 2, "job_id");
    return dt_pages_new(L, 1, lua_tostring(L, 2), lua_isnoneornil(L, 3) ? 0 : 3);
}

/* c:job_op(job_id) / c:document_op(job_id, doc_id): single-shot operations for
 * Lua transports (next_request / feed / result). */
static int client_job_op(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    dt_pages *h;
    dt_check_id(L, 2, "job_id");
    h = dt_holder_new(L, 1, DT_OP_MT);
    h->op = dt_op_new_job(&cl->conf, lua_tostring(L, 2));
    if (h->op == NULL)
        return luaL_error(L, "out of memory");
    return 1;
}

static int client_document_op(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    dt_pages *h;
    dt_check_id(L, 2, "job_id");
    dt_check_id(L, 3, "doc_id");
    h = dt_holder_new(L, 1, DT_OP_MT);
    h->op = dt_op_new_document(&cl->conf, lua_tostring(L, 2), lua_tostring(L, 3));
    if (h->op == NULL)
        return luaL_error(L, "out of memory");
    return 1;
}

void dt_ops_open(lua_State *L)
{
    static const luaL_Reg ops[] = {
        {"job_op", client_job_op},         {"document_op", client_document_op},
        {"documents_op", client_documents_op}, {"jobs_op", client_jobs_op},
        {"start_op", client_start_op},     {"cancel_op", client_cancel_op},
        {"formats_op", client_formats_op}, {"start_body", client_start_body},
        {"translate_op", client_translate_op},
        {NULL, NULL}};
    luaL_getmetatable(L, DT_CLIENT_MT);
    lua_getfield(L, -1, "__index");
    dt_setfuncs(L, ops);
    lua_pop(L, 2);
}
