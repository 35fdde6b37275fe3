/*
 * segmap_tmpl.h - the segment map, written once for both key widths.
 * Included by segmap.c with KEY, SFX (4 or 6) and KEY_MAX defined.
 *
 * SECURITY: see segmap.h.
 */
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define F(name) CAT(CAT(segmap, SFX), _##name)
#define V(name) CAT(CAT(segvec, SFX), _##name)
#define ENT CAT(struct seg_ent, SFX)
#define VEC CAT(struct seg_vec, SFX)
#define MAP CAT(struct segmap, SFX)

MAP {
	size_t n;               /* segments */
	KEY *lo;                /* starts, ascending */
	KEY *hi;                /* ends; NULL when every end == start, or
				 * when blk gives them */
	uint8_t *blk;           /* IPv6: every segment is an aligned block
				 * of 2^blk[i] addresses (the usual prefix
				 * data): 1 byte instead of 16 for its end */
	segres_t *res;          /* results; NULL when all are res0 */
	segres_t res0;
	uint32_t *vpool;        /* multi-value sets: count, then ids */
	size_t nvpool;
	uint32_t *idx;          /* first segment per top-16-bit block */
	size_t bytes;
};

/* Room for one more entry. */
static ENT *CAT(vec_slot, SFX)(VEC *v)
{
	if (v->n == v->cap) {
		size_t old = v->cap * sizeof(ENT);

		v->cap = v->cap ? v->cap + v->cap / 2 : 1024;
		v->e = big_realloc(v->e, old, v->cap, sizeof(ENT));
	}
	return &v->e[v->n++];
}

void V(free)(VEC *v)
{
	big_free(v->e, v->cap * sizeof(ENT));
	v->e = NULL;
	v->n = v->cap = 0;
	FREE_EXTRA(v);
}

static inline int CAT(ent_lt, SFX)(const ENT *a, const ENT *b)
{
	if (ENT_LO(a) != ENT_LO(b))
		return ENT_LO(a) < ENT_LO(b);
	return a->meta < b->meta;
}

static void CAT(insertion_sort, SFX)(ENT *e, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		ENT t = e[i];
		size_t k = i;

		while (k && CAT(ent_lt, SFX)(&t, &e[k - 1])) {
			e[k] = e[k - 1];
			k--;
		}
		e[k] = t;
	}
}

/* In-place MSD radix sort (American flag sort) on the start address, one
 * byte per level from the top; short runs finish with insertion sort,
 * which also orders equal starts by meta. Data files are often sorted
 * already: that is checked first. */
static void CAT(radix_sort, SFX)(ENT *e, size_t n, int byte)
{
	size_t count[256] = { 0 }, start[256], next[256];

	if (n <= 32 || byte < 0) {
		CAT(insertion_sort, SFX)(e, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		count[(unsigned)(ENT_LO(&e[i]) >> (8 * byte)) & 255]++;
	for (size_t b = 0, sum = 0; b < 256; b++) {
		start[b] = next[b] = sum;
		sum += count[b];
	}
	for (unsigned b = 0; b < 256; b++) {
		while (next[b] < start[b] + count[b]) {
			ENT t = e[next[b]];
			unsigned d = (unsigned)(ENT_LO(&t) >> (8 * byte)) & 255;

			while (d != b) {        /* cycle t to where it belongs */
				ENT u = e[next[d]];

				e[next[d]++] = t;
				t = u;
				d = (unsigned)(ENT_LO(&t) >> (8 * byte)) & 255;
			}
			e[next[b]++] = t;
		}
	}
	for (unsigned b = 0; b < 256; b++)
		if (count[b] > 1)
			CAT(radix_sort, SFX)(e + start[b], count[b], byte - 1);
}

static void CAT(sort_ents, SFX)(ENT *e, size_t n)
{
	size_t i = 1;

	while (i < n && !CAT(ent_lt, SFX)(&e[i], &e[i - 1]))
		i++;
	if (i < n)
		CAT(radix_sort, SFX)(e, n, (int)sizeof(KEY) - 1);
}

/* State of one sweep over the sorted entries. */
struct CAT(sweep, SFX) {
	const ENT *e;
	size_t n, next;         /* entries; next one to enter */
	size_t *act;            /* indexes of entries covering x */
	size_t nact, aact;
	KEY x;                  /* start of the current segment */
	int done;
	const struct vtab *vt;
	int keep_first;
	struct vset *vs;
};

/* Result over the current segment, from the covering entries. */
static segres_t CAT(sweep_result, SFX)(struct CAT(sweep, SFX) *s)
{
	uint32_t best = UINT32_MAX, ids[64];
	unsigned nids = 0;

	for (size_t k = 0; k < s->nact; k++) {
		uint32_t prio = (uint32_t)(s->e[s->act[k]].meta >> PRIO_SHIFT);

		if (prio < best)
			best = prio;
	}
	for (size_t k = 0; k < s->nact; k++) {
		META_T meta = s->e[s->act[k]].meta;
		uint32_t id;

		if ((uint32_t)(meta >> PRIO_SHIFT) != best)
			continue;
		if ((meta >> EXCL_SHIFT) & 1)
			return 0;       /* excluded */
		id = vtab_map(s->vt, (uint32_t)(meta & SEG_VAL_MAX));
		unsigned d = 0;
		while (d < nids && ids[d] != id)
			d++;
		if (d == nids && nids < ARRAY_SIZE(ids))
			ids[nids++] = id;
		if (s->keep_first)
			break;
	}
	if (!nids)
		return 0;
	return vset_intern(s->vs, ids, nids);
}

/* Advance to the next segment: [*lo, *hi] with result *r. Returns 0 at
 * the end. Active entries are kept in sorted-input order. */
static int CAT(sweep_next, SFX)(struct CAT(sweep, SFX) *s, KEY *lo, KEY *hi,
				segres_t *r)
{
	KEY end;
	size_t k, w;

	if (s->done)
		return 0;
	if (!s->nact) {
		if (s->next == s->n)
			return 0;
		s->x = ENT_LO(&s->e[s->next]);
	}
	while (s->next < s->n && ENT_LO(&s->e[s->next]) == s->x) {
		if (s->nact == s->aact) {
			s->aact = s->aact ? s->aact * 2 : 16;
			s->act = xreallocarray(s->act, s->aact, sizeof(*s->act));
		}
		s->act[s->nact++] = s->next++;
	}
	end = KEY_MAX;
	for (k = 0; k < s->nact; k++)
		if (ENT_HI(&s->e[s->act[k]]) < end)
			end = ENT_HI(&s->e[s->act[k]]);
	if (s->next < s->n && ENT_LO(&s->e[s->next]) - 1 < end)
		end = ENT_LO(&s->e[s->next]) - 1;
	*lo = s->x;
	*hi = end;
	*r = CAT(sweep_result, SFX)(s);
	if (end == KEY_MAX)
		s->done = 1;
	s->x = end + 1;
	for (k = w = 0; k < s->nact; k++)
		if (ENT_HI(&s->e[s->act[k]]) >= s->x)
			s->act[w++] = s->act[k];
	s->nact = s->done ? 0 : w;
	return 1;
}

static void CAT(sweep_init, SFX)(struct CAT(sweep, SFX) *s, const ENT *e,
				 size_t n, const struct vtab *vt, int keep_first,
				 struct vset *vs)
{
	memset(s, 0, sizeof(*s));
	s->e = e;
	s->n = n;
	s->vt = vt;
	s->keep_first = keep_first;
	s->vs = vs;
}

/* Iterate merged listed segments: adjacent segments with one result are
 * joined; unlisted ones are skipped. */
#define SWEEP_MERGED(s, LO, HI, R, BODY) do {                              \
	KEY a_, b_, plo_ = 0, phi_ = 0;                                     \
	segres_t r_, pr_ = 0;                                               \
	int have_ = 0;                                                      \
	while (CAT(sweep_next, SFX)(s, &a_, &b_, &r_)) {                    \
		if (have_ && r_ == pr_ && a_ == phi_ + 1) {                 \
			phi_ = b_;                                          \
			continue;                                           \
		}                                                           \
		if (have_) { LO = plo_; HI = phi_; R = pr_; BODY; }         \
		have_ = r_ != 0;                                            \
		plo_ = a_; phi_ = b_; pr_ = r_;                             \
	}                                                                   \
	if (have_) { LO = plo_; HI = phi_; R = pr_; BODY; }                 \
} while (0)

static void F(index)(MAP *m);

MAP *F(build)(VEC *v, const struct vtab *vt, int keep_first)
{
	MAP *m;

	BUILD_POINTS(v, vt, keep_first);
	m = xcalloc(1, sizeof(*m));
	struct vset vs;
	struct CAT(sweep, SFX) s;
	size_t count = 0, i, released = 0;
	int single = 1, same = 1, blocks = BLOCKS_OK;
	KEY lo, hi;
	segres_t r, first = 0;

	CAT(sort_ents, SFX)(v->e, v->n);
	vset_init(&vs);
	/* Pass 1: count segments and find which arrays are needed. */
	CAT(sweep_init, SFX)(&s, v->e, v->n, vt, keep_first, &vs);
	SWEEP_MERGED(&s, lo, hi, r, {
		if (!count)
			first = r;
		single &= lo == hi;
		same &= r == first;
		blocks &= block_bits(lo, hi) >= 0;
		count++;
	});
	m->n = count;
	m->res0 = first;
	m->lo = xreallocarray(NULL, count ? count : 1, sizeof(KEY));
	blocks &= !single;
	m->hi = single || blocks ? NULL : xreallocarray(NULL, count ? count : 1, sizeof(KEY));
	m->blk = blocks ? xmalloc(count ? count : 1) : NULL;
	m->res = same ? NULL : xreallocarray(NULL, count ? count : 1, sizeof(segres_t));
	/* Pass 2: write, releasing the consumed input as we go. */
	s.next = s.nact = 0;
	s.done = 0;
	i = 0;
	SWEEP_MERGED(&s, lo, hi, r, {
		m->lo[i] = lo;
		if (m->hi)
			m->hi[i] = hi;
		if (m->blk)
			m->blk[i] = (uint8_t)block_bits(lo, hi);
		if (m->res)
			m->res[i] = r;
		i++;
		big_release(v->e, (s.nact ? s.act[0] : s.next) * sizeof(ENT), &released);
	});
	free(s.act);
	V(free)(v);
	m->vpool = vset_take(&vs, &m->nvpool);
	m->bytes = sizeof(*m) + count * sizeof(KEY) * (m->hi ? 2 : 1) +
		   (m->blk ? count : 0) +
		   (m->res ? count * sizeof(segres_t) : 0) +
		   m->nvpool * sizeof(uint32_t);
	F(index)(m);
	return m;
}

static inline KEY F(end_of)(const MAP *m, size_t i);

static void F(index)(MAP *m)
{
	size_t i = 0;

	if (m->n < IDX_MIN)
		return;
	m->idx = xreallocarray(NULL, 65537, sizeof(*m->idx));
	for (uint32_t b = 0; b < 65536; b++) {
		/* first segment that ends at or after the block start */
		while (i < m->n && F(end_of)(m, i) < ((KEY)b << TOP_SHIFT))
			i++;
		m->idx[b] = (uint32_t)i;
	}
	m->idx[65536] = (uint32_t)m->n;
	m->bytes += 65537 * sizeof(*m->idx);
}

/* Index of the last segment starting at or before a; (size_t)-1 if none. */
static size_t F(locate)(const MAP *m, KEY a)
{
	size_t lo = 0, hi = m->n;

	if (m->idx) {
		uint32_t b = (uint32_t)(a >> TOP_SHIFT);

		/* The last start <= a is at or after idx[b] - 1 (a segment
		 * may begin in an earlier block) and before idx[b+1] + 1. */
		lo = m->idx[b] ? m->idx[b] - 1 : 0;
		hi = m->idx[b + 1] < m->n ? m->idx[b + 1] + 1 : m->n;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->lo[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : (size_t)-1;
}

static inline KEY F(end_of)(const MAP *m, size_t i)
{
	if (m->hi)
		return m->hi[i];
	if (m->blk)
		return m->lo[i] | block_mask(m->blk[i]);
	return m->lo[i];
}

segres_t F(find)(const MAP *m, KEY a)
{
	size_t i = F(locate)(m, a);

	if (i == (size_t)-1 || a > F(end_of)(m, i))
		return 0;
	return m->res ? m->res[i] : m->res0;
}

int F(any)(const MAP *m, KEY lo, KEY hi)
{
	size_t i = F(locate)(m, lo);

	if (i != (size_t)-1 && lo <= F(end_of)(m, i))
		return 1;
	i = i == (size_t)-1 ? 0 : i + 1;
	return i < m->n && m->lo[i] <= hi;
}

unsigned F(values)(const MAP *m, segres_t r, uint32_t *one, const uint32_t **ids)
{
	return vset_get(m->vpool, r, one, ids);
}

int F(walk)(const MAP *m, int (*cb)(void *arg, KEY lo, KEY hi, segres_t r),
	    void *arg)
{
	for (size_t i = 0; i < m->n; i++) {
		int rc = cb(arg, m->lo[i], F(end_of)(m, i),
			    m->res ? m->res[i] : m->res0);
		if (rc)
			return rc;
	}
	return 0;
}

size_t F(count)(const MAP *m)
{
	return m->n;
}

size_t F(bytes)(const MAP *m)
{
	return m->bytes;
}

void F(free)(MAP *m)
{
	if (!m)
		return;
	free(m->lo);
	free(m->hi);
	free(m->blk);
	free(m->res);
	free(m->vpool);
	free(m->idx);
	free(m);
}

#undef F
#undef V
#undef ENT
#undef VEC
#undef MAP
#undef SWEEP_MERGED
