/* What the files of the op state machine share and nothing else sees: its
 * states and the helpers that end a call in an error. */
#ifndef DT_OP_IMPL_H
#define DT_OP_IMPL_H

#include "dt_op.h"

DT_HIDDEN_BEGIN

enum { ST_NEED = 1, ST_INFLIGHT, ST_WAIT, ST_READY, ST_DONE, ST_ERROR };

#if defined(__GNUC__) || defined(__clang__)
#define DT_OP_PRINTF __attribute__((format(printf, 5, 6)))
#else
#define DT_OP_PRINTF
#endif

/* Sets e (op->err, op->pending or op->retried) to an error of kind with the
 * request ids of r (NULL: none) and op's client request id. */
void dt_op_set_error(dt_op *op, dt_error *e, dt_err_kind kind, const dt_resp *r, const char *fmt,
                     ...) DT_OP_PRINTF;
/* Ends the op in op->err: the slot is dropped. */
void dt_op_fail(dt_op *op);

/* dt_listing.c: judges a page of a listing that arrived for the request to
 * current: trims what cannot be trusted (repeats, past top, items that are
 * no documents) and sets the next request from the next link, or the error
 * to hand out once the trusted documents are out. */
void dt_listing_accept(dt_op *op, const char *current);

/* An op of one request to url (taken), method, job id and body (copied). */
dt_op *dt_op_single(dt_conf *conf, dt_op_kind kind, const char *method, char *url,
                    const char *job_id, const char *body);

/* dt_translate.c: frees a TRANSLATE op's parts, output and bytes; takes a
 * 2xx answer's bytes (body, malloc'd, or NULL when they went to the file). */
void dt_parts_free(dt_op *op);
void dt_translate_accept(dt_op *op, char *body, size_t len, long long size);

DT_HIDDEN_END

#endif
