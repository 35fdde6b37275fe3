/*
 * notify.c - NOTIFY to secondaries; see notify.h.
 *
 * One thread owns an IPv4 and an IPv6 UDP socket and a list of pending
 * NOTIFYs (zone, target, serial, message ID, tries). It sends what is due,
 * waits in poll() for responses, for the next retry or for the main
 * thread's wake-up byte, and drops an entry when its target answers or
 * after the last try (logged). A newer serial of the same zone for the
 * same target replaces the entry.
 *
 * SECURITY: responses are untrusted: only the 12-byte header is read, and
 * a response counts only from the target's own address and port with the
 * ID we sent (random, from getrandom). Sends never block (MSG_DONTWAIT).
 */
#define _GNU_SOURCE
#include "serve/notify.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>

#define NOTIFY_TRIES 5          /* then give up (logged) */
#define NOTIFY_FIRST_MS 1000    /* wait before the first retry; doubles */
#define NOTIFY_MAX_PENDING 4096

struct target {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];
};

struct pending {
	uint8_t zone[256];      /* wire name */
	unsigned zlen;
	char text[256];
	uint32_t serial;
	unsigned target;
	uint16_t id;
	int tries;              /* sent so far */
	uint64_t next;          /* ms: when to send (again) */
};

struct notifier {
	struct target *t;
	unsigned nt;
	int fd[2];              /* IPv4, IPv6 (-1 when no target needs it) */
	int wake[2];            /* pipe: the main thread queued something */
	pthread_t tid;
	pthread_mutex_t lock;   /* guards p, np and stop */
	struct pending *p;
	size_t np;
	int stop;
	int held;               /* queued, not sent before notify_release() */
};

int notify_parse_target(const char *spec, struct sockaddr_storage *ss,
			socklen_t *len)
{
	char host[64];
	const char *port = NULL, *colon = strrchr(spec, ':');
	unsigned long pn = 53;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '[') {                   /* [v6]:port or [v6] */
		const char *rb = strchr(spec, ']');

		if (!rb || (size_t)(rb - spec - 1) >= sizeof(host) ||
		    (rb[1] && rb[1] != ':'))
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(rb - spec - 1), spec + 1);
		port = rb[1] ? rb + 2 : NULL;
	} else if (colon && strchr(spec, ':') == colon) {       /* v4:port */
		if ((size_t)(colon - spec) >= sizeof(host))
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		port = colon + 1;
	} else {                                /* v4 or bare v6 */
		if (strlen(spec) >= sizeof(host))
			return -1;
		snprintf(host, sizeof(host), "%s", spec);
	}
	if (port) {
		errno = 0;
		pn = strtoul(port, &end, 10);
		if (!*port || *end || errno || pn == 0 || pn > 65535)
			return -1;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pn);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pn);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static void format_target(struct target *t)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (t->ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&t->ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(t->text, sizeof(t->text), "%s:%u", a, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&t->ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(t->text, sizeof(t->text), "[%s]:%u", a, ntohs(s->sin6_port));
	}
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return x->sin6_port == y->sin6_port &&
	       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
}

static uint16_t random_id(void)
{
	uint16_t id;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
		id = (uint16_t)(now_ms() * 40503u);
	return id;
}

/* Send p (caller holds the lock). */
static void send_one(struct notifier *nt, struct pending *p)
{
	const struct target *t = &nt->t[p->target];
	uint8_t msg[12 + 256 + 4] = { 0 };
	size_t n = 12;
	int fd = nt->fd[t->ss.ss_family == AF_INET6];

	msg[0] = (uint8_t)(p->id >> 8);
	msg[1] = (uint8_t)p->id;
	msg[2] = 0x24;                  /* opcode NOTIFY, AA */
	msg[5] = 1;                     /* QDCOUNT */
	memcpy(msg + n, p->zone, p->zlen);
	n += p->zlen;
	msg[n + 1] = 6;                 /* SOA */
	msg[n + 3] = 1;                 /* IN */
	n += 4;
	if (sendto(fd, msg, n, MSG_DONTWAIT, (const struct sockaddr *)&t->ss,
		   t->len) < 0 && p->tries == 0)
		log_warn("zone %s: NOTIFY to %s: %s", p->text, t->text, strerror(errno));
}

static void drop(struct notifier *nt, size_t i)
{
	nt->p[i] = nt->p[--nt->np];
}

/* Send what is due; returns ms until the next send or give-up (or -1). */
static int run_due(struct notifier *nt)
{
	uint64_t now = now_ms(), next = UINT64_MAX;

	pthread_mutex_lock(&nt->lock);
	for (size_t i = 0; !nt->held && i < nt->np; i++) {
		struct pending *p = &nt->p[i];

		if (p->next <= now) {
			if (p->tries == NOTIFY_TRIES) {
				log_warn("zone %s: no answer from %s to NOTIFY (serial %u) "
					 "after %d tries", p->text, nt->t[p->target].text,
					 p->serial, NOTIFY_TRIES);
				drop(nt, i--);
				continue;
			}
			send_one(nt, p);
			p->next = now + ((uint64_t)NOTIFY_FIRST_MS << p->tries);
			p->tries++;
		}
		if (p->next < next)
			next = p->next;
	}
	pthread_mutex_unlock(&nt->lock);
	return next == UINT64_MAX ? -1 : (int)(next - now);
}

/* Read the responses waiting on fd. */
static void read_responses(struct notifier *nt, int fd)
{
	uint8_t buf[512];
	struct sockaddr_storage from;

	for (;;) {
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		uint16_t id;

		if (r < 0)
			return;
		if (r < 12 || !(buf[2] & 0x80) || ((buf[2] >> 3) & 15) != 4)
			continue;       /* not a response to a NOTIFY */
		id = (uint16_t)(buf[0] << 8 | buf[1]);
		pthread_mutex_lock(&nt->lock);
		for (size_t i = 0; i < nt->np; i++) {
			struct pending *p = &nt->p[i];
			const struct target *t = &nt->t[p->target];

			if (p->id != id || !same_addr(&from, &t->ss))
				continue;
			if (buf[3] & 15)
				log_warn("zone %s: %s answered NOTIFY (serial %u) with "
					 "rcode %d", p->text, t->text, p->serial, buf[3] & 15);
			else
				log_info("zone %s: NOTIFY (serial %u) acknowledged by %s",
					 p->text, p->serial, t->text);
			drop(nt, i);
			break;
		}
		pthread_mutex_unlock(&nt->lock);
	}
}

static void *notify_main(void *arg)
{
	struct notifier *nt = arg;

	for (;;) {
		struct pollfd pf[3] = {
			{ .fd = nt->wake[0], .events = POLLIN },
			{ .fd = nt->fd[0], .events = POLLIN },
			{ .fd = nt->fd[1], .events = POLLIN },
		};
		int wait = run_due(nt), stop;
		char drain[64];

		pthread_mutex_lock(&nt->lock);
		stop = nt->stop;
		pthread_mutex_unlock(&nt->lock);
		if (stop)
			break;
		if (poll(pf, 3, wait) <= 0)
			continue;
		if (pf[0].revents)
			while (read(nt->wake[0], drain, sizeof(drain)) > 0)
				;
		for (int k = 0; k < 2; k++)
			if (pf[k + 1].revents)
				read_responses(nt, nt->fd[k]);
	}
	return NULL;
}

static int open_udp(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		log_err("NOTIFY socket: %s", strerror(errno));
	return fd;
}

struct notifier *notify_start(char *const *targets, unsigned n)
{
	struct notifier *nt = xcalloc(1, sizeof(*nt));
	int need[2] = { 0, 0 };

	nt->fd[0] = nt->fd[1] = nt->wake[0] = nt->wake[1] = -1;
	nt->t = xcalloc(n ? n : 1, sizeof(*nt->t));
	for (unsigned i = 0; i < n; i++) {
		struct target *t = &nt->t[nt->nt];

		if (notify_parse_target(targets[i], &t->ss, &t->len)) {
			log_err("invalid NOTIFY target '%s' (expected ADDR[:PORT] "
				"or [IPv6]:PORT)", targets[i]);
			goto fail;
		}
		format_target(t);
		need[t->ss.ss_family == AF_INET6] = 1;
		nt->nt++;
	}
	for (int k = 0; k < 2; k++)
		if (need[k] && (nt->fd[k] = open_udp(k ? AF_INET6 : AF_INET)) < 0)
			goto fail;
	if (pipe2(nt->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		log_err("NOTIFY: pipe: %s", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&nt->lock, NULL);
	if (pthread_create(&nt->tid, NULL, notify_main, nt) != 0) {
		log_err("NOTIFY: cannot start the thread");
		pthread_mutex_destroy(&nt->lock);
		goto fail;
	}
	return nt;
fail:
	for (int k = 0; k < 2; k++) {
		if (nt->fd[k] >= 0)
			close(nt->fd[k]);
		if (nt->wake[k] >= 0)
			close(nt->wake[k]);
	}
	free(nt->t);
	free(nt);
	return NULL;
}

/* Queue zone z for every target (caller holds the lock). */
static void queue_zone(struct notifier *nt, const struct zone *z, uint64_t now)
{
	for (unsigned t = 0; t < nt->nt; t++) {
		struct pending *p = NULL;

		for (size_t i = 0; i < nt->np && !p; i++)
			if (nt->p[i].target == t && nt->p[i].zlen == z->namelen &&
			    !memcmp(nt->p[i].zone, z->name, z->namelen))
				p = &nt->p[i];
		if (!p) {
			if (nt->np == NOTIFY_MAX_PENDING) {
				log_warn("zone %s: too many NOTIFYs pending; not sent to %s",
					 z->text, nt->t[t].text);
				continue;
			}
			nt->p = xreallocarray(nt->p, nt->np + 1, sizeof(*nt->p));
			p = &nt->p[nt->np++];
			memcpy(p->zone, z->name, z->namelen);
			p->zlen = z->namelen;
			snprintf(p->text, sizeof(p->text), "%s", z->text);
			p->target = t;
		}
		p->serial = z->serial;
		p->id = random_id();
		p->tries = 0;
		p->next = now;
	}
}

void notify_changes(struct notifier *nt, const struct zoneset *old,
		    const struct zoneset *new)
{
	unsigned queued = 0;

	if (!nt)
		return;
	pthread_mutex_lock(&nt->lock);
	for (unsigned i = 0; i < zoneset_count(new); i++) {
		const struct zone *z = zoneset_zone(new, i), *oz = NULL;

		if (!z->soa || !z->loaded)
			continue;
		if (old && i < zoneset_count(old))
			oz = zoneset_zone(old, i);
		if (oz && oz->loaded && oz->serial == z->serial &&
		    !strcmp(oz->text, z->text))
			continue;
		queue_zone(nt, z, now_ms());
		queued++;
	}
	if (queued)
		nt->held = 1;
	pthread_mutex_unlock(&nt->lock);
}

void notify_release(struct notifier *nt)
{
	int wake;

	if (!nt)
		return;
	pthread_mutex_lock(&nt->lock);
	wake = nt->held;
	nt->held = 0;
	pthread_mutex_unlock(&nt->lock);
	if (wake && write(nt->wake[1], "", 1) < 0 && errno != EAGAIN)
		log_warn("NOTIFY: cannot wake the thread: %s", strerror(errno));
}

void notify_stop(struct notifier *nt)
{
	if (!nt)
		return;
	pthread_mutex_lock(&nt->lock);
	nt->stop = 1;
	pthread_mutex_unlock(&nt->lock);
	if (write(nt->wake[1], "", 1) < 0 && errno != EAGAIN)
		log_warn("NOTIFY: cannot wake the thread: %s", strerror(errno));
	pthread_join(nt->tid, NULL);
	pthread_mutex_destroy(&nt->lock);
	for (int k = 0; k < 2; k++) {
		if (nt->fd[k] >= 0)
			close(nt->fd[k]);
		close(nt->wake[k]);
	}
	free(nt->p);
	free(nt->t);
	free(nt);
}
