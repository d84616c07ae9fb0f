/* What every operation of a client shares: endpoint, API version,
 * credentials, retry policy, caps. */
#ifndef DT_CONF_H
#define DT_CONF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "dt_url.h"
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

/* ---- configuration shared by every operation of a client ---- */
typedef struct dt_conf {
    char *endpoint;     /* normalised: no trailing / or /translator */
    dt_origin origin;   /* the only place the secret may go */
    char *api_version;
    char *key;          /* Ocp-Apim-Subscription-Key, or NULL */
    char *token;        /* bearer token, or NULL */
    char *region;       /* Ocp-Apim-Subscription-Region, or NULL */
    char *user_agent;
    int retries;
    double retry_base;  /* first backoff, seconds (0.8) */
    double retry_max;   /* cap of any wait, seconds (60) */
    long long max_pages; /* pages per listing, 0 = no cap */
    double deadline;    /* seconds of a whole listing by default, 0 = none */
    int token_refresh;  /* the token comes from a function the driver calls */
    int token_stale;    /* a 401 said the token expired: get a new one first */
    double token_expires; /* epoch seconds the token stops working, 0 = unknown */
    double token_margin;  /* seconds before token_expires a new one is fetched */
    uint64_t rng;       /* xorshift state: jitter and client request ids */
    int max_depth;      /* JSON nesting cap (levels, the root is 1); 0: DT_PAGE_MAX_DEPTH */
    size_t max_string;  /* longest string of any body, bytes; 0: DT_PAGE_MAX_STRING */
} dt_conf;

uint64_t dt_conf_random(dt_conf *c);

/* The JSON caps of c (its options, or the defaults). */
int dt_conf_max_depth(const dt_conf *c);
size_t dt_conf_max_string(const dt_conf *c);

/* Whether the token must be fetched (again) before the next request: none
 * yet, expired (now: epoch seconds) or rejected by a 401. */
int dt_conf_token_due(const dt_conf *c, double now);

/* The message fmt, ... makes, without c's secrets (SAS signatures, the key,
 * the token: taken out of the whole text first) and then cut to at most max
 * bytes: malloc'd, or NULL when out of memory. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 0)))
#endif
char *dt_conf_message(const dt_conf *c, size_t max, const char *fmt, va_list ap);

DT_HIDDEN_END

#endif
