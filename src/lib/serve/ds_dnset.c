/*
 * ds_dnset.c - dnset: a set of domain names, maybe wildcarded, each with
 * an A+TXT value (rbldnsd's dnset).
 *
 * Lines are "name", "*.name" (the subdomains of name only) or ".name"
 * (name and its subdomains), each with an optional value; a leading "!"
 * makes the entry an exclusion. Names are relative to the zone apex and
 * lowercased. A query is answered as rbldnsd_dnset.c answers it: by the
 * plain entries of exactly its name if there are any, else by the
 * wildcard entries of its nearest proper ancestor that has some (a
 * "*.x" entry covers every depth below x). All entries of the group that
 * matches answer, each with its value; an exclusion in the group means
 * "not listed", and the search stops there.
 *
 * Storage: one array of entries sorted by (name in reversed-label form,
 * plain before wildcard, exclusion first, value id), with every name once
 * in one pool. A group of entries with the same name and kind is
 * contiguous; an excluded group is a single entry. Two hash tables of
 * entry indexes find a group, and whether a name has listed entries below
 * it, in a probe or two; the sorted order serves the zone transfer, which
 * needs ancestors before descendants.
 *
 * SECURITY: line() parses operator data (names capped at 255 bytes,
 * labels at 63, by dname.c). query() and has_below() read a query name
 * that the packet reader has bounded, use only stack buffers, and never
 * allocate.
 */
#define _GNU_SOURCE             /* qsort_r */
#include "serve/dataset.h"
#include "serve/answer.h"
#include "base/dname.h"
#include "base/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define E_WILD 1u               /* "*.name": covers the subdomains of name */
#define E_EXCL 2u               /* exclusion */

#define T_A 1
#define T_TXT 16
#define T_HINFO 13

struct ent {
	uint32_t off;           /* reversed name in the pool */
	uint32_t val;           /* value id (unused for exclusions) */
	uint8_t len;            /* bytes of the name */
	uint8_t labels;
	uint8_t flags;          /* E_WILD, E_EXCL */
	uint8_t tag;            /* low byte of the group's hash */
};

/* Open-addressing hash table of entry indexes, at most half full. */
struct htab {
	uint32_t *slot;         /* entry index or HT_EMPTY */
	uint32_t size;
};
#define HT_EMPTY UINT32_MAX

struct dnset {
	struct ent *e;
	uint32_t n;
	uint32_t nlisted;       /* entries that are not exclusions */
	unsigned wild_maxlab;   /* most labels of a wildcard's base name */
	uint8_t *pool;
	size_t plen;
	struct htab groups;     /* first entry of each (name, kind) group */
	struct htab below;      /* per name with listed entries strictly
				 * below it, one of those entries */
};

struct builder {
	struct ent *e;
	size_t n, cap;
	uint8_t *pool;
	size_t plen, pcap;
};

static char *skip_blanks(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static void *dnset_begin(struct ds_ctx *c)
{
	return xcalloc(1, sizeof(struct builder));
}

/* Append one entry; -1 (after a message) when the dataset is too big. */
static int add_ent(struct builder *b, struct ds_ctx *c, uint32_t off,
		   size_t len, int labels, unsigned flags, uint32_t val)
{
	if (b->n >= UINT32_MAX - 1) {
		ds_warn(c, "too many dnset entries");
		return -1;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->e = xreallocarray(b->e, b->cap, sizeof(*b->e));
	}
	b->e[b->n++] = (struct ent){ .off = off, .val = val, .len = (uint8_t)len,
				     .labels = (uint8_t)labels, .flags = (uint8_t)flags };
	return 0;
}

/* Copy a reversed name into the builder pool; returns its offset in
 * *off, or -1 when the pool would pass 4 GiB. */
static int add_name(struct builder *b, struct ds_ctx *c, const uint8_t *rev,
		    size_t len, uint32_t *off)
{
	if (b->plen + len > UINT32_MAX) {
		ds_warn(c, "dnset names exceed 4 GiB");
		return -1;
	}
	while (b->plen + len > b->pcap) {
		b->pcap = b->pcap ? b->pcap * 2 : 64 * 1024;
		b->pool = xrealloc(b->pool, b->pcap);
	}
	memcpy(b->pool + b->plen, rev, len);
	*off = (uint32_t)b->plen;
	b->plen += len;
	return 0;
}

/* The value after the name: none or a comment means the default (as
 * rbldnsd_dnset.c:121). Returns 0 with the raw id, or -1 (warned). */
static int parse_value(char *s, struct ds_ctx *c, uint32_t *raw_id)
{
	struct value_raw v;
	const char *err;

	s = skip_blanks(s);
	if (!*s || *s == '#' || *s == ';') {
		*raw_id = ds_default_id(c);
		return 0;
	}
	if (value_parse(s, &c->def, &v, &err)) {
		ds_warn(c, "%s in value \"%.40s\"", err, s);
		return -1;
	}
	*raw_id = vtab_add_raw(c->vt, &v);
	return 0;
}

static int dnset_line(void *bp, char *s, struct ds_ctx *c)
{
	struct builder *b = bp;
	uint8_t wire[DNAME_MAXLEN], rev[DNAME_MAXLEN];
	unsigned flags = 0, both = 0;
	uint32_t val = 0, off;
	char *name, *rest;
	int n, labels;

	s = skip_blanks(s);
	if (*s == '!') {
		flags |= E_EXCL;
		s = skip_blanks(s + 1);
	}
	if (*s == '.') {
		both = 1;
		s++;
	} else if (s[0] == '*' && s[1] == '.') {
		flags |= E_WILD;
		s += 2;
	}
	name = s;
	rest = s + strcspn(s, " \t");
	if (*rest)
		*rest++ = '\0';
	n = dname_from_text_lc(name, wire);
	if (n < 0 || n == 1) {  /* "." would list the apex: not allowed */
		if (!*name)
			ds_warn(c, "missing domain name");
		else
			ds_warn(c, "invalid domain name \"%.80s\": %s", name,
				n < 0 ? dname_strerror(n) : "the zone apex cannot be listed");
		return 0;
	}
	if (!(flags & E_EXCL) && parse_value(rest, c, &val) < 0)
		return 0;
	labels = dname_labels(wire, (size_t)n);
	n = dname_reverse(wire, (size_t)n, rev);
	if (add_name(b, c, rev, (size_t)n, &off) < 0)
		return -1;
	if (both && add_ent(b, c, off, (size_t)n, labels, flags | E_WILD, val) < 0)
		return -1;
	return add_ent(b, c, off, (size_t)n, labels, flags, val);
}

static int name_eq(const uint8_t *pool, const struct ent *a, const struct ent *b)
{
	return a->len == b->len && !memcmp(pool + a->off, pool + b->off, a->len);
}

static int same_group(const uint8_t *pool, const struct ent *a, const struct ent *b)
{
	return ((a->flags ^ b->flags) & E_WILD) == 0 && name_eq(pool, a, b);
}

/* Sort order: name, plain before wildcard, exclusion first, value. */
static int ent_cmp(const void *x, const void *y, void *arg)
{
	const struct ent *a = x, *b = y;
	const uint8_t *pool = arg;
	int r = dname_rcmp(pool + a->off, a->len, pool + b->off, b->len);

	if (r)
		return r;
	if ((a->flags ^ b->flags) & E_WILD)
		return (a->flags & E_WILD) ? 1 : -1;
	if ((a->flags ^ b->flags) & E_EXCL)
		return (a->flags & E_EXCL) ? -1 : 1;
	return a->val < b->val ? -1 : a->val > b->val;
}

/* Drop repeated values of a group and everything after an exclusion
 * (rbldnsd_dnset.c:176 does the same with rrs_equal). Returns the new
 * count. */
static size_t compact(struct builder *b)
{
	size_t o = 0;

	for (size_t i = 0; i < b->n; i++) {
		const struct ent *last = o ? &b->e[o - 1] : NULL;

		if (last && same_group(b->pool, last, &b->e[i]) &&
		    ((last->flags & E_EXCL) || last->val == b->e[i].val))
			continue;
		b->e[o++] = b->e[i];
	}
	return o;
}

/* Build the final pool with each name once; entries get new offsets. */
static void repool(struct dnset *d, struct builder *b)
{
	uint32_t prev_off = 0, new_off = 0;
	uint8_t prev_len = 0;

	d->pool = xmalloc(b->plen ? b->plen : 1);
	for (uint32_t i = 0; i < d->n; i++) {
		struct ent *e = &d->e[i];

		if (!i || e->len != prev_len ||
		    memcmp(b->pool + e->off, b->pool + prev_off, e->len)) {
			new_off = (uint32_t)d->plen;
			memcpy(d->pool + d->plen, b->pool + e->off, e->len);
			d->plen += e->len;
		}
		prev_off = e->off;
		prev_len = e->len;
		e->off = new_off;
	}
	d->pool = xrealloc(d->pool, d->plen ? d->plen : 1);
}

/*
 * Lookup index. Queries look groups up by (name, kind) and, for
 * has_below(), names that have a listed entry strictly below them; both
 * go through hash tables of entry indexes (binary search over a large
 * array costs a cache miss a step). The tag byte in each group's first
 * entry saves most reads of the pool on collisions.
 */
static uint32_t key_hash(const uint8_t *k, size_t len, unsigned kind)
{
	uint64_t h = 0x243f6a8885a308d3ull ^ (uint64_t)(len << 2 | kind);

	while (len) {
		uint64_t w = 0;
		size_t n = len < 8 ? len : 8;

		memcpy(&w, k, n);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
		k += n;
		len -= n;
	}
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h ^ h >> 32);
}

/* Slot where probing for hash h starts. */
static uint32_t ht_start(const struct htab *t, uint32_t h)
{
	return (uint32_t)(((uint64_t)h * t->size) >> 32);
}

/* Room for n keys at most half full; -1 if that passes 2^32 slots. */
static int ht_alloc(struct htab *t, size_t n)
{
	if (n > (UINT32_MAX - 1) / 2)
		return -1;
	t->size = (uint32_t)(2 * n + 1);
	t->slot = xreallocarray(NULL, t->size, sizeof(*t->slot));
	memset(t->slot, 0xff, (size_t)t->size * sizeof(*t->slot));
	return 0;
}

static void ht_insert(struct htab *t, uint32_t h, uint32_t idx)
{
	uint32_t p = ht_start(t, h);

	while (t->slot[p] != HT_EMPTY)
		p = p + 1 == t->size ? 0 : p + 1;
	t->slot[p] = idx;
}

/* Index every group by the hash of its name and kind. */
static int build_groups(struct dnset *d)
{
	size_t heads = 0;

	for (uint32_t i = 0; i < d->n; i++)
		heads += !i || !same_group(d->pool, &d->e[i - 1], &d->e[i]);
	if (ht_alloc(&d->groups, heads) < 0)
		return -1;
	for (uint32_t i = 0; i < d->n; i++) {
		struct ent *e = &d->e[i];
		uint32_t h;

		if (i && same_group(d->pool, &d->e[i - 1], e))
			continue;
		h = key_hash(d->pool + e->off, e->len, e->flags & E_WILD);
		e->tag = (uint8_t)h;
		ht_insert(&d->groups, h, i);
	}
	return 0;
}

/* Labels the reversed names a and b have in common. */
static unsigned common_labels(const uint8_t *a, size_t alen, const uint8_t *b,
			      size_t blen)
{
	unsigned k = 0;
	size_t i = 0;

	while (i < alen && i < blen && a[i] == b[i] && i + a[i] < alen &&
	       i + a[i] < blen && !memcmp(a + i + 1, b + i + 1, a[i])) {
		i += (size_t)a[i] + 1;
		k++;
	}
	return k;
}

/* Walk the proper ancestors of listed names, each once (sorted order puts
 * a subtree together); count them, or insert them if t is set. */
static size_t walk_below(const struct dnset *d, struct htab *t)
{
	const struct ent *prev = NULL;
	size_t count = 0;

	for (uint32_t i = 0; i < d->n; i++) {
		const struct ent *e = &d->e[i];
		const uint8_t *key = d->pool + e->off;
		unsigned from = 1, k = 0;
		size_t end = 0;

		if (e->flags & E_EXCL)
			continue;
		if (prev) {
			from = common_labels(key, e->len, d->pool + prev->off, prev->len);
			from += from < prev->labels;    /* prev itself is new */
			from = from ? from : 1;
		}
		prev = e;
		while (++k < e->labels) {
			end += (size_t)key[end] + 1;
			if (k < from)
				continue;
			count++;
			if (t)
				ht_insert(t, key_hash(key, end, 2), i);
		}
	}
	return count;
}

static int build_below(struct dnset *d)
{
	if (ht_alloc(&d->below, walk_below(d, NULL)) < 0)
		return -1;
	walk_below(d, &d->below);
	return 0;
}

/* First entry of the group (key, wild), or -1. */
static int64_t find_group(const struct dnset *d, const uint8_t *key,
			  size_t len, unsigned wild)
{
	uint32_t h = key_hash(key, len, wild), p = ht_start(&d->groups, h), i;

	while ((i = d->groups.slot[p]) != HT_EMPTY) {
		const struct ent *e = &d->e[i];

		if (e->tag == (uint8_t)h && (e->flags & E_WILD) == wild &&
		    e->len == len && !memcmp(d->pool + e->off, key, len))
			return i;
		p = p + 1 == d->groups.size ? 0 : p + 1;
	}
	return -1;
}

/* A listed entry lies strictly below key. */
static int find_below(const struct dnset *d, const uint8_t *key, size_t len)
{
	uint32_t p = ht_start(&d->below, key_hash(key, len, 2)), i;

	while ((i = d->below.slot[p]) != HT_EMPTY) {
		const struct ent *e = &d->e[i];

		if (e->len > len && !memcmp(d->pool + e->off, key, len))
			return 1;
		p = p + 1 == d->below.size ? 0 : p + 1;
	}
	return 0;
}

static void dnset_free(void *data);

static void *dnset_end(void *bp, struct ds_ctx *c)
{
	struct builder *b = bp;
	struct dnset *d;

	if (!c) {               /* a failed load: free the builder only */
		free(b->e);
		free(b->pool);
		free(b);
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));

	for (size_t i = 0; i < b->n; i++)
		if (!(b->e[i].flags & E_EXCL))
			b->e[i].val = vtab_map(c->vt, b->e[i].val);
	if (b->n)
		qsort_r(b->e, b->n, sizeof(*b->e), ent_cmp, b->pool);
	d->n = (uint32_t)compact(b);
	d->e = xreallocarray(b->e, d->n ? d->n : 1, sizeof(*d->e));
	repool(d, b);
	free(b->pool);
	free(b);
	for (uint32_t i = 0; i < d->n; i++) {
		if (!(d->e[i].flags & E_EXCL))
			d->nlisted++;
		if ((d->e[i].flags & E_WILD) && d->e[i].labels > d->wild_maxlab)
			d->wild_maxlab = d->e[i].labels;
	}
	if (build_groups(d) < 0 || build_below(d) < 0) {
		log_err("%s: dnset too large to index", c->file);
		dnset_free(d);
		return NULL;
	}
	return d;
}

/* The wildcard group of the nearest ancestor of key with at most from
 * labels (ends[k]: bytes of its first k labels), or -1. */
static int64_t nearest_wild(const struct dnset *d, const uint8_t *key,
			    const uint8_t *ends, unsigned from)
{
	if (from > d->wild_maxlab)
		from = d->wild_maxlab;
	for (unsigned k = from; k >= 1; k--) {
		int64_t i = find_group(d, key, ends[k], E_WILD);

		if (i >= 0)
			return i;
	}
	return -1;
}

/* Reverse the query name into rev (lowercased) and note where each of its
 * first k labels ends in ends[k]. Returns the label count or -1. */
static int rev_query(const struct qinfo *qi, uint8_t *rev, uint8_t *ends)
{
	size_t i = 0;
	int n, k = 0;

	if (qi->rel_len > DNAME_MAXLEN - 1)
		return -1;
	n = dname_reverse(qi->rel, qi->rel_len, rev);
	if (n < 0)
		return -1;
	dname_lower(rev, (size_t)n);
	ends[0] = 0;
	while (i < (size_t)n) {
		i += (size_t)rev[i] + 1;
		ends[++k] = (uint8_t)i;
	}
	return k;
}

/* Text of an entry's name (relative, as rbldnsd's "$"); length or 0. */
static size_t ent_text(const struct dnset *d, const struct ent *e, char *out)
{
	uint8_t wire[DNAME_MAXLEN];
	int n = dname_reverse(d->pool + e->off, e->len, wire);

	if (n < 0 || (n = dname_to_text(wire, (size_t)n, out, DNAME_TEXT_MAX)) < 0) {
		out[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

static int dnset_query(const struct dataset *ds, const struct qinfo *qi,
		       struct answer *ans)
{
	const struct dnset *d = ds->data;
	uint8_t rev[DNAME_MAXLEN], ends[DNAME_MAXLABELS + 1];
	char text[DNAME_TEXT_MAX] = "";
	size_t tlen = 0;
	int64_t i;
	int nl;

	/* the apex itself is never listed (rbldnsd_dnset.c:229) */
	if (!qi->rel_labels || !d->n || (nl = rev_query(qi, rev, ends)) <= 0)
		return 0;
	i = find_group(d, rev, ends[nl], 0);
	if (i < 0)
		i = nearest_wild(d, rev, ends, (unsigned)nl - 1);
	if (i < 0 || (d->e[i].flags & E_EXCL))
		return 0;
	if (qi->want & Q_TXT)
		tlen = ent_text(d, &d->e[i], text);
	for (uint32_t j = (uint32_t)i;
	     j < d->n && same_group(d->pool, &d->e[i], &d->e[j]); j++)
		answer_a_txt(ans, qi->want, vtab_get(ds->vt, d->e[j].val),
			     ds->ttl, text, tlen);
	return 1;
}

/* Some name strictly below the query name is listed: a listed entry lies
 * below it, or its children are covered by a listed wildcard at or above
 * it. This decides NODATA (an empty non-terminal) against NXDOMAIN for a
 * name that is not listed itself, an excluded one included: with
 * "*.example.com" and "!www.example.com", a.www.example.com is listed (a
 * wildcard covers every depth, as in rbldnsd), so www.example.com answers
 * NODATA; rbldnsd's NXDOMAIN there would tell a resolver that caches
 * NXDOMAIN for the subtree (RFC 8020) that a.www.example.com does not
 * exist. Add "!*.www.example.com" and nothing below www is listed: then it
 * is NXDOMAIN. */
static int dnset_has_below(const struct dataset *ds, const struct qinfo *qi)
{
	const struct dnset *d = ds->data;
	uint8_t rev[DNAME_MAXLEN], ends[DNAME_MAXLABELS + 1];
	int64_t w;
	int nl;

	if (!d->nlisted || (nl = rev_query(qi, rev, ends)) < 0)
		return 0;
	if (nl == 0 || find_below(d, rev, ends[nl]))
		return 1;
	w = nearest_wild(d, rev, ends, (unsigned)nl);
	return w >= 0 && !(d->e[w].flags & E_EXCL);
}

/*
 * Zone transfer. A static zone answers by RFC 4592 wildcard rules, which
 * differ from rbldnsd's: a wildcard "*.x" does not cover names below a
 * node that exists in the zone. So the dump makes every node say what
 * rbldnsd would say. Walking the names in order (ancestors first) with,
 * for each depth of the current path, the nearest wildcard group at or
 * above it (eff), every node X - a listed name, a wildcard's base, or an
 * empty non-terminal above one - gets:
 *   - its own values if it has a listed plain group;
 *   - if it has none but the nearest wildcard above it is listed, that
 *     wildcard's values (X exists, so the wildcard would not cover it);
 *   - if its plain group is an exclusion and a listed wildcard above would
 *     cover it, a placeholder HINFO "excluded" "rblkit": the name exists,
 *     with no A or TXT, so the wildcard does not answer for it;
 *   - "*.X" with the values of the nearest wildcard at or above X, if that
 *     is listed, so that X's other children stay covered.
 * TXT "$" is the name of the entry the values come from, as in rbldnsd's
 * dump (rbldnsd_dnset.c:295).
 */
struct dump_st {
	const struct dataset *ds;
	const struct dnset *d;
	ds_emit_fn emit;
	void *arg;
	int64_t eff[DNAME_MAXLABELS + 1];
	uint8_t path[DNAME_MAXLEN];     /* reversed name of the last node */
	uint8_t ends[DNAME_MAXLABELS + 1];
	unsigned depth;
};

static int listed(const struct dnset *d, int64_t i)
{
	return i >= 0 && !(d->e[i].flags & E_EXCL);
}

/* Whether an entry of group g before j already gave the A of v (*dup_a)
 * and the TXT text txt[0..n) (returned), so the zone has no duplicates. */
static int seen_before(struct dump_st *st, uint32_t g, uint32_t j,
		       const char *text, size_t tlen, const uint8_t *txt,
		       size_t n, int *dup_a)
{
	const struct value *v = vtab_get(st->ds->vt, st->d->e[j].val);
	uint8_t other[VALUE_TXT_MAX];
	int dup_t = 0;

	*dup_a = 0;
	for (uint32_t k = g; k < j; k++) {
		const struct value *u = vtab_get(st->ds->vt, st->d->e[k].val);

		*dup_a |= !memcmp(u->a, v->a, 4);
		if (n && !dup_t && value_expand(u, text, tlen, other) == n)
			dup_t = !memcmp(other, txt, n);
	}
	return dup_t;
}

/* Emit A and TXT of every value of group g at owner. */
static int emit_group(struct dump_st *st, const uint8_t *owner, size_t olen,
		      int64_t g)
{
	const struct dnset *d = st->d;
	char text[DNAME_TEXT_MAX];
	uint8_t txt[VALUE_TXT_MAX + 1];
	size_t tlen = ent_text(d, &d->e[g], text);

	for (uint32_t j = (uint32_t)g;
	     j < d->n && same_group(d->pool, &d->e[g], &d->e[j]); j++) {
		const struct value *v = vtab_get(st->ds->vt, d->e[j].val);
		size_t n = value_expand(v, text, tlen, txt + 1);
		int dup_a, dup_t;

		dup_t = seen_before(st, (uint32_t)g, j, text, tlen, txt + 1, n, &dup_a);
		if (!dup_a && st->emit(st->arg, owner, olen, T_A, st->ds->ttl, v->a, 4))
			return -1;
		txt[0] = (uint8_t)n;
		if (n && !dup_t &&
		    st->emit(st->arg, owner, olen, T_TXT, st->ds->ttl, txt, n + 1))
			return -1;
	}
	return 0;
}

/* Records of the node whose reversed name is key[0..len): p its plain
 * group or -1, cover the nearest wildcard above it, eff the nearest at or
 * above it. */
static int emit_node(struct dump_st *st, const uint8_t *key, size_t len,
		     int64_t p, int64_t cover, int64_t eff)
{
	static const uint8_t hinfo[] = "\x08" "excluded" "\x06" "rblkit";
	uint8_t buf[DNAME_MAXLEN + 2], *owner = buf + 2;
	int rc = 0;

	dname_reverse(key, len, owner);
	if (listed(st->d, p))
		rc = emit_group(st, owner, len, p);
	else if (listed(st->d, cover) && p >= 0)
		rc = st->emit(st->arg, owner, len, T_HINFO, st->ds->ttl, hinfo,
			      sizeof(hinfo) - 1);
	else if (listed(st->d, cover))
		rc = emit_group(st, owner, len, cover);
	if (rc || !listed(st->d, eff) || len + 2 > DNAME_MAXLEN - 1)
		return rc;
	buf[0] = 1;
	buf[1] = '*';
	return emit_group(st, buf, len + 2, eff);
}

/* Visit the node key (k labels) with plain group p and wildcard group w,
 * after the empty non-terminals between the last path and it. */
static int dump_node(struct dump_st *st, const struct ent *e, int64_t p,
		     int64_t w)
{
	const uint8_t *key = st->d->pool + e->off;
	uint8_t ends[DNAME_MAXLABELS + 1];
	unsigned k = 0, c = 0;
	size_t i = 0;

	ends[0] = 0;
	while (i < e->len) {
		i += (size_t)key[i] + 1;
		ends[++k] = (uint8_t)i;
	}
	while (c < st->depth && c < k && ends[c + 1] == st->ends[c + 1] &&
	       !memcmp(key, st->path, ends[c + 1]))
		c++;
	for (unsigned l = c + 1; l < k; l++) {
		st->eff[l] = st->eff[l - 1];
		if (emit_node(st, key, ends[l], -1, st->eff[l - 1], st->eff[l]))
			return -1;
	}
	st->eff[k] = w >= 0 ? w : st->eff[k - 1];
	memcpy(st->path, key, e->len);
	memcpy(st->ends, ends, k + 1);
	st->depth = k;
	return emit_node(st, key, e->len, p, st->eff[k - 1], st->eff[k]);
}

static int dnset_dump(const struct dataset *ds, ds_emit_fn emit, void *arg)
{
	const struct dnset *d = ds->data;
	struct dump_st st = { .ds = ds, .d = d, .emit = emit, .arg = arg };
	uint32_t i = 0;

	st.eff[0] = -1;
	while (i < d->n) {
		uint32_t first = i;
		int64_t p = -1, w = -1;

		if (!(d->e[i].flags & E_WILD)) {
			p = i;
			while (i < d->n && same_group(d->pool, &d->e[p], &d->e[i]))
				i++;
		}
		if (i < d->n && (d->e[i].flags & E_WILD) &&
		    name_eq(d->pool, &d->e[first], &d->e[i])) {
			w = i;
			while (i < d->n && same_group(d->pool, &d->e[w], &d->e[i]))
				i++;
		}
		if (dump_node(&st, &d->e[first], p, w))
			return -1;
	}
	return 0;
}

static void dnset_free(void *data)
{
	struct dnset *d = data;

	if (!d)
		return;
	free(d->e);
	free(d->pool);
	free(d->groups.slot);
	free(d->below.slot);
	free(d);
}

static void dnset_stats(const void *data, size_t *entries, size_t *bytes)
{
	const struct dnset *d = data;

	*entries = d->n;
	*bytes = sizeof(*d) + (size_t)d->n * sizeof(*d->e) + d->plen +
		 ((size_t)d->groups.size + d->below.size) * sizeof(uint32_t);
}

const struct ds_type ds_dnset = {
	.name = "dnset",
	.flags = DS_F_NAME,
	.begin = dnset_begin,
	.line = dnset_line,
	.end = dnset_end,
	.query = dnset_query,
	.has_below = dnset_has_below,
	.dump = dnset_dump,
	.free = dnset_free,
	.stats = dnset_stats,
};
