/*
 * answer.c - building a DNS response in place; see answer.h.
 *
 * SECURITY: every write is checked against a->cap / a->limit first. The
 * query bytes copied in were validated by the packet parser.
 */
#include "serve/answer.h"

#include <string.h>

#define HDR 12

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void answer_init(struct answer *a, uint8_t *buf, size_t cap, size_t limit,
		 const uint8_t *query, size_t qlen)
{
	a->buf = buf;
	a->cap = cap;
	a->limit = limit < cap ? limit : cap;
	if (qlen > a->limit)
		qlen = a->limit;        /* cannot happen: limit >= 512 */
	memmove(buf, query, qlen);
	a->len = a->qend = qlen;
	for (int i = 0; i < 3; i++) {
		a->sec_start[i] = qlen;
		a->count[i] = 0;
	}
	a->truncated = 0;
	a->ncomp = 0;
	a->zone_off = HDR;
}

void answer_reset(struct answer *a)
{
	a->len = a->qend;
	for (int i = 0; i < 3; i++) {
		a->sec_start[i] = a->qend;
		a->count[i] = 0;
	}
	a->ncomp = 0;
}

/* rbldnsd's answer rules: an identical RR is not added twice, and all RRs
 * of a type take the smallest TTL among them. Sets *ttl to the TTL to use;
 * returns 1 when the RR is present already. */
static int check_present(struct answer *a, uint16_t type, uint32_t *ttl,
			 const uint8_t *rdata, size_t rdlen)
{
	uint8_t *p = a->buf + a->sec_start[SEC_ANSWER];
	uint8_t *end = a->buf + a->len;
	uint32_t tmin = *ttl;
	int dup = 0;

	/* answer RRs we write all start with a 2-byte pointer to the qname */
	for (uint8_t *r = p; r + 12 <= end; r += 12 + get16(r + 10)) {
		if (get16(r + 2) != type)
			continue;
		if (get32(r + 6) < tmin)
			tmin = get32(r + 6);
		if (get16(r + 10) == rdlen && !memcmp(r + 12, rdata, rdlen))
			dup = 1;
	}
	for (uint8_t *r = p; r + 12 <= end; r += 12 + get16(r + 10))
		if (get16(r + 2) == type)
			put32(r + 6, tmin);
	*ttl = tmin;
	return dup;
}

static int section_ok(struct answer *a, enum ans_section sec)
{
	/* sections are filled in order; a later one may not be reopened */
	for (int s = sec + 1; s < 3; s++)
		if (a->count[s])
			return 0;
	return 1;
}

static void open_section(struct answer *a, enum ans_section sec)
{
	for (int s = sec + 1; s < 3; s++)
		a->sec_start[s] = a->len;
	if (!a->count[sec])
		a->sec_start[sec] = a->len;
	for (int s = sec + 1; s < 3; s++)
		a->sec_start[s] = a->len;
}

int answer_add(struct answer *a, enum ans_section sec, uint16_t type,
	       uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	size_t need = 12 + rdlen;

	if (!section_ok(a, sec) || rdlen > 65535)
		return -1;
	if (sec == SEC_ANSWER) {
		if (check_present(a, type, &ttl, rdata, rdlen))
			return 0;
	}
	if (a->len + need > a->limit || a->count[sec] == 0xffff) {
		if (sec == SEC_ANSWER)
			a->truncated = 1;
		return -1;
	}
	open_section(a, sec);
	uint8_t *p = a->buf + a->len;
	put16(p, 0xc000 | HDR);
	put16(p + 2, type);
	put16(p + 4, 1);
	put32(p + 6, ttl);
	put16(p + 10, (unsigned)rdlen);
	memcpy(p + 12, rdata, rdlen);
	a->len += need;
	a->count[sec]++;
	return 0;
}

/* Length of an uncompressed wire name (bounded by max). */
static size_t name_len(const uint8_t *n, size_t max)
{
	size_t i = 0;

	while (i < max && n[i])
		i += (size_t)n[i] + 1;
	return i < max ? i + 1 : max + 1;
}

static int lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Does the uncompressed name n equal the (possibly compressed) name at
 * offset off of the packet? */
static int name_eq_at(const struct answer *a, const uint8_t *n, size_t off)
{
	for (int hops = 0; hops < 64; ) {
		uint8_t l;

		if (off >= a->len)
			return 0;
		l = a->buf[off];
		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= a->len)
				return 0;
			off = (size_t)(l & 0x3f) << 8 | a->buf[off + 1];
			hops++;
			continue;
		}
		if (l != *n)
			return 0;
		if (!l)
			return 1;
		if (off + 1 + l > a->len)
			return 0;
		for (unsigned i = 1; i <= l; i++)
			if (lc(a->buf[off + i]) != lc(n[i]))
				return 0;
		off += 1 + l;
		n += 1 + l;
	}
	return 0;
}

/* Write name n at the end of the packet, compressed against the
 * question and names written before. Returns 0 or -1 if it won't fit. */
static int put_name(struct answer *a, const uint8_t *n, size_t limit)
{
	while (*n) {
		/* try the qname suffixes and the table */
		size_t off = HDR;
		/* fix: a message without a question (qend == HDR, as zone.c's
		 * probes make) has no qname to walk: this read past it */
		while (off < a->qend) {
			if (name_eq_at(a, n, off)) {
				if (a->len + 2 > limit)
					return -1;
				put16(a->buf + a->len, 0xc000 | (unsigned)off);
				a->len += 2;
				return 0;
			}
			if (a->buf[off] == 0)
				break;
			off += (size_t)a->buf[off] + 1;
		}
		for (unsigned i = 0; i < a->ncomp; i++) {
			if (name_eq_at(a, n, a->comp_off[i])) {
				if (a->len + 2 > limit)
					return -1;
				put16(a->buf + a->len, 0xc000 | a->comp_off[i]);
				a->len += 2;
				return 0;
			}
		}
		if (a->len + 1 + *n > limit)
			return -1;
		if (a->ncomp < ANS_MAX_COMP && a->len < 0x3fff)
			a->comp_off[a->ncomp++] = (uint16_t)a->len;
		memcpy(a->buf + a->len, n, (size_t)*n + 1);
		a->len += (size_t)*n + 1;
		n += *n + 1;
	}
	if (a->len + 1 > limit)
		return -1;
	a->buf[a->len++] = 0;
	return 0;
}

int answer_add_named(struct answer *a, enum ans_section sec,
		     const uint8_t *owner, uint16_t type, uint32_t ttl,
		     const uint8_t *rdata, size_t rdlen,
		     const size_t *name_offs, unsigned nnames)
{
	size_t save = a->len, rdstart, pos = 0;
	unsigned savecomp = a->ncomp;

	if (!section_ok(a, sec))
		return -1;
	open_section(a, sec);
	if (put_name(a, owner, a->limit) || a->len + 10 > a->limit)
		goto full;
	put16(a->buf + a->len, type);
	put16(a->buf + a->len + 2, 1);
	put32(a->buf + a->len + 4, ttl);
	a->len += 10;
	rdstart = a->len;
	for (unsigned i = 0; i <= nnames; i++) {
		size_t upto = i < nnames ? name_offs[i] : rdlen;

		if (upto < pos || upto > rdlen || a->len + (upto - pos) > a->limit)
			goto full;
		memcpy(a->buf + a->len, rdata + pos, upto - pos);
		a->len += upto - pos;
		pos = upto;
		if (i < nnames) {
			size_t nl = name_len(rdata + pos, rdlen - pos);

			if (nl > rdlen - pos || put_name(a, rdata + pos, a->limit))
				goto full;
			pos += nl;
		}
	}
	put16(a->buf + rdstart - 2, (unsigned)(a->len - rdstart));
	a->count[sec]++;
	return 0;
full:
	a->len = save;
	a->ncomp = savecomp;
	if (sec == SEC_ANSWER)
		a->truncated = 1;
	return -1;
}

void answer_a_txt(struct answer *a, unsigned want, const struct value *v,
		  uint32_t ttl, const char *subst, size_t substlen)
{
	/* Q_A and Q_TXT values match dataset.h */
	if (want & 1)
		answer_add(a, SEC_ANSWER, 1, ttl, v->a, 4);
	if (want & 2) {
		uint8_t txt[VALUE_TXT_MAX + 1];
		size_t n = value_expand(v, subst, substlen, txt + 1);

		if (n) {
			txt[0] = (uint8_t)n;
			answer_add(a, SEC_ANSWER, 16, ttl, txt, n + 1);
		}
	}
}

size_t answer_finish(struct answer *a)
{
	put16(a->buf + 6, a->count[SEC_ANSWER]);
	put16(a->buf + 8, a->count[SEC_AUTHORITY]);
	put16(a->buf + 10, a->count[SEC_ADDITIONAL]);
	return a->len;
}
