/*
 * server.c - listeners, workers, TCP, reloads; see server.h.
 *
 * SECURITY: untrusted packets arrive here and go to query_answer(); TCP
 * connections are bounded in number, message size and idle time. Sockets
 * are bound as root, then privileges are dropped (setgroups, chroot,
 * setgid, setuid) before any packet is read.
 */
#define _GNU_SOURCE
#include "serve/server.h"
#include "serve/axfr.h"
#include "serve/stats.h"
#include "serve/qlog.h"
#include "serve/query.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define BATCH 32
#define UDP_IN 2048             /* larger queries are not DNSBL queries */
#define UDP_OUT 1280            /* our EDNS UDP size (1232) fits */
#define TCP_MAX_CONN 256
#define XFR_SLOTS 4             /* zone transfers running at once */
#define MAX_THREADS 256

/* --- the zone set in use, and quiescent-state reclamation --- */

static _Atomic(struct zoneset *) current;
static _Atomic uint64_t epoch = 1;
static int querylog;            /* -l given */

struct worker {
	pthread_t tid;
	_Atomic uint64_t seen;          /* epoch when it took current; 0 idle */
	uint64_t (*stats)[ST_COUNT];    /* per zone (see stats.h) */
	uint64_t *global;               /* queries to no zone */
	int fd;
	int tcp;                        /* 0 UDP, 1 TCP, 2 zone transfer slot */
	_Atomic int busy;               /* transfer slot in use */
	const struct server_opts *o;
};

static struct worker *workers;
static unsigned nworkers;
static unsigned nzones;
static volatile sig_atomic_t stopping;

static const struct zoneset *enter(struct worker *w)
{
	atomic_store(&w->seen, atomic_load(&epoch));
	return atomic_load(&current);
}

static void leave(struct worker *w)
{
	atomic_store(&w->seen, 0);
}

/* Swap in ns; wait until no worker can still use the old set; return it. */
static struct zoneset *publish(struct zoneset *ns)
{
	struct zoneset *old = atomic_exchange(&current, ns);
	uint64_t e = atomic_fetch_add(&epoch, 1) + 1;

	for (unsigned i = 0; i < nworkers; i++) {
		uint64_t s;

		while ((s = atomic_load(&workers[i].seen)) != 0 && s < e)
			usleep(100);
	}
	return old;
}

/* --- addresses --- */

static int parse_bind(const char *spec, int family, struct addrinfo **res)
{
	char host[256], *port = "53";
	const char *slash = strrchr(spec, '/');
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	int rc;

	if (slash) {
		snprintf(host, sizeof(host), "%.*s", (int)(slash - spec), spec);
		port = (char *)slash + 1;
	} else {
		snprintf(host, sizeof(host), "%s", spec);
	}
	hints.ai_family = family ? family : AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags &= ~AI_NUMERICSERV;
	rc = getaddrinfo(*host ? host : NULL, port, &hints, res);
	if (rc) {
		log_err("cannot resolve listen address '%s': %s", spec, gai_strerror(rc));
		return -1;
	}
	return 0;
}

static int open_socket(const struct addrinfo *ai, int type, int reuseport)
{
	int fd = socket(ai->ai_family, type | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (type == SOCK_DGRAM) {
		/* room for bursts: a queue that overflows loses queries */
		int size = 8 << 20;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) != 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* -l: one line per answered query. */
static void log_query(const struct sockaddr *peer, const uint8_t *req, size_t rl,
		      const uint8_t *resp, size_t len)
{
	char line[1200];
	size_t n = qlog_format(line, sizeof(line), time(NULL), peer, req, rl, resp, len);

	if (n)
		qlog_write(line, n);
}

/* --- UDP --- */

static void *udp_main(void *arg)
{
	struct worker *w = arg;
	static __thread uint8_t in[BATCH][UDP_IN], out[BATCH][UDP_OUT];
	struct mmsghdr rmsg[BATCH], smsg[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	struct sockaddr_storage peer[BATCH];
	struct query_ctx qc = { .stats = w->stats, .global = w->global,
				.version = w->o->version, .lazy = w->o->lazy };

	for (int i = 0; i < BATCH; i++) {
		riov[i].iov_base = in[i];
		riov[i].iov_len = UDP_IN;
	}
	while (!stopping) {
		int n, k = 0;

		for (int i = 0; i < BATCH; i++) {
			memset(&rmsg[i].msg_hdr, 0, sizeof(rmsg[i].msg_hdr));
			rmsg[i].msg_hdr.msg_iov = &riov[i];
			rmsg[i].msg_hdr.msg_iovlen = 1;
			rmsg[i].msg_hdr.msg_name = &peer[i];
			rmsg[i].msg_hdr.msg_namelen = sizeof(peer[i]);
		}
		n = recvmmsg(w->fd, rmsg, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		qc.zs = enter(w);
		for (int i = 0; i < n; i++) {
			size_t len;

			qc.peer = (struct sockaddr *)&peer[i];
			len = query_answer(&qc, in[i], rmsg[i].msg_len, out[k], UDP_OUT);
			if (!len)
				continue;
			if (querylog)
				log_query(qc.peer, in[i], rmsg[i].msg_len, out[k], len);
			siov[k].iov_base = out[k];
			siov[k].iov_len = len;
			memset(&smsg[k].msg_hdr, 0, sizeof(smsg[k].msg_hdr));
			smsg[k].msg_hdr.msg_iov = &siov[k];
			smsg[k].msg_hdr.msg_iovlen = 1;
			smsg[k].msg_hdr.msg_name = &peer[i];
			smsg[k].msg_hdr.msg_namelen = rmsg[i].msg_hdr.msg_namelen;
			k++;
		}
		leave(w);
		for (int sent = 0; sent < k; ) {
			int r = sendmmsg(w->fd, smsg + sent, (unsigned)(k - sent), 0);
			if (r <= 0) {
				if (errno == EINTR)
					continue;
				break;  /* drop the rest, as a busy server must */
			}
			sent += r;
		}
	}
	return NULL;
}

/* --- TCP --- */

struct conn {
	int fd;
	uint8_t *buf;           /* 2-byte length + message */
	size_t have;
	uint64_t last;
	struct sockaddr_storage peer;
};

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			if (poll(&pf, 1, 5000) <= 0)
				return -1;
			continue;
		}
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int send_framed(void *arg, const uint8_t *msg, size_t len)
{
	int fd = *(int *)arg;
	uint8_t l[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	return send_all(fd, l, 2) || send_all(fd, msg, len) ? -1 : 0;
}

/* A zone transfer on a thread of its own, so that a slow secondary does
 * not hold up the other TCP clients. It owns the connection. */
struct xfr_job {
	struct worker *slot;
	int fd;
	const struct zone *z;
	uint8_t req[512];       /* header and question */
	size_t qlen;
};

static void *xfr_main(void *arg)
{
	struct xfr_job *j = arg;

	axfr_run(j->z, j->req, j->qlen, send_framed, &j->fd);
	close(j->fd);
	leave(j->slot);
	atomic_store(&j->slot->busy, 0);
	free(j);
	return NULL;
}

/* Hand the transfer of z to a free slot; 1 when it took the connection.
 * The slot inherits w's epoch: the zone set w entered stays alive until
 * the transfer leaves it. */
static int start_xfr(struct worker *w, int fd, const struct zone *z,
		     const uint8_t *req, size_t qlen)
{
	pthread_t t;
	pthread_attr_t attr;

	if (qlen == 0 || qlen > sizeof(((struct xfr_job *)0)->req))
		return 0;
	for (unsigned i = 0; i < nworkers; i++) {
		struct worker *s = &workers[i];
		struct xfr_job *j;
		int rc;

		if (s->tcp != 2 || atomic_exchange(&s->busy, 1))
			continue;
		j = xmalloc(sizeof(*j));
		j->slot = s;
		j->fd = fd;
		j->z = z;
		j->qlen = qlen;
		memcpy(j->req, req, qlen);
		atomic_store(&s->seen, atomic_load(&w->seen));
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&t, &attr, xfr_main, j);
		pthread_attr_destroy(&attr);
		if (rc == 0)
			return 1;
		leave(s);
		atomic_store(&s->busy, 0);
		free(j);
		return 0;
	}
	return 0;
}

/* Answer every complete message in c; returns -1 to close, -2 when a
 * transfer thread took the connection. */
static int tcp_serve(struct worker *w, struct conn *c, uint8_t *out)
{
	while (c->have >= 2) {
		size_t mlen = (size_t)c->buf[0] << 8 | c->buf[1], len;
		struct query_ctx qc = { .stats = w->stats, .global = w->global,
					.version = w->o->version, .lazy = w->o->lazy,
					.tcp = 1, .peer = (struct sockaddr *)&c->peer };
		int rc = 0;

		if (c->have < 2 + mlen)
			return 0;
		qc.zs = enter(w);
		len = query_answer(&qc, c->buf + 2, mlen, out, 65535);
		if (len && querylog)
			log_query(qc.peer, c->buf + 2, mlen, out, len);
		if (len) {
			rc = send_framed(&c->fd, out, len);
		} else if (qc.xfr_zone) {
			size_t ql = axfr_question_len(c->buf + 2, mlen);

			if (start_xfr(w, c->fd, qc.xfr_zone, c->buf + 2, ql)) {
				leave(w);
				return -2;
			}
			/* all slots busy: transfer here */
			rc = axfr_run(qc.xfr_zone, c->buf + 2, ql, send_framed, &c->fd);
		}
		leave(w);
		if (rc)
			return -1;
		memmove(c->buf, c->buf + 2 + mlen, c->have - 2 - mlen);
		c->have -= 2 + mlen;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
}

static void tcp_accept(struct worker *w, struct conn *conns, unsigned *nconn)
{
	struct conn c = { .last = now_ms() };
	socklen_t sl = sizeof(c.peer);

	c.fd = accept4(w->fd, (struct sockaddr *)&c.peer, &sl,
		       SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c.fd < 0)
		return;
	if (*nconn >= TCP_MAX_CONN) {
		/* full: drop the connection idle longest */
		unsigned old = 0;
		for (unsigned i = 1; i < *nconn; i++)
			if (conns[i].last < conns[old].last)
				old = i;
		conn_close(&conns[old]);
		conns[old] = conns[--*nconn];
	}
	c.buf = xmalloc(2 + 65535);
	conns[(*nconn)++] = c;
}

static void *tcp_main(void *arg)
{
	struct worker *w = arg;
	struct conn *conns = xcalloc(TCP_MAX_CONN, sizeof(*conns));
	struct pollfd *pf = xcalloc(TCP_MAX_CONN + 1, sizeof(*pf));
	uint8_t *out = xmalloc(65536);
	unsigned nconn = 0;

	while (!stopping) {
		uint64_t now;
		int n;

		pf[0].fd = w->fd;
		pf[0].events = POLLIN;
		for (unsigned i = 0; i < nconn; i++) {
			pf[i + 1].fd = conns[i].fd;
			pf[i + 1].events = POLLIN;
		}
		n = poll(pf, nconn + 1, w->o->tcp_idle_ms < 1000 ? w->o->tcp_idle_ms : 1000);
		now = now_ms();
		for (unsigned i = 0; n >= 0 && i < nconn; i++) {
			struct conn *c = &conns[i];
			ssize_t r = 0;

			if (pf[i + 1].revents) {
				r = recv(c->fd, c->buf + c->have, 2 + 65535 - c->have, 0);
				if (r > 0) {
					int st;

					c->have += (size_t)r;
					c->last = now;
					st = tcp_serve(w, c, out);
					if (st == -2)
						c->fd = -1;     /* given away */
					if (st)
						r = 0;
				} else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
					r = 1;
				}
			} else {
				r = now - c->last > (uint64_t)w->o->tcp_idle_ms ? 0 : 1;
			}
			if (r <= 0) {
				conn_close(c);
				conns[i] = conns[--nconn];
				pf[i + 1] = pf[nconn + 1];
				i--;
			}
		}
		if (n > 0 && (pf[0].revents & POLLIN))
			tcp_accept(w, conns, &nconn);
		if (n < 0 && errno != EINTR)
			usleep(10000);
	}
	for (unsigned i = 0; i < nconn; i++)
		conn_close(&conns[i]);
	free(conns);
	free(pf);
	free(out);
	return NULL;
}

/* --- start-up --- */

static int cpu_count(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
	return 1;
}

static int drop_privileges(const struct server_opts *o)
{
	struct passwd *pw = NULL;
	gid_t gid = 0;
	char user[128], *colon;

	if (o->user) {
		snprintf(user, sizeof(user), "%s", o->user);
		colon = strchr(user, ':');
		if (colon)
			*colon++ = '\0';
		pw = getpwnam(user);
		if (!pw) {
			log_err("unknown user '%s'", user);
			return -1;
		}
		gid = pw->pw_gid;
		if (colon) {
			struct group *gr = getgrnam(colon);

			if (!gr) {
				log_err("unknown group '%s'", colon);
				return -1;
			}
			gid = gr->gr_gid;
		}
		if (setgroups(1, &gid) != 0) {
			log_err("setgroups: %s", strerror(errno));
			return -1;
		}
	}
	if (o->rootdir && (chroot(o->rootdir) != 0 || chdir("/") != 0)) {
		log_err("chroot %s: %s", o->rootdir, strerror(errno));
		return -1;
	}
	if (o->workdir && chdir(o->workdir) != 0) {
		log_err("chdir %s: %s", o->workdir, strerror(errno));
		return -1;
	}
	if (pw && (setgid(gid) != 0 || setuid(pw->pw_uid) != 0)) {
		log_err("cannot become %s: %s", o->user, strerror(errno));
		return -1;
	}
	if (!pw && geteuid() == 0)
		log_warn("running as root: use -u USER to drop privileges");
	return 0;
}

static void add_worker(int fd, int tcp, const struct server_opts *o)
{
	struct worker *w;

	if (nworkers == MAX_THREADS)
		fatal("too many listener threads");
	w = &workers[nworkers++];
	w->fd = fd;
	w->tcp = tcp;
	w->o = o;
}

static void open_listeners(const struct server_opts *o, int threads)
{
	for (unsigned b = 0; b < o->nbinds; b++) {
		struct addrinfo *res, *ai;
		int any = 0;

		if (parse_bind(o->binds[b], o->family, &res))
			exit(1);
		for (ai = res; ai; ai = ai->ai_next) {
			int fd;

			for (int t = 0; t < threads; t++) {
				fd = open_socket(ai, SOCK_DGRAM, 1);
				if (fd < 0)
					fatal("cannot listen on %s (udp): %s",
					      o->binds[b], strerror(errno));
				add_worker(fd, 0, o);
			}
			fd = open_socket(ai, SOCK_STREAM, 0);
			if (fd < 0)
				fatal("cannot listen on %s (tcp): %s", o->binds[b],
				      strerror(errno));
			fcntl(fd, F_SETFL, O_NONBLOCK);
			add_worker(fd, 1, o);
			any = 1;
		}
		freeaddrinfo(res);
		if (!any)
			fatal("no address for %s", o->binds[b]);
	}
}

/* --- the metrics listener's socket (served by stats.c) --- */

static int http_fd = -1;

static void open_http(const char *spec, int family)
{
	struct addrinfo *res;

	if (parse_bind(spec, family, &res))
		exit(1);
	http_fd = open_socket(res, SOCK_STREAM, 0);
	if (http_fd < 0)
		fatal("cannot listen on %s (http): %s", spec, strerror(errno));
	freeaddrinfo(res);
}

/* --- main loop --- */

/* The main thread builds new data at idle priority: on a busy machine
 * (or a server pinned to one core) the workers come first, so a reload
 * of millions of entries does not add latency to queries. */
static void idle_priority(int on)
{
	struct sched_param sp = { 0 };

	sched_setscheduler(0, on ? SCHED_IDLE : SCHED_OTHER, &sp);
}

static void reload(struct server_opts *o, int force)
{
	struct zoneset *old = atomic_load(&current), *ns;
	int changed = 0;
	uint64_t t0 = now_ms();

	idle_priority(1);
	ns = zoneset_build(o->specs, o->nspecs, &o->ds, old, force, &changed);
	idle_priority(0);
	if (!ns)
		return;
	/* publish when new data loaded, or when an expiry changed what is
	 * served; a failed load alone changes nothing (and was logged) */
	if (!changed && !zoneset_expiry_changed(old, ns)) {
		zoneset_free(ns);       /* it owns nothing: all shared with old */
		return;
	}
	old = publish(ns);
	zoneset_handover(old, ns);
	zoneset_free(old);
	log_info("reloaded in %llu ms", (unsigned long long)(now_ms() - t0));
}

static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		log_warn("%s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

/* Load the first data (as rbldnsd: after chroot and privilege drop, so
 * that reloads see the same paths and rights). */
static struct zoneset *first_load(const struct server_opts *o)
{
	struct zoneset *zs = zoneset_build(o->specs, o->nspecs, &o->ds, NULL, 1, NULL);

	if (!zs)
		fatal("cannot load the data; not starting");
	const char **names;

	zoneset_check_testpoints(zs);
	nzones = zoneset_count(zs);
	names = xcalloc(nzones ? nzones : 1, sizeof(*names));
	for (unsigned z = 0; z < nzones; z++)
		names[z] = zoneset_zone(zs, z)->text;
	stats_init(nzones, names);
	free(names);
	for (unsigned i = 0; i < nworkers; i++)
		stats_thread(&workers[i].stats, &workers[i].global);
	return zs;
}

static void start_threads(void)
{
	for (unsigned i = 0; i < nworkers; i++)
		if (workers[i].tcp != 2 &&
		    pthread_create(&workers[i].tid, NULL,
				   workers[i].tcp ? tcp_main : udp_main, &workers[i]))
			fatal("cannot start threads");
	if (http_fd >= 0)
		stats_http_start(http_fd);
}

static void main_loop(struct server_opts *o, const sigset_t *set)
{
	uint64_t next_check = now_ms() + o->check_interval * 1000ull;

	while (!stopping) {
		struct timespec ts = { 1, 0 };
		int sig = sigtimedwait(set, NULL, &ts);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			if (querylog && qlog_reopen())
				log_warn("cannot reopen the query log: %s", strerror(errno));
			reload(o, 0);
		}
		if (querylog)
			qlog_flush();
		if (sig == SIGUSR1 || sig == SIGUSR2)
			stats_log();
		if (o->check_interval && now_ms() >= next_check) {
			if (zoneset_stale(atomic_load(&current), time(NULL)))
				reload(o, 0);
			if (o->statsfile)
				stats_write_file(o->statsfile, 0);
			next_check = now_ms() + o->check_interval * 1000ull;
		}
	}
}

int server_run(struct server_opts *o)
{
	sigset_t set;
	int threads = o->threads > 0 ? o->threads : cpu_count();
	uint64_t t0 = now_ms();

	if (!o->nbinds && !o->check_only)
		fatal("no listen address: use -b address/port");
	if (!o->nspecs)
		fatal("no zones given (zone:type:file...)");
	block_signals(&set);
	workers = xcalloc(MAX_THREADS, sizeof(*workers));
	if (o->check_only) {
		zoneset_free(first_load(o));
		log_info("data loaded: %u zones in %llu ms", nzones,
			 (unsigned long long)(now_ms() - t0));
		stats_free();
		free(workers);
		return 0;
	}
	open_listeners(o, threads);
	for (int i = 0; i < XFR_SLOTS; i++)
		add_worker(-1, 2, o);
	if (o->http)
		open_http(o->http, o->family);
	if (o->pidfile)
		write_pidfile(o->pidfile);
	if (drop_privileges(o))
		return 1;
	if (o->querylog) {      /* created as the user, inside the chroot */
		if (qlog_open(o->querylog))
			fatal("query log %s: %s", o->querylog, strerror(errno));
		querylog = 1;
	}
	atomic_store(&current, first_load(o));
	start_threads();
	log_info("serving %u zones on %u addresses with %d threads; ready in %llu ms",
		 nzones, o->nbinds, threads, (unsigned long long)(now_ms() - t0));
	if (o->statsfile)
		stats_write_file(o->statsfile, 1);
	main_loop(o, &set);
	stopping = 1;
	if (o->statsfile)
		stats_write_file(o->statsfile, 1);
	log_info("exiting");
	_exit(0);
}
