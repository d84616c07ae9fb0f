/* Dates on the wire: ISO-8601 (job and document times, filters) and
 * IMF-fixdate (Retry-After). Pure functions, no locale, no time zone. */
#ifndef DT_DATE_H
#define DT_DATE_H

#include <stddef.h>
#include "dt_visibility.h"

DT_HIDDEN_BEGIN

/* ISO-8601 date-time -> seconds since the epoch (UTC), with its fraction.
 * Accepts 1..9 fractional digits, 'Z', +hh:mm / -hh:mm / +hhmm, or no zone (UTC).
 * Returns 0 on success, -1 when s is not such a date. */
int dt_parse_iso8601(const char *s, double *out);

/* HTTP-date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") -> epoch seconds. */
int dt_parse_http_date(const char *s, double *out);

/* Epoch seconds -> "YYYY-MM-DDThh:mm:ss[.fff]Z" into out (at least 32 bytes). */
int dt_format_iso8601(double t, char *out, size_t size);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
long long dt_days_from_civil(long long y, unsigned m, unsigned d);

DT_HIDDEN_END

#endif
