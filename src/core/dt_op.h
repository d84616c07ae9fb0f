/* The sans-I/O state machine of one operation: it builds each request and
 * judges each response (retry, page, result, error, end). No sockets, no
 * sleeping, no Lua: drivers (libcurl in C, or a Lua transport) move bytes. */
#ifndef DT_OP_H
#define DT_OP_H

#include <stddef.h>
#include <stdint.h>

#include "dt_conf.h"
#include "dt_idset.h"
#include "dt_resp.h"
#include "dt_url.h"
#include "dt_page.h"
#include "dt_buf.h"
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

/* ---- the operation ---- */
/* DOCUMENTS is every paged listing (documents of a job, or jobs when
 * list_jobs is set); START (POST) and CANCEL (DELETE) give a job; FORMATS
 * gives the root {"value": [...]}. */
typedef enum dt_op_kind {
    DT_OP_JOB = 1, DT_OP_DOCUMENT, DT_OP_DOCUMENTS, DT_OP_START, DT_OP_CANCEL, DT_OP_FORMATS,
    DT_OP_TRANSLATE
} dt_op_kind;

/* One part of a multipart/form-data body, described, not built: a runner
 * streams path (when set) or sends data. size: the bytes of the content (a
 * path's as the caller found it, for progress and Content-Length). */
typedef struct dt_part {
    char *name, *filename, *content_type;
    char *path;
    char *data;
    size_t len;
    long long size;
} dt_part;

/* A part as a caller gives it (borrowed strings, copied into a dt_part). */
typedef struct dt_part_in {
    const char *name, *filename, *content_type, *path, *data;
    size_t len;
    long long size;
} dt_part_in;

/* The single-document translation (see dt_op_new_translate). */
typedef struct dt_translate_req {
    const char *to, *from, *category;
    int allow_fallback, text_within_image; /* -1 absent, 0 false, 1 true */
    const dt_part_in *parts;               /* the document first, then glossaries */
    size_t nparts;
    const char *output;                    /* a file the answer goes to, or NULL */
} dt_translate_req;

typedef enum dt_step {
    DT_STEP_REQUEST = 1, /* send op->url (GET) now */
    DT_STEP_WAIT,        /* wait op->wait seconds, then ask again */
    DT_STEP_READY,       /* a result (object or page) is in the slot */
    DT_STEP_DONE,        /* nothing more */
    DT_STEP_ERROR        /* op->err holds the error; the operation has ended */
} dt_step;

#define DT_LINK_RING 64
#define DT_MAX_EMPTY_PAGES 5

typedef struct dt_op {
    dt_op_kind kind;
    dt_conf *conf;      /* borrowed; the client outlives its operations */
    int state;          /* internal, see dt_op.c */
    const char *method; /* "GET"; "POST" for start, "DELETE" for cancel */
    char *url;          /* the request to send (NEED/INFLIGHT) */
    char *body;         /* request body (JSON), or NULL */
    char client_id[40]; /* x-ms-client-request-id of the current call */
    int attempt;        /* retries made for the current call */
    int auth_retried;   /* the current call already got a new token after a 401 */
    int list_jobs;      /* DOCUMENTS kind: the listing is of jobs (GET /batches) */
    double wait;        /* seconds, valid after DT_STEP_WAIT */
    dt_error err;       /* terminal error */
    dt_error pending;   /* error delivered once the trusted documents are out */
    double deadline;    /* seconds for the whole operation, 0 = none (see dt_op_deadline) */
    double deadline_at; /* on the driver's clock: set at the first dt_op_deadline call */
    dt_error retried;   /* the last failure that was retried: its ids outlive it */

    /* result slot: the body read (dt_page.h) of the object (job/document,
     * formats: its root) or of the listing page (its "value" array) */
    dt_resp *resp;
    dt_page *page;
    size_t count, offset;      /* page: documents usable, next to hand out */
    char *page_next;           /* page: the resolved next link, or NULL */

    /* listing; the job of a status/cancel (for START: from Operation-Location) */
    char *job_id;
    dt_list_query q;           /* its strings point into own[] */
    char *own[5];
    long long handed;          /* documents handed to the caller */
    long long top_left;        /* -1 when no top */
    long long pages;           /* pages received */
    long long received;        /* documents received in pages (before top trimming) */
    int empty_run;
    uint64_t links[DT_LINK_RING];
    size_t nlinks;
    uint64_t *prev_ids, *cur_ids;
    size_t nprev, ncur, ids_cap;
    dt_idset seen;             /* every id handed out (bounded, see dt_idset.h) */

    /* TRANSLATE: the request's parts, where the answer goes, and the answer's
     * bytes (raw: in memory; raw_size: their count, also when written to output) */
    dt_part *parts;
    size_t nparts;
    char *output;
    int upload_started;        /* the runner sent body bytes of the current try */
    char *raw;
    size_t raw_len;
    long long raw_size;
} dt_op;

/* Creates operations; NULL when out of memory. The strings are copied. */
dt_op *dt_op_new_job(dt_conf *conf, const char *job_id);
dt_op *dt_op_new_document(dt_conf *conf, const char *job_id, const char *doc_id);
/* job_id NULL: the job list, as dt_op_new_jobs */
dt_op *dt_op_new_documents(dt_conf *conf, const char *job_id, const dt_list_query *q);
dt_op *dt_op_new_jobs(dt_conf *conf, const dt_list_query *q);
/* body: the StartTranslationDetails JSON. A start is retried only on
 * 500/503/504 and never after a network error (the request may have reached
 * the service): a job is never started twice by one call. */
dt_op *dt_op_new_start(dt_conf *conf, const char *body);
dt_op *dt_op_new_cancel(dt_conf *conf, const char *job_id);
/* type: "document" or "glossary" */
dt_op *dt_op_new_formats(dt_conf *conf, const char *type);
/* POST document:translate (dated family only: the caller refuses v1.x). The
 * strings and parts are copied. The answer is raw bytes (no JSON): a 2xx is
 * the result (dt_op_feed: the body; dt_op_feed_file: it went to output). A
 * 408, or a timeout or network failure once the upload started
 * (dt_op_upload_started), is never sent again: the service may have
 * translated, and charged for, the document. */
dt_op *dt_op_new_translate(dt_conf *conf, const dt_translate_req *q);
void dt_op_free(dt_op *op);
/* The runner sent bytes of the current request's body. */
void dt_op_upload_started(dt_op *op);
/* A 2xx answer to a TRANSLATE whose size bytes the runner wrote to op->output. */
void dt_op_feed_file(dt_op *op, dt_resp *resp, long long size);

/* What the driver must do next. */
dt_step dt_op_step(dt_op *op);

/* Feeds the response to the request of the last DT_STEP_REQUEST. The body
 * need not be NUL terminated. Takes one reference of resp. */
void dt_op_feed(dt_op *op, dt_resp *resp, const char *body, size_t len);
/* dt_op_feed with the body in b: a 2xx body (but a start's) is read where
 * it lies instead of a copy (b is left empty, its capacity reserved again). */
void dt_op_feed_buf(dt_op *op, dt_resp *resp, dt_buf *b);
/* The request failed without a response (kind: network or timeout, or
 * protocol for a body over the cap). */
void dt_op_feed_error(dt_op *op, dt_err_kind kind, const char *message);
/* The same, when the response's headers had arrived before the transfer
 * failed (a reset mid-body, a cap, a timeout): the error keeps the service's
 * request ids from them. r may be NULL; it is only read. */
void dt_op_feed_error_resp(dt_op *op, dt_err_kind kind, const char *message, const dt_resp *r);

/* The deadline. dt_op has no clock: its driver passes now (monotonic
 * seconds, dt_now() in C) before each dt_op_step. The first call starts the
 * clock. Returns the seconds left (< 0: no deadline). When the deadline has
 * passed, or the retry wait the op asks for would pass it, the op ends with a
 * timeout error that names the deadline, and 0 is returned; documents of a
 * page already received are handed out first (the error is pending), so a
 * continuation taken after the error repeats and loses nothing. */
double dt_op_deadline(dt_op *op, double now);
/* Ends op at its deadline now (a transfer whose timeout was cut to what was
 * left ran out). r: the headers received, for the service's ids, or NULL. */
void dt_op_expire(dt_op *op, const dt_resp *r);
/* Whether a request that timed out at now ran into op's deadline (its
 * timeout was cut to what was left): then dt_op_expire, not a timeout error. */
int dt_op_at_deadline(const dt_op *op, double now);

/* Whether documents of a page are ready to hand out, and whether the
 * operation needs a transport before anything else can happen. */
int dt_op_has_items(const dt_op *op);
int dt_op_needs_io(const dt_op *op);
/* Whether a listing handed out its last document and nothing follows. */
int dt_op_listed_all(const dt_op *op);
/* Whether a request was handed out and awaits its response. */
int dt_op_inflight(const dt_op *op);

/* Page hand-out: the caller takes documents [offset, count) and says how
 * many it handed on. Releasing drops the page from the slot. */
void dt_op_consumed(dt_op *op, size_t n);
void dt_op_release(dt_op *op);






/* The request headers of the current call, in order, through emit; the
 * secret is included only when url is on the configured origin. */
typedef void (*dt_header_fn)(void *ud, const char *name, const char *value);
void dt_op_headers(const dt_op *op, dt_header_fn emit, void *ud);

DT_HIDDEN_END

#endif
