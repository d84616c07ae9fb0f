/* libFuzzer harness: the date parsers and the formatter.
 *
 * The input, as a string, goes through dt_parse_iso8601 and
 * dt_parse_http_date; its first 8 bytes, as a double, through
 * dt_format_iso8601. Properties besides "no sanitizer report":
 *  - a date that parses formats, and the text parses back to the same epoch
 *    (to the millisecond the formatter keeps);
 *  - any double the formatter accepts gives text that parses back to it (to
 *    the millisecond), in the YYYY-MM-DDThh:mm:ss[.fff]Z shape;
 *  - an HTTP-date is whole seconds and agrees with the same instant written
 *    in ISO-8601.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_date.h"
#include "fuzz_common.h"

/* half a millisecond of rounding, the 999 clamp, and the double's own grain */
static int close_to(double a, double b)
{
    double tol = 0.0011 + fabs(b) * 4e-16;
    return fabs(a - b) <= tol;
}

static void round_trip(double t, const char *from)
{
    char out[64], out2[64];
    double back;
    size_t n;
    if (dt_format_iso8601(t, out, sizeof out) != 0)
        return;
    n = strlen(out);
    FUZZ_CHECK(n == 20 || n == 24, "formatted %.17g (%s) as %s", t, from, out);
    FUZZ_CHECK(out[n - 1] == 'Z' && out[10] == 'T', "formatted %.17g (%s) as %s", t, from, out);
    FUZZ_CHECK(dt_parse_iso8601(out, &back) == 0, "%s (from %.17g, %s) does not parse back", out, t,
               from);
    FUZZ_CHECK(close_to(back, t), "%s parses to %.17g, formatted from %.17g (%s)", out, back, t,
               from);
    /* and the text is a fixed point */
    FUZZ_CHECK(dt_format_iso8601(back, out2, sizeof out2) == 0 && strcmp(out, out2) == 0,
               "%s -> %.17g -> %s", out, back, out2);
    /* a buffer under 32 bytes is refused, not overrun */
    FUZZ_CHECK(dt_format_iso8601(t, out, 31) == -1, "a 31-byte buffer was accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup((const char *)data, size);
    double t, t2;

    if (dt_parse_iso8601(s, &t) == 0) {
        FUZZ_CHECK(isfinite(t), "%s parses to %g", s, t);
        round_trip(t, s);
    }
    if (dt_parse_http_date(s, &t) == 0) {
        char iso[32];
        static const char *const months = "JanFebMarAprMayJunJulAugSepOctNovDec";
        const char *m = strstr(months, (char[4]){s[8], s[9], s[10], '\0'});
        FUZZ_CHECK(isfinite(t) && t == floor(t), "%s parses to %.17g", s, t);
        /* "Sun, 06 Nov 1994 08:49:37 GMT" -> "1994-11-06T08:49:37Z" */
        if (m != NULL && (m - months) % 3 == 0) {
            snprintf(iso, sizeof iso, "%.4s-%02d-%.2sT%.8sZ", s + 12, (int)(m - months) / 3 + 1,
                     s + 5, s + 17);
            FUZZ_CHECK(dt_parse_iso8601(iso, &t2) == 0 && t2 == t,
                       "%s is %.17g but %s is %.17g", s, t, iso, t2);
        }
        round_trip(t, s);
    }
    if (size >= sizeof(double)) {
        memcpy(&t, data, sizeof t);
        round_trip(t, "raw double");
        /* whole seconds and milliseconds of the supported range too */
        if (isfinite(t))
            round_trip(fmod(t, 253402300800.0), "raw double, in range");
    }
    (void)dt_days_from_civil((long long)(size % 20000) - 10000, (unsigned)(size % 12) + 1,
                             (unsigned)(size % 28) + 1);
    free(s);
    return 0;
}
