/*
 * trap_load.c - load generator for the trap intake (bench/trap.sh): C
 * parallel LMTP clients (default 8), each on its own connection sending
 * one message after another (MAIL, RCPT, DATA pipelined, the message, its
 * reply) as Postfix's lmtp client does, for -d seconds or -n messages in
 * all.
 *
 * Each message is a spam run as an MX host would hand it over: a Received
 * field by mx1.trap.example from a client in 198.18.0.0/15, another
 * forged one below, ~1.5 KB of headers and body.  -k K client addresses
 * (default 20000): hits on one already listed extend it, as on a real
 * trap feed where most hits are repeat offenders.
 *
 * Output (one line): messages=N seconds=S mps=R p50_us=.. p99_us=..
 *   max_us=.. ok=.. tempfail=.. other=..
 *
 * SECURITY: a benchmark client; connects to the address it is given only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in dst;
static unsigned nconns = 8, keys = 20000;
static double duration = 10;
static long limit;
static volatile int stop;
static long sent_total;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

struct worker {
	pthread_t th;
	unsigned id;
	uint64_t *lat;
	size_t nlat, cap;
	long ok, tempfail, other;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct rd {
	int fd;
	char buf[8192];
	size_t len, off;
};

/* One reply line (multi-line replies: every line read, the last kept). */
static int reply(struct rd *r, char *out, size_t outlen)
{
	for (;;) {
		char *nl = memchr(r->buf + r->off, '\n', r->len - r->off);

		if (nl) {
			size_t n = (size_t)(nl - (r->buf + r->off));
			int more = n > 3 && r->buf[r->off + 3] == '-';

			snprintf(out, outlen, "%.*s", (int)n, r->buf + r->off);
			r->off += n + 1;
			if (!more)
				return 0;
			continue;
		}
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
		ssize_t k = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);

		if (k <= 0)
			return -1;
		r->len += (size_t)k;
	}
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int build(char *buf, size_t len, unsigned seq, unsigned client)
{
	char body[1100];

	memset(body, 'x', sizeof(body) - 1);
	for (size_t i = 70; i < sizeof(body) - 1; i += 72)
		body[i] = '\n';
	body[sizeof(body) - 1] = '\0';
	return snprintf(buf, len,
		"MAIL FROM:<spam%u@sender.example>\r\nRCPT TO:<trap%u@trap.example>\r\nDATA\r\n"
		"Received: from host%u.spam.example (host%u.spam.example [198.%u.%u.%u])\r\n"
		"\tby mx1.trap.example (Postfix) with ESMTP id %08X\r\n"
		"\tfor <trap%u@trap.example>; Thu, 3 Dec 2026 10:00:00 +0000\r\n"
		"Received: from forged.example ([203.0.113.%u]) by mx1.trap.example\r\n"
		"From: \"Offer\" <spam%u@sender.example>\r\nTo: <trap%u@trap.example>\r\n"
		"Subject: Special offer %u\r\nMessage-ID: <%u.%u@sender.example>\r\n"
		"Date: Thu, 3 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n.\r\n",
		seq, seq % 50, client, client, 18 + (client >> 16 & 1), client >> 8 & 255,
		client & 255, seq, seq % 50, seq % 250 + 1, seq, seq % 50, seq, seq, client, body);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct rd r = { .fd = -1 };
	char msg[4096], line[512];
	unsigned seq = w->id * 1000003u, rnd = w->id * 2654435761u + 1;

	r.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (r.fd < 0 || connect(r.fd, (struct sockaddr *)&dst, sizeof(dst))) {
		perror("connect");
		exit(1);
	}
	setsockopt(r.fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (reply(&r, line, sizeof(line)) || send_all(r.fd, "LHLO load\r\n", 11) ||
	    reply(&r, line, sizeof(line))) {
		fprintf(stderr, "no LMTP greeting\n");
		exit(1);
	}
	while (!stop) {
		uint64_t t0;
		int n;

		pthread_mutex_lock(&mu);
		if (limit && sent_total >= limit) {
			pthread_mutex_unlock(&mu);
			break;
		}
		sent_total++;
		pthread_mutex_unlock(&mu);
		rnd = rnd * 1103515245u + 12345u;
		n = build(msg, sizeof(msg), seq++, (rnd >> 8) % keys);
		t0 = now_us();
		if (send_all(r.fd, msg, (size_t)n))
			break;
		/* MAIL, RCPT, DATA, then the recipient's reply */
		if (reply(&r, line, sizeof(line)) || reply(&r, line, sizeof(line)) ||
		    reply(&r, line, sizeof(line)) || reply(&r, line, sizeof(line)))
			break;
		if (w->nlat == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 65536;
			w->lat = realloc(w->lat, w->cap * sizeof(*w->lat));
		}
		w->lat[w->nlat++] = now_us() - t0;
		if (!strncmp(line, "250", 3))
			w->ok++;
		else if (line[0] == '4')
			w->tempfail++;
		else
			w->other++;
	}
	close(r.fd);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct worker *ws;
	uint64_t t0, *all;
	size_t n = 0;
	long ok = 0, tf = 0, other = 0;
	double secs;
	int c;

	dst.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	while ((c = getopt(argc, argv, "p:c:d:n:k:")) != -1) {
		switch (c) {
		case 'p': dst.sin_port = htons((uint16_t)atoi(optarg)); break;
		case 'c': nconns = (unsigned)atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'n': limit = atol(optarg); break;
		case 'k': keys = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: trap_load -p PORT [-c CONNS] [-d SECONDS | -n "
				"MESSAGES] [-k KEYS]\n");
			return 2;
		}
	}
	if (!dst.sin_port || !nconns || !keys || keys > 131072) {
		fprintf(stderr, "trap_load: -p PORT needed; -k at most 131072\n");
		return 2;
	}
	ws = calloc(nconns, sizeof(*ws));
	t0 = now_us();
	for (unsigned i = 0; i < nconns; i++) {
		ws[i].id = i + 1;
		pthread_create(&ws[i].th, NULL, run, &ws[i]);
	}
	if (!limit) {
		usleep((useconds_t)(duration * 1e6));
		stop = 1;
	}
	for (unsigned i = 0; i < nconns; i++) {
		pthread_join(ws[i].th, NULL);
		n += ws[i].nlat;
	}
	secs = (double)(now_us() - t0) / 1e6;
	all = malloc((n ? n : 1) * sizeof(*all));
	n = 0;
	for (unsigned i = 0; i < nconns; i++) {
		memcpy(all + n, ws[i].lat, ws[i].nlat * sizeof(*all));
		n += ws[i].nlat;
		ok += ws[i].ok;
		tf += ws[i].tempfail;
		other += ws[i].other;
	}
	qsort(all, n, sizeof(*all), cmp);
	printf("messages=%zu seconds=%.2f mps=%.0f p50_us=%llu p99_us=%llu max_us=%llu "
	       "ok=%ld tempfail=%ld other=%ld\n", n, secs, (double)n / secs,
	       n ? (unsigned long long)all[n / 2] : 0ULL,
	       n ? (unsigned long long)all[n * 99 / 100] : 0ULL,
	       n ? (unsigned long long)all[n - 1] : 0ULL, ok, tf, other);
	return 0;
}
