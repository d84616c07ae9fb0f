/* The driver's clock: monotonic seconds, and a sleep for retry waits. */
#ifndef DT_CLOCK_H
#define DT_CLOCK_H

#include "core/dt_visibility.h"

DT_HIDDEN_BEGIN

/* Sleeps for seconds (retries); restarts after signals. */
void dt_sleep(double seconds);
/* Monotonic clock, seconds. */
double dt_now(void);

DT_HIDDEN_END

#endif
