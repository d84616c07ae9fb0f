/* The job lifecycle on the client: start (POST /batches, the body built and
 * checked here), the job list, cancel ops, formats, Azure AD tokens from a
 * function, and the small helpers the Lua layer's wait needs (sleep, clock,
 * error values, methods written in Lua). */
#include "lua_dt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TARGETS 10
#define FIELD_MAX 160

/* ------------------------------------------------------------- tokens */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Stores a new token (copied) and when it expires (epoch seconds, 0 unknown). */
static void set_token(dt_client *cl, const char *token, size_t len, double expires)
{
    char *copy = malloc(len + 1), *old = cl->conf.token;
    double now = wall_now(), margin;
    if (copy == NULL)
        return;
    memcpy(copy, token, len + 1);
    if (old != NULL) {
        memset(old, 0, strlen(old));
        free(old);
    }
    cl->conf.token = copy;
    cl->conf.token_stale = 0;
    cl->conf.token_expires = expires;
    /* a tenth of the lifetime, at most a minute, fetched early */
    margin = expires > now ? (expires - now) / 10 : 0;
    cl->conf.token_margin = margin > 60 ? 60 : margin;
}

/* Calls the token function when the token is due. Returns 0, or -1 with a
 * message in why (the function failed or gave no token). */
static int refresh_token(lua_State *L, dt_client *cl, char *why, size_t whysize)
{
    const char *tok;
    size_t len;
    double expires = 0;
    int top = lua_gettop(L), st;
    if (!dt_conf_token_due(&cl->conf, wall_now()) || cl->token_ref == LUA_NOREF)
        return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, cl->token_ref);
    st = lua_pcall(L, 0, 2, 0);
    if (st != 0) {
        const char *m = lua_tostring(L, -1);
        char *clean = dt_scrub(cl, m ? m : "(an error value)");
        snprintf(why, whysize, "the token function failed: %s", clean ? clean : "?");
        free(clean);
        lua_settop(L, top);
        return -1;
    }
    if (lua_type(L, top + 1) != LUA_TSTRING || dt_rawlen(L, top + 1) == 0) {
        const char *m = lua_tostring(L, top + 2);
        char *clean = m ? dt_scrub(cl, m) : NULL; /* the secrets out before the cut */
        snprintf(why, whysize, "the token function gave no token%s%s", m ? ": " : "",
                 clean ? clean : m ? "?" : "");
        free(clean);
        lua_settop(L, top);
        return -1;
    }
    /* a token that cannot be sent as it is: the caller's function is wrong */
    dt_check_header_value(L, top + 1, "the token function's token");
    tok = lua_tolstring(L, top + 1, &len);
    if (lua_type(L, top + 2) == LUA_TNUMBER)
        expires = lua_tonumber(L, top + 2);
    set_token(cl, tok, len, expires);
    lua_settop(L, top);
    dt_log(L, cl, "debug", "new bearer token%s", expires > 0 ? " (with an expiry)" : "");
    return 0;
}

int dt_auth_ready(lua_State *L, dt_client *cl, dt_op *op)
{
    char why[512];
    if (cl == NULL || refresh_token(L, cl, why, sizeof why) == 0)
        return 1;
    dt_op_feed_error(op, DT_ERR_NETWORK, why);
    return 0;
}

int dt_auth_ready_ref(lua_State *L, int client_ref, dt_op *op)
{
    dt_client *cl = dt_client_from_ref(L, client_ref);
    int ok = dt_auth_ready(L, cl, op);
    lua_pop(L, 1);
    return ok;
}

/* c:set_token(token, expires_at): for drivers that fetch tokens themselves
 * (a token function that must yield, under OpenResty). */
static int client_set_token(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    size_t len;
    const char *tok;
    if (lua_type(L, 2) != LUA_TSTRING || dt_rawlen(L, 2) == 0)
        return dt_usage(L, "bad argument 'token': a non-empty string expected");
    dt_check_header_value(L, 2, "bad argument 'token'");
    tok = lua_tolstring(L, 2, &len);
    if (!lua_isnoneornil(L, 3) && lua_type(L, 3) != LUA_TNUMBER)
        return dt_usage(L, "bad argument 'expires_at': an epoch number expected");
    if (cl->conf.key != NULL)
        return dt_usage(L, "bad argument 'token': the client uses a key");
    set_token(cl, tok, len, lua_isnoneornil(L, 3) ? 0 : lua_tonumber(L, 3));
    return 0;
}

/* c:token_due() -> whether the next request needs a new token */
static int client_token_due(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    lua_pushboolean(L, dt_conf_token_due(&cl->conf, wall_now()));
    return 1;
}

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

/* c:jobs_op(opts): the lazy job list (the Pages object of documents) */
static int client_jobs_op(lua_State *L)
{
    dt_check_client(L, 1);
    return dt_pages_new(L, 1, NULL, lua_isnoneornil(L, 2) ? 0 : 2);
}

/* ------------------------------------------------------ module helpers */

/* core.sleep(seconds): a blocking sleep (the libcurl path's wait) */
static int core_sleep(lua_State *L)
{
    double s = luaL_checknumber(L, 1);
    if (!(s >= 0 && s <= 86400))
        return dt_usage(L, "bad argument 'seconds': a number in 0..86400 expected");
    dt_sleep(s);
    return 0;
}

/* core.monotonic() -> seconds of a clock that never goes back */
static int core_monotonic(lua_State *L)
{
    lua_pushnumber(L, dt_now()); /* the driver's clock (dt_clock.h) */
    return 1;
}

/* core.error(kind, message) -> an error value (for the Lua layer) */
static int core_error(lua_State *L)
{
    static const char *const kinds[] = {"http", "network", "timeout", "parse", "protocol", "usage",
                                        NULL};
    static const dt_err_kind values[] = {DT_ERR_HTTP,  DT_ERR_NETWORK,  DT_ERR_TIMEOUT,
                                         DT_ERR_PARSE, DT_ERR_PROTOCOL, DT_ERR_USAGE};
    int k = luaL_checkoption(L, 1, NULL, kinds);
    dt_push_simple_error(L, values[k], luaL_checkstring(L, 2));
    return 1;
}

void dt_lifecycle_open(lua_State *L)
{
    static const luaL_Reg client_methods[] = {
        {"start_op", client_start_op},     {"start_body", client_start_body},
        {"cancel_op", client_cancel_op},   {"formats_op", client_formats_op},
        {"jobs_op", client_jobs_op},       {"set_token", client_set_token},
        {"token_due", client_token_due},   {NULL, NULL}};
    static const luaL_Reg funcs[] = {{"sleep", core_sleep}, {"monotonic", core_monotonic},
                                     {"error", core_error}, {NULL, NULL}};
    /* the module table is on top */
    dt_setfuncs(L, funcs);
    luaL_getmetatable(L, DT_CLIENT_MT);
    lua_getfield(L, -1, "__index");
    dt_setfuncs(L, client_methods);
    lua_pop(L, 2);
}
