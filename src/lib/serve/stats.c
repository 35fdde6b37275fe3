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
#include <fcntl.h>
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

/* --- Prometheus metrics over HTTP ---
 *
 * One thread, one poll loop, up to HTTP_CLIENTS clients at a time: a slow
 * client holds only its own slot. Each request must arrive whole within
 * HTTP_MS of the connection, and its answer be taken within HTTP_MS more;
 * past that the connection is closed. When accept() fails for want of
 * descriptors or memory, accepting pauses for a moment rather than spin.
 */

#define HTTP_CLIENTS 16
#define HTTP_REQ_MAX 2048
#define HTTP_MS 2000
#define HTTP_PAUSE_MS 100

struct http_client {
	int fd;                 /* -1: free */
	uint64_t deadline;
	char req[HTTP_REQ_MAX];
	size_t have;
	char *resp;             /* NULL while reading the request */
	size_t off, len;
};

static int http_fds[STATS_HTTP_MAX];
static unsigned nhttp;

/* The response to the request in c->req (all of it in c->resp). */
static void http_answer(struct http_client *c)
{
	char path[256], head[256], *body = NULL;
	const char *status = "404 Not Found";
	size_t blen = 0;
	int hl;

	if (http_request_path(c->req, c->have, path, sizeof(path)) == 0 &&
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
	hl = snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Type: text/plain; "
		      "version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		      status, blen);
	c->resp = xmalloc((size_t)hl + blen);
	memcpy(c->resp, head, (size_t)hl);
	if (blen)
		memcpy(c->resp + hl, body, blen);
	c->len = (size_t)hl + blen;
	c->off = 0;
	free(body);
}

static void http_close(struct http_client *c)
{
	close(c->fd);
	free(c->resp);
	c->fd = -1;
	c->resp = NULL;
}

/* Progress on c without blocking; 0 while it goes on, -1 when done. */
static int http_step(struct http_client *c, uint64_t now)
{
	if (!c->resp) {
		ssize_t r = recv(c->fd, c->req + c->have, sizeof(c->req) - c->have,
				 MSG_DONTWAIT);

		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->have += (size_t)r;
		if (r > 0 && c->have < sizeof(c->req) &&
		    !memmem(c->req, c->have, "\r\n\r\n", 4) &&
		    !memmem(c->req, c->have, "\n\n", 2))
			return 0;
		http_answer(c);         /* whole, full, or the client is done */
		c->deadline = now + HTTP_MS;
	}
	while (c->off < c->len) {
		ssize_t r = send(c->fd, c->resp + c->off, c->len - c->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r <= 0)
			return -1;
		c->off += (size_t)r;
	}
	return -1;
}

/* Accept one client into a free slot; returns the time until which
 * accepting pauses (0: it does not). */
static uint64_t http_accept(int lfd, struct http_client *cl, uint64_t now)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		       errno == ENOMEM ? now + HTTP_PAUSE_MS : 0;
	for (int i = 0; i < HTTP_CLIENTS; i++) {
		if (cl[i].fd < 0) {
			cl[i].fd = fd;
			cl[i].have = 0;
			cl[i].deadline = now + HTTP_MS;
			return 0;
		}
	}
	close(fd);                      /* not reached: polled only with room */
	return 0;
}

static void *http_main(void *arg)
{
	struct http_client *cl = xcalloc(HTTP_CLIENTS, sizeof(*cl));
	struct pollfd pf[HTTP_CLIENTS + STATS_HTTP_MAX];
	uint64_t paused = 0;

	(void)arg;
	for (int i = 0; i < HTTP_CLIENTS; i++)
		cl[i].fd = -1;
	for (;;) {
		int n = 0, busy = 0, idx[HTTP_CLIENTS + STATS_HTTP_MAX];
		uint64_t now = now_ms();

		if (paused && now >= paused)
			paused = 0;
		for (int i = 0; i < HTTP_CLIENTS; i++) {
			if (cl[i].fd < 0)
				continue;
			busy++;
			if (now >= cl[i].deadline) {
				http_close(&cl[i]);
				continue;
			}
			pf[n] = (struct pollfd){ .fd = cl[i].fd,
						 .events = cl[i].resp ? POLLOUT : POLLIN };
			idx[n++] = i;
		}
		for (unsigned j = 0; !paused && busy < HTTP_CLIENTS && j < nhttp; j++) {
			pf[n] = (struct pollfd){ .fd = http_fds[j], .events = POLLIN };
			idx[n++] = -1;
		}
		if (poll(pf, (nfds_t)n, 100) <= 0)
			continue;
		now = now_ms();
		for (int k = 0; k < n; k++) {
			if (!pf[k].revents)
				continue;
			if (idx[k] < 0) {
				/* a slot may have been taken by the listener before */
				if (!paused && busy++ < HTTP_CLIENTS)
					paused = http_accept(pf[k].fd, cl, now);
			} else if (http_step(&cl[idx[k]], now))
				http_close(&cl[idx[k]]);
		}
	}
	return NULL;
}

int stats_http_start(const int *fds, unsigned n, char *err, size_t errlen)
{
	pthread_t t;
	int rc;

	if (n > STATS_HTTP_MAX) {
		snprintf(err, errlen, "metrics: more than %d listening sockets", STATS_HTTP_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		http_fds[i] = fds[i];
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	}
	nhttp = n;
	if ((rc = pthread_create(&t, NULL, http_main, NULL)) != 0) {
		snprintf(err, errlen, "cannot start the metrics thread: %s", strerror(rc));
		return -rc;
	}
	pthread_detach(t);
	return 0;
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
