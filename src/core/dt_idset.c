#include "dt_idset.h"

#include <stdlib.h>
#include <string.h>

/* A 64-bit hash of s[0..n), eight bytes a step, mixed at the end so that its
 * low bits (the slot of the id set) depend on every byte. */
uint64_t dt_hash_mem(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)n, w;
    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    if (n > 0) {
        w = 0;
        memcpy(&w, s, n);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
    }
    h ^= h >> 32;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    return h;
}

uint64_t dt_hash_str(const char *s)
{
    return dt_hash_mem(s, strlen(s));
}

uint64_t dt_hash_span(const dt_page *pg, const dt_span *v)
{
    char local[256], *buf;
    size_t n;
    uint64_t h;
    if (!(v->flags & DT_JF_ESC))
        return dt_hash_mem(pg->body + v->off, v->len); /* no NUL: control bytes are not allowed */
    buf = dt_page_decode(pg->body + v->off, v->len, 1, local, sizeof local, &n);
    if (buf == NULL)
        return dt_hash_mem(pg->body + v->off, v->len);
    h = dt_hash_mem(buf, n);
    if (buf != local)
        free(buf);
    return h;
}

int dt_hash_in(const uint64_t *set, size_t n, uint64_t h)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (set[i] == h)
            return 1;
    return 0;
}

int dt_idset_has(const dt_idset *s, uint64_t h)
{
    size_t i;
    if (s->set == NULL)
        return 0;
    h = h ? h : 1;
    for (i = (size_t)(h & (s->slots - 1)); s->set[i] != 0; i = (i + 1) & (s->slots - 1))
        if (s->set[i] == h)
            return 1;
    return 0;
}

static void put(uint64_t *set, size_t slots, uint64_t h)
{
    size_t i;
    h = h ? h : 1;
    for (i = (size_t)(h & (slots - 1)); set[i] != 0 && set[i] != h; i = (i + 1) & (slots - 1))
        ;
    set[i] = h;
}

void dt_idset_add(dt_idset *s, uint64_t h)
{
    if ((s->n + 1) * 2 > s->slots) {
        size_t slots = s->slots ? s->slots * 2 : 256, i;
        uint64_t *set;
        if (slots > DT_SEEN_MAX_SLOTS) {
            s->full = 1;
            return;
        }
        set = calloc(slots, sizeof *set);
        if (set == NULL) {
            s->full = 1;
            return;
        }
        for (i = 0; i < s->slots; i++)
            if (s->set[i] != 0)
                put(set, slots, s->set[i]);
        free(s->set);
        s->set = set;
        s->slots = slots;
    }
    if (!dt_idset_has(s, h)) {
        put(s->set, s->slots, h);
        s->n++;
    }
}


void dt_idset_free(dt_idset *s)
{
    free(s->set);
    memset(s, 0, sizeof *s);
}
