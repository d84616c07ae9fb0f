/* The libcurl driver: one kept-alive easy handle per client, run through the
 * client's multi handle (below) so every transfer of a client draws on
 * one connection pool. No callback here ever calls Lua. */
#ifndef DT_CURL_H
#define DT_CURL_H

#include <curl/curl.h>
#include <stdio.h>

#include "core/dt_buf.h"
#include "core/dt_op.h"
#include "core/dt_visibility.h"

DT_HIDDEN_BEGIN

struct dt_multi;

typedef struct dt_curl_opts {
    long timeout_ms;         /* whole request, 0 = none */
    long connect_timeout_ms;
    const char *ca_file;     /* NULL: system CAs */
    int insecure;
    const char *proxy;
    const char *user_agent;
    size_t max_body;         /* bytes */
    size_t max_headers;      /* bytes */
} dt_curl_opts;

typedef struct dt_curl {
    CURL *easy;
    dt_buf body;
    dt_resp *resp;            /* headers of the response being received */
    size_t max_body, max_headers, header_bytes;
    long timeout_ms;          /* the client's timeout of a request, 0 = none */
    int oversize, header_overflow, oom;
    int headers_done;       /* the blank line after the headers came: later lines are trailers */
    long requests;            /* requests sent */
    long connects;            /* new connections opened */
    double started;           /* when the current transfer was prepared */
    double last_seconds;      /* time of the last transfer */
    long last_status;         /* HTTP status of the last transfer, 0 when none */
    struct curl_slist *headers; /* request headers of the current transfer */
    char errbuf[CURL_ERROR_SIZE];
    struct dt_multi *multi;   /* the multi handle it runs in (a reference), or NULL */
    int added;                /* currently added to multi */
    int done;                 /* the transfer added last has ended, rc holds how */
    CURLcode rc;
    /* a translation (DT_OP_TRANSLATE): its multipart body, streamed by
     * libcurl from the parts' files; a 2xx answer goes to out (a temporary
     * file beside op->output, renamed over it once complete) when an output
     * is set, else to body; the transfer's progress */
    curl_mime *mime;
    int raw;                  /* the answer is bytes, not JSON */
    const char *out_path;     /* op->output, or NULL */
    char *out_tmp;
    FILE *out;
    long long out_bytes;
    int out_failed;           /* the file could not be written */
    curl_off_t up_now, up_total, down_now, down_total;
    int progress;             /* the figures changed since dt_curl_progress_seen */
    int abort;                /* set by the owner: the transfer stops at the next callback */
} dt_curl;

/* libcurl's global set-up (OpenSSL reads its configuration: about 1.2 ms
 * here), once per process; 0, or -1 when curl_global_init failed (tried again next time). */
int dt_curl_global(void);
/* Returns 0, or -1 with why set. Safe to call dt_curl_close after a failure. */
int dt_curl_open(dt_curl *c, const dt_curl_opts *o, const char **why);
void dt_curl_close(dt_curl *c);
/* In a forked child: forgets the easy handle without closing its connection,
 * whose socket (and TLS state) the parent still uses; frees our buffers. */
void dt_curl_abandon(dt_curl *c);

/* Runs c's transfers in mt from now on (takes a reference); see below. */
void dt_curl_attach(dt_curl *c, struct dt_multi *mt);


/* For the pump (dt_pump.h): prepare sets the easy handle up for op's
 * request; finish feeds op with the transfer's outcome. */
void dt_curl_prepare(dt_curl *c, dt_op *op);
/* The same with another x-ms-client-request-id than op's (a prefetched page
 * is the next call of op: it carries that call's id). */
void dt_curl_prepare_as(dt_curl *c, dt_op *op, const char *client_id);
/* The same for another url than op->url (a page fetched by offset); the
 * secret goes with it only when op->url is on the configured origin, and url
 * must be built from the configured endpoint. */
void dt_curl_prepare_url(dt_curl *c, dt_op *op, const char *url, const char *client_id);
void dt_curl_finish(dt_curl *c, dt_op *op, CURLcode rc);
/* Drops what a translation's transfer holds (the multipart body, a partial
 * output file, which is removed); idempotent. */
void dt_curl_drop_raw(dt_curl *c);


/* ---- the pool: a multi handle shared by every transfer of a client ---- */

typedef struct dt_multi {
    CURLM *m;
    int refs;
    int running;     /* easy handles added and not finished */
    long requests;   /* requests sent through it */
    long connects;   /* connections opened by its transfers */
} dt_multi;

/* NULL when libcurl cannot make one. */
dt_multi *dt_multi_new(void);
dt_multi *dt_multi_ref(dt_multi *mt);
/* Frees at the last reference (every easy handle must be out by then). */
void dt_multi_unref(dt_multi *mt);

/* Adds c (attached to a multi, prepared) and starts its transfer: 0 or -1. */
int dt_multi_add(dt_curl *c);
/* Takes c out of its multi if it is in (idempotent): stops its transfer. */
void dt_multi_remove(dt_curl *c);
/* Drives every transfer of mt without waiting; a transfer that ended is
 * taken out and marked done with its result code. */
void dt_multi_pump(dt_multi *mt);
/* Waits at most max_ms for activity on mt's sockets. */
void dt_multi_wait(dt_multi *mt, int max_ms);

typedef struct dt_fd {
    int fd;
    int read, write;
} dt_fd;
/* The sockets mt waits on (at most max, the count returned) and libcurl's
 * timeout in ms (-1: none set). */
int dt_multi_fds(dt_multi *mt, dt_fd *out, int max, long *timeout_ms);

/* TLS set up ahead of the first connection (when a client is made, not in
 * a game's frame): a handshake is begun with a listening socket of our own on
 * an ephemeral loopback port, never over the network, so that OpenSSL's
 * one-time set-up is done and the trust store of o's CA file is read and
 * cached in mt (libcurl keeps it per multi handle); then the transfer is
 * dropped. 0 when the ClientHello was written. */
int dt_multi_warm_tls(dt_multi *mt, const dt_curl_opts *o);

DT_HIDDEN_END

#endif
