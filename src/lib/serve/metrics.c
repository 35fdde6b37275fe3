/*
 * metrics.c - Prometheus text format and HTTP request line; see metrics.h.
 *
 * SECURITY: see metrics.h. Zone names are escaped for label values.
 */
#include "serve/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

/* Label value: backslash, quote and newline escaped. */
static void put_label(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			put(o, "\\%c", *s);
		else if (*s == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *s);
	}
}

size_t metrics_format(char *buf, size_t cap, const char *const *zones,
		      unsigned nzones, const uint64_t (*sum)[ST_COUNT],
		      const uint64_t *global)
{
	static const char *const names[ST_COUNT] = {
		"rblkit_queries_total", "rblkit_listed_total", "rblkit_nxdomain_total",
		"rblkit_errors_total", "rblkit_bytes_in_total", "rblkit_bytes_out_total",
	};
	static const char *const help[ST_COUNT] = {
		"Queries to the zone", "Answers with records (listed)",
		"NXDOMAIN answers", "Errors (SERVFAIL, malformed, refused)",
		"Bytes of queries", "Bytes of answers",
	};
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = '\0';
	for (int k = 0; k < ST_COUNT; k++) {
		put(&o, "# HELP %s %s.\n# TYPE %s counter\n", names[k], help[k], names[k]);
		for (unsigned z = 0; z < nzones; z++) {
			put(&o, "%s{zone=\"", names[k]);
			put_label(&o, zones[z]);
			put(&o, "\"} %llu\n", (unsigned long long)sum[z][k]);
		}
		put(&o, "%s{zone=\"\"} %llu\n", names[k], (unsigned long long)global[k]);
	}
	return o.len;
}

int http_request_path(const char *req, size_t len, char *path, size_t pathcap)
{
	const char *end = memchr(req, '\n', len), *p, *sp;
	size_t n;

	if (!end || len < 4 || memcmp(req, "GET ", 4))
		return -1;
	p = req + 4;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp == p)
		return -1;
	n = (size_t)(sp - p);
	if (n + 1 > pathcap)
		return -1;
	memcpy(path, p, n);
	path[n] = '\0';
	return 0;
}
