/*
 * stats.c - counters, their sums and where they go; see stats.h.
 *
 * SECURITY: see stats.h.
 */
#define _GNU_SOURCE
#include "serve/stats.h"
#include "serve/metrics.h"
#include "base/util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#define MAX_THREADS 256

static unsigned nzones;
static char **zone_names;
static uint64_t (*thread_zones[MAX_THREADS])[ST_COUNT];
static uint64_t *thread_global[MAX_THREADS];
static unsigned nthreads;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

void stats_init(unsigned n, const char *const *names)
{
	nzones = n;
	zone_names = xcalloc(n ? n : 1, sizeof(*zone_names));
	for (unsigned z = 0; z < n; z++)
		zone_names[z] = xstrdup(names[z]);
}

void stats_free(void)
{
	for (unsigned z = 0; z < nzones; z++)
		free(zone_names[z]);
	free(zone_names);
	zone_names = NULL;
	for (unsigned i = 0; i < nthreads; i++) {
		free(thread_zones[i]);
		free(thread_global[i]);
	}
	nthreads = nzones = 0;
}

void stats_thread(uint64_t (**zones)[ST_COUNT], uint64_t **global)
{
	pthread_mutex_lock(&reg_lock);
	if (nthreads == MAX_THREADS)
		panic("too many threads with counters");
	thread_zones[nthreads] = xcalloc(nzones ? nzones : 1, sizeof(**zones));
	thread_global[nthreads] = xcalloc(ST_COUNT, sizeof(**global));
	*zones = thread_zones[nthreads];
	*global = thread_global[nthreads];
	nthreads++;
	pthread_mutex_unlock(&reg_lock);
}

/* Sum over the threads; counters are read without locks (a sum may be a
 * query behind, never wrong by more). */
static void stats_sum(uint64_t (*sum)[ST_COUNT], uint64_t *global)
{
	memset(sum, 0, (nzones ? nzones : 1) * sizeof(*sum));
	memset(global, 0, ST_COUNT * sizeof(*global));
	for (unsigned i = 0; i < nthreads; i++) {
		for (unsigned z = 0; z < nzones; z++)
			for (int k = 0; k < ST_COUNT; k++)
				sum[z][k] += __atomic_load_n(&thread_zones[i][z][k],
							     __ATOMIC_RELAXED);
		for (int k = 0; k < ST_COUNT; k++)
			global[k] += __atomic_load_n(&thread_global[i][k],
						     __ATOMIC_RELAXED);
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

void stats_log(void)
{
	uint64_t (*sum)[ST_COUNT] = xcalloc(nzones ? nzones : 1, sizeof(*sum));
	uint64_t g[ST_COUNT];

	stats_sum(sum, g);
	for (unsigned z = 0; z < nzones; z++)
		log_info("stats %s: queries=%llu listed=%llu nxdomain=%llu errors=%llu"
			 " bytes_in=%llu bytes_out=%llu", zone_names[z],
			 (unsigned long long)sum[z][ST_QUERIES],
			 (unsigned long long)sum[z][ST_LISTED],
			 (unsigned long long)sum[z][ST_NXDOMAIN],
			 (unsigned long long)sum[z][ST_ERRORS],
			 (unsigned long long)sum[z][ST_BYTES_IN],
			 (unsigned long long)sum[z][ST_BYTES_OUT]);
	free(sum);
}

/* --- Prometheus metrics over HTTP --- */

static int http_fd = -1;

static void http_reply(int fd)
{
	char req[2048], path[256], *body = NULL, head[256];
	size_t have = 0, blen = 0;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	const char *status = "404 Not Found";

	while (have < sizeof(req) && poll(&pf, 1, 2000) > 0) {
		ssize_t r = recv(fd, req + have, sizeof(req) - have, 0);

		if (r <= 0)
			break;
		have += (size_t)r;
		if (memmem(req, have, "\r\n\r\n", 4) || memmem(req, have, "\n\n", 2))
			break;
	}
	if (http_request_path(req, have, path, sizeof(path)) == 0 &&
	    (!strcmp(path, "/metrics") || !strcmp(path, "/"))) {
		uint64_t (*sum)[ST_COUNT] = xcalloc(nzones ? nzones : 1, sizeof(*sum));
		uint64_t g[ST_COUNT];
		size_t cap = 4096 + (size_t)nzones * ST_COUNT * 320;

		stats_sum(sum, g);
		body = xmalloc(cap);
		blen = metrics_format(body, cap, (const char *const *)zone_names,
				      nzones, (const uint64_t (*)[ST_COUNT])sum, g);
		status = "200 OK";
		free(sum);
	}
	snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Type: text/plain; "
		 "version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		 status, blen);
	if (write_all(fd, head, strlen(head)) == 0 && body)
		write_all(fd, body, blen);
	free(body);
}

static void *http_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept4(http_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			continue;
		http_reply(fd);
		close(fd);
	}
	return NULL;
}

void stats_http_start(int fd)
{
	pthread_t t;

	http_fd = fd;
	if (pthread_create(&t, NULL, http_main, NULL))
		fatal("cannot start the metrics thread");
	pthread_detach(t);
}

/* rbldnsd's -s format, one line per interval:
 *   time zone:queries:ok:nxdomain:bytes_in:bytes_out ... *:totals */
void stats_write_file(const char *spec, int start)
{
	static uint64_t (*last)[ST_COUNT];
	static uint64_t last_total[ST_COUNT];
	int delta = spec[0] == '+';
	FILE *f = fopen(spec + delta, "a");
	uint64_t (*sum)[ST_COUNT], g[ST_COUNT], tot[ST_COUNT] = { 0 };

	if (!f) {
		log_warn("%s: %s", spec + delta, strerror(errno));
		return;
	}
	sum = xcalloc(nzones ? nzones : 1, sizeof(*sum));
	if (!last)
		last = xcalloc(nzones ? nzones : 1, sizeof(*last));
	stats_sum(sum, g);
	fprintf(f, "%ld", (long)time(NULL));
	for (unsigned z = 0; !start && z < nzones; z++) {
		uint64_t v[ST_COUNT];

		for (int k = 0; k < ST_COUNT; k++) {
			v[k] = sum[z][k] - (delta ? last[z][k] : 0);
			tot[k] += sum[z][k];
		}
		fprintf(f, " %s:%llu:%llu:%llu:%llu:%llu", zone_names[z],
			(unsigned long long)v[ST_QUERIES],
			(unsigned long long)(v[ST_QUERIES] - v[ST_NXDOMAIN] - v[ST_ERRORS]),
			(unsigned long long)v[ST_NXDOMAIN],
			(unsigned long long)v[ST_BYTES_IN], (unsigned long long)v[ST_BYTES_OUT]);
	}
	if (!start) {
		uint64_t q, b_in, b_out;

		for (int k = 0; k < ST_COUNT; k++)
			tot[k] += g[k];
		q = tot[ST_QUERIES] - (delta ? last_total[ST_QUERIES] : 0);
		b_in = tot[ST_BYTES_IN] - (delta ? last_total[ST_BYTES_IN] : 0);
		b_out = tot[ST_BYTES_OUT] - (delta ? last_total[ST_BYTES_OUT] : 0);
		fprintf(f, " *:%llu:%llu:%llu:%llu:%llu", (unsigned long long)q,
			(unsigned long long)(q - (tot[ST_NXDOMAIN] - (delta ? last_total[ST_NXDOMAIN] : 0))
					     - (tot[ST_ERRORS] - (delta ? last_total[ST_ERRORS] : 0))),
			(unsigned long long)(tot[ST_NXDOMAIN] - (delta ? last_total[ST_NXDOMAIN] : 0)),
			(unsigned long long)b_in, (unsigned long long)b_out);
		memcpy(last, sum, nzones * sizeof(*sum));
		memcpy(last_total, tot, sizeof(tot));
	}
	fputc('\n', f);
	fclose(f);
	free(sum);
}
