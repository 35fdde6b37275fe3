/*
 * ds_ip.c - shared code of the IP dataset types; see ds_ip.h.
 *
 * SECURITY: sees parsed entries and parsed queries only; the zone
 * transfer writes names into fixed buffers of checked size.
 */
#include "ds_ip.h"
#include "answer.h"
#include "ipaddr.h"
#include "util.h"

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
		return vtab_add_raw(c->vt, &c->def);
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
 * nibbles for IPv6). A node whose whole range has one result becomes a
 * wildcard "*.prefix" (or the exact name at full depth); a node with
 * several results is split into its children. Since no wildcard is ever
 * emitted above a split node, DNS wildcard rules give every address the
 * same answer as the map. TXT "$" is the address for exact names and
 * "prefix/len" for wildcards, as a static zone cannot do better.
 */
struct dumpctx {
	const struct dataset *ds;
	ds_emit_fn emit;
	void *arg;
	int v6;
	const void *map;
};

static unsigned map_values(const struct dumpctx *x, segres_t r, uint32_t *one,
			   const uint32_t **ids)
{
	return x->v6 ? segmap6_values(x->map, r, one, ids)
		     : segmap4_values(x->map, r, one, ids);
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

static int emit_node(struct dumpctx *x, u128 prefix, int depth, int wild,
		     segres_t r)
{
	uint8_t owner[256], txt[VALUE_TXT_MAX + 1];
	size_t on = node_name(x->v6, prefix, depth, wild, owner);
	char sub[64];
	int sl, bits = x->v6 ? depth * 4 : depth * 8;
	const uint32_t *ids;
	uint32_t one;
	unsigned n = map_values(x, r, &one, &ids);

	if (x->v6) {
		uint8_t a[16];

		ip6_from_u128(prefix, a);
		sl = ip6_format(a, sub);
	} else {
		sl = ip4_format((uint32_t)prefix, sub);
	}
	if (wild)
		sl += snprintf(sub + sl, sizeof(sub) - (size_t)sl, "/%d", bits);
	for (unsigned i = 0; i < n; i++) {
		const struct value *v = vtab_get(x->ds->vt, ids[i]);
		size_t tl = value_expand(v, sub, (size_t)sl, txt + 1);

		if (x->emit(x->arg, owner, on, 1 /* A */, x->ds->ttl, v->a, 4))
			return -1;
		txt[0] = (uint8_t)tl;
		if (tl && x->emit(x->arg, owner, on, 16 /* TXT */, x->ds->ttl,
				  txt, tl + 1))
			return -1;
	}
	return 0;
}

/* Segment access, uniform over both widths. */
static size_t seg_count(const struct dumpctx *x)
{
	return x->v6 ? segmap6_count(x->map) : segmap4_count(x->map);
}

struct segcopy {
	u128 *lo, *hi;
	segres_t *r;
	size_t n;
};

static int copy4(void *arg, uint32_t lo, uint32_t hi, segres_t r)
{
	struct segcopy *s = arg;

	s->lo[s->n] = lo;
	s->hi[s->n] = hi;
	s->r[s->n++] = r;
	return 0;
}

static int copy6(void *arg, u128 lo, u128 hi, segres_t r)
{
	struct segcopy *s = arg;

	s->lo[s->n] = lo;
	s->hi[s->n] = hi;
	s->r[s->n++] = r;
	return 0;
}

/* Emit node [prefix, depth] given the segments [i, j) that meet it. */
static int dump_node(struct dumpctx *x, const struct segcopy *s, size_t i,
		     size_t j, u128 prefix, int depth)
{
	int maxd = x->v6 ? 32 : 4, lbits = x->v6 ? 4 : 8;
	int total = x->v6 ? 128 : 32;
	u128 span = depth == 0 ? ~(u128)0 >> (128 - total)
			       : ((u128)1 << (total - depth * lbits)) - 1;
	u128 last = prefix + span;

	if (i >= j)
		return 0;
	if (j - i == 1 && s->lo[i] <= prefix && s->hi[i] >= last)
		return emit_node(x, prefix, depth, depth < maxd, s->r[i]);
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
		if (dump_node(x, s, k, e, child, depth + 1))
			return -1;
		if (cend >= last)
			break;
		pos = cend + 1;
		/* the last segment may go on into the next child */
		k = s->hi[e - 1] > cend ? e - 1 : e;
	}
	return 0;
}

static int dump_map(struct dumpctx *x)
{
	size_t n = seg_count(x);
	struct segcopy s = { 0 };
	int rc;

	if (!n)
		return 0;
	s.lo = xreallocarray(NULL, n, sizeof(u128));
	s.hi = xreallocarray(NULL, n, sizeof(u128));
	s.r = xreallocarray(NULL, n, sizeof(segres_t));
	if (x->v6)
		segmap6_walk(x->map, copy6, &s);
	else
		segmap4_walk(x->map, copy4, &s);
	rc = dump_node(x, &s, 0, n, 0, 0);
	free(s.lo);
	free(s.hi);
	free(s.r);
	return rc;
}

int ds_ip_dump(const struct dataset *ds, ds_emit_fn emit, void *arg)
{
	const struct ipdata *d = ds->data;
	struct dumpctx x = { .ds = ds, .emit = emit, .arg = arg };

	x.map = d->m4;
	if (dump_map(&x))
		return -1;
	x.v6 = 1;
	x.map = d->m6;
	return dump_map(&x);
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
