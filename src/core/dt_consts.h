/* Facts about the service and the defaults of a client, each written once.
 * The core, the libcurl runner and the Lua binding use them; the binding
 * exports them to Lua (src/lua/lua_consts.c: doctranslate.core's
 * API_VERSIONS, DEFAULT_API_VERSION, TERMINAL, DEFAULTS), where the Lua layer
 * and the Lua transports read them. */
#ifndef DT_CONSTS_H
#define DT_CONSTS_H

#include "dt_url.h"
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

/* The API versions the client speaks, newest first; the first is the default. */
#define DT_DEFAULT_API_VERSION "2026-03-01"

typedef struct dt_api_version {
    const char *name;
    dt_family family;
} dt_api_version;

extern const dt_api_version dt_api_versions[]; /* ends with { NULL, 0 } */

/* "2026-03-01, 2024-11-01-preview, ...": the list, for messages. */
const char *dt_api_versions_text(void);

/* Statuses after which a job or a document no longer changes. */
extern const char *const dt_terminal_statuses[]; /* ends with NULL */

/* 1 when status (may be NULL) is terminal, else 0. */
int dt_status_terminal(const char *status);

/* Defaults of the client's options (dt.new{...}), whatever the transport. */
#define DT_DEFAULT_TIMEOUT 30.0            /* seconds a request may take */
#define DT_DEFAULT_CONNECT_TIMEOUT 10.0    /* seconds to connect */
#define DT_DEFAULT_RETRIES 3               /* retries of a failed request */
#define DT_DEFAULT_RETRY_BASE 0.8          /* first backoff, seconds */
#define DT_DEFAULT_RETRY_MAX 60.0          /* cap of any wait, seconds */
#define DT_DEFAULT_MAX_BODY (16u << 20)    /* bytes of a response body */
#define DT_DEFAULT_MAX_HEADERS (64u << 10) /* bytes of a response's headers */
#define DT_DEFAULT_MAX_PAGES 1000000       /* pages of one listing */

DT_HIDDEN_END

#endif
