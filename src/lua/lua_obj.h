/* Job and Document userdata: fields read lazily from the response. */
#ifndef LUA_OBJ_H
#define LUA_OBJ_H

#include "lua_client.h"

DT_HIDDEN_BEGIN

#define DT_JOB_MT "doctranslate.Job"
#define DT_DOCUMENT_MT "doctranslate.Document"

typedef struct dt_obj {     /* a Job or a Document */
    dt_page *page;          /* the body read (held by the object when owner is set, else
                             * by the page's anchor: a listed document, lua_obj.c) ... */
    size_t item;            /* ... and its element: of the "value" array, or DT_PAGE_ROOT */
    dt_resp *resp;
    int owner;              /* page and resp are references of the object's own */
    int client_ref;         /* jobs only: registry ref to the client */
    char *job_id;           /* jobs only */
} dt_obj;

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

DT_HIDDEN_END

#endif
