#include "dt_date.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

long long dt_days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (long long)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (long long)d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    long long era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    *y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y += *m <= 2;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0, i;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

int dt_parse_iso8601(const char *s, double *out)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    double frac = 0.0, scale = 0.1, t;
    const char *p;
    if (s == NULL || strlen(s) < 19)
        return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return -1;
    p = s + 19;
    if (*p == '.' || *p == ',') {
        int n = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (n < 9) {
                frac += (*p - '0') * scale;
                scale /= 10.0;
            }
            n++;
            p++;
        }
        if (n == 0 || n > 9)
            return -1;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(p, 2, &oh))
            return -1;
        p += 2;
        if (*p == ':')
            p++;
        if (digits(p, 2, &om))
            return -1;
        p += 2;
        if (oh > 23 || om > 59)
            return -1;
    }
    if (*p != '\0')
        return -1;
    t = (double)dt_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400.0 +
        (double)(h * 3600 + mi * 60 + sec) + frac;
    t -= (double)sign * (double)(oh * 3600 + om * 60);
    *out = t;
    return 0;
}

int dt_parse_http_date(const char *s, double *out)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int d, y, h, mi, sec, m;
    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (s == NULL || strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
        s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
        return -1;
    if (digits(s + 5, 2, &d) || digits(s + 12, 4, &y) || digits(s + 17, 2, &h) ||
        digits(s + 20, 2, &mi) || digits(s + 23, 2, &sec))
        return -1;
    for (m = 0; m < 12; m++)
        if (strncmp(s + 8, months[m], 3) == 0)
            break;
    if (m == 12 || d < 1 || d > days_in_month(y, m + 1) || h > 23 || mi > 59 || sec > 60)
        return -1;
    *out = (double)dt_days_from_civil(y, (unsigned)m + 1, (unsigned)d) * 86400.0 +
           (double)(h * 3600 + mi * 60 + sec);
    return 0;
}

int dt_format_iso8601(double t, char *out, size_t size)
{
    double whole;
    long long secs, days, rem, y;
    int ms;
    unsigned m, d;
    /* years 0000..9999 only; checked before any conversion to an integer
     * (a NaN, an infinity or a huge t made the cast undefined) */
    if (!isfinite(t) || t < -62167219200.0 || t >= 253402300800.0 || size < 32)
        return -1;
    whole = floor(t);
    secs = (long long)whole;
    days = secs / 86400;
    rem = secs % 86400;
    ms = (int)floor((t - whole) * 1000.0 + 0.5);
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    if (ms >= 1000)
        ms = 999;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return -1;
    if (ms > 0)
        snprintf(out, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, (int)(rem / 3600),
                 (int)(rem / 60 % 60), (int)(rem % 60), ms);
    else
        snprintf(out, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", y, m, d, (int)(rem / 3600),
                 (int)(rem / 60 % 60), (int)(rem % 60));
    return 0;
}
