/* The edges of the binding: argument checks that raise the module's usage
 * error value (never a plain string), the checks of header values and ids,
 * and the redaction every string leaving the module goes through.
 *
 * lua_dt.h routes the auxiliary library's argument checks (luaL_checkudata,
 * luaL_checkstring, ...) here, so every method of every class reports a
 * misuse - c.job(nil, "x") for c:job("x") - as a usage error. */
#define DT_GUARD_IMPL 1
#include "lua_dt.h"
#include "core/dt_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

char *dt_scrub(dt_client *cl, const char *s)
{
    const char *secrets[2];
    secrets[0] = cl->conf.key;
    secrets[1] = cl->conf.token;
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
