#include "dt_json.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

void dt_json_why(enum json_tokener_error err, size_t end, int max_depth, char *why,
                 size_t whysize)
{
    if (err == json_tokener_error_depth)
        snprintf(why, whysize, "JSON nesting deeper than max_depth (%d) at byte %zu", max_depth,
                 end);
    else
        snprintf(why, whysize, "invalid JSON at byte %zu: %s", end, json_tokener_error_desc(err));
}

struct json_object *dt_json_parse(const char *body, size_t len, int max_depth, char *why,
                                  size_t whysize)
{
    struct json_tokener *tok;
    struct json_object *root;
    enum json_tokener_error jerr;
    size_t end, i;
    if (body == NULL || len == 0) {
        snprintf(why, whysize, "empty body");
        return NULL;
    }
    if (len > INT_MAX) {
        snprintf(why, whysize, "body too large to parse");
        return NULL;
    }
    tok = json_tokener_new_ex(max_depth > 0 ? max_depth : DT_JSON_MAX_DEPTH);
    if (tok == NULL) {
        snprintf(why, whysize, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    root = json_tokener_parse_ex(tok, body, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_continue) {
        snprintf(why, whysize, "truncated JSON (%zu bytes)", len);
        json_object_put(root);
        return NULL;
    }
    if (jerr != json_tokener_success) {
        dt_json_why(jerr, end, max_depth > 0 ? max_depth : DT_JSON_MAX_DEPTH, why, whysize);
        json_object_put(root);
        return NULL;
    }
    for (i = end; i < len; i++) {
        char c = body[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            snprintf(why, whysize, "trailing data after JSON at byte %zu", i);
            json_object_put(root);
            return NULL;
        }
    }
    return root;
}

struct json_object *dt_json_get(struct json_object *obj, const char *name)
{
    struct json_object *v = NULL;
    if (obj == NULL || !json_object_is_type(obj, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(obj, name, &v))
        return NULL;
    return v;
}

const char *dt_json_str(struct json_object *obj, const char *name)
{
    struct json_object *v = dt_json_get(obj, name);
    if (v == NULL || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}
