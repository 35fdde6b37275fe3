/*
 * policy_load.c - load generator for Postfix policy services (bench/policy.sh).
 *
 * Opens C connections (default 100) and keeps one request outstanding on
 * each, as Postfix's smtpd processes do; measures requests per second and
 * the latency of every request (send to complete reply).
 *
 * Sender domains are s0..s299.bench.test and HELO names mail.c0..c996.bench.test,
 * which bench/policy.sh serves (A and MX) for policyd-weight's DNS checks.
 *
 * The request mix imitates an MX that also takes submissions (all requests
 * carry the attributes Postfix 3.7 sends):
 *   60 %  inbound RCPT from one of K client addresses (10 % of them in
 *         192.0.2.0/24, the listed test range; the rest clean)
 *   10 %  inbound END-OF-MESSAGE
 *   20 %  outbound RCPT, SASL user one of 200
 *   10 %  outbound END-OF-MESSAGE, 1..5 recipients
 * With -u every inbound request comes from an address not seen before
 * (every lookup misses the cache: the fail-open budget measurement).
 *
 * With -r RATE the run is paced: each connection sends at RATE/C per second
 * (schedule kept; a late request goes at once), so that latency is measured
 * at a given load rather than at saturation, where with C requests always
 * outstanding it is about C / throughput (Little's law).
 *
 * Phases: warm-up (every distinct inbound client once, unless -W), then
 * the measured run of -d seconds (or -n requests).
 *
 * Output (one line): requests=N seconds=S rps=R p50_us=.. p90_us=..
 *   p99_us=.. p999_us=.. max_us=.. refused=.. errors=.. reconnects=..
 *
 * SECURITY: a benchmark client; connects to the address it is given only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct lconn {
	int fd;
	char out[4096];
	size_t outlen, outoff;
	char in[8192];
	size_t inlen;
	uint64_t sent_ns, next_ns;
	int busy;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static unsigned nclients = 2000;
static int unique;
static uint32_t unique_next = 0x0a800000u;	/* 10.128.0.0 upwards */

/* Client address number i: every 10th one in the listed range. */
static void client_addr(unsigned i, char *buf, size_t len)
{
	if (i % 10 == 0)
		snprintf(buf, len, "192.0.2.%u", 1 + (i / 10) % 250);
	else
		snprintf(buf, len, "10.%u.%u.%u", 1 + i / 65536, (i / 256) % 256, i % 256);
}

/* Build one request into buf; inbound client index or -1 for random. */
static size_t make_request(char *buf, size_t len, long client)
{
	char addr[64], state[32], sasl[64] = "", sender[96], rc[16] = "0";
	unsigned r = rnd() % 100, id = rnd();

	if (client >= 0 || r < 70) {
		unsigned i = client >= 0 ? (unsigned)client : rnd() % nclients;

		if (unique && client < 0) {
			uint32_t a = unique_next++;

			snprintf(addr, sizeof(addr), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
				 (a >> 8) & 255, a & 255);
		} else {
			client_addr(i, addr, sizeof(addr));
		}
		snprintf(state, sizeof(state), "%s",
			 client >= 0 || r < 60 ? "RCPT" : "END-OF-MESSAGE");
		snprintf(sender, sizeof(sender), "news%u@s%u.bench.test", i % 50, i % 300);
		if (!strcmp(state, "END-OF-MESSAGE"))
			snprintf(rc, sizeof(rc), "1");
	} else {
		unsigned u = rnd() % 200;

		snprintf(addr, sizeof(addr), "198.18.%u.%u", u / 100, 10 + u % 100);
		snprintf(sasl, sizeof(sasl), "user%u@s%u.bench.test", u, u % 300);
		snprintf(sender, sizeof(sender), "user%u@s%u.bench.test", u, u % 300);
		snprintf(state, sizeof(state), "%s", r < 90 ? "RCPT" : "END-OF-MESSAGE");
		if (r >= 90)
			snprintf(rc, sizeof(rc), "%u", 1 + rnd() % 5);
	}
	return (size_t)snprintf(buf, len,
		"request=smtpd_access_policy\n"
		"protocol_state=%s\n"
		"protocol_name=ESMTP\n"
		"client_address=%s\n"
		"client_name=unknown\n"
		"client_port=%u\n"
		"reverse_client_name=unknown\n"
		"server_address=192.0.2.25\n"
		"server_port=25\n"
		"helo_name=mail.c%u.bench.test\n"
		"sender=%s\n"
		"recipient=postmaster@bench.test\n"
		"recipient_count=%s\n"
		"queue_id=4B%07X\n"
		"instance=%x.%x.0\n"
		"size=%u\n"
		"etrn_domain=\n"
		"stress=\n"
		"sasl_method=%s\n"
		"sasl_username=%s\n"
		"sasl_sender=\n"
		"ccert_subject=\n"
		"ccert_issuer=\n"
		"ccert_fingerprint=\n"
		"ccert_pubkey_fingerprint=\n"
		"encryption_protocol=TLSv1.3\n"
		"encryption_cipher=TLS_AES_256_GCM_SHA384\n"
		"encryption_keysize=256\n"
		"policy_context=\n"
		"compatibility_level=3.6\n"
		"mail_version=3.7.11\n"
		"\n",
		state, addr, 1024 + id % 60000, id % 997, sender, rc, id & 0xfffffff, id,
		id >> 8, 1000 + id % 50000, sasl[0] ? "PLAIN" : "", sasl);
}

static int connect_to(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct run {
	int ep;
	struct lconn *c;
	int nc;
	uint32_t *lat;
	size_t nlat, cap;
	uint64_t refused, errors, done, limit, reconnects;
	uint64_t interval_ns;	/* -r: per connection; 0 = closed loop */
	long next_client;	/* warm-up: next client index, or -1 */
};

static void send_next(struct run *R, struct lconn *c)
{
	long cl = -1;

	if (R->next_client >= 0) {
		if ((unsigned long)R->next_client >= nclients)
			return;
		cl = R->next_client++;
	}
	c->outlen = make_request(c->out, sizeof(c->out), cl);
	c->outoff = 0;
	c->sent_ns = now_ns();
	c->busy = 1;
	while (c->outoff < c->outlen) {
		ssize_t w = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);

		if (w <= 0) {
			if (w < 0 && errno == EAGAIN)
				continue;
			perror("write");
			exit(1);
		}
		c->outoff += (size_t)w;
	}
}

static struct sockaddr_in target;

/* The server closed c (Postfix reconnects too): open it again and resend
 * the request it had not answered; its latency keeps counting. */
static void reconnect(struct run *R, struct lconn *c)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };

	epoll_ctl(R->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = connect_to(&target);
	epoll_ctl(R->ep, EPOLL_CTL_ADD, c->fd, &e);
	c->inlen = 0;
	R->reconnects++;
	if (c->busy) {
		c->outoff = 0;
		while (c->outoff < c->outlen) {
			ssize_t w = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);

			if (w < 0 && errno == EAGAIN)
				continue;
			if (w <= 0) {
				perror("write");
				exit(1);
			}
			c->outoff += (size_t)w;
		}
	}
}

static void on_read(struct run *R, struct lconn *c, int measure)
{
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
		char *end;

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			reconnect(R, c);	/* and send the request again */
			return;
		}
		c->inlen += (size_t)n;
		while ((end = memmem(c->in, c->inlen, "\n\n", 2))) {
			size_t used = (size_t)(end - c->in) + 2;

			if (measure) {
				uint64_t us = (now_ns() - c->sent_ns) / 1000;

				if (R->nlat == R->cap) {
					R->cap = R->cap ? R->cap * 2 : 1 << 20;
					R->lat = realloc(R->lat, R->cap * sizeof(*R->lat));
				}
				R->lat[R->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
				if (strncmp(c->in, "action=", 7))
					R->errors++;
				else if (strncmp(c->in + 7, "DUNNO", 5) && strncmp(c->in + 7, "dunno", 5) &&
					 strncmp(c->in + 7, "PREPEND", 7) && strncmp(c->in + 7, "prepend", 7))
					R->refused++;
			}
			R->done++;
			memmove(c->in, c->in + used, c->inlen - used);
			c->inlen -= used;
			c->busy = 0;
		}
		if (!c->busy)
			return;
	}
}

static int stop_now(struct run *R, uint64_t deadline)
{
	return (deadline && now_ns() >= deadline) || (R->limit && R->done >= R->limit);
}

/* Run until deadline (ns) or limit requests; returns elapsed ns. */
static uint64_t run_phase(struct run *R, uint64_t seconds, int measure)
{
	struct epoll_event ev[256];
	uint64_t t0 = now_ns(), deadline = seconds ? t0 + seconds * 1000000000ull : 0;
	uint64_t interval = measure ? R->interval_ns : 0;
	int active = 0, stopping = 0;

	R->done = 0;
	for (int i = 0; i < R->nc; i++) {
		R->c[i].next_ns = t0 + (interval ? interval * (uint64_t)i / (uint64_t)R->nc : 0);
		if (!interval)
			send_next(R, &R->c[i]);
	}
	for (;;) {
		uint64_t now = now_ns(), wake = UINT64_MAX;
		int n, timeout = 1000;

		active = 0;
		stopping = stopping || stop_now(R, deadline);
		for (int i = 0; i < R->nc; i++) {
			struct lconn *c = &R->c[i];

			if (!c->busy && !stopping && interval) {
				if (c->next_ns <= now) {
					send_next(R, c);
					c->next_ns += interval;
					if (c->next_ns < now)
						c->next_ns = now;	/* behind: no burst */
				} else if (c->next_ns < wake) {
					wake = c->next_ns;
				}
			}
			active += c->busy;
		}
		if (!active && (stopping || !interval))
			break;
		if (wake != UINT64_MAX)	/* rounded up: no busy wait (--rt) */
			timeout = (int)((wake - now + 999999) / 1000000);
		n = epoll_wait(R->ep, ev, 256, timeout);
		for (int i = 0; i < n; i++) {
			struct lconn *c = ev[i].data.ptr;

			on_read(R, c, measure);
			if (c->busy || interval)
				continue;
			if (!stop_now(R, deadline))
				send_next(R, c);
		}
	}
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct run R = { .next_client = -1 };
	uint64_t seconds = 10, ns;
	int nc = 100, warm = 1, opt;
	char host[64];
	const char *colon;

	while ((opt = getopt(argc, argv, "c:d:n:k:r:uW")) != -1) {
		switch (opt) {
		case 'r': R.interval_ns = (uint64_t)(1e9 / atof(optarg)); break;
		case 'c': nc = atoi(optarg); break;
		case 'd': seconds = strtoull(optarg, NULL, 10); break;
		case 'n': R.limit = strtoull(optarg, NULL, 10); seconds = 0; break;
		case 'k': nclients = (unsigned)atoi(optarg); break;
		case 'u': unique = 1; warm = 0; break;
		case 'W': warm = 0; break;
		default:
			fprintf(stderr, "usage: policy_load [-c conns] [-d seconds | -n requests] "
				"[-k clients] [-r rate] [-u] [-W] ADDR:PORT\n");
			return 2;
		}
	}
	if (optind >= argc || !(colon = strrchr(argv[optind], ':')) ||
	    (size_t)(colon - argv[optind]) >= sizeof(host) || nc < 1 || nclients < 1) {
		fprintf(stderr, "policy_load: need ADDR:PORT\n");
		return 2;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - argv[optind]), argv[optind]);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "policy_load: bad address %s\n", host);
		return 2;
	}
	R.interval_ns *= (uint64_t)nc;	/* per connection */
	R.ep = epoll_create1(0);
	R.nc = nc;
	R.c = calloc((size_t)nc, sizeof(*R.c));
	for (int i = 0; i < nc; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &R.c[i] };

		R.c[i].fd = connect_to(&sa);
		target = sa;
		epoll_ctl(R.ep, EPOLL_CTL_ADD, R.c[i].fd, &e);
	}
	if (warm) {
		uint64_t limit = R.limit;

		R.next_client = 0;
		R.limit = 0;
		ns = run_phase(&R, 0, 0);
		fprintf(stderr, "policy_load: warm-up: %u clients in %.2f s\n", nclients,
			(double)ns / 1e9);
		R.next_client = -1;
		R.limit = limit;
	}
	ns = run_phase(&R, seconds, 1);
	if (!R.nlat) {
		fprintf(stderr, "policy_load: no answers\n");
		return 1;
	}
	qsort(R.lat, R.nlat, sizeof(*R.lat), cmp_u32);
#define PCT(p) R.lat[(size_t)((double)(R.nlat - 1) * (p))]
	printf("requests=%zu seconds=%.3f rps=%.0f p50_us=%u p90_us=%u p99_us=%u "
	       "p999_us=%u max_us=%u refused=%llu errors=%llu reconnects=%llu\n",
	       R.nlat, (double)ns / 1e9, (double)R.nlat / ((double)ns / 1e9), PCT(0.50),
	       PCT(0.90), PCT(0.99), PCT(0.999), R.lat[R.nlat - 1],
	       (unsigned long long)R.refused, (unsigned long long)R.errors,
	       (unsigned long long)R.reconnects);
	return R.errors ? 1 : 0;
}
