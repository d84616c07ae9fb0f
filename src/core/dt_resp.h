/* One HTTP response's status and headers, and the error value of an
 * operation: plain records, no I/O. */
#ifndef DT_RESP_H
#define DT_RESP_H

#include <stddef.h>

#include "dt_page.h"
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

/* ---- one HTTP response's status and headers, shared by its objects ---- */
typedef struct dt_header {
    char *name; /* lower case */
    char *value;
} dt_header;

typedef struct dt_resp {
    int refs;
    long status;
    size_t n, cap;
    dt_header *h;
} dt_resp;

dt_resp *dt_resp_new(long status);
dt_resp *dt_resp_ref(dt_resp *r);
void dt_resp_unref(dt_resp *r);
int dt_resp_add(dt_resp *r, const char *name, size_t nlen, const char *value, size_t vlen);
const char *dt_resp_get(const dt_resp *r, const char *lower_name);

/* ---- error values ---- */
typedef enum dt_err_kind {
    DT_ERR_NONE = 0,
    DT_ERR_HTTP,
    DT_ERR_NETWORK,
    DT_ERR_TIMEOUT,
    DT_ERR_PARSE,
    DT_ERR_PROTOCOL,
    DT_ERR_USAGE
} dt_err_kind;

const char *dt_err_kind_name(dt_err_kind k);

typedef struct dt_error {
    dt_err_kind kind;
    long status;                /* 0 when no HTTP status */
    char *code, *message, *target;
    dt_page *inner_page;        /* the error body holding innerError / innererror, or NULL */
    dt_span inner;              /* that object, when inner_page is set */
    double retry_after;         /* seconds, < 0 when none */
    char *apim_request_id, *x_requestid, *client_request_id;
} dt_error;

void dt_error_clear(dt_error *e);
/* Moves src into dst (dst cleared first); src is left empty. */
void dt_error_move(dt_error *dst, dt_error *src);

DT_HIDDEN_END

#endif
