/* Error values: tables with metatable doctranslate.Error. */
#include "lua_dt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_str(lua_State *L, dt_client *cl, const char *name, const char *v)
{
    char *clean;
    if (v == NULL)
        return;
    clean = cl ? dt_scrub(cl, v) : NULL;
    lua_pushstring(L, clean ? clean : v);
    free(clean);
    lua_setfield(L, -2, name);
}

/* Sets the string member name of the object at span o of pg as field name. */
static void set_member(lua_State *L, dt_client *cl, const dt_page *pg, const dt_span *o,
                       const char *name)
{
    dt_span v;
    char *s;
    if (!dt_page_find(pg, o, name, strlen(name), &v) || v.type != DT_J_STRING)
        return;
    s = dt_page_cstr(pg, &v);
    set_str(L, cl, name, s);
    free(s);
}

static void push_inner(lua_State *L, dt_client *cl, const dt_page *pg, const dt_span *o,
                       int depth)
{
    dt_span next;
    int has;
    lua_newtable(L);
    set_member(L, cl, pg, o, "code");
    set_member(L, cl, pg, o, "message");
    set_member(L, cl, pg, o, "target");
    /* a null innerError is absent: innererror is looked at then */
    has = dt_page_find(pg, o, "innerError", 10, &next) && next.type != DT_J_NULL;
    if (!has)
        has = dt_page_find(pg, o, "innererror", 10, &next);
    if (has && next.type == DT_J_OBJECT && depth < 32) {
        push_inner(L, cl, pg, &next, depth + 1);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "innererror");
        lua_setfield(L, -2, "innerError");
    }
}

void dt_push_error(lua_State *L, dt_client *cl, const dt_error *e)
{
    lua_createtable(L, 0, 12);
    lua_pushstring(L, dt_err_kind_name(e->kind));
    lua_setfield(L, -2, "kind");
    if (e->status > 0) {
        dt_pushint64(L, e->status);
        lua_setfield(L, -2, "status");
    }
    set_str(L, cl, "code", e->code);
    set_str(L, cl, "message", e->message ? e->message : dt_err_kind_name(e->kind));
    set_str(L, cl, "target", e->target);
    if (e->inner_page != NULL) {
        push_inner(L, cl, e->inner_page, &e->inner, 0);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "innererror");
        lua_setfield(L, -2, "innerError");
    }
    if (e->retry_after >= 0) {
        lua_pushnumber(L, e->retry_after);
        lua_setfield(L, -2, "retry_after");
    }
    set_str(L, cl, "apim-request-id", e->apim_request_id);
    set_str(L, cl, "x-requestid", e->x_requestid);
    set_str(L, cl, "x-ms-client-request-id", e->client_request_id);
    luaL_getmetatable(L, DT_ERROR_MT);
    lua_setmetatable(L, -2);
}

int dt_push_nil_error(lua_State *L, dt_client *cl, const dt_error *e)
{
    lua_pushnil(L);
    dt_push_error(L, cl, e);
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

int dt_usage(lua_State *L, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "usage");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "message");
    luaL_getmetatable(L, DT_ERROR_MT);
    lua_setmetatable(L, -2);
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

void dt_error_open(lua_State *L)
{
    dt_newmetatable(L, DT_ERROR_MT);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}
