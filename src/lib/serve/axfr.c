/*
 * axfr.c - zone transfer; see axfr.h.
 *
 * SECURITY: see axfr.h. Owner names are checked to fit 255 bytes.
 */
#include "serve/axfr.h"
#include "serve/answer.h"
#include "base/dname.h"
#include "serve/ds_ip.h"
#include "base/util.h"
#include "base/wire.h"

#include <stdlib.h>
#include <string.h>

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

static int add_soa(struct xfr *x)
{
	uint8_t rd[600];
	size_t offs[2], n = zone_soa_rdata(x->z, rd, offs);

	return add(x, x->z->name, 6, x->z->soa->ttl, rd, n, offs, 2);
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
