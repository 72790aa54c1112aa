/* Clock and time limits for the unit tests that bound how long work may
 * take (linear scans of hostile input), not how fast it is. */
#ifndef INKFLOW_TEST_TIMING_H
#define INKFLOW_TEST_TIMING_H

#include <stdlib.h>
#include <time.h>

static inline double
test_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A limit of secs on a plain build, multiplied by INKFLOW_TEST_SLOWDOWN
 * when set (make valgrind sets 20: memcheck runs code some 20-50 times
 * slower). */
static inline double
test_limit(double secs)
{
	const char *s = getenv("INKFLOW_TEST_SLOWDOWN");
	double f = s ? strtod(s, NULL) : 1;
	return secs * (f >= 1 ? f : 1);
}

#endif
