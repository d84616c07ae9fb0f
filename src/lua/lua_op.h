/* The holder of one op: a listing (doctranslate.Pages) or a single-shot
 * operation (doctranslate.Op), and the Lua runner's side of it. */
#ifndef LUA_OP_H
#define LUA_OP_H

#include "lua_pump.h"

DT_HIDDEN_BEGIN

#define DT_PAGES_MT "doctranslate.Pages"
#define DT_OP_MT "doctranslate.Op"
#define DT_REQUEST_MT "doctranslate.Request"

#define DT_TRANSLATE_MAX_PARTS 65 /* the document and up to 64 glossaries */

#define CLOSED_LISTING "the listing is closed (a for loop closes it when it ends or breaks, on " \
                       "Lua 5.4); its continuation() resumes it"

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
    int progress_ref;       /* a translation's on_progress, or <= 0 */
} dt_pages;

/* Pushes an empty holder (op NULL) of metatable mt referencing the client. */
dt_pages *dt_holder_new(lua_State *L, int client_idx, const char *mt);
/* The holder at idx (Pages or Op), or a usage error; dt_check_open also
 * refuses a closed one and one being run. */
dt_pages *dt_check_holder(lua_State *L, int idx);
dt_pages *dt_check_open(lua_State *L, int idx);
/* Frees the holder's pump and op (the continuation kept) and its client reference. */
void dt_holder_release(lua_State *L, dt_pages *p);
/* close / __close (put off while the holder runs) and __gc */
int dt_holder_close(lua_State *L);
int dt_holder_gc(lua_State *L);
/* Pushes the op's error value. */
void dt_push_op_error(lua_State *L, dt_pages *p);
/* Whether the value at idx is an integral number (into *out). */
int dt_is_integer(lua_State *L, int idx, long long *out);
/* Sets the methods every holder has (close, next_request, from_lua, feed,
 * feed_error) in the table on top. */
void dt_holder_methods(lua_State *L);
void dt_op_open(lua_State *L);
/* The translation described by the table at idx (the form doctranslate.translate
 * makes: to, from, category, allow_fallback, text_within_image, output,
 * on_progress, parts = { {name, filename, content_type, path | data, size} });
 * *progress_ref: a reference to on_progress, or LUA_NOREF. Raises usage errors. */
dt_op *dt_translate_from_lua(lua_State *L, dt_client *cl, int idx, int *progress_ref);

DT_HIDDEN_END

#endif
