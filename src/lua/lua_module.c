/* luaopen_doctranslate_core: the module table, its functions and the classes. */
#include "lua_async.h"
#include "lua_consts.h"
#include "lua_ops.h"
#include "lua_pages.h"
#include "core/dt_date.h"
#include "curl/dt_clock.h"

#include <stdlib.h>
#include <string.h>

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

/* core.parse_date(s): ISO-8601 or HTTP-date -> epoch number, or nil, err */
static int core_parse_date(lua_State *L)
{
    const char *s;
    double t;
    if (lua_type(L, 1) != LUA_TSTRING)
        return dt_usage(L, "bad argument 's': a string expected, got %s", luaL_typename(L, 1));
    s = lua_tostring(L, 1);
    if (dt_parse_iso8601(s, &t) == 0 || dt_parse_http_date(s, &t) == 0) {
        lua_pushnumber(L, t);
        return 1;
    }
    {
        lua_pushnil(L);
        dt_push_simple_error(L, DT_ERR_PARSE, "not an ISO-8601 or HTTP date");
        return 2;
    }
}

/* core.format_date(t): epoch -> ISO-8601 UTC string */
static int core_format_date(lua_State *L)
{
    char buf[40];
    if (lua_type(L, 1) != LUA_TNUMBER)
        return dt_usage(L, "bad argument 't': a number expected");
    if (dt_format_iso8601(lua_tonumber(L, 1), buf, sizeof buf) != 0)
        return dt_usage(L, "bad argument 't': out of range");
    lua_pushstring(L, buf);
    return 1;
}

/* core.redact(s) -> s with its SAS signatures (sig=...) hidden, as tostring
 * and log lines hide them */
static int core_redact(lua_State *L)
{
    char *out;
    if (lua_type(L, 1) != LUA_TSTRING)
        return dt_usage(L, "bad argument 's': a string expected");
    out = dt_url_redact(lua_tostring(L, 1));
    if (out == NULL)
        return luaL_error(L, "out of memory");
    lua_pushstring(L, out);
    free(out);
    return 1;
}

/* core.usage_error(message): raises a usage error value (for the Lua layer) */
static int core_usage_error(lua_State *L)
{
    return dt_usage(L, "%s", luaL_checkstring(L, 1));
}

#if defined(__GNUC__) || defined(__clang__)
#define DT_EXPORT __attribute__((visibility("default")))
#else
#define DT_EXPORT
#endif
DT_EXPORT int luaopen_doctranslate_core(lua_State *L);

int luaopen_doctranslate_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"new", dt_client_new},         {"parse_date", core_parse_date},
                                     {"format_date", core_format_date}, {"redact", core_redact},
                                     {"usage_error", core_usage_error}, {"sleep", core_sleep},
                                     {"monotonic", core_monotonic},     {"error", core_error},
                                     {"scrub", dt_lua_scrub},           {"retry_delay", dt_lua_retry_delay},
                                     {NULL, NULL}};
    /* the classes, from the bottom up */
    dt_error_open(L);
    dt_client_open(L);
    dt_obj_open(L);
    dt_op_open(L);
    dt_pages_open(L);
    dt_ops_open(L);
    dt_async_open(L);

    lua_newtable(L);
    dt_setfuncs(L, funcs);
    /* the method tables of the classes, which doctranslate.client completes
     * with the methods written in Lua once for every transport */
    lua_createtable(L, 0, 2);
    luaL_getmetatable(L, DT_CLIENT_MT);
    lua_getfield(L, -1, "__index");
    lua_setfield(L, -3, "Client");
    lua_pop(L, 1);
    dt_job_methods(L);
    lua_setfield(L, -2, "Job");
    lua_setfield(L, -2, "classes");
    dt_consts_open(L);
    /* curl_version() would start LDAP/SASL inside libcurl: the version number is enough */
    lua_pushfstring(L, "libcurl/%s", curl_version_info(CURLVERSION_NOW)->version);
    lua_setfield(L, -2, "curl_version");
    return 1;
}
