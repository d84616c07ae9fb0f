/* Shared by the Lua binding files (lua_*.c). Not part of the core. */
#ifndef LUA_DT_H
#define LUA_DT_H

#include "compat.h"
#include "curl/dt_curl.h"
#include "curl/dt_pump.h"
#include "curl/dt_clock.h"
#include "core/dt_op.h"
#include "core/dt_cont.h"
#include "core/dt_consts.h"
#include "core/dt_visibility.h"

DT_HIDDEN_BEGIN

#if defined(__GNUC__) || defined(__clang__)
#define DT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define DT_NORETURN __attribute__((noreturn))
#else
#define DT_PRINTF(f, a)
#define DT_NORETURN
#endif

#define DT_CLIENT_MT "doctranslate.Client"
#define DT_JOB_MT "doctranslate.Job"
#define DT_DOCUMENT_MT "doctranslate.Document"
#define DT_PAGES_MT "doctranslate.Pages"
#define DT_OP_MT "doctranslate.Op"
#define DT_ERROR_MT "doctranslate.Error"
#define DT_REQUEST_MT "doctranslate.Request"

typedef struct dt_client {
    dt_conf conf;
    dt_curl_opts copts;
    char *ca_file, *proxy;
    int closed;
    int log_ref;
    int token_ref;          /* token = function() return token, expires_at end, or LUA_NOREF */
    int page_size;          /* default for listings, -1 none */
    long pid;               /* process that seeded rng / opened curl */
    dt_multi *multi;        /* the connection pool of every transfer (lua_async.c) */
    int prefetch;           /* default of listings: fetch one page ahead */
    int concurrency;        /* default of listings: pages fetched at once */
} dt_client;

typedef struct dt_obj {     /* a Job or a Document */
    dt_page *page;          /* the body read (held by the object when owner is set, else
                             * by the page's anchor: a listed document, lua_obj.c) ... */
    size_t item;            /* ... and its element: of the "value" array, or DT_PAGE_ROOT */
    dt_resp *resp;
    int owner;              /* page and resp are references of the object's own */
    int client_ref;         /* jobs only: registry ref to the client */
    char *job_id;           /* jobs only */
} dt_obj;

typedef struct dt_pages {   /* a listing, or (kind != DOCUMENTS) a single-shot Op */
    dt_op *op;
    int client_ref;
    int external;           /* driven by next_request/feed */
    int closed;
    char *token;            /* the continuation saved when closed */
    struct dt_lpump *pump;  /* the prefetching driver (lua_async.c), or NULL */
    int prefetch;
    int concurrency;        /* pages fetched at once (parallel windows), 1: none */
    int win_checked;        /* the job was looked at for windows */
    int busy;               /* dt_run is running it */
    double sent_at;         /* Lua transport: when next_request gave the request (dt_now) */
    int failure_logged;     /* Lua transport: the op's failure was logged */
    int close_pending;      /* closed from a callback during that run */
} dt_pages;

/* A dt_pump driven from Lua: L and cl are set while it runs (the log). */
typedef struct dt_lpump {
    dt_pump pump;
    lua_State *L;
    dt_client *cl;
} dt_lpump;

/* Listing options beyond the query. */
typedef struct dt_list_extra {
    int page_size_given; /* the option was given (it wins over a continuation's) */
    int prefetch;
    int concurrency;
    double deadline; /* seconds, 0 = none */
    double budget;   /* async: seconds of work a step aims at, < 0 = the default */
} dt_list_extra;

/* lua_error.c */
void dt_push_error(lua_State *L, dt_client *cl, const dt_error *e);
int dt_push_nil_error(lua_State *L, dt_client *cl, const dt_error *e); /* nil, err: 2 */
void dt_push_simple_error(lua_State *L, dt_err_kind kind, const char *message);
/* Raises a usage error value; never returns (int so that `return dt_usage(...)` reads well). */
DT_NORETURN int dt_usage(lua_State *L, const char *fmt, ...) DT_PRINTF(2, 3);                      /* raises */
void dt_error_open(lua_State *L);
/* Raises a usage error unless the argument at idx is a non-empty string (a job or document id). */
void dt_check_id(lua_State *L, int idx, const char *name);

/* lua_obj.c */
/* Take one reference of page and resp (either may be NULL); item: the
 * element of the page (DT_PAGE_ROOT: a single object's body). */
dt_obj *dt_push_document(lua_State *L, dt_page *page, size_t item, dt_resp *resp);
dt_obj *dt_push_job(lua_State *L, int client_idx, dt_page *page, size_t item, dt_resp *resp,
                    const char *job_id);
void dt_obj_open(lua_State *L);
int dt_push_response(lua_State *L, const dt_resp *r);
/* Pushes the item at op->offset of a listing page (a Document, or a Job of
 * the job list) and counts it handed out. */
void dt_push_item(lua_State *L, int client_ref, dt_op *op);
/* The same for a Document of a document listing. */
void dt_push_listed(lua_State *L, dt_op *op);
/* Pushes the result of a single-shot op (Job, Document or the formats array)
 * and takes op->page and op->resp. */
void dt_push_result(lua_State *L, int client_ref, dt_op *op);
/* Pushes the Job method table (methods written in Lua are added to it). */
void dt_job_methods(lua_State *L);

/* lua_pages.c */
int dt_pages_new(lua_State *L, int client_idx, const char *job_id, int opts_idx);
/* Pushes an empty holder (op NULL) of metatable mt referencing the client. */
dt_pages *dt_holder_new(lua_State *L, int client_idx, const char *mt);
/* Frees the holder's pump and op (the continuation kept) and its client reference. */
void dt_holder_release(lua_State *L, dt_pages *p);
void dt_pages_open(lua_State *L);

/* lua_lifecycle.c */
/* Before a request: fetches a token when the client's token function is due.
 * Returns 1 (send), or 0 after feeding op an error (step it again). */
int dt_auth_ready(lua_State *L, dt_client *cl, dt_op *op);
int dt_auth_ready_ref(lua_State *L, int client_ref, dt_op *op);
/* Adds the lifecycle methods to the client and functions to the module table on top. */
void dt_lifecycle_open(lua_State *L);

/* Reads the listing options at opts_idx (0: none) and makes the op; async
 * lets on_documents/on_done through. Raises usage errors. */
dt_op *dt_list_op_new(lua_State *L, int client_idx, const char *job_id, int opts_idx, int async,
                      dt_list_extra *x);

/* lua_run.c: the libcurl runner */
/* Runs the holder's op with libcurl (raises a usage error when the holder or
 * its client was closed by a callback during the run). */
dt_step dt_run(lua_State *L, dt_pages *p);
dt_multi *dt_client_multi(dt_client *cl);
dt_lpump *dt_lpump_new(dt_client *cl, dt_op *op, int prefetch);
void dt_lpump_free(dt_lpump *lp);
dt_lpump *dt_lpump_check(dt_lpump *lp, dt_client *cl);
/* The log lines of every runner. */
void dt_log_response(lua_State *L, dt_client *cl, const char *method, const char *url, long status,
                     double seconds, int prefetched);
void dt_log_retry(lua_State *L, dt_client *cl, const dt_op *op);
void dt_log_failure(lua_State *L, dt_client *cl, const dt_op *op);

/* lua_async.c */
void dt_async_open(lua_State *L);
/* The `budget` option at idx: seconds in 0..1 (0: no bound); raises a usage error. */
double dt_budget_opt(lua_State *L, int idx);

/* lua_consts.c: sets API_VERSIONS, DEFAULT_API_VERSION, TERMINAL and DEFAULTS
 * (src/core/dt_consts.h) on the module table on top. */
void dt_consts_open(lua_State *L);

/* lua_core.c */
dt_client *dt_check_client(lua_State *L, int idx);
/* The client behind a registry ref (pushed on the stack), or NULL. */
dt_client *dt_client_from_ref(lua_State *L, int ref);
void dt_log(lua_State *L, dt_client *cl, const char *level, const char *fmt, ...) DT_PRINTF(4, 5);

/* lua_guard.c */
/* malloc'd copy without the secrets (core/dt_guard.h dt_redact) */
char *dt_scrub(dt_client *cl, const char *s);
/* Raise a usage error when the value at idx cannot go into a header exactly
 * (what names it), or cannot name a job or a document. */
void dt_check_header_value(lua_State *L, int idx, const char *what);
void dt_check_id(lua_State *L, int idx, const char *name);
int dt_lua_scrub(lua_State *L); /* core.scrub */
int dt_lua_retry_delay(lua_State *L); /* core.retry_delay */
/* The auxiliary library's argument checks, raising usage error values. */
int dt_argerror(lua_State *L, int arg, const char *extramsg);
void *dt_checkudata(lua_State *L, int idx, const char *tname);
const char *dt_checklstring(lua_State *L, int idx, size_t *len);
const char *dt_optlstring(lua_State *L, int idx, const char *def, size_t *len);
lua_Number dt_checknumber(lua_State *L, int idx);
void dt_checktype(lua_State *L, int idx, int t);
int dt_checkoption(lua_State *L, int idx, const char *def, const char *const lst[]);

/* A method called with '.' instead of ':', a wrong argument: programmer
 * errors, so usage error values like every other misuse, never strings. */
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
