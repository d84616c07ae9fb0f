#include "dt_curl.h"
#include "dt_clock.h"
#include "core/dt_guard.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int global_ready;

/* Bytes of a translation's answer that may go to a file: at most this many
 * (what the service can send for a 10 MB document, with room to spare). */
#define DT_MAX_OUTPUT ((long long)1 << 30)

/* A 2xx answer of a translation with an output file: written as it comes. */
static size_t body_to_file(dt_curl *c, const char *ptr, size_t n)
{
    if (c->out == NULL) {
        c->out = fopen(c->out_tmp, "wb");
        if (c->out == NULL) {
            c->out_failed = 1;
            return 0;
        }
    }
    if (c->out_bytes + (long long)n > DT_MAX_OUTPUT) {
        c->oversize = 1;
        return 0;
    }
    if (n > 0 && fwrite(ptr, 1, n, c->out) != n) {
        c->out_failed = 1;
        return 0;
    }
    c->out_bytes += (long long)n;
    return n;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    dt_curl *c = ud;
    size_t n = size * nmemb;
    if (c->raw && c->out_path != NULL) {
        long status = 0;
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300)
            return body_to_file(c, ptr, n);
    }
    if (c->body.len + n > c->max_body) {
        c->oversize = 1;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (dt_buf_add(&c->body, ptr, n) != 0) {
        c->oom = 1;
        return 0;
    }
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    dt_curl *c = ud;
    size_t n = size * nmemb;
    dt_head h;
    c->header_bytes += n;
    if (c->header_bytes > c->max_headers) {
        c->header_overflow = 1;
        return 0;
    }
    /* libcurl calls this for the trailers of a chunked body too: the core's
     * reader of a head tells them apart (dt_guard.h) */
    h.resp = c->resp;
    h.done = c->headers_done;
    if (dt_head_line(&h, ptr, n) != 0) {
        c->resp = h.resp;
        c->oom = 1;
        return 0;
    }
    c->resp = h.resp;
    c->headers_done = h.done;
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    dt_curl *c = ud;
    if (dlnow != c->down_now || dltotal != c->down_total || ulnow != c->up_now ||
        ultotal != c->up_total) {
        c->down_now = dlnow;
        c->down_total = dltotal;
        c->up_now = ulnow;
        c->up_total = ultotal;
        c->progress = 1;
    }
    return c->abort ? 1 : 0;
}

static int on_socket_open(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    dt_curl *c = ud;
    (void)fd;
    if (purpose == CURLSOCKTYPE_IPCXN) {
        c->connects++;
        if (c->multi != NULL)
            c->multi->connects++;
    }
    return CURL_SOCKOPT_OK;
}

int dt_curl_global(void)
{
    if (!global_ready && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
        global_ready = 1;
    return global_ready ? 0 : -1;
}

int dt_curl_open(dt_curl *c, const dt_curl_opts *o, const char **why)
{
    memset(c, 0, sizeof *c);
    dt_buf_init(&c->body);
    if (dt_curl_global() != 0) {
        *why = "curl_global_init failed";
        return -1;
    }
    c->easy = curl_easy_init();
    if (c->easy == NULL) {
        *why = "curl_easy_init failed";
        return -1;
    }
    c->max_body = o->max_body;
    c->max_headers = o->max_headers;
    c->timeout_ms = o->timeout_ms;
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c->easy, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(c->easy, CURLOPT_SOCKOPTFUNCTION, on_socket_open);
    curl_easy_setopt(c->easy, CURLOPT_SOCKOPTDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, (void *)c);
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    if (o->ca_file != NULL)
        curl_easy_setopt(c->easy, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    if (o->proxy != NULL)
        curl_easy_setopt(c->easy, CURLOPT_PROXY, o->proxy);
    else
        curl_easy_setopt(c->easy, CURLOPT_PROXY, ""); /* no proxy from the environment */
    if (o->user_agent != NULL)
        curl_easy_setopt(c->easy, CURLOPT_USERAGENT, o->user_agent);
    return 0;
}

void dt_curl_attach(dt_curl *c, dt_multi *mt)
{
    if (c->multi == mt)
        return;
    dt_multi_remove(c);
    dt_multi_unref(c->multi);
    c->multi = dt_multi_ref(mt);
}

/* One path for every end: out of the multi handle first (libcurl must not
 * point at an easy handle that is gone), then the handle, then our buffers. */
void dt_curl_close(dt_curl *c)
{
    dt_multi_remove(c);
    dt_multi_unref(c->multi);
    c->multi = NULL;
    if (c->easy != NULL)
        curl_easy_cleanup(c->easy);
    c->easy = NULL;
    curl_slist_free_all(c->headers);
    c->headers = NULL;
    dt_resp_unref(c->resp);
    c->resp = NULL;
    dt_buf_free(&c->body);
    dt_curl_drop_raw(c);
}

void dt_curl_drop_raw(dt_curl *c)
{
    if (c->easy != NULL && c->mime != NULL)
        curl_easy_setopt(c->easy, CURLOPT_MIMEPOST, NULL);
    curl_mime_free(c->mime);
    c->mime = NULL;
    if (c->out != NULL)
        fclose(c->out);
    c->out = NULL;
    if (c->out_tmp != NULL)
        remove(c->out_tmp); /* never a half-written file left behind */
    free(c->out_tmp);
    c->out_tmp = NULL;
    c->out_path = NULL;
    c->out_bytes = 0;
    c->out_failed = 0;
    c->raw = 0;
}

/* A part's bytes read where the op keeps them (no copy in libcurl). */
typedef struct mime_bytes {
    const char *data;
    size_t len, pos;
} mime_bytes;

static size_t mime_read(char *buf, size_t size, size_t nitems, void *arg)
{
    mime_bytes *m = arg;
    size_t n = size * nitems, left = m->len - m->pos;
    if (n > left)
        n = left;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return n;
}

static int mime_seek(void *arg, curl_off_t offset, int origin)
{
    mime_bytes *m = arg;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > m->len)
        return CURL_SEEKFUNC_CANTSEEK;
    m->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* The multipart body of a translation: each part's file streamed by libcurl
 * (curl_mime_filedata), or its bytes read from the op; 0, or -1. */
static int build_mime(dt_curl *c, const dt_op *op)
{
    size_t i;
    c->mime = curl_mime_init(c->easy);
    if (c->mime == NULL)
        return -1;
    for (i = 0; i < op->nparts; i++) {
        const dt_part *p = &op->parts[i];
        curl_mimepart *m = curl_mime_addpart(c->mime);
        if (m == NULL || curl_mime_name(m, p->name) != CURLE_OK)
            return -1;
        if (p->path != NULL) {
            if (curl_mime_filedata(m, p->path) != CURLE_OK)
                return -1;
        } else {
            mime_bytes *b = calloc(1, sizeof *b);
            if (b == NULL)
                return -1;
            b->data = p->data != NULL ? p->data : "";
            b->len = p->len;
            if (curl_mime_data_cb(m, (curl_off_t)p->len, mime_read, mime_seek, free, b) != CURLE_OK) {
                free(b);
                return -1;
            }
        }
        /* after filedata: the name sent is the caller's, not the path's */
        if (curl_mime_filename(m, p->filename) != CURLE_OK ||
            (p->content_type != NULL && curl_mime_type(m, p->content_type) != CURLE_OK))
            return -1;
    }
    return 0;
}

/* A translation's transfer: its body, where its answer goes, its progress. */
static int prepare_raw(dt_curl *c, dt_op *op)
{
    c->raw = 1;
    c->up_now = c->up_total = c->down_now = c->down_total = 0;
    c->progress = 0;
    c->abort = 0;
    if (op->output != NULL) {
        /* beside the output (same file system: the rename is atomic), named
         * by the call's id so that two calls never share one */
        size_t n = strlen(op->output) + 48;
        c->out_tmp = malloc(n);
        if (c->out_tmp == NULL)
            return -1;
        snprintf(c->out_tmp, n, "%s.%.8s.part", op->output, op->client_id);
        c->out_path = op->output;
    }
    if (build_mime(c, op) != 0)
        return -1;
    curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c->easy, CURLOPT_MIMEPOST, c->mime);
    curl_easy_setopt(c->easy, CURLOPT_NOPROGRESS, 0L);
    return 0;
}

void dt_curl_abandon(dt_curl *c)
{
    c->easy = NULL; /* deliberately not cleaned up: see dt_curl.h */
    c->multi = NULL; /* the parent's: its pool holds the parent's connections */
    c->added = 0;
    dt_curl_close(c);
}

struct header_list {
    struct curl_slist *list;
    int failed;            /* a header could not be added: the request is not sent */
    const char *client_id; /* replaces op's x-ms-client-request-id, or NULL */
};

static void add_header(void *ud, const char *name, const char *value)
{
    struct header_list *h = ud;
    struct curl_slist *l;
    char small[512], *line = small;
    size_t n;
    if (strcmp(name, "User-Agent") == 0)
        return; /* set through CURLOPT_USERAGENT */
    if (h->client_id != NULL && strcmp(name, "x-ms-client-request-id") == 0)
        value = h->client_id;
    /* the whole line, however long: a value is sent exactly or not at all */
    n = strlen(name) + strlen(value) + 3;
    if (n > sizeof small && (line = malloc(n)) == NULL) {
        h->failed = 1;
        return;
    }
    snprintf(line, n, "%s: %s", name, value);
    l = curl_slist_append(h->list, line);
    if (l != NULL)
        h->list = l;
    else
        h->failed = 1;
    memset(line, 0, n); /* the line may hold the secret */
    if (line != small)
        free(line);
}

/* The client's timeout, or what is left of op's deadline when that is less
 * (at least 1 ms: 0 would mean no timeout at all). */
static long request_timeout_ms(const dt_curl *c, const dt_op *op)
{
    double left;
    long ms;
    if (op->deadline_at <= 0)
        return c->timeout_ms;
    left = ceil((op->deadline_at - dt_now()) * 1000.0);
    ms = left < 1 ? 1 : left > 86400000.0 ? 86400000L : (long)left;
    return c->timeout_ms > 0 && c->timeout_ms < ms ? c->timeout_ms : ms;
}

void dt_curl_prepare(dt_curl *c, dt_op *op)
{
    dt_curl_prepare_as(c, op, NULL);
}

void dt_curl_prepare_as(dt_curl *c, dt_op *op, const char *client_id)
{
    dt_curl_prepare_url(c, op, op->url, client_id);
}

void dt_curl_prepare_url(dt_curl *c, dt_op *op, const char *url, const char *client_id)
{
    struct header_list h;
    dt_buf_reset(&c->body);
    dt_resp_unref(c->resp);
    c->resp = NULL;
    c->oversize = c->header_overflow = c->oom = 0;
    c->headers_done = 0;
    c->header_bytes = 0;
    c->errbuf[0] = '\0';
    curl_slist_free_all(c->headers);
    c->headers = NULL;
    dt_curl_drop_raw(c); /* the last translation's body, if any */
    curl_easy_setopt(c->easy, CURLOPT_NOPROGRESS, 1L);
    h.list = NULL;
    h.failed = 0;
    h.client_id = client_id;
    dt_op_headers(op, add_header, &h);
    c->headers = h.list;
    if (h.failed) {
        c->oom = 1;
        url = ""; /* never sent without a header it needs: the transfer fails at once */
    }
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    if (op->kind == DT_OP_TRANSLATE) {
        if (prepare_raw(c, op) != 0) {
            c->oom = 1;
            curl_easy_setopt(c->easy, CURLOPT_URL, ""); /* fails at once, as above */
        }
    } else if (op->body != NULL) {
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, op->body);
        curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, op->method);
    } else if (strcmp(op->method, "GET") == 0) {
        curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, op->method);
    }
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, request_timeout_ms(c, op));
    c->requests++;
    if (c->multi != NULL)
        c->multi->requests++;
    c->started = dt_now();
}

void dt_curl_finish(dt_curl *c, dt_op *op, CURLcode rc)
{
    long status = 0;
    char msg[CURL_ERROR_SIZE + 64];

    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(c->headers); /* it held the secret: gone as soon as possible */
    c->headers = NULL;
    c->last_seconds = dt_now() - c->started;
    c->last_status = 0;

    if (c->raw) {
        curl_off_t up = 0;
        curl_easy_getinfo(c->easy, CURLINFO_SIZE_UPLOAD_T, &up);
        if (up > 0 || c->up_now > 0)
            dt_op_upload_started(op);
    }
    if (rc == CURLE_OK && c->resp != NULL && c->raw && c->out_path != NULL) {
        dt_resp *r = c->resp;
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) {
            int bad = 0;
            if (c->out == NULL && (c->out = fopen(c->out_tmp, "wb")) == NULL)
                bad = 1; /* an empty answer: an empty file */
            if (c->out != NULL && fclose(c->out) != 0)
                bad = 1;
            c->out = NULL;
            if (!bad && rename(c->out_tmp, c->out_path) != 0)
                bad = 1;
            if (bad) {
                snprintf(msg, sizeof msg, "the translated document could not be written to %s",
                         c->out_path);
                dt_curl_drop_raw(c);
                dt_op_feed_error_resp(op, DT_ERR_PROTOCOL, msg, r);
                return;
            }
            free(c->out_tmp); /* renamed: nothing to remove */
            c->out_tmp = NULL;
            c->resp = NULL;
            r->status = status;
            c->last_status = status;
            dt_op_feed_file(op, r, c->out_bytes);
            dt_curl_drop_raw(c);
            return;
        }
    }
    if (rc == CURLE_OK && c->resp != NULL) {
        dt_resp *r = c->resp;
        c->resp = NULL;
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
        r->status = status;
        c->last_status = status;
        dt_curl_drop_raw(c);
        dt_op_feed_buf(op, r, &c->body); /* a 2xx body is read where it lies, not copied */
        return;
    }
    if (c->raw && c->abort) {
        dt_curl_drop_raw(c);
        dt_op_feed_error_resp(op, DT_ERR_USAGE, "the transfer was stopped by its on_progress callback",
                              c->resp);
        return;
    }
    if (c->out_failed) {
        snprintf(msg, sizeof msg, "the translated document could not be written to %s", c->out_path);
        dt_curl_drop_raw(c);
        dt_op_feed_error_resp(op, DT_ERR_PROTOCOL, msg, c->resp);
        return;
    }
    dt_curl_drop_raw(c);
    if (c->oversize) {
        snprintf(msg, sizeof msg, "the response body exceeds the cap of %zu bytes", c->max_body);
        dt_op_feed_error_resp(op, DT_ERR_PROTOCOL, msg, c->resp);
    } else if (c->header_overflow) {
        snprintf(msg, sizeof msg, "the response headers exceed the cap of %zu bytes",
                 c->max_headers);
        dt_op_feed_error_resp(op, DT_ERR_PROTOCOL, msg, c->resp);
    } else if (rc == CURLE_OUT_OF_MEMORY && !c->oom && c->resp != NULL && c->body.len == 0) {
        /* libcurl buffers each header line whole and refuses one over its
         * fixed cap with this code: the answer is malformed, memory is fine */
        snprintf(msg, sizeof msg,
                 "a response header line exceeds libcurl's cap of %d bytes (CURL_MAX_HTTP_HEADER)",
                 (int)CURL_MAX_HTTP_HEADER);
        dt_op_feed_error_resp(op, DT_ERR_PROTOCOL, msg, c->resp);
    } else if (c->oom) {
        dt_op_feed_error_resp(op, DT_ERR_NETWORK, "out of memory while receiving the response", c->resp);
    } else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
        /* a URL libcurl will not send is sent no better a second time: never retried */
        snprintf(msg, sizeof msg, "the request URL cannot be sent: %s",
                 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        dt_op_feed_error_resp(op, DT_ERR_PROTOCOL, msg, c->resp);
    } else if (rc == CURLE_OPERATION_TIMEDOUT && dt_op_at_deadline(op, dt_now())) {
        dt_op_expire(op, c->resp);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(msg, sizeof msg, "timed out: %s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        dt_op_feed_error_resp(op, DT_ERR_TIMEOUT, msg, c->resp);
    } else {
        snprintf(msg, sizeof msg, "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        dt_op_feed_error_resp(op, DT_ERR_NETWORK, msg, c->resp);
    }
}

/* ------------------------------------------------------------ dt_multi */

dt_multi *dt_multi_new(void)
{
    dt_multi *mt = calloc(1, sizeof *mt);
    if (mt == NULL)
        return NULL;
    mt->m = curl_multi_init();
    if (mt->m == NULL) {
        free(mt);
        return NULL;
    }
    mt->refs = 1;
    return mt;
}

dt_multi *dt_multi_ref(dt_multi *mt)
{
    if (mt != NULL)
        mt->refs++;
    return mt;
}

void dt_multi_unref(dt_multi *mt)
{
    if (mt == NULL || --mt->refs > 0)
        return;
    /* every easy handle took itself out before dropping its reference */
    curl_multi_cleanup(mt->m);
    free(mt);
}

int dt_multi_add(dt_curl *c)
{
    if (c->multi == NULL || c->easy == NULL || c->added)
        return -1;
    c->done = 0;
    c->rc = CURLE_OK;
    if (curl_multi_add_handle(c->multi->m, c->easy) != CURLM_OK)
        return -1;
    c->added = 1;
    c->multi->running++;
    return 0;
}

void dt_multi_remove(dt_curl *c)
{
    if (!c->added || c->multi == NULL)
        return;
    curl_multi_remove_handle(c->multi->m, c->easy);
    c->added = 0;
    c->multi->running--;
}

void dt_multi_pump(dt_multi *mt)
{
    int still = 0, left = 0;
    CURLMsg *msg;
    if (mt->running == 0)
        return;
    curl_multi_perform(mt->m, &still);
    while ((msg = curl_multi_info_read(mt->m, &left)) != NULL) {
        char *priv = NULL;
        dt_curl *c;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        c = (dt_curl *)(void *)priv;
        if (c == NULL)
            continue;
        c->rc = msg->data.result;
        c->done = 1;
        dt_multi_remove(c); /* msg is not used past this point */
    }
}

void dt_multi_wait(dt_multi *mt, int max_ms)
{
    long t = -1;
    if (mt->running == 0)
        return;
    curl_multi_timeout(mt->m, &t);
    if (t >= 0 && t < max_ms)
        max_ms = (int)t;
    if (max_ms > 0)
        curl_multi_poll(mt->m, NULL, 0, max_ms, NULL);
}

int dt_multi_fds(dt_multi *mt, dt_fd *out, int max, long *timeout_ms)
{
    fd_set r, w, e;
    int maxfd = -1, fd, n = 0;
    *timeout_ms = -1;
    if (mt == NULL || mt->running == 0)
        return 0;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&e);
    if (curl_multi_fdset(mt->m, &r, &w, &e, &maxfd) != CURLM_OK)
        maxfd = -1;
    for (fd = 0; fd <= maxfd && n < max; fd++) {
        int rd = FD_ISSET(fd, &r) != 0, wr = FD_ISSET(fd, &w) != 0;
        if (!rd && !wr)
            continue;
        out[n].fd = fd;
        out[n].read = rd;
        out[n].write = wr;
        n++;
    }
    curl_multi_timeout(mt->m, timeout_ms);
    return n;
}

/* ------------------------------------------------------------ TLS ahead of time */

/* A listening socket on an ephemeral loopback port (its port in *port), or -1. */
static int warm_listener(unsigned *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

int dt_multi_warm_tls(dt_multi *mt, const dt_curl_opts *o)
{
    unsigned port = 0;
    int lfd, peer = -1, i, still = 0, sent = 0;
    char url[48];
    CURL *e;
    if (mt == NULL || (lfd = warm_listener(&port)) < 0)
        return -1;
    e = curl_easy_init();
    if (e != NULL) {
        snprintf(url, sizeof url, "https://127.0.0.1:%u/", port);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
        /* the options of the client's transfers: the CA store libcurl caches in
         * the multi handle serves the transfers whose CA file is this one */
        if (o->ca_file != NULL)
            curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
        if (curl_multi_add_handle(mt->m, e) == CURLM_OK) {
            /* until the ClientHello arrives (the context is made and the trust
             * store loaded by then), a few ms at most: it is all loopback */
            for (i = 0; i < 20 && !sent; i++) {
                curl_multi_perform(mt->m, &still);
                if (peer < 0)
                    peer = accept(lfd, NULL, NULL);
                if (peer >= 0) {
                    struct pollfd p;
                    p.fd = peer;
                    p.events = POLLIN;
                    p.revents = 0;
                    sent = poll(&p, 1, 0) > 0;
                }
                if (!sent)
                    curl_multi_wait(mt->m, NULL, 0, 1, NULL);
            }
            curl_multi_remove_handle(mt->m, e);
        }
        curl_easy_cleanup(e);
    }
    if (peer >= 0)
        close(peer);
    close(lfd);
    return sent ? 0 : -1;
}
