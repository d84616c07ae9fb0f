/* The driver's clock: monotonic seconds, and a sleep for retry waits. */
#ifndef DT_CLOCK_H
#define DT_CLOCK_H

/* Sleeps for seconds (retries); restarts after signals. */
void dt_sleep(double seconds);
/* Monotonic clock, seconds. */
double dt_now(void);

#endif
