/*
 * ds_ip.c - shared code of the IP dataset types; see ds_ip.h.
 *
 * SECURITY: sees parsed entries and parsed queries only; the zone
 * transfer writes names into fixed buffers of checked size.
 */
#include "serve/ds_ip.h"
#include "serve/answer.h"
#include "base/ipaddr.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *ds_ip_begin(struct ds_ctx *c)
{
	struct ipbuild *b = xcalloc(1, sizeof(*b));

	return b;
}

void *ds_ip_end(void *bp, struct ds_ctx *c)
{
	struct ipbuild *b = bp;
	struct ipdata *d;

	if (!c) {
		segvec4_free(&b->v4);
		segvec6_free(&b->v6);
		free(b);
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->m4 = segmap4_build(&b->v4, c->vt, b->keep_first);
	d->m6 = segmap6_build(&b->v6, c->vt, b->keep_first);
	free(b);
	return d;
}

int ds_ip_excl(char **s)
{
	if (**s != '!')
		return 0;
	(*s)++;
	while (**s == ' ' || **s == '\t')
		(*s)++;
	return 1;
}

int ds_ip_tail_ok(const char *s)
{
	return !*s || *s == ' ' || *s == '\t' || *s == '#' || *s == ';' || *s == ':';
}

int64_t ds_ip_value(const char *s, struct ds_ctx *c)
{
	struct value_raw v;
	const char *err;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '#' || *s == ';')
		return ds_default_id(c);
	if (value_parse(s, &c->def, &v, &err)) {
		ds_warn(c, "%s", err);
		return -1;
	}
	return vtab_add_raw(c->vt, &v);
}

int ds_ip_push4(struct ipbuild *b, struct ds_ctx *c, uint32_t lo, uint32_t hi,
		uint32_t val, unsigned prio, int excl)
{
	if (segvec4_push(&b->v4, lo, hi, val, prio, excl) == 0)
		return 0;
	log_err("%s:%u: too many distinct values in one dataset", c->file, c->line);
	return -1;
}

int ds_ip_push6(struct ipbuild *b, struct ds_ctx *c, u128 lo, u128 hi,
		uint32_t val, unsigned prio, int excl)
{
	if (segvec6_push(&b->v6, lo, hi, val, prio, excl) == 0)
		return 0;
	log_err("%s:%u: too many distinct values in one dataset", c->file, c->line);
	return -1;
}

static void add_values(const struct dataset *ds, const uint32_t *ids, unsigned n,
		       unsigned want, const char *subst, size_t sl,
		       struct answer *ans)
{
	for (unsigned i = 0; i < n; i++)
		answer_a_txt(ans, want, vtab_get(ds->vt, ids[i]), ds->ttl, subst, sl);
}

int ds_ip_query(const struct dataset *ds, const struct qinfo *qi,
		struct answer *ans)
{
	const struct ipdata *d = ds->data;
	const uint32_t *ids;
	uint32_t one;
	unsigned n;
	char sub[48];
	int sl = 0;
	segres_t r;

	if (qi->ip4_ok && (r = segmap4_find(d->m4, qi->ip4)) != 0) {
		n = segmap4_values(d->m4, r, &one, &ids);
		if (qi->want & Q_TXT)
			sl = ip4_format(qi->ip4, sub);
	} else if (qi->ip6_ok && (r = segmap6_find(d->m6, ip6_to_u128(qi->ip6))) != 0) {
		n = segmap6_values(d->m6, r, &one, &ids);
		if (qi->want & Q_TXT)
			sl = ip6_format(qi->ip6, sub);
	} else {
		return 0;
	}
	add_values(ds, ids, n, qi->want, sub, (size_t)sl, ans);
	return 1;
}

int ds_ip_has_below(const struct dataset *ds, const struct qinfo *qi)
{
	const struct ipdata *d = ds->data;

	if (qi->ip4_pfx_bits > 0)
		return segmap4_any(d->m4, qi->ip4, qi->ip4 | ~ip4_mask(qi->ip4_pfx_bits));
	if (qi->ip6_pfx_bits > 0) {
		u128 p = ip6_to_u128(qi->ip6);

		return segmap6_any(d->m6, p, p | ~ip6_mask(qi->ip6_pfx_bits));
	}
	return 0;
}

/*
 * Zone transfer. The address space is a tree of labels (octets for IPv4,
 * nibbles for IPv6). The answer at an address is what every IP dataset of
 * the zone gives there; a node whose whole range has one answer becomes a
 * wildcard "*.prefix" (or the exact name at full depth); a node with
 * several answers is split into its children. Since no wildcard is ever
 * emitted above a split node, DNS wildcard rules give every address the
 * zone's answer - also when several datasets of a zone overlap. TXT "$"
 * is the address for exact names and "prefix/len" for wildcards, as a
 * static zone cannot do better.
 */

/* One dataset's result over a merged segment. */
struct pair {
	unsigned ds;
	segres_t r;
};

/* Segments of the merged view: [lo, hi] has pairs[first .. first+n). */
struct merged {
	u128 *lo, *hi;
	uint32_t *first, *n;
	size_t count, cap;
	struct pair *pairs;
	size_t npairs, pcap;
};

struct dumpctx {
	const struct dataset *const *ds;
	unsigned nds;
	ds_emit_fn emit;
	void *arg;
	int v6;
	struct merged m;
};

static const void *map_of(const struct dumpctx *x, unsigned i)
{
	const struct ipdata *d = x->ds[i]->data;

	return x->v6 ? (const void *)d->m6 : (const void *)d->m4;
}

static segres_t find_in(const struct dumpctx *x, unsigned i, u128 a)
{
	return x->v6 ? segmap6_find(map_of(x, i), a)
		     : segmap4_find(map_of(x, i), (uint32_t)a);
}

/* Collect every segment boundary of every dataset. */
struct bounds {
	u128 *b;
	size_t n, cap;
};

static void add_bound(struct bounds *bs, u128 v)
{
	if (bs->n == bs->cap) {
		bs->cap = bs->cap ? bs->cap * 2 : 256;
		bs->b = xreallocarray(bs->b, bs->cap, sizeof(*bs->b));
	}
	bs->b[bs->n++] = v;
}

static int bound4(void *arg, uint32_t lo, uint32_t hi, segres_t r)
{
	add_bound(arg, lo);
	add_bound(arg, (u128)hi + 1);
	return 0;
}

static int bound6(void *arg, u128 lo, u128 hi, segres_t r)
{
	add_bound(arg, lo);
	if (hi != ~(u128)0)
		add_bound(arg, hi + 1);
	return 0;
}

static int cmp_u128(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

static int same_pairs(const struct merged *m, size_t seg, const struct pair *p,
		      unsigned n)
{
	return m->n[seg] == n &&
	       !memcmp(m->pairs + m->first[seg], p, n * sizeof(*p));
}

/* Append [lo, hi] with pairs p (merging with the previous segment when it
 * is adjacent and has the same pairs). */
static void add_segment(struct merged *m, u128 lo, u128 hi, const struct pair *p,
			unsigned n)
{
	if (m->count && m->hi[m->count - 1] + 1 == lo &&
	    same_pairs(m, m->count - 1, p, n)) {
		m->hi[m->count - 1] = hi;
		return;
	}
	if (m->count == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->lo = xreallocarray(m->lo, m->cap, sizeof(*m->lo));
		m->hi = xreallocarray(m->hi, m->cap, sizeof(*m->hi));
		m->first = xreallocarray(m->first, m->cap, sizeof(*m->first));
		m->n = xreallocarray(m->n, m->cap, sizeof(*m->n));
	}
	while (m->npairs + n > m->pcap) {
		m->pcap = m->pcap ? m->pcap * 2 : 256;
		m->pairs = xreallocarray(m->pairs, m->pcap, sizeof(*m->pairs));
	}
	memcpy(m->pairs + m->npairs, p, n * sizeof(*p));
	m->lo[m->count] = lo;
	m->hi[m->count] = hi;
	m->first[m->count] = (uint32_t)m->npairs;
	m->n[m->count] = n;
	m->npairs += n;
	m->count++;
}

/* The merged view of all datasets of one address family. */
static void merge(struct dumpctx *x)
{
	struct bounds bs = { 0 };
	struct pair p[64];
	u128 maxkey = x->v6 ? ~(u128)0 : 0xffffffffu;

	for (unsigned i = 0; i < x->nds; i++) {
		if (x->v6)
			segmap6_walk(map_of(x, i), bound6, &bs);
		else
			segmap4_walk(map_of(x, i), bound4, &bs);
	}
	if (!bs.n)
		return;
	qsort(bs.b, bs.n, sizeof(*bs.b), cmp_u128);
	for (size_t k = 0; k < bs.n; k++) {
		u128 lo = bs.b[k], hi;
		unsigned n = 0;
		size_t nx = k + 1;

		if ((k && lo == bs.b[k - 1]) || lo > maxkey)
			continue;
		while (nx < bs.n && bs.b[nx] == lo)
			nx++;
		hi = nx < bs.n ? bs.b[nx] - 1 : maxkey;
		if (hi > maxkey)
			hi = maxkey;
		for (unsigned i = 0; i < x->nds && n < ARRAY_SIZE(p); i++) {
			segres_t r = find_in(x, i, lo);

			if (r)
				p[n++] = (struct pair){ i, r };
		}
		if (n)
			add_segment(&x->m, lo, hi, p, n);
	}
	free(bs.b);
}

/* Owner name for the node: labels of the prefix reversed, maybe "*". */
static size_t node_name(int v6, u128 prefix, int depth, int wild, uint8_t *out)
{
	size_t n = 0;

	if (wild) {
		out[n++] = 1;
		out[n++] = '*';
	}
	for (int i = depth - 1; i >= 0; i--) {
		unsigned v;

		if (v6) {
			v = (unsigned)(prefix >> (124 - 4 * i)) & 15;
			out[n++] = 1;
			out[n++] = (uint8_t)"0123456789abcdef"[v];
		} else {
			char t[4];
			int k;

			v = (unsigned)(prefix >> (24 - 8 * i)) & 255;
			k = snprintf(t, sizeof(t), "%u", v);
			out[n++] = (uint8_t)k;
			memcpy(out + n, t, (size_t)k);
			n += (size_t)k;
		}
	}
	return n;
}

static int emit_values(struct dumpctx *x, const uint8_t *owner, size_t on,
		       const struct pair *p, const char *sub, size_t sl)
{
	const struct dataset *ds = x->ds[p->ds];
	uint8_t txt[VALUE_TXT_MAX + 1];
	const uint32_t *ids;
	uint32_t one;
	unsigned n = x->v6 ? segmap6_values(map_of(x, p->ds), p->r, &one, &ids)
			   : segmap4_values(map_of(x, p->ds), p->r, &one, &ids);

	for (unsigned i = 0; i < n; i++) {
		const struct value *v = vtab_get(ds->vt, ids[i]);
		size_t tl = value_expand(v, sub, sl, txt + 1);

		if (x->emit(x->arg, owner, on, 1 /* A */, ds->ttl, v->a, 4))
			return -1;
		txt[0] = (uint8_t)tl;
		if (tl && x->emit(x->arg, owner, on, 16 /* TXT */, ds->ttl,
				  txt, tl + 1))
			return -1;
	}
	return 0;
}

static int emit_node(struct dumpctx *x, u128 prefix, int depth, int wild,
		     size_t seg)
{
	uint8_t owner[256];
	size_t on = node_name(x->v6, prefix, depth, wild, owner);
	char sub[64];
	int sl;

	if (x->v6) {
		uint8_t a[16];

		ip6_from_u128(prefix, a);
		sl = ip6_format(a, sub);
	} else {
		sl = ip4_format((uint32_t)prefix, sub);
	}
	if (wild)
		sl += snprintf(sub + sl, sizeof(sub) - (size_t)sl, "/%d",
			       x->v6 ? depth * 4 : depth * 8);
	for (uint32_t k = 0; k < x->m.n[seg]; k++)
		if (emit_values(x, owner, on, &x->m.pairs[x->m.first[seg] + k],
				sub, (size_t)sl))
			return -1;
	return 0;
}

/* Emit node [prefix, depth] given the segments [i, j) that meet it. */
static int dump_node(struct dumpctx *x, size_t i, size_t j, u128 prefix,
		     int depth)
{
	const struct merged *s = &x->m;
	int maxd = x->v6 ? 32 : 4, lbits = x->v6 ? 4 : 8;
	int total = x->v6 ? 128 : 32;
	u128 span = depth == 0 ? ~(u128)0 >> (128 - total)
			       : ((u128)1 << (total - depth * lbits)) - 1;
	u128 last = prefix + span;

	if (i >= j)
		return 0;
	if (j - i == 1 && s->lo[i] <= prefix && s->hi[i] >= last)
		return emit_node(x, prefix, depth, depth < maxd, i);
	if (depth == maxd)
		return 0;
	u128 step = (u128)1 << (total - (depth + 1) * lbits);
	u128 pos = prefix;
	size_t k = i;

	while (k < j) {
		u128 from = s->lo[k] > pos ? s->lo[k] : pos;
		u128 child = from & ~(step - 1), cend = child + step - 1;
		size_t e = k;

		if (from > last)
			break;
		while (e < j && s->lo[e] <= cend)
			e++;
		if (dump_node(x, k, e, child, depth + 1))
			return -1;
		if (cend >= last)
			break;
		pos = cend + 1;
		/* the last segment may go on into the next child */
		k = s->hi[e - 1] > cend ? e - 1 : e;
	}
	return 0;
}

static void merged_free(struct merged *m)
{
	free(m->lo);
	free(m->hi);
	free(m->first);
	free(m->n);
	free(m->pairs);
	memset(m, 0, sizeof(*m));
}

int ds_ip_dump_zone(const struct dataset *const *ds, unsigned nds,
		    ds_emit_fn emit, void *arg)
{
	struct dumpctx x = { .ds = ds, .nds = nds, .emit = emit, .arg = arg };
	int rc = 0;

	for (x.v6 = 0; x.v6 <= 1 && !rc; x.v6++) {
		merge(&x);
		rc = dump_node(&x, 0, x.m.count, 0, 0);
		merged_free(&x.m);
	}
	return rc;
}

int ds_ip_dump(const struct dataset *ds, ds_emit_fn emit, void *arg)
{
	return ds_ip_dump_zone(&ds, 1, emit, arg);
}

void ds_ip_free(void *data)
{
	struct ipdata *d = data;

	if (!d)
		return;
	segmap4_free(d->m4);
	segmap6_free(d->m6);
	free(d);
}

void ds_ip_stats(const void *data, size_t *entries, size_t *bytes)
{
	const struct ipdata *d = data;

	*entries = segmap4_count(d->m4) + segmap6_count(d->m6);
	*bytes = segmap4_bytes(d->m4) + segmap6_bytes(d->m6);
}
