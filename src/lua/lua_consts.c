/* The core's constants on the module table, so the Lua layer and the Lua
 * transports read them from doctranslate.core instead of writing their own:
 *   API_VERSIONS         { "2026-03-01", ... } newest first
 *   DEFAULT_API_VERSION  the first of them
 *   TERMINAL             { Succeeded = true, ... } statuses that no longer change
 *   DEFAULTS             { timeout =, connect_timeout =, retries =, retry_base =,
 *                          retry_max =, max_body =, max_headers =, max_pages = }
 * Each comes from src/core/dt_consts.h, which the C code uses too. */
#include "lua_consts.h"

static void set_number(lua_State *L, const char *name, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

static void set_integer(lua_State *L, const char *name, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, name);
}

void dt_consts_open(lua_State *L)
{
    int i;
    /* the module table is on top */
    lua_newtable(L);
    for (i = 0; dt_api_versions[i].name != NULL; i++) {
        lua_pushstring(L, dt_api_versions[i].name);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "API_VERSIONS");
    lua_pushliteral(L, DT_DEFAULT_API_VERSION);
    lua_setfield(L, -2, "DEFAULT_API_VERSION");

    lua_newtable(L);
    for (i = 0; dt_terminal_statuses[i] != NULL; i++) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, dt_terminal_statuses[i]);
    }
    lua_setfield(L, -2, "TERMINAL");

    lua_newtable(L);
    set_number(L, "timeout", DT_DEFAULT_TIMEOUT);
    set_number(L, "connect_timeout", DT_DEFAULT_CONNECT_TIMEOUT);
    set_integer(L, "retries", DT_DEFAULT_RETRIES);
    set_number(L, "retry_base", DT_DEFAULT_RETRY_BASE);
    set_number(L, "retry_max", DT_DEFAULT_RETRY_MAX);
    set_integer(L, "max_body", (lua_Integer)DT_DEFAULT_MAX_BODY);
    set_integer(L, "max_headers", (lua_Integer)DT_DEFAULT_MAX_HEADERS);
    set_integer(L, "max_pages", DT_DEFAULT_MAX_PAGES);
    lua_setfield(L, -2, "DEFAULTS");
}
