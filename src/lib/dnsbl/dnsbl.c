/*
 * dnsbl.c - look targets up on blocklists; classify every answer by the
 * list's own table; probe each list's test points once per run.
 *
 * Every lookup carries a small context (struct dq) naming what it is for;
 * the resolver calls back into on_answer(), which records the result and
 * may start more lookups (TXT for a hit, addresses of a host or an MX).
 * A target counts its outstanding lookups and is finished at zero.
 *
 * SECURITY: target text is untrusted in bulk runs: it is accepted only
 * as an IP literal, a CIDR or a syntactically valid host name; names
 * from DNS answers are re-checked before they are asked about.
 */
#include "dnsbl/dnsbl.h"
#include "dnsbl/psl.h"
#include "base/ipaddr.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct probe {
	const struct list *list;
	int group;			/* resolver server group */
	unsigned outstanding;
	enum dnsbl_health health;
	char why[400];
	bool listed_point_hit, unlisted_point_hit, refusal;
	bool silent;			/* the listed test point timed out */
	bool asked;			/* some target was asked on the list */
	const char *refusal_meaning;
	char listed_point_got[160];	/* what 127.0.0.2/TEST got instead */
};

struct dnsbl_engine {
	struct resolver *rs;
	const struct list **lists;
	size_t nlists;
	struct dnsbl_opts o;
	struct probe *probes;
	unsigned probes_outstanding;
	struct dnsbl_target *head, *tail;
	size_t active;
	uint64_t seq;
	size_t inflight;		/* lookups submitted, not yet answered */
};

enum dq_kind { DQ_LIST_A, DQ_LIST_TXT, DQ_HOST_A, DQ_HOST_AAAA, DQ_MX, DQ_PROBE };

struct dq {
	enum dq_kind kind;
	struct dnsbl_engine *eng;
	struct dnsbl_target *t;
	size_t ridx;			/* DQ_LIST_*: result index */
	struct probe *probe;		/* DQ_PROBE */
	bool probe_listed_point;	/* 127.0.0.2/TEST (else 127.0.0.1/INVALID) */
	bool implicit_mx;		/* DQ_HOST_*: the domain itself, no MX */
	int group;			/* resolver server group */
};

static int list_group(const struct dnsbl_engine *eng, const struct list *l)
{
	for (size_t i = 0; i < eng->nlists; i++)
		if (eng->probes[i].list == l)
			return eng->probes[i].group;
	return 0;
}

const char *dnsbl_status_text(enum dnsbl_status s)
{
	switch (s) {
	case DS_PENDING: return "pending";
	case DS_CLEAN: return "clean";
	case DS_LISTED: return "listed";
	case DS_ALLOWED: return "allowlisted";
	case DS_ERROR: return "error";
	}
	return "?";
}

/* ---- names ---- */

/* A host or domain name as people write them: labels of letters, digits,
 * '-' and '_', 1-63 bytes, 253 in all; trailing dot allowed. */
static bool valid_hostname(const char *s)
{
	size_t len = strlen(s), label = 0;
	if (len && s[len - 1] == '.')
		len--;
	if (!len || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (!label)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* Digits and dots only (a trailing dot allowed), one digit at least:
 * no host name (RFC 1123 2.1: its labels are never all numeric), so
 * such a target is an IPv4 address or nothing. */
static bool all_numeric(const char *s)
{
	bool digit = false;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			digit = true;
		else if (*s != '.')
			return false;
	}
	return digit;
}

int dnsbl_qname(const char *subject, const char *zone, char *out, size_t outlen,
		unsigned *kind)
{
	struct in_addr a4;
	struct in6_addr a6;
	int n;

	if (inet_pton(AF_INET, subject, &a4) == 1) {
		const uint8_t *b = (const uint8_t *)&a4;
		n = snprintf(out, outlen, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], zone);
		*kind = LK_IP4;
	} else if (inet_pton(AF_INET6, subject, &a6) == 1) {
		char nib[64 + 1];
		size_t k = 0;
		for (int i = 15; i >= 0; i--) {
			static const char hex[] = "0123456789abcdef";
			nib[k++] = hex[a6.s6_addr[i] & 15];
			nib[k++] = '.';
			nib[k++] = hex[a6.s6_addr[i] >> 4];
			nib[k++] = '.';
		}
		/* 64 bytes: 32 nibbles and their dots */
		n = snprintf(out, outlen, "%.*s%s", (int)k, nib, zone);
		*kind = LK_IP6;
	} else if (valid_hostname(subject)) {
		size_t l = strlen(subject);
		if (subject[l - 1] == '.')
			l--;
		n = snprintf(out, outlen, "%.*s.%s", (int)l, subject, zone);
		*kind = LK_DOMAIN;
	} else {
		return -1;
	}
	return n < 0 || (size_t)n >= outlen || n > 253 ? -1 : 0;
}

/* ---- the engine ---- */

static void on_answer(void *arg, const struct rs_answer *ans);

static int submit(struct dnsbl_engine *eng, const char *name, uint16_t qtype,
		  struct dq *dq)
{
	if (rs_submit_group(eng->rs, dq->group, name, qtype, on_answer, dq) < 0) {
		free(dq);
		return -1;
	}
	eng->inflight++;
	if (dq->t)
		dq->t->outstanding++;
	return 0;
}

static struct dq *dq_new(struct dnsbl_engine *eng, enum dq_kind kind,
			 struct dnsbl_target *t)
{
	struct dq *dq = xcalloc(1, sizeof(*dq));
	dq->kind = kind;
	dq->eng = eng;
	dq->t = t;
	return dq;
}

static void start_probe(struct dnsbl_engine *eng, struct probe *p, bool listed_point)
{
	const struct list *l = p->list;
	const char *subj;
	if (l->kinds & LK_IP4)
		subj = listed_point ? "127.0.0.2" : "127.0.0.1";
	else if (l->kinds & LK_IP6)
		subj = listed_point ? "::ffff:7f00:2" : "::ffff:7f00:1";
	else
		subj = listed_point ? "test" : "invalid";
	char name[300];
	unsigned kind;
	if (dnsbl_qname(subj, l->zone, name, sizeof(name), &kind) < 0)
		return;
	struct dq *dq = dq_new(eng, DQ_PROBE, NULL);
	dq->probe = p;
	dq->group = p->group;
	dq->probe_listed_point = listed_point;
	if (submit(eng, name, 1, dq) == 0) {
		p->outstanding++;
		eng->probes_outstanding++;
	}
}

struct dnsbl_engine *dnsbl_new(struct resolver *rs, const struct list **lists,
			       size_t nlists, const struct dnsbl_opts *opts,
			       char *err, size_t errlen)
{
	struct dnsbl_engine *eng = xcalloc(1, sizeof(*eng));
	eng->rs = rs;
	eng->lists = lists;
	eng->nlists = nlists;
	eng->o = *opts;
	if (!eng->o.cidr_limit)
		eng->o.cidr_limit = 256;
	if (!eng->o.max_mx)
		eng->o.max_mx = 10;
	eng->probes = xcalloc(nlists ? nlists : 1, sizeof(*eng->probes));
	for (size_t i = 0; i < nlists; i++) {
		eng->probes[i].list = lists[i];
		eng->probes[i].health = DH_UNKNOWN;
		if (lists[i]->server) {
			char e[300];
			int g = rs_add_group(rs, lists[i]->zone, lists[i]->server, e, sizeof(e));
			if (g < 0) {
				snprintf(err, errlen, "%s: %s", lists[i]->zone, e);
				free(eng->probes);
				free(eng);
				return NULL;
			}
			eng->probes[i].group = g;
		}
	}
	for (size_t i = 0; i < nlists; i++) {
		if (!eng->o.no_probe && lists[i]->zone) {
			start_probe(eng, &eng->probes[i], true);
			start_probe(eng, &eng->probes[i], false);
		}
	}
	return eng;
}

void dnsbl_target_free(struct dnsbl_target *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nresults; i++) {
		for (size_t j = 0; j < t->results[i].ntxt; j++)
			free(t->results[i].txt[j]);
		free(t->results[i].error);
	}
	free(t->results);
	for (size_t i = 0; i < t->naddrs; i++)
		free(t->addrs[i]);
	free(t->addrs);
	free(t->input);
	free(t->error);
	free(t->where);
	free(t);
}

void dnsbl_free(struct dnsbl_engine *eng)
{
	if (!eng)
		return;
	/* lookups still in the resolver point into eng: end them while it
	 * is alive (their callbacks run now, not after the free) */
	if (eng->inflight)
		rs_cancel_all(eng->rs);
	struct dnsbl_target *t = eng->head, *n;
	for (; t; t = n) {
		n = t->next;
		dnsbl_target_free(t);
	}
	free(eng->probes);
	free(eng);
}

size_t dnsbl_active(const struct dnsbl_engine *eng)
{
	return eng->active;
}

static struct dnsbl_result *result_add(struct dnsbl_target *t, const struct list *l,
				       const char *subject)
{
	t->results = xreallocarray(t->results, t->nresults + 1, sizeof(*t->results));
	struct dnsbl_result *r = &t->results[t->nresults++];
	memset(r, 0, sizeof(*r));
	r->list = l;
	r->subject = subject;
	r->status = DS_PENDING;
	return r;
}

/* What l is asked about subject: its registered domain (a suffix of
 * subject) when the catalogue says so, else subject. */
static const char *list_subject(const struct list *l, const char *subject,
				bool *reduced)
{
	size_t off = 0;
	*reduced = l->reduce == LR_REGISTERED && (l->kinds & LK_DOMAIN) &&
		   regdom_registered(subject, &off) == REGDOM_REDUCED && off > 0;
	return subject + off;
}

/* Ask every list of the subject's kind about it. */
static void ask_lists(struct dnsbl_engine *eng, struct dnsbl_target *t,
		      const char *subject)
{
	for (size_t i = 0; i < eng->nlists; i++) {
		const struct list *l = eng->lists[i];
		char name[300];
		unsigned kind;
		bool reduced;
		const char *asked = list_subject(l, subject, &reduced);
		if (dnsbl_qname(asked, l->zone, name, sizeof(name), &kind) < 0 ||
		    !(l->kinds & kind))
			continue;
		struct dnsbl_result *r = result_add(t, l, asked);
		r->reduced = reduced;
		eng->probes[i].asked = true;
		struct dq *dq = dq_new(eng, DQ_LIST_A, t);
		dq->ridx = (size_t)(r - t->results);
		dq->group = list_group(eng, l);
		if (submit(eng, name, 1, dq) < 0) {
			r->status = DS_ERROR;
			r->error = xstrdup("cannot form a query name");
		}
	}
}

/* Add an address (text) to a target once, and ask the lists. */
static void add_address(struct dnsbl_engine *eng, struct dnsbl_target *t,
			const char *text)
{
	for (size_t i = 0; i < t->naddrs; i++)
		if (!strcmp(t->addrs[i], text))
			return;
	t->addrs = xreallocarray(t->addrs, t->naddrs + 1, sizeof(*t->addrs));
	char *a = xstrdup(text);
	t->addrs[t->naddrs++] = a;
	ask_lists(eng, t, a);
}

static void target_error(struct dnsbl_target *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void target_error(struct dnsbl_target *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (t->error)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (t->where) {
		size_t n = strlen(t->where) + 2 + strlen(buf) + 1;
		t->error = xmalloc(n);
		snprintf(t->error, n, "%s: %s", t->where, buf);
	} else {
		t->error = xstrdup(buf);
	}
}

static void ask_host(struct dnsbl_engine *eng, struct dnsbl_target *t,
		     const char *host, bool implicit)
{
	if (!valid_hostname(host))
		return;
	struct dq *a = dq_new(eng, DQ_HOST_A, t);
	struct dq *aaaa = dq_new(eng, DQ_HOST_AAAA, t);
	a->implicit_mx = aaaa->implicit_mx = implicit;
	submit(eng, host, 1, a);
	submit(eng, host, 28, aaaa);
}

static void cidr_too_large(struct dnsbl_target *t, const char *s)
{
	if (!t->error)
		t->hint = DNSBL_HINT_CIDR_LIMIT;
	target_error(t, "%s is larger than the CIDR limit", s);
}

/* Every address of an IPv4 block; -1 when bits is out of range. */
static int expand_cidr4(struct dnsbl_engine *eng, struct dnsbl_target *t,
			const char *s, struct in_addr a4, long bits)
{
	char text[INET6_ADDRSTRLEN];
	if (bits < 0 || bits > 32)
		return -1;
	uint64_t n = 1ull << (32 - bits);
	if (n > eng->o.cidr_limit) {
		cidr_too_large(t, s);
		return 0;
	}
	uint32_t base = ntohl(a4.s_addr) & (bits ? ~0u << (32 - bits) : 0);
	for (uint64_t i = 0; i < n; i++) {
		struct in_addr x = { htonl(base + (uint32_t)i) };
		inet_ntop(AF_INET, &x, text, sizeof(text));
		add_address(eng, t, text);
	}
	return 0;
}

/* Every address of an IPv6 block; -1 when bits is out of range. */
static int expand_cidr6(struct dnsbl_engine *eng, struct dnsbl_target *t,
			const char *s, struct in6_addr a6, long bits)
{
	char text[INET6_ADDRSTRLEN];
	if (bits < 0 || bits > 128)
		return -1;
	if (128 - bits >= 32 || (1ull << (128 - bits)) > eng->o.cidr_limit) {
		cidr_too_large(t, s);
		return 0;
	}
	uint64_t n = 1ull << (128 - bits);
	for (int i = bits; i < 128; i++)
		a6.s6_addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	for (uint64_t i = 0; i < n; i++) {
		struct in6_addr x = a6;
		uint64_t v = i;
		for (int b = 15; b >= 0 && v; b--) {
			unsigned sum = x.s6_addr[b] + (v & 0xff);
			x.s6_addr[b] = (uint8_t)sum;
			v = (v >> 8) + (sum >> 8);
		}
		inet_ntop(AF_INET6, &x, text, sizeof(text));
		add_address(eng, t, text);
	}
	return 0;
}

/* CIDR block: every address of it, up to the limit.  -1 when s is not
 * ADDR/BITS. */
static int expand_cidr(struct dnsbl_engine *eng, struct dnsbl_target *t,
		       const char *s)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hl = (size_t)(slash - s);
	char *end;
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	long bits = strtol(slash + 1, &end, 10);
	if (!slash[1] || *end)
		return -1;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return expand_cidr4(eng, t, s, a4, bits);
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return expand_cidr6(eng, t, s, a6, bits);
	return -1;
}

struct dnsbl_target *dnsbl_add(struct dnsbl_engine *eng, const char *input, bool mx)
{
	return dnsbl_add_at(eng, input, mx, NULL);
}

struct dnsbl_target *dnsbl_add_at(struct dnsbl_engine *eng, const char *input, bool mx,
				  const char *where)
{
	struct dnsbl_target *t = xcalloc(1, sizeof(*t));
	struct in_addr a4;
	struct in6_addr a6;
	char text[INET6_ADDRSTRLEN];

	t->eng = eng;
	t->where = where ? xstrndup(where, 300) : NULL;
	t->seq = eng->seq++;
	t->input = xstrndup(input, 300);
	if (eng->tail)
		eng->tail->next = t;
	else
		eng->head = t;
	eng->tail = t;
	eng->active++;

	/* the held count keeps the target open while lookups start */
	t->outstanding++;
	if (mx) {
		t->kind = TK_MX;
		if (!valid_hostname(input) || all_numeric(input)) {
			target_error(t, "'%s' is not a mail domain", t->input);
		} else {
			struct dq *dq = dq_new(eng, DQ_MX, t);
			submit(eng, input, 15, dq);
			ask_lists(eng, t, t->input);	/* domain lists */
		}
	} else if (strchr(input, '/')) {
		t->kind = TK_CIDR;
		if (expand_cidr(eng, t, input) < 0)
			target_error(t, "'%s' is not a CIDR block", t->input);
	} else if (inet_pton(AF_INET, input, &a4) == 1) {
		t->kind = TK_ADDR;
		inet_ntop(AF_INET, &a4, text, sizeof(text));
		add_address(eng, t, text);
	} else if (inet_pton(AF_INET6, input, &a6) == 1) {
		t->kind = TK_ADDR;
		inet_ntop(AF_INET6, &a6, text, sizeof(text));
		add_address(eng, t, text);
	} else if (all_numeric(input)) {
		/* 999.1.1.1: an address gone wrong, never a host name */
		t->kind = TK_ADDR;
		target_error(t, "'%s' is not a valid IPv4 address", t->input);
	} else if (valid_hostname(input)) {
		t->kind = TK_HOST;
		ask_host(eng, t, input, false);
		ask_lists(eng, t, t->input);	/* the name itself, on domain lists */
	} else {
		t->kind = TK_ADDR;
		target_error(t, "'%s' is not an address, a CIDR block or a host name",
			     t->input);
	}
	t->outstanding--;
	return t;
}

/* ---- answers ---- */

/* What to do about an answer_error(): a SERVFAIL may be the resolver's. */
static enum dnsbl_hint answer_hint(const struct rs_answer *ans)
{
	return ans->status == RS_OK && ans->rcode == 2 ? DNSBL_HINT_RESOLVER : DNSBL_HINT_NONE;
}

static char *answer_error(const struct rs_answer *ans)
{
	char buf[300];
	if (ans->status != RS_OK) {
		snprintf(buf, sizeof(buf), "%s", ans->error ? ans->error : "no answer");
		return xstrdup(buf);
	}
	switch (ans->rcode) {
	case 2:
		return xstrdup("SERVFAIL: the list's servers failed, or refuse your "
			       "resolver");	/* answer_hint() */
	case 5:
		return xstrdup("REFUSED: the server refuses this query "
			       "(not authoritative for the zone, or an access list)");
	default:
		snprintf(buf, sizeof(buf), "DNS error (rcode %d)", ans->rcode);
		return xstrdup(buf);
	}
}

static void list_answer(struct dnsbl_engine *eng, struct dnsbl_target *t,
			struct dnsbl_result *r, const struct rs_answer *ans)
{
	r->ms = ans->ms;
	if (ans->status != RS_OK || (ans->rcode != 0 && ans->rcode != 3)) {
		r->status = DS_ERROR;
		r->error = answer_error(ans);
		r->hint = answer_hint(ans);
		return;
	}
	r->ttl = ans->ttl;
	if (ans->rcode == 3 || ans->n == 0) {
		r->status = DS_CLEAN;
		return;
	}
	bool listed = false, allowed = false;
	const char *err = NULL;
	r->ncodes = ans->n;
	for (size_t i = 0; i < ans->n; i++) {
		r->codes[i] = ans->u.a[i];
		enum code_class c = list_classify(r->list, ans->u.a[i], &r->meanings[i]);
		if (c == CC_LISTED)
			listed = true;
		else if (c == CC_ALLOWED)
			allowed = true;
		else if (!err)
			err = r->meanings[i];
	}
	if (listed)
		r->status = DS_LISTED;
	else if (allowed)
		r->status = DS_ALLOWED;
	else {
		char buf[400], code[16];
		r->status = DS_ERROR;
		ip4_format(r->codes[0], code);
		snprintf(buf, sizeof(buf), "answered %s: %s", code, err);
		r->error = xstrdup(buf);
		return;
	}
	if (r->list->txt) {
		char name[300];
		unsigned kind;
		if (dnsbl_qname(r->subject, r->list->zone, name, sizeof(name), &kind) == 0) {
			struct dq *dq = dq_new(eng, DQ_LIST_TXT, t);
			dq->ridx = (size_t)(r - t->results);
			dq->group = list_group(eng, r->list);
			submit(eng, name, 16, dq);
		}
	}
}

/* What a probe of the listed test point got, in words, when it was not
 * a listing: for the reason of a list that gives no verdict. */
static void probe_got(struct probe *p, const struct rs_answer *ans)
{
	char *e;
	if (ans->status == RS_OK && ans->rcode == 3) {
		snprintf(p->listed_point_got, sizeof(p->listed_point_got), "NXDOMAIN");
		return;
	}
	if (ans->status == RS_OK && ans->rcode == 0) {
		snprintf(p->listed_point_got, sizeof(p->listed_point_got), "no A record");
		return;
	}
	p->silent = ans->status == RS_TIMEOUT;
	e = answer_error(ans);
	snprintf(p->listed_point_got, sizeof(p->listed_point_got), "%.*s",
		 (int)strcspn(e, ":"), e);
	free(e);
}

static const char *listed_point_text(const struct list *l)
{
	return l->kinds & LK_IP4 ? "127.0.0.2" : l->kinds & LK_IP6 ? "::ffff:127.0.0.2" : "TEST";
}

/* The health of a list once both test points have answered.  A list
 * asked at its own server names that server; silence (a timeout) says
 * who did not answer, and nothing of refusing or rewriting resolvers. */
static void probe_judge(struct dnsbl_engine *eng, struct probe *p)
{
	const struct list *l = p->list;
	if (p->unlisted_point_hit) {
		p->health = DH_BROKEN;
		snprintf(p->why, sizeof(p->why),
			 "the list answers 'listed' for its RFC 5782 test point %s: it lists "
			 "everything (retired or broken), so it gives no verdict",
			 l->kinds & LK_IP4 ? "127.0.0.1" :
			 l->kinds & LK_IP6 ? "::ffff:127.0.0.1" : "INVALID");
	} else if (p->refusal) {
		p->health = DH_REFUSING;
		snprintf(p->why, sizeof(p->why), "the list refuses the queries: %s",
			 p->refusal_meaning);
	} else if (!p->listed_point_hit && l->no_testpoint) {
		p->health = DH_OK;	/* nothing to expect: the catalogue says so */
	} else if (!p->listed_point_hit && l->server && p->silent) {
		p->health = DH_NO_TESTPOINT;
		snprintf(p->why, sizeof(p->why),
			 "the list's server %.100s did not answer its RFC 5782 test point %s "
			 "(timeout: is it running and reachable?), so the list gives no verdict",
			 l->server, listed_point_text(l));
	} else if (!p->listed_point_hit && l->server) {
		p->health = DH_NO_TESTPOINT;
		snprintf(p->why, sizeof(p->why),
			 "the list's RFC 5782 test point %s is not listed at the list's server "
			 "%.100s (%s), so the list gives no verdict",
			 listed_point_text(l), l->server,
			 p->listed_point_got[0] ? p->listed_point_got : "no answer");
	} else if (!p->listed_point_hit && p->silent) {
		p->health = DH_NO_TESTPOINT;
		snprintf(p->why, sizeof(p->why), rs_recursive(eng->rs) ?
			 "the list's servers did not answer its RFC 5782 test point %s "
			 "(timeout), so the list gives no verdict" :
			 "the resolver did not answer the list's RFC 5782 test point %s "
			 "(timeout: is it running and reachable?), so the list gives no verdict",
			 listed_point_text(l));
	} else if (!p->listed_point_hit) {
		p->health = DH_NO_TESTPOINT;
		snprintf(p->why, sizeof(p->why),
			 "the list's RFC 5782 test point %s is not listed (%s): the list "
			 "cannot really be asked through this resolver, so it gives no verdict",
			 listed_point_text(l),
			 p->listed_point_got[0] ? p->listed_point_got : "no answer");
	} else {
		p->health = DH_OK;
	}
}

static void probe_answer(struct dnsbl_engine *eng, struct dq *dq,
			 const struct rs_answer *ans)
{
	struct probe *p = dq->probe;
	bool hit = false;
	if (ans->status == RS_OK && ans->rcode == 0) {
		for (size_t i = 0; i < ans->n; i++) {
			const char *m;
			enum code_class c = list_classify(p->list, ans->u.a[i], &m);
			if (c == CC_ERROR) {
				p->refusal = true;
				p->refusal_meaning = m;
			} else if (dq->probe_listed_point) {
				p->listed_point_hit = hit = true;
			} else {
				p->unlisted_point_hit = true;
			}
		}
	}
	if (dq->probe_listed_point && !hit && !p->refusal)
		probe_got(p, ans);
	p->outstanding--;
	eng->probes_outstanding--;
	if (!p->outstanding)
		probe_judge(eng, p);
}

static void host_answer(struct dnsbl_engine *eng, struct dq *dq,
			const struct rs_answer *ans)
{
	struct dnsbl_target *t = dq->t;
	char text[INET6_ADDRSTRLEN];
	if (ans->status != RS_OK || (ans->rcode != 0 && ans->rcode != 3)) {
		char *e = answer_error(ans);
		if (!t->error)
			t->hint = answer_hint(ans);
		target_error(t, "address lookup failed: %s", e);
		free(e);
		return;
	}
	for (size_t i = 0; i < ans->n; i++) {
		if (ans->qtype == 1) {
			struct in_addr a = { htonl(ans->u.a[i]) };
			inet_ntop(AF_INET, &a, text, sizeof(text));
		} else {
			inet_ntop(AF_INET6, ans->u.aaaa[i], text, sizeof(text));
		}
		add_address(eng, t, text);
	}
}

static void mx_answer(struct dnsbl_engine *eng, struct dq *dq,
		      const struct rs_answer *ans)
{
	struct dnsbl_target *t = dq->t;
	if (ans->status != RS_OK || (ans->rcode != 0 && ans->rcode != 3)) {
		char *e = answer_error(ans);
		if (!t->error)
			t->hint = answer_hint(ans);
		target_error(t, "MX lookup failed: %s", e);
		free(e);
		return;
	}
	if (ans->rcode == 3) {
		target_error(t, "the domain %s does not exist (NXDOMAIN)", t->input);
		return;
	}
	if (ans->n == 0) {		/* no MX: the domain itself (RFC 5321) */
		ask_host(eng, t, t->input, true);
		return;
	}
	size_t asked = 0;
	for (size_t i = 0; i < ans->n && asked < eng->o.max_mx; i++) {
		const char *h = ans->name[i];
		if (!h[0] || !strcmp(h, "."))	/* null MX (RFC 7505) */
			continue;
		ask_host(eng, t, h, false);
		asked++;
	}
	if (!asked)
		target_error(t, "%s accepts no mail (null MX, RFC 7505)", t->input);
}

static void on_answer(void *arg, const struct rs_answer *ans)
{
	struct dq *dq = arg;
	struct dnsbl_engine *eng = dq->eng;
	struct dnsbl_target *t = dq->t;

	switch (dq->kind) {
	case DQ_PROBE:
		probe_answer(eng, dq, ans);
		break;
	case DQ_LIST_A:
		list_answer(eng, t, &t->results[dq->ridx], ans);
		break;
	case DQ_LIST_TXT: {
		struct dnsbl_result *r = &t->results[dq->ridx];
		if (ans->status == RS_OK && ans->rcode == 0)
			for (size_t i = 0; i < ans->n && r->ntxt < RS_MAX_RR; i++)
				r->txt[r->ntxt++] = xstrdup(ans->txt[i]);
		break;
	}
	case DQ_HOST_A:
	case DQ_HOST_AAAA:
		host_answer(eng, dq, ans);
		break;
	case DQ_MX:
		mx_answer(eng, dq, ans);
		break;
	}
	if (t)
		t->outstanding--;
	eng->inflight--;
	free(dq);
}

/* ---- finishing ---- */

enum dnsbl_health dnsbl_list_health(const struct dnsbl_engine *eng,
				    const struct list *l, const char **why)
{
	for (size_t i = 0; i < eng->nlists; i++)
		if (eng->probes[i].list == l) {
			*why = eng->probes[i].why;
			return eng->probes[i].health;
		}
	*why = "";
	return DH_UNKNOWN;
}

bool dnsbl_list_asked(const struct dnsbl_engine *eng, const struct list *l)
{
	for (size_t i = 0; i < eng->nlists; i++)
		if (eng->probes[i].list == l)
			return eng->probes[i].asked;
	return false;
}

bool dnsbl_list_testpoint_silent(const struct dnsbl_engine *eng, const struct list *l)
{
	for (size_t i = 0; i < eng->nlists; i++)
		if (eng->probes[i].list == l)
			return eng->probes[i].health == DH_NO_TESTPOINT && eng->probes[i].silent;
	return false;
}

const char *dnsbl_list_testpoint_got(const struct dnsbl_engine *eng,
				     const struct list *l)
{
	for (size_t i = 0; i < eng->nlists; i++)
		if (eng->probes[i].list == l)
			return eng->probes[i].health != DH_NO_TESTPOINT ? "" :
			       eng->probes[i].listed_point_got[0] ?
			       eng->probes[i].listed_point_got : "no answer";
	return "";
}

static void finish(struct dnsbl_engine *eng, struct dnsbl_target *t)
{
	for (size_t i = 0; i < t->nresults; i++) {
		struct dnsbl_result *r = &t->results[i];
		const char *why;
		if (r->status == DS_PENDING) {
			r->status = DS_ERROR;
			r->error = xstrdup("no answer");
		}
		enum dnsbl_health h = dnsbl_list_health(eng, r->list, &why);
		if ((h == DH_BROKEN || h == DH_NO_TESTPOINT) && r->status != DS_ERROR) {
			r->status = DS_ERROR;
			free(r->error);
			r->error = xstrdup(why);
		}
	}
	if (!t->error && t->naddrs == 0 && t->kind == TK_HOST && !t->nresults)
		target_error(t, "%s has no address (no A or AAAA record)", t->input);
	if (!t->error && t->naddrs == 0 && t->kind == TK_MX)
		target_error(t, "no address found for the mail servers of %s", t->input);
}

struct dnsbl_target *dnsbl_next_done(struct dnsbl_engine *eng)
{
	struct dnsbl_target *t = eng->head;
	if (!t || t->outstanding || eng->probes_outstanding)
		return NULL;
	eng->head = t->next;
	if (!eng->head)
		eng->tail = NULL;
	t->next = NULL;
	eng->active--;
	finish(eng, t);
	return t;
}
