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
#include "serve/ds_store.h"
#include "serve/qlog.h"
#include "serve/notify.h"
#include "serve/query.h"
#include "serve/snap.h"
#include "serve/stats.h"
#include "serve/tcp.h"
#include "serve/xdp.h"
#include "base/daemon.h"
#include "base/evloop.h"
#include "base/listen.h"
#include "base/util.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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
	int xdpq;                       /* AF_XDP: its queue + 1, else 0 */
	int started;                    /* its thread runs */
	struct tcp_listener tl;         /* TCP: the listener thread's */
	struct xdp_run xr;              /* AF_XDP: the queue thread's */
	const struct server_opts *o;
};

static struct worker *workers;
static unsigned nworkers;
static unsigned nzones;
static atomic_int stopping;     /* read by the workers */
static struct xdp_server *xdp;  /* --xdp, or NULL */

/* --- UDP --- */

static void *udp_main(void *arg)
{
	struct worker *w = arg;
	/* the thread's own buffers, on the heap: as __thread statics they
	 * were 104 KiB of TLS zeroed for every thread of every command */
	uint8_t (*in)[UDP_IN] = xcalloc(BATCH, UDP_IN);
	uint8_t (*out)[UDP_OUT] = xcalloc(BATCH, UDP_OUT);
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
	free(in);
	free(out);
	return NULL;
}

/* --- AF_XDP (xdp.c): one thread per queue --- */

static void *xdp_main(void *arg)
{
	struct worker *w = arg;

	w->xr = (struct xdp_run){
		.rd = &w->rd, .querylog = querylog, .stopping = &stopping,
		.qc = { .stats = w->stats, .global = w->global, .version = w->o->version,
			.lazy = w->o->lazy, .xfr_allow = w->o->allow_transfer },
	};
	xdp_serve(xdp, (unsigned)w->xdpq - 1, &w->xr);
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

static int add_worker(int fd, int tcp, const struct server_opts *o)
{
	struct worker *w;

	if (nworkers == MAX_THREADS)
		return -1;
	w = &workers[nworkers];
	w->fd = fd;
	w->tcp = tcp;
	w->o = o;
	if (snap_register(&w->rd))
		return -1;
	nworkers++;
	return 0;
}

/* UDP threads per address: as asked, or one per CPU, but never more than
 * MAX_THREADS in all (each address also has its TCP thread); -1 when
 * there are too many addresses. */
static int threads_per_address(const struct server_opts *o, unsigned naddr)
{
	int want = o->threads > 0 ? o->threads : cpu_count();
	int room = (int)(MAX_THREADS / (naddr ? naddr : 1)) - 1;

	if (room < 1)
		return -1;
	if (want > room) {
		if (o->threads > 0)
			log_warn("%d threads asked for on %u addresses: %d threads per address",
				 o->threads, naddr, room);
		want = room;
	}
	return want;
}

/* One socket of type on a, for worker or metrics; -1 with err set. */
static int bind_one(const struct listen_addr *a, int type, unsigned opts, const char *what,
		    char *err, size_t el)
{
	char why[256], text[160];
	int fd = listen_bind(a, type, opts, 128, why, sizeof(why));

	if (fd < 0)
		snprintf(err, el, "cannot listen on %s (%s): %s",
			 listen_format(a, text, sizeof(text)), what, strerror(-fd));
	return fd;
}

/* Parse a listen address as rbldnsd's -b: ADDR/PORT, ADDR, /PORT. */
static int parse_listen(const char *spec, int family, struct listen_list *ls,
			char *err, size_t el)
{
	char why[256];

	if (listen_parse(spec, LISTEN_SLASH | LISTEN_NAMES, "53", family, ls, why,
			 sizeof(why))) {
		if (*spec)      /* why quotes the spec */
			snprintf(err, el, "invalid listen address %s", why);
		else
			snprintf(err, el, "%s", why);
		return -1;
	}
	return 0;
}

/* Open every listening socket; *threads: the UDP threads per address. */
static int open_listeners(const struct server_opts *o, int *threads, unsigned *naddr,
			  char *err, size_t el)
{
	struct listen_list *ls = xcalloc(o->nbinds, sizeof(*ls));
	int rc = SERVER_BAD_ADDRESS;

	*naddr = 0;
	for (unsigned b = 0; b < o->nbinds; b++) {
		if (parse_listen(o->binds[b], o->family, &ls[b], err, el))
			goto out;
		*naddr += ls[b].n;
	}
	rc = SERVER_LISTEN;
	*threads = threads_per_address(o, *naddr);
	if (*threads < 0) {
		snprintf(err, el, "too many listen addresses (%u): at most %d", *naddr,
			 MAX_THREADS / 2);
		goto out;
	}
	for (unsigned b = 0; b < o->nbinds; b++) {
		for (unsigned i = 0; i < ls[b].n; i++) {
			const struct listen_addr *a = &ls[b].a[i];
			int fd;

			for (int t = 0; t <= *threads; t++) {   /* the last: TCP */
				int tcp = t == *threads;

				fd = tcp ? bind_one(a, SOCK_STREAM, LISTEN_O_NONBLOCK, "tcp", err, el)
					 : bind_one(a, SOCK_DGRAM, LISTEN_O_REUSEPORT |
						    LISTEN_O_BIGRCVBUF, "udp", err, el);
				if (fd < 0)
					goto out;
				if (add_worker(fd, tcp, o)) {
					close(fd);
					snprintf(err, el, "too many listener threads");
					goto out;
				}
			}
		}
	}
	rc = SERVER_OK;
out:
	free(ls);
	return rc;
}

/* --xdp: AF_XDP on one interface for UDP to the listen addresses, one
 * worker per queue; with xdp_fallback a failure leaves the sockets alone
 * to serve. */
static int open_xdp(const struct server_opts *o, char *err, size_t el)
{
	struct sockaddr_storage addrs[64];
	unsigned n = 0;

	for (unsigned b = 0; b < o->nbinds; b++) {
		struct listen_list ls;

		if (parse_listen(o->binds[b], o->family, &ls, err, el))
			return SERVER_BAD_ADDRESS;
		for (unsigned i = 0; i < ls.n && n < ARRAY_SIZE(addrs); i++)
			addrs[n++] = ls.a[i].sa;
	}
	if (!(xdp = xdp_open(o->xdp, addrs, n, err, el))) {
		if (!o->xdp_fallback)
			return SERVER_XDP;
		log_warn("AF_XDP on %s: %s; serving UDP through sockets instead", o->xdp, err);
		return SERVER_OK;
	}
	for (unsigned q = 0; q < xdp_nqueues(xdp); q++) {
		if (add_worker(-1, 0, o)) {
			snprintf(err, el, "too many listener threads");
			return SERVER_LISTEN;
		}
		workers[nworkers - 1].xdpq = (int)q + 1;
	}
	return SERVER_OK;
}

/* --- the metrics listener's sockets (served by stats.c) --- */

static int http_fds[STATS_HTTP_MAX];
static unsigned nhttp;

static int open_http(const char *spec, int family, char *err, size_t el)
{
	struct listen_list ls;

	if (parse_listen(spec, family, &ls, err, el))
		return SERVER_BAD_ADDRESS;
	for (unsigned i = 0; i < ls.n && nhttp < STATS_HTTP_MAX; i++) {
		int fd = bind_one(&ls.a[i], SOCK_STREAM, 0, "http", err, el);

		if (fd < 0)
			return SERVER_LISTEN;
		http_fds[nhttp++] = fd;
	}
	return SERVER_OK;
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
	notify_release(notifier);               /* sent now that ns is served */
	log_info("reloaded in %llu ms", (unsigned long long)(now_ms() - t0));
}

/* --- store zones: followed live --- */

#define STORE_POLL_MS 200

struct store_list {
	const struct dataset *ds[64];
	unsigned n;
};

static void collect_store(void *arg, const struct dataset *ds)
{
	struct store_list *l = arg;

	if (l->n < ARRAY_SIZE(l->ds))
		l->ds[l->n++] = ds;
}

/* Ask every store zone for changes; publish each new version at once
 * (the set before is retired by snap.c, so the list is read anew). */
static void poll_stores(void)
{
	for (unsigned i = 0;; i++) {
		struct store_list l = { .n = 0 };
		const struct zoneset *cur = snap_current();
		struct dataset *next;
		struct zoneset *ns;

		zoneset_each_store(cur, collect_store, &l);
		if (i >= l.n)
			return;
		if (!ds_store_poll(l.ds[i], &next))
			continue;
		ns = zoneset_replace(cur, l.ds[i], next);
		notify_changes(notifier, cur, ns);      /* queued, never waits */
		snap_publish(ns);
		notify_release(notifier);
	}
}

static void expire_one(void *arg, const struct dataset *ds)
{
	ds_store_expire(ds, *(const time_t *)arg);
}

/* Load the first data (as rbldnsd: after chroot and privilege drop, so
 * that reloads see the same paths and rights). */
static struct zoneset *first_load(const struct server_opts *o)
{
	struct zoneset *zs = zoneset_build(o->specs, o->nspecs, &o->ds, NULL, 1, NULL);
	const char **names;

	if (!zs)
		return NULL;
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

/* Start the workers; on failure the ones started keep running (the
 * caller ends the process). */
static int start_threads(char *err, size_t el)
{
	for (unsigned i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];
		void *(*body)(void *) = udp_main;
		void *arg = w;
		int rc;

		if (w->xdpq) {
			body = xdp_main;
		} else if (w->tcp) {
			w->tl = (struct tcp_listener){
				.fd = w->fd, .rd = &w->rd, .stats = w->stats,
				.global = w->global, .version = w->o->version,
				.lazy = w->o->lazy, .xfr_allow = w->o->allow_transfer,
				.idle_ms = w->o->tcp_idle_ms, .querylog = querylog,
				.stopping = &stopping,
			};
			if (tcp_prepare(&w->tl, err, el))
				return -1;
			body = tcp_main;
			arg = &w->tl;
		}
		if ((rc = pthread_create(&w->tid, NULL, body, arg)) != 0) {
			snprintf(err, el, "cannot start threads: %s", strerror(rc));
			return -1;
		}
		w->started = 1;
		if (!w->tcp && !w->xdpq)        /* blocked in recvmmsg at exit: never joined */
			pthread_detach(w->tid);
	}
	if (nhttp && stats_http_start(http_fds, nhttp, err, el))
		return -1;
	return 0;
}

/* The main thread's loop (base/evloop): signals, and a tick each second
 * for the query log, the snapshots transfers let go, and the -c check. */
struct main_state {
	struct server_opts *o;
	uint64_t next_check;
	struct ev_timer tick;
	struct ev_timer poll;           /* store zones, every 200 ms */
};

static void on_poll(ev_loop *ev, struct ev_timer *t, void *arg)
{
	poll_stores();
	if (ev_timer_start(ev, t, STORE_POLL_MS))
		log_err("cannot restart the store poll timer");
}

static void on_signal(ev_loop *ev, int sig, void *arg)
{
	struct main_state *m = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		ev_stop(ev);
		return;
	case SIGHUP:
		if (querylog && qlog_reopen())
			log_warn("cannot reopen the query log: %s", strerror(errno));
		reload(m->o, 1);        /* a HUP always re-reads */
		break;
	default:                        /* SIGUSR1, SIGUSR2 */
		stats_log();
	}
	if (querylog)
		qlog_flush();
}

static void on_tick(ev_loop *ev, struct ev_timer *t, void *arg)
{
	struct main_state *m = arg;
	struct server_opts *o = m->o;

	if (querylog)
		qlog_flush();
	snap_collect();         /* snapshots that transfers let go */
	{
		time_t now = time(NULL);

		zoneset_each_store(snap_current(), expire_one, &now);
	}
	if (o->check_interval && ev_now(ev) >= m->next_check) {
		if (zoneset_stale(snap_current(), time(NULL)))
			reload(o, 0);
		if (o->statsfile)
			stats_write_file(o->statsfile, 0);
		m->next_check = ev_now(ev) + o->check_interval * 1000ull;
	}
	if (ev_timer_start(ev, t, 1000))
		log_err("cannot restart the one-second timer");
}

/* Returns when SIGTERM or SIGINT arrives; 0, or -1 with err set when the
 * loop cannot be set up or its wait fails. */
static int main_loop(struct server_opts *o, const int *sigs, size_t nsigs,
		     char *err, size_t el)
{
	struct main_state m = { .o = o };
	ev_loop *ev = ev_new(err, el);
	int rc = -1;

	if (!ev)
		return -1;
	for (size_t i = 0; i < nsigs; i++)
		if (ev_signal_add(ev, sigs[i], on_signal, &m)) {
			snprintf(err, el, "cannot receive signal %d", sigs[i]);
			goto out;
		}
	m.next_check = ev_now(ev) + o->check_interval * 1000ull;
	ev_timer_init(&m.tick, on_tick, &m);
	ev_timer_init(&m.poll, on_poll, &m);
	if (ev_timer_start(ev, &m.tick, 1000) ||
	    ev_timer_start(ev, &m.poll, STORE_POLL_MS)) {
		snprintf(err, el, "cannot start a timer");
		goto out;
	}
	if ((rc = ev_run(ev)) < 0)
		snprintf(err, el, "event loop: %s", strerror(-rc));
	rc = rc < 0 ? -1 : 0;
out:
	ev_free(ev);
	return rc;
}

/* Close the listening sockets of a start that failed before the
 * threads (a worker that runs owns its socket until the process ends). */
static void close_listeners(void)
{
	for (unsigned i = 0; i < nworkers; i++)
		if (!workers[i].started && workers[i].fd >= 0)
			close(workers[i].fd);
	for (unsigned i = 0; i < nhttp; i++)
		close(http_fds[i]);
	nhttp = 0;
}

static int check_data(const struct server_opts *o, uint64_t t0, char *err, size_t el)
{
	struct zoneset *zs = first_load(o);
	unsigned errors;

	if (!zs) {
		snprintf(err, el, "cannot load the data; not starting");
		return SERVER_LOAD;
	}
	errors = zoneset_errors(zs);
	zoneset_free(zs);
	stats_free();
	if (errors) {   /* --check fails on what loading skips */
		snprintf(err, el, "%u data error%s (lines skipped when serving)",
			 errors, errors == 1 ? "" : "s");
		return SERVER_DATA_ERRORS;
	}
	log_info("data loaded: %u zones in %llu ms", nzones,
		 (unsigned long long)(now_ms() - t0));
	return SERVER_OK;
}

int server_run(struct server_opts *o, char *err, size_t el)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2 };
	struct daemon_pidfile *pf = NULL;
	struct zoneset *zs;
	sigset_t set;
	int threads = 0, rc;
	unsigned naddr = 0;
	uint64_t t0 = now_ms();
	char why[256];

	if (!o->nbinds && !o->check_only) {
		snprintf(err, el, "no listen address");
		return SERVER_NO_ADDRESS;
	}
	if (!o->nspecs) {
		snprintf(err, el, "no zones given");
		return SERVER_NO_ZONES;
	}
	if ((rc = daemon_block_signals(sigs, sizeof(sigs) / sizeof(sigs[0]), &set))) {
		snprintf(err, el, "cannot block signals: %s", strerror(-rc));
		return SERVER_START;
	}
	workers = xcalloc(MAX_THREADS, sizeof(*workers));
	if (o->check_only) {
		rc = check_data(o, t0, err, el);
		free(workers);
		workers = NULL;
		return rc;
	}
	if ((rc = open_listeners(o, &threads, &naddr, err, el)) ||
	    (o->xdp && (rc = open_xdp(o, err, el))) ||
	    (o->http && (rc = open_http(o->http, o->family, err, el))))
		goto fail;
	if (o->pidfile && !(pf = daemon_pidfile_create(o->pidfile, why, sizeof(why))))
		log_warn("%s", why);    /* as rbldnsd: not a reason to stop */
	if (daemon_drop_privileges(o->user, o->rootdir, o->workdir, err, el)) {
		rc = SERVER_PRIVILEGES;
		goto fail;
	}
	rc = SERVER_START;
	if (o->nnotify && !(notifier = notify_start(o->notify, o->nnotify))) {
		snprintf(err, el, "cannot send NOTIFY");
		goto fail;
	}
	if (o->querylog) {      /* created as the user, inside the chroot */
		if (qlog_open(o->querylog)) {
			snprintf(err, el, "query log %s: %s", o->querylog, strerror(errno));
			goto fail;
		}
		querylog = 1;
	}
	if (!(zs = first_load(o))) {
		snprintf(err, el, "cannot load the data; not starting");
		rc = SERVER_LOAD;
		goto fail;
	}
	snap_init(zs);
	if (start_threads(err, el))
		goto fail_started;
	log_info("serving %u zones on %u addresses with %d threads; ready in %llu ms",
		 nzones, o->nbinds, threads, (unsigned long long)(now_ms() - t0));
	if (o->statsfile)
		stats_write_file(o->statsfile, 1);
	if (main_loop(o, sigs, sizeof(sigs) / sizeof(sigs[0]), err, el))
		rc = SERVER_START;      /* stop the threads, then say why */
	else
		rc = SERVER_OK;
	atomic_store(&stopping, 1);
	for (unsigned i = 0; i < nworkers; i++)        /* they stop within 0.1 s */
		if ((workers[i].tcp || workers[i].xdpq) && workers[i].started)
			pthread_join(workers[i].tid, NULL);
	xdp_close(xdp);         /* detaches the XDP program */
	xdp = NULL;
	if (querylog)
		qlog_finish();  /* the lines buffered so far, and any later */
	if (o->statsfile)
		stats_write_file(o->statsfile, 1);
	daemon_pidfile_remove(pf);
	if (rc == SERVER_OK)
		log_info("exiting");
	return rc;
fail_started:
	/* the threads started keep running until the caller ends the process
	 * (which detaches the XDP program: its link goes with the process) */
	atomic_store(&stopping, 1);
	xdp = NULL;
fail:
	close_listeners();
	xdp_close(xdp);
	xdp = NULL;
	if (notifier) {
		notify_stop(notifier);
		notifier = NULL;
	}
	daemon_pidfile_remove(pf);
	return rc;
}
