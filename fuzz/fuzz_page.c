/* libFuzzer harness: the one-pass reader of listing pages (src/dt_page.c),
 * checked against json-c (the parser of every other body) differentially.
 *
 * An input is a response body (a recording is an input). A body whose root
 * is not an object or an array is no page for either reader: it is read
 * (sanitizers) but not compared. It is read twice
 * with each reader: at the default depth cap (64) and at a small cap that
 * the input's length picks (2..9), so the depth boundary is compared too.
 *
 * Properties, beyond "no sanitizer report":
 * - a body the page reader accepts, json-c accepts;
 * - a body json-c accepts and the page reader rejects holds, at the byte the
 *   page reader names, a construct outside RFC 8259 that json-c lets through
 *   (a control byte in a string, a single-quoted member name, NaN/Infinity, a
 *   leading zero, a '.' with no digit before or after it); nothing else;
 * - when both reject, both say "truncated" or neither does (but for a bad
 *   number that runs to the end of the body, which json-c has not judged
 *   yet), and a depth error is a depth error on both sides;
 * - for an accepted page: the root's type, the "value" array (present, its
 *   length), each element's type and, for an object element, every member
 *   json-c keeps (same name lookup, the last of a repeated name, names cut
 *   at a NUL), with the same type and value (strings byte for byte after
 *   unescaping, integers as int64, doubles bit for bit), and the next links
 *   ("@nextLink", "nextLink": present, type, text).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_json.h"
#include "dt_page.h"
#include "fuzz_common.h"

static int is_truncated(const char *why)
{
    return strncmp(why, "truncated JSON", 14) == 0;
}

static int is_depth(const char *why)
{
    return strstr(why, "max_depth") != NULL;
}

/* The byte the page reader's message names ("... at byte N..."), or -1. */
static long named_byte(const char *why)
{
    const char *at = strstr(why, "at byte ");
    return at ? strtol(at + 8, NULL, 10) : -1;
}

/* Whether body[n] starts a construct json-c's STRICT mode accepts and RFC
 * 8259 does not. */
static int lax_construct(const uint8_t *b, size_t len, long n)
{
    size_t i;
    if (n < 0 || (size_t)n >= len)
        return 0;
    i = (size_t)n;
    if (b[i] < 0x20 && b[i] != 0)
        return 1; /* a control byte in a string */
    if (b[i] == '\'' || b[i] == 'N' || b[i] == 'I')
        return 1; /* 'name', NaN, Infinity, -Infinity */
    if (i > 0 && b[i - 1] == '0' && b[i] >= '0' && b[i] <= '9')
        return 1; /* a leading zero */
    if (i > 0 && b[i - 1] == '.')
        return 1; /* "1." and "1.e5" */
    if (b[i] == '.')
        return 1; /* "-.5" */
    return 0;
}

/* Whether the page reader's error at byte n lies in a number that runs to
 * the end of the body: json-c judges a number only once it ends, so it
 * calls such a body truncated where the page reader already sees the bad
 * character ("[-.", "-."). */
static int number_to_end(const uint8_t *b, size_t len, long n)
{
    size_t i;
    if (n < 0 || (size_t)n >= len)
        return 0;
    for (i = (size_t)n; i < len; i++)
        if (!((b[i] >= '0' && b[i] <= '9') || b[i] == '-' || b[i] == '+' || b[i] == '.' ||
              b[i] == 'e' || b[i] == 'E'))
            return 0;
    return 1;
}

static char *span_str(const dt_page *pg, const dt_span *v, size_t *n)
{
    char *s = malloc((size_t)v->len + 1);
    if (s == NULL)
        abort();
    if (v->flags & DT_JF_ESC) {
        *n = dt_page_unescape(pg->body + v->off, v->len, s);
    } else {
        memcpy(s, pg->body + v->off, v->len);
        *n = v->len;
    }
    s[*n] = '\0';
    return s;
}

static int jtype_of(struct json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_null: return DT_J_NULL;
    case json_type_boolean: return json_object_get_boolean(o) ? DT_J_TRUE : DT_J_FALSE;
    case json_type_double:
    case json_type_int: return DT_J_NUMBER;
    case json_type_string: return DT_J_STRING;
    case json_type_array: return DT_J_ARRAY;
    default: return DT_J_OBJECT;
    }
}

/* A value of the page against json-c's value of the same text. */
static void same_value(const dt_page *pg, const dt_span *v, struct json_object *o, const char *what)
{
    int t = jtype_of(o);
    FUZZ_CHECK(v->type == t, "%s: type %d, json-c %d", what, v->type, t);
    if (t == DT_J_STRING) {
        size_t n;
        char *s = span_str(pg, v, &n);
        FUZZ_CHECK(n == (size_t)json_object_get_string_len(o) &&
                       memcmp(s, json_object_get_string(o), n) == 0,
                   "%s: string %s, json-c %s", what, s, json_object_get_string(o));
        free(s);
    } else if (t == DT_J_NUMBER) {
        char buf[4096];
        FUZZ_CHECK(json_object_is_type(o, (v->flags & DT_JF_REAL) ? json_type_double : json_type_int),
                   "%s: integer or not differs", what);
        if (v->len < sizeof buf) {
            memcpy(buf, pg->body + v->off, v->len);
            buf[v->len] = '\0';
            if (v->flags & DT_JF_REAL) {
                double a = strtod(buf, NULL), b = json_object_get_double(o);
                FUZZ_CHECK(memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)),
                           "%s: %s reads %.17g, json-c %.17g", what, buf, a, b);
            } else {
                long long a = strtoll(buf, NULL, 10);
                FUZZ_CHECK(a == (long long)json_object_get_int64(o), "%s: %s reads %lld, json-c %lld",
                           what, buf, a, (long long)json_object_get_int64(o));
            }
        }
    }
}

static void compare_pages(const dt_page *pg, struct json_object *root)
{
    static const char *const links[2] = {"@nextLink", "nextLink"};
    struct json_object *value;
    size_t i;
    int k;
    FUZZ_CHECK(pg->root_type == jtype_of(root), "root type %d, json-c %d", pg->root_type,
               jtype_of(root));
    if (pg->root_type != DT_J_OBJECT)
        return;
    value = NULL;
    if (!json_object_object_get_ex(root, "value", &value)) {
        FUZZ_CHECK(pg->value_type == -1, "a \"value\" json-c does not see");
    } else {
        FUZZ_CHECK(pg->value_type == jtype_of(value), "\"value\" type %d, json-c %d",
                   pg->value_type, jtype_of(value));
    }
    for (k = 0; k < 2; k++) {
        struct json_object *l = NULL;
        int has = json_object_object_get_ex(root, links[k], &l);
        FUZZ_CHECK(has == pg->has_link[k], "%s present %d, json-c %d", links[k], pg->has_link[k],
                   has);
        if (has)
            same_value(pg, &pg->link[k], l, links[k]);
    }
    if (pg->value_type != DT_J_ARRAY) {
        FUZZ_CHECK(pg->nitems == 0, "items without a \"value\" array");
        return;
    }
    FUZZ_CHECK(pg->nitems == json_object_array_length(value), "%zu items, json-c %zu", pg->nitems,
               json_object_array_length(value));
    for (i = 0; i < pg->nitems; i++) {
        struct json_object *item = json_object_array_get_idx(value, i);
        const dt_pitem *it = &pg->items[i];
        FUZZ_CHECK(it->span.type == jtype_of(item), "item %zu: type %d, json-c %d", i,
                   it->span.type, jtype_of(item));
        if (it->span.type == DT_J_OBJECT) {
            struct json_object_iterator a = json_object_iter_begin(item),
                                        z = json_object_iter_end(item);
            size_t members = 0;
            for (; !json_object_iter_equal(&a, &z); json_object_iter_next(&a)) {
                const char *name = json_object_iter_peek_name(&a);
                const dt_pmember *m = dt_page_member(pg, i, name, strlen(name));
                members++;
                FUZZ_CHECK(m != NULL, "item %zu: member %s not found", i, name);
                same_value(pg, &m->val, json_object_iter_peek_value(&a), name);
            }
            FUZZ_CHECK(it->n >= members, "item %zu: %u members, json-c %zu", i, it->n, members);
        } else {
            FUZZ_CHECK(dt_page_member(pg, i, "id", 2) == NULL, "a member of a non-object");
        }
    }
}

/* Whether the first byte after leading whitespace opens an object or an array. */
static int container_root(const uint8_t *b, size_t len)
{
    size_t i = 0;
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i < len && (b[i] == '{' || b[i] == '[');
}

static void one(const uint8_t *data, size_t size, int depth)
{
    char why_j[256], why_p[256];
    struct json_object *root = dt_json_parse((const char *)data, size, depth, why_j, sizeof why_j);
    dt_page *pg = dt_page_parse((const char *)data, size, depth, SIZE_MAX, why_p, sizeof why_p);
    if (!container_root(data, size)) {
        /* a bare scalar is no page either way (json-c calls some complete ones
         * truncated: it cannot tell "null  " from the start of a longer body) */
    } else if (pg != NULL) {
        FUZZ_CHECK(root != NULL, "the page reader accepts what json-c rejects (%s)", why_j);
        compare_pages(pg, root);
    } else if (root != NULL) {
        FUZZ_CHECK(lax_construct(data, size, named_byte(why_p)),
                   "json-c accepts what the page reader rejects: %s", why_p);
    } else if (!lax_construct(data, size, named_byte(why_p))) {
        FUZZ_CHECK(is_truncated(why_j) == is_truncated(why_p) ||
                       (is_truncated(why_j) && number_to_end(data, size, named_byte(why_p))),
                   "truncated on one side only: json-c %s; page %s", why_j, why_p);
        FUZZ_CHECK(is_depth(why_j) == is_depth(why_p),
                   "a depth error on one side only: json-c %s; page %s", why_j, why_p);
    }
    if (root != NULL)
        json_object_put(root);
    dt_page_unref(pg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* no NUL after the body: both readers must respect size */
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    one(copy, size, DT_PAGE_MAX_DEPTH);
    one(copy, size, 2 + (int)(size % 8));
    free(copy);
    return 0;
}
