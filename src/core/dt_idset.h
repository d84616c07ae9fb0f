/* Ids as 64-bit hashes: the hash of a string (or of a page's string member,
 * decoded as its C string), and a bounded set of them, by which a listing
 * tells a document it already handed out. */
#ifndef DT_IDSET_H
#define DT_IDSET_H

#include <stddef.h>
#include <stdint.h>

#include "dt_page.h"
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

/* Slots of the set (8 bytes each, at most half full): a repeat anywhere in the
 * first DT_SEEN_MAX_SLOTS / 2 ids (32,768: a real job holds at most 1,000
 * documents) is caught; past them, the caller still checks the pages around
 * it. The cap keeps a listing's memory flat however long it runs (512 KiB). */
#define DT_SEEN_MAX_SLOTS (1u << 16)

typedef struct dt_idset {
    uint64_t *set; /* open addressing, 0 = free; NULL until the first add */
    size_t slots, n;
    int full;      /* the set stopped growing: ids added past it are not in it */
} dt_idset;

uint64_t dt_hash_mem(const char *s, size_t n);
uint64_t dt_hash_str(const char *s);
/* The hash of a string member of pg, as dt_hash_str hashes its decoded C string. */
uint64_t dt_hash_span(const dt_page *pg, const dt_span *v);
/* Whether h is among a[0..n). */
int dt_hash_in(const uint64_t *a, size_t n, uint64_t h);

int dt_idset_has(const dt_idset *s, uint64_t h);
/* Adds h; past the cap (or out of memory) the set is marked full and stays as it is. */
void dt_idset_add(dt_idset *s, uint64_t h);
void dt_idset_free(dt_idset *s);

DT_HIDDEN_END

#endif
