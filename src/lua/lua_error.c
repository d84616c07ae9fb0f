/* Error values: tables with metatable doctranslate.Error. */
#include "lua_error.h"
#include "core/dt_guard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void set_str(lua_State *L, const dt_conf *conf, const char *name, const char *v)
{
    char *clean;
    if (v == NULL)
        return;
    clean = conf ? dt_scrub(conf, v) : NULL;
    lua_pushstring(L, clean ? clean : v);
    free(clean);
    lua_setfield(L, -2, name);
}

/* Sets the string member name of the object at span o of pg as field name. */
static void set_member(lua_State *L, const dt_conf *conf, const dt_page *pg, const dt_span *o,
                       const char *name)
{
    dt_span v;
    char *s;
    if (!dt_page_find(pg, o, name, strlen(name), &v) || v.type != DT_J_STRING)
        return;
    s = dt_page_cstr(pg, &v);
    set_str(L, conf, name, s);
    free(s);
}

static void push_inner(lua_State *L, const dt_conf *conf, const dt_page *pg, const dt_span *o,
                       int depth)
{
    dt_span next;
    int has;
    lua_newtable(L);
    set_member(L, conf, pg, o, "code");
    set_member(L, conf, pg, o, "message");
    set_member(L, conf, pg, o, "target");
    /* a null innerError is absent: innererror is looked at then */
    has = dt_page_find(pg, o, "innerError", 10, &next) && next.type != DT_J_NULL;
    if (!has)
        has = dt_page_find(pg, o, "innererror", 10, &next);
    if (has && next.type == DT_J_OBJECT && depth < 32) {
        push_inner(L, conf, pg, &next, depth + 1);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "innererror");
        lua_setfield(L, -2, "innerError");
    }
}

void dt_push_error(lua_State *L, const dt_conf *conf, const dt_error *e)
{
    lua_createtable(L, 0, 12);
    lua_pushstring(L, dt_err_kind_name(e->kind));
    lua_setfield(L, -2, "kind");
    if (e->status > 0) {
        dt_pushint64(L, e->status);
        lua_setfield(L, -2, "status");
    }
    set_str(L, conf, "code", e->code);
    set_str(L, conf, "message", e->message ? e->message : dt_err_kind_name(e->kind));
    set_str(L, conf, "target", e->target);
    if (e->inner_page != NULL) {
        push_inner(L, conf, e->inner_page, &e->inner, 0);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "innererror");
        lua_setfield(L, -2, "innerError");
    }
    if (e->retry_after >= 0) {
        lua_pushnumber(L, e->retry_after);
        lua_setfield(L, -2, "retry_after");
    }
    set_str(L, conf, "apim-request-id", e->apim_request_id);
    set_str(L, conf, "x-requestid", e->x_requestid);
    set_str(L, conf, "x-ms-client-request-id", e->client_request_id);
    luaL_getmetatable(L, DT_ERROR_MT);
    lua_setmetatable(L, -2);
}

int dt_push_nil_error(lua_State *L, const dt_conf *conf, const dt_error *e)
{
    lua_pushnil(L);
    dt_push_error(L, conf, e);
    return 2;
}

void dt_push_simple_error(lua_State *L, dt_err_kind kind, const char *message)
{
    lua_createtable(L, 0, 2);
    lua_pushstring(L, dt_err_kind_name(kind));
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
    luaL_getmetatable(L, DT_ERROR_MT);
    lua_setmetatable(L, -2);
}

/* Whether a chunk's source is a file of the module: "@.../doctranslate.lua" or
 * "@.../doctranslate/<file>.lua" (as checked out or installed). */
static int library_source(const char *src)
{
    static const char top[] = "doctranslate.lua", dir[] = "doctranslate/";
    const char *base, *slash;
    size_t n;
    if (src == NULL || src[0] != '@')
        return 0;
    n = strlen(src);
    if (n >= sizeof top && strcmp(src + n - (sizeof top - 1), top) == 0 &&
        (n == sizeof top || src[n - sizeof top] == '/'))
        return 1;
    slash = strrchr(src, '/');
    if (slash == NULL || n < 4 || strcmp(src + n - 4, ".lua") != 0)
        return 0;
    base = slash + 1 - (sizeof dir - 1); /* where "doctranslate/" would start */
    return base >= src + 1 && strncmp(base, dir, sizeof dir - 1) == 0 &&
           (base == src + 1 || base[-1] == '/');
}

/* Pushes "chunk:line: " of the caller's code: the first Lua function on the stack that is not
 * one of the module's own files (a misuse is the caller's line, not the line of the module that
 * found it); luaL_where(L, 1) when there is none. */
static void push_where(lua_State *L)
{
    lua_Debug ar;
    int level;
    for (level = 1; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 && !library_source(ar.source)) {
            lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
    }
    luaL_where(L, 1);
}

/* Usage errors are strings, as luaL_argerror raises them: they print on every Lua (5.1 and
 * LuaJIT print "(error object is not a string)" for a table) and in nginx's error log. */
int dt_usage(lua_State *L, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    push_where(L);
    lua_pushstring(L, msg);
    lua_concat(L, 2);
    lua_error(L);
#if defined(__GNUC__) || defined(__clang__)
    __builtin_unreachable();
#else
    return 0;
#endif
}

/* The pieces of the string are pushed and joined at the end (lua_concat): a
 * luaL_Buffer must not be used across lua_getfield, and a string popped off
 * the stack is no longer anchored against the collector. n counts them. */
static void push_piece(lua_State *L, int *n, const char *s)
{
    lua_pushstring(L, s);
    (*n)++;
}

static void add_field(lua_State *L, int *n, const char *name, int *first)
{
    lua_getfield(L, 1, name);
    if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
        lua_pushstring(L, *first ? " [" : ", ");
        lua_pushstring(L, name);
        lua_pushliteral(L, "=");
        lua_pushvalue(L, -4);
        lua_remove(L, -5); /* the value, now after its name */
        *n += 4;
        *first = 0;
    } else {
        lua_pop(L, 1);
    }
}

/* Pushes field name of the error table as a string piece (prefix before it). */
static void add_plain(lua_State *L, int *n, const char *prefix, const char *name, const char *suffix)
{
    lua_getfield(L, 1, name);
    if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
        lua_pushstring(L, prefix);
        lua_insert(L, -2);
        *n += 2;
        if (suffix != NULL)
            push_piece(L, n, suffix);
    } else {
        lua_pop(L, 1);
    }
}

/* "doctranslate: http 404 ResourceNotFound: message [apim-request-id=...]" */
static int error_tostring(lua_State *L)
{
    int n = 0, first = 1;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    push_piece(L, &n, "doctranslate: ");
    lua_getfield(L, 1, "kind");
    if (lua_type(L, -1) == LUA_TSTRING) {
        n++;
    } else {
        lua_pop(L, 1);
        push_piece(L, &n, "error");
    }
    lua_getfield(L, 1, "status");
    if (lua_isnumber(L, -1)) {
        char num[32];
        snprintf(num, sizeof num, " %ld", (long)lua_tonumber(L, -1));
        lua_pop(L, 1);
        push_piece(L, &n, num);
    } else {
        lua_pop(L, 1);
    }
    add_plain(L, &n, " ", "code", NULL);
    add_plain(L, &n, ": ", "message", NULL);
    add_plain(L, &n, " (target ", "target", ")");
    add_field(L, &n, "apim-request-id", &first);
    add_field(L, &n, "x-requestid", &first);
    add_field(L, &n, "x-ms-client-request-id", &first);
    if (!first)
        push_piece(L, &n, "]");
    lua_concat(L, n);
    return 1;
}

int dt_raise_error_value(lua_State *L)
{
    int v = lua_gettop(L);
    lua_getfield(L, v, "kind");
    if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "usage") == 0) {
        lua_pop(L, 1);
        push_where(L);
        lua_getfield(L, v, "message");
        if (!lua_isstring(L, -1)) {
            lua_pop(L, 1);
            lua_pushliteral(L, "usage error");
        }
    } else {
        lua_pop(L, 1);
        push_where(L);
        lua_pushcfunction(L, error_tostring);
        lua_pushvalue(L, v);
        lua_call(L, 1, 1);
    }
    lua_concat(L, 2);
    lua_error(L);
#if defined(__GNUC__) || defined(__clang__)
    __builtin_unreachable();
#else
    return 0;
#endif
}

void dt_error_open(lua_State *L)
{
    dt_newmetatable(L, DT_ERROR_MT);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

/* ------------------------------------------------ the edges: argument checks */

/* The "bad argument #n to 'f' (...)" of the auxiliary library, as a usage error. */
int dt_argerror(lua_State *L, int arg, const char *extramsg)
{
    lua_Debug ar;
    const char *name = "?";
    if (lua_getstack(L, 0, &ar)) {
        lua_getinfo(L, "n", &ar);
        if (ar.name != NULL)
            name = ar.name;
        if (ar.namewhat != NULL && strcmp(ar.namewhat, "method") == 0) {
            arg--; /* self is not counted */
            if (arg == 0)
                return dt_usage(L, "calling '%s' on a bad self (%s); call it with ':'", name,
                                extramsg);
        }
    }
    return dt_usage(L, "bad argument #%d to '%s' (%s)", arg, name, extramsg);
}

static int type_error(lua_State *L, int arg, const char *expected)
{
    char msg[160];
    const char *got = lua_type(L, arg) == LUA_TNONE ? "no value" : luaL_typename(L, arg);
    if (lua_type(L, arg) == LUA_TUSERDATA || lua_type(L, arg) == LUA_TTABLE) {
        if (lua_getmetatable(L, arg)) {
            lua_getfield(L, -1, "__name");
            if (lua_type(L, -1) == LUA_TSTRING)
                got = lua_tostring(L, -1);
            lua_pop(L, 2); /* the name stays valid: the metatable is the registry's */
        }
    }
    snprintf(msg, sizeof msg, "%s expected, got %s", expected, got);
    return dt_argerror(L, arg, msg);
}

void *dt_checkudata(lua_State *L, int idx, const char *tname)
{
    void *p = dt_testudata(L, idx, tname);
    if (p == NULL)
        type_error(L, idx, tname);
    return p;
}

const char *dt_checklstring(lua_State *L, int idx, size_t *len)
{
    const char *s = lua_tolstring(L, idx, len);
    if (s == NULL)
        type_error(L, idx, "string");
    return s;
}

lua_Number dt_checknumber(lua_State *L, int idx)
{
    if (!lua_isnumber(L, idx))
        type_error(L, idx, "number");
    return lua_tonumber(L, idx);
}

void dt_checktype(lua_State *L, int idx, int t)
{
    if (lua_type(L, idx) != t)
        type_error(L, idx, lua_typename(L, t));
}

const char *dt_optlstring(lua_State *L, int idx, const char *def, size_t *len)
{
    if (lua_isnoneornil(L, idx)) {
        if (len != NULL)
            *len = def ? strlen(def) : 0;
        return def;
    }
    return dt_checklstring(L, idx, len);
}

int dt_checkoption(lua_State *L, int idx, const char *def, const char *const lst[])
{
    const char *name = def ? dt_optlstring(L, idx, def, NULL) : dt_checklstring(L, idx, NULL);
    int i;
    char msg[160];
    for (i = 0; lst[i] != NULL; i++)
        if (strcmp(lst[i], name) == 0)
            return i;
    snprintf(msg, sizeof msg, "invalid option '%.100s'", name);
    return dt_argerror(L, idx, msg);
}

void dt_check_header_value(lua_State *L, int idx, const char *what)
{
    size_t len = 0;
    const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
    const char *why;
    if (s == NULL)
        dt_usage(L, "%s: a non-empty string expected, got %s", what, luaL_typename(L, idx));
    why = dt_header_value_why(s, len);
    if (why != NULL)
        dt_usage(L, "%s: %s", what, why);
}

void dt_check_id(lua_State *L, int idx, const char *name)
{
    size_t len = 0;
    const char *why;
    if (lua_type(L, idx) != LUA_TSTRING || dt_rawlen(L, idx) == 0)
        dt_usage(L, "bad argument '%s': a non-empty string expected, got %s", name,
                 luaL_typename(L, idx));
    lua_tolstring(L, idx, &len);
    why = dt_id_why(lua_tostring(L, idx), len);
    if (why != NULL)
        dt_usage(L, "bad argument '%s': %s", name, why);
}

char *dt_scrub(const dt_conf *conf, const char *s)
{
    const char *secrets[2];
    secrets[0] = conf->key;
    secrets[1] = conf->token;
    return dt_redact(s, secrets, 2);
}

/* core.scrub(s, secret, ...) -> s with its SAS signatures and the secrets
 * hidden: the redaction of the C core, for the Lua runners' log lines. */
int dt_lua_scrub(lua_State *L)
{
    const char *secrets[8];
    size_t n = 0;
    int i, top = lua_gettop(L);
    char *out;
    if (lua_type(L, 1) != LUA_TSTRING)
        return dt_usage(L, "bad argument 's': a string expected, got %s", luaL_typename(L, 1));
    for (i = 2; i <= top && n < 8; i++)
        if (lua_type(L, i) == LUA_TSTRING)
            secrets[n++] = lua_tostring(L, i);
    out = dt_redact(lua_tostring(L, 1), secrets, n);
    if (out == NULL)
        return luaL_error(L, "out of memory");
    lua_pushstring(L, out);
    free(out);
    return 1;
}

/* core.retry_delay(retry_after_ms, x_ms_retry_after_ms, retry_after) ->
 * seconds, or nil: the core's one reading of the service's delay headers
 * (RFC 9110 Retry-After; anything else is ignored), for the Lua wait loops. */
int dt_lua_retry_delay(lua_State *L)
{
    const char *v[3];
    int i;
    double t;
    for (i = 0; i < 3; i++)
        v[i] = lua_type(L, i + 1) == LUA_TSTRING ? lua_tostring(L, i + 1) : NULL;
    t = dt_retry_delay(v[0], v[1], v[2], (double)time(NULL));
    if (t < 0)
        lua_pushnil(L);
    else
        lua_pushnumber(L, t);
    return 1;
}
