/*
 * dns.c - what the zones' DNS server answers now (web/web_int.h): the
 * lookup asks A and TXT of every zone at once, through the thread's
 * resolver, bounded by dns_timeout_ms; a removal waits until the server
 * answers NXDOMAIN. A server that does not answer, or answers with an
 * error, is "unknown", never "not listed".
 *
 * SECURITY: answers are parsed by resolve.c (only answers to the
 * question, from the server asked); texts are escaped by the caller.
 */
#include "web/web_int.h"
#include "base/util.h"
#include "dnsbl/resolve.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define QTYPE_A 1
#define QTYPE_TXT 16

/* The name to ask for k in zone. */
static int qname(const struct store_key *k, const char *zone, char *out, size_t len)
{
	int n;

	if (k->kind == STORE_IP4) {
		n = snprintf(out, len, "%u.%u.%u.%u.%s", k->addr[3], k->addr[2], k->addr[1],
			     k->addr[0], zone);
	} else if (k->kind == STORE_IP6) {
		static const char hex[] = "0123456789abcdef";
		size_t o = 0;

		if (len < 64 + 2)
			return -1;
		for (int i = 15; i >= 0; i--) {
			out[o++] = hex[k->addr[i] & 15];
			out[o++] = '.';
			out[o++] = hex[k->addr[i] >> 4];
			out[o++] = '.';
		}
		n = (int)o + snprintf(out + o, len - o, "%s", zone);
	} else {
		n = snprintf(out, len, "%s.%s", k->text, zone);
	}
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

struct q {
	struct web_dns_answer *a;
	int txt;
	int done;
};

static void got(void *arg, const struct rs_answer *ans)
{
	struct q *q = arg;
	struct web_dns_answer *a = q->a;

	q->done = 1;
	if (q->txt) {
		if (ans->status == RS_OK && ans->rcode == 0 && ans->n > 0 && ans->txt[0])
			str_copy(a->txt, sizeof(a->txt), ans->txt[0]);
		return;
	}
	if (ans->status != RS_OK) {
		a->state = WEB_DNS_UNKNOWN;
		str_copy(a->error, sizeof(a->error),
			 ans->status == RS_TIMEOUT ? "no answer" : ans->error ? ans->error : "error");
	} else if (ans->rcode == 3 || (ans->rcode == 0 && ans->n == 0)) {
		a->state = WEB_DNS_NOT_LISTED;
	} else if (ans->rcode == 0) {
		a->state = WEB_DNS_LISTED;
		for (size_t i = 0; i < ans->n && a->na < 8; i++)
			a->a[a->na++] = ans->u.a[i];
	} else {
		a->state = WEB_DNS_UNKNOWN;
		snprintf(a->error, sizeof(a->error), "rcode %d", ans->rcode);
	}
}

void web_dns_lookup(struct web_req *r, const struct store_key *k, const char *const *zones,
		    unsigned n, struct web_dns_answer *out)
{
	struct q qs[2 * 16];
	char name[300];

	if (n > 16)
		n = 16;
	memset(out, 0, n * sizeof(*out));
	for (unsigned i = 0; i < n; i++) {
		str_copy(out[i].error, sizeof(out[i].error), "no answer");
		qs[2 * i] = (struct q){ &out[i], 0, 0 };
		qs[2 * i + 1] = (struct q){ &out[i], 1, 0 };
	}
	if (!r->t->rs) {
		for (unsigned i = 0; i < n; i++)
			str_copy(out[i].error, sizeof(out[i].error), "resolver not set up");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		if (qname(k, zones[i], name, sizeof(name)) ||
		    rs_submit(r->t->rs, name, QTYPE_A, got, &qs[2 * i]) ||
		    rs_submit(r->t->rs, name, QTYPE_TXT, got, &qs[2 * i + 1]))
			str_copy(out[i].error, sizeof(out[i].error), "name too long");
	}
	rs_run(r->t->rs, now_ms() + r->srv->conf->dns_timeout_ms);
}

int web_dns_wait_gone(struct web_req *r, const struct store_key *k, const char *zone)
{
	uint64_t end = now_ms() + r->srv->conf->remove_wait_ms;
	char name[300];

	if (!r->t->rs || qname(k, zone, name, sizeof(name)))
		return 0;
	for (;;) {
		struct web_dns_answer a = { 0 };
		struct q q = { &a, 0, 0 };
		uint64_t now = now_ms();
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		if (rs_submit(r->t->rs, name, QTYPE_A, got, &q))
			return 0;
		rs_run(r->t->rs, now + r->srv->conf->dns_timeout_ms);
		if (a.state == WEB_DNS_NOT_LISTED)
			return 1;
		if (now_ms() >= end)
			return 0;
		nanosleep(&ts, NULL);
	}
}
