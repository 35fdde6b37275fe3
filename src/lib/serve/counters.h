/*
 * counters.h - the per-zone counters of the server: what query.c counts,
 * stats.c sums and metrics.c formats.
 *
 * SECURITY: declarations only.
 */
#ifndef RBLKIT_COUNTERS_H
#define RBLKIT_COUNTERS_H

/* Per-zone counters; the array is indexed by zone id. */
enum { ST_QUERIES, ST_LISTED, ST_NXDOMAIN, ST_ERRORS, ST_BYTES_IN,
       ST_BYTES_OUT, ST_COUNT };

#endif
