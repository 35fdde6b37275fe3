/*
 * trapd.c - the LMTP intake daemon of rblkit trap (trap_daemon_run, trap.h):
 * binds, drops privileges, opens the store, serves LMTP (lmtp.c), and
 * delivers the messages of each loop round through trap.c in one store
 * batch (group commit); expires listings every second and opens the
 * store again after a failure.
 *
 * SECURITY: starts as root to bind, then runs as the --user it drops to;
 * network input reaches it only through lmtp.c (bounded) and trap_read().
 */
#define _GNU_SOURCE
#include "list/trap.h"
#include "list/lmtp.h"
#include "base/daemon.h"
#include "base/evloop.h"
#include "base/listen.h"
#include "base/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct trapd {
	const struct trap_daemon_opts *o;
	struct list_conf *conf;
	struct store *st;
	struct list_ctx lc;
	struct lmtp_server *lmtp;
	ev_loop *ev;
	struct ev_timer tick;
	struct listen_list addrs;
	int fds[LISTEN_MAX];
	struct trap_stats stats;
	struct trap_msg tm;             /* the message being delivered */
	int reopen;                     /* the store failed: open it again */
	char **stored;                  /* replies of the batch's stored hits */
	size_t nstored, astored;
	time_t last_expire_err, last_open_err;
};

static int trapd_rcpt(void *arg, const char *addr, char *reply, size_t len)
{
	struct trapd *d = arg;

	if (trap_zone_for(&d->conf->trap, addr))
		return 0;
	snprintf(reply, len, "550 5.1.1 <%.200s>: not a trap address", addr);
	return -1;
}

/* The replies of one message whose recipients all get the same. */
static void reply_all(struct lmtp_msg *m, const char *text)
{
	for (unsigned j = 0; j < m->nrcpt; j++)
		str_copy(m->reply[j], LMTP_REPLY_MAX, text);
}

static void deliver_unreadable(struct trapd *d, struct lmtp_msg *m)
{
	char path[4200], err[4400], line[LMTP_REPLY_MAX];

	if (trap_quarantine(d->conf->trap.quarantine, m->data, m->len, path, sizeof(path),
			    err, sizeof(err))) {
		log_err("trap: a message that is not mail (%llu bytes from <%s>) could "
			"not be kept: %s", (unsigned long long)m->size, m->sender, err);
		snprintf(line, sizeof(line), "451 4.3.0 cannot keep an unreadable "
			 "message: %.200s", err);
		reply_all(m, line);
		d->stats.store_errors++;
		return;
	}
	d->stats.quarantined++;
	d->stats.skipped[TRAP_UNREADABLE] += m->nrcpt;
	d->stats.recipients += m->nrcpt;
	log_warn("trap: not a message (%llu bytes from <%s>): kept in %s",
		 (unsigned long long)m->size, m->sender, path);
	snprintf(line, sizeof(line), "250 2.0.0 not a message: kept in quarantine (%.200s)",
		 path);
	reply_all(m, line);
}

/* A 250 that holds only if the batch commits. */
static void remember_stored(struct trapd *d, char *reply)
{
	if (d->nstored == d->astored) {
		size_t n = d->astored ? d->astored * 2 : 64;
		char **p = reallocarray(d->stored, n, sizeof(*p));

		if (!p)
			panic("out of memory for %zu replies", n);
		d->stored = p;
		d->astored = n;
	}
	d->stored[d->nstored++] = reply;
}

static void deliver_one(struct trapd *d, struct lmtp_msg *m)
{
	struct trap_msg *t = &d->tm;

	d->stats.messages++;
	d->stats.truncated += m->truncated != 0;
	trap_read(m->data ? m->data : "", m->len, m->sender, &d->conf->trap.mx, t);
	if (t->skip == TRAP_UNREADABLE) {
		deliver_unreadable(d, m);
		return;
	}
	for (unsigned j = 0; j < m->nrcpt; j++) {
		struct list_result r;
		char err[512], masked[300];

		list_mask_addr(m->rcpt[j], masked, sizeof(masked));
		switch (trap_deliver(&d->lc, t, m->rcpt[j], &r, &d->stats, err, sizeof(err))) {
		case TRAP_R_STORED:
			remember_stored(d, m->reply[j]);
			log_info("trap: %s: client %s: %s %s", masked, t->ip,
				 list_outcome_name(r.outcome), r.key);
			snprintf(m->reply[j], LMTP_REPLY_MAX, "250 2.0.0 %s %.200s",
				 list_outcome_name(r.outcome), r.key);
			break;
		case TRAP_R_SKIPPED:
			log_info("trap: %s: not listed (%s): %s", masked,
				 trap_skip_name(t->skip), t->why);
			snprintf(m->reply[j], LMTP_REPLY_MAX, "250 2.0.0 not listed (%s): %.180s",
				 trap_skip_name(t->skip), t->why);
			break;
		case TRAP_R_TEMPFAIL:
			log_err("trap: %s: client %s: store: %s; answered 451", masked, t->ip, err);
			snprintf(m->reply[j], LMTP_REPLY_MAX, "451 4.3.0 store failed, try "
				 "later: %.180s", err);
			d->reopen = 1;
			break;
		case TRAP_R_REJECT:
			snprintf(m->reply[j], LMTP_REPLY_MAX, "550 5.1.1 %.200s", err);
			break;
		}
	}
}

/* Every message that ended in one round of the loop, in one store
 * batch: one durable commit for all (group commit).  The 250s written
 * for stored hits count only once the batch committed; if it does not,
 * they become 451 (the clients retry; nothing was stored). */
static void trapd_deliver(void *arg, struct lmtp_msg *const *msgs, size_t n)
{
	struct trapd *d = arg;
	int batch;

	if (!d->st) {
		for (size_t i = 0; i < n; i++)
			reply_all(msgs[i], "451 4.3.0 the store is not open, try later");
		d->stats.store_errors += n;
		return;
	}
	/* a batch that cannot begin: each message alone (and its own 451) */
	batch = store_batch_begin(d->st) == 0;
	d->nstored = 0;
	for (size_t i = 0; i < n; i++)
		deliver_one(d, msgs[i]);
	if (batch && store_batch_end(d->st, 1)) {
		log_err("trap: store: %s: %zu stored hits of %zu messages not committed; "
			"answered 451", store_error(d->st), d->nstored, n);
		for (size_t i = 0; i < d->nstored; i++)
			snprintf(d->stored[i], LMTP_REPLY_MAX, "451 4.3.0 store failed, try "
				 "later: %.180s", store_error(d->st));
		d->stats.store_errors += d->nstored;
		d->reopen = 1;
	}
}

static void log_stats(const struct trapd *d)
{
	const struct trap_stats *s = &d->stats;
	const struct lmtp_stats *l = lmtp_stats(d->lmtp);

	log_info("trap: %llu messages, %llu recipients: %llu listed, %llu extended, "
		 "%llu counted, %llu allowed; skipped: %llu bounces, %llu auto-replies, "
		 "%llu without an MX hop, %llu not public, %llu unreadable "
		 "(%llu quarantined); %llu store errors; %llu over trap_max_size; "
		 "%llu connections, %llu refused (max clients), %llu dropped mid-message",
		 (unsigned long long)s->messages, (unsigned long long)s->recipients,
		 (unsigned long long)s->listed, (unsigned long long)s->extended,
		 (unsigned long long)s->counted, (unsigned long long)s->allowed,
		 (unsigned long long)s->skipped[TRAP_BOUNCE],
		 (unsigned long long)s->skipped[TRAP_AUTOREPLY],
		 (unsigned long long)s->skipped[TRAP_NO_MX_HOP],
		 (unsigned long long)s->skipped[TRAP_NOT_PUBLIC],
		 (unsigned long long)s->skipped[TRAP_UNREADABLE],
		 (unsigned long long)s->quarantined, (unsigned long long)s->store_errors,
		 (unsigned long long)s->truncated, (unsigned long long)l->connections,
		 (unsigned long long)l->refused_full, (unsigned long long)l->dropped_mid);
}

/* (Re)open the store and write the zones' publishing data to it. */
static int open_store(struct trapd *d, char *err, size_t errlen)
{
	char why[512];

	if (d->st)
		store_close(d->st);
	d->st = d->lc.st = NULL;
	if (store_open(d->conf->store, 0, &d->st, err, errlen)) {
		d->st = NULL;
		return -1;
	}
	d->lc.st = d->st;
	if (list_conf_sync(d->conf, d->st, why, sizeof(why)))
		log_warn("store: the zones' publishing data not written: %s", why);
	return 0;
}

/* Once a second: expire listings; open the store again after a failure. */
static void trapd_tick(ev_loop *ev, struct ev_timer *t, void *arg)
{
	struct trapd *d = arg;
	unsigned n = 0;

	if (d->reopen || !d->st) {
		char err[512];

		if (open_store(d, err, sizeof(err)) == 0) {
			d->reopen = 0;
			log_info("trap: store %s open", d->conf->store);
		} else if (time(NULL) - d->last_open_err >= 60) {
			d->last_open_err = time(NULL);
			log_err("trap: store: %s; answering 451 (logged once a minute)", err);
		}
	}
	if (d->st && store_expire(d->st, NULL, (int64_t)time(NULL), &n)) {
		if (time(NULL) - d->last_expire_err >= 60) {
			d->last_expire_err = time(NULL);
			log_warn("trap: expiry: %s (logged once a minute)", store_error(d->st));
		}
		d->reopen = 1;
	} else if (n) {
		log_info("trap: %u listings expired", n);
	}
	ev_timer_start(ev, t, 1000);
}

static void trapd_signal(ev_loop *ev, int signo, void *arg)
{
	struct trapd *d = arg;

	if (signo == SIGUSR1) {
		log_stats(d);
		return;
	}
	log_info("signal %d: stopping", signo);
	ev_stop(ev);
}

static const int trapd_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

static int trapd_bind(struct trapd *d, const char *spec)
{
	char err[512];

	if (listen_parse(spec, LISTEN_COLON | LISTEN_UNIX, NULL, 0, &d->addrs, err,
			 sizeof(err))) {
		log_err("listen: %s", err);
		return -1;
	}
	for (unsigned i = 0; i < d->addrs.n; i++) {
		d->fds[i] = listen_bind(&d->addrs.a[i], SOCK_STREAM,
					LISTEN_O_NONBLOCK | LISTEN_O_WORLD, 256, err, sizeof(err));
		if (d->fds[i] < 0) {
			log_err("listen %s", err);
			return -1;
		}
	}
	return 0;
}

static int trapd_start(struct trapd *d, struct daemon_pidfile **pf)
{
	const struct trap_daemon_opts *o = d->o;
	struct conftab_errors e = { 0 };
	struct lmtp_conf lc = { 0 };
	struct lmtp_handler h = { trapd_rcpt, trapd_deliver, d };
	char err[512], host[256] = "localhost";
	const char *spec;

	if (daemon_block_signals(trapd_signals, ARRAY_SIZE(trapd_signals), NULL)) {
		log_err("signals: %s", strerror(errno));
		return -1;
	}
	if (!(d->conf = list_conf_load(o->config, &e))) {
		for (unsigned i = 0; i < e.n; i++)
			log_err("%s", e.msg[i]);
		return -1;
	}
	spec = o->listen ? o->listen : d->conf->trap.listen;
	if (!spec || !*spec) {
		log_err("%s: no trap_listen address (or --listen ADDR:PORT)", o->config);
		return -1;
	}
	if (!d->conf->trap.mx.n)
		log_warn("%s: trap_mx is empty: no message can be attributed to a "
			 "client (every one is counted as no-mx-hop)", o->config);
	if (trapd_bind(d, spec))
		return -1;
	if (o->pidfile && !(*pf = daemon_pidfile_create(o->pidfile, err, sizeof(err)))) {
		log_err("%s", err);
		return -1;
	}
	if (daemon_drop_privileges(o->user, NULL, NULL, err, sizeof(err))) {
		log_err("%s", err);
		return -1;
	}
	d->lc.conf = d->conf;
	/* a store that is down (PostgreSQL not up yet) is no reason not to
	 * start: mail is answered 451 until the tick opens it */
	if (open_store(d, err, sizeof(err))) {
		d->last_open_err = time(NULL);
		log_err("store: %s; answering 451 until it opens", err);
	}
	if (!(d->ev = ev_new(err, sizeof(err)))) {
		log_err("%s", err);
		return -1;
	}
	if (o->hostname)
		str_copy(host, sizeof(host), o->hostname);
	else
		gethostname(host, sizeof(host) - 1);
	lc.hostname = host;
	lc.max_size = d->conf->trap.max_size ? d->conf->trap.max_size : (1u << 20);
	lc.max_rcpt = o->max_rcpt;
	lc.max_clients = o->max_clients;
	lc.idle_timeout = o->idle_timeout;
	if (!(d->lmtp = lmtp_new(d->ev, &lc, &h, err, sizeof(err)))) {
		log_err("%s", err);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(trapd_signals); i++)
		if (ev_signal_add(d->ev, trapd_signals[i], trapd_signal, d)) {
			log_err("signalfd: %s", strerror(errno));
			return -1;
		}
	ev_timer_init(&d->tick, trapd_tick, d);
	for (unsigned i = 0; i < d->addrs.n; i++)
		if (lmtp_listen(d->lmtp, d->fds[i])) {
			log_err("event loop: cannot watch the sockets");
			return -1;
		}
	if (ev_timer_start(d->ev, &d->tick, 1000)) {
		log_err("event loop: no timer");
		return -1;
	}
	log_info("rblkit trap %s listening on %s (LMTP): store %s (%s), %zu MX hosts, "
		 "%zu trap domains", RBLKIT_VERSION, spec, d->conf->store,
		 d->st ? store_engine(d->st) : "not open",
		 d->conf->trap.mx.n, d->conf->trap.domains.n);
	return 0;
}

int trap_daemon_run(const struct trap_daemon_opts *o)
{
	struct trapd *d = calloc(1, sizeof(*d));
	struct daemon_pidfile *pf = NULL;
	int rc = 0;

	if (!d) {
		log_err("out of memory");
		return 1;
	}
	d->o = o;
	for (unsigned i = 0; i < LISTEN_MAX; i++)
		d->fds[i] = -1;
	if (trapd_start(d, &pf)) {
		rc = 1;
		goto out;
	}
	while (!ev_stopped(d->ev)) {
		int n = ev_run_once(d->ev, -1);

		if (n < 0) {
			log_err("epoll_wait: %s", strerror(-n));
			rc = 1;
			break;
		}
		lmtp_flush(d->lmtp);
	}
	log_stats(d);
out:
	lmtp_free(d->lmtp);
	for (unsigned i = 0; i < d->addrs.n; i++)
		if (d->fds[i] >= 0)
			listen_close(&d->addrs.a[i], d->fds[i]);
	if (d->st)
		store_close(d->st);
	ev_free(d->ev);
	if (d->conf)
		list_conf_free(d->conf);
	daemon_pidfile_remove(pf);
	free(d->stored);
	free(d);
	return rc;
}
