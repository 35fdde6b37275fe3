/*
 * lookup.c - concurrent blocklist lookups per client address, the result
 * cache, and the reading of answers through the catalogue.
 *
 * A lookup (struct plk_job) sends the A query of every zone at once;
 * when an answer holds a code that makes a positive-weight site match, the
 * TXT query of that zone follows at once (as Postfix does, the reason is
 * asked only of lists that list the client). The job lives until every
 * query has ended, whether or not anyone still waits, so a slow list
 * still fills the cache for the next message.
 *
 * The cache is a 4-way set-associative table of small fixed entries
 * (no allocation per miss; the TXT and detail strings of listed clients,
 * a small minority, are allocated).
 *
 * SECURITY: see dnsbl.h. An answer code the catalogue calls an error
 * (127.255.255.254: "query through a public resolver", 127.0.0.1, codes
 * outside 127/8) is dropped here and logged, so no filter or weight can
 * make it count.
 */
#include "policy/lookup.h"
#include "dnsbl/catalog.h"
#include "policy/health.h"
#include "base/ipaddr.h"
#include "dnsbl/resolve.h"
#include "policy/score.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#define QTYPE_A 1
#define QTYPE_TXT 16
#define WAYS 4

struct qarg {
	struct plk_job *job;
	uint16_t zone;
	bool txt;
};

struct plk_job {
	struct plk *d;
	struct plk_job *next;
	uint8_t key[17];		/* family byte + address */
	int family;
	uint8_t addr[16];
	char text[INET6_ADDRSTRLEN];
	struct score_zone zones[SITES_MAX];
	uint8_t txt_state[SITES_MAX];	/* 0 none, 1 asked, 2 answered */
	char *txt[SITES_MAX];
	struct qarg qa[SITES_MAX][2];
	unsigned pending;
	uint32_t ttl;
	bool failed;
	struct plk_waiter waiters;	/* list head */
	uint64_t started;
};

struct centry {
	uint8_t key[17];
	bool used;
	int16_t top;
	int score;
	uint64_t expires;		/* now_ms() */
	char *txt, *detail;		/* listed clients only */
};

struct plk {
	const struct pcfg *cfg;
	struct resolver *rs;
	struct phl *health;		/* RFC 5782 probes of the zones */
	struct catalog *cat;
	const struct list *lists[SITES_MAX];
	time_t warned[SITES_MAX];	/* last error-code warning per zone */
	struct plk_job *jobs;
	unsigned njobs;
	struct plk_job *parked;		/* answered; waiters wait for a probe */
	struct centry *cache;
	size_t nsets;			/* power of two */
	uint32_t seed;
	uint64_t hits, misses;
	bool closing;
};

/* -- names ----------------------------------------------------------- */

static int parse_addr(const char *text, int *family, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		/* an IPv4-mapped address is looked up as IPv4 */
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (!memcmp(addr, mapped, 12)) {
			memmove(addr, addr + 12, 4);
			memset(addr + 4, 0, 12);
			*family = AF_INET;
		} else {
			*family = AF_INET6;
		}
		return 0;
	}
	return -1;
}

/* -- cache ----------------------------------------------------------- */

/* A multiply-xorshift mix of the key's two 8-byte halves and its family
 * byte, with a per-process seed (the addresses come from the network). */
static uint32_t key_hash(const struct plk *d, const uint8_t *key)
{
	uint64_t a, b, h;

	memcpy(&a, key + 1, 8);
	memcpy(&b, key + 9, 8);
	h = (a ^ d->seed) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	h = (h ^ b ^ key[0]) * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

static struct centry *cache_find(struct plk *d, const uint8_t *key, uint64_t now)
{
	struct centry *set = &d->cache[(key_hash(d, key) & (d->nsets - 1)) * WAYS];

	for (int i = 0; i < WAYS; i++)
		if (set[i].used && set[i].expires > now && !memcmp(set[i].key, key, 17))
			return &set[i];
	return NULL;
}

static void centry_clear(struct centry *e)
{
	free(e->txt);
	free(e->detail);
	memset(e, 0, sizeof(*e));
}

/* The slot for key: its own, an expired one, or the one expiring first. */
static struct centry *cache_slot(struct plk *d, const uint8_t *key, uint64_t now)
{
	struct centry *set = &d->cache[(key_hash(d, key) & (d->nsets - 1)) * WAYS];
	struct centry *victim = &set[0];

	for (int i = 0; i < WAYS; i++) {
		if (set[i].used && !memcmp(set[i].key, key, 17))
			return &set[i];
		if (!set[i].used || set[i].expires <= now)
			victim = &set[i];
		else if (victim->used && victim->expires > now &&
			 set[i].expires < victim->expires)
			victim = &set[i];
	}
	return victim;
}

static void fill_from_cache(const struct plk *d, const struct centry *e,
			    struct plk_result *res)
{
	const struct sites *s = d->cfg->sites;

	memset(res, 0, sizeof(*res));
	res->score = e->score;
	res->listed = e->score >= d->cfg->threshold;
	res->complete = true;
	res->cached = true;
	res->zone = e->top >= 0 && (size_t)e->top < s->n ? s->site[e->top].zone : "";
	snprintf(res->txt, sizeof(res->txt), "%s", e->txt ? e->txt : "");
	snprintf(res->detail, sizeof(res->detail), "%s", e->detail ? e->detail : "");
}

/* -- set up ---------------------------------------------------------- */

static int resolver_opts(const struct pcfg *cfg, struct rs_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = cfg->resolver_timeout_ms;
	o->tries = 2;
	o->window = 1024;
	if (!strcmp(cfg->resolver, "system"))
		o->mode = RS_SYSTEM;
	else if (!strcmp(cfg->resolver, "recursive"))
		o->mode = RS_RECURSIVE;
	else {
		o->mode = RS_FORWARD;
		o->servers = cfg->resolver;
	}
	return 0;
}

/* Find each zone in the catalogue; unknown zones get RFC 5782 defaults. */
static void bind_lists(struct plk *d)
{
	const struct sites *s = d->cfg->sites;

	for (size_t i = 0; i < s->nzones; i++) {
		const struct list *l = catalog_by_zone(d->cat, s->zones[i]);

		if (!l)
			l = catalog_add_zone(d->cat, s->zones[i], LK_IP4 | LK_IP6);
		else if (!(l->kinds & (LK_IP4 | LK_IP6)))
			log_warn("dnsbl_sites: %s (%s) lists domains, not addresses; "
				 "client addresses are not looked up in it", s->zones[i],
				 l->name);
		else if (l->status == LS_NEEDS_KEY)
			log_warn("dnsbl_sites: %s (%s) answers only with an access key; "
				 "its refusal codes will not count", s->zones[i], l->name);
		else if (l->status == LS_RETIRED)
			log_warn("dnsbl_sites: %s (%s) is retired; its answers may list "
				 "everyone and are read with its catalogue codes",
				 s->zones[i], l->name);
		d->lists[i] = l;
	}
}

static void notify(struct plk_job *j);
static void unpark(struct plk *d, bool all);

/* A list changed state. Cached results were scored with or without it:
 * they go. Lookups that waited for the first probe may be decided now. */
static void health_changed(void *arg, unsigned zone, enum phl_state st)
{
	struct plk *d = arg;
	struct plk_job *j, *nx;

	if (d->closing)
		return;
	for (size_t i = 0; i < d->nsets * WAYS; i++)
		centry_clear(&d->cache[i]);
	for (j = d->jobs; j; j = nx) {
		nx = j->next;
		notify(j);
	}
	unpark(d, false);
}

struct plk *plk_new(const struct pcfg *cfg, char *err, size_t errlen)
{
	struct plk *d = xcalloc(1, sizeof(*d));
	struct rs_opts o;
	size_t sets = 1;

	d->cfg = cfg;
	d->cat = catalog_new();
	if (catalog_load_all(d->cat, (const char *const *)&cfg->catalog,
			     cfg->catalog ? 1 : 0, err, errlen))
		goto fail;
	bind_lists(d);
	if (cfg->sites->nzones) {
		resolver_opts(cfg, &o);
		if (!(d->rs = rs_new(&o, err, errlen)))
			goto fail;
	}
	while (sets * WAYS < cfg->cache_size)
		sets *= 2;
	d->nsets = sets;
	d->cache = xcalloc(sets * WAYS, sizeof(*d->cache));
	if (getrandom(&d->seed, sizeof(d->seed), GRND_NONBLOCK) != sizeof(d->seed))
		d->seed = (uint32_t)now_ms();
	if (d->rs)
		d->health = phl_new(d->rs, cfg->sites, d->lists, cfg->probe_interval,
				    health_changed, d);
	return d;
fail:
	catalog_free(d->cat);
	free(d);
	return NULL;
}

void plk_free(struct plk *d)
{
	if (!d)
		return;
	d->closing = true;
	phl_close(d->health);
	if (d->rs) {
		rs_cancel_all(d->rs);	/* every job ends and frees itself */
		rs_free(d->rs);
	}
	unpark(d, true);
	phl_free(d->health);
	for (size_t i = 0; i < d->nsets * WAYS; i++)
		centry_clear(&d->cache[i]);
	free(d->cache);
	catalog_free(d->cat);
	free(d);
}

int plk_fd(const struct plk *d)
{
	return d->rs ? rs_fd(d->rs) : -1;
}

int plk_timeout_ms(const struct plk *d)
{
	return d->rs ? rs_next_timeout_ms(d->rs) : -1;
}

void plk_process(struct plk *d)
{
	if (d->rs)
		rs_process(d->rs);
}

void plk_tick(struct plk *d, uint64_t now)
{
	phl_tick(d->health, now);
}

void plk_health_report(const struct plk *d, FILE *f)
{
	phl_report(d->health, f);
}

void plk_health_metrics(const struct plk *d, FILE *f)
{
	phl_metrics(d->health, f);
}

void plk_inherit_health(struct plk *d, const struct plk *old)
{
	if (old)
		phl_inherit(d->health, old->health);
}

void plk_stats(const struct plk *d, uint64_t *hits, uint64_t *misses, unsigned *inflight)
{
	*hits = d->hits;
	*misses = d->misses;
	*inflight = d->njobs;
}

/* -- answers --------------------------------------------------------- */

static void warn_error_code(struct plk *d, unsigned zone, uint32_t code,
			    const char *meaning, const char *client)
{
	time_t now = time(NULL);
	char a[16];

	if (now - d->warned[zone] < 600)
		return;
	d->warned[zone] = now;
	ip4_format(code, a);
	log_warn("%s answered %s for %s: %s; this code never counts (logged once "
		 "in 10 minutes)", d->cfg->sites->zones[zone], a, client, meaning);
}

/* Does a positive-weight site of zone match its answer? */
static bool zone_lists(const struct sites *s, unsigned zone, const struct score_zone *z)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->site[i].zone_idx != zone || s->site[i].weight <= 0)
			continue;
		for (size_t k = 0; k < z->ncodes; k++)
			if (site_match(&s->site[i], z->codes[k]))
				return true;
	}
	return false;
}

static void submit(struct plk_job *j, unsigned zone, bool txt);

static void read_a(struct plk_job *j, unsigned zone, const struct rs_answer *ans)
{
	struct plk *d = j->d;
	struct score_zone *z = &j->zones[zone];

	z->state = SZ_DONE;
	if (ans->status != RS_OK || (ans->rcode != 0 && ans->rcode != 3)) {
		j->failed = true;
		if (!d->closing)
			phl_lookup_failed(d->health, zone);
		log_debug("%s: %s for %s: %s", d->cfg->sites->zones[zone],
			  ans->status == RS_OK ? "DNS error" : "no answer", j->text,
			  ans->status == RS_OK ? "rcode" : ans->error ? ans->error : "");
		return;
	}
	if (ans->ttl < j->ttl)
		j->ttl = ans->ttl;
	for (size_t i = 0; i < ans->n && i < RS_MAX_RR; i++) {
		const char *meaning;
		uint32_t code = ans->u.a[i];

		if (list_classify(d->lists[zone], code, &meaning) == CC_ERROR) {
			phl_count_error(d->health, zone);
			warn_error_code(d, zone, code, meaning, j->text);
			continue;
		}
		if (z->ncodes < SCORE_MAX_CODES)
			z->codes[z->ncodes++] = code;
	}
	if (z->ncodes && zone_lists(d->cfg->sites, zone, z))
		submit(j, zone, true);
}

static void read_txt(struct plk_job *j, unsigned zone, const struct rs_answer *ans)
{
	j->txt_state[zone] = 2;
	if (ans->status == RS_OK && ans->rcode == 0 && ans->n && ans->txt[0])
		j->txt[zone] = xstrndup(ans->txt[0], PLK_TXT_MAX - 1);
}

static void notify(struct plk_job *j)
{
	struct plk_waiter *w = j->waiters.next, *nx;

	for (; w != &j->waiters; w = nx) {
		nx = w->next;
		w->cb(w);	/* may detach w (not others) */
	}
}

/* The answers of j as they count: an unusable list's not at all; a
 * list still on its first probe as not answered yet (wait), or, when
 * final, as not counting (fail open), unless store (the cache is flushed
 * if that list turns out unusable). */
static void mask_zones(const struct plk *d, const struct plk_job *j, bool wait,
		       bool final, struct score_zone *out)
{
	size_t n = d->cfg->sites->nzones;

	memcpy(out, j->zones, n * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		enum phl_state st = phl_state(d->health, (unsigned)i);

		if (st == PH_UNUSABLE) {
			out[i].state = SZ_DONE;
			out[i].ncodes = 0;
		} else if (st == PH_UNKNOWN && final) {
			out[i].ncodes = 0;	/* still pending: the budget log says so */
		} else if (st == PH_UNKNOWN && wait) {
			out[i].state = SZ_PENDING;
		}
	}
}

static void job_store(struct plk_job *j)
{
	struct plk *d = j->d;
	const struct pcfg *c = d->cfg;
	struct score_result sr;
	uint64_t now = now_ms();
	uint32_t ttl = j->ttl;
	struct centry *e;
	char detail[PLK_DETAIL_MAX];
	struct score_zone zones[SITES_MAX];

	if (d->closing)
		return;
	if (j->failed || ttl < c->cache_min_ttl)
		ttl = c->cache_min_ttl;
	if (ttl > c->cache_max_ttl)
		ttl = c->cache_max_ttl;
	if (ttl == 0)
		return;
	mask_zones(d, j, false, false, zones);
	score_eval(c->sites, zones, &sr);
	e = cache_slot(d, j->key, now);
	centry_clear(e);
	memcpy(e->key, j->key, 17);
	e->used = true;
	e->score = sr.score;
	e->top = (int16_t)sr.top;
	e->expires = now + (uint64_t)ttl * 1000;
	if (sr.matched) {
		score_detail(c->sites, zones, detail, sizeof(detail));
		e->detail = xstrdup(detail);
	}
	if (sr.top >= 0 && j->txt[c->sites->site[sr.top].zone_idx])
		e->txt = xstrdup(j->txt[c->sites->site[sr.top].zone_idx]);
}

/* Is a list still on its first probe? */
static bool probing(const struct plk *d)
{
	for (size_t i = 0; i < d->cfg->sites->nzones; i++)
		if (phl_state(d->health, (unsigned)i) == PH_UNKNOWN)
			return true;
	return false;
}

static void job_free(struct plk_job *j)
{
	while (j->waiters.next != &j->waiters)	/* nobody should be left */
		plk_detach(j->waiters.next);
	for (size_t i = 0; i < SITES_MAX; i++)
		free(j->txt[i]);
	free(j);
}

/* Tell the waiters of the parked jobs (answered, waiting for a probe);
 * free those that nobody waits for any more, or all of them. */
static void unpark(struct plk *d, bool all)
{
	struct plk_job *j = d->parked, *nx;

	d->parked = NULL;
	for (; j; j = nx) {
		nx = j->next;
		notify(j);
		if (!all && j->waiters.next != &j->waiters && probing(d)) {
			j->next = d->parked;
			d->parked = j;
		} else {
			job_free(j);
		}
	}
}

static void job_finish(struct plk_job *j)
{
	struct plk *d = j->d;

	/* out of the list first: a waiter's callback may look the same
	 * address up again, and must then find the cache, not this job */
	for (struct plk_job **pp = &d->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	d->njobs--;
	job_store(j);
	notify(j);
	if (j->waiters.next != &j->waiters && !d->closing && probing(d)) {
		/* its waiters wait for a list's first probe: health_changed()
		 * tells them */
		j->next = d->parked;
		d->parked = j;
		return;
	}
	job_free(j);
}

static void on_answer(void *arg, const struct rs_answer *ans)
{
	struct qarg *qa = arg;
	struct plk_job *j = qa->job;

	j->pending--;
	if (qa->txt)
		read_txt(j, qa->zone, ans);
	else
		read_a(j, qa->zone, ans);
	if (j->pending == 0)
		job_finish(j);
	else
		notify(j);
}

static void submit(struct plk_job *j, unsigned zone, bool txt)
{
	struct plk *d = j->d;
	struct qarg *qa = &j->qa[zone][txt];
	char name[320];

	if (d->closing)
		return;
	qa->job = j;
	qa->zone = (uint16_t)zone;
	qa->txt = txt;
	if (ip_revname(j->family, j->addr, d->cfg->sites->zones[zone], name,
			sizeof(name)) ||
	    rs_submit(d->rs, name, txt ? QTYPE_TXT : QTYPE_A, on_answer, qa)) {
		if (!txt) {
			j->zones[zone].state = SZ_DONE;
			j->failed = true;
		}
		return;
	}
	if (txt)
		j->txt_state[zone] = 1;
	j->pending++;
}

/* -- lookups --------------------------------------------------------- */

static void attach(struct plk_job *j, struct plk_waiter *w)
{
	w->job = j;
	w->next = &j->waiters;
	w->prev = j->waiters.prev;
	j->waiters.prev->next = w;
	j->waiters.prev = w;
}

void plk_detach(struct plk_waiter *w)
{
	if (!w->job)
		return;
	w->prev->next = w->next;
	w->next->prev = w->prev;
	w->next = w->prev = NULL;
	w->job = NULL;
}

static struct plk_job *job_new(struct plk *d, const uint8_t *key, int family,
				 const uint8_t *addr, const char *text)
{
	struct plk_job *j = xcalloc(1, sizeof(*j));
	const struct sites *s = d->cfg->sites;

	j->d = d;
	memcpy(j->key, key, 17);
	j->family = family;
	memcpy(j->addr, addr, 16);
	snprintf(j->text, sizeof(j->text), "%s", text);
	j->ttl = UINT32_MAX;
	j->waiters.next = j->waiters.prev = &j->waiters;
	j->started = now_ms();
	j->next = d->jobs;
	d->jobs = j;
	d->njobs++;
	for (size_t i = 0; i < s->nzones; i++) {
		unsigned kind = family == AF_INET ? LK_IP4 : LK_IP6;

		if (!(d->lists[i]->kinds & kind))
			j->zones[i].state = SZ_DONE;	/* not asked: cannot list it */
		else if (phl_state(d->health, (unsigned)i) == PH_UNUSABLE)
			j->zones[i].state = SZ_DONE;	/* its answer would not count */
		else
			submit(j, (unsigned)i, false);
	}
	return j;
}

enum plk_status plk_lookup(struct plk *d, const char *text,
			       struct plk_waiter *w, struct plk_result *res)
{
	uint8_t key[17], addr[16];
	int family;
	struct centry *e;
	struct plk_job *j;

	if (parse_addr(text, &family, addr))
		return PLK_BADADDR;
	if (d->cfg->sites->n == 0) {
		memset(res, 0, sizeof(*res));
		res->complete = true;
		res->zone = "";
		return PLK_DONE;
	}
	key[0] = (uint8_t)family;
	memcpy(key + 1, addr, 16);
	if ((e = cache_find(d, key, now_ms()))) {
		d->hits++;
		fill_from_cache(d, e, res);
		return PLK_DONE;
	}
	d->misses++;
	for (j = d->jobs; j; j = j->next)
		if (!memcmp(j->key, key, 17))
			break;
	if (!j) {
		j = job_new(d, key, family, addr, text);
		if (j->pending == 0) {	/* nothing could be asked */
			job_finish(j);
			if ((e = cache_find(d, key, now_ms()))) {
				fill_from_cache(d, e, res);
				return PLK_DONE;
			}
			memset(res, 0, sizeof(*res));
			res->complete = true;
			res->zone = "";
			return PLK_DONE;
		}
	}
	attach(j, w);
	return PLK_WAIT;
}

bool plk_eval(struct plk_waiter *w, bool final, struct plk_result *res)
{
	struct plk_job *j = w->job;
	const struct pcfg *c;
	struct score_result sr;
	struct score_zone zones[SITES_MAX];
	bool listed, decided;

	if (!j)
		return false;
	c = j->d->cfg;
	/* closing: the last call, with what has arrived */
	mask_zones(j->d, j, true, final || j->d->closing, zones);
	score_eval(c->sites, zones, &sr);
	decided = score_decided(&sr, c->threshold, &listed);
	if (c->dnsbl_action == DA_PREPEND)
		decided = sr.complete;	/* the header carries the whole score */
	if (!decided)
		return false;
	if (listed && sr.top >= 0 && !final &&
	    j->txt_state[c->sites->site[sr.top].zone_idx] == 1)
		return false;		/* the reason is on its way */
	memset(res, 0, sizeof(*res));
	res->listed = listed;
	res->complete = sr.complete;
	res->score = sr.score;
	res->zone = sr.top >= 0 ? c->sites->site[sr.top].zone : "";
	if (sr.top >= 0 && j->txt[c->sites->site[sr.top].zone_idx])
		snprintf(res->txt, sizeof(res->txt), "%s",
			 j->txt[c->sites->site[sr.top].zone_idx]);
	score_detail(c->sites, zones, res->detail, sizeof(res->detail));
	return true;
}

void plk_pending_zones(const struct plk_waiter *w, char *buf, size_t len)
{
	const struct plk_job *j = w->job;
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	if (!j)
		return;
	for (size_t i = 0; i < j->d->cfg->sites->nzones && off < len; i++) {
		int n;

		if (j->zones[i].state != SZ_PENDING && j->txt_state[i] != 1)
			continue;
		n = snprintf(buf + off, len - off, "%s%s%s", off ? " " : "",
			     j->d->cfg->sites->zones[i],
			     j->zones[i].state == SZ_PENDING ? "" : "(TXT)");
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';
			break;
		}
		off += (size_t)n;
	}
}
