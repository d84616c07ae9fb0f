/* The client (doctranslate.Client): options, log, bearer token. */
#ifndef LUA_CLIENT_H
#define LUA_CLIENT_H

#include "lua_error.h"
#include "core/dt_consts.h"
#include "core/dt_cont.h"
#include "core/dt_op.h"
#include "curl/dt_curl.h"

DT_HIDDEN_BEGIN

#define DT_CLIENT_MT "doctranslate.Client"

typedef struct dt_client {
    dt_conf conf;
    dt_curl_opts copts;
    char *ca_file, *proxy;
    int closed;
    int log_ref;
    int token_ref;          /* token = function() return token, expires_at end, or LUA_NOREF */
    int page_size;          /* default for listings, -1 none */
    long pid;               /* process that seeded rng / made the pool */
    dt_multi *multi;        /* the connection pool of every transfer (lua_run.c) */
    int prefetch;           /* default of listings: fetch one page ahead */
    int concurrency;        /* default of listings: pages fetched at once */
    int prepare_tls;        /* an https client sets TLS up when made (dt_multi_warm_tls) */
} dt_client;

/* The configuration whose secrets an error value hides, or NULL. */
#define DT_CONF(cl) ((cl) != NULL ? &(cl)->conf : NULL)

/* core.new(opts) */
int dt_client_new(lua_State *L);
/* The Client metatable and its own methods (close, stats, tokens). */
void dt_client_open(lua_State *L);
dt_client *dt_check_client(lua_State *L, int idx);
/* The client behind a registry ref (pushed on the stack), or NULL. */
dt_client *dt_client_from_ref(lua_State *L, int ref);
void dt_log(lua_State *L, dt_client *cl, const char *level, const char *fmt, ...) DT_PRINTF(4, 5);
/* The log lines of every runner, in one wording. */
void dt_log_response(lua_State *L, dt_client *cl, const char *method, const char *url, long status,
                     double seconds, int prefetched);
void dt_log_retry(lua_State *L, dt_client *cl, const dt_op *op);
void dt_log_failure(lua_State *L, dt_client *cl, const dt_op *op);
/* Before a request: fetches a token when the client's token function is due.
 * Returns 1 (send), or 0 after feeding op an error (step it again). */
int dt_auth_ready(lua_State *L, dt_client *cl, dt_op *op);
int dt_auth_ready_ref(lua_State *L, int client_ref, dt_op *op);

DT_HIDDEN_END

#endif
