/* The client: its options, its log, its bearer token, close and stats.
 * The methods that make operations are added by lua_ops.c and lua_async.c,
 * those written in Lua by doctranslate.client. */
#include "lua_client.h"
#include "core/dt_date.h"
#include "core/dt_guard.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DT_USER_AGENT "doctranslate-lua/0.1"

/* ------------------------------------------------------------- helpers */

void dt_log(lua_State *L, dt_client *cl, const char *level, const char *fmt, ...)
{
    char *clean;
    va_list ap;
    if (cl->log_ref == LUA_NOREF || cl->log_ref == LUA_REFNIL)
        return;
    va_start(ap, fmt);
    /* the secrets out of the whole line first, then the cut */
    clean = dt_conf_message(&cl->conf, 1024, fmt, ap);
    va_end(ap);
    lua_rawgeti(L, LUA_REGISTRYINDEX, cl->log_ref);
    lua_pushstring(L, level);
    lua_pushstring(L, clean ? clean : "(out of memory)");
    free(clean);
    if (lua_pcall(L, 2, 0, 0) != 0)
        lua_pop(L, 1); /* a failing log function never breaks the call */
}

static uint64_t seed(void);

/* A client made before a fork (OpenResty's init_by_lua, a pre-forking server)
 * must neither share its connection nor its request-id sequence with the
 * other processes: both are renewed in the first call after the fork. */
static void after_fork(dt_client *cl)
{
    long pid = (long)getpid();
    if (cl->pid == pid)
        return;
    cl->multi = NULL; /* the parent's pool: forgotten, never cleaned up here */
    cl->conf.rng = seed() ^ (uint64_t)pid;
    cl->pid = pid;
}

dt_client *dt_check_client(lua_State *L, int idx)
{
    dt_client *cl = luaL_checkudata(L, idx, DT_CLIENT_MT);
    if (cl->closed)
        dt_usage(L, "the client is closed");
    after_fork(cl);
    return cl;
}

dt_client *dt_client_from_ref(lua_State *L, int ref)
{
    dt_client *cl;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    cl = dt_testudata(L, -1, DT_CLIENT_MT);
    if (cl == NULL || cl->closed || cl->conf.endpoint == NULL)
        return NULL;
    after_fork(cl);
    return cl;
}

static char *dup_lua(lua_State *L, int idx)
{
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    char *p = s != NULL ? malloc(n + 1) : NULL;
    if (p == NULL) {
        luaL_error(L, "out of memory");
        return NULL;
    }
    memcpy(p, s, n + 1);
    return p;
}

static uint64_t seed(void)
{
    uint64_t s = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &s, sizeof s) != (ssize_t)sizeof s)
            s = 0;
        close(fd);
    }
    if (s == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
    }
    return s ? s : 0x9E3779B97F4A7C15ULL;
}

/* ------------------------------------------------------------- client */

static void free_client(dt_client *cl)
{
    dt_multi_unref(cl->multi); /* freed once no operation holds it */
    cl->multi = NULL;
    free(cl->conf.endpoint);
    free(cl->conf.api_version);
    if (cl->conf.key != NULL)
        memset(cl->conf.key, 0, strlen(cl->conf.key));
    if (cl->conf.token != NULL)
        memset(cl->conf.token, 0, strlen(cl->conf.token));
    free(cl->conf.key);
    free(cl->conf.token);
    free(cl->conf.region);
    free(cl->conf.user_agent);
    free(cl->ca_file);
    free(cl->proxy);
    memset(&cl->conf, 0, sizeof cl->conf);
    cl->ca_file = cl->proxy = NULL;
}

/* close/__close: the connection goes; objects that still point at the
 * client fail with a usage error. __gc frees the rest. */
static int client_close(lua_State *L)
{
    dt_client *cl = luaL_checkudata(L, 1, DT_CLIENT_MT);
    dt_multi_unref(cl->multi); /* running pumps hold their own reference */
    cl->multi = NULL;
    cl->closed = 1;
    return 0;
}

static int client_gc(lua_State *L)
{
    dt_client *cl = luaL_checkudata(L, 1, DT_CLIENT_MT);
    free_client(cl);
    cl->closed = 1;
    if (cl->log_ref != LUA_NOREF && cl->log_ref != LUA_REFNIL)
        luaL_unref(L, LUA_REGISTRYINDEX, cl->log_ref);
    cl->log_ref = LUA_NOREF;
    if (cl->token_ref != LUA_NOREF)
        luaL_unref(L, LUA_REGISTRYINDEX, cl->token_ref);
    cl->token_ref = LUA_NOREF;
    return 0;
}

static int opt_number(lua_State *L, int idx, const char *name, double lo, double hi, double *out)
{
    double v;
    if (lua_type(L, idx) != LUA_TNUMBER)
        return dt_usage(L, "bad option '%s': a number expected, got %s", name, luaL_typename(L, idx));
    v = lua_tonumber(L, idx);
    if (!(v >= lo && v <= hi))
        return dt_usage(L, "bad option '%s': expected a number in %g..%g", name, lo, hi);
    *out = v;
    return 0;
}

static void opt_string(lua_State *L, int idx, const char *name)
{
    if (lua_type(L, idx) != LUA_TSTRING || dt_rawlen(L, idx) == 0)
        dt_usage(L, "bad option '%s': a non-empty string expected, got %s", name,
                 luaL_typename(L, idx));
}

/* core.new(opts) */
/* The option k (value on top) that says where and who the client is, and
 * how it logs: 1 when it is one of them, 0 otherwise. */
static int identity_option(lua_State *L, dt_client *cl, const char *k)
{
    const char *why;
    if (strcmp(k, "endpoint") == 0) {
        char *ep;
        opt_string(L, -1, k);
        ep = dt_url_normalize_endpoint(lua_tostring(L, -1), &why);
        if (ep == NULL)
            return dt_usage(L, "bad option 'endpoint': %s", why);
        cl->conf.endpoint = ep;
        dt_url_origin(ep, &cl->conf.origin);
    } else if (strcmp(k, "key") == 0) {
        opt_string(L, -1, k);
        dt_check_header_value(L, -1, "bad option 'key'");
        cl->conf.key = dup_lua(L, -1);
    } else if (strcmp(k, "token") == 0 && lua_type(L, -1) == LUA_TFUNCTION) {
        /* called before the first request, when the token expires, after a 401 */
        lua_pushvalue(L, -1);
        cl->token_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        cl->conf.token_refresh = 1;
    } else if (strcmp(k, "token") == 0) {
        opt_string(L, -1, k);
        dt_check_header_value(L, -1, "bad option 'token'");
        cl->conf.token = dup_lua(L, -1);
    } else if (strcmp(k, "region") == 0) {
        opt_string(L, -1, k);
        dt_check_header_value(L, -1, "bad option 'region'");
        cl->conf.region = dup_lua(L, -1);
    } else if (strcmp(k, "api_version") == 0) {
        opt_string(L, -1, k);
        if (dt_api_family(lua_tostring(L, -1)) == 0)
            return dt_usage(L, "bad option 'api_version': unknown version '%s' (known: %s)",
                            lua_tostring(L, -1), dt_api_versions_text());
        cl->conf.api_version = dup_lua(L, -1);
    } else if (strcmp(k, "ca_file") == 0) {
        opt_string(L, -1, k);
        cl->ca_file = dup_lua(L, -1);
    } else if (strcmp(k, "insecure") == 0) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            return dt_usage(L, "bad option 'insecure': a boolean expected");
        cl->copts.insecure = lua_toboolean(L, -1);
    } else if (strcmp(k, "user_agent") == 0) {
        opt_string(L, -1, k);
        dt_check_header_value(L, -1, "bad option 'user_agent'");
        cl->conf.user_agent = dup_lua(L, -1);
    } else if (strcmp(k, "proxy") == 0) {
        opt_string(L, -1, k);
        cl->proxy = dup_lua(L, -1);
    } else if (strcmp(k, "log") == 0) {
        if (lua_type(L, -1) != LUA_TFUNCTION)
            return dt_usage(L, "bad option 'log': a function expected");
        lua_pushvalue(L, -1);
        cl->log_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
        return 0;
    }
    return 1;
}

/* The option k (value on top) that sets a number or a switch: timeouts,
 * retries, caps, listing defaults. 1 when it is one of them, 0 otherwise. */
static int tuning_option(lua_State *L, dt_client *cl, const char *k)
{
    double v = 0;
    if (strcmp(k, "timeout") == 0) {
        opt_number(L, -1, k, 0.001, 86400, &v);
        cl->copts.timeout_ms = (long)ceil(v * 1000);
    } else if (strcmp(k, "deadline") == 0) {
        opt_number(L, -1, k, 0.001, 86400, &v);
        cl->conf.deadline = v;
    } else if (strcmp(k, "connect_timeout") == 0) {
        opt_number(L, -1, k, 0.001, 86400, &v);
        cl->copts.connect_timeout_ms = (long)ceil(v * 1000);
    } else if (strcmp(k, "retries") == 0) {
        opt_number(L, -1, k, 0, 100, &v);
        if (v != floor(v))
            return dt_usage(L, "bad option 'retries': an integer expected");
        cl->conf.retries = (int)v;
    } else if (strcmp(k, "retry_base") == 0) {
        opt_number(L, -1, k, 0, 60, &v);
        cl->conf.retry_base = v;
    } else if (strcmp(k, "retry_max") == 0) {
        opt_number(L, -1, k, 0, 3600, &v);
        cl->conf.retry_max = v;
    } else if (strcmp(k, "max_body") == 0) {
        opt_number(L, -1, k, 1024, 1073741824.0, &v);
        cl->copts.max_body = (size_t)v;
    } else if (strcmp(k, "max_depth") == 0) {
        opt_number(L, -1, k, 1, DT_PAGE_DEPTH_LIMIT, &v);
        if (v != floor(v))
            return dt_usage(L, "bad option 'max_depth': an integer expected");
        cl->conf.max_depth = (int)v;
    } else if (strcmp(k, "max_string") == 0) {
        opt_number(L, -1, k, 1024, 1073741824.0, &v);
        cl->conf.max_string = (size_t)v;
    } else if (strcmp(k, "max_headers") == 0) {
        opt_number(L, -1, k, 1024, 16777216.0, &v);
        cl->copts.max_headers = (size_t)v;
    } else if (strcmp(k, "max_pages") == 0) {
        opt_number(L, -1, k, 0, 1e15, &v);
        if (v != floor(v))
            return dt_usage(L, "bad option 'max_pages': an integer expected");
        cl->conf.max_pages = (long long)v;
    } else if (strcmp(k, "page_size") == 0) {
        opt_number(L, -1, k, 1, 100, &v);
        if (v != floor(v))
            return dt_usage(L, "bad option 'page_size': an integer in 1..100 expected");
        cl->page_size = (int)v;
    } else if (strcmp(k, "prefetch") == 0) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            return dt_usage(L, "bad option 'prefetch': a boolean expected");
        cl->prefetch = lua_toboolean(L, -1);
    } else if (strcmp(k, "concurrency") == 0) {
        opt_number(L, -1, k, 1, 16, &v);
        if (v != floor(v))
            return dt_usage(L, "bad option 'concurrency': an integer in 1..16 expected");
        cl->concurrency = (int)v;
    } else if (strcmp(k, "prepare_tls") == 0) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            return dt_usage(L, "bad option 'prepare_tls': a boolean expected");
        cl->prepare_tls = lua_toboolean(L, -1);
    } else {
        return 0;
    }
    return 1;
}

int dt_client_new(lua_State *L)
{
    dt_client *cl;
    if (lua_type(L, 1) != LUA_TTABLE)
        return dt_usage(L, "bad argument 'opts': a table expected, got %s", luaL_typename(L, 1));
    lua_settop(L, 1);
    cl = lua_newuserdata(L, sizeof *cl);
    memset(cl, 0, sizeof *cl);
    cl->log_ref = LUA_NOREF;
    cl->token_ref = LUA_NOREF;
    luaL_getmetatable(L, DT_CLIENT_MT);
    lua_setmetatable(L, -2);
    /* defaults */
    cl->conf.retries = DT_DEFAULT_RETRIES;
    cl->conf.retry_base = DT_DEFAULT_RETRY_BASE;
    cl->conf.retry_max = DT_DEFAULT_RETRY_MAX;
    cl->copts.timeout_ms = (long)(DT_DEFAULT_TIMEOUT * 1000);
    cl->copts.connect_timeout_ms = (long)(DT_DEFAULT_CONNECT_TIMEOUT * 1000);
    cl->copts.max_body = DT_DEFAULT_MAX_BODY;
    cl->copts.max_headers = DT_DEFAULT_MAX_HEADERS;
    cl->page_size = -1;
    cl->conf.max_pages = DT_DEFAULT_MAX_PAGES;
    cl->prefetch = 1;
    cl->concurrency = 1;
    cl->prepare_tls = 1;

    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        const char *k;
        if (lua_type(L, -2) != LUA_TSTRING)
            return dt_usage(L, "bad option: option names are strings");
        k = lua_tostring(L, -2);
        if (!identity_option(L, cl, k) && !tuning_option(L, cl, k))
            return dt_usage(L, "bad option '%s': not a client option", k);
        lua_pop(L, 1);
    }
    if (cl->conf.endpoint == NULL)
        return dt_usage(L, "bad option 'endpoint': required");
    if (cl->conf.key != NULL && (cl->conf.token != NULL || cl->conf.token_refresh))
        return dt_usage(L, "bad option 'token': give key or token, not both");
    if (cl->conf.key == NULL && cl->conf.token == NULL && !cl->conf.token_refresh)
        return dt_usage(L, "bad option 'key': key or token is required");
    if (cl->conf.api_version == NULL) {
        lua_pushliteral(L, DT_DEFAULT_API_VERSION);
        cl->conf.api_version = dup_lua(L, -1);
        lua_pop(L, 1);
    }
    if (cl->conf.user_agent == NULL) {
        lua_pushliteral(L, DT_USER_AGENT);
        cl->conf.user_agent = dup_lua(L, -1);
        lua_pop(L, 1);
    }
    cl->conf.rng = seed();
    cl->pid = (long)getpid();
    /* libcurl's set-up now, not in the first transfer, which may run inside a
     * game's frame; a failure is reported by that transfer */
    (void)dt_curl_global();
    cl->copts.ca_file = cl->ca_file;
    cl->copts.proxy = cl->proxy;
    cl->copts.user_agent = cl->conf.user_agent;
    /* OpenSSL's set-up and the CA store too, for the same reason: the first
     * handshake then costs a frame about what the next ones do (dt_curl.h) */
    if (cl->prepare_tls && strncmp(cl->conf.endpoint, "https:", 6) == 0) {
        cl->multi = dt_multi_new(); /* NULL: made again by the first transfer */
        (void)dt_multi_warm_tls(cl->multi, &cl->copts);
    }
    return 1;
}

/* c:retry_max() -> the longest wait the client makes (seconds): the Lua wait
 * loops cap the service's Retry-After with it too */
static int client_retry_max(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    lua_pushnumber(L, cl->conf.retry_max);
    return 1;
}

/* c:stats() -> {requests =, connections =} of the libcurl driver */
static int client_stats(lua_State *L)
{
    dt_client *cl = luaL_checkudata(L, 1, DT_CLIENT_MT);
    lua_createtable(L, 0, 3);
    /* every transfer of the client runs in its multi handle once it exists */
    dt_pushint64(L, cl->multi ? cl->multi->requests : 0);
    lua_setfield(L, -2, "requests");
    dt_pushint64(L, cl->multi ? cl->multi->connects : 0);
    lua_setfield(L, -2, "connections");
    dt_pushint64(L, cl->multi ? cl->multi->running : 0);
    lua_setfield(L, -2, "transfers"); /* in flight now */
    return 1;
}

static int client_tostring(lua_State *L)
{
    dt_client *cl = luaL_checkudata(L, 1, DT_CLIENT_MT);
    if (cl->conf.endpoint == NULL) {
        lua_pushliteral(L, "doctranslate.Client: closed");
        return 1;
    }
    lua_pushfstring(L, "doctranslate.Client: %s (api %s, %s auth%s)%s", cl->conf.endpoint,
                    cl->conf.api_version, cl->conf.key ? "key" : "token",
                    cl->conf.region ? ", regional" : "",
                    cl->copts.insecure ? " INSECURE: TLS certificates are not verified" : "");
    if (cl->closed) {
        lua_pushliteral(L, " (closed)");
        lua_concat(L, 2);
    }
    return 1;
}


/* ------------------------------------------------------------- tokens */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Stores a new token (copied) and when it expires (epoch seconds, 0 unknown). */
static void set_token(dt_client *cl, const char *token, size_t len, double expires)
{
    char *copy = malloc(len + 1), *old = cl->conf.token;
    double now = wall_now(), margin;
    if (copy == NULL)
        return;
    memcpy(copy, token, len + 1);
    if (old != NULL) {
        memset(old, 0, strlen(old));
        free(old);
    }
    cl->conf.token = copy;
    cl->conf.token_stale = 0;
    cl->conf.token_expires = expires;
    /* a tenth of the lifetime, at most a minute, fetched early */
    margin = expires > now ? (expires - now) / 10 : 0;
    cl->conf.token_margin = margin > 60 ? 60 : margin;
}

/* Calls the token function when the token is due. Returns 0, or -1 with a
 * message in why (the function failed or gave no token). */
static int refresh_token(lua_State *L, dt_client *cl, char *why, size_t whysize, int *misuse)
{
    const char *tok;
    size_t len;
    double expires = 0;
    int top = lua_gettop(L), st;
    if (!dt_conf_token_due(&cl->conf, wall_now()) || cl->token_ref == LUA_NOREF)
        return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, cl->token_ref);
    st = lua_pcall(L, 0, 2, 0);
    if (st != 0) {
        const char *m = lua_tostring(L, -1);
        char *clean = dt_scrub(&cl->conf, m ? m : "(an error value)");
        snprintf(why, whysize, "the token function failed: %s", clean ? clean : "?");
        free(clean);
        lua_settop(L, top);
        return -1;
    }
    if (lua_type(L, top + 1) != LUA_TSTRING || dt_rawlen(L, top + 1) == 0) {
        const char *m = lua_tostring(L, top + 2);
        char *clean = m ? dt_scrub(&cl->conf, m) : NULL; /* the secrets out before the cut */
        snprintf(why, whysize, "the token function gave no token%s%s", m ? ": " : "",
                 clean ? clean : m ? "?" : "");
        free(clean);
        lua_settop(L, top);
        return -1;
    }
    /* a token that cannot be sent as it is: the caller's function is wrong. Said,
     * not raised: this runs inside a runner (libcurl's frames may be below). */
    tok = lua_tolstring(L, top + 1, &len);
    if (dt_header_value_why(tok, len) != NULL) {
        snprintf(why, whysize, "the token function's token: %s", dt_header_value_why(tok, len));
        *misuse = 1;
        lua_settop(L, top);
        return -1;
    }
    if (lua_type(L, top + 2) == LUA_TNUMBER)
        expires = lua_tonumber(L, top + 2);
    set_token(cl, tok, len, expires);
    lua_settop(L, top);
    dt_log(L, cl, "debug", "new bearer token%s", expires > 0 ? " (with an expiry)" : "");
    return 0;
}

int dt_auth_ready(lua_State *L, dt_client *cl, dt_op *op)
{
    char why[512];
    int misuse = 0;
    if (cl == NULL || refresh_token(L, cl, why, sizeof why, &misuse) == 0)
        return 1;
    /* a usage error ends the op; its runner raises it once it has returned */
    dt_op_feed_error(op, misuse ? DT_ERR_USAGE : DT_ERR_NETWORK, why);
    return 0;
}

int dt_auth_ready_ref(lua_State *L, int client_ref, dt_op *op)
{
    dt_client *cl = dt_client_from_ref(L, client_ref);
    int ok = dt_auth_ready(L, cl, op);
    lua_pop(L, 1);
    return ok;
}

/* c:set_token(token, expires_at): for drivers that fetch tokens themselves
 * (a token function that must yield, under OpenResty). */
static int client_set_token(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    size_t len;
    const char *tok;
    if (lua_type(L, 2) != LUA_TSTRING || dt_rawlen(L, 2) == 0)
        return dt_usage(L, "bad argument 'token': a non-empty string expected");
    dt_check_header_value(L, 2, "bad argument 'token'");
    tok = lua_tolstring(L, 2, &len);
    if (!lua_isnoneornil(L, 3) && lua_type(L, 3) != LUA_TNUMBER)
        return dt_usage(L, "bad argument 'expires_at': an epoch number expected");
    if (cl->conf.key != NULL)
        return dt_usage(L, "bad argument 'token': the client uses a key");
    set_token(cl, tok, len, lua_isnoneornil(L, 3) ? 0 : lua_tonumber(L, 3));
    return 0;
}

/* c:token_due() -> whether the next request needs a new token */
static int client_token_due(lua_State *L)
{
    dt_client *cl = dt_check_client(L, 1);
    lua_pushboolean(L, dt_conf_token_due(&cl->conf, wall_now()));
    return 1;
}

/* ---------------------------------------------------------- log lines */

/* The log lines of every runner (the pump's events here, a Lua transport's
 * requests in lua_pages.c): one wording for each. */
void dt_log_response(lua_State *L, dt_client *cl, const char *method, const char *url, long status,
                     double seconds, int prefetched)
{
    char *red;
    if (cl->log_ref == LUA_NOREF || cl->log_ref == LUA_REFNIL)
        return;
    red = dt_url_redact(url ? url : "");
    if (status > 0)
        dt_log(L, cl, "debug", "%s %s -> %ld (%.1f ms%s)", method, red ? red : "?", status,
               seconds * 1000.0, prefetched ? ", prefetched" : "");
    else
        dt_log(L, cl, "debug", "%s %s -> no response (%.1f ms%s)", method, red ? red : "?",
               seconds * 1000.0, prefetched ? ", prefetched" : "");
    free(red);
}

void dt_log_retry(lua_State *L, dt_client *cl, const dt_op *op)
{
    dt_log(L, cl, "warn", "retry %d of %d in %.3f s (x-ms-client-request-id %s)", op->attempt,
           cl->conf.retries, op->wait, op->client_id);
}

void dt_log_failure(lua_State *L, dt_client *cl, const dt_op *op)
{
    dt_log(L, cl, "debug", "%s error: %s", dt_err_kind_name(op->err.kind),
           op->err.message ? op->err.message : "");
}

void dt_client_open(lua_State *L)
{
    static const luaL_Reg methods[] = {{"stats", client_stats},         {"close", client_close},
                                       {"set_token", client_set_token}, {"token_due", client_token_due},
                                       {"retry_max", client_retry_max}, {NULL, NULL}};
    dt_class_new(L, DT_CLIENT_MT, methods);
    lua_pop(L, 1);
    dt_class_ends(L, client_gc, client_close, client_tostring);
    lua_pop(L, 1);
}
