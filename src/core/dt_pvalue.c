/* Reading the values of a read page: members by name, spans inside a
 * value, strings decoded, integers exact. The reader (dt_page.c) has
 * validated the text, so nothing here checks it again. */
#include "dt_page.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *dt_page_decode(const char *s, size_t n, int cut, char *local, size_t localsz, size_t *m)
{
    char *buf = n <= localsz ? local : malloc(n > 0 ? n : 1);
    if (buf == NULL)
        return NULL;
    *m = dt_page_unescape(s, n, buf);
    if (cut) {
        const char *z = memchr(buf, '\0', *m);
        if (z != NULL)
            *m = (size_t)(z - buf);
    }
    return buf;
}

int dt_page_key_is(const char *body, const dt_span *key, const char *name, size_t nlen)
{
    char local[64], *buf;
    size_t n;
    int eq;
    if (!(key->flags & DT_JF_ESC))
        return key->len == nlen && memcmp(body + key->off, name, nlen) == 0;
    buf = dt_page_decode(body + key->off, key->len, 1, local, sizeof local, &n);
    if (buf == NULL)
        return 0;
    eq = n == nlen && memcmp(buf, name, nlen) == 0;
    if (buf != local)
        free(buf);
    return eq;
}

const dt_pmember *dt_page_member(const dt_page *p, size_t i, const char *name, size_t nlen)
{
    const dt_pmember *ms;
    size_t k;
    if (i < p->nitems) {
        const dt_pitem *it = &p->items[i];
        if (it->span.type != DT_J_OBJECT)
            return NULL;
        ms = p->members + it->first;
        k = it->n;
    } else if (i == DT_PAGE_ROOT && p->root_type == DT_J_OBJECT) {
        ms = p->rmembers;
        k = p->nrmembers;
    } else {
        return NULL;
    }
    while (k-- > 0) {
        const dt_pmember *m = &ms[k];
        if (!(m->key.flags & DT_JF_ESC)) {
            if (m->key.len == nlen && (nlen == 0 || (p->body[m->key.off] == name[0] &&
                                                     memcmp(p->body + m->key.off, name, nlen) == 0)))
                return m;
        } else if (dt_page_key_is(p->body, &m->key, name, nlen)) {
            return m;
        }
    }
    return NULL;
}

const dt_span *dt_page_elem(const dt_page *p, size_t i)
{
    if (i == DT_PAGE_ROOT)
        return &p->root;
    return i < p->nitems ? &p->items[i].span : NULL;
}

/* ---- walking text the reader validated (no checks needed) ---- */

static size_t vskip_ws(const char *s, size_t p)
{
    while (s[p] == ' ' || s[p] == '\n' || s[p] == '\r' || s[p] == '\t')
        p++;
    return p;
}

/* The value at s[p] (not whitespace) into *out; returns where it ends. */
static size_t scan_value(const char *s, size_t p, dt_span *out)
{
    size_t q = p;
    out->flags = 0;
    switch (s[p]) {
    case '"':
        q = p + 1;
        while (s[q] != '"') {
            if (s[q] == '\\') {
                out->flags = DT_JF_ESC;
                q++;
            }
            q++;
        }
        out->type = DT_J_STRING;
        out->off = (uint32_t)(p + 1);
        out->len = (uint32_t)(q - p - 1);
        return q + 1;
    case '{':
    case '[': {
        int depth = 0;
        for (;;) {
            char c = s[q++];
            if (c == '"') {
                while (s[q] != '"')
                    q += s[q] == '\\' ? 2 : 1;
                q++;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                break;
            }
        }
        out->type = s[p] == '{' ? DT_J_OBJECT : DT_J_ARRAY;
        break;
    }
    case 't':
        out->type = DT_J_TRUE;
        q = p + 4;
        break;
    case 'f':
        out->type = DT_J_FALSE;
        q = p + 5;
        break;
    case 'n':
        out->type = DT_J_NULL;
        q = p + 4;
        break;
    default:
        while ((s[q] >= '0' && s[q] <= '9') || s[q] == '-' || s[q] == '+' || s[q] == '.' ||
               s[q] == 'e' || s[q] == 'E') {
            if (s[q] == '.' || s[q] == 'e' || s[q] == 'E')
                out->flags = DT_JF_REAL;
            q++;
        }
        out->type = DT_J_NUMBER;
    }
    out->off = (uint32_t)p;
    out->len = (uint32_t)(q - p);
    return q;
}

int dt_page_find(const dt_page *p, const dt_span *obj, const char *name, size_t nlen,
                 dt_span *out)
{
    const char *s = p->body;
    size_t q;
    int found = 0;
    if (obj == NULL || obj->type != DT_J_OBJECT)
        return 0;
    q = vskip_ws(s, obj->off + 1);
    if (s[q] == '}')
        return 0;
    for (;;) {
        dt_span key, val;
        q = scan_value(s, q, &key);
        q = vskip_ws(s, q) + 1; /* the ':' */
        q = scan_value(s, vskip_ws(s, q), &val);
        if (dt_page_key_is(s, &key, name, nlen)) {
            *out = val;
            found = 1;
        }
        q = vskip_ws(s, q);
        if (s[q] == '}')
            return found;
        q = vskip_ws(s, q + 1); /* after the ',' */
    }
}

int dt_page_int(const dt_page *p, const dt_span *v, long long *out)
{
    char buf[32], *end;
    long long x;
    if (v == NULL || v->type != DT_J_NUMBER || (v->flags & DT_JF_REAL) || v->len >= sizeof buf)
        return -1;
    memcpy(buf, p->body + v->off, v->len);
    buf[v->len] = '\0';
    errno = 0;
    x = strtoll(buf, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return -1;
    *out = x;
    return 0;
}

char *dt_page_cstr(const dt_page *p, const dt_span *v)
{
    char *s;
    size_t n;
    if (v == NULL || v->type != DT_J_STRING)
        return NULL;
    s = malloc((size_t)v->len + 1);
    if (s == NULL)
        return NULL;
    if (v->flags & DT_JF_ESC) {
        n = dt_page_unescape(p->body + v->off, v->len, s);
    } else {
        n = v->len;
        memcpy(s, p->body + v->off, n);
    }
    s[n] = '\0';
    return s;
}
