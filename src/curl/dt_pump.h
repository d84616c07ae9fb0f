/* dt_pump: the libcurl runner of one operation. It never blocks in
 * dt_pump_poll (game loops, event loops); dt_pump_run blocks until a result.
 * It can send the next page of a listing while the caller works through the
 * current one. No Lua here; nothing below calls back into the caller from
 * inside libcurl. */
#ifndef DT_PUMP_H
#define DT_PUMP_H

#include "dt_curl.h"
#include "core/dt_op.h"
#include "core/dt_visibility.h"

DT_HIDDEN_BEGIN

typedef enum dt_pump_state {
    DT_PUMP_BUSY = 1, /* a request travels or a retry wait runs: ask again later */
    DT_PUMP_READY,    /* a result (object or documents of a page) is in op's slot */
    DT_PUMP_DONE,
    DT_PUMP_ERROR     /* op->err */
} dt_pump_state;

typedef enum dt_pump_event {
    DT_PUMP_EV_RESPONSE = 1, /* a transfer ended: see last_* */
    DT_PUMP_EV_RETRY,        /* a retry wait starts: op->wait, op->attempt */
    DT_PUMP_EV_ERROR,        /* the operation failed: op->err */
    DT_PUMP_EV_SEQUENTIAL,   /* parallel windows were given up: fallback says why */
    DT_PUMP_EV_PROGRESS      /* a translation's transfer moved: x[cur]'s up_ and down_ figures */
} dt_pump_event;

#define DT_PUMP_MAX_WINDOWS 16
#define DT_PUMP_SLOTS (DT_PUMP_MAX_WINDOWS + 1)

typedef struct dt_pump {
    dt_op *op;                  /* borrowed from the owner */
    dt_multi *mt;               /* a reference */
    const dt_curl_opts *copts;  /* borrowed from the client */
    dt_curl *x[DT_PUMP_SLOTS];  /* easy handles, opened on first use */
    int cur;                    /* slot carrying op's request, -1 none */
    /* pages fetched ahead of op's request: slot i carries one when url[i] is
     * set; adopted when op asks for that url, or (windows) that offset */
    char *ahead_url[DT_PUMP_SLOTS];
    long long ahead_skip[DT_PUMP_SLOTS]; /* the offset (windows), -1: the exact url only */
    char ahead_id[DT_PUMP_SLOTS][40];    /* its x-ms-client-request-id */
    int nahead;
    double wait_until;          /* a retry wait runs until then (dt_now), 0 none */
    int prefetch;               /* one page ahead: the next link, once judged */
    /* parallel page windows: up to `windows` pages in flight, by offset */
    int windows;                /* 0: none */
    int win_state;              /* 0 off, 1 armed (until page 1 shows skip paging), 2 on */
    long long win_end;          /* the offset where the list ends (the job's total, top) */
    long long win_next, win_stride;
    const char *fallback;       /* why windows were given up */
    /* slice > 0: a poll aims at about that many seconds of work. Its pieces
     * (reading an ended transfer, starting a request) each run only when the
     * time used so far plus what that piece cost lately fits; one put off runs
     * at the next poll whatever it costs, so every poll moves on. Every body
     * is read whole by dt_page (about 2 us for a 4 KiB job, 20 us per 100
     * documents of a listing page). 0: no bound */
    double slice;
    double poll_started;
    double cost_read, cost_send; /* moving averages, seconds */
    int put_off;                /* a piece was put off: the next poll runs it */
    /* the last ended transfer, for the log */
    const char *last_method;
    char *last_url;
    long last_status;
    double last_seconds;
    int last_prefetched;
    /* events, called outside libcurl (between two libcurl calls) */
    void (*event)(void *ud, dt_pump_event ev, struct dt_pump *p);
    /* before a request leaves (credentials): 1 send, 0 op was fed an error */
    int (*before)(void *ud, dt_op *op);
    void *event_ud;
} dt_pump;

/* Sets p up for op; 0, or -1 with why set (dt_pump_close is safe either way). */
int dt_pump_init(dt_pump *p, dt_multi *mt, const dt_curl_opts *copts, dt_op *op,
                 int prefetch);
/* Does what can be done now without waiting: reads ended transfers (parsing
 * at most one response), starts the next request, or the prefetch. */
dt_pump_state dt_pump_poll(dt_pump *p);
/* Parallel windows for a listing of a job whose list no longer changes and
 * ends at offset end: up to n pages in flight, fetched by offset (skip) and
 * handed to op in its own order, each only when op asks for exactly that
 * offset, so every check of op still applies. Armed until op's first page
 * shows that the service pages by skip; else given up (DT_PUMP_EV_SEQUENTIAL). */
void dt_pump_windows(dt_pump *p, int n, long long end);
/* Seconds until p has something to do on its own, for a host's poller: 0
 * now, a retry wait's rest, or -1 when only its sockets can wake it. */
double dt_pump_due(const dt_pump *p);
/* Blocks until p is READY, DONE or ERROR (retry waits sleep). */
dt_pump_state dt_pump_run(dt_pump *p);
/* Stops every transfer and frees the handles; idempotent. */
void dt_pump_close(dt_pump *p);
/* In a forked child: forgets the parent's handles and multi (their sockets
 * are the parent's) and frees the rest; op's request, if one was under way,
 * is sent again by the next pump. */
void dt_pump_abandon(dt_pump *p);

DT_HIDDEN_END

#endif
