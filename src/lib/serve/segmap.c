/*
 * segmap.c - immutable IP -> value-set maps; see segmap.h.
 *
 * SECURITY: see segmap.h. Sizes are overflow-checked before allocation.
 */
#define _GNU_SOURCE
#include "serve/segmap.h"
#include "base/util.h"
#include "serve/value.h"

#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

/* Raw entry vectors can be large (10M entries): they live in their own
 * mappings, grown with mremap (no copy), and the build hands consumed
 * pages back to the kernel so that input and output do not both peak. */
static void *big_realloc(void *p, size_t oldbytes, size_t nmemb, size_t size)
{
	size_t bytes;

	if (size && nmemb > SIZE_MAX / size)
		panic("allocation overflow: %zu*%zu", nmemb, size);
	bytes = nmemb * size;
	if (!p)
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else
		p = mremap(p, oldbytes, bytes, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		panic("out of memory mapping %zu bytes", bytes);
	return p;
}

static void big_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

/* Give back the pages below bytes (their content is dead), in steps of
 * at least 1 MiB past what *done says was given back already. */
static void big_release(void *p, size_t bytes, size_t *done)
{
	static size_t page;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);

	bytes &= ~(page - 1);
	if (bytes < *done + (1u << 20))
		return;
	madvise((char *)p + *done, bytes - *done, MADV_DONTNEED);
	*done = bytes;
}

/*
 * Value sets. A result r is 0 (not listed), SINGLE|id for one value, or
 * 1 + offset into a pool of [count, id, id...] for several.
 */
#define SINGLE 0x80000000u

struct vset {
	uint32_t *pool;
	size_t n, cap;
	uint32_t *htab;         /* offsets+1 by hash, 0 = empty */
	size_t hsize, used;
};

static void vset_init(struct vset *vs)
{
	memset(vs, 0, sizeof(*vs));
}

static uint32_t vset_hash(const uint32_t *ids, unsigned n)
{
	uint32_t h = 2166136261u ^ n;

	for (unsigned i = 0; i < n; i++)
		h = (h ^ ids[i]) * 16777619u;
	return h;
}

static void vset_rehash(struct vset *vs)
{
	size_t nsize = vs->hsize ? vs->hsize * 2 : 64;
	uint32_t *nt = xcalloc(nsize, sizeof(*nt));

	for (size_t i = 0; i < vs->hsize; i++) {
		uint32_t off = vs->htab[i];
		size_t h;

		if (!off)
			continue;
		h = vset_hash(vs->pool + off, vs->pool[off - 1]) & (nsize - 1);
		while (nt[h])
			h = (h + 1) & (nsize - 1);
		nt[h] = off;
	}
	free(vs->htab);
	vs->htab = nt;
	vs->hsize = nsize;
}

static segres_t vset_intern(struct vset *vs, const uint32_t *ids, unsigned n)
{
	size_t h;
	uint32_t off;

	if (n == 1)
		return SINGLE | ids[0];
	if ((vs->used + 1) * 2 > vs->hsize)
		vset_rehash(vs);
	h = vset_hash(ids, n) & (vs->hsize - 1);
	for (; (off = vs->htab[h]) != 0; h = (h + 1) & (vs->hsize - 1))
		if (vs->pool[off - 1] == n &&
		    !memcmp(vs->pool + off, ids, n * sizeof(*ids)))
			return off;
	if (vs->n + n + 1 > vs->cap) {
		vs->cap = (vs->cap + n + 1) * 2;
		vs->pool = xreallocarray(vs->pool, vs->cap, sizeof(*vs->pool));
	}
	if (vs->n + 1 >= SINGLE)
		panic("too many value sets");
	vs->pool[vs->n] = n;
	memcpy(vs->pool + vs->n + 1, ids, n * sizeof(*ids));
	off = (uint32_t)vs->n + 1;
	vs->n += n + 1;
	vs->htab[h] = off;
	vs->used++;
	return off;
}

static uint32_t *vset_take(struct vset *vs, size_t *n)
{
	free(vs->htab);
	*n = vs->n;
	return vs->pool;
}

static unsigned vset_get(const uint32_t *pool, segres_t r, uint32_t *one,
			 const uint32_t **ids)
{
	if (r & SINGLE) {
		*one = r & ~SINGLE;
		*ids = one;
		return 1;
	}
	*ids = pool + r;
	return pool[r - 1];
}

/* A table of the first segment of every block of the top 16 key bits
 * narrows the binary search, for maps of IDX_MIN segments or more. */
#define IDX_MIN 4096

#define KEY uint32_t
#define KEY_MAX UINT32_MAX
#define SFX 4
#define BLOCKS_OK 0
#define block_bits(lo, hi) ((void)(lo), (void)(hi), -1)
#define block_mask(k) ((uint32_t)(k))
#define ENT_LO(e) ((e)->lo)
#define ENT_HI(e) ((e)->hi)
#define META_T uint32_t
#define PRIO_SHIFT 26
#define EXCL_SHIFT 25
#define TOP_SHIFT 16
static segmap4_t *build_points(struct seg_vec4 *v, const struct vtab *vt,
			       int keep_first);
#define BUILD_POINTS(v, vt, kf) do {                                       \
	if (!(v)->mixed && (v)->pn)                                         \
		return build_points(v, vt, kf);                             \
} while (0)
#define FREE_EXTRA(v) do {                                                 \
	big_free((v)->pt, (v)->pcap * sizeof(*(v)->pt));                    \
	(v)->pt = NULL;                                                     \
	(v)->pn = (v)->pcap = 0;                                            \
	(v)->mixed = 0;                                                     \
} while (0)
#include "serve/segmap_tmpl.h"
#undef KEY
#undef KEY_MAX
#undef SFX
#undef META_T
#undef PRIO_SHIFT
#undef EXCL_SHIFT
#undef TOP_SHIFT
#undef BUILD_POINTS
#undef FREE_EXTRA
#undef BLOCKS_OK
#undef block_bits
#undef block_mask
#undef ENT_LO
#undef ENT_HI

static void push4(struct seg_vec4 *v, uint32_t lo, uint32_t hi, uint32_t meta)
{
	struct seg_ent4 *e = vec_slot4(v);

	e->lo = lo;
	e->hi = hi;
	e->meta = meta;
}

int segvec4_push(struct seg_vec4 *v, uint32_t lo, uint32_t hi, uint32_t val,
		 unsigned prio, int excl)
{
	uint32_t meta = (uint32_t)prio << 26 | (uint32_t)!!excl << 25 | val;

	if (val > SEG_VAL_MAX)
		return -1;
	if (!v->mixed && lo == hi) {
		if (v->pn == v->pcap) {
			size_t old = v->pcap * sizeof(*v->pt);

			v->pcap = v->pcap ? v->pcap + v->pcap / 2 : 1024;
			v->pt = big_realloc(v->pt, old, v->pcap, sizeof(*v->pt));
		}
		v->pt[v->pn++] = (uint64_t)lo << 32 | meta;
		return 0;
	}
	if (!v->mixed) {        /* the first range: move the points over */
		v->mixed = 1;
		for (size_t i = 0; i < v->pn; i++)
			push4(v, (uint32_t)(v->pt[i] >> 32), (uint32_t)(v->pt[i] >> 32),
			      (uint32_t)v->pt[i]);
		big_free(v->pt, v->pcap * sizeof(*v->pt));
		v->pt = NULL;
		v->pn = v->pcap = 0;
	}
	push4(v, lo, hi, meta);
	return 0;
}

void segvec4_set_value(struct seg_vec4 *v, uint32_t val)
{
	for (size_t i = 0; i < v->n; i++)
		v->e[i].meta = (v->e[i].meta & ~(uint32_t)SEG_VAL_MAX) | val;
	for (size_t i = 0; i < v->pn; i++)
		v->pt[i] = (v->pt[i] & ~(uint64_t)SEG_VAL_MAX) | val;
}

void segvec6_set_value(struct seg_vec6 *v, uint32_t val)
{
	for (size_t i = 0; i < v->n; i++)
		v->e[i].meta = (v->e[i].meta & ~(uint64_t)SEG_VAL_MAX) | val;
}

/* In-place MSD radix sort of 64-bit words on their top 4 bytes (the
 * address); runs of one address end in insertion sort, by meta. */
static void radix_u64(uint64_t *a, size_t n, int byte)
{
	size_t count[256] = { 0 }, start[256], next[256];

	if (n <= 32 || byte < 4) {
		for (size_t i = 1; i < n; i++) {
			uint64_t t = a[i];
			size_t k = i;

			while (k && t < a[k - 1]) {
				a[k] = a[k - 1];
				k--;
			}
			a[k] = t;
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		count[(a[i] >> (8 * byte)) & 255]++;
	for (size_t b = 0, sum = 0; b < 256; b++) {
		start[b] = next[b] = sum;
		sum += count[b];
	}
	for (unsigned b = 0; b < 256; b++) {
		while (next[b] < start[b] + count[b]) {
			uint64_t t = a[next[b]];
			unsigned d = (unsigned)(t >> (8 * byte)) & 255;

			while (d != b) {
				uint64_t u = a[next[d]];

				a[next[d]++] = t;
				t = u;
				d = (unsigned)(t >> (8 * byte)) & 255;
			}
			a[next[b]++] = t;
		}
	}
	for (unsigned b = 0; b < 256; b++)
		if (count[b] > 1)
			radix_u64(a + start[b], count[b], byte - 1);
}

/* The result of the points [i, j) of one address: as the sweep decides
 * (the best priority answers; an exclusion there means none). */
static segres_t points_result(const uint64_t *pt, size_t i, size_t j,
			      const struct vtab *vt, int keep_first, struct vset *vs)
{
	uint32_t best = UINT32_MAX, ids[64];
	unsigned n = 0;

	for (size_t k = i; k < j; k++)
		if ((uint32_t)pt[k] >> 26 < best)
			best = (uint32_t)pt[k] >> 26;
	for (size_t k = i; k < j; k++) {
		uint32_t meta = (uint32_t)pt[k], id;
		unsigned d = 0;

		if (meta >> 26 != best)
			continue;
		if (meta & (1u << 25))
			return 0;
		id = vtab_map(vt, meta & SEG_VAL_MAX);
		while (d < n && ids[d] != id)
			d++;
		if (d == n && n < ARRAY_SIZE(ids))
			ids[n++] = id;
		if (keep_first)
			break;
	}
	return n ? vset_intern(vs, ids, n) : 0;
}

/* The map of a vector of single addresses: one segment per listed
 * address, no ends stored. Input pages are released as they are read. */
static segmap4_t *build_points(struct seg_vec4 *v, const struct vtab *vt,
			       int keep_first)
{
	segmap4_t *m = xcalloc(1, sizeof(*m));
	struct vset vs;
	size_t count = 0, released = 0, i, j, w = 0;
	segres_t first = 0;
	int same = 1;

	vset_init(&vs);
	if (v->pn > 1) {
		for (i = 1; i < v->pn && v->pt[i] >= v->pt[i - 1]; i++)
			;
		if (i < v->pn)
			radix_u64(v->pt, v->pn, 7);
	}
	for (i = 0; i < v->pn; i = j) {         /* pass 1: count */
		segres_t r;

		for (j = i + 1; j < v->pn && v->pt[j] >> 32 == v->pt[i] >> 32; j++)
			;
		r = points_result(v->pt, i, j, vt, keep_first, &vs);
		if (!r)
			continue;
		if (!count)
			first = r;
		same &= r == first;
		count++;
	}
	m->n = count;
	m->res0 = first;
	m->lo = xreallocarray(NULL, count ? count : 1, sizeof(*m->lo));
	m->res = same ? NULL : xreallocarray(NULL, count ? count : 1, sizeof(*m->res));
	for (i = 0; i < v->pn; i = j) {         /* pass 2: write */
		segres_t r;

		for (j = i + 1; j < v->pn && v->pt[j] >> 32 == v->pt[i] >> 32; j++)
			;
		r = points_result(v->pt, i, j, vt, keep_first, &vs);
		if (!r)
			continue;
		m->lo[w] = (uint32_t)(v->pt[i] >> 32);
		if (m->res)
			m->res[w] = r;
		w++;
		big_release(v->pt, i * sizeof(*v->pt), &released);
	}
	big_free(v->pt, v->pcap * sizeof(*v->pt));
	v->pt = NULL;
	v->pn = v->pcap = 0;
	m->vpool = vset_take(&vs, &m->nvpool);
	m->bytes = sizeof(*m) + count * sizeof(*m->lo) +
		   (m->res ? count * sizeof(*m->res) : 0) + m->nvpool * sizeof(uint32_t);
	segmap4_index(m);
	return m;
}

/* [lo, hi] as an aligned block of 2^k addresses: k, or -1. */
static int block_bits6(u128 lo, u128 hi)
{
	u128 size = hi - lo + 1;        /* 0: the whole space */
	uint64_t low = (uint64_t)size;
	int k;

	if (!size)
		return lo ? -1 : 128;
	if (size & (size - 1))
		return -1;
	k = low ? __builtin_ctzll(low) : 64 + __builtin_ctzll((uint64_t)(size >> 64));
	return (lo & (size - 1)) ? -1 : k;
}

static inline u128 block_mask6(unsigned k)
{
	return k >= 128 ? ~(u128)0 : ((u128)1 << k) - 1;
}

#define KEY u128
#define KEY_MAX (~(u128)0)
#define SFX 6
#define BLOCKS_OK 1
#define block_bits(lo, hi) block_bits6(lo, hi)
#define block_mask(k) block_mask6(k)
#define META_T uint64_t
#define PRIO_SHIFT 41
#define EXCL_SHIFT 32
#define ENT_LO(e) ((u128)(e)->lo_h << 64 | (e)->lo_l)
#define ENT_HI(e) (ENT_LO(e) | block_mask6((unsigned)((e)->meta >> 33) & 255))
#define TOP_SHIFT 112
#define BUILD_POINTS(v, vt, kf) ((void)0)
#define FREE_EXTRA(v) ((void)0)
#include "serve/segmap_tmpl.h"

/* IPv6 entries are stored as aligned blocks (a CIDR is one): a range that
 * is not one is pushed as the blocks that make it up. */
int segvec6_push(struct seg_vec6 *v, u128 lo, u128 hi, uint32_t val,
		 unsigned prio, int excl)
{
	if (val > SEG_VAL_MAX || prio > 255)
		return -1;
	for (;;) {
		int k = block_bits6(lo, hi);
		struct seg_ent6 *e;
		u128 size;

		if (k < 0) {    /* the largest aligned block at lo within hi */
			for (k = 127; k > 0; k--) {
				size = (u128)1 << k;
				if (!(lo & (size - 1)) && lo + size - 1 <= hi && lo + size - 1 >= lo)
					break;
			}
		}
		e = vec_slot6(v);
		e->lo_h = (uint64_t)(lo >> 64);
		e->lo_l = (uint64_t)lo;
		e->meta = (uint64_t)prio << 41 | (uint64_t)(unsigned)k << 33 |
			  (uint64_t)!!excl << 32 | val;
		size = block_mask6((unsigned)k);
		if (lo + size >= hi)
			return 0;
		lo += size + 1;
	}
}
