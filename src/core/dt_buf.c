#include "dt_buf.h"

#include <stdlib.h>
#include <string.h>

void dt_buf_init(dt_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void dt_buf_free(dt_buf *b)
{
    free(b->data);
    dt_buf_init(b);
}

void dt_buf_reset(dt_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

int dt_buf_reserve(dt_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;
    if (extra > (size_t)-1 - b->len - 1)
        return -1;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int dt_buf_add(dt_buf *b, const void *p, size_t n)
{
    if (dt_buf_reserve(b, n) != 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int dt_buf_adds(dt_buf *b, const char *s)
{
    return dt_buf_add(b, s, strlen(s));
}

int dt_buf_addc(dt_buf *b, char c)
{
    return dt_buf_add(b, &c, 1);
}

int dt_buf_add_escaped(dt_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            if (dt_buf_addc(b, (char)c) != 0)
                return -1;
        } else {
            char e[3];
            e[0] = '%';
            e[1] = hex[c >> 4];
            e[2] = hex[c & 15];
            if (dt_buf_add(b, e, 3) != 0)
                return -1;
        }
    }
    return 0;
}

int dt_buf_add_json(dt_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    if (dt_buf_addc(b, '"') != 0)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[6];
        size_t en = 2;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (dt_buf_add(b, s + run, i - run) != 0)
            return -1;
        run = i + 1;
        e[0] = '\\';
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default:
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            en = 6;
        }
        if (dt_buf_add(b, e, en) != 0)
            return -1;
    }
    if (dt_buf_add(b, s + run, n - run) != 0)
        return -1;
    return dt_buf_addc(b, '"');
}

char *dt_buf_take(dt_buf *b)
{
    char *p = b->data;
    if (p == NULL) {
        p = malloc(1);
        if (p != NULL)
            p[0] = '\0';
    }
    dt_buf_init(b);
    return p;
}

char *dt_strdup(const char *s)
{
    size_t n;
    char *p;
    if (s == NULL)
        return NULL;
    n = strlen(s);
    p = malloc(n + 1);
    if (p != NULL)
        memcpy(p, s, n + 1);
    return p;
}
