/* The binding's dt_pump: the core's libcurl pump with the client's log
 * and token refreshes as its callbacks. */
#ifndef LUA_PUMP_H
#define LUA_PUMP_H

#include "lua_client.h"
#include "curl/dt_clock.h"
#include "curl/dt_pump.h"

DT_HIDDEN_BEGIN

/* A dt_pump driven from Lua: L and cl are set while it runs (the log). */
typedef struct dt_lpump {
    dt_pump pump;
    lua_State *L;
    dt_client *cl;
    int progress_ref;       /* a translation's on_progress(phase, done, total), or <= 0 */
    int progress_error_ref; /* what on_progress raised (it stopped the transfer), or <= 0 */
} dt_lpump;

/* The client's multi handle (made on first use), or NULL. */
dt_multi *dt_client_multi(dt_client *cl);
void dt_lpump_free(dt_lpump *lp);
/* The pump in *slot for op, made (or made again after a fork: the parent's
 * pump is abandoned, never cleaned up here) when needed,
 * ready to run from L: its log and token callbacks call into L. */
dt_lpump *dt_lpump_ready(lua_State *L, dt_lpump **slot, dt_client *cl, dt_op *op, int prefetch);

/* Raises what a pump's on_progress raised, if it did (after its run). */
void dt_lpump_raise_progress(lua_State *L, dt_lpump *lp);

DT_HIDDEN_END

#endif
