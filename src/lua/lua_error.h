/* Error values of the binding (doctranslate.Error): the core's dt_error as
 * a Lua table; usage errors raised as strings; argument checks. */
#ifndef LUA_ERROR_H
#define LUA_ERROR_H

#include "compat.h"
#include "core/dt_conf.h"
#include "core/dt_resp.h"
#include "core/dt_visibility.h"

DT_HIDDEN_BEGIN

#define DT_ERROR_MT "doctranslate.Error"

/* conf (or NULL): whose secrets are scrubbed from the strings. */
void dt_push_error(lua_State *L, const dt_conf *conf, const dt_error *e);
int dt_push_nil_error(lua_State *L, const dt_conf *conf, const dt_error *e); /* nil, err: 2 */
void dt_push_simple_error(lua_State *L, dt_err_kind kind, const char *message);
/* Raises a usage error: the string "chunk:line: message" (the caller's line, outside the
 * module), as luaL_argerror; never returns (int so that `return dt_usage(...)` reads well). */
DT_NORETURN int dt_usage(lua_State *L, const char *fmt, ...) DT_PRINTF(2, 3);
/* Raises the error value on top of the stack as a string: "chunk:line: " and its message for a
 * usage error, its __tostring (kind, status, code, message, request ids) for the others. */
DT_NORETURN int dt_raise_error_value(lua_State *L);
void dt_error_open(lua_State *L);
/* A malloc'd copy of s without conf's secrets (core/dt_guard.h dt_redact), or NULL. */
char *dt_scrub(const dt_conf *conf, const char *s);
/* Raise a usage error when the value at idx cannot go into a header exactly
 * (what names it), or cannot name a job or a document. */
void dt_check_header_value(lua_State *L, int idx, const char *what);
void dt_check_id(lua_State *L, int idx, const char *name);
int dt_lua_scrub(lua_State *L);       /* core.scrub */
int dt_lua_retry_delay(lua_State *L); /* core.retry_delay */
/* The auxiliary library's argument checks, raising usage errors. */
int dt_argerror(lua_State *L, int arg, const char *extramsg);
void *dt_checkudata(lua_State *L, int idx, const char *tname);
const char *dt_checklstring(lua_State *L, int idx, size_t *len);
const char *dt_optlstring(lua_State *L, int idx, const char *def, size_t *len);
lua_Number dt_checknumber(lua_State *L, int idx);
void dt_checktype(lua_State *L, int idx, int t);
int dt_checkoption(lua_State *L, int idx, const char *def, const char *const lst[]);

/* A method called with '.' instead of ':', a wrong argument: programmer
 * errors, raised as usage errors (strings, with the caller's position) like every other misuse. */
#undef luaL_checkudata
#undef luaL_checkstring
#undef luaL_checklstring
#undef luaL_optstring
#undef luaL_optlstring
#undef luaL_checknumber
#undef luaL_checktype
#undef luaL_checkoption
#undef luaL_argerror
#define luaL_checkudata(L, i, t) dt_checkudata((L), (i), (t))
#define luaL_checkstring(L, i) dt_checklstring((L), (i), NULL)
#define luaL_checklstring(L, i, n) dt_checklstring((L), (i), (n))
#define luaL_optstring(L, i, d) dt_optlstring((L), (i), (d), NULL)
#define luaL_optlstring(L, i, d, n) dt_optlstring((L), (i), (d), (n))
#define luaL_checknumber(L, i) dt_checknumber((L), (i))
#define luaL_checktype(L, i, t) dt_checktype((L), (i), (t))
#define luaL_checkoption(L, i, d, l) dt_checkoption((L), (i), (d), (l))
#define luaL_argerror(L, i, m) dt_argerror((L), (i), (m))

DT_HIDDEN_END

#endif
