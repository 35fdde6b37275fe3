/*
 * daemon.c - the `rblkit watch` daemon: the scheduler, the state machine
 * and the metrics listener.
 *
 * Each list has a resolver of its own (recursive, the configured
 * servers, or its ZONE@ADDR server) and at most one batch in flight: a
 * dnsbl engine over that list alone, given the targets whose check is
 * due (at most WD_BATCH). Checks of a list are spread over its effective
 * interval (conf.c); a change seen is checked again after confirm_delay.
 *
 * The state machine, per (target, list) and per list (its health, the
 * row with target ""): a check that disagrees with the confirmed state
 * makes it pending; `confirm` consecutive checks that agree make it a
 * transition, recorded with its alerts in one transaction. A listing is
 * confirmed only by a batch that also asked the list's RFC 5782 test
 * points, so a list that starts listing everything becomes a list error,
 * never a listing. Any error of a result (refusal code, an answer outside
 * 127/8, SERVFAIL, a timeout, a failed probe) is an observation of the
 * list's health, never of the target.
 *
 * Alerts are delivered by child processes (`rblkit watch deliver`,
 * alert.c), at most WD_CHILDREN at once: a webhook that hangs holds one
 * child, never the checks.
 *
 * SECURITY: runs with the operator's privileges (no port below 1024 is
 * needed). DNS answers are parsed by resolve.c / dnsbl.c; the TXT and
 * code texts reach the store as bound parameters. The metrics listener
 * reads at most one request buffer and answers every request the same.
 */
#define _GNU_SOURCE             /* accept4 */
#include "watch/watch.h"

#include "base/evloop.h"
#include "base/listen.h"
#include "base/util.h"
#include "dnsbl/dnsbl.h"
#include "store/store.h"
#include "store/watch.h"
#include "watch/signal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define WD_BATCH 512            /* targets of one list in one engine */
#define WD_CHILDREN 16          /* alert deliveries at once */
#define WD_TICK_MS 100
#define WD_METRICS_CONNS 8      /* metrics requests read at once */

struct pair {
	int64_t due;            /* monotonic ms */
	uint8_t state, pending, confirms;
	uint8_t hinted;         /* a log line / bounce named the list for it */
	uint32_t hint_s;        /* monotonic s of the last check a hint brought forward (0: none) */
};

/* What one check of one target on one list saw. */
struct obs {
	int kind;               /* STORE_WATCH_CLEAN / _LISTED, or -1: no verdict */
	char codes[STORE_WATCH_CODES_MAX];
	char txt[STORE_WATCH_TEXT_MAX];
};

struct lrun {
	struct wd *w;
	struct watch_list *wl;
	struct resolver *rs;
	/* the batch in flight */
	struct dnsbl_engine *eng;
	size_t *tidx;
	struct obs *obs;
	size_t n, got;
	bool probe;
	char berr[256];         /* first error of the batch */
	int nerr, nok;
	/* health (the row with target "") */
	uint8_t state, pending, confirms;
	uint64_t probed;        /* monotonic ms of the last probe */
	uint64_t next_due;
	/* budget */
	int64_t day;
	uint64_t used;
	bool exhausted;
	/* metrics */
	uint64_t checks, queries, errors;
};

struct wd {
	const char *path, *self;
	char *snap;                     /* the loaded configuration, for the delivery children */
	uint64_t sweep_hold;            /* no delivery started before this (after one failed) */
	struct watch_conf *c;
	struct watch_plan p;
	struct store *st;
	ev_loop *ev;
	struct ev_timer tick;
	struct pair *pairs;     /* [list * nt + target] */
	struct lrun *lr;
	size_t *hash;           /* target name -> index + 1 */
	size_t hsize;
	int mfd;
	struct mconn {                  /* metrics requests being read */
		struct wd *w;
		int fd;                 /* -1: free */
		size_t len;
		uint64_t since;
		char buf[2048];
	} mc[WD_METRICS_CONNS];
	struct listen_addr maddr;
	struct { pid_t pid; int64_t alert; } kids[WD_CHILDREN];
	unsigned nkids;
	bool sweep;
	uint64_t last_sweep, last_remind;
	uint64_t transitions, alerts_spawned;
	/* the signals (signal.h) */
	struct watch_log *wlog;
	struct watch_maildir *wmd;
	uint64_t last_signal_poll, signals;
};

static int signals_open(struct wd *w, char *err, size_t el);
static void signals_close(struct wd *w);

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* A failed store operation, logged with the store it failed on (the
 * engine's words say why: "database or disk is full"). */
static void store_failed(const struct wd *w)
{
	log_err("store %s: %s", w->p.shown, store_error(w->st));
}

/* ---- targets by name ---- */

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void hash_build(struct wd *w)
{
	w->hsize = 16;
	while (w->hsize < w->p.nt * 2)
		w->hsize *= 2;
	w->hash = xcalloc(w->hsize, sizeof(*w->hash));
	for (size_t i = 0; i < w->p.nt; i++) {
		size_t h = fnv(w->p.t[i].name) & (w->hsize - 1);

		while (w->hash[h])
			h = (h + 1) & (w->hsize - 1);
		w->hash[h] = i + 1;
	}
}

static long target_find(const struct wd *w, const char *name)
{
	size_t h = fnv(name) & (w->hsize - 1);

	for (; w->hash[h]; h = (h + 1) & (w->hsize - 1))
		if (!strcmp(w->p.t[w->hash[h] - 1].name, name))
			return (long)(w->hash[h] - 1);
	return -1;
}

static long list_find(const struct wd *w, const char *key)
{
	for (size_t i = 0; i < w->p.nl; i++)
		if (!strcmp(w->p.l[i].key, key))
			return (long)i;
	return -1;
}

static bool applies(const struct wd *w, size_t li, size_t ti)
{
	return (w->p.t[ti].kinds & w->p.l[li].l->kinds) != 0;
}

/* ---- the state machine ---- */

/* One observation obs of a state (state, pending, confirms) that needs
 * k agreeing checks. may_finish: this check may complete a change.
 * Returns 1 when the state changed. */
static int step(uint8_t *state, uint8_t *pending, uint8_t *confirms, int obs, unsigned k,
		bool may_finish)
{
	if (obs == *state) {
		*pending = *state;
		*confirms = 0;
		return 0;
	}
	if (obs == *pending && *confirms < 255)
		(*confirms)++;
	else if (obs != *pending) {
		*pending = (uint8_t)obs;
		*confirms = 1;
	}
	if (!may_finish && *confirms >= k)
		*confirms = (uint8_t)(k - 1);
	if (*confirms < k)
		return 0;
	*state = (uint8_t)obs;
	*confirms = 0;
	return 1;
}

/* Does a transition from -> to of a target (list: of a list's health)
 * call for an alert? The first verdict "clean" is no news. */
static bool alertable(int from, int to, bool list)
{
	if (list)
		return to == STORE_WATCH_ERROR || (from == STORE_WATCH_ERROR && to == STORE_WATCH_CLEAN);
	return to == STORE_WATCH_LISTED || (from == STORE_WATCH_LISTED && to == STORE_WATCH_CLEAN);
}

static int add_alerts(struct wd *w, int64_t tid, unsigned seq, int64_t now)
{
	static const char *const ch[] = { "command", "webhook", "mail" };
	const char *set[] = { w->c->alert_command, w->c->alert_webhook, w->c->alert_mail };
	int rc = 0;

	for (size_t i = 0; i < 3 && rc >= 0; i++)
		if (set[i] && *set[i]) {
			rc = store_watch_alert_add(w->st, tid, ch[i], seq, now, NULL);
			if (rc == STORE_WATCH_EXISTS)
				rc = 0;
			w->sweep = true;
		}
	return rc < 0 ? -1 : 0;
}

/* Record the state row of (target, list) after a check, with a
 * transition and its alerts when the state changed. In the caller's
 * transaction. */
static int record(struct wd *w, const char *target, const char *list, const uint8_t *state,
		  const uint8_t *pending, const uint8_t *confirms, int from, const char *codes,
		  const char *txt, const char *why, bool list_row)
{
	struct store_watch_status s;
	int64_t now = now_s(), tid = 0;
	int rc = store_watch_get(w->st, target, list, &s);

	if (rc < 0)
		return -1;
	if (rc == STORE_NOTFOUND) {
		memset(&s, 0, sizeof(s));
		str_copy(s.target, sizeof(s.target), target);
		str_copy(s.list, sizeof(s.list), list);
		s.since = now;
	}
	s.pending = *pending;
	s.confirms = *confirms;
	s.last_check = now;
	if (from != *state) {
		struct store_watch_transition t;

		memset(&t, 0, sizeof(t));
		t.time = now;
		str_copy(t.target, sizeof(t.target), target);
		str_copy(t.list, sizeof(t.list), list);
		t.from = from;
		t.to = *state;
		str_copy(t.codes, sizeof(t.codes), codes ? codes : "");
		str_copy(t.txt, sizeof(t.txt), txt ? txt : "");
		str_copy(t.why, sizeof(t.why), why ? why : "");
		if (store_watch_transition_add(w->st, &t, &tid))
			return -1;
		s.state = *state;
		s.since = now;
		s.reminded = 0;
		str_copy(s.codes, sizeof(s.codes), t.codes);
		str_copy(s.txt, sizeof(s.txt), t.txt);
		str_copy(s.why, sizeof(s.why), t.why);
		w->transitions++;
		log_info("%s%s%s: %s -> %s%s%s%s%s", list_row ? "list " : "", target,
			 list_row ? list : "", store_watch_state_name(from),
			 store_watch_state_name(*state), list_row ? "" : " on ", list_row ? "" : list,
			 why && *why ? ": " : codes && *codes ? " " : "",
			 why && *why ? why : codes ? codes : "");
		if (alertable(from, *state, list_row) && add_alerts(w, tid, 0, now))
			return -1;
	} else if (*state == STORE_WATCH_LISTED && codes && *codes) {
		/* still listed: keep the latest codes and TXT */
		str_copy(s.codes, sizeof(s.codes), codes);
		str_copy(s.txt, sizeof(s.txt), txt ? txt : "");
	}
	return store_watch_put(w->st, &s);
}

/* ---- batches ---- */

/* Append "what" to a comma list in buf. */
static void add_word(char *buf, size_t size, const char *what)
{
	size_t l = strlen(buf);

	size_t wl = strlen(what);

	/* whole words: 127.0.0.2 is not in "127.0.0.20" */
	for (const char *p = buf; (p = strstr(p, what)); p++)
		if ((p == buf || p[-1] == ',') && (p[wl] == ',' || p[wl] == '\0'))
			return;
	snprintf(buf + l, size - l, "%s%s", l ? "," : "", what);
}

/* A finished target of lr's batch: its observation. */
static void take(struct lrun *lr, struct dnsbl_target *t, struct obs *o)
{
	o->kind = STORE_WATCH_CLEAN;
	if (t->error) {
		o->kind = -1;
		return;
	}
	for (size_t i = 0; i < t->nresults; i++) {
		const struct dnsbl_result *r = &t->results[i];

		lr->queries++;
		if (r->status == DS_ERROR) {
			if (!lr->nerr++)
				snprintf(lr->berr, sizeof(lr->berr), "%s: %s", r->subject,
					 r->error ? r->error : "error");
			o->kind = -1;
			continue;
		}
		lr->nok++;
		if (r->status != DS_LISTED || o->kind < 0)
			continue;
		o->kind = STORE_WATCH_LISTED;
		lr->queries += r->ntxt > 0;
		for (size_t j = 0; j < r->ncodes; j++) {
			char a[16];

			snprintf(a, sizeof(a), "%u.%u.%u.%u", r->codes[j] >> 24, (r->codes[j] >> 16) & 255,
				 (r->codes[j] >> 8) & 255, r->codes[j] & 255);
			add_word(o->codes, sizeof(o->codes), a);
		}
		for (size_t j = 0; j < r->ntxt; j++) {
			size_t l = strlen(o->txt);

			snprintf(o->txt + l, sizeof(o->txt) - l, "%s%s", l ? " | " : "", r->txt[j]);
		}
	}
}

static void batch_free(struct lrun *lr)
{
	dnsbl_free(lr->eng);
	lr->eng = NULL;
	free(lr->tidx);
	free(lr->obs);
	lr->tidx = NULL;
	lr->obs = NULL;
	lr->n = lr->got = 0;
}

/* The batch of list li is done: record what it saw. */
static void batch_finish(struct wd *w, size_t li)
{
	struct lrun *lr = &w->lr[li];
	const struct list *l = lr->wl->l;
	uint64_t now = now_ms(), total = 0;
	int obs = -1, from = lr->state;
	const char *hwhy = "";
	struct pair *saved = NULL;
	uint8_t lsaved[3];
	char why[300] = "";
	int rc;

	if (lr->probe) {
		enum dnsbl_health h = dnsbl_list_health(lr->eng, l, &hwhy);

		lr->probed = now;
		lr->queries += 2;
		if (h == DH_OK)
			obs = STORE_WATCH_CLEAN;
		else if (h != DH_UNKNOWN) {
			obs = STORE_WATCH_ERROR;
			snprintf(why, sizeof(why), "RFC 5782 test points: %s", hwhy && *hwhy ? hwhy : "failed");
		}
	}
	if (lr->nerr) {
		obs = STORE_WATCH_ERROR;
		if (!*why)
			str_copy(why, sizeof(why), lr->berr);
	} else if (obs < 0 && lr->nok) {
		obs = STORE_WATCH_CLEAN;
	}
	if (obs == STORE_WATCH_ERROR)
		lr->errors++;
	/* the states in memory change with the transaction: kept to be put
	 * back when it fails, or the next check (from == state) would never
	 * write the transition, nor send its alert */
	saved = xcalloc(lr->got ? lr->got : 1, sizeof(*saved));
	for (size_t i = 0; i < lr->got; i++)
		saved[i] = w->pairs[li * w->p.nt + lr->tidx[i]];
	lsaved[0] = lr->state;
	lsaved[1] = lr->pending;
	lsaved[2] = lr->confirms;
	if ((rc = store_begin(w->st)))
		goto fail;
	if (obs >= 0) {
		/* a first "clean" is no news: it needs no confirmation (and
		 * costs no second query per target at start-up) */
		if (lr->state == STORE_WATCH_UNKNOWN && obs == STORE_WATCH_CLEAN) {
			lr->pending = STORE_WATCH_CLEAN;
			lr->confirms = (uint8_t)(w->c->confirm - 1);
		}
		step(&lr->state, &lr->pending, &lr->confirms, obs, w->c->confirm, true);
		if (record(w, "", lr->wl->key, &lr->state, &lr->pending, &lr->confirms, from, "",
			   "", obs == STORE_WATCH_ERROR ? why : "", true))
			goto fail;
	}
	for (size_t i = 0; i < lr->got; i++) {
		struct pair *p = &w->pairs[li * w->p.nt + lr->tidx[i]];
		const struct obs *o = &lr->obs[i];
		int pfrom = p->state;
		uint64_t delay = (uint64_t)lr->wl->effective * 1000;

		lr->checks++;
		if (o->kind >= 0) {
			bool probed = lr->probe && lr->state != STORE_WATCH_ERROR;

			/* a rejection naming the list is a witness of its own:
			 * with it, one probed check confirms the listing */
			if (p->hinted && probed && o->kind == STORE_WATCH_LISTED &&
			    p->state != STORE_WATCH_LISTED) {
				p->pending = STORE_WATCH_LISTED;
				p->confirms = (uint8_t)(w->c->confirm - 1);
			}
			if (p->state == STORE_WATCH_UNKNOWN && o->kind == STORE_WATCH_CLEAN) {
				p->pending = STORE_WATCH_CLEAN;
				p->confirms = (uint8_t)(w->c->confirm - 1);
			}
			if (probed)
				p->hinted = 0;
			/* a listing, and the end of one, count only from a
			 * batch that probed the list: a list that starts
			 * listing everything, or answering NXDOMAIN for
			 * everything, is not believed either way */
			step(&p->state, &p->pending, &p->confirms, o->kind, w->c->confirm,
			     probed || (o->kind == STORE_WATCH_CLEAN &&
					p->state != STORE_WATCH_LISTED));
			if (record(w, w->p.t[lr->tidx[i]].name, lr->wl->key, &p->state, &p->pending,
				   &p->confirms, pfrom, o->codes, o->txt, "", false))
				goto fail;
		}
		if (p->pending != p->state)
			delay = (uint64_t)w->c->confirm_delay * 1000;
		p->due = (int64_t)(now + delay);
	}
	if (store_watch_budget_add(w->st, lr->wl->key, lr->day, (unsigned)lr->queries, &total))
		goto fail;
	lr->queries = 0;
	lr->used = total;
	lr->next_due = 0;       /* the targets just checked are due again: scan */
	if (store_commit(w->st))
		goto fail;
	free(saved);
	batch_free(lr);
	return;
fail:
	/* a disk full, a store down: the operator must see it, and that
	 * nothing is lost (a transition of this batch comes again) */
	log_err("store %s: %s: the checks of %s are not recorded; made again in %us", w->p.shown,
		store_error(w->st), lr->wl->key, w->c->confirm_delay + 1);
	store_rollback(w->st);
	lr->queries = 0;
	/* nothing of this batch happened: the states as they were, checked
	 * again after confirm_delay (the store may be back by then) */
	if (saved) {
		for (size_t i = 0; i < lr->got; i++)
			w->pairs[li * w->p.nt + lr->tidx[i]] = saved[i];
		lr->state = lsaved[0];
		lr->pending = lsaved[1];
		lr->confirms = lsaved[2];
	}
	for (size_t i = 0; i < lr->got; i++)
		w->pairs[li * w->p.nt + lr->tidx[i]].due =
			(int64_t)(now + (uint64_t)w->c->confirm_delay * 1000 + 1000);
	free(saved);
	lr->next_due = 0;
	batch_free(lr);
}

/* Hand out what lr's engine finished; finish the batch when all is. */
static void harvest(struct wd *w, size_t li)
{
	struct lrun *lr = &w->lr[li];
	struct dnsbl_target *t;

	if (!lr->eng)
		return;
	while ((t = dnsbl_next_done(lr->eng))) {
		if (lr->got < lr->n)
			take(lr, t, &lr->obs[lr->got++]);
		dnsbl_target_free(t);
	}
	if (lr->got == lr->n && !dnsbl_active(lr->eng))
		batch_finish(w, li);
}

/* Start a batch of list li with the targets due, if any and the budget
 * allows. */
static void batch_start(struct wd *w, size_t li, uint64_t now)
{
	struct lrun *lr = &w->lr[li];
	const struct list *l = lr->wl->l;
	struct dnsbl_opts o = { .cidr_limit = 1, .max_mx = 10 };
	uint64_t next = UINT64_MAX;
	int64_t day = now_s() / 86400;
	char err[300];

	if (lr->eng || now < lr->next_due)
		return;
	if (day != lr->day) {
		lr->day = day;
		lr->used = 0;
		lr->exhausted = false;
	}
	if (lr->wl->budget && lr->used >= lr->wl->budget) {
		if (!lr->exhausted)
			log_warn("%s: today's budget of %" PRIu64 " queries is used up: no more "
				 "checks today", lr->wl->key, lr->wl->budget);
		lr->exhausted = true;
		lr->next_due = now + 60000;
		return;
	}
	lr->probe = lr->state != STORE_WATCH_CLEAN || lr->probed == 0 ||
		    now - lr->probed >= (uint64_t)w->c->probe_interval * 1000;
	lr->tidx = xmalloc(WD_BATCH * sizeof(*lr->tidx));
	lr->n = 0;
	for (size_t i = 0; i < w->p.nt; i++) {
		struct pair *p = &w->pairs[li * w->p.nt + i];

		if (!applies(w, li, i))
			continue;
		if ((uint64_t)p->due > now) {
			if ((uint64_t)p->due < next)
				next = (uint64_t)p->due;
			continue;
		}
		if (lr->n == WD_BATCH) {
			next = now;
			continue;
		}
		lr->tidx[lr->n++] = i;
		if (p->pending != p->state || p->hinted)
			lr->probe = true;       /* a change is confirmed only by a probed check */
	}
	lr->next_due = next;
	if (!lr->n) {
		free(lr->tidx);
		lr->tidx = NULL;
		return;
	}
	o.no_probe = !lr->probe;
	lr->eng = dnsbl_new(lr->rs, &l, 1, &o, err, sizeof(err));
	if (!lr->eng) {
		log_err("%s: %s", lr->wl->key, err);
		free(lr->tidx);
		lr->tidx = NULL;
		lr->next_due = now + 60000;
		return;
	}
	lr->obs = xcalloc(lr->n, sizeof(*lr->obs));
	lr->got = 0;
	lr->nerr = lr->nok = 0;
	lr->berr[0] = '\0';
	for (size_t i = 0; i < lr->n; i++) {
		const struct watch_target *t = &w->p.t[lr->tidx[i]];

		dnsbl_add(lr->eng, t->query, t->mx);
	}
	/* targets in flight are not due again until they are back */
	for (size_t i = 0; i < lr->n; i++)
		w->pairs[li * w->p.nt + lr->tidx[i]].due = INT64_MAX;
	harvest(w, li);
}

/* ---- alerts ---- */

static bool kid_has(const struct wd *w, int64_t alert)
{
	for (unsigned i = 0; i < w->nkids; i++)
		if (w->kids[i].alert == alert)
			return true;
	return false;
}

static void spawn_delivery(struct wd *w, int64_t alert)
{
	char id[32];
	char *argv[] = { (char *)w->self, "watch", "deliver", "--config",
			 w->snap ? w->snap : (char *)w->path,
			 "--alert", id, NULL };
	posix_spawnattr_t attr;
	sigset_t none, def;
	pid_t pid;
	int rc;

	snprintf(id, sizeof(id), "%" PRId64, alert);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, w->self, NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (rc) {
		log_err("alert %s: cannot start the delivery: %s", id, strerror(rc));
		return;
	}
	w->kids[w->nkids].pid = pid;
	w->kids[w->nkids].alert = alert;
	w->nkids++;
	w->alerts_spawned++;
}

static int pending_cb(void *arg, const struct store_watch_alert *a)
{
	struct wd *w = arg;
	long pid;

	if (w->nkids >= WD_CHILDREN)
		return 1;
	if (kid_has(w, a->id))
		return 0;
	/* "sending pid N": a delivery of an earlier run of the daemon may
	 * still be at it; if it is gone it was cut off mid-way and is not
	 * sent again (it may have arrived) */
	if (sscanf(a->detail, "sending pid %ld", &pid) == 1) {
		if (pid > 0 && kill((pid_t)pid, 0) == 0)
			return 0;
		store_watch_alert_done(w->st, a->id, STORE_WATCH_ALERT_FAILED, now_s(),
				       "interrupted: the daemon restarted during the delivery");
		return 0;
	}
	spawn_delivery(w, a->id);
	return 0;
}

static void sweep_alerts(struct wd *w)
{
	w->sweep = false;
	w->last_sweep = now_ms();
	if (store_watch_alerts_pending(w->st, pending_cb, w) < 0)
		store_failed(w);
}

struct remind {
	struct wd *w;
	int64_t now;
};

static int last_tr(void *arg, const struct store_watch_transition *t)
{
	*(int64_t *)arg = t->id;
	return 0;
}

static int remind_cb(void *arg, const struct store_watch_status *s)
{
	struct remind *r = arg;
	struct wd *w = r->w;
	int64_t every = (int64_t)w->c->reminder * 3600, tid = 0;
	struct store_watch_status u = *s;

	if (r->now - (s->reminded > s->since ? s->reminded : s->since) < every)
		return 0;
	if (store_watch_transitions(w->st, s->since, s->target, s->list, 1, last_tr, &tid) < 0 ||
	    !tid)
		return 0;
	u.reminded = r->now;
	if (store_begin(w->st) == 0) {
		if (add_alerts(w, tid, (unsigned)((r->now - s->since) / every), r->now) ||
		    store_watch_put(w->st, &u) || store_commit(w->st)) {
			/* not reminded: tried again in a minute */
			store_failed(w);
			store_rollback(w->st);
		}
	}
	return 0;
}

static void reminders(struct wd *w)
{
	struct store_watch_filter f = { .states = 1u << STORE_WATCH_LISTED };
	struct remind r = { w, now_s() };

	w->last_remind = now_ms();
	if (!w->c->reminder)
		return;
	/* the walk reads, the callback writes: one connection does both in
	 * SQLite only outside a read transaction, which a walk is not */
	if (store_watch_states(w->st, &f, remind_cb, &r) < 0)
		store_failed(w);
}

static void on_child(ev_loop *ev, int signo, void *arg)
{
	struct wd *w = arg;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < w->nkids; i++) {
			if (w->kids[i].pid != pid)
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				log_warn("alert %" PRId64 ": delivery failed (see the store: "
					 "rblkit watch status)", w->kids[i].alert);
				/* a child that could not even start (store down):
				 * not again at once, four times a second */
				w->sweep_hold = now_ms() + 5000;
			}
			w->kids[i] = w->kids[--w->nkids];
			break;
		}
	}
	w->sweep = true;
}

/* ---- metrics ---- */

static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void metrics_text(struct wd *w, FILE *f)
{
	uint64_t counts[4] = { 0 };

	for (size_t li = 0; li < w->p.nl; li++)
		for (size_t ti = 0; ti < w->p.nt; ti++)
			if (applies(w, li, ti))
				counts[w->pairs[li * w->p.nt + ti].state]++;
	fputs("# HELP rblkit_watch_listed A target listed on a list (only listed pairs appear).\n"
	      "# TYPE rblkit_watch_listed gauge\n", f);
	/* from memory, not the store: a scrape of a /16 on 30 lists must
	 * not scan two million rows */
	for (size_t li = 0; li < w->p.nl; li++)
		for (size_t ti = 0; ti < w->p.nt; ti++) {
			if (w->pairs[li * w->p.nt + ti].state != STORE_WATCH_LISTED)
				continue;
			fputs("rblkit_watch_listed{target=\"", f);
			label(f, w->p.t[ti].name);
			fputs("\",list=\"", f);
			label(f, w->p.l[li].key);
			fputs("\"} 1\n", f);
		}
	fputs("# HELP rblkit_watch_pairs (target, list) pairs by state.\n"
	      "# TYPE rblkit_watch_pairs gauge\n", f);
	for (int s = 0; s < 4; s++)
		fprintf(f, "rblkit_watch_pairs{state=\"%s\"} %" PRIu64 "\n", store_watch_state_name(s),
			counts[s]);
#define PER_LIST(name, type, help, expr)                                          \
	fputs("# HELP rblkit_watch_" name " " help "\n# TYPE rblkit_watch_" name " " type "\n", f); \
	for (size_t li = 0; li < w->p.nl; li++) {                                \
		const struct lrun *lr = &w->lr[li];                              \
		fputs("rblkit_watch_" name "{list=\"", f);                        \
		label(f, lr->wl->key);                                           \
		fprintf(f, "\"} %" PRIu64 "\n", (uint64_t)(expr));                \
	}
	PER_LIST("list_error", "gauge", "1 while the list is in error (refusal, failed probe, no answer).",
		 lr->state == STORE_WATCH_ERROR)
	PER_LIST("checks_total", "counter", "Checks of a target on the list.", lr->checks)
	PER_LIST("list_errors_total", "counter", "Batches of checks that saw an error of the list.",
		 lr->errors)
	PER_LIST("budget_used", "gauge", "Queries sent to the list today (UTC).", lr->used)
	PER_LIST("budget_queries", "gauge", "Queries a day allowed to the list (0: unlimited).",
		 lr->wl->budget)
	PER_LIST("interval_seconds", "gauge", "Effective interval between checks of a target.",
		 lr->wl->effective)
#undef PER_LIST
	fprintf(f, "# HELP rblkit_watch_transitions_total Changes of state recorded.\n"
		   "# TYPE rblkit_watch_transitions_total counter\n"
		   "rblkit_watch_transitions_total %" PRIu64 "\n"
		   "# HELP rblkit_watch_alerts_started_total Alert deliveries started.\n"
		   "# TYPE rblkit_watch_alerts_started_total counter\n"
		   "rblkit_watch_alerts_started_total %" PRIu64 "\n"
		   "# HELP rblkit_watch_signals_total Rejections naming a list (mail log, bounces).\n"
		   "# TYPE rblkit_watch_signals_total counter\n"
		   "rblkit_watch_signals_total %" PRIu64 "\n",
		w->transitions, w->alerts_spawned, w->signals);
}

static void mconn_close(struct wd *w, struct mconn *m)
{
	ev_fd_del(w->ev, m->fd);
	close(m->fd);
	m->fd = -1;
}

/* The answer to one request; the body is small (a line per list and per
 * listed pair), so one non-blocking send of each part; a client that
 * cannot take it at once gets what fitted. */
static void mconn_answer(struct wd *w, struct mconn *m)
{
	char *body = NULL, head[200];
	size_t blen = 0;
	FILE *f = open_memstream(&body, &blen);

	if (f) {
		metrics_text(w, f);
		fclose(f);
		snprintf(head, sizeof(head),
			 "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
		if (send(m->fd, head, strlen(head), MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
			(void)!send(m->fd, body, blen, MSG_NOSIGNAL | MSG_DONTWAIT);
		free(body);
	}
	mconn_close(w, m);
}

static void on_mconn(ev_loop *ev, int fd, unsigned events, void *arg)
{
	struct mconn *m = arg;
	ssize_t r = recv(fd, m->buf + m->len, sizeof(m->buf) - 1 - m->len, MSG_DONTWAIT);

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		mconn_close(m->w, m);
		return;
	}
	m->len += (size_t)r;
	m->buf[m->len] = '\0';
	/* the end of the request's head, or as much as is read of one */
	if (strstr(m->buf, "\r\n\r\n") || strstr(m->buf, "\n\n") || m->len == sizeof(m->buf) - 1)
		mconn_answer(m->w, m);
}

/* Requests are read on the loop, never waited for: a client that
 * connects and says nothing holds a slot for 2 s at most (or until a
 * newer connection needs it), never the daemon. */
static void on_metrics(ev_loop *ev, int fd, unsigned events, void *arg)
{
	struct wd *w = arg;
	int c;

	while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct mconn *m = NULL;

		for (unsigned i = 0; i < WD_METRICS_CONNS && !m; i++)
			if (w->mc[i].fd < 0)
				m = &w->mc[i];
		if (!m) {
			/* all taken: the one that has said nothing longest goes */
			m = &w->mc[0];
			for (unsigned i = 1; i < WD_METRICS_CONNS; i++)
				if (w->mc[i].since < m->since)
					m = &w->mc[i];
			mconn_close(w, m);
		}
		if (ev_fd_add(ev, c, EV_READ, on_mconn, m) < 0) {
			close(c);
			continue;
		}
		m->w = w;
		m->fd = c;
		m->len = 0;
		m->since = now_ms();
	}
}

static void mconn_expire(struct wd *w, uint64_t now)
{
	for (unsigned i = 0; i < WD_METRICS_CONNS; i++)
		if (w->mc[i].fd >= 0 && now - w->mc[i].since > 2000)
			mconn_close(w, &w->mc[i]);
}

/* ---- setting up, reloading ---- */

/* Answers for a list's resolver. */
static void on_rs(ev_loop *ev, int fd, unsigned events, void *arg)
{
	struct lrun *lr = arg;

	rs_process(lr->rs);
	harvest(lr->w, (size_t)(lr - lr->w->lr));
}

static int runtime_start(struct wd *w, char *err, size_t el)
{
	uint64_t now = now_ms();
	int64_t day = now_s() / 86400;

	hash_build(w);
	if (signals_open(w, err, el))
		return -1;
	w->pairs = xcalloc(w->p.nl * (w->p.nt ? w->p.nt : 1), sizeof(*w->pairs));
	w->lr = xcalloc(w->p.nl, sizeof(*w->lr));
	for (size_t li = 0; li < w->p.nl; li++) {
		struct lrun *lr = &w->lr[li];
		struct rs_opts ro = { .mode = RS_RECURSIVE, .tries = 2 };
		size_t k = 0, n = w->p.l[li].ntargets ? w->p.l[li].ntargets : 1;

		lr->wl = &w->p.l[li];
		ro.timeout_ms = w->c->timeout * 1000;
		ro.root_hints = w->c->root_hints;
		if (*lr->wl->server) {
			ro.mode = RS_FORWARD;
			ro.servers = lr->wl->server;
		} else if (strcmp(w->c->resolver, "recursive")) {
			ro.mode = RS_FORWARD;
			ro.servers = w->c->resolver;
		}
		lr->rs = rs_new(&ro, err, el);
		if (!lr->rs)
			return -1;
		lr->w = w;
		if (ev_fd_add(w->ev, rs_fd(lr->rs), EV_READ, on_rs, lr) < 0) {
			snprintf(err, el, "epoll: %s", strerror(errno));
			return -1;
		}
		lr->day = day;
		store_watch_budget_get(w->st, lr->wl->key, day, &lr->used);
		/* first checks spread over the interval (or a minute at most) */
		for (size_t ti = 0; ti < w->p.nt; ti++) {
			uint64_t span = (uint64_t)lr->wl->effective * 1000;

			if (!applies(w, li, ti))
				continue;
			if (span > 60000 && lr->wl->ntargets < 100)
				span = 60000;
			w->pairs[li * w->p.nt + ti].due = (int64_t)(now + span * k++ / n);
		}
	}
	return 0;
}

/* The states the store holds for this plan; rows the plan no longer
 * watches are dropped (their history stays). */
struct loadw {
	struct wd *w;
	char (*drop)[2][STORE_WATCH_LIST_MAX];
	size_t ndrop;
};

static int load_cb(void *arg, const struct store_watch_status *s)
{
	struct loadw *lw = arg;
	struct wd *w = lw->w;
	long li = list_find(w, s->list), ti = *s->target ? target_find(w, s->target) : -2;

	if (li < 0 || ti == -1 || (ti >= 0 && !applies(w, (size_t)li, (size_t)ti))) {
		if (lw->ndrop < 4096) {
			lw->drop = xreallocarray(lw->drop, lw->ndrop + 1, sizeof(*lw->drop));
			str_copy(lw->drop[lw->ndrop][0], STORE_WATCH_LIST_MAX, s->target);
			str_copy(lw->drop[lw->ndrop][1], STORE_WATCH_LIST_MAX, s->list);
			lw->ndrop++;
		}
		return 0;
	}
	if (ti == -2) {
		struct lrun *lr = &w->lr[li];

		lr->state = (uint8_t)s->state;
		lr->pending = (uint8_t)s->pending;
		lr->confirms = (uint8_t)s->confirms;
	} else {
		struct pair *p = &w->pairs[(size_t)li * w->p.nt + (size_t)ti];

		p->state = (uint8_t)s->state;
		p->pending = (uint8_t)s->pending;
		p->confirms = (uint8_t)s->confirms;
	}
	return 0;
}

static int load_states(struct wd *w)
{
	struct loadw lw = { w, NULL, 0 };
	int rc = store_watch_states(w->st, NULL, load_cb, &lw);

	for (size_t i = 0; i < lw.ndrop && rc >= 0; i++) {
		log_info("no longer watched: %s on %s", *lw.drop[i][0] ? lw.drop[i][0] : "(list)",
			 lw.drop[i][1]);
		rc = store_watch_del(w->st, lw.drop[i][0], lw.drop[i][1]);
	}
	free(lw.drop);
	return rc < 0 ? -1 : 0;
}

static void runtime_stop(struct wd *w)
{
	signals_close(w);
	for (size_t li = 0; w->lr && li < w->p.nl; li++) {
		batch_free(&w->lr[li]);
		if (w->lr[li].rs) {
			ev_fd_del(w->ev, rs_fd(w->lr[li].rs));
			rs_free(w->lr[li].rs);
		}
	}
	free(w->lr);
	free(w->pairs);
	free(w->hash);
	w->lr = NULL;
	w->pairs = NULL;
	w->hash = NULL;
}

/* ---- signals: a rejection naming a list ---- */

/* Check target ti on list li at once -- at most once a minute per pair:
 * a queue of deferred mail retried against a receiver that cites the list
 * gives a line each time, and must not spend the list's daily budget in
 * hours. A later check is a witness all the same (hinted). */
static void hint(struct wd *w, size_t li, size_t ti)
{
	struct pair *p = &w->pairs[li * w->p.nt + ti];
	uint32_t now = (uint32_t)(now_ms() / 1000) + 1;        /* never 0 */

	p->hinted = 1;
	if (p->due == INT64_MAX)        /* in flight */
		return;
	if (p->hint_s && now - p->hint_s < 60)
		return;
	p->hint_s = now;
	p->due = 0;
	w->lr[li].next_due = 0;
}

static void on_signal(void *arg, const struct watch_signal *s)
{
	struct wd *w = arg;
	struct store_watch_note n;
	long ti = *s->ip ? target_find(w, s->ip) : -1;
	unsigned hinted = 0;

	w->signals++;
	memset(&n, 0, sizeof(n));
	n.time = s->when ? s->when : now_s();
	str_copy(n.source, sizeof(n.source), s->source);
	str_copy(n.subject, sizeof(n.subject), *s->ip ? s->ip : s->relay);
	str_copy(n.list, sizeof(n.list), s->zone);
	snprintf(n.text, sizeof(n.text), "%.200s%s%.300s", s->relay, *s->relay ? ": " : "", s->text);
	if (store_watch_note_add(w->st, &n, n.time - 30 * 86400, NULL))
		store_failed(w);
	for (size_t li = 0; li < w->p.nl; li++) {
		const struct list *l = w->p.l[li].l;

		if (!(l->id && !strcmp(l->id, s->list_id)) &&
		    !(*s->zone && l->zone && !strcasecmp(l->zone, s->zone)))
			continue;
		if (ti >= 0 && applies(w, li, (size_t)ti)) {
			hint(w, li, (size_t)ti);
			hinted++;
			continue;
		}
		/* the text does not say which of ours: all of them, unless a
		 * range makes that a burst the list's budget cannot take */
		if (w->p.l[li].ntargets > 256)
			continue;
		for (size_t i = 0; i < w->p.nt; i++)
			if (applies(w, li, i)) {
				hint(w, li, i);
				hinted++;
			}
	}
	log_info("%s: %s names %s%s%s: %u checks now", s->source, *s->relay ? s->relay : "a rejection",
		 s->list_id, *s->ip ? " for " : "", s->ip, hinted);
}

static void poll_signals(struct wd *w, uint64_t now)
{
	char err[300];

	if (now - w->last_signal_poll < 250)
		return;
	w->last_signal_poll = now;
	if (w->wlog && watch_log_poll(w->wlog, on_signal, w, err, sizeof(err)) < 0)
		log_warn("mail_log: %s", err);
	if (w->wmd && watch_maildir_poll(w->wmd, on_signal, w, err, sizeof(err)) < 0)
		log_warn("bounce_maildir: %s", err);
}

static int signals_open(struct wd *w, char *err, size_t el)
{
	char e[300];

	if (w->c->mail_log && *w->c->mail_log &&
	    watch_log_open(&w->wlog, w->c->mail_log, w->p.cat, e, sizeof(e))) {
		snprintf(err, el, "mail_log %s: %s", w->c->mail_log, e);
		return -1;
	}
	if (w->c->bounce_maildir && *w->c->bounce_maildir &&
	    watch_maildir_open(&w->wmd, w->c->bounce_maildir, w->p.cat, e, sizeof(e))) {
		snprintf(err, el, "bounce_maildir %s: %s", w->c->bounce_maildir, e);
		return -1;
	}
	return 0;
}

static void signals_close(struct wd *w)
{
	watch_log_close(w->wlog);
	watch_maildir_close(w->wmd);
	w->wlog = NULL;
	w->wmd = NULL;
}

static void on_tick(ev_loop *ev, struct ev_timer *t, void *arg)
{
	struct wd *w = arg;
	uint64_t now = now_ms();

	poll_signals(w, now);
	mconn_expire(w, now);

	for (size_t li = 0; li < w->p.nl; li++) {
		if (w->lr[li].eng) {
			rs_process(w->lr[li].rs);
			harvest(w, li);
		}
		batch_start(w, li, now);
	}
	if ((w->sweep || now - w->last_sweep >= 5000) && now >= w->sweep_hold)
		sweep_alerts(w);
	if (now - w->last_remind >= 60000)
		reminders(w);
	ev_timer_start(ev, t, WD_TICK_MS);
}

static void on_term(ev_loop *ev, int signo, void *arg)
{
	log_info("signal %d: stopping", signo);
	ev_stop(ev);
}

/* The configuration as loaded, copied for the delivery children (they
 * read it, not the file: an edit not reloaded yet, or a broken one, must
 * not change how an alert is sent, nor stop it). The copy is checked by
 * loading it; when the file changed in between, the last copy stays. */
static void snapshot_conf(struct wd *w)
{
	char tmpl[] = "/tmp/rblkit-watch-conf-XXXXXX", buf[8192], err[600];
	struct watch_conf *c = NULL;
	struct watch_plan p;
	struct conftab_errors e;
	FILE *in = fopen(w->path, "r");
	int fd = mkstemp(tmpl), ok = in && fd >= 0;
	size_t n;

	while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		ok = write(fd, buf, n) == (ssize_t)n;
	ok = ok && !ferror(in);
	if (in)
		fclose(in);
	if (fd >= 0 && close(fd))
		ok = 0;
	memset(&p, 0, sizeof(p));
	if (ok && watch_load(tmpl, &c, &p, &e, err, sizeof(err)))
		ok = 0;
	if (c)
		conftab_free(&watch_conftab, c);
	watch_plan_free(&p);
	if (!ok) {
		if (fd >= 0)
			unlink(tmpl);
		log_warn("%s changed while it was loaded: alerts are sent with the %s", w->path,
			 w->snap ? "configuration loaded before" : "file as it is then");
		return;
	}
	if (w->snap) {
		unlink(w->snap);
		free(w->snap);
	}
	w->snap = xstrdup(tmpl);
}

static void on_hup(ev_loop *ev, int signo, void *arg)
{
	struct wd *w = arg;
	struct watch_conf *c = NULL;
	struct watch_plan p;
	struct conftab_errors e;
	char err[600];

	if (watch_load(w->path, &c, &p, &e, err, sizeof(err))) {
		conftab_errors_print(&e, stderr);
		if (*err)
			log_err("%s", err);
		log_err("reload failed: the old configuration stays");
		if (c)
			conftab_free(&watch_conftab, c);
		watch_plan_free(&p);
		return;
	}
	if (strcmp(p.dsn, w->p.dsn))
		log_warn("store: a new DSN takes a restart; keeping %s", w->p.shown);
	str_copy(p.dsn, sizeof(p.dsn), w->p.dsn);
	str_copy(p.shown, sizeof(p.shown), w->p.shown);
	runtime_stop(w);
	watch_plan_free(&w->p);
	conftab_free(&watch_conftab, w->c);
	w->c = c;
	w->p = p;
	if (runtime_start(w, err, sizeof(err)) || load_states(w)) {
		log_err("reload: %s%s", err, w->st ? store_error(w->st) : "");
		ev_stop(ev);
		return;
	}
	snapshot_conf(w);
	log_info("reloaded: %zu targets, %zu lists", w->p.nt, w->p.nl);
}

static int metrics_open(struct wd *w, char *err, size_t el)
{
	struct listen_list ll;

	w->mfd = -1;
	for (unsigned i = 0; i < WD_METRICS_CONNS; i++)
		w->mc[i].fd = -1;
	if (!w->c->metrics || !*w->c->metrics)
		return 0;
	if (listen_parse(w->c->metrics, LISTEN_COLON, NULL, 0, &ll, err, el) < 0)
		return -1;
	w->maddr = ll.a[0];
	w->mfd = listen_bind(&ll.a[0], SOCK_STREAM, LISTEN_O_NONBLOCK, 16, err, el);
	if (w->mfd < 0)
		return -1;
	return ev_fd_add(w->ev, w->mfd, EV_READ, on_metrics, w) < 0 ? -1 : 0;
}

static void log_plan(const struct wd *w)
{
	log_info("watching %zu targets on %zu lists, store %s", w->p.nt, w->p.nl, w->p.shown);
	for (size_t i = 0; i < w->p.nl; i++) {
		const struct watch_list *l = &w->p.l[i];

		if (l->stretched)
			log_info("%s: %u targets within %" PRIu64 " queries a day: every %us instead "
				 "of %us", l->key, l->ntargets, l->budget, l->effective, l->interval);
	}
	if (!w->c->alert_command && !w->c->alert_webhook && !w->c->alert_mail)
		log_warn("no alert_command, alert_webhook or alert_mail: changes are only recorded");
	if (w->wlog)
		log_info("following %s for rejections naming a list", w->c->mail_log);
	if (w->wmd)
		log_info("reading bounces in %s", w->c->bounce_maildir);
}

int watch_daemon(const char *path, const char *self)
{
	struct wd w;
	struct conftab_errors e;
	char err[600];
	int rc = 1;

	memset(&w, 0, sizeof(w));
	w.path = path;
	w.self = self;
	w.mfd = -1;
	for (unsigned i = 0; i < WD_METRICS_CONNS; i++)
		w.mc[i].fd = -1;
	if (watch_load(path, &w.c, &w.p, &e, err, sizeof(err))) {
		conftab_errors_print(&e, stderr);
		if (*err)
			log_err("%s", err);
		goto out;
	}
	if (!strcasecmp(w.c->log_level, "debug"))
		log_set_level(LOG_LVL_DEBUG);
	else if (!strcasecmp(w.c->log_level, "warn"))
		log_set_level(LOG_LVL_WARN);
	if (store_open(w.p.dsn, 0, &w.st, err, sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	if (!(w.ev = ev_new(err, sizeof(err)))) {
		log_err("%s", err);
		goto out;
	}
	if (runtime_start(&w, err, sizeof(err)) || load_states(&w)) {
		log_err("%s", *err ? err : store_error(w.st));
		goto out;
	}
	if (metrics_open(&w, err, sizeof(err))) {
		log_err("metrics %s: %s", w.c->metrics, err);
		goto out;
	}
	ev_signal_add(w.ev, SIGTERM, on_term, &w);
	ev_signal_add(w.ev, SIGINT, on_term, &w);
	ev_signal_add(w.ev, SIGHUP, on_hup, &w);
	ev_signal_add(w.ev, SIGCHLD, on_child, &w);
	signal(SIGPIPE, SIG_IGN);
	log_plan(&w);
	snapshot_conf(&w);
	ev_timer_init(&w.tick, on_tick, &w);
	ev_timer_start(w.ev, &w.tick, 0);
	w.sweep = true;
	rc = ev_run(w.ev) < 0 ? 1 : 0;
out:
	runtime_stop(&w);
	if (w.snap) {
		unlink(w.snap);
		free(w.snap);
	}
	for (unsigned i = 0; i < WD_METRICS_CONNS; i++)
		if (w.mc[i].fd >= 0)
			close(w.mc[i].fd);
	if (w.mfd >= 0)
		listen_close(&w.maddr, w.mfd);
	if (w.ev)
		ev_free(w.ev);
	store_close(w.st);
	if (w.c)
		conftab_free(&watch_conftab, w.c);
	watch_plan_free(&w.p);
	return rc;
}
