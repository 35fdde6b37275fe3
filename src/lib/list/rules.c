/*
 * rules.c - what an add, a removal or a trap hit does to a zone's
 * listings under the zone's rules (list.h): allowlist, IPv6 prefixes,
 * threshold, extension, escalation on re-listing, self-removal limits,
 * network escalation; each operation one store transaction with its
 * events and evidence.
 *
 * SECURITY: keys come from operators, trap mail (hostile) and the
 * portal (hostile): each is parsed by store_key_parse() before any use;
 * texts are cut by the store. Trap addresses in event details are masked.
 */
#include "list/list.h"
#include "base/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *list_outcome_name(enum list_outcome o)
{
	static const char *const names[] = {
		[LIST_LISTED] = "listed", [LIST_EXTENDED] = "extended",
		[LIST_UPDATED] = "updated", [LIST_COUNTED] = "counted",
		[LIST_REMOVED] = "removed", [LIST_NOT_LISTED] = "not-listed",
		[LIST_ALLOWED] = "allowed", [LIST_REVIEW] = "review",
	};

	return (unsigned)o < ARRAY_SIZE(names) && names[o] ? names[o] : "unknown";
}

void list_mask_addr(const char *addr, char *out, size_t outlen)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	if (!outlen)
		return;
	if (!addr || !*addr) {
		str_copy(out, outlen, "");
		return;
	}
	if (!at) {
		snprintf(out, outlen, "%c***", addr[0]);
		return;
	}
	if (at == addr)
		snprintf(out, outlen, "***%s", at);
	else
		snprintf(out, outlen, "%c***%s", addr[0], at);
}

static int64_t now_of(const struct list_ctx *c)
{
	return c->now ? c->now : (int64_t)time(NULL);
}

/* A bare IPv6 address, to be listed per the zone's ip6_bits: written
 * without a prefix length (an explicit "/128" is kept), and not an
 * IPv4-mapped address (::ffff:a.b.c.d is one IPv4 host; its /64 would
 * be ::/64). */
static int bare_ip6(const char *text, const struct store_key *k)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return k->kind == STORE_IP6 && k->bits == 128 && !strchr(text, '/') &&
	       memcmp(k->addr, mapped, sizeof(mapped)) != 0;
}

/* Parse key; a bare IPv6 address is cut to the zone's ip6_bits. */
static int key_of(const struct list_rules *r, const char *text, struct store_key *k,
		  char *err, size_t el)
{
	char why[200];

	if (store_key_parse(text, k, why, sizeof(why))) {
		snprintf(err, el, "bad key '%.100s': %s", text, why);
		return -1;
	}
	if (bare_ip6(text, k))
		store_key_truncate(k, r->ip6_bits);
	return 0;
}

/* Is k inside an allow network? note names it. */
static int allowed_net(const struct list_rules *r, const struct store_key *k, char *note,
		       size_t nl)
{
	char why[200];

	if (k->kind != STORE_IP4 && k->kind != STORE_IP6)
		return 0;
	for (size_t i = 0; i < r->allow.n; i++) {
		struct store_key net;

		if (store_key_parse(r->allow.v[i], &net, why, sizeof(why)) ||
		    net.kind != k->kind)
			continue;
		if (store_key_contains(&net, k) || store_key_contains(k, &net)) {
			snprintf(note, nl, "allowlisted: %s", r->allow.v[i]);
			return 1;
		}
	}
	return 0;
}

/* The DNS allowlists: 1 allowed (or, when strict, could not tell), 0 not. */
static int allowed_dns(struct list_ctx *c, const struct list_rules *r,
		       const struct store_key *k, int strict, char *note, size_t nl)
{
	if (!c->dns_allowed)
		return 0;
	for (size_t i = 0; i < r->allow_dnsbl.n; i++) {
		int v = c->dns_allowed(c->dns_arg, k, r->allow_dnsbl.v[i]);

		if (v > 0) {
			snprintf(note, nl, "on the DNS allowlist %s", r->allow_dnsbl.v[i]);
			return 1;
		}
		if (v < 0 && strict) {
			snprintf(note, nl, "the DNS allowlist %s could not be asked",
				 r->allow_dnsbl.v[i]);
			return 1;
		}
	}
	return 0;
}

/* Lifetime at escalation level: lifetime * 2^level, capped. */
static uint32_t lifetime_at(const struct list_rules *r, uint32_t level)
{
	uint64_t t = r->lifetime;

	for (uint32_t i = 0; i < level && t < r->lifetime_max; i++)
		t *= 2;
	return t > r->lifetime_max ? r->lifetime_max : (uint32_t)t;
}

static int event(struct store *st, const char *zone, const char *key, int64_t t,
		 enum store_event_type type, const char *actor, const char *how,
		 const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/* RFC 5782 section 5: an IPv4 list lists 127.0.0.2, an IPv6 list
 * ::FFFF:7F00:2, a domain list TEST; checkers (rblkit check, the policy
 * daemon's health probes) distrust a zone without them. A zone may hold
 * all three kinds of key, so a new zone gets all three, never expiring. */
static const char *const test_points[] = { "127.0.0.2", "::ffff:127.0.0.2", "test" };
#define TEST_POINT_SOURCE "rfc5782"

static int put_test_points(struct store *st, const char *zone, int64_t t)
{
	for (size_t i = 0; i < sizeof(test_points) / sizeof(test_points[0]); i++) {
		struct store_listing l;
		char why[120];

		memset(&l, 0, sizeof(l));
		if (store_key_parse(test_points[i], &l.key, why, sizeof(why)))
			return -1;
		l.state = STORE_LISTED;
		str_copy(l.reason, sizeof(l.reason), "RFC 5782 test point");
		l.first_seen = l.last_seen = l.changed = t;
		str_copy(l.source, sizeof(l.source), TEST_POINT_SOURCE);
		if (store_put(st, zone, &l) ||
		    event(st, zone, l.key.text, t, STORE_EV_LISTED, "rblkit", TEST_POINT_SOURCE,
			  "RFC 5782 test point of a new zone (test_points = no to leave it out)"))
			return -1;
	}
	return 0;
}

int list_zone_ensure(struct store *st, const struct list_rules *r, const char *zone, int64_t t)
{
	struct store_zone z;
	int rc = store_zone_get(st, zone, &z);

	if (rc != STORE_NOTFOUND)
		return rc;
	list_zone_data(r, zone, &z);
	if (store_zone_put(st, &z))
		return -1;
	return r->test_points ? put_test_points(st, zone, t) : 0;
}

static int event(struct store *st, const char *zone, const char *key, int64_t t,
		 enum store_event_type type, const char *actor, const char *how,
		 const char *fmt, ...)
{
	struct store_event ev = { .time = t, .type = type };
	va_list ap;

	str_copy(ev.actor, sizeof(ev.actor), actor ? actor : "");
	str_copy(ev.how, sizeof(ev.how), how ? how : "");
	va_start(ap, fmt);
	vsnprintf(ev.detail, sizeof(ev.detail), fmt, ap);
	va_end(ap);
	return store_event_add(st, zone, key, &ev);
}

/* A listing that is not LISTED becomes LISTED, escalated when it was
 * listed before and ended within relist_period. ttl 0: the rules'. */
static int list_now(struct store *st, const char *zone, const struct list_rules *r,
		    struct store_listing *l, int existed, int64_t t, uint32_t ttl,
		    const char *actor, const char *how, const char *why)
{
	int relist = existed && (l->state == STORE_REMOVED || l->state == STORE_EXPIRED);
	uint32_t life;

	if (relist && t - l->changed <= (int64_t)r->relist_period)
		l->level++;
	else if (relist)
		l->level = 0;
	life = ttl ? ttl : lifetime_at(r, l->level);
	if (!existed)
		l->first_seen = t;
	l->last_seen = t;
	l->changed = t;
	l->state = STORE_LISTED;
	l->expires = life == UINT32_MAX ? 0 : t + life;
	if (store_put(st, zone, l))
		return -1;
	return event(st, zone, l->key.text, t, relist ? STORE_EV_RELISTED : STORE_EV_LISTED,
		     actor, how, "%s%slifetime %us, level %u", why ? why : "",
		     why && *why ? "; " : "", life == UINT32_MAX ? 0 : life, l->level);
}

/* Network escalation: k was just listed; list its /net_bits when enough
 * addresses in it are listed. */
struct count {
	const struct store_key *net;
	unsigned n;
};

static int count_one(void *arg, const struct store_listing *l)
{
	struct count *c = arg;

	if (l->key.bits > c->net->bits)
		c->n++;
	return 0;
}

static int net_escalate(struct store *st, const char *zone, const struct list_rules *r,
			const struct store_key *k, int64_t t)
{
	struct store_filter f = { .state = STORE_LISTED };
	struct store_listing nl;
	struct store_key net;
	struct count cnt;
	int rc;

	if (!r->net_escalate || k->kind != STORE_IP4 || k->bits <= r->net_bits)
		return 0;
	net = *k;
	store_key_truncate(&net, r->net_bits);
	cnt = (struct count){ &net, 0 };
	f.within = &net;
	if (store_search(st, zone, &f, count_one, &cnt))
		return -1;
	if (cnt.n < r->net_escalate)
		return 0;
	rc = store_get(st, zone, net.text, &nl);
	if (rc < 0)
		return -1;
	if (rc == 0 && (nl.state == STORE_LISTED || nl.state == STORE_EXCLUDED))
		return 0;
	if (rc == STORE_NOTFOUND) {
		memset(&nl, 0, sizeof(nl));
		nl.key = net;
	}
	str_copy(nl.source, sizeof(nl.source), "net");
	nl.code = 0;
	nl.reason[0] = '\0';
	{
		char why[120];

		snprintf(why, sizeof(why), "%u addresses in it listed", cnt.n);
		return list_now(st, zone, r, &nl, rc == 0, t, 0, "net", "escalation", why);
	}
}

static void result_of(struct list_result *res, enum list_outcome o,
		      const struct store_listing *l)
{
	res->outcome = o;
	res->l = *l;
	str_copy(res->key, sizeof(res->key), l->key.text);
}

/* Read the listing of k into l; a key not found gives a fresh listing
 * of k (whatever store_get left in l). 0, STORE_NOTFOUND or -1. */
static int get_or_new(struct store *st, const char *zone, const struct store_key *k,
		      struct store_listing *l)
{
	struct store_key key = *k;
	int rc = store_get(st, zone, key.text, l);

	if (rc == STORE_NOTFOUND) {
		memset(l, 0, sizeof(*l));
		l->key = key;
	}
	return rc;
}

/* Store failure inside a transaction: roll back, the engine's words. */
static int failed(struct store *st, int in_tx, char *err, size_t el)
{
	snprintf(err, el, "%s", store_error(st));
	if (in_tx)
		store_rollback(st);
	return -1;
}

static int begin(struct list_ctx *c, const char *zone, const struct list_rules *r,
		 char *err, size_t el)
{
	if (store_begin(c->st))
		return failed(c->st, 0, err, el);
	if (list_zone_ensure(c->st, r, zone, now_of(c)) < 0)
		return failed(c->st, 1, err, el);
	return 0;
}

static int commit(struct list_ctx *c, char *err, size_t el)
{
	if (store_commit(c->st))
		return failed(c->st, 0, err, el);
	return 0;
}

int list_do_add(struct list_ctx *c, const char *zone, const char *key,
		const struct list_add *a, struct list_result *res, char *err, size_t el)
{
	const struct list_rules *r = list_rules_for(c->conf, zone);
	const char *src = a->source ? a->source : "cli";
	const char *actor = a->actor ? a->actor : src;
	struct store_listing l;
	int64_t t = now_of(c);
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&l, 0, sizeof(l));
	if (key_of(r, key, &l.key, err, el))
		return -1;
	str_copy(res->key, sizeof(res->key), l.key.text);
	if (allowed_net(r, &l.key, res->note, sizeof(res->note)) ||
	    allowed_dns(c, r, &l.key, 0, res->note, sizeof(res->note))) {
		res->outcome = LIST_ALLOWED;
		res->l = l;
		return 0;
	}
	if (begin(c, zone, r, err, el))
		return -1;
	rc = get_or_new(c->st, zone, &l.key, &l);
	if (rc < 0)
		return failed(c->st, 1, err, el);
	if (a->code)
		l.code = a->code;
	if (a->reason)
		str_copy(l.reason, sizeof(l.reason), a->reason);
	if (rc == 0 && l.state == STORE_LISTED) {
		l.last_seen = t;
		if (a->ttl)
			l.expires = a->ttl == UINT32_MAX ? 0 : t + a->ttl;
		if (store_put(c->st, zone, &l) ||
		    event(c->st, zone, l.key.text, t, STORE_EV_CHANGED, actor, "operator",
			  "code %u.%u.%u.%u, reason '%s', expires %lld", l.code >> 24,
			  (l.code >> 16) & 255, (l.code >> 8) & 255, l.code & 255, l.reason,
			  (long long)l.expires))
			return failed(c->st, 1, err, el);
		if (commit(c, err, el))
			return -1;
		result_of(res, LIST_UPDATED, &l);
		return 0;
	}
	str_copy(l.source, sizeof(l.source), src);
	if (list_now(c->st, zone, r, &l, rc == 0, t, a->ttl, actor, "operator",
		     a->reason ? a->reason : "") ||
	    net_escalate(c->st, zone, r, &l.key, t))
		return failed(c->st, 1, err, el);
	if (commit(c, err, el))
		return -1;
	result_of(res, LIST_LISTED, &l);
	return 0;
}

/* Removals by request of key within the period (from its history). */
struct since {
	int64_t from;
	unsigned n;
};

static int count_requests(void *arg, const struct store_event *ev)
{
	struct since *s = arg;

	if (ev->type == STORE_EV_REMOVED && !strcmp(ev->how, "request") && ev->time >= s->from)
		s->n++;
	return 0;
}

/* A removal by request past self_remove_max within self_remove_period:
 * 1 (the request is logged for review, note says why), 0 (go on), -1. */
static int needs_review(struct store *st, const char *zone, const struct list_rules *r,
			const struct store_listing *l, const char *actor, const char *reason,
			int64_t t, char *note, size_t nl)
{
	struct since s = { t - (int64_t)r->self_remove_period, 0 };

	if (store_history(st, zone, l->key.text, count_requests, &s))
		return -1;
	if (s.n < r->self_remove_max)
		return 0;
	snprintf(note, nl, "%u removals by request within %us (self_remove_max %u): "
		 "needs review", s.n, r->self_remove_period, r->self_remove_max);
	if (event(st, zone, l->key.text, t, STORE_EV_CHANGED, actor ? actor : "web", "review",
		  "removal requested: %s%s%s", note, reason ? "; " : "", reason ? reason : ""))
		return -1;
	return 1;
}

/* The listing of key, or of the /N of a bare IPv6 address (the exact key
 * first: a /128 may have been listed by hand). */
static int get_removable(struct store *st, const char *zone, const struct list_rules *r,
			 struct store_key *k, struct store_listing *l)
{
	char text[STORE_KEY_MAX];
	int rc = store_get(st, zone, k->text, l);

	snprintf(text, sizeof(text), "%s", k->text);
	if (rc == STORE_NOTFOUND && bare_ip6(text, k)) {
		store_key_truncate(k, r->ip6_bits);
		rc = store_get(st, zone, k->text, l);
	}
	return rc;
}

int list_do_remove(struct list_ctx *c, const char *zone, const char *key,
		   const char *reason, const char *actor, int by_request,
		   struct list_result *res, char *err, size_t el)
{
	const struct list_rules *r = list_rules_for(c->conf, zone);
	struct store_listing l;
	struct store_key k;
	int64_t t = now_of(c);
	char why[200];
	int rc;

	memset(res, 0, sizeof(*res));
	if (store_key_parse(key, &k, why, sizeof(why))) {
		snprintf(err, el, "bad key '%.100s': %s", key, why);
		return -1;
	}
	if (begin(c, zone, r, err, el))
		return -1;
	if ((rc = get_removable(c->st, zone, r, &k, &l)) < 0)
		return failed(c->st, 1, err, el);
	str_copy(res->key, sizeof(res->key), k.text);
	if (rc == STORE_NOTFOUND || (l.state != STORE_LISTED && l.state != STORE_EXCLUDED)) {
		store_rollback(c->st);
		res->outcome = LIST_NOT_LISTED;
		if (rc == 0)
			res->l = l;
		else
			res->l.key = k;
		return 0;
	}
	if (by_request && strcmp(l.source, TEST_POINT_SOURCE) == 0) {
		/* a checker's anchor: only the operator removes it */
		snprintf(res->note, sizeof(res->note), "an RFC 5782 test point: needs review");
		if (event(c->st, zone, l.key.text, t, STORE_EV_CHANGED, actor ? actor : "web",
			  "review", "removal requested: %s%s%s", res->note, reason ? "; " : "",
			  reason ? reason : ""))
			return failed(c->st, 1, err, el);
		if (commit(c, err, el))
			return -1;
		result_of(res, LIST_REVIEW, &l);
		return 0;
	}
	if (by_request) {
		rc = needs_review(c->st, zone, r, &l, actor, reason, t, res->note,
				  sizeof(res->note));
		if (rc < 0)
			return failed(c->st, 1, err, el);
		if (rc > 0) {
			if (commit(c, err, el))
				return -1;
			result_of(res, LIST_REVIEW, &l);
			return 0;
		}
		l.removals++;
	}
	l.state = STORE_REMOVED;
	l.changed = t;
	if (store_put(c->st, zone, &l) ||
	    event(c->st, zone, l.key.text, t, STORE_EV_REMOVED, actor ? actor : "cli",
		  by_request ? "request" : "operator", "%s", reason ? reason : ""))
		return failed(c->st, 1, err, el);
	if (commit(c, err, el))
		return -1;
	result_of(res, LIST_REMOVED, &l);
	return 0;
}

/* Evidence of a hit (when it has any). */
static int hit_evidence(struct store *st, const char *zone, const char *key,
			const struct list_hit *h, int64_t t)
{
	struct store_evidence ev = { .time = t };

	if (!h->headers && !h->excerpt)
		return 0;
	str_copy(ev.source, sizeof(ev.source), h->source ? h->source : "trap");
	str_copy(ev.trap, sizeof(ev.trap), h->trap ? h->trap : "");
	str_copy(ev.headers, sizeof(ev.headers), h->headers ? h->headers : "");
	str_copy(ev.excerpt, sizeof(ev.excerpt), h->excerpt ? h->excerpt : "");
	return store_evidence_add(st, zone, key, &ev);
}

/* A hit on a listed key: counted, and the expiry moved to now + extend
 * (never earlier; a listing that never expires stays so). */
static int hit_extend(struct store *st, const char *zone, const struct list_rules *r,
		      struct store_listing *l, const char *src, const char *masked, int64_t t)
{
	int64_t until = t + r->extend;
	int moved = l->expires && r->extend && until > l->expires;

	l->last_seen = t;
	if (moved)
		l->expires = until;
	if (store_put(st, zone, l) ||
	    event(st, zone, l->key.text, t, moved ? STORE_EV_EXTENDED : STORE_EV_HIT, src, "hit",
		  "trap %s; expires %lld", masked, (long long)l->expires))
		return -1;
	return LIST_EXTENDED;
}

/* A hit on a key that is not listed: listed once the hits within the
 * window reach the threshold, else counted (a new key waits as PENDING;
 * one that was listed before keeps its state, and so its history). */
static int hit_threshold(struct store *st, const char *zone, const struct list_rules *r,
			 struct store_listing *l, int existed, const char *src,
			 const char *masked, int64_t t, char *note, size_t nl)
{
	char why[STORE_KEY_MAX + 100];
	unsigned hits, traps;

	if (store_hit_count(st, zone, l->key.text, t - (int64_t)r->threshold_window, &hits,
			    &traps))
		return -1;
	if (hits >= r->threshold_hits && traps >= r->threshold_traps) {
		snprintf(why, sizeof(why), "%u hits from %u traps (last %s)", hits, traps, masked);
		str_copy(l->source, sizeof(l->source), src);
		if (list_now(st, zone, r, l, existed, t, 0, src, "threshold", why) ||
		    net_escalate(st, zone, r, &l->key, t))
			return -1;
		return LIST_LISTED;
	}
	if (!existed) {
		l->state = STORE_PENDING;
		l->first_seen = t;
		l->changed = t;
		str_copy(l->source, sizeof(l->source), src);
	}
	l->last_seen = t;
	if (store_put(st, zone, l) ||
	    event(st, zone, l->key.text, t, STORE_EV_HIT, src, "threshold",
		  "trap %s; %u of %u hits, %u of %u traps", masked, hits, r->threshold_hits,
		  traps, r->threshold_traps))
		return -1;
	snprintf(note, nl, "%u of %u hits, %u of %u traps within %us", hits, r->threshold_hits,
		 traps, r->threshold_traps, r->threshold_window);
	return LIST_COUNTED;
}

int list_do_hit(struct list_ctx *c, const char *zone, const char *key,
		const struct list_hit *h, struct list_result *res, char *err, size_t el)
{
	const struct list_rules *r = list_rules_for(c->conf, zone);
	const char *src = h->source ? h->source : "trap";
	int64_t t = h->time ? h->time : now_of(c);
	struct store_listing l;
	char masked[STORE_KEY_MAX];
	int rc, existed;

	memset(res, 0, sizeof(*res));
	memset(&l, 0, sizeof(l));
	if (key_of(r, key, &l.key, err, el))
		return -1;
	str_copy(res->key, sizeof(res->key), l.key.text);
	if (allowed_net(r, &l.key, res->note, sizeof(res->note)) ||
	    allowed_dns(c, r, &l.key, 1, res->note, sizeof(res->note))) {
		res->outcome = LIST_ALLOWED;
		res->l = l;
		return 0;
	}
	list_mask_addr(h->trap, masked, sizeof(masked));
	if (begin(c, zone, r, err, el))
		return -1;
	if ((rc = get_or_new(c->st, zone, &l.key, &l)) < 0)
		return failed(c->st, 1, err, el);
	existed = rc == 0;
	if (existed && l.state == STORE_EXCLUDED) {
		store_rollback(c->st);
		snprintf(res->note, sizeof(res->note), "excluded in %s", zone);
		result_of(res, LIST_ALLOWED, &l);
		return 0;
	}
	if (store_hit_add(c->st, zone, l.key.text, h->trap ? h->trap : "", t) ||
	    hit_evidence(c->st, zone, l.key.text, h, t))
		return failed(c->st, 1, err, el);
	l.hits++;
	rc = existed && l.state == STORE_LISTED ?
	     hit_extend(c->st, zone, r, &l, src, masked, t) :
	     hit_threshold(c->st, zone, r, &l, existed, src, masked, t, res->note,
			   sizeof(res->note));
	if (rc < 0)
		return failed(c->st, 1, err, el);
	if (commit(c, err, el))
		return -1;
	result_of(res, (enum list_outcome)rc, &l);
	return 0;
}
