/*
 * health.c - RFC 5782 test-point probes of the lists of rblkit policy,
 * and the usable/unusable state each list is in.
 *
 * A round asks, for each family the list serves, the listed test point
 * and the unlisted one; when a zone's last answer of the round is in, its
 * verdict is set. The first failure seen in a round is its reason. While
 * a list is unusable, rounds come every minute (or dnsbl_probe_interval
 * if shorter), so that a list that recovers counts again soon.
 *
 * The same checks as rblkit check's (dnsbl.c, DH_* health), made here on
 * the daemon's own resolver and repeated, since a daemon runs for months
 * while a list can start refusing any day.
 *
 * SECURITY: see health.h.
 */
#include "policy/health.h"
#include "base/ipaddr.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define QTYPE_A 1
#define RETRY_S 60		/* rounds while a list is unusable */
#define REPROBE_MS 2000		/* after a failed lookup, at most this often */

struct phl_q {
	struct phl *h;
	uint16_t zone;
	bool listed_point;	/* 127.0.0.2 (else 127.0.0.1) */
	bool v6;
};

struct phl_zone {
	const char *zone;
	const struct list *list;
	enum phl_state state;
	char why[256];		/* when unusable */
	time_t since;
	uint64_t errors;
	uint64_t probed;	/* now_ms() of the last round */
	/* the round under way */
	unsigned outstanding;
	bool listed_hit, unlisted_hit;
	char fail[256];		/* first failure of the round, or "" */
	unsigned fail_rank;	/* its query's index in q[] */
	struct phl_q q[4];
};

struct phl {
	struct resolver *rs;
	const struct sites *s;
	struct phl_zone *z;
	size_t n;
	unsigned interval;
	uint64_t next;		/* now_ms() of the next round */
	phl_changed_fn *changed;
	void *arg;
	bool closing;
};

static const char *rcode_text(int rcode, char *buf, size_t len)
{
	switch (rcode) {
	case 1: return "FORMERR";
	case 2: return "SERVFAIL";
	case 4: return "NOTIMP";
	case 5: return "REFUSED";
	}
	snprintf(buf, len, "rcode %d", rcode);
	return buf;
}

static const char *point_text(const struct phl_q *q)
{
	if (q->v6)
		return q->listed_point ? "::ffff:127.0.0.2" : "::ffff:127.0.0.1";
	return q->listed_point ? "127.0.0.2" : "127.0.0.1";
}

static void set_state(struct phl *h, unsigned i, enum phl_state st, const char *why)
{
	struct phl_zone *z = &h->z[i];
	enum phl_state was = z->state;
	char old[sizeof(z->why)];

	snprintf(old, sizeof(old), "%s", z->why);
	snprintf(z->why, sizeof(z->why), "%s", why);
	if (st == was)
		return;
	z->state = st;
	z->since = time(NULL);
	if (st == PH_UNUSABLE && h->next > now_ms() + RETRY_S * 1000ull)
		h->next = now_ms() + RETRY_S * 1000ull;	/* retry soon */
	if (st == PH_UNUSABLE)
		log_warn("dnsbl_sites: %s is unusable: %s; its answers do not count until "
			 "its RFC 5782 test points answer right again", z->zone, why);
	else if (was == PH_UNUSABLE)
		log_info("dnsbl_sites: %s is usable again: its RFC 5782 test points answer "
			 "right (it was unusable: %s)", z->zone, old);
	if (h->changed)
		h->changed(h->arg, i, st);
}

/* The round of zone i has ended: its verdict. */
static void judge(struct phl *h, unsigned i)
{
	struct phl_zone *z = &h->z[i];
	bool v4 = z->list->kinds & LK_IP4;

	if (z->fail[0])
		set_state(h, i, PH_UNUSABLE, z->fail);
	else if (z->unlisted_hit)
		set_state(h, i, PH_UNUSABLE, v4 ?
			  "it lists the test point 127.0.0.1, so it lists everyone "
			  "(retired or broken)" :
			  "it lists the test point ::ffff:127.0.0.1, so it lists everyone "
			  "(retired or broken)");
	else if (!z->listed_hit && !z->list->no_testpoint)
		set_state(h, i, PH_UNUSABLE, v4 ?
			  "it does not list the test point 127.0.0.2" :
			  "it does not list the test point ::ffff:127.0.0.2");
	else
		set_state(h, i, PH_OK, "");
	if (z->state == PH_UNUSABLE)
		z->errors++;
}

/* A failure of the round: its reason is that of the first query that
 * failed, in the order they were sent (answers come in any order). */
static void fail(struct phl_zone *z, const struct phl_q *q, const char *what)
{
	unsigned rank = (unsigned)(q - z->q);

	if (z->fail[0] && rank >= z->fail_rank)
		return;
	z->fail_rank = rank;
	snprintf(z->fail, sizeof(z->fail), "%s, for its test point %s", what,
		 point_text(q));
}

static void on_probe(void *arg, const struct rs_answer *ans)
{
	struct phl_q *q = arg;
	struct phl *h = q->h;
	struct phl_zone *z = &h->z[q->zone];
	char buf[32], code[16], why[200];

	z->outstanding--;
	if (h->closing)
		return;
	if (ans->status != RS_OK) {
		snprintf(why, sizeof(why), "no answer (%s)", ans->status == RS_TIMEOUT ?
			 "timeout" : ans->error ? ans->error : "error");
		fail(z, q, why);
	} else if (ans->rcode != 0 && ans->rcode != 3) {
		snprintf(why, sizeof(why), "it answers %s",
			 rcode_text(ans->rcode, buf, sizeof(buf)));
		fail(z, q, why);
	} else {
		for (size_t k = 0; k < ans->n && k < RS_MAX_RR; k++) {
			const char *meaning;

			if (list_classify(z->list, ans->u.a[k], &meaning) == CC_ERROR) {
				ip4_format(ans->u.a[k], code);
				snprintf(why, sizeof(why), "it refuses the queries: %s (%s)",
					 code, meaning);
				fail(z, q, why);
			} else if (q->listed_point) {
				z->listed_hit = true;
			} else {
				z->unlisted_hit = true;
			}
		}
	}
	if (z->outstanding == 0)
		judge(h, q->zone);
}

static void probe_zone(struct phl *h, unsigned i)
{
	struct phl_zone *z = &h->z[i];
	unsigned nq = 0;

	if (z->outstanding || z->state == PH_NOT_PROBED)
		return;		/* the last round has not ended */
	z->probed = now_ms();
	z->listed_hit = z->unlisted_hit = false;
	z->fail[0] = '\0';
	for (int v6 = 0; v6 < 2; v6++) {
		if (!(z->list->kinds & (v6 ? LK_IP6 : LK_IP4)))
			continue;
		for (int listed = 1; listed >= 0; listed--) {
			struct phl_q *q = &z->q[nq++];
			uint8_t addr[16] = { 0 };
			char name[320];

			q->h = h;
			q->zone = (uint16_t)i;
			q->listed_point = listed;
			q->v6 = v6;
			if (v6) {
				addr[10] = addr[11] = 0xff;
				addr[12] = 127;
				addr[15] = listed ? 2 : 1;
			} else {
				addr[0] = 127;
				addr[3] = listed ? 2 : 1;
			}
			if (ip_revname(v6 ? AF_INET6 : AF_INET, addr, z->zone, name,
				      sizeof(name)) ||
			    rs_submit(h->rs, name, QTYPE_A, on_probe, q)) {
				snprintf(z->fail, sizeof(z->fail), "its test point names "
					 "are not valid DNS names");
				continue;
			}
			z->outstanding++;
		}
	}
	if (z->outstanding == 0)
		judge(h, i);
}

static void round_start(struct phl *h, uint64_t now)
{
	bool unusable = false;

	for (size_t i = 0; i < h->n; i++)
		probe_zone(h, (unsigned)i);
	for (size_t i = 0; i < h->n; i++)
		unusable |= h->z[i].state == PH_UNUSABLE;
	h->next = now + 1000ull * (unusable && h->interval > RETRY_S ? RETRY_S : h->interval);
}

struct phl *phl_new(struct resolver *rs, const struct sites *s,
		    const struct list *const *lists, unsigned interval_s,
		    phl_changed_fn *changed, void *arg)
{
	struct phl *h = xcalloc(1, sizeof(*h));

	h->rs = rs;
	h->s = s;
	h->n = s->nzones;
	h->z = xcalloc(h->n ? h->n : 1, sizeof(*h->z));
	h->interval = interval_s;
	h->changed = changed;
	h->arg = arg;
	for (size_t i = 0; i < h->n; i++) {
		struct phl_zone *z = &h->z[i];

		z->zone = s->zones[i];
		z->list = lists[i];
		z->since = time(NULL);
		z->state = interval_s && (lists[i]->kinds & (LK_IP4 | LK_IP6)) ?
			   PH_UNKNOWN : PH_NOT_PROBED;
	}
	if (interval_s && rs)
		round_start(h, now_ms());
	return h;
}

void phl_close(struct phl *h)
{
	if (h)
		h->closing = true;
}

void phl_free(struct phl *h)
{
	if (!h)
		return;
	free(h->z);
	free(h);
}

void phl_tick(struct phl *h, uint64_t now)
{
	if (h && h->interval && h->rs && !h->closing && now >= h->next)
		round_start(h, now);
}

enum phl_state phl_state(const struct phl *h, unsigned zone)
{
	return h && zone < h->n ? h->z[zone].state : PH_NOT_PROBED;
}

void phl_count_error(struct phl *h, unsigned zone)
{
	if (h && zone < h->n)
		h->z[zone].errors++;
}

void phl_lookup_failed(struct phl *h, unsigned zone)
{
	struct phl_zone *z;

	if (!h || zone >= h->n || h->closing)
		return;
	z = &h->z[zone];
	z->errors++;
	/* a list that starts failing between two rounds is probed at once
	 * (at most every 2 s), not up to dnsbl_probe_interval later */
	if (z->state == PH_OK && h->interval && now_ms() - z->probed >= REPROBE_MS)
		probe_zone(h, zone);
}

void phl_inherit(struct phl *h, const struct phl *old)
{
	if (!h || !old)
		return;
	for (size_t i = 0; i < h->n; i++) {
		struct phl_zone *z = &h->z[i];

		for (size_t k = 0; k < old->n; k++) {
			const struct phl_zone *o = &old->z[k];

			if (strcasecmp(o->zone, z->zone))
				continue;
			z->errors = o->errors;
			if (z->state == PH_UNKNOWN && (o->state == PH_OK ||
						       o->state == PH_UNUSABLE)) {
				z->state = o->state;
				z->since = o->since;
				snprintf(z->why, sizeof(z->why), "%s", o->why);
			}
			break;
		}
	}
}

static const char *state_text(enum phl_state st)
{
	switch (st) {
	case PH_UNKNOWN: return "probing";
	case PH_OK: return "ok";
	case PH_UNUSABLE: return "unusable";
	case PH_NOT_PROBED: break;
	}
	return "not probed";
}

void phl_report(const struct phl *h, FILE *f)
{
	for (size_t i = 0; h && i < h->n; i++) {
		const struct phl_zone *z = &h->z[i];
		char when[32];
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", gmtime_r(&z->since, &tm));
		fprintf(f, "list %s: %s", z->zone, state_text(z->state));
		if (z->state == PH_UNUSABLE)
			fprintf(f, " since %s (%s)", when, z->why);
		fprintf(f, ", %llu errors\n", (unsigned long long)z->errors);
	}
}

void phl_metrics(const struct phl *h, FILE *f)
{
	if (!h || !h->n)
		return;
	fprintf(f, "# HELP rblkit_policy_list_usable 1 when the list passes its RFC 5782 "
		"test (or is not probed), 0 when unusable, -1 while first probed.\n"
		"# TYPE rblkit_policy_list_usable gauge\n");
	for (size_t i = 0; i < h->n; i++)
		fprintf(f, "rblkit_policy_list_usable{zone=\"%s\"} %d\n", h->z[i].zone,
			h->z[i].state == PH_UNUSABLE ? 0 : h->z[i].state == PH_UNKNOWN ? -1 : 1);
	fprintf(f, "# HELP rblkit_policy_list_errors_total Failed lookups, refusal codes "
		"and failed probes of the list.\n"
		"# TYPE rblkit_policy_list_errors_total counter\n");
	for (size_t i = 0; i < h->n; i++)
		fprintf(f, "rblkit_policy_list_errors_total{zone=\"%s\"} %llu\n", h->z[i].zone,
			(unsigned long long)h->z[i].errors);
}
