/*
 * stats.h - the server's per-zone counters: one array per thread (no
 * shared cache lines on the query path), summed when asked for: in the
 * log (SIGUSR1), in rbldnsd's -s statistics file, and over HTTP in the
 * Prometheus text format (--http).
 *
 * SECURITY: the HTTP listener reads requests from any client that can
 * reach its port; requests are bounded (2 KiB, 2 s for the whole request,
 * 2 s more for the answer, 16 clients at a time, none blocking another) and
 * parsed by metrics.c. Runs as the unprivileged user.
 */
#ifndef RBLKIT_STATS_H
#define RBLKIT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "serve/counters.h"

/* Set the zone names (fixed by the command line); copies them. */
void stats_init(unsigned nzones, const char *const *names);
/* Free what stats_init() and stats_thread() allocated (--check). */
void stats_free(void);
/* A new thread's counters: per zone [nzones][ST_COUNT], and the counters
 * of queries to no zone [ST_COUNT]. Owned by the stats module. */
void stats_thread(uint64_t (**zones)[ST_COUNT], uint64_t **global);

/* Log one line per zone (SIGUSR1). */
void stats_log(void);
/* Append a line to the -s file ("+file": deltas since the last line);
 * start: a bare time stamp (start and stop, as rbldnsd). */
void stats_write_file(const char *spec, int start);
#define STATS_HTTP_MAX 8  /* listening sockets of the metrics listener */

/* Serve /metrics on the listening sockets fds[0..n-1] (n <= STATS_HTTP_MAX)
 * from a thread of its own.  Returns 0, or -errno with a sentence in err. */
int stats_http_start(const int *fds, unsigned n, char *err, size_t errlen);

#endif
