/*
 * axfr.c - zone transfer; see axfr.h.
 *
 * SECURITY: see axfr.h. Owner names are checked to fit 255 bytes.
 * Network lists are parsed with inet_pton, bits range-checked.
 */
#include "serve/axfr.h"
#include "serve/answer.h"
#include "base/dname.h"
#include "serve/ds_ip.h"
#include "serve/ds_store.h"
#include "base/util.h"
#include "base/wire.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#define MSG_MAX 16384

struct xfr {
	const struct zone *z;
	const uint8_t *req;
	size_t qlen;
	axfr_send_fn send;
	void *arg;
	uint8_t *buf;
	struct answer a;
	int failed;
};

static void start_msg(struct xfr *x)
{
	answer_init(&x->a, x->buf, MSG_MAX, MSG_MAX, x->req, x->qlen);
	x->buf[2] = 0x84;               /* QR, AA */
	x->buf[3] = 0;
}

static int flush_msg(struct xfr *x)
{
	size_t n = answer_finish(&x->a);

	if (x->send(x->arg, x->buf, n))
		return -1;
	start_msg(x);
	return 0;
}

static int add(struct xfr *x, const uint8_t *owner, uint16_t type, uint32_t ttl,
	       const uint8_t *rd, size_t rdlen, const size_t *offs, unsigned nn)
{
	if (answer_add_named(&x->a, SEC_ANSWER, owner, type, ttl, rd, rdlen,
			     offs, nn) == 0)
		return 0;
	x->a.truncated = 0;
	if (flush_msg(x))
		return -1;
	return answer_add_named(&x->a, SEC_ANSWER, owner, type, ttl, rd, rdlen,
				offs, nn) ? -1 : 0;
}

static int emit(void *arg, const uint8_t *rel, size_t rel_len, uint16_t type,
		uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct xfr *x = arg;
	uint8_t owner[256];

	if (rel_len + x->z->namelen > 255)
		return 0;               /* cannot be named; skip */
	memcpy(owner, rel, rel_len);
	memcpy(owner + rel_len, x->z->name, x->z->namelen);
	return add(x, owner, type, ttl, rdata, rdlen, NULL, 0);
}

/* The zone's SOA; with serial != z->serial, the SOA of that serial (an
 * IXFR's older version). */
static int add_soa_serial(struct xfr *x, uint32_t serial)
{
	uint8_t rd[600];
	size_t offs[2], n = zone_soa_rdata(x->z, rd, offs);

	rd[n - 20] = (uint8_t)(serial >> 24);   /* the first of five numbers */
	rd[n - 19] = (uint8_t)(serial >> 16);
	rd[n - 18] = (uint8_t)(serial >> 8);
	rd[n - 17] = (uint8_t)serial;
	return add(x, x->z->name, 6, x->z->soa->ttl, rd, n, offs, 2);
}

static int add_soa(struct xfr *x)
{
	return add_soa_serial(x, x->z->serial);
}

size_t axfr_question_len(const uint8_t *req, size_t len)
{
	struct wire w;
	uint8_t name[256];

	wire_init(&w, req, len);
	wire_skip(&w, 12);
	wire_name(&w, name, 1);
	wire_skip(&w, 4);
	return wire_ok(&w) ? w.pos : 0;
}

int axfr_run(const struct zone *z, const uint8_t *req, size_t qlen,
	     axfr_send_fn send, void *arg)
{
	struct xfr x = { .z = z, .req = req, .qlen = qlen, .send = send, .arg = arg };
	const struct dataset **ipds = NULL;
	unsigned nip = 0;
	int rc = -1;

	x.buf = xmalloc(MSG_MAX);
	start_msg(&x);
	if (add_soa(&x))
		goto out;
	for (int i = 0; z->ns && i < z->ns->count; i++) {
		size_t off = 0, l = (size_t)dname_rel_len(z->ns->name[i], 256) + 1;

		if (add(&x, z->name, 2, z->ns->ttl, z->ns->name[i], l, &off, 1))
			goto out;
	}
	/* the IP datasets together (their answers combine), then the rest */
	ipds = xreallocarray(NULL, z->nds ? z->nds : 1, sizeof(*ipds));
	for (unsigned i = 0; i < z->nds; i++)
		if (z->ds[i]->type->dump == ds_ip_dump)
			ipds[nip++] = z->ds[i];
	if (nip && ds_ip_dump_zone(ipds, nip, emit, &x))
		goto out;
	for (unsigned i = 0; i < z->nds; i++) {
		const struct dataset *ds = z->ds[i];

		if (ds->type->dump && ds->type->dump != ds_ip_dump &&
		    ds->type->dump(ds, emit, &x))
			goto out;
	}
	if (add_soa(&x) || flush_msg(&x))
		goto out;
	rc = 0;
out:
	free(ipds);
	free(x.buf);
	return rc;
}

/* --- IXFR (RFC 1995) --- */

/* The serial of the SOA in the authority section of an IXFR request
 * (msg, mlen bytes; the question ends at qlen): 0 and *serial, or -1. */
static int ixfr_serial(const uint8_t *msg, size_t mlen, size_t qlen, uint32_t *serial)
{
	struct wire w;
	uint8_t name[256];
	uint16_t type, rdlen;

	if (qlen < 16 || qlen > mlen || msg[qlen - 4] != 0 || msg[qlen - 3] != 251 ||
	    ((unsigned)msg[8] << 8 | msg[9]) < 1)
		return -1;
	wire_init(&w, msg, mlen);
	wire_skip(&w, qlen);
	wire_name(&w, name, 0);
	type = wire_u16(&w);
	wire_skip(&w, 6);       /* class, TTL */
	rdlen = wire_u16(&w);
	if (!wire_ok(&w) || type != 6 || wire_left(&w) < rdlen)
		return -1;
	wire_name(&w, name, 0);
	wire_name(&w, name, 0);
	*serial = wire_u32(&w);
	return wire_ok(&w) ? 0 : -1;
}

static int ixfr_between(void *arg)
{
	return add_soa(arg);
}

/* IXFR of a store zone from serial `from`: 0 sent, 1 cannot (AXFR
 * instead, nothing sent), -1 a send failed. */
static int ixfr_run(const struct zone *z, const struct dataset *ds, uint32_t from,
		    const uint8_t *req, size_t qlen, axfr_send_fn send, void *arg)
{
	struct xfr x = { .z = z, .req = req, .qlen = qlen, .send = send, .arg = arg };
	int rc = -1, r;

	x.buf = xmalloc(MSG_MAX);
	start_msg(&x);
	if (from == z->serial) {        /* up to date: the SOA alone */
		rc = add_soa(&x) || flush_msg(&x) ? -1 : 0;
		goto out;
	}
	if (add_soa(&x) || add_soa_serial(&x, from))
		goto out;
	r = ds_store_diff(ds, from, emit, ixfr_between, &x);
	if (r == 1 && x.a.count[SEC_ANSWER] == 2) {
		rc = 1;         /* nothing sent yet */
		goto out;
	}
	if (r || add_soa(&x) || flush_msg(&x))
		goto out;
	rc = 0;
out:
	free(x.buf);
	return rc;
}

int axfr_serve(const struct zone *z, const uint8_t *msg, size_t mlen, size_t qlen,
	       axfr_send_fn send, void *arg)
{
	uint32_t from;
	int rc;

	/* a store zone from its journal; anything else as AXFR (RFC 1995 4) */
	if (ixfr_serial(msg, mlen, qlen, &from) == 0) {
		for (unsigned i = 0; i < z->nds; i++) {
			if (z->ds[i]->type != &ds_store || z->nds != 1)
				continue;
			rc = ixfr_run(z, z->ds[i], from, msg, qlen, send, arg);
			if (rc != 1)
				return rc;
		}
	}
	return axfr_run(z, msg, qlen, send, arg);
}

/* --- who may transfer --- */

struct axfr_net {
	int family;
	uint8_t addr[16];
	int bits;
};

struct axfr_acl {
	struct axfr_net *nets;
	size_t n;
};

/* "addr[/bits]" (len bytes of s) into *net; 0 or -1. */
static int parse_net(const char *s, size_t len, struct axfr_net *net)
{
	char buf[64], *slash, *end;
	long bits;
	int max;

	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1)
		net->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, net->addr) == 1)
		net->family = AF_INET6;
	else
		return -1;
	max = net->family == AF_INET ? 32 : 128;
	bits = max;
	if (slash) {
		bits = strtol(slash, &end, 10);
		if (!*slash || *end || bits < 0 || bits > max)
			return -1;
	}
	net->bits = (int)bits;
	for (int i = net->bits; i < max; i++)   /* no host bits */
		if (net->addr[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

int axfr_acl_add(struct axfr_acl **acl, const char *list, const char **bad)
{
	const char *p = list;

	if (!*acl)
		*acl = xcalloc(1, sizeof(**acl));
	for (;;) {
		size_t len = strcspn(p, ",");
		struct axfr_net net;

		if (parse_net(p, len, &net)) {
			*bad = p;
			return -1;
		}
		(*acl)->nets = xreallocarray((*acl)->nets, (*acl)->n + 1,
					     sizeof(net));
		(*acl)->nets[(*acl)->n++] = net;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

void axfr_acl_free(struct axfr_acl *acl)
{
	if (!acl)
		return;
	free(acl->nets);
	free(acl);
}

/* The peer's address as (family, 16 bytes); IPv4-mapped IPv6 as IPv4. */
static int peer_addr(const struct sockaddr *peer, uint8_t a[16])
{
	memset(a, 0, 16);
	if (peer->sa_family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)peer)->sin_addr, 4);
		return AF_INET;
	}
	if (peer->sa_family != AF_INET6)
		return 0;
	memcpy(a, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		return AF_INET;
	}
	return AF_INET6;
}

static int net_match(const struct axfr_net *n, int family, const uint8_t *a)
{
	int full = n->bits / 8, rest = n->bits % 8;

	if (n->family != family || memcmp(n->addr, a, (size_t)full))
		return 0;
	return !rest || !((n->addr[full] ^ a[full]) & (0xff00 >> rest));
}

int axfr_allowed(const struct axfr_acl *acl, const struct sockaddr *peer)
{
	uint8_t a[16];
	int family;

	if (!peer)
		return 1;
	family = peer_addr(peer, a);
	if (!acl)
		return (family == AF_INET && a[0] == 127) ||
		       (family == AF_INET6 && !memcmp(a, &in6addr_loopback, 16));
	for (size_t i = 0; i < acl->n; i++)
		if (net_match(&acl->nets[i], family, a))
			return 1;
	return 0;
}

#define REFUSED_LOGGED 1024

static pthread_mutex_t refused_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t refused[REFUSED_LOGGED][17];     /* family byte + address */
static unsigned nrefused;
static int refused_full;

void axfr_log_refused(const struct sockaddr *peer, const struct zone *z)
{
	uint8_t key[17];
	char text[INET6_ADDRSTRLEN] = "?";
	int family = peer ? peer_addr(peer, key + 1) : 0, seen = 0, say = 0;

	if (!family)
		return;
	key[0] = (uint8_t)family;
	pthread_mutex_lock(&refused_lock);
	for (unsigned i = 0; i < nrefused && !seen; i++)
		seen = !memcmp(refused[i], key, sizeof(key));
	if (!seen && nrefused < REFUSED_LOGGED) {
		memcpy(refused[nrefused++], key, sizeof(key));
		say = 1;
	} else if (!seen && !refused_full) {
		refused_full = 1;
		say = 2;
	}
	pthread_mutex_unlock(&refused_lock);
	if (say == 2)
		log_warn("zone transfers refused to more than %d clients; "
			 "no longer logged each", REFUSED_LOGGED);
	if (say != 1)
		return;
	inet_ntop(family, key + 1, text, sizeof(text));
	log_warn("zone transfer of %s refused to %s (not a network allowed to transfer; "
		 "logged once per client)", z->text, text);
}
