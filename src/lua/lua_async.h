/* Operations that never block (doctranslate.Async), for game and app loops. */
#ifndef LUA_ASYNC_H
#define LUA_ASYNC_H

#include "lua_client.h"

DT_HIDDEN_BEGIN

/* The Async metatable, and documents_async, job_async, document_async on the client. */
void dt_async_open(lua_State *L);

DT_HIDDEN_END

#endif
