/* A growable byte buffer, always NUL terminated. */
#ifndef DT_BUF_H
#define DT_BUF_H

#include <stddef.h>
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

typedef struct dt_buf {
    char *data;
    size_t len;
    size_t cap;
} dt_buf;

void dt_buf_init(dt_buf *b);
void dt_buf_free(dt_buf *b);
void dt_buf_reset(dt_buf *b);
/* Each returns 0 on success, -1 when out of memory (the buffer is unchanged). */
int dt_buf_reserve(dt_buf *b, size_t extra);
int dt_buf_add(dt_buf *b, const void *p, size_t n);
int dt_buf_adds(dt_buf *b, const char *s);
int dt_buf_addc(dt_buf *b, char c);
/* Percent-encodes s for a URL path segment or query value (RFC 3986 unreserved kept). */
int dt_buf_add_escaped(dt_buf *b, const char *s);
/* s[0..n) as a JSON string, quotes included: '"', '\\' and control bytes
 * escaped (\b \f \n \r \t, else \u00XX), every other byte as it is. */
int dt_buf_add_json(dt_buf *b, const char *s, size_t n);
/* A malloc'd copy of s; NULL for NULL or when out of memory. */
char *dt_strdup(const char *s);
/* Takes the string out of the buffer (caller frees); the buffer is left empty. */
char *dt_buf_take(dt_buf *b);

DT_HIDDEN_END

#endif
