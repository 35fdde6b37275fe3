/*
 * ds_store_xfr.c - zone transfers of a store zone: AXFR by blocks, IXFR
 * from the changes this process applied; see ds_store.h.
 *
 * SECURITY: no network input reaches this file but the client's serial
 * (a number); records are built in fixed buffers of checked size.
 */
#include "serve/ds_store.h"
#include "serve/ds_store_int.h"
#include "serve/ds_ip.h"
#include "base/dname.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGION4 16              /* AXFR/IXFR block of IPv4: a /16 */
#define REGION6 32              /* of IPv6: a /32 */
#define DIFF_REGIONS_MAX 4096   /* more blocks touched: AXFR */

/* ---- transfers ---- */

/* One record of a block's emission. */
struct rec {
	uint8_t owner[256];
	uint8_t olen;
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rd[256];
};

struct recs {
	struct rec *r;
	size_t n, cap;
};

static int rec_cb(void *arg, const uint8_t *rel, size_t rel_len, uint16_t type,
		  uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct recs *rs = arg;
	struct rec *r;

	if (rel_len > 255 || rdlen > sizeof(r->rd))
		return 0;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->r = xreallocarray(rs->r, rs->cap, sizeof(*rs->r));
	}
	r = &rs->r[rs->n++];
	memcpy(r->owner, rel, rel_len);
	r->olen = (uint8_t)rel_len;
	r->type = type;
	r->ttl = ttl;
	r->rdlen = (uint16_t)rdlen;
	memcpy(r->rd, rdata, rdlen);
	return 0;
}

/* Entries of one block, with their values. */
struct bent {
	uint8_t bits;
	u128 addr;
	uint32_t vid;
};

struct bents {
	struct bent *e;
	size_t n, cap;
};

static int bent_cb(void *arg, const struct sset_key *k, uint32_t vid)
{
	struct bents *b = arg;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->e = xreallocarray(b->e, b->cap, sizeof(*b->e));
	}
	b->e[b->n++] = (struct bent){ (uint8_t)k->bits, k->addr, vid };
	return 0;
}

static void block_range(int v6, u128 blk, u128 *lo, u128 *hi)
{
	unsigned rb = v6 ? REGION6 : REGION4, max = v6 ? 128 : 32;

	*lo = blk << (max - rb);
	*hi = *lo | ~sset_mask(v6, rb);
	if (!v6)
		*hi &= 0xffffffffu;
}

/* The records of block blk given its entries, as ds_ip's transfer writes
 * them (a temporary ip set of the block alone: no wildcard above it). */
static int emit_block(const struct dataset *ds, const struct sset_vals *vals, int v6,
		      u128 blk, const struct bents *be, ds_emit_fn emit, void *arg)
{
	struct seg_vec4 v4 = { 0 };
	struct seg_vec6 v6v = { 0 };
	struct ipdata ip;
	struct dataset tmp = { .type = &ds_ip4set, .ttl = ds->ttl };
	uint32_t *raw = NULL, *seen = NULL;
	size_t nseen = 0;
	u128 lo, hi;
	int rc;

	block_range(v6, blk, &lo, &hi);
	tmp.vt = vtab_new();
	raw = xreallocarray(NULL, be->n ? be->n : 1, sizeof(*raw));
	seen = xreallocarray(NULL, be->n ? be->n : 1, sizeof(*seen));
	for (size_t i = 0; i < be->n; i++) {
		const struct bent *e = &be->e[i];
		u128 elo = e->addr, ehi = e->addr | ~sset_mask(v6, e->bits);
		uint32_t r = 0;
		int excl = e->vid == SSET_EXCL;

		if (!v6)
			ehi &= 0xffffffffu;
		if (elo < lo)
			elo = lo;
		if (ehi > hi)
			ehi = hi;
		if (!excl) {
			size_t k;

			for (k = 0; k < nseen && seen[k] != e->vid; k++)
				;
			if (k == nseen) {
				struct value_raw vr;
				const struct value *v = sset_val_get(vals, e->vid);

				memcpy(vr.a, v->a, 4);
				str_copy(vr.txt, sizeof(vr.txt), sset_val_raw(vals, e->vid));
				seen[nseen] = e->vid;
				raw[nseen++] = vtab_add_raw(tmp.vt, &vr);
			}
			r = raw[k];
		}
		if (v6)
			segvec6_push(&v6v, elo, ehi, r, 128 - e->bits, excl);
		else
			segvec4_push(&v4, (uint32_t)elo, (uint32_t)ehi, r, 32 - e->bits, excl);
	}
	{
		struct value_vars none = { { 0 } };

		vtab_finish(tmp.vt, &none);
	}
	ip.m4 = segmap4_build(&v4, tmp.vt, 0);
	ip.m6 = segmap6_build(&v6v, tmp.vt, 0);
	tmp.data = &ip;
	rc = ds_ip_dump(&tmp, emit, arg);
	segmap4_free(ip.m4);
	segmap6_free(ip.m6);
	segvec4_free(&v4);
	segvec6_free(&v6v);
	vtab_free(tmp.vt);
	free(raw);
	free(seen);
	return rc;
}

static int u128_cmp(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

/* Blocks a key meets, appended to *blk (n, cap); -1 when too many. */
static int key_blocks(int v6, unsigned bits, u128 addr, u128 **blk, size_t *n,
		      size_t *cap, size_t max)
{
	unsigned rb = v6 ? REGION6 : REGION4, total = v6 ? 128 : 32;
	u128 first = addr >> (total - rb), count = bits >= rb ? 1 : (u128)1 << (rb - bits);

	if (count > max || *n + count > max)
		return -1;
	for (u128 i = 0; i < count; i++) {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*blk = xreallocarray(*blk, *cap, sizeof(**blk));
		}
		(*blk)[(*n)++] = first + i;
	}
	return 0;
}

struct blkscan {
	int v6;
	u128 *b;
	size_t n, cap;
};

static int blkscan_cb(void *arg, const struct sset_key *k, uint32_t vid)
{
	struct blkscan *s = arg;

	key_blocks(s->v6, k->bits, k->addr, &s->b, &s->n, &s->cap, SIZE_MAX);
	return 0;
}

static size_t uniq(u128 *b, size_t n)
{
	size_t k = 0;

	if (!n)
		return 0;
	qsort(b, n, sizeof(*b), u128_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || b[k - 1] != b[i])
			b[k++] = b[i];
	return k;
}

/* A temporary dnset of the names, for their transfer (rbldnsd's rules,
 * as ds_dnset writes them). */
struct namefeed {
	const struct sset_vals *vals;
	const struct ds_type *t;
	void *b;
	struct ds_ctx *c;
};

static int name_line(void *arg, const struct sset_key *k, uint32_t vid)
{
	struct namefeed *f = arg;
	uint8_t w[DNAME_MAXLEN];
	char text[DNAME_TEXT_MAX], line[DNAME_TEXT_MAX + 300];
	int n = dname_reverse(k->name, k->namelen, w);

	if (n < 0 || dname_to_text(w, (size_t)n, text, sizeof(text)) < 0)
		return 0;
	if (vid == SSET_EXCL) {
		snprintf(line, sizeof(line), "!%s%s", k->kind == SSET_WILD ? "*." : "", text);
	} else {
		const struct value *v = sset_val_get(f->vals, vid);

		snprintf(line, sizeof(line), "%s%s :%u.%u.%u.%u:%s",
			 k->kind == SSET_WILD ? "*." : "", text, v->a[0], v->a[1], v->a[2],
			 v->a[3], sset_val_raw(f->vals, vid));
	}
	return f->t->line(f->b, line, f->c) < 0 ? -1 : 0;
}

static int dump_names(const struct dataset *ds, ds_emit_fn emit, void *arg)
{
	const struct sdata *d = ds->data;
	struct ds_errs errs = { 0 };
	struct ds_ctx c = { .ttl = ds->ttl, .errs = &errs, .file = "store" };
	struct namefeed f = { .vals = d->set.vals, .t = &ds_dnset, .c = &c };
	struct dataset tmp = { .type = &ds_dnset, .ttl = ds->ttl };
	int rc = -1;

	tmp.vt = c.vt = vtab_new();
	value_default(&c.def);
	f.b = ds_dnset.begin(&c);
	if (sset_walk_names(&d->set, name_line, &f)) {
		ds_dnset.end(f.b, NULL);
		goto out;
	}
	vtab_finish(tmp.vt, &c.vars);
	tmp.data = ds_dnset.end(f.b, &c);
	if (!tmp.data)
		goto out;
	rc = ds_dnset.dump(&tmp, emit, arg);
	ds_dnset.free(tmp.data);
out:
	vtab_free(tmp.vt);
	value_vars_clear(&c.vars);
	return rc;
}

static int dump_family(const struct dataset *ds, int v6, ds_emit_fn emit, void *arg)
{
	const struct sdata *d = ds->data;
	struct blkscan s = { .v6 = v6 };
	struct bents be = { 0 };
	int rc = 0;

	sset_walk_ip(&d->set, v6, 0, v6 ? ~(u128)0 : 0xffffffffu, blkscan_cb, &s);
	s.n = uniq(s.b, s.n);
	for (size_t i = 0; i < s.n && !rc; i++) {
		u128 lo, hi;

		block_range(v6, s.b[i], &lo, &hi);
		be.n = 0;
		sset_walk_ip(&d->set, v6, lo, hi, bent_cb, &be);
		rc = emit_block(ds, d->set.vals, v6, s.b[i], &be, emit, arg);
	}
	free(s.b);
	free(be.e);
	return rc;
}

int ds_store_dump(const struct dataset *ds, ds_emit_fn emit, void *arg)
{
	if (dump_family(ds, 0, emit, arg) || dump_family(ds, 1, emit, arg))
		return -1;
	return dump_names(ds, emit, arg);
}

/* ---- IXFR ---- */

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c;

	if (x->olen != y->olen)
		return x->olen < y->olen ? -1 : 1;
	if ((c = memcmp(x->owner, y->owner, x->olen)))
		return c;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->rdlen != y->rdlen)
		return x->rdlen < y->rdlen ? -1 : 1;
	return memcmp(x->rd, y->rd, x->rdlen);
}

/* Undo the changes h[0..n) (newest last) on the entries of one block. */
static void undo(struct bents *be, const struct hent *h, size_t n, int v6, u128 lo, u128 hi)
{
	for (size_t i = n; i-- > 0;) {
		const struct hent *e = &h[i];
		u128 elo = e->addr, ehi = e->addr | ~sset_mask(v6, e->bits);
		size_t k;

		if (e->kind != (v6 ? SSET_IP6 : SSET_IP4) || ehi < lo || elo > hi)
			continue;
		for (k = 0; k < be->n; k++)
			if (be->e[k].bits == e->bits && be->e[k].addr == e->addr)
				break;
		if (e->old == SSET_NONE) {
			if (k < be->n)
				be->e[k] = be->e[--be->n];
			continue;
		}
		if (k == be->n) {
			if (be->n == be->cap) {
				be->cap = be->cap ? be->cap * 2 : 64;
				be->e = xreallocarray(be->e, be->cap, sizeof(*be->e));
			}
			be->n++;
		}
		be->e[k] = (struct bent){ e->bits, e->addr, e->old };
	}
}

static void rec_push(struct recs *rs, const struct rec *r)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->r = xreallocarray(rs->r, rs->cap, sizeof(*rs->r));
	}
	rs->r[rs->n++] = *r;
}

/* Records in a and not in b (both sorted) onto out. */
static void rec_minus(const struct recs *a, const struct recs *b, struct recs *out)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		int c = 1;

		while (j < b->n && (c = rec_cmp(&b->r[j], &a->r[i])) < 0)
			j++;
		if (j < b->n && c == 0)
			continue;
		rec_push(out, &a->r[i]);
	}
}

/* The differences of every touched block, one block at a time (a block
 * may hold many entries; only what differs is kept). */
static int diff_family(const struct dataset *ds, int v6, const struct hent *h, size_t n,
		       struct recs *del, struct recs *add)
{
	const struct sdata *d = ds->data;
	u128 *blk = NULL;
	size_t nb = 0, cb = 0;
	struct bents be = { 0 };
	struct recs then = { 0 }, now = { 0 };
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (h[i].kind == (v6 ? SSET_IP6 : SSET_IP4) &&
		    key_blocks(v6, h[i].bits, h[i].addr, &blk, &nb, &cb, DIFF_REGIONS_MAX)) {
			rc = 1;
			goto out;
		}
	nb = nb ? uniq(blk, nb) : 0;
	for (size_t i = 0; i < nb; i++) {
		u128 lo, hi;

		block_range(v6, blk[i], &lo, &hi);
		be.n = then.n = now.n = 0;
		sset_walk_ip(&d->set, v6, lo, hi, bent_cb, &be);
		emit_block(ds, d->set.vals, v6, blk[i], &be, rec_cb, &now);
		undo(&be, h, n, v6, lo, hi);
		emit_block(ds, d->set.vals, v6, blk[i], &be, rec_cb, &then);
		if (then.n)
			qsort(then.r, then.n, sizeof(*then.r), rec_cmp);
		if (now.n)
			qsort(now.r, now.n, sizeof(*now.r), rec_cmp);
		rec_minus(&then, &now, del);
		rec_minus(&now, &then, add);
	}
out:
	free(blk);
	free(be.e);
	free(then.r);
	free(now.r);
	return rc;
}

static int emit_recs(const struct recs *rs, ds_emit_fn emit, void *arg)
{
	for (size_t i = 0; i < rs->n; i++)
		if (emit(arg, rs->r[i].owner, rs->r[i].olen, rs->r[i].type, rs->r[i].ttl,
			 rs->r[i].rd, rs->r[i].rdlen))
			return -1;
	return 0;
}

int ds_store_diff(const struct dataset *ds, uint32_t from, ds_emit_fn emit,
		  int (*between)(void *arg), void *arg)
{
	const struct sdata *d = ds->data;
	struct szone *z = d->z;
	struct hent *h = NULL;
	struct recs del = { 0 }, add = { 0 };
	size_t n = 0, i;
	int rc = 1;

	pthread_mutex_lock(&z->lock);
	if ((int32_t)(from - z->hist_from) >= 0 && (int32_t)(d->serial - from) > 0) {
		h = xreallocarray(NULL, z->nh ? z->nh : 1, sizeof(*h));
		for (i = 0; i < z->nh; i++)
			if ((int32_t)(z->h[i].serial - from) > 0 &&
			    (int32_t)(z->h[i].serial - d->serial) <= 0)
				h[n++] = z->h[i];
		rc = 0;
	}
	pthread_mutex_unlock(&z->lock);
	for (i = 0; !rc && i < n; i++)
		if (h[i].kind == SSET_NAME || h[i].kind == SSET_WILD)
			rc = 1;         /* names: AXFR (the dnset rules span the tree) */
	if (!rc && (diff_family(ds, 0, h, n, &del, &add) ||
		    diff_family(ds, 1, h, n, &del, &add)))
		rc = 1;
	if (!rc)
		rc = emit_recs(&del, emit, arg) || between(arg) || emit_recs(&add, emit, arg)
		     ? -1 : 0;
	free(h);
	free(del.r);
	free(add.r);
	return rc;
}
