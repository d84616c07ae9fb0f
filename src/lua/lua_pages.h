/* Listings (doctranslate.Pages): options, iteration, next_page,
 * continuation; and the results of single-shot ops (op:result()). */
#ifndef LUA_PAGES_H
#define LUA_PAGES_H

#include "lua_obj.h"
#include "lua_op.h"

DT_HIDDEN_BEGIN

/* Listing options beyond the query. */
typedef struct dt_list_extra {
    int page_size_given; /* the option was given (it wins over a continuation's) */
    int prefetch;
    int concurrency;
    double deadline; /* seconds, 0 = none */
    double budget;   /* async: seconds of work a step aims at, < 0 = the default */
} dt_list_extra;

/* Reads the listing options at opts_idx (0: none) and makes the op; async
 * lets on_documents/on_done through. Raises usage errors. */
dt_op *dt_list_op_new(lua_State *L, int client_idx, const char *job_id, int opts_idx, int async,
                      dt_list_extra *x);
/* Pushes a listing of the client at client_idx (job_id NULL: the job list). */
int dt_pages_new(lua_State *L, int client_idx, const char *job_id, int opts_idx);
/* The `budget` option at idx: seconds in 0..1 (0: no bound); raises a usage error. */
double dt_budget_opt(lua_State *L, int idx);
void dt_pages_open(lua_State *L);

DT_HIDDEN_END

#endif
