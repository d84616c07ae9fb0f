/* The binding's table of operations: a constructor per op of the core. */
#ifndef LUA_OPS_H
#define LUA_OPS_H

#include "lua_client.h"

DT_HIDDEN_BEGIN

/* Adds job_op, document_op, documents_op, jobs_op, start_op, cancel_op,
 * formats_op and start_body to the client's methods. */
void dt_ops_open(lua_State *L);

DT_HIDDEN_END

#endif
