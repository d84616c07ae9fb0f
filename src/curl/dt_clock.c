#include "dt_clock.h"

#include <errno.h>
#include <math.h>
#include <time.h>

double dt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void dt_sleep(double seconds)
{
    struct timespec ts, rem;
    if (!(seconds > 0))
        return;
    ts.tv_sec = (time_t)floor(seconds);
    ts.tv_nsec = (long)((seconds - floor(seconds)) * 1e9);
    while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
        ts = rem;
}
