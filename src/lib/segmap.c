/*
 * segmap.c - immutable IP -> value-set maps; see segmap.h.
 *
 * SECURITY: see segmap.h. Sizes are overflow-checked before allocation.
 */
#define _GNU_SOURCE
#include "segmap.h"
#include "util.h"
#include "value.h"

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
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

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
#include "segmap_tmpl.h"
#undef KEY
#undef KEY_MAX
#undef SFX
#undef META_T
#undef PRIO_SHIFT
#undef EXCL_SHIFT
#undef TOP_SHIFT
#undef BLOCKS_OK
#undef block_bits
#undef block_mask
#undef ENT_LO
#undef ENT_HI

int segvec4_push(struct seg_vec4 *v, uint32_t lo, uint32_t hi, uint32_t val,
		 unsigned prio, int excl)
{
	struct seg_ent4 *e;

	if (val > SEG_VAL_MAX)
		return -1;
	e = vec_slot4(v);
	e->lo = lo;
	e->hi = hi;
	e->meta = (uint32_t)prio << 26 | (uint32_t)!!excl << 25 | val;
	return 0;
}

/* [lo, hi] as an aligned block of 2^k addresses: k, or -1. */
static int block_bits6(u128 lo, u128 hi)
{
	u128 size = hi - lo + 1;        /* 0: the whole space */
	int k = 0;

	if (!size)
		return lo ? -1 : 128;
	if (size & (size - 1))
		return -1;
	while (((u128)1 << k) != size)
		k++;
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
#include "segmap_tmpl.h"

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
