/*
 * resolve_parse.c - read a DNS response into a struct rs_answer: the
 * header and question checked against the query, then the answer records
 * of the type asked (CNAME chains followed), the smallest TTL, and for a
 * negative answer the SOA's negative TTL.  Used by the stub resolver, by
 * libunbound's answer packets (resolve.c) and by the fuzz target.
 *
 * SECURITY: the packet is untrusted network input.  Everything is read
 * with the sticky-error reader of wire.c; a record's data is read through
 * a reader that ends at its RDLENGTH (names may point back, not past);
 * text from TXT records and names has control bytes replaced.  No
 * allocation: texts go to the answer's fixed scratch area.
 */
#include "dnsbl/resolve.h"
#include "base/dname.h"
#include "base/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One resource record, header read and data set apart. */
struct rr {
	uint8_t owner[DNAME_MAXLEN];
	size_t olen;
	uint16_t type, cls, rdlen;
	uint32_t ttl;
	struct wire rd;			/* the RDATA only */
};

/* What the walk over the records carries from one to the next. */
struct rr_walk {
	uint8_t target[DNAME_MAXLEN];	/* owner wanted: qname, or a CNAME's */
	size_t tlen;
	uint32_t minttl;
};

/* Copy text into the scratch area; control bytes become '?'. */
static const char *scratch_put(struct rs_answer *a, const uint8_t *s, size_t n)
{
	if (a->text_used + n + 1 > sizeof(a->text))
		return "";
	char *d = a->text + a->text_used;
	for (size_t i = 0; i < n; i++)
		d[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
	d[n] = '\0';
	a->text_used += n + 1;
	return d;
}

static const char *scratch_name(struct rs_answer *a, const uint8_t *name, size_t len)
{
	char text[DNAME_TEXT_MAX];
	if (dname_to_text(name, len, text, sizeof(text)) < 0)
		return "";
	return scratch_put(a, (const uint8_t *)text, strlen(text));
}

static bool name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return dname_cmp(a, alen, b, blen) == 0;
}

static void ttl_min(uint32_t *minttl, uint32_t ttl)
{
	if (ttl < *minttl)
		*minttl = ttl;
}

/* Read one record's header and step w over its data.  Returns -1 when
 * the header or the data cannot be read. */
static int rr_next(struct wire *w, struct rr *rr)
{
	rr->olen = wire_name(w, rr->owner, 0);
	rr->type = wire_u16(w);
	rr->cls = wire_u16(w);
	rr->ttl = wire_u32(w);
	rr->rdlen = wire_u16(w);
	if (!wire_ok(w) || wire_left(w) < rr->rdlen)
		return -1;
	rr->rd = *w;
	rr->rd.len = w->pos + rr->rdlen;	/* names may point back, not past */
	wire_skip(w, rr->rdlen);
	if (rr->ttl > 0x7fffffff)
		rr->ttl = 0;
	return 0;
}

/* ---- record data, per type; false when it is malformed ---- */

static bool rd_a(struct rs_answer *a, struct rr *rr)
{
	if (rr->rdlen != 4)
		return false;
	a->u.a[a->n] = wire_u32(&rr->rd);
	return true;
}

static bool rd_aaaa(struct rs_answer *a, struct rr *rr)
{
	if (rr->rdlen != 16)
		return false;
	memcpy(a->u.aaaa[a->n], rr->rd.buf + rr->rd.pos, 16);
	return true;
}

/* TXT: the character-strings of the record joined. */
static bool rd_txt(struct rs_answer *a, struct rr *rr)
{
	uint8_t txt[65536];
	size_t tl = 0;
	struct wire *rd = &rr->rd;
	while (wire_ok(rd) && rd->pos < rd->len) {
		uint8_t l = wire_u8(rd);
		if (wire_left(rd) < l)
			return false;
		memcpy(txt + tl, rd->buf + rd->pos, l);
		tl += l;
		wire_skip(rd, l);
	}
	a->txt[a->n] = scratch_put(a, txt, tl);
	return true;
}

/* NS, PTR, CNAME: a name; MX: a preference and a name. */
static bool rd_name(struct rs_answer *a, struct rr *rr)
{
	uint8_t name[DNAME_MAXLEN];
	if (rr->type == 15)
		a->pref[a->n] = wire_u16(&rr->rd);
	size_t n = wire_name(&rr->rd, name, 0);
	if (!wire_ok(&rr->rd) || !n)
		return false;
	a->name[a->n] = scratch_name(a, name, n);
	return true;
}

static bool rd_read(struct rs_answer *a, struct rr *rr)
{
	switch (rr->type) {
	case 1:
		return rd_a(a, rr);
	case 28:
		return rd_aaaa(a, rr);
	case 16:
		return rd_txt(a, rr);
	case 15: case 2: case 12: case 5:
		return rd_name(a, rr);
	default:
		return false;
	}
}

/* ---- sections ---- */

/* Authority: for a negative answer the TTL is min(SOA TTL, MINIMUM). */
static void authority_rr(const struct rs_answer *a, struct rr *rr, struct rr_walk *st)
{
	uint8_t name[DNAME_MAXLEN];
	if (rr->type != 6 || a->n)
		return;
	wire_name(&rr->rd, name, 0);
	wire_name(&rr->rd, name, 0);
	wire_skip(&rr->rd, 16);
	uint32_t min = wire_u32(&rr->rd);
	if (wire_ok(&rr->rd))
		st->minttl = rr->ttl < min ? rr->ttl : min;
}

/* Answer: a record of qtype for the current target, or a CNAME to
 * follow.  Returns -1 when a CNAME cannot be read (the walk stops). */
static int answer_rr(struct rs_answer *a, uint16_t qtype, struct rr *rr,
		     struct rr_walk *st)
{
	if (!name_eq(rr->owner, rr->olen, st->target, st->tlen))
		return 0;
	if (rr->type == 5 && qtype != 5) {	/* CNAME: follow */
		size_t n = wire_name(&rr->rd, st->target, 0);
		if (!wire_ok(&rr->rd) || !n)
			return -1;
		st->tlen = n;
		ttl_min(&st->minttl, rr->ttl);
		return 0;
	}
	if (rr->type != qtype || a->n == RS_MAX_RR)
		return 0;
	if (!rd_read(a, rr) || !wire_ok(&rr->rd))
		return 0;
	a->n++;
	ttl_min(&st->minttl, rr->ttl);
	return 0;
}

/* Read the answer (and, for a negative answer, the SOA of the authority
 * section) into a.  The header and question were checked. */
static void read_answer(struct rs_answer *a, const uint8_t *qname, size_t qlen,
			uint16_t qtype, struct wire *w, unsigned an, unsigned ns)
{
	struct rr_walk st;
	struct rr rr;

	memcpy(st.target, qname, qlen);
	st.tlen = qlen;
	st.minttl = UINT32_MAX;
	for (unsigned i = 0; i < an + ns && wire_ok(w); i++) {
		if (rr_next(w, &rr) < 0)
			break;
		if (rr.cls != 1)
			continue;
		if (i >= an)
			authority_rr(a, &rr, &st);
		else if (answer_rr(a, qtype, &rr, &st) < 0)
			break;
	}
	a->ttl = st.minttl == UINT32_MAX ? 0 : st.minttl;
}

int rs_parse(const uint8_t *pkt, size_t len, const uint8_t *qname, size_t qlen,
	     uint16_t qtype, int id, struct rs_answer *ans)
{
	struct wire w;
	uint8_t name[DNAME_MAXLEN];

	wire_init(&w, pkt, len);
	uint16_t pid = wire_u16(&w), flags = wire_u16(&w);
	uint16_t qd = wire_u16(&w), an = wire_u16(&w), ns = wire_u16(&w);
	wire_u16(&w);
	if (!wire_ok(&w) || (id >= 0 && pid != id) || !(flags & 0x8000) ||
	    ((flags >> 11) & 15) != 0 || qd != 1)
		return 0;
	size_t n = wire_name(&w, name, 0);
	uint16_t rqtype = wire_u16(&w), qclass = wire_u16(&w);
	if (!wire_ok(&w) || rqtype != qtype || qclass != 1 ||
	    !name_eq(name, n, qname, qlen))
		return 0;
	if (flags & 0x0200)
		return 2;
	memset(ans, 0, offsetof(struct rs_answer, u));
	ans->text_used = 0;
	ans->qtype = qtype;
	ans->status = RS_OK;
	ans->rcode = flags & 15;
	read_answer(ans, qname, qlen, qtype, &w, an, ns);
	return 1;
}
