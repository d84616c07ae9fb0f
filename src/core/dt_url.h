/* URLs: endpoint normalisation, the base of each API family, list queries,
 * next-link resolution and the same-origin rule that keeps the key home. */
#ifndef DT_URL_H
#define DT_URL_H

#include "dt_visibility.h"

DT_HIDDEN_BEGIN

typedef enum dt_family { DT_FAMILY_V1 = 1, DT_FAMILY_DATED = 2 } dt_family;

/* Returns the family of a known api_version, 0 when unknown. */
dt_family dt_api_family(const char *api_version);

typedef struct dt_origin {
    char scheme[8]; /* "http" or "https", lower case */
    char host[256]; /* lower case; IPv6 kept in brackets */
    int port;       /* explicit or the scheme's default */
} dt_origin;

/* Parses the origin of an absolute http(s) URL; -1 when it is not one
 * (other scheme, userinfo, empty host, bad port). */
int dt_url_origin(const char *url, dt_origin *o);
int dt_origin_equal(const dt_origin *a, const dt_origin *b);

/* "https://h/", "https://h/translator", "https://h/translator/" -> "https://h".
 * Returns a malloc'd string, or NULL with *why set when not an http(s) URL. */
char *dt_url_normalize_endpoint(const char *endpoint, const char **why);

typedef struct dt_list_query {
    const char *statuses;       /* comma list as given by the caller, or NULL */
    const char *ids;            /* comma list, or NULL */
    const char *created_after;  /* ISO-8601, or NULL */
    const char *created_before; /* ISO-8601, or NULL */
    const char *order_by;       /* e.g. "createdDateTimeUtc asc", or NULL */
    long long top;              /* -1 when absent */
    long long skip;             /* 0 when absent */
    int page_size;              /* -1 when absent */
} dt_list_query;

/* Route builders: malloc'd absolute URLs, NULL when out of memory. */
char *dt_url_job(const char *endpoint, const char *api_version, const char *job_id);
char *dt_url_document(const char *endpoint, const char *api_version, const char *job_id,
                      const char *doc_id);
char *dt_url_documents(const char *endpoint, const char *api_version, const char *job_id,
                       const dt_list_query *q);
/* The job list (GET /batches) with the same query names as documents. */
char *dt_url_jobs(const char *endpoint, const char *api_version, const dt_list_query *q);
/* POST /batches (start). */
char *dt_url_start(const char *endpoint, const char *api_version);
/* Supported formats: type "document" or "glossary"; v1.x /documents/formats
 * or /glossaries/formats, 2024+ /formats?type=. */
char *dt_url_formats(const char *endpoint, const char *api_version, const char *type);
/* POST document:translate with its query (dated family): to required; from
 * and category NULL when absent; the flags -1 when absent. */
char *dt_url_translate(const char *endpoint, const char *api_version, const char *to,
                       const char *from, const char *category, int allow_fallback,
                       int text_within_image);
/* The job id at the end of an Operation-Location URL (".../batches/{id}",
 * query and fragment ignored, percent escapes kept). malloc'd, or NULL when
 * the URL does not name a batch. */
char *dt_url_operation_id(const char *location);

/* Resolves a next link against the endpoint (absolute, "/path?query",
 * "?query" relative to the current request, or "path" relative to the
 * endpoint) and adds api-version when the dated family needs it and it is
 * missing. malloc'd, or NULL when out of memory / not resolvable. */
char *dt_url_resolve_next(const char *endpoint, const char *current, const char *link,
                          const char *api_version);

/* The integer value of the first query parameter of url named name1 or name2
 * (either may be NULL); 0 when found, -1 when absent or not a number. */
int dt_url_query_int(const char *url, const char *name1, const char *name2, long long *out);

/* Copies url into out with the value of every sig= query parameter replaced by
 * "REDACTED" (SAS signatures). The name matches in any case (Sig=, SIG=), at
 * the start or after ? or &; the value ends at &, #, " or white space.
 * malloc'd. */
char *dt_url_redact(const char *url);

DT_HIDDEN_END

#endif
