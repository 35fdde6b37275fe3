/*
 * server.c - listeners, UDP workers, start-up, reloads; see server.h (TCP
 * is in tcp.c, the zone set in use in snap.c).
 *
 * SECURITY: untrusted packets arrive here and go to query_answer(). Sockets
 * are bound as root, then privileges are dropped (setgroups, chroot,
 * setgid, setuid) before any packet is read.
 */
#define _GNU_SOURCE
#include "serve/server.h"
#include "serve/qlog.h"
#include "serve/notify.h"
#include "serve/query.h"
#include "serve/snap.h"
#include "serve/stats.h"
#include "serve/tcp.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
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
#include <sys/socket.h>

#define BATCH 32
#define UDP_IN 2048             /* larger queries are not DNSBL queries */
#define UDP_OUT 1280            /* our EDNS UDP size (1232) fits */
#define MAX_THREADS 256         /* listener threads (stats.c has room) */

static int querylog;            /* -l given */

struct worker {
	pthread_t tid;
	struct snap_reader rd;
	uint64_t (*stats)[ST_COUNT];    /* per zone (see stats.h) */
	uint64_t *global;               /* queries to no zone */
	int fd;
	int tcp;                        /* 0 UDP, 1 TCP */
	struct tcp_listener tl;         /* TCP: the listener thread's */
	const struct server_opts *o;
};

static struct worker *workers;
static unsigned nworkers;
static unsigned nzones;
static atomic_int stopping;     /* read by the workers */

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

/* --- UDP --- */

static void *udp_main(void *arg)
{
	struct worker *w = arg;
	static __thread uint8_t in[BATCH][UDP_IN], out[BATCH][UDP_OUT];
	struct mmsghdr rmsg[BATCH], smsg[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	struct sockaddr_storage peer[BATCH];
	int src[BATCH];                 /* request of each response */
	struct query_ctx qc = { .stats = w->stats, .global = w->global,
				.version = w->o->version, .lazy = w->o->lazy,
				.xfr_allow = w->o->allow_transfer };

	for (int i = 0; i < BATCH; i++) {
		riov[i].iov_base = in[i];
		riov[i].iov_len = UDP_IN;
	}
	while (!atomic_load(&stopping)) {
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
		qc.zs = snap_enter(&w->rd);
		for (int i = 0; i < n; i++) {
			size_t len;

			qc.peer = (struct sockaddr *)&peer[i];
			len = query_answer(&qc, in[i], rmsg[i].msg_len, out[k], UDP_OUT);
			if (!len)
				continue;
			siov[k].iov_base = out[k];
			siov[k].iov_len = len;
			memset(&smsg[k].msg_hdr, 0, sizeof(smsg[k].msg_hdr));
			smsg[k].msg_hdr.msg_iov = &siov[k];
			smsg[k].msg_hdr.msg_iovlen = 1;
			smsg[k].msg_hdr.msg_name = &peer[i];
			smsg[k].msg_hdr.msg_namelen = rmsg[i].msg_hdr.msg_namelen;
			src[k++] = i;
		}
		snap_leave(&w->rd);
		for (int j = 0; querylog && j < k; j++)         /* outside the section */
			qlog_query((struct sockaddr *)&peer[src[j]], in[src[j]],
				   rmsg[src[j]].msg_len, out[j], siov[j].iov_len);
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
	if (snap_register(&w->rd))
		fatal("too many listener threads");
}

/* UDP threads per address: as asked, or one per CPU, but never more than
 * MAX_THREADS in all (each address also has its TCP thread). */
static int threads_per_address(const struct server_opts *o, unsigned naddr)
{
	int want = o->threads > 0 ? o->threads : cpu_count();
	int room = (int)(MAX_THREADS / (naddr ? naddr : 1)) - 1;

	if (room < 1)
		fatal("too many listen addresses (%u): at most %d", naddr,
		      MAX_THREADS / 2);
	if (want > room) {
		if (o->threads > 0)
			log_warn("--threads %d on %u addresses: %d threads per address",
				 o->threads, naddr, room);
		want = room;
	}
	return want;
}

/* Open every listening socket; returns the UDP threads per address. */
static int open_listeners(const struct server_opts *o)
{
	struct addrinfo **res = xcalloc(o->nbinds, sizeof(*res));
	unsigned naddr = 0;
	int threads;

	for (unsigned b = 0; b < o->nbinds; b++) {
		if (parse_bind(o->binds[b], o->family, &res[b]))
			exit(1);
		for (struct addrinfo *ai = res[b]; ai; ai = ai->ai_next)
			naddr++;
	}
	threads = threads_per_address(o, naddr);
	for (unsigned b = 0; b < o->nbinds; b++) {
		struct addrinfo *ai;
		int any = 0;

		for (ai = res[b]; ai; ai = ai->ai_next) {
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
		freeaddrinfo(res[b]);
		if (!any)
			fatal("no address for %s", o->binds[b]);
	}
	free(res);
	return threads;
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

static struct notifier *notifier;      /* --notify, or NULL */

static void reload(struct server_opts *o, int force)
{
	const struct zoneset *old = snap_current();
	struct zoneset *ns;
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
	notify_changes(notifier, old, ns);      /* queued, never waits */
	snap_publish(ns);       /* never waits for a zone transfer */
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
	for (unsigned i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];
		void *(*body)(void *) = udp_main;
		void *arg = w;

		if (w->tcp) {
			w->tl = (struct tcp_listener){
				.fd = w->fd, .rd = &w->rd, .stats = w->stats,
				.global = w->global, .o = w->o, .querylog = querylog,
				.stopping = &stopping,
			};
			body = tcp_main;
			arg = &w->tl;
		}
		if (pthread_create(&w->tid, NULL, body, arg))
			fatal("cannot start threads");
		if (!w->tcp)    /* blocked in recvmmsg at exit: never joined */
			pthread_detach(w->tid);
	}
	if (http_fd >= 0)
		stats_http_start(http_fd);
}

static void main_loop(struct server_opts *o, const sigset_t *set)
{
	uint64_t next_check = now_ms() + o->check_interval * 1000ull;

	while (!atomic_load(&stopping)) {
		struct timespec ts = { 1, 0 };
		int sig = sigtimedwait(set, NULL, &ts);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			if (querylog && qlog_reopen())
				log_warn("cannot reopen the query log: %s", strerror(errno));
			reload(o, 1);   /* a HUP always re-reads */
		}
		if (querylog)
			qlog_flush();
		snap_collect();         /* snapshots that transfers let go */
		if (sig == SIGUSR1 || sig == SIGUSR2)
			stats_log();
		if (o->check_interval && now_ms() >= next_check) {
			if (zoneset_stale(snap_current(), time(NULL)))
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
	int threads;
	uint64_t t0 = now_ms();

	if (!o->nbinds && !o->check_only)
		fatal("no listen address: use -b address/port");
	if (!o->nspecs)
		fatal("no zones given (zone:type:file...)");
	block_signals(&set);
	workers = xcalloc(MAX_THREADS, sizeof(*workers));
	if (o->check_only) {
		struct zoneset *zs = first_load(o);
		unsigned errors = zoneset_errors(zs);

		zoneset_free(zs);
		stats_free();
		free(workers);
		if (errors) {   /* --check fails on what loading skips */
			log_err("%u data error%s (lines skipped when serving)",
				errors, errors == 1 ? "" : "s");
			return 1;
		}
		log_info("data loaded: %u zones in %llu ms", nzones,
			 (unsigned long long)(now_ms() - t0));
		return 0;
	}
	threads = open_listeners(o);
	if (o->http)
		open_http(o->http, o->family);
	if (o->pidfile)
		write_pidfile(o->pidfile);
	if (drop_privileges(o))
		return 1;
	if (o->nnotify && !(notifier = notify_start(o->notify, o->nnotify)))
		return 1;
	if (o->querylog) {      /* created as the user, inside the chroot */
		if (qlog_open(o->querylog))
			fatal("query log %s: %s", o->querylog, strerror(errno));
		querylog = 1;
	}
	snap_init(first_load(o));
	start_threads();
	log_info("serving %u zones on %u addresses with %d threads; ready in %llu ms",
		 nzones, o->nbinds, threads, (unsigned long long)(now_ms() - t0));
	if (o->statsfile)
		stats_write_file(o->statsfile, 1);
	main_loop(o, &set);
	atomic_store(&stopping, 1);
	for (unsigned i = 0; i < nworkers; i++)        /* they stop within 0.1 s */
		if (workers[i].tcp)
			pthread_join(workers[i].tid, NULL);
	if (querylog)
		qlog_finish();  /* the lines buffered so far, and any later */
	if (o->statsfile)
		stats_write_file(o->statsfile, 1);
	log_info("exiting");
	_exit(0);
}
