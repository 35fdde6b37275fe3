/*
 * metrics.h - per-zone counters in Prometheus text format, and the tiny
 * HTTP request reader of the metrics listener.
 *
 * SECURITY: http_request_path() reads untrusted bytes from any client of
 * the metrics port; it is bounded by len and writes at most pathcap.
 */
#ifndef RBLKIT_METRICS_H
#define RBLKIT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "serve/counters.h"

/* Format the counters; returns the length written (truncated to cap). */
size_t metrics_format(char *buf, size_t cap, const char *const *zones,
		      unsigned nzones, const uint64_t (*sum)[ST_COUNT],
		      const uint64_t *global);

/* From an HTTP request head (len bytes, need not be NUL-terminated): 0 and
 * the path of a GET, or -1 when it is not a complete, valid GET line. */
int http_request_path(const char *req, size_t len, char *path, size_t pathcap);

#endif
