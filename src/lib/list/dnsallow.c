/*
 * dnsallow.c - DNS allowlists for the rules; see dnsallow.h.
 *
 * SECURITY: see dnsallow.h. Query names are built by dnsbl_qname() from
 * a parsed key and a configured list name, bounded.
 */
#include "list/dnsallow.h"
#include "dnsbl/dnsbl.h"
#include "dnsbl/resolve.h"
#include "base/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DA_CACHE 4096           /* answers kept (a direct-mapped table) */
#define DA_TTL_MIN 60
#define DA_TTL_MAX 3600
#define DA_DEADLINE_MS 2500     /* tries * timeout of the resolver, and a margin */

struct da_entry {
	char qname[300];
	int result;             /* 1 on the list, 0 not */
	time_t expires;
};

struct dnsallow {
	struct resolver *rs;
	struct da_entry *cache;
};

struct da_wait {
	int done;
	int result;
	uint32_t ttl;
};

struct dnsallow *dnsallow_new(const char *servers, char *err, size_t errlen)
{
	struct rs_opts o = { .mode = RS_SYSTEM, .timeout_ms = 1000, .tries = 2 };
	struct dnsallow *d = xcalloc(1, sizeof(*d));

	if (servers && *servers) {
		o.mode = RS_FORWARD;
		o.servers = servers;
	}
	if (!(d->rs = rs_new(&o, err, errlen))) {
		free(d);
		return NULL;
	}
	d->cache = xcalloc(DA_CACHE, sizeof(*d->cache));
	return d;
}

void dnsallow_free(struct dnsallow *d)
{
	if (!d)
		return;
	rs_free(d->rs);
	free(d->cache);
	free(d);
}

static void da_answer(void *arg, const struct rs_answer *a)
{
	struct da_wait *w = arg;

	w->done = 1;
	w->result = -1;
	w->ttl = a->ttl;
	if (a->status != RS_OK)
		return;
	if (a->rcode == 3) {            /* NXDOMAIN: not on the list */
		w->result = 0;
		return;
	}
	if (a->rcode != 0)
		return;
	if (a->n == 0) {                /* the name exists, no A: not listed */
		w->result = 0;
		return;
	}
	for (size_t i = 0; i < a->n; i++) {
		uint32_t v = a->u.a[i];

		if ((v >> 24) != 127 || (v >> 8) == 0x7fffff || v == 0x7f0000ffu)
			return;         /* not an answer: an error code */
	}
	w->result = 1;
}

static size_t da_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % DA_CACHE;
}

int dnsallow_check(void *arg, const struct store_key *k, const char *list)
{
	struct dnsallow *d = arg;
	struct da_wait w = { 0 };
	char qname[300];
	struct da_entry *e;
	unsigned kind;
	time_t now = time(NULL);

	if (!((k->kind == STORE_IP4 && k->bits == 32) || (k->kind == STORE_IP6 && k->bits == 128)))
		return 0;
	if (dnsbl_qname(k->text, list, qname, sizeof(qname), &kind) < 0)
		return -1;
	e = &d->cache[da_hash(qname)];
	if (e->expires > now && !strcmp(e->qname, qname))
		return e->result;
	if (rs_submit(d->rs, qname, 1 /* A */, da_answer, &w) < 0)
		return -1;
	rs_run(d->rs, now_ms() + DA_DEADLINE_MS);
	if (!w.done) {
		rs_cancel_all(d->rs);
		return -1;
	}
	if (w.result >= 0) {
		uint32_t ttl = w.ttl < DA_TTL_MIN ? DA_TTL_MIN : w.ttl > DA_TTL_MAX ? DA_TTL_MAX : w.ttl;

		snprintf(e->qname, sizeof(e->qname), "%s", qname);
		e->result = w.result;
		e->expires = now + (time_t)ttl;
	}
	return w.result;
}
