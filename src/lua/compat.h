/* Differences between Lua 5.1/LuaJIT, 5.2, 5.3 and 5.4, kept in one place.
 * Only names that the running Lua lacks are provided, under dt_ names, so
 * nothing LuaJIT already ships is redefined. */
#ifndef DT_COMPAT_H
#define DT_COMPAT_H

#include <lua.h>
#include <lauxlib.h>
#include "core/dt_visibility.h"

DT_HIDDEN_BEGIN

#if defined(__GNUC__) || defined(__clang__)
#define DT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define DT_NORETURN __attribute__((noreturn))
#else
#define DT_PRINTF(f, a)
#define DT_NORETURN
#endif

#if LUA_VERSION_NUM >= 503
#define DT_HAS_INTEGER 1
#define dt_pushint64(L, v) lua_pushinteger((L), (lua_Integer)(v))
#else
#define DT_HAS_INTEGER 0
#define dt_pushint64(L, v) lua_pushnumber((L), (lua_Number)(v))
#endif

#if LUA_VERSION_NUM >= 502
#define dt_rawlen(L, i) lua_rawlen((L), (i))
#define dt_setfuncs(L, l) luaL_setfuncs((L), (l), 0)
#else
#define dt_rawlen(L, i) lua_objlen((L), (i))
void dt_setfuncs(lua_State *L, const luaL_Reg *l);
#endif

/* The registry's value under the address p: pushed (dt_getreg), or set to
 * the value on top, which is popped (dt_setreg). */
#if LUA_VERSION_NUM >= 502
#define dt_getreg(L, p) ((void)lua_rawgetp((L), LUA_REGISTRYINDEX, (p)))
#define dt_setreg(L, p) lua_rawsetp((L), LUA_REGISTRYINDEX, (p))
#else
#define dt_getreg(L, p) (lua_pushlightuserdata((L), (p)), lua_rawget((L), LUA_REGISTRYINDEX))
#define dt_setreg(L, p) \
    (lua_pushlightuserdata((L), (p)), lua_insert((L), -2), lua_rawset((L), LUA_REGISTRYINDEX))
#endif

/* luaL_testudata appeared in 5.2. */
void *dt_testudata(lua_State *L, int idx, const char *tname);

/* Creates or fetches metatable tname and sets __name on 5.1/5.2 too. */
int dt_newmetatable(lua_State *L, const char *tname);

/* A class: metatable tname whose __index is a new table of methods; pushes
 * the metatable, then the methods table. */
void dt_class_new(lua_State *L, const char *tname, const luaL_Reg *methods);
/* Sets __gc, __close and __tostring (each when not NULL) on the metatable on top. */
void dt_class_ends(lua_State *L, lua_CFunction gc, lua_CFunction close, lua_CFunction tostring);

DT_HIDDEN_END

#endif
