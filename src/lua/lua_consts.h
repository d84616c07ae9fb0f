/* The core's constants for Lua. */
#ifndef LUA_CONSTS_H
#define LUA_CONSTS_H

#include "compat.h"
#include "core/dt_consts.h"

DT_HIDDEN_BEGIN

/* Sets API_VERSIONS, DEFAULT_API_VERSION, TERMINAL and DEFAULTS
 * (src/core/dt_consts.h) on the module table on top. */
void dt_consts_open(lua_State *L);

DT_HIDDEN_END

#endif
