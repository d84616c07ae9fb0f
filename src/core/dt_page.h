/* Every response body read in one pass: the whole body is validated as
 * strict JSON (RFC 8259) and a compact index is kept of what is read from
 * it: the root object's own members (a job, a document, an error body), the
 * elements of the root's "value" array (each element's span and, for an
 * object, its top-level members: a listing page) and the next link members.
 * Deeper members are found by walking the validated text (dt_page_find).
 * Nothing is allocated per element: the page holds one copy of the body and
 * arrays that grow by doubling. Documents and jobs share the page by
 * reference. */
#ifndef DT_PAGE_H
#define DT_PAGE_H

#include <stddef.h>
#include <stdint.h>
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

#define DT_PAGE_MAX_DEPTH 64
/* The longest string (raw bytes between the quotes) a page may hold by
 * default: far above anything a status carries (SAS URLs of a few KiB,
 * error messages), low enough that one page cannot make a Lua string of
 * many MiB out of one field. */
#define DT_PAGE_MAX_STRING ((size_t)1 << 20)
/* The largest option values accepted (the reader is not recursive; the
 * value decoder of lua_obj.c is, one frame a level). */
#define DT_PAGE_DEPTH_LIMIT 1000

typedef enum dt_jtype {
    DT_J_NULL = 0, DT_J_FALSE, DT_J_TRUE, DT_J_NUMBER, DT_J_STRING, DT_J_ARRAY, DT_J_OBJECT
} dt_jtype;

/* flags of a value */
#define DT_JF_ESC 1u  /* a string with escapes (decode with dt_page_unescape) */
#define DT_JF_REAL 2u /* a number with a fraction or an exponent */

/* A span of the body: strings are their content between the quotes. */
typedef struct dt_span {
    uint32_t off, len;
    uint8_t type;  /* dt_jtype */
    uint8_t flags; /* DT_JF_* */
} dt_span;

typedef struct dt_pmember {
    dt_span key; /* type DT_J_STRING */
    dt_span val;
} dt_pmember;

typedef struct dt_pitem {
    dt_span span;
    uint32_t first, n; /* members [first, first + n) of an object element */
} dt_pitem;

/* The element index of the root (dt_page_member, dt_page_elem). */
#define DT_PAGE_ROOT ((size_t)-1)

typedef struct dt_page {
    int refs;
    char *body; /* a copy, NUL terminated */
    size_t len;
    int root_type;      /* dt_jtype of the root */
    dt_span root;       /* its span */
    dt_pmember *rmembers; /* the root object's members, in order */
    size_t nrmembers, rmembers_cap;
    int value_type;     /* of the root's "value" member (the last one), -1 absent */
    dt_pitem *items;    /* of that member when it is an array */
    size_t nitems, items_cap;
    dt_pmember *members;
    size_t nmembers, members_cap;
    dt_span link[2];    /* "@nextLink", "nextLink" (the last of each) */
    int has_link[2];
} dt_page;

/* Reads body[0..len) (copied). Returns the page (one reference) or NULL with
 * why filled ("empty body", "truncated JSON (N bytes)", "invalid JSON at byte
 * N: ...", "trailing data after JSON at byte N", a cap naming its option, or
 * "out of memory"). max_depth: values nested deeper (the root is level 1)
 * are an error; max_string: longer strings are. */
dt_page *dt_page_parse(const char *body, size_t len, int max_depth, size_t max_string,
                       char *why, size_t whysize);
/* The same for a body the page takes: malloc'd, body[len] == '\0' (freed
 * when the page is, or at once when NULL is returned). */
dt_page *dt_page_parse_owned(char *body, size_t len, int max_depth, size_t max_string,
                             char *why, size_t whysize);
dt_page *dt_page_ref(dt_page *p);
void dt_page_unref(dt_page *p);

/* The member of element i (DT_PAGE_ROOT: the root) named name (the last of
 * that name, as the tree of a JSON library keeps it), or NULL when the
 * element is no object or has no such member. */
const dt_pmember *dt_page_member(const dt_page *p, size_t i, const char *name, size_t nlen);

/* The span of element i (DT_PAGE_ROOT: the root), or NULL when there is none. */
const dt_span *dt_page_elem(const dt_page *p, size_t i);

/* The member name of the object at span obj (any object of the page, at any
 * depth: its text is walked), the last of that name, into *out. Returns 1
 * when found, 0 when absent or obj is no object. */
int dt_page_find(const dt_page *p, const dt_span *obj, const char *name, size_t nlen,
                 dt_span *out);

/* The value of span v when it is a number without fraction or exponent in
 * the int64 range: 0 and *out set; else -1. */
int dt_page_int(const dt_page *p, const dt_span *v, long long *out);

/* A string span decoded as a C string (cut at its first NUL): malloc'd, or
 * NULL when out of memory or v is no string. */
char *dt_page_cstr(const dt_page *p, const dt_span *v);

/* Decodes the escapes of a string's content s[0..n) (valid, as the reader
 * saw it) into out (room for n bytes); returns the decoded length. A lone
 * surrogate becomes U+FFFD. */
size_t dt_page_unescape(const char *s, size_t n, char *out);

/* dt_page_unescape into local (localsz bytes) when the content fits, else
 * into a malloc'd buffer the caller frees (when it is not local); NULL when
 * out of memory. *m: the decoded length, cut at the first NUL when cut is set
 * (a JSON library keeps names as C strings). */
char *dt_page_decode(const char *s, size_t n, int cut, char *local, size_t localsz, size_t *m);

/* Whether the key (a member's key span) equals name, decoded and as far as
 * its first NUL (a JSON library keeps keys as C strings). */
int dt_page_key_is(const char *body, const dt_span *key, const char *name, size_t nlen);

DT_HIDDEN_END

#endif
