/*
 * floor: the cheapest way to fetch every page of a document list.
 *
 * One libcurl easy handle, kept alive for the whole listing, follows the
 * next links of a job's document list and discards the bodies.  It does not
 * parse JSON: it finds the next link with a string search and counts the
 * documents by scanning for "id" keys, hashing each id into a set so that the
 * number of distinct ids it reports is real.  Whatever a client does beyond
 * this is the price of its parsing and its objects.
 *
 *   floor URL KEY CA_FILE [--compressed]
 *
 * Prints one line: docs= distinct= chars=0 requests= connects= bytes= listing_s=
 * (chars is 0: the floor does not read characterCharged).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

struct buffer {
    char *data;
    size_t len;
    size_t cap;
};

/* An open-addressing set of 64-bit id hashes; 0 marks an empty slot. */
struct idset {
    uint64_t *slots;
    size_t cap; /* a power of two */
    size_t count;
};

struct listing {
    struct buffer body;
    struct buffer next;
    struct idset ids;
    char origin[512];      /* scheme://host:port of the first URL */
    char api_version[64];  /* api-version=... of the first URL, or "" */
    long long docs;
    long long requests;
    long long connects;
    long long bytes;
};

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "floor: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static void buffer_reserve(struct buffer *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 65536;
    char *p;
    if (need <= b->cap)
        return;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        die("out of memory", NULL);
    b->data = p;
    b->cap = cap;
}

static void buffer_append(struct buffer *b, const char *src, size_t n)
{
    buffer_reserve(b, b->len + n + 1);
    memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *b = userdata;
    size_t n = size * nmemb;
    buffer_append(b, ptr, n);
    return n;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static void idset_grow(struct idset *set);

static void idset_add(struct idset *set, uint64_t h)
{
    size_t mask, i;
    if ((set->count + 1) * 2 > set->cap)
        idset_grow(set);
    mask = set->cap - 1;
    for (i = (size_t)h & mask; set->slots[i] != 0; i = (i + 1) & mask)
        if (set->slots[i] == h)
            return;
    set->slots[i] = h;
    set->count++;
}

static void idset_grow(struct idset *set)
{
    struct idset bigger;
    size_t i;
    bigger.cap = set->cap ? set->cap * 2 : 4096;
    bigger.count = 0;
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (!bigger.slots)
        die("out of memory", NULL);
    for (i = 0; i < set->cap; i++)
        if (set->slots[i] != 0)
            idset_add(&bigger, set->slots[i]);
    free(set->slots);
    *set = bigger;
}

/* The first occurrence of needle in [from, end), or NULL. */
static const char *find(const char *from, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    while ((size_t)(end - from) >= n) {
        const char *p = memchr(from, needle[0], (size_t)(end - from) - n + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
        from = p + 1;
    }
    return NULL;
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* Counts every "id" key of the page and adds its value to the id set. */
static void scan_ids(struct listing *l)
{
    const char *p = l->body.data, *end = l->body.data + l->body.len;
    while ((p = find(p, end, "\"id\"")) != NULL) {
        const char *v = skip_space(p + 4, end), *close;
        p += 4;
        if (v >= end || *v != ':')
            continue;
        v = skip_space(v + 1, end);
        if (v >= end || *v != '"')
            continue;
        v++;
        close = memchr(v, '"', (size_t)(end - v));
        if (!close)
            break;
        idset_add(&l->ids, hash_bytes(v, (size_t)(close - v)));
        l->docs++;
        p = close + 1;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Finds the next link ("nextLink" or "@nextLink") and leaves it, unescaped
 * and made absolute, in l->next.  Returns 0 when the page is the last one.
 */
static int extract_next(struct listing *l)
{
    const char *end = l->body.data + l->body.len;
    const char *p = l->body.data, *key = NULL;
    while ((p = find(p, end, "nextLink\"")) != NULL) {
        if (p > l->body.data && (p[-1] == '"' || (p[-1] == '@' && p - 1 > l->body.data && p[-2] == '"'))) {
            key = p;
            break;
        }
        p++;
    }
    l->next.len = 0;
    if (!key)
        return 0;
    p = skip_space(key + 9, end);
    if (p >= end || *p != ':')
        return 0;
    p = skip_space(p + 1, end);
    if (p >= end || *p != '"')
        return 0; /* null or missing: the last page */
    p++;
    if (p < end && *p == '/')
        buffer_append(&l->next, l->origin, strlen(l->origin));
    while (p < end && *p != '"') {
        char c = *p++;
        if (c == '\\' && p < end) {
            char e = *p++;
            if (e == 'u' && end - p >= 4) {
                int a = hex_value(p[0]), b = hex_value(p[1]), d = hex_value(p[2]), f = hex_value(p[3]);
                if (a < 0 || b < 0 || d < 0 || f < 0 || a != 0 || b != 0)
                    die("next link", "non-ASCII escape");
                c = (char)(d * 16 + f);
                p += 4;
            } else {
                c = e; /* \/ \" \\ */
            }
        }
        buffer_append(&l->next, &c, 1);
    }
    if (l->next.len == 0)
        return 0;
    if (l->api_version[0] && !strstr(l->next.data, "api-version=")) {
        buffer_append(&l->next, strchr(l->next.data, '?') ? "&" : "?", 1);
        buffer_append(&l->next, l->api_version, strlen(l->api_version));
    }
    return 1;
}

static void remember_url_parts(struct listing *l, const char *url)
{
    const char *scheme = strstr(url, "://"), *path, *v;
    size_t n;
    if (!scheme)
        die("not an absolute URL", url);
    path = strchr(scheme + 3, '/');
    n = path ? (size_t)(path - url) : strlen(url);
    if (n >= sizeof l->origin)
        die("URL too long", url);
    memcpy(l->origin, url, n);
    l->origin[n] = '\0';
    l->api_version[0] = '\0';
    v = strstr(url, "api-version=");
    if (v) {
        n = strcspn(v, "&#");
        if (n >= sizeof l->api_version)
            die("api-version too long", url);
        memcpy(l->api_version, v, n);
        l->api_version[n] = '\0';
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct listing l;
    struct curl_slist *headers = NULL;
    char key_header[512];
    CURL *curl;
    double started;
    int compressed = 0, more = 1;

    if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "--compressed") != 0)) {
        fprintf(stderr, "usage: floor URL KEY CA_FILE [--compressed]\n");
        return 2;
    }
    compressed = argc == 5;
    memset(&l, 0, sizeof l);
    remember_url_parts(&l, argv[1]);
    if ((size_t)snprintf(key_header, sizeof key_header, "Ocp-Apim-Subscription-Key: %s", argv[2]) >= sizeof key_header)
        die("key too long", NULL);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("curl_global_init failed", NULL);
    started = now_seconds();
    curl = curl_easy_init();
    if (!curl)
        die("curl_easy_init failed", NULL);
    headers = curl_slist_append(headers, key_header);
    headers = curl_slist_append(headers, "Accept: application/json");
    if (!headers)
        die("out of memory", NULL);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_CAINFO, argv[3]);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &l.body);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (compressed)
        curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    buffer_append(&l.next, argv[1], strlen(argv[1]));

    while (more) {
        long status = 0, connects = 0, header_size = 0;
        curl_off_t body_size = 0;
        CURLcode rc;
        l.body.len = 0;
        curl_easy_setopt(curl, CURLOPT_URL, l.next.data);
        rc = curl_easy_perform(curl);
        if (rc != CURLE_OK)
            die("request failed", curl_easy_strerror(rc));
        l.requests++;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
        curl_easy_getinfo(curl, CURLINFO_HEADER_SIZE, &header_size);
        curl_easy_getinfo(curl, CURLINFO_SIZE_DOWNLOAD_T, &body_size);
        l.connects += connects;
        l.bytes += (long long)header_size + (long long)body_size;
        if (status != 200) {
            fprintf(stderr, "floor: HTTP %ld for %s\n%.*s\n", status, l.next.data,
                    (int)(l.body.len > 500 ? 500 : l.body.len), l.body.data ? l.body.data : "");
            return 1;
        }
        if (l.body.len == 0)
            die("empty body", l.next.data);
        scan_ids(&l);
        more = extract_next(&l);
    }

    printf("docs=%lld distinct=%zu chars=0 requests=%lld connects=%lld bytes=%lld listing_s=%.6f\n",
           l.docs, l.ids.count, l.requests, l.connects, l.bytes, now_seconds() - started);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    free(l.body.data);
    free(l.next.data);
    free(l.ids.slots);
    return 0;
}
