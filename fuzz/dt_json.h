/* json-c behind one call: the fuzzers' differential oracle for the page
 * reader (fuzz_page.c). The module itself reads every body with dt_page. */
#ifndef DT_JSON_H
#define DT_JSON_H

#include <stddef.h>
#include <json-c/json.h>
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

#define DT_JSON_MAX_DEPTH 64

/* Parses exactly one JSON value filling body[0..len), values nested at most
 * max_depth levels (the root is 1). Returns the tree (one reference for the
 * caller) or NULL with why filled. */
struct json_object *dt_json_parse(const char *body, size_t len, int max_depth, char *why,
                                  size_t whysize);

/* why of a parse that stopped with err at byte end (not success, not continue). */
void dt_json_why(enum json_tokener_error err, size_t end, int max_depth, char *why,
                 size_t whysize);

/* The string member name of obj, or NULL when absent or not a string. */
const char *dt_json_str(struct json_object *obj, const char *name);

/* The member name of obj, or NULL. */
struct json_object *dt_json_get(struct json_object *obj, const char *name);

DT_HIDDEN_END

#endif
