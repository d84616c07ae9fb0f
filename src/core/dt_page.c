#include "dt_page.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* where the reader stands in the page (see the hooks below) */
enum { K_ARR = 0, K_OBJ = 1 };
enum { RK_OTHER = 0, RK_VALUE, RK_NEXT_AT, RK_NEXT };
enum { RD_OK = 0, RD_TRUNC, RD_BAD, RD_OOM };

typedef struct reader {
    const char *s;
    size_t len;
    int max_depth;
    size_t max_string;
    dt_page *pg;
    char *why;
    size_t whysize;
    int root_key;  /* RK_* of the root member being read */
    int in_items;  /* the container of level 2 is the indexed "value" array */
} reader;

static int bad(reader *r, size_t at, const char *what)
{
    snprintf(r->why, r->whysize, "invalid JSON at byte %zu: %s", at, what);
    return RD_BAD;
}

static int truncated(reader *r)
{
    snprintf(r->why, r->whysize, "truncated JSON (%zu bytes)", r->len);
    return RD_TRUNC;
}

static int oom(reader *r)
{
    snprintf(r->why, r->whysize, "out of memory");
    return RD_OOM;
}

static size_t skip_ws(const char *s, size_t pos, size_t len)
{
    while (pos < len) {
        unsigned char c = (unsigned char)s[pos];
        if (c > ' ' || (c != ' ' && c != '\n' && c != '\r' && c != '\t'))
            break;
        pos++;
    }
    return pos;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex4(const char *s)
{
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else
            v |= (unsigned)(c - 'A' + 10);
    }
    return v;
}

/* The first byte at or after p that is a quote, a backslash or a control
 * byte; many bytes at a time (s[len] is a NUL, a control byte). */
static size_t scan_plain(const unsigned char *s, size_t p, size_t len)
{
#ifdef __SSE2__
    while (p + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + p));
        __m128i m = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                         _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
            _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F)));
        int mask = _mm_movemask_epi8(m);
        if (mask != 0)
            return p + (size_t)__builtin_ctz((unsigned)mask);
        p += 16;
    }
#else
    while (p + 8 <= len) {
        uint64_t w, q, b, hit;
        memcpy(&w, s + p, 8);
        q = w ^ 0x2222222222222222ULL;
        b = w ^ 0x5C5C5C5C5C5C5C5CULL;
        hit = (((q - 0x0101010101010101ULL) & ~q) | ((b - 0x0101010101010101ULL) & ~b) |
               ((w - 0x2020202020202020ULL) & ~w)) & 0x8080808080808080ULL;
        if (hit)
            break; /* the byte loop below finds which */
        p += 8;
    }
#endif
    while (s[p] >= 0x20 && s[p] != '"' && s[p] != '\\')
        p++;
    return p;
}

/* The rest of a string from p, a backslash or a control byte (or the end):
 * *pp ends at the closing quote. */
static int string_rest(reader *r, size_t *pp, uint8_t *flags)
{
    const unsigned char *s = (const unsigned char *)r->s;
    size_t p = *pp, len = r->len;
    for (;;) {
        unsigned c;
        if (p >= len)
            return truncated(r);
        c = s[p];
        if (c == '"')
            break;
        if (c < 0x20)
            return bad(r, p, "control character in a string");
        /* an escape */
        *flags = DT_JF_ESC;
        if (p + 1 >= len)
            return truncated(r);
        switch (s[p + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            p += 2;
            break;
        case 'u': {
            int k;
            for (k = 2; k < 6; k++) {
                if (p + (size_t)k >= len)
                    return truncated(r);
                if (!is_hex((char)s[p + (size_t)k]))
                    return bad(r, p + (size_t)k, "invalid \\u escape");
            }
            p += 6;
            break;
        }
        default:
            return bad(r, p + 1, "invalid escape in a string");
        }
        p = scan_plain(s, p, len);
    }
    *pp = p;
    return RD_OK;
}

/* A string whose opening quote is at *pos: *pos ends after the closing one. */
static int read_string(reader *r, size_t *pos, dt_span *out)
{
    const unsigned char *s = (const unsigned char *)r->s;
    size_t start = *pos + 1, p = scan_plain(s, start, r->len);
    uint8_t flags = 0;
    int rc;
    if ((s[p] != '"' || p >= r->len) && (rc = string_rest(r, &p, &flags)) != RD_OK)
        return rc;
    if (p - start > r->max_string) {
        snprintf(r->why, r->whysize,
                 "a JSON string longer than max_string (%zu bytes) at byte %zu", r->max_string,
                 start - 1);
        return RD_BAD;
    }
    out->off = (uint32_t)start;
    out->len = (uint32_t)(p - start);
    out->type = DT_J_STRING;
    out->flags = flags;
    *pos = p + 1;
    return RD_OK;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int read_number(reader *r, size_t *pos, dt_span *out, int at_root)
{
    const char *s = r->s;
    size_t p = *pos, len = r->len;
    uint8_t flags = 0;
    if (s[p] == '-')
        p++;
    if (p >= len)
        return truncated(r);
    if (s[p] == '0') {
        p++;
    } else if (s[p] >= '1' && s[p] <= '9') {
        while (p < len && is_digit(s[p]))
            p++;
    } else {
        return bad(r, p, "number expected");
    }
    if (p < len && s[p] == '.') {
        flags = DT_JF_REAL;
        if (++p >= len)
            return truncated(r);
        if (!is_digit(s[p]))
            return bad(r, p, "digit expected after '.'");
        while (p < len && is_digit(s[p]))
            p++;
    }
    if (p < len && (s[p] == 'e' || s[p] == 'E')) {
        flags = DT_JF_REAL;
        if (++p < len && (s[p] == '+' || s[p] == '-'))
            p++;
        if (p >= len)
            return truncated(r);
        if (!is_digit(s[p]))
            return bad(r, p, "digit expected in the exponent");
        while (p < len && is_digit(s[p]))
            p++;
    }
    /* a number that ends the body could go on: a bare number is incomplete */
    if (at_root && p >= len)
        return truncated(r);
    out->off = (uint32_t)*pos;
    out->len = (uint32_t)(p - *pos);
    out->type = DT_J_NUMBER;
    out->flags = flags;
    *pos = p;
    return RD_OK;
}

static int read_literal(reader *r, size_t *pos, const char *word, size_t wlen, dt_span *out,
                        uint8_t type, int at_root)
{
    size_t i;
    for (i = 0; i < wlen; i++) {
        if (*pos + i >= r->len)
            return truncated(r);
        if (r->s[*pos + i] != word[i])
            return bad(r, *pos + i, "unexpected character");
    }
    /* a bare literal that ends the body is read as incomplete, as a number is */
    if (at_root && *pos + wlen >= r->len)
        return truncated(r);
    out->off = (uint32_t)*pos;
    out->len = (uint32_t)wlen;
    out->type = type;
    out->flags = 0;
    *pos += wlen;
    return RD_OK;
}

static int grow(void **arr, size_t *cap, size_t elem)
{
    size_t n = *cap ? *cap * 2 : 64;
    void *a = realloc(*arr, n * elem);
    if (a == NULL)
        return -1;
    *arr = a;
    *cap = n;
    return 0;
}

/* ---- the index, kept by hooks called at the levels it covers ---- */

/* A value of level 3 (an element of the indexed array) begins at off. */
static int item_begin(reader *r, size_t off)
{
    dt_page *pg = r->pg;
    dt_pitem *it;
    if (pg->nitems == pg->items_cap &&
        grow((void **)&pg->items, &pg->items_cap, sizeof *pg->items) != 0)
        return oom(r);
    it = &pg->items[pg->nitems];
    it->span.off = (uint32_t)off;
    it->first = (uint32_t)pg->nmembers;
    it->n = 0;
    return RD_OK;
}

/* A member name at depth d (containers open) was read. */
static int key_read(reader *r, int d, const unsigned char *kinds, const dt_span *key)
{
    dt_page *pg = r->pg;
    if (d == 1) {
        if (pg->nrmembers == pg->rmembers_cap &&
            grow((void **)&pg->rmembers, &pg->rmembers_cap, sizeof *pg->rmembers) != 0)
            return oom(r);
        pg->rmembers[pg->nrmembers].key = *key;
        if (dt_page_key_is(r->s, key, "value", 5)) {
            r->root_key = RK_VALUE;
            pg->nitems = pg->nmembers = 0; /* a later "value" replaces an earlier one */
        } else if (dt_page_key_is(r->s, key, "@nextLink", 9)) {
            r->root_key = RK_NEXT_AT;
        } else if (dt_page_key_is(r->s, key, "nextLink", 8)) {
            r->root_key = RK_NEXT;
        } else {
            r->root_key = RK_OTHER;
        }
    } else if (d == 3 && r->in_items && kinds[2] == K_OBJ) {
        if (pg->nmembers == pg->members_cap &&
            grow((void **)&pg->members, &pg->members_cap, sizeof *pg->members) != 0)
            return oom(r);
        pg->members[pg->nmembers].key = *key;
    }
    return RD_OK;
}

/* A value of level lv (the root is 1) ended; sp is its span. kinds: the
 * containers open around it. */
static void value_done(reader *r, int lv, const unsigned char *kinds, const dt_span *sp)
{
    dt_page *pg = r->pg;
    /* the members of a page's documents first: most values of a page are those */
    if (lv == 4) {
        if (r->in_items && kinds[2] == K_OBJ) {
            pg->members[pg->nmembers].val = *sp;
            pg->nmembers++;
        }
    } else if (lv == 3) {
        if (r->in_items) {
            dt_pitem *it = &pg->items[pg->nitems];
            uint32_t first = it->first;
            it->span = *sp;
            it->first = first;
            it->n = (uint32_t)(pg->nmembers - first);
            pg->nitems++;
        }
    } else if (lv == 2) {
        if (kinds[0] != K_OBJ)
            return;
        pg->rmembers[pg->nrmembers++].val = *sp;
        if (r->root_key == RK_VALUE) {
            pg->value_type = sp->type;
            if (sp->type != DT_J_ARRAY)
                pg->nitems = pg->nmembers = 0;
        } else if (r->root_key == RK_NEXT_AT || r->root_key == RK_NEXT) {
            int k = r->root_key == RK_NEXT_AT ? 0 : 1;
            pg->link[k] = *sp;
            pg->has_link[k] = 1;
        }
    } else if (lv == 1) {
        pg->root_type = sp->type;
        pg->root = *sp;
    }
}

static int read_page(reader *r)
{
    const char *s = r->s;
    size_t len = r->len, pos;
    unsigned char kinds_local[DT_PAGE_MAX_DEPTH];
    uint32_t starts_local[DT_PAGE_MAX_DEPTH];
    unsigned char *kinds = kinds_local;
    uint32_t *starts = starts_local;
    int d = 0, rc = RD_OK;
    dt_span sp;

    if (r->max_depth > DT_PAGE_MAX_DEPTH) {
        kinds = malloc((size_t)r->max_depth);
        starts = malloc((size_t)r->max_depth * sizeof *starts);
        if (kinds == NULL || starts == NULL) {
            rc = oom(r);
            goto out;
        }
    }
    pos = skip_ws(s, 0, len);
    if (pos >= len) {
        rc = truncated(r);
        goto out;
    }

value: /* pos < len: the first character of a value of level d + 1 */
    if (s[pos] == '\0') {
        rc = bad(r, pos, "NUL byte");
        goto out;
    }
    if (d + 1 > r->max_depth) {
        snprintf(r->why, r->whysize, "JSON nesting deeper than max_depth (%d) at byte %zu",
                 r->max_depth, pos);
        rc = RD_BAD;
        goto out;
    }
    if (d == 2 && r->in_items && (rc = item_begin(r, pos)) != RD_OK)
        goto out;
    switch (s[pos]) {
    case '{':
    case '[':
        kinds[d] = s[pos] == '{' ? K_OBJ : K_ARR;
        starts[d] = (uint32_t)pos;
        if (d == 1 && kinds[0] == K_OBJ && r->root_key == RK_VALUE && kinds[1] == K_ARR)
            r->in_items = 1;
        d++;
        pos = skip_ws(s, pos + 1, len);
        if (pos >= len) {
            rc = truncated(r);
            goto out;
        }
        if (s[pos] == (kinds[d - 1] == K_OBJ ? '}' : ']'))
            goto close;
        if (kinds[d - 1] == K_OBJ)
            goto key;
        goto value;
    case '"':
        rc = read_string(r, &pos, &sp);
        break;
    case 't':
        rc = read_literal(r, &pos, "true", 4, &sp, DT_J_TRUE, d == 0);
        break;
    case 'f':
        rc = read_literal(r, &pos, "false", 5, &sp, DT_J_FALSE, d == 0);
        break;
    case 'n':
        rc = read_literal(r, &pos, "null", 4, &sp, DT_J_NULL, d == 0);
        break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        rc = read_number(r, &pos, &sp, d == 0);
        break;
    default:
        rc = bad(r, pos, "unexpected character");
    }
    if (rc != RD_OK)
        goto out;
    value_done(r, d + 1, kinds, &sp);
    goto after;

key: /* pos < len: a member name is due */
    if (s[pos] != '"') {
        rc = bad(r, pos, "a quoted member name expected");
        goto out;
    }
    if ((rc = read_string(r, &pos, &sp)) != RD_OK || (rc = key_read(r, d, kinds, &sp)) != RD_OK)
        goto out;
    pos = skip_ws(s, pos, len);
    if (pos >= len) {
        rc = truncated(r);
        goto out;
    }
    if (s[pos] != ':') {
        rc = bad(r, pos, "':' expected after a member name");
        goto out;
    }
    pos = skip_ws(s, pos + 1, len);
    if (pos >= len) {
        rc = truncated(r);
        goto out;
    }
    goto value;

after: /* a value ended at pos */
    if (d == 0)
        goto finish;
    pos = skip_ws(s, pos, len);
    if (pos >= len) {
        rc = truncated(r);
        goto out;
    }
    if (s[pos] == ',') {
        pos = skip_ws(s, pos + 1, len);
        if (pos >= len) {
            rc = truncated(r);
            goto out;
        }
        if (kinds[d - 1] == K_OBJ)
            goto key;
        goto value;
    }
    if (s[pos] != (kinds[d - 1] == K_OBJ ? '}' : ']')) {
        rc = bad(r, pos, kinds[d - 1] == K_OBJ ? "',' or '}' expected" : "',' or ']' expected");
        goto out;
    }
    /* fall through */

close: /* s[pos] closes the container of depth d */
    d--;
    sp.off = starts[d];
    sp.len = (uint32_t)(pos + 1 - starts[d]);
    sp.type = kinds[d] == K_OBJ ? DT_J_OBJECT : DT_J_ARRAY;
    sp.flags = 0;
    pos++;
    value_done(r, d + 1, kinds, &sp);
    if (d == 1)
        r->in_items = 0;
    goto after;

finish:
    pos = skip_ws(s, pos, len);
    if (pos < len) {
        snprintf(r->why, r->whysize, "trailing data after JSON at byte %zu", pos);
        rc = RD_BAD;
    }
out:
    if (kinds != kinds_local)
        free(kinds);
    if (starts != starts_local)
        free(starts);
    return rc;
}

dt_page *dt_page_parse_owned(char *body, size_t len, int max_depth, size_t max_string,
                             char *why, size_t whysize)
{
    reader r;
    dt_page *pg;
    if (body == NULL || len == 0) {
        free(body);
        snprintf(why, whysize, "empty body");
        return NULL;
    }
    if (len >= UINT32_MAX) {
        free(body);
        snprintf(why, whysize, "body too large to parse");
        return NULL;
    }
    if (max_depth < 1)
        max_depth = 1;
    if (max_depth > DT_PAGE_DEPTH_LIMIT)
        max_depth = DT_PAGE_DEPTH_LIMIT;
    pg = calloc(1, sizeof *pg);
    if (pg == NULL) {
        free(body);
        snprintf(why, whysize, "out of memory");
        return NULL;
    }
    pg->body = body;
    pg->len = len;
    pg->refs = 1;
    pg->value_type = -1;
    /* room for a page of status objects at once (about 40 bytes a member,
     * 400 an element), so the arrays rarely grow */
    pg->items_cap = len / 256 + 16;
    pg->members_cap = len / 32 + 16;
    pg->items = malloc(pg->items_cap * sizeof *pg->items);
    pg->members = malloc(pg->members_cap * sizeof *pg->members);
    if (pg->items == NULL || pg->members == NULL) {
        dt_page_unref(pg);
        snprintf(why, whysize, "out of memory");
        return NULL;
    }
    memset(&r, 0, sizeof r);
    r.s = pg->body;
    r.len = len;
    r.max_depth = max_depth;
    r.max_string = max_string;
    r.pg = pg;
    r.why = why;
    r.whysize = whysize;
    if (read_page(&r) != RD_OK) {
        dt_page_unref(pg);
        return NULL;
    }
    if (pg->value_type != DT_J_ARRAY)
        pg->nitems = pg->nmembers = 0;
    return pg;
}

dt_page *dt_page_parse(const char *body, size_t len, int max_depth, size_t max_string,
                       char *why, size_t whysize)
{
    char *copy;
    if (body == NULL || len == 0) {
        snprintf(why, whysize, "empty body");
        return NULL;
    }
    if (len >= UINT32_MAX) {
        snprintf(why, whysize, "body too large to parse");
        return NULL;
    }
    copy = malloc(len + 1);
    if (copy == NULL) {
        snprintf(why, whysize, "out of memory");
        return NULL;
    }
    memcpy(copy, body, len);
    copy[len] = '\0';
    return dt_page_parse_owned(copy, len, max_depth, max_string, why, whysize);
}

dt_page *dt_page_ref(dt_page *p)
{
    if (p != NULL)
        p->refs++;
    return p;
}

void dt_page_unref(dt_page *p)
{
    if (p == NULL || --p->refs > 0)
        return;
    free(p->body);
    free(p->items);
    free(p->members);
    free(p->rmembers);
    free(p);
}

static size_t put_utf8(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t dt_page_unescape(const char *s, size_t n, char *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned cp;
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        switch (s[i + 1]) {
        case 'b': out[o++] = '\b'; i += 2; continue;
        case 'f': out[o++] = '\f'; i += 2; continue;
        case 'n': out[o++] = '\n'; i += 2; continue;
        case 'r': out[o++] = '\r'; i += 2; continue;
        case 't': out[o++] = '\t'; i += 2; continue;
        case 'u': break;
        default: out[o++] = s[i + 1]; i += 2; continue; /* " \ / */
        }
        cp = hex4(s + i + 2);
        i += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' &&
                (lo = hex4(s + i + 2)) >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else {
                cp = 0xFFFD;
            }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        o += put_utf8(cp, out + o);
    }
    return o;
}
