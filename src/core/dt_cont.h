/* The continuation token of a listing: where it stands, with no secret in
 * it, so that a new listing goes on from there. */
#ifndef DT_CONT_H
#define DT_CONT_H

#include "dt_op.h"
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

/* Continuation of a listing: a malloc'd token with no secret in it. */
char *dt_op_continuation(const dt_op *op);
/* Applies a token to q (strings point into *storage, which the caller frees);
 * job_id NULL: a token of the job list. Returns 0, or -1 with why set. */
int dt_op_parse_continuation(const char *token, const char *job_id, dt_list_query *q,
                             char **storage, const char **why);

DT_HIDDEN_END

#endif
