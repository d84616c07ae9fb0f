#include "dt_conf.h"
#include "dt_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include "dt_page.h"

uint64_t dt_conf_random(dt_conf *c)
{
    uint64_t x = c->rng ? c->rng : 0x9E3779B97F4A7C15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int dt_conf_max_depth(const dt_conf *c)
{
    return c->max_depth > 0 ? c->max_depth : DT_PAGE_MAX_DEPTH;
}

size_t dt_conf_max_string(const dt_conf *c)
{
    return c->max_string > 0 ? c->max_string : DT_PAGE_MAX_STRING;
}

int dt_conf_token_due(const dt_conf *c, double now)
{
    if (!c->token_refresh)
        return 0;
    if (c->token == NULL || c->token_stale)
        return 1;
    return c->token_expires > 0 && now + c->token_margin >= c->token_expires;
}

char *dt_conf_message(const dt_conf *c, size_t max, const char *fmt, va_list ap)
{
    char small[512], *msg = small, *clean;
    const char *secrets[2];
    va_list again;
    int n;
    va_copy(again, ap);
    n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small && (msg = malloc((size_t)n + 1)) != NULL)
        vsnprintf(msg, (size_t)n + 1, fmt, again);
    else if (msg == NULL)
        msg = small;
    va_end(again);
    secrets[0] = c->key;
    secrets[1] = c->token;
    clean = dt_redact(msg, secrets, 2);
    if (clean != NULL)
        dt_cut(clean, max);
    if (msg != small)
        free(msg);
    return clean;
}
