/*
 * Force-included (-include) by the clang static analyzer pass of `make lint`
 * (mk/quality.mk), never by the real build.
 *
 * Lua's raising functions longjmp and never return, but lua.h/lauxlib.h do not
 * say so, so the analyzer follows paths "after" luaL_error() and reports
 * garbage values and NULL dereferences that cannot happen.  Redeclaring them
 * with the noreturn attribute tells it the truth about Lua; the project's own
 * raising helpers must carry the attribute in their own headers.
 */
#ifndef DT_LUA_NORETURN_H
#define DT_LUA_NORETURN_H
#include <lua.h>
#include <lauxlib.h>

LUA_API int (lua_error) (lua_State *L) __attribute__((noreturn));
LUALIB_API int (luaL_error) (lua_State *L, const char *fmt, ...) __attribute__((noreturn));
LUALIB_API int (luaL_argerror) (lua_State *L, int arg, const char *extramsg) __attribute__((noreturn));
#if LUA_VERSION_NUM >= 504
LUALIB_API int (luaL_typeerror) (lua_State *L, int arg, const char *tname) __attribute__((noreturn));
#endif
#endif
