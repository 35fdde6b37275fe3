/*
 * storeset.c - base + delta layers and the shared value table of a store
 * zone; see storeset.h.
 *
 * SECURITY: see storeset.h. Sizes are checked before allocation
 * (xreallocarray); name lengths are bounded by the wire format (255).
 */
#include "serve/storeset.h"
#include "base/util.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- values ---- */

#define VCHUNK 16384u
#define VCHUNKS 65536u

struct sval {
	struct value v;         /* compiled, as answer.h wants it */
	char *raw;              /* the template as given */
};

struct sset_vals {
	_Atomic unsigned refs;
	struct sval **chunk;    /* VCHUNKS pointers, chunks never move */
	_Atomic uint32_t n;
	uint32_t *hash;         /* ids, SSET_NONE = empty; main thread */
	uint32_t hsize;
};

struct sset_vals *sset_vals_new(void)
{
	struct sset_vals *v = xcalloc(1, sizeof(*v));

	atomic_store(&v->refs, 1);
	v->chunk = xcalloc(VCHUNKS, sizeof(*v->chunk));
	return v;
}

void sset_vals_ref(struct sset_vals *v)
{
	atomic_fetch_add(&v->refs, 1);
}

void sset_vals_unref(struct sset_vals *v)
{
	uint32_t n;

	if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
		return;
	n = atomic_load(&v->n);
	for (uint32_t i = 0; i < n; i++) {
		struct sval *s = &v->chunk[i / VCHUNK][i % VCHUNK];

		free((char *)s->v.txt);
		free(s->raw);
	}
	for (uint32_t c = 0; c < VCHUNKS && v->chunk[c]; c++)
		free(v->chunk[c]);
	free(v->chunk);
	free(v->hash);
	free(v);
}

/* rbldnsd's substitution with no $n variables and no "$=" base: "$$" is
 * a dollar, "$0".."$9" stay as written, any other "$" is the entry (the
 * compiled form of value.h: "$!" the entry, "$$" a dollar). */
static char *compile(const char *t, uint16_t *len)
{
	size_t n = strlen(t), k = 0;
	char *out = xmalloc(2 * n + 1);

	for (size_t i = 0; i < n; i++) {
		if (t[i] != '$') {
			out[k++] = t[i];
		} else if (t[i + 1] == '$') {
			out[k++] = '$';
			out[k++] = '$';
			i++;
		} else if (t[i + 1] >= '0' && t[i + 1] <= '9') {
			out[k++] = '$';
			out[k++] = '$';
		} else {
			out[k++] = '$';
			out[k++] = '!';
		}
	}
	out[k] = '\0';
	*len = (uint16_t)(k > 4096 ? 4096 : k);
	return out;
}

static uint32_t vhash(const uint8_t a[4], const char *t)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 4; i++)
		h = (h ^ a[i]) * 16777619u;
	for (; *t; t++)
		h = (h ^ (uint8_t)*t) * 16777619u;
	return h;
}

static struct sval *sval_at(const struct sset_vals *v, uint32_t id)
{
	return &v->chunk[id / VCHUNK][id % VCHUNK];
}

static void vals_rehash(struct sset_vals *v)
{
	uint32_t n = atomic_load(&v->n), size = v->hsize ? v->hsize * 2 : 1024;

	free(v->hash);
	v->hash = xreallocarray(NULL, size, sizeof(*v->hash));
	memset(v->hash, 0xff, (size_t)size * sizeof(*v->hash));
	v->hsize = size;
	for (uint32_t i = 0; i < n; i++) {
		struct sval *s = sval_at(v, i);
		uint32_t h = vhash(s->v.a, s->raw) & (size - 1);

		while (v->hash[h] != SSET_NONE)
			h = (h + 1) & (size - 1);
		v->hash[h] = i;
	}
}

uint32_t sset_val_intern(struct sset_vals *v, const uint8_t a[4], const char *txt)
{
	uint32_t n = atomic_load(&v->n), h, id;
	struct sval *s;

	if (2 * (n + 1) > v->hsize)
		vals_rehash(v);
	h = vhash(a, txt) & (v->hsize - 1);
	for (; (id = v->hash[h]) != SSET_NONE; h = (h + 1) & (v->hsize - 1)) {
		s = sval_at(v, id);
		if (!memcmp(s->v.a, a, 4) && !strcmp(s->raw, txt))
			return id;
	}
	if (n >= SSET_VALS_MAX || n / VCHUNK >= VCHUNKS)
		panic("too many distinct values in one store zone");
	if (!v->chunk[n / VCHUNK])
		v->chunk[n / VCHUNK] = xcalloc(VCHUNK, sizeof(struct sval));
	s = sval_at(v, n);
	memcpy(s->v.a, a, 4);
	s->raw = xstrdup(txt);
	s->v.txt = compile(txt, &s->v.txtlen);
	v->hash[h] = n;
	/* readers see the value before any layer that names it (published
	 * later through snap.c's atomics) */
	atomic_store(&v->n, n + 1);
	return n;
}

const struct value *sset_val_get(const struct sset_vals *v, uint32_t id)
{
	return &sval_at(v, id)->v;
}

const char *sset_val_raw(const struct sset_vals *v, uint32_t id)
{
	return sval_at(v, id)->raw;
}

uint32_t sset_val_count(const struct sset_vals *v)
{
	return atomic_load(&v->n);
}

/* ---- layers ---- */

#define LEVELS 129

struct level {
	size_t n;
	void *key;              /* uint32_t (IPv4) or u128 (IPv6), sorted */
	uint32_t *vid;
};

struct nent {
	uint32_t off;           /* in pool */
	uint16_t len;
	uint8_t wild;
	uint32_t vid;
};

struct sset_layer {
	_Atomic unsigned refs;
	struct level lv[2][LEVELS];
	struct nent *ne;
	size_t nn;
	uint8_t *pool;
	size_t plen;
	size_t count;
};

u128 sset_mask(int v6, unsigned bits)
{
	if (!bits)
		return 0;
	if (v6)
		return ~(u128)0 << (128 - bits);
	return (u128)(uint32_t)(0xffffffffu << (32 - bits));
}

static inline u128 lkey(const struct level *l, int v6, size_t i)
{
	return v6 ? ((const u128 *)l->key)[i] : ((const uint32_t *)l->key)[i];
}

/* First index with key >= k. */
static size_t lower_bound(const struct level *l, int v6, u128 k)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lkey(l, v6, mid) < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t level_get(const struct level *l, int v6, u128 k)
{
	size_t i;

	if (!l->n)
		return SSET_NONE;
	i = lower_bound(l, v6, k);
	return i < l->n && lkey(l, v6, i) == k ? l->vid[i] : SSET_NONE;
}

static int name_cmp(const uint8_t *a, unsigned al, int aw, const uint8_t *b,
		    unsigned bl, int bw)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	if (al != bl)
		return al < bl ? -1 : 1;
	return aw - bw;
}

static int ne_cmp(const struct sset_layer *l, size_t i, const uint8_t *n,
		  unsigned len, int wild)
{
	const struct nent *e = &l->ne[i];

	return name_cmp(l->pool + e->off, e->len, e->wild, n, len, wild);
}

static size_t name_lower_bound(const struct sset_layer *l, const uint8_t *n,
			       unsigned len, int wild)
{
	size_t lo = 0, hi = l->nn;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ne_cmp(l, mid, n, len, wild) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t name_get(const struct sset_layer *l, const uint8_t *n, unsigned len,
			 int wild)
{
	size_t i;

	if (!l->nn)
		return SSET_NONE;
	i = name_lower_bound(l, n, len, wild);
	return i < l->nn && !ne_cmp(l, i, n, len, wild) ? l->ne[i].vid : SSET_NONE;
}

uint32_t sset_layer_get(const struct sset_layer *l, const struct sset_key *k)
{
	if (k->kind == SSET_NAME || k->kind == SSET_WILD)
		return name_get(l, k->name, k->namelen, k->kind == SSET_WILD);
	return level_get(&l->lv[k->kind][k->bits], k->kind, k->addr);
}

struct sset_layer *sset_layer_empty(void)
{
	struct sset_layer *l = xcalloc(1, sizeof(*l));

	atomic_store(&l->refs, 1);
	return l;
}

void sset_layer_ref(struct sset_layer *l)
{
	atomic_fetch_add(&l->refs, 1);
}

void sset_layer_unref(struct sset_layer *l)
{
	if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	for (int f = 0; f < 2; f++)
		for (int b = 0; b < LEVELS; b++) {
			free(l->lv[f][b].key);
			free(l->lv[f][b].vid);
		}
	free(l->ne);
	free(l->pool);
	free(l);
}

size_t sset_layer_count(const struct sset_layer *l)
{
	return l->count;
}

size_t sset_layer_bytes(const struct sset_layer *l)
{
	size_t n = sizeof(*l) + l->nn * sizeof(*l->ne) + l->plen;

	for (int f = 0; f < 2; f++)
		for (int b = 0; b < LEVELS; b++)
			n += l->lv[f][b].n * ((f ? sizeof(u128) : 4) + 4);
	return n;
}

/* ---- building ---- */

struct b6 {
	u128 key;
	uint32_t vid, seq;
};

struct bname {
	uint32_t off, seq, vid;
	uint16_t len;
	uint8_t wild;
};

struct sset_build {
	uint64_t *v4[33];       /* key << 32 | vid, in insertion order */
	size_t n4[33], c4[33];
	struct b6 *v6[LEVELS];
	size_t n6[LEVELS], c6[LEVELS];
	struct bname *nm;
	size_t nn, cn;
	uint8_t *pool;
	size_t plen, pcap;
	uint32_t seq;
};

struct sset_build *sset_build_new(void)
{
	return xcalloc(1, sizeof(struct sset_build));
}

void sset_build_free(struct sset_build *b)
{
	if (!b)
		return;
	for (int i = 0; i < 33; i++)
		free(b->v4[i]);
	for (int i = 0; i < LEVELS; i++)
		free(b->v6[i]);
	free(b->nm);
	free(b->pool);
	free(b);
}

#define GROW(p, n, cap) do {                                            \
		if ((n) == (cap)) {                                     \
			(cap) = (cap) ? (cap) * 2 : 64;                 \
			(p) = xreallocarray((p), (cap), sizeof(*(p)));  \
		}                                                       \
	} while (0)

void sset_build_add(struct sset_build *b, const struct sset_key *k, uint32_t vid)
{
	unsigned bits = k->bits;

	if (k->kind == SSET_IP4 && bits <= 32) {
		GROW(b->v4[bits], b->n4[bits], b->c4[bits]);
		b->v4[bits][b->n4[bits]++] = (uint64_t)(uint32_t)k->addr << 32 | vid;
	} else if (k->kind == SSET_IP6 && bits <= 128) {
		GROW(b->v6[bits], b->n6[bits], b->c6[bits]);
		b->v6[bits][b->n6[bits]++] = (struct b6){ k->addr, vid, b->seq++ };
	} else if ((k->kind == SSET_NAME || k->kind == SSET_WILD) && k->namelen < 256) {
		GROW(b->nm, b->nn, b->cn);
		while (b->plen + k->namelen > b->pcap) {
			b->pcap = b->pcap ? b->pcap * 2 : 4096;
			b->pool = xrealloc(b->pool, b->pcap);
		}
		memcpy(b->pool + b->plen, k->name, k->namelen);
		b->nm[b->nn++] = (struct bname){ (uint32_t)b->plen, b->seq++, vid,
						 (uint16_t)k->namelen, k->kind == SSET_WILD };
		b->plen += k->namelen;
	}
}

/* Stable LSD radix sort of the keys (bits 32..63). */
static void radix_sort_keys(uint64_t *a, size_t n)
{
	uint64_t *tmp;
	size_t cnt[256];

	if (n < 2)
		return;
	tmp = xreallocarray(NULL, n, sizeof(*tmp));
	for (int pass = 0; pass < 4; pass++) {
		int shift = 32 + 8 * pass;
		size_t sum = 0;

		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(a[i] >> shift) & 255]++;
		for (int i = 0; i < 256; i++) {
			size_t c = cnt[i];

			cnt[i] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i] >> shift) & 255]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
	free(tmp);
}

static int b6_cmp(const void *x, const void *y)
{
	const struct b6 *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static const uint8_t *sort_pool;

static int bname_cmp(const void *x, const void *y)
{
	const struct bname *a = x, *b = y;
	int c = name_cmp(sort_pool + a->off, a->len, a->wild, sort_pool + b->off,
			 b->len, b->wild);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void level_alloc(struct level *l, int v6, size_t n)
{
	l->key = xreallocarray(NULL, n ? n : 1, v6 ? sizeof(u128) : 4);
	l->vid = xreallocarray(NULL, n ? n : 1, 4);
	l->n = 0;
}

static void level_put(struct level *l, int v6, u128 k, uint32_t vid)
{
	if (v6)
		((u128 *)l->key)[l->n] = k;
	else
		((uint32_t *)l->key)[l->n] = (uint32_t)k;
	l->vid[l->n++] = vid;
}

static void finish_v4(struct sset_layer *l, struct sset_build *b)
{
	for (int bits = 0; bits <= 32; bits++) {
		uint64_t *a = b->v4[bits];
		size_t n = b->n4[bits];
		struct level *lv = &l->lv[0][bits];

		if (!n)
			continue;
		radix_sort_keys(a, n);
		level_alloc(lv, 0, n);
		for (size_t i = 0; i < n; i++)  /* the last of equal keys */
			if (i + 1 == n || (a[i] >> 32) != (a[i + 1] >> 32))
				level_put(lv, 0, a[i] >> 32, (uint32_t)a[i]);
		l->count += lv->n;
		free(a);
		b->v4[bits] = NULL;
	}
}

static void finish_v6(struct sset_layer *l, struct sset_build *b)
{
	for (int bits = 0; bits < LEVELS; bits++) {
		struct b6 *a = b->v6[bits];
		size_t n = b->n6[bits];
		struct level *lv = &l->lv[1][bits];

		if (!n)
			continue;
		qsort(a, n, sizeof(*a), b6_cmp);
		level_alloc(lv, 1, n);
		for (size_t i = 0; i < n; i++)
			if (i + 1 == n || a[i].key != a[i + 1].key)
				level_put(lv, 1, a[i].key, a[i].vid);
		l->count += lv->n;
		free(a);
		b->v6[bits] = NULL;
	}
}

static void finish_names(struct sset_layer *l, struct sset_build *b)
{
	size_t k = 0;

	if (!b->nn)
		return;
	sort_pool = b->pool;
	qsort(b->nm, b->nn, sizeof(*b->nm), bname_cmp);
	l->ne = xreallocarray(NULL, b->nn, sizeof(*l->ne));
	for (size_t i = 0; i < b->nn; i++) {
		const struct bname *e = &b->nm[i], *nx = i + 1 < b->nn ? e + 1 : NULL;

		if (nx && !name_cmp(b->pool + e->off, e->len, e->wild,
				    b->pool + nx->off, nx->len, nx->wild))
			continue;
		l->ne[k++] = (struct nent){ e->off, e->len, e->wild, e->vid };
	}
	l->nn = k;
	l->count += k;
	l->pool = b->pool;      /* entries left out keep their bytes: fine */
	l->plen = b->plen;
	b->pool = NULL;
}

struct sset_layer *sset_build_finish(struct sset_build *b)
{
	struct sset_layer *l = sset_layer_empty();

	finish_v4(l, b);
	finish_v6(l, b);
	finish_names(l, b);
	sset_build_free(b);
	return l;
}

/* ---- merging ---- */

/* Merge level u (under) and o (over) into out; mode 0: union with o
 * winning (drop_gone: without SSET_GONE); mode 1: u minus o's equal
 * entries. */
static void merge_level(const struct level *u, const struct level *o, int v6,
			struct level *out, int drop_gone, int minus)
{
	size_t i = 0, j = 0;

	if (!u->n && !o->n)
		return;
	level_alloc(out, v6, u->n + o->n);
	while (i < u->n || j < o->n) {
		u128 ku = i < u->n ? lkey(u, v6, i) : 0, ko = j < o->n ? lkey(o, v6, j) : 0;
		int which = i >= u->n ? 1 : j >= o->n ? 0 : ku < ko ? 0 : ku > ko ? 1 : 2;

		if (minus) {
			if (which == 0)
				level_put(out, v6, ku, u->vid[i]);
			else if (which == 2 && u->vid[i] != o->vid[j])
				level_put(out, v6, ku, u->vid[i]);
		} else if (which == 0) {
			level_put(out, v6, ku, u->vid[i]);
		} else if (!drop_gone || o->vid[j] != SSET_GONE) {
			level_put(out, v6, ko, o->vid[j]);
		}
		i += which != 1;
		j += which != 0;
	}
	if (!out->n) {
		free(out->key);
		free(out->vid);
		memset(out, 0, sizeof(*out));
	}
}

static void pool_add(struct sset_layer *l, size_t *cap, const struct sset_layer *src,
		     const struct nent *e, uint32_t vid)
{
	while (l->plen + e->len > *cap) {
		*cap = *cap ? *cap * 2 : 4096;
		l->pool = xrealloc(l->pool, *cap);
	}
	memcpy(l->pool + l->plen, src->pool + e->off, e->len);
	l->ne[l->nn++] = (struct nent){ (uint32_t)l->plen, e->len, e->wild, vid };
	l->plen += e->len;
}

static void merge_names(const struct sset_layer *u, const struct sset_layer *o,
			struct sset_layer *out, int drop_gone, int minus)
{
	size_t i = 0, j = 0, cap = 0;

	if (!u->nn && !o->nn)
		return;
	out->ne = xreallocarray(NULL, u->nn + o->nn, sizeof(*out->ne));
	while (i < u->nn || j < o->nn) {
		int which;

		if (i >= u->nn)
			which = 1;
		else if (j >= o->nn)
			which = 0;
		else {
			const struct nent *b = &o->ne[j];
			int c = ne_cmp(u, i, o->pool + b->off, b->len, b->wild);

			which = c < 0 ? 0 : c > 0 ? 1 : 2;
		}
		if (minus) {
			if (which == 0 || (which == 2 && u->ne[i].vid != o->ne[j].vid))
				pool_add(out, &cap, u, &u->ne[i], u->ne[i].vid);
		} else if (which == 0) {
			pool_add(out, &cap, u, &u->ne[i], u->ne[i].vid);
		} else if (!drop_gone || o->ne[j].vid != SSET_GONE) {
			pool_add(out, &cap, o, &o->ne[j], o->ne[j].vid);
		}
		i += which != 1;
		j += which != 0;
	}
}

static struct sset_layer *combine(const struct sset_layer *u, const struct sset_layer *o,
				  int drop_gone, int minus)
{
	struct sset_layer *l = sset_layer_empty();

	for (int f = 0; f < 2; f++)
		for (int b = 0; b < (f ? LEVELS : 33); b++) {
			merge_level(&u->lv[f][b], &o->lv[f][b], f, &l->lv[f][b],
				    drop_gone, minus);
			l->count += l->lv[f][b].n;
		}
	merge_names(u, o, l, drop_gone, minus);
	l->count += l->nn;
	return l;
}

struct sset_layer *sset_layer_merge(const struct sset_layer *under,
				    const struct sset_layer *over, int drop_gone)
{
	return combine(under, over, drop_gone, 0);
}

struct sset_layer *sset_layer_minus(const struct sset_layer *a, const struct sset_layer *b)
{
	return combine(a, b, 0, 1);
}

/* ---- lookups ---- */

/* The merged view's value of one IP key: SSET_NONE when neither layer
 * has it (or the delta removed it), else the value or SSET_EXCL. */
static uint32_t view_ip(const struct sset *s, int v6, unsigned b, u128 k, int *found)
{
	uint32_t d = level_get(&s->delta->lv[v6][b], v6, k);

	*found = 1;
	if (d == SSET_GONE) {
		*found = 0;
		return SSET_NONE;
	}
	if (d != SSET_NONE)
		return d;
	d = level_get(&s->base->lv[v6][b], v6, k);
	*found = d != SSET_NONE;
	return d;
}

uint32_t sset_find_ip(const struct sset *s, int v6, u128 a, unsigned *bits)
{
	int max = v6 ? 128 : 32;

	for (int b = max; b >= 0; b--) {
		uint32_t v;
		int found;

		if (!s->delta->lv[v6][b].n && !s->base->lv[v6][b].n)
			continue;
		v = view_ip(s, v6, (unsigned)b, a & sset_mask(v6, (unsigned)b), &found);
		if (!found)
			continue;
		if (bits)
			*bits = (unsigned)b;
		return v == SSET_EXCL ? SSET_NONE : v;
	}
	return SSET_NONE;
}

static uint32_t view_name(const struct sset *s, const uint8_t *n, unsigned len,
			  int wild, int *found)
{
	uint32_t d = name_get(s->delta, n, len, wild);

	*found = 1;
	if (d == SSET_GONE) {
		*found = 0;
		return SSET_NONE;
	}
	if (d != SSET_NONE)
		return d;
	d = name_get(s->base, n, len, wild);
	*found = d != SSET_NONE;
	return d;
}

uint32_t sset_find_name(const struct sset *s, const uint8_t *rev, const uint8_t *ends,
			unsigned nl, unsigned *from)
{
	uint32_t v;
	int found;

	if (!s->delta->nn && !s->base->nn)
		return SSET_NONE;
	v = view_name(s, rev, ends[nl], 0, &found);
	if (found) {
		*from = nl;
		return v == SSET_EXCL ? SSET_NONE : v;
	}
	for (unsigned i = nl; i-- > 1;) {
		v = view_name(s, rev, ends[i], 1, &found);
		if (found) {
			*from = i;
			return v == SSET_EXCL ? SSET_NONE : v;
		}
	}
	return SSET_NONE;
}

/* Merged walk of one level over [from, to]. */
static int walk_level(const struct sset *s, int v6, unsigned b, u128 from, u128 to,
		      int (*cb)(void *, const struct sset_key *, uint32_t), void *arg)
{
	const struct level *u = &s->base->lv[v6][b], *o = &s->delta->lv[v6][b];
	size_t i = u->n ? lower_bound(u, v6, from) : 0, j = o->n ? lower_bound(o, v6, from) : 0;
	struct sset_key k = { .kind = v6 ? SSET_IP6 : SSET_IP4, .bits = b };
	int rc;

	for (;;) {
		int iu = i < u->n && lkey(u, v6, i) <= to, io = j < o->n && lkey(o, v6, j) <= to;
		u128 ku = iu ? lkey(u, v6, i) : 0, ko = io ? lkey(o, v6, j) : 0;
		uint32_t v;

		if (!iu && !io)
			return 0;
		if (io && (!iu || ko <= ku)) {
			if (iu && ku == ko)
				i++;
			k.addr = ko;
			v = o->vid[j++];
			if (v == SSET_GONE)
				continue;
		} else {
			k.addr = ku;
			v = u->vid[i++];
		}
		if ((rc = cb(arg, &k, v)) != 0)
			return rc;
	}
}

int sset_walk_ip(const struct sset *s, int v6, u128 lo, u128 hi,
		 int (*cb)(void *arg, const struct sset_key *k, uint32_t vid), void *arg)
{
	int max = v6 ? 128 : 32, rc;

	for (int b = 0; b <= max; b++) {
		if (!s->delta->lv[v6][b].n && !s->base->lv[v6][b].n)
			continue;
		rc = walk_level(s, v6, (unsigned)b, lo & sset_mask(v6, (unsigned)b), hi, cb, arg);
		if (rc)
			return rc;
	}
	return 0;
}

static int any_cb(void *arg, const struct sset_key *k, uint32_t vid)
{
	return vid != SSET_EXCL;
}

int sset_any_ip(const struct sset *s, int v6, u128 lo, u128 hi)
{
	return sset_walk_ip(s, v6, lo, hi, any_cb, NULL) != 0;
}

/* Merged walk of the names starting with prefix (len bytes; 0: all). */
static int walk_names(const struct sset *s, const uint8_t *pfx, unsigned plen,
		      int (*cb)(void *, const struct sset_key *, uint32_t), void *arg)
{
	const struct sset_layer *u = s->base, *o = s->delta;
	size_t i = plen ? name_lower_bound(u, pfx, plen, 0) : 0;
	size_t j = plen ? name_lower_bound(o, pfx, plen, 0) : 0;
	int rc;

	for (;;) {
		const struct nent *eu = i < u->nn ? &u->ne[i] : NULL;
		const struct nent *eo = j < o->nn ? &o->ne[j] : NULL;
		const struct nent *e;
		const struct sset_layer *from;
		struct sset_key k;

		/* plen 0 (all names): pfx may be NULL, which memcmp must never see */
		if (eu && plen && (eu->len < plen || memcmp(u->pool + eu->off, pfx, plen)))
			eu = NULL;
		if (eo && plen && (eo->len < plen || memcmp(o->pool + eo->off, pfx, plen)))
			eo = NULL;
		if (!eu && !eo)
			return 0;
		if (eo && (!eu || ne_cmp(u, i, o->pool + eo->off, eo->len, eo->wild) >= 0)) {
			if (eu && !ne_cmp(u, i, o->pool + eo->off, eo->len, eo->wild))
				i++;
			e = eo;
			from = o;
			j++;
			if (e->vid == SSET_GONE)
				continue;
		} else {
			e = eu;
			from = u;
			i++;
		}
		k = (struct sset_key){ .kind = e->wild ? SSET_WILD : SSET_NAME,
				       .name = from->pool + e->off, .namelen = e->len };
		if ((rc = cb(arg, &k, e->vid)) != 0)
			return rc;
	}
}

int sset_walk_names(const struct sset *s,
		    int (*cb)(void *arg, const struct sset_key *k, uint32_t vid), void *arg)
{
	return walk_names(s, NULL, 0, cb, arg);
}

struct below {
	unsigned len;
};

static int below_cb(void *arg, const struct sset_key *k, uint32_t vid)
{
	const struct below *b = arg;

	/* strictly below: longer, or "*.name" of the name itself */
	return vid != SSET_EXCL && (k->namelen > b->len || k->kind == SSET_WILD);
}

int sset_any_below(const struct sset *s, const uint8_t *rev, const uint8_t *ends,
		   unsigned nl)
{
	struct below b = { ends[nl] };

	if (!s->delta->nn && !s->base->nn)
		return 0;
	if (walk_names(s, rev, ends[nl], below_cb, &b))
		return 1;
	for (unsigned i = nl; i >= 1; i--) {
		int found;
		uint32_t v = view_name(s, rev, ends[i], 1, &found);

		if (found)
			return v != SSET_EXCL;
	}
	return 0;
}
