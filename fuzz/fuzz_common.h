/* Shared helpers of the libFuzzer harnesses (fuzz/README.md). */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A property the code under test promised does not hold: report and abort so
 * libFuzzer saves the input as a crash. */
#define FUZZ_CHECK(cond, ...)                                                        \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz property failed at %s:%d: %s: ", __FILE__, __LINE__, \
                    #cond);                                                         \
            fprintf(stderr, __VA_ARGS__);                                           \
            fputc('\n', stderr);                                                    \
            abort();                                                                \
        }                                                                           \
    } while (0)

/* Known defects (fuzz/README.md, "Known defects"): reported to the owner of
 * the file, reproduced by a file in fuzz/regressions/, and tolerated by
 * default so that a long run can look past them. FUZZ_STRICT=1 in the
 * environment makes them fail like any other finding (the regression replay
 * with FUZZ_STRICT=1 shows whether they are still there). */
static inline int fuzz_strict(void)
{
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("FUZZ_STRICT");
        v = e != NULL && e[0] == '1';
    }
    return v;
}

#define FUZZ_KNOWN(cond, ...)                                                        \
    do {                                                                            \
        if (fuzz_strict())                                                          \
            FUZZ_CHECK(cond, __VA_ARGS__);                                          \
    } while (0)

/* A NUL-terminated malloc'd copy of data[0..n). */
static inline char *fuzz_strndup(const char *data, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

#endif
