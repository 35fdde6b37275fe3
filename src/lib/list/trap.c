/*
 * trap.c - spamtrap intake: the message path (bytes to address, evidence
 * and skip reason), the delivery of one recipient into the store, and
 * the quarantine of what cannot be read.  See trap.h for the Received
 * selection.
 *
 * SECURITY: the message is hostile.  It is read with the mail reader,
 * whose limits apply (msg.h); only the first TRAP_MAX_RCVD Received
 * fields from the top are parsed, so a forged chain of any length below
 * the MX host's field costs nothing and is never read.  The quarantine
 * file is created O_EXCL | O_NOFOLLOW, mode 0600, in the operator's
 * directory.  Runs as the unprivileged trap user.
 */
#define _GNU_SOURCE
#include "list/trap.h"
#include "list/lmtp.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "mail/received.h"
#include "base/daemon.h"
#include "base/evloop.h"
#include "base/listen.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

const char *trap_skip_name(enum trap_skip s)
{
	static const char *const names[TRAP_NSKIP] = {
		"ok", "bounce", "autoreply", "no-mx-hop", "not-public", "unreadable",
	};

	return (unsigned)s < TRAP_NSKIP ? names[s] : "unknown";
}

/* ---- host and address matching ---- */

/* a host name or address literal as written in a Received field or the
 * configuration, compared without brackets, "IPv6:" and a final dot */
static void host_norm(const char *in, char *out, size_t len)
{
	size_t n;

	if (*in == '[')
		in++;
	if (!strncasecmp(in, "ipv6:", 5))
		in += 5;
	str_copy(out, len, in);
	n = strlen(out);
	while (n && (out[n - 1] == ']' || out[n - 1] == '.'))
		out[--n] = '\0';
}

/* Same host: the same address (any spelling inet_pton reads), or the
 * same name ignoring case. */
static int host_eq(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	char na[256], nb[256];

	host_norm(a, na, sizeof(na));
	host_norm(b, nb, sizeof(nb));
	if (!na[0] || !nb[0])
		return 0;
	if (inet_pton(AF_INET, na, x) == 1)
		return inet_pton(AF_INET, nb, y) == 1 && !memcmp(x, y, 4);
	if (inet_pton(AF_INET6, na, x) == 1)
		return inet_pton(AF_INET6, nb, y) == 1 && !memcmp(x, y, 16);
	return !strcasecmp(na, nb);
}

static int is_mx(const struct conftab_list *mx, const char *host)
{
	for (size_t i = 0; mx && i < mx->n; i++)
		if (host_eq(mx->v[i], host))
			return 1;
	return 0;
}

static int is_loopback(const char *ip)
{
	unsigned char a[16];
	static const unsigned char one[16] = { [15] = 1 };

	if (inet_pton(AF_INET, ip, a) == 1)
		return a[0] == 127;
	return inet_pton(AF_INET6, ip, a) == 1 && !memcmp(a, one, 16);
}

/* An IPv4-mapped IPv6 address (a dual-stack listener's view) as the
 * IPv4 address it is; other addresses unchanged. */
static void unmap_ip(char *ip, size_t len)
{
	unsigned char a[16];
	static const unsigned char pre[12] = { [10] = 0xff, [11] = 0xff };

	if (inet_pton(AF_INET6, ip, a) == 1 && !memcmp(a, pre, 12))
		inet_ntop(AF_INET, a + 12, ip, (socklen_t)len);
}

/* ---- what the message is ---- */

static int is_bounce(const struct msg *m, const char *sender, char *why, size_t wl)
{
	const char *ct = msg_get(m, "Content-Type");
	char rt[64];

	if (sender && (!*sender || !strcmp(sender, "<>"))) {
		snprintf(why, wl, "null envelope sender (a bounce)");
		return 1;
	}
	if (sender && !strncasecmp(sender, "mailer-daemon", 13) &&
	    (sender[13] == '@' || sender[13] == '\0')) {
		snprintf(why, wl, "sender %.200s (a bounce)", sender);
		return 1;
	}
	if (ct && !strncasecmp(ct, "multipart/report", 16) &&
	    mime_param(ct, "report-type", rt, sizeof(rt), 1) == 0 &&
	    !strcmp(rt, "delivery-status")) {
		snprintf(why, wl, "a delivery status report (multipart/report)");
		return 1;
	}
	return 0;
}

static int is_autoreply(const struct msg *m, char *why, size_t wl)
{
	const char *v = msg_get(m, "Auto-Submitted");

	if (v && strncasecmp(v, "no", 2) == 0 &&
	    (v[2] == '\0' || v[2] == ';' || v[2] == ' ' || v[2] == '\t'))
		v = NULL;
	if (v) {
		snprintf(why, wl, "Auto-Submitted: %.100s (an automatic reply)", v);
		return 1;
	}
	if (msg_get(m, "X-Autoreply") || msg_get(m, "X-Autorespond")) {
		snprintf(why, wl, "X-Autoreply (an automatic reply)");
		return 1;
	}
	if ((v = msg_get(m, "Precedence")) && !strncasecmp(v, "auto_reply", 10)) {
		snprintf(why, wl, "Precedence: auto_reply (an automatic reply)");
		return 1;
	}
	return 0;
}

/* The Received selection of trap.h, over the fields of m from the top. */
static void find_client(const struct msg *m, const struct conftab_list *mx,
			struct trap_msg *t)
{
	size_t seen = 0;
	int found = 0;

	for (size_t i = 0; i < m->nf && seen < TRAP_MAX_RCVD; i++) {
		struct rcvd_hop hop;

		if (strcasecmp(m->f[i].name, "Received"))
			continue;
		seen++;
		rcvd_parse(m->f[i].value, &hop);
		if (!is_mx(mx, hop.by))
			continue;	/* an internal hop above, or between MX hosts */
		found = 1;
		str_copy(t->mx, sizeof(t->mx), hop.by);
		if (!hop.ip[0]) {
			t->skip = TRAP_NO_MX_HOP;
			snprintf(t->why, sizeof(t->why), "the Received field by %.100s "
				 "names no client address", hop.by);
			return;
		}
		unmap_ip(hop.ip, sizeof(hop.ip));
		if (is_loopback(hop.ip) || is_mx(mx, hop.ip))
			continue;	/* a content filter or a relay of ours */
		str_copy(t->ip, sizeof(t->ip), hop.ip);
		if (!rcvd_ip_public(hop.ip)) {
			t->skip = TRAP_NOT_PUBLIC;
			snprintf(t->why, sizeof(t->why), "client %s (in the Received field "
				 "by %.100s) is not a public address", hop.ip, hop.by);
		}
		return;
	}
	t->skip = TRAP_NO_MX_HOP;
	if (found)
		snprintf(t->why, sizeof(t->why), "every Received field by an MX host "
			 "names one of ours (loopback or an MX host) as the client");
	else if (!mx || !mx->n)
		snprintf(t->why, sizeof(t->why), "no MX host is configured (trap_mx)");
	else
		snprintf(t->why, sizeof(t->why), "no Received field by an MX host "
			 "(trap_mx) in the first %u", TRAP_MAX_RCVD);
}

/* The evidence: the header section cut at a line, the start of the body
 * (text is the normalised message, LF line ends). */
static void evidence(const char *text, size_t len, const struct msg *m, struct trap_msg *t)
{
	size_t hlen = m->body ? (size_t)(m->body - text) : len, n;

	n = hlen < sizeof(t->headers) ? hlen : sizeof(t->headers) - 1;
	if (n < hlen) {
		const char *nl = memrchr(text, '\n', n);

		n = nl ? (size_t)(nl - text) + 1 : n;
		t->cut = 1;
	}
	memcpy(t->headers, text, n);
	t->headers[n] = '\0';
	if (!m->body)
		return;
	n = m->blen < sizeof(t->excerpt) ? m->blen : sizeof(t->excerpt) - 1;
	if (n < m->blen)
		t->cut = 1;
	memcpy(t->excerpt, m->body, n);
	t->excerpt[n] = '\0';
}

int trap_read(const char *data, size_t len, const char *sender,
	      const struct conftab_list *mx, struct trap_msg *t)
{
	struct msg m = { 0 };
	size_t tlen;
	char *text;

	memset(t, 0, offsetof(struct trap_msg, headers));
	t->headers[0] = t->excerpt[0] = '\0';
	t->cut = 0;
	if (len > MAIL_MAX_SIZE)
		len = MAIL_MAX_SIZE;
	text = msg_normalize(data, len, &tlen);
	msg_parse(&m, text, tlen);
	if (m.nf == 0) {
		t->skip = TRAP_UNREADABLE;
		snprintf(t->why, sizeof(t->why), "no header section (%zu bytes that are "
			 "not a message)", len);
		goto out;
	}
	evidence(text, tlen, &m, t);
	if (is_bounce(&m, sender, t->why, sizeof(t->why)))
		t->skip = TRAP_BOUNCE;
	else if (is_autoreply(&m, t->why, sizeof(t->why)))
		t->skip = TRAP_AUTOREPLY;
	else
		find_client(&m, mx, t);
out:
	msg_free(&m);
	free(text);
	return 0;
}

/* ---- recipients ---- */

const char *trap_zone_for(const struct list_trap_conf *t, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@'), *dom;
	size_t dl;

	if (!at || !at[1] || at == rcpt)
		return NULL;
	dom = at + 1;
	dl = strlen(dom);
	if (dl && dom[dl - 1] == '.')
		dl--;
	for (size_t i = 0; i < t->domains.n; i++) {
		const char *d = t->domains.v[i], *eq = strchr(d, '=');
		size_t n = eq ? (size_t)(eq - d) : strlen(d);

		if (n != dl || strncasecmp(d, dom, n))
			continue;
		if (eq && eq[1])
			return eq + 1;
		return t->zone && *t->zone ? t->zone : NULL;
	}
	if (t->domains.n == 0 && t->zone && *t->zone)
		return t->zone;
	return NULL;
}

/* text with every occurrence of addr (any case) written as masked, cut
 * to outlen: a trap address must not be shown with its evidence */
static void mask_in(const char *text, const char *addr, const char *masked, char *out,
		    size_t outlen)
{
	size_t al = strlen(addr), ml = strlen(masked), o = 0;
	const char *p = text, *hit;

	while (al && (hit = strcasestr(p, addr)) != NULL) {
		size_t n = (size_t)(hit - p);

		if (o + n + ml >= outlen)
			break;
		memcpy(out + o, p, n);
		memcpy(out + o + n, masked, ml);
		o += n + ml;
		p = hit + al;
	}
	str_copy(out + o, outlen - o, p);
}

enum trap_result trap_deliver(struct list_ctx *c, const struct trap_msg *m, const char *rcpt,
			      struct list_result *r, struct trap_stats *s,
			      char *err, size_t errlen)
{
	const char *zone = c->conf ? trap_zone_for(&c->conf->trap, rcpt) : NULL;
	struct evbuf { char headers[STORE_HEADERS_MAX], excerpt[STORE_EXCERPT_MAX]; } *ev;
	struct list_hit h = { rcpt, "trap", NULL, NULL, 0 };
	char masked[STORE_KEY_MAX];
	int rc;

	if (!zone) {
		snprintf(err, errlen, "<%.200s> is not a trap address", rcpt);
		return TRAP_R_REJECT;
	}
	if (s)
		s->recipients++;
	if (m->skip != TRAP_OK) {
		if (s)
			s->skipped[m->skip]++;
		return TRAP_R_SKIPPED;
	}
	if (!(ev = malloc(sizeof(*ev)))) {
		snprintf(err, errlen, "out of memory");
		if (s)
			s->store_errors++;
		return TRAP_R_TEMPFAIL;
	}
	list_mask_addr(rcpt, masked, sizeof(masked));
	mask_in(m->headers, rcpt, masked, ev->headers, sizeof(ev->headers));
	mask_in(m->excerpt, rcpt, masked, ev->excerpt, sizeof(ev->excerpt));
	h.headers = ev->headers;
	h.excerpt = ev->excerpt;
	rc = list_do_hit(c, zone, m->ip, &h, r, err, errlen);
	free(ev);
	if (rc) {
		if (s)
			s->store_errors++;
		return TRAP_R_TEMPFAIL;
	}
	if (s) {
		switch (r->outcome) {
		case LIST_LISTED: s->listed++; break;
		case LIST_EXTENDED: s->extended++; break;
		case LIST_ALLOWED: s->allowed++; break;
		default: s->counted++; break;
		}
	}
	return TRAP_R_STORED;
}

/* ---- quarantine ---- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int trap_quarantine(const char *dir, const char *data, size_t len, char *path,
		    size_t pathlen, char *err, size_t errlen)
{
	static unsigned seq;
	int fd = -1, rc;

	if (!dir || !*dir) {
		snprintf(err, errlen, "no quarantine directory (trap_quarantine)");
		return -ENOENT;
	}
	for (unsigned tries = 0; fd < 0 && tries < 100; tries++) {
		snprintf(path, pathlen, "%s/trap-%lld-%ld-%u.eml", dir,
			 (long long)time(NULL), (long)getpid(), ++seq);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if ((rc = write_all(fd, data, len)) == 0 && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		unlink(path);
	}
	return rc;
}

/* ---- the LMTP daemon ---- */

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
