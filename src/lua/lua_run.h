/* The libcurl runner of the binding: every op a libcurl client runs goes
 * through a dt_pump over the client's one multi handle. */
#ifndef LUA_RUN_H
#define LUA_RUN_H

#include "lua_op.h"

DT_HIDDEN_BEGIN

/* Runs the holder's op with libcurl until it has a result, ended or failed
 * (a usage error when the holder or its client was closed by a callback
 * during the run). */
dt_step dt_run(lua_State *L, dt_pages *p);

DT_HIDDEN_END

#endif
