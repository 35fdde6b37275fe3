/*
 * test_segmap.c - unit tests for the segment maps behind every IP dataset:
 * priorities (most specific wins), exclusions, values of equal priority
 * answered together, keep_first for the tries, the ends of the address
 * spaces, any() range queries and walk(); and a randomised comparison of
 * find() and walk() with a direct model of the rules, for IPv4 maps small
 * and large enough to use the /16 index.
 */
#include "unit.h"
#include "serve/segmap.h"
#include "serve/value.h"

#include <stdlib.h>
#include <string.h>

#define NVALS 64

/* A value table of NVALS distinct values: raw id i maps to final id i. */
static vtab_t *make_vtab(void)
{
	struct value_vars vars = { { NULL } };
	vtab_t *t = vtab_new();

	for (unsigned i = 0; i < NVALS; i++) {
		struct value_raw v;

		value_default(&v);
		v.a[2] = (uint8_t)(i >> 8);
		v.a[3] = (uint8_t)i;
		vtab_add_raw(t, &v);
	}
	vtab_finish(t, &vars);
	return t;
}

/* The values at a as text "id,id" ("-" when not listed). */
static const char *at4(const segmap4_t *m, uint32_t a)
{
	static char buf[256];
	const uint32_t *ids;
	uint32_t one;
	segres_t r = segmap4_find(m, a);
	unsigned n;
	size_t p = 0;

	if (!r)
		return "-";
	n = segmap4_values(m, r, &one, &ids);
	for (unsigned i = 0; i < n; i++)
		p += (size_t)snprintf(buf + p, sizeof(buf) - p, "%s%u", i ? "," : "", ids[i]);
	return buf;
}

static const char *at6(const segmap6_t *m, u128 a)
{
	static char buf[256];
	const uint32_t *ids;
	uint32_t one;
	segres_t r = segmap6_find(m, a);
	unsigned n;
	size_t p = 0;

	if (!r)
		return "-";
	n = segmap6_values(m, r, &one, &ids);
	for (unsigned i = 0; i < n; i++)
		p += (size_t)snprintf(buf + p, sizeof(buf) - p, "%s%u", i ? "," : "", ids[i]);
	return buf;
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

UNIT_TEST(empty_map)
{
	struct seg_vec4 v = { 0 };
	vtab_t *t = make_vtab();
	segmap4_t *m = segmap4_build(&v, t, 0);

	CHECK_EQ_INT(segmap4_count(m), 0);
	CHECK_EQ_STR(at4(m, 0), "-");
	CHECK_EQ_STR(at4(m, 0xffffffffu), "-");
	CHECK_EQ_INT(segmap4_any(m, 0, 0xffffffffu), 0);
	segmap4_free(m);
	vtab_free(t);
}

UNIT_TEST(single_range_edges)
{
	struct seg_vec4 v = { 0 };
	vtab_t *t = make_vtab();
	segmap4_t *m;

	segvec4_push(&v, IP(10, 0, 0, 0), IP(10, 255, 255, 255), 3, 24, 0);
	m = segmap4_build(&v, t, 0);
	CHECK_EQ_INT(v.n, 0);           /* the vector is consumed */
	CHECK_EQ_STR(at4(m, IP(9, 255, 255, 255)), "-");
	CHECK_EQ_STR(at4(m, IP(10, 0, 0, 0)), "3");
	CHECK_EQ_STR(at4(m, IP(10, 128, 0, 1)), "3");
	CHECK_EQ_STR(at4(m, IP(10, 255, 255, 255)), "3");
	CHECK_EQ_STR(at4(m, IP(11, 0, 0, 0)), "-");
	CHECK_EQ_INT(segmap4_count(m), 1);
	segmap4_free(m);
	vtab_free(t);
}

UNIT_TEST(more_specific_wins)
{
	/* ip4set priorities: /8 entries 24, /24 entries 8, /32 entries 0 */
	struct seg_vec4 v = { 0 };
	vtab_t *t = make_vtab();
	segmap4_t *m;

	segvec4_push(&v, IP(10, 0, 0, 0), IP(10, 255, 255, 255), 1, 24, 0);
	segvec4_push(&v, IP(10, 1, 2, 0), IP(10, 1, 2, 255), 2, 8, 0);
	segvec4_push(&v, IP(10, 1, 2, 3), IP(10, 1, 2, 3), 3, 0, 0);
	m = segmap4_build(&v, t, 0);
	CHECK_EQ_STR(at4(m, IP(10, 0, 0, 1)), "1");
	CHECK_EQ_STR(at4(m, IP(10, 1, 1, 255)), "1");
	CHECK_EQ_STR(at4(m, IP(10, 1, 2, 0)), "2");
	CHECK_EQ_STR(at4(m, IP(10, 1, 2, 2)), "2");
	CHECK_EQ_STR(at4(m, IP(10, 1, 2, 3)), "3");
	CHECK_EQ_STR(at4(m, IP(10, 1, 2, 4)), "2");
	CHECK_EQ_STR(at4(m, IP(10, 1, 3, 0)), "1");
	/* 1 | 2 | 3 | 2 | 1 */
	CHECK_EQ_INT(segmap4_count(m), 5);
	segmap4_free(m);
	vtab_free(t);
}

UNIT_TEST(equal_priority_values_together)
{
	/* two /8 entries of one granularity answer both values; a repeated
	 * value is listed once */
	struct seg_vec4 v = { 0 };
	vtab_t *t = make_vtab();
	segmap4_t *m;

	segvec4_push(&v, IP(11, 0, 0, 0), IP(11, 255, 255, 255), 5, 24, 0);
	segvec4_push(&v, IP(11, 0, 0, 0), IP(11, 255, 255, 255), 4, 24, 0);
	segvec4_push(&v, IP(11, 0, 0, 0), IP(11, 255, 255, 255), 5, 24, 0);
	segvec4_push(&v, IP(11, 0, 0, 0), IP(11, 0, 0, 255), 6, 24, 0);
	m = segmap4_build(&v, t, 0);
	CHECK_EQ_STR(at4(m, IP(11, 0, 0, 7)), "4,5,6");
	CHECK_EQ_STR(at4(m, IP(11, 0, 1, 0)), "4,5");
	CHECK_EQ_STR(at4(m, IP(11, 255, 255, 255)), "4,5");
	segmap4_free(m);
	vtab_free(t);
}

UNIT_TEST(exclusions)
{
	struct seg_vec4 v = { 0 };
	vtab_t *t = make_vtab();
	segmap4_t *m;

	segvec4_push(&v, IP(10, 0, 0, 0), IP(10, 255, 255, 255), 1, 24, 0);
	segvec4_push(&v, IP(10, 1, 0, 0), IP(10, 1, 255, 255), 0, 16, 1);
	segvec4_push(&v, IP(10, 1, 2, 3), IP(10, 1, 2, 3), 2, 0, 0);
	/* an exclusion at the same priority as a listing wins */
	segvec4_push(&v, IP(10, 9, 9, 9), IP(10, 9, 9, 9), 3, 0, 0);
	segvec4_push(&v, IP(10, 9, 9, 9), IP(10, 9, 9, 9), 0, 0, 1);
	m = segmap4_build(&v, t, 0);
	CHECK_EQ_STR(at4(m, IP(10, 0, 255, 255)), "1");
	CHECK_EQ_STR(at4(m, IP(10, 1, 0, 0)), "-");
	CHECK_EQ_STR(at4(m, IP(10, 1, 2, 2)), "-");
	CHECK_EQ_STR(at4(m, IP(10, 1, 2, 3)), "2");     /* more specific */
	CHECK_EQ_STR(at4(m, IP(10, 1, 255, 255)), "-");
	CHECK_EQ_STR(at4(m, IP(10, 2, 0, 0)), "1");
	CHECK_EQ_STR(at4(m, IP(10, 9, 9, 8)), "1");
	CHECK_EQ_STR(at4(m, IP(10, 9, 9, 9)), "-");
	CHECK_EQ_STR(at4(m, IP(10, 9, 9, 10)), "1");
	/* an exclusion alone lists nothing */
	CHECK_EQ_INT(segmap4_any(m, IP(10, 1, 0, 0), IP(10, 1, 2, 2)), 0);
	CHECK_EQ_INT(segmap4_any(m, IP(10, 1, 0, 0), IP(10, 1, 2, 3)), 1);
	segmap4_free(m);
	vtab_free(t);
}

UNIT_TEST(keep_first)
{
	/* the tries: of duplicates (same start and prefix) the first counts */
	struct seg_vec4 v = { 0 };
	vtab_t *t = make_vtab();
	segmap4_t *m;

	segvec4_push(&v, IP(10, 20, 30, 40), IP(10, 20, 30, 40), 7, 0, 0);
	segvec4_push(&v, IP(10, 20, 30, 40), IP(10, 20, 30, 40), 8, 0, 0);
	segvec4_push(&v, IP(10, 0, 0, 0), IP(10, 255, 255, 255), 9, 24, 0);
	segvec4_push(&v, IP(10, 0, 0, 0), IP(10, 255, 255, 255), 1, 24, 0);
	m = segmap4_build(&v, t, 1);
	CHECK_EQ_STR(at4(m, IP(10, 20, 30, 40)), "7");
	CHECK_EQ_STR(at4(m, IP(10, 20, 30, 41)), "1");  /* raw id order */
	segmap4_free(m);
	vtab_free(t);

	/* without keep_first both */
	t = make_vtab();
	segvec4_push(&v, IP(10, 20, 30, 40), IP(10, 20, 30, 40), 8, 0, 0);
	segvec4_push(&v, IP(10, 20, 30, 40), IP(10, 20, 30, 40), 7, 0, 0);
	m = segmap4_build(&v, t, 0);
	CHECK_EQ_STR(at4(m, IP(10, 20, 30, 40)), "7,8");
	segmap4_free(m);
	vtab_free(t);
}

UNIT_TEST(ends_of_ip4)
{
	struct seg_vec4 v = { 0 };
	vtab_t *t = make_vtab();
	segmap4_t *m;

	segvec4_push(&v, 0, 0, 1, 0, 0);
	segvec4_push(&v, 0xffffffffu, 0xffffffffu, 2, 0, 0);
	m = segmap4_build(&v, t, 0);
	CHECK_EQ_STR(at4(m, 0), "1");
	CHECK_EQ_STR(at4(m, 1), "-");
	CHECK_EQ_STR(at4(m, 0xfffffffeu), "-");
	CHECK_EQ_STR(at4(m, 0xffffffffu), "2");
	CHECK_EQ_INT(segmap4_any(m, 1, 0xfffffffeu), 0);
	CHECK_EQ_INT(segmap4_any(m, 0, 0), 1);
	CHECK_EQ_INT(segmap4_any(m, 0xfffffffeu, 0xffffffffu), 1);
	segmap4_free(m);

	/* everything, with a hole at each end */
	segvec4_push(&v, 0, 0xffffffffu, 3, 32, 0);
	segvec4_push(&v, 0, 0, 0, 0, 1);
	segvec4_push(&v, 0xffffffffu, 0xffffffffu, 0, 0, 1);
	m = segmap4_build(&v, t, 0);
	CHECK_EQ_STR(at4(m, 0), "-");
	CHECK_EQ_STR(at4(m, 1), "3");
	CHECK_EQ_STR(at4(m, 0x80000000u), "3");
	CHECK_EQ_STR(at4(m, 0xfffffffeu), "3");
	CHECK_EQ_STR(at4(m, 0xffffffffu), "-");
	CHECK_EQ_INT(segmap4_count(m), 1);
	segmap4_free(m);

	/* the whole space, one segment ending at the top */
	segvec4_push(&v, 0, 0xffffffffu, 4, 32, 0);
	m = segmap4_build(&v, t, 0);
	CHECK_EQ_STR(at4(m, 0), "4");
	CHECK_EQ_STR(at4(m, 0xffffffffu), "4");
	CHECK_EQ_INT(segmap4_count(m), 1);
	segmap4_free(m);
	vtab_free(t);
}

static u128 u6(uint64_t hi, uint64_t lo)
{
	return (u128)hi << 64 | lo;
}

UNIT_TEST(ends_of_ip6)
{
	struct seg_vec6 v = { 0 };
	vtab_t *t = make_vtab();
	const u128 top = ~(u128)0;
	segmap6_t *m;

	segvec6_push(&v, 0, 0, 1, 0, 0);                        /* ::/128 */
	segvec6_push(&v, top, top, 2, 0, 0);                    /* ffff..ffff */
	segvec6_push(&v, u6(0x20010db800000000ull, 0), u6(0x20010db8ffffffffull, ~0ull),
		     3, 96, 0);                                 /* 2001:db8::/32 */
	segvec6_push(&v, u6(0x20010db800010000ull, 0), u6(0x20010db80001ffffull, ~0ull),
		     0, 80, 1);                                 /* !2001:db8:1::/48 */
	m = segmap6_build(&v, t, 1);
	CHECK_EQ_STR(at6(m, 0), "1");
	CHECK_EQ_STR(at6(m, 1), "-");
	CHECK_EQ_STR(at6(m, top), "2");
	CHECK_EQ_STR(at6(m, top - 1), "-");
	CHECK_EQ_STR(at6(m, u6(0x20010db800000000ull, 5)), "3");
	CHECK_EQ_STR(at6(m, u6(0x20010db800010000ull, 0)), "-");
	CHECK_EQ_STR(at6(m, u6(0x20010db80001ffffull, ~0ull)), "-");
	CHECK_EQ_STR(at6(m, u6(0x20010db800020000ull, 0)), "3");
	CHECK_EQ_STR(at6(m, u6(0x20010db900000000ull, 0)), "-");
	CHECK_EQ_INT(segmap6_any(m, 1, top - 1), 1);
	CHECK_EQ_INT(segmap6_any(m, 1, u6(0x20010db7ffffffffull, ~0ull)), 0);
	CHECK_EQ_INT(segmap6_any(m, u6(0x20010db800010000ull, 0),
				 u6(0x20010db80001ffffull, ~0ull)), 0);
	CHECK_EQ_INT(segmap6_any(m, u6(0x20010db900000000ull, 0), top - 1), 0);
	CHECK_EQ_INT(segmap6_any(m, u6(0x20010db900000000ull, 0), top), 1);
	segmap6_free(m);

	segvec6_push(&v, 0, top, 4, 128, 0);                    /* ::/0 */
	m = segmap6_build(&v, t, 1);
	CHECK_EQ_STR(at6(m, 0), "4");
	CHECK_EQ_STR(at6(m, top), "4");
	CHECK_EQ_INT(segmap6_count(m), 1);
	segmap6_free(m);
	vtab_free(t);
}

UNIT_TEST(any_ranges)
{
	struct seg_vec4 v = { 0 };
	vtab_t *t = make_vtab();
	segmap4_t *m;

	segvec4_push(&v, IP(1, 2, 3, 0), IP(1, 2, 3, 255), 1, 8, 0);
	segvec4_push(&v, IP(1, 2, 5, 7), IP(1, 2, 5, 7), 2, 0, 0);
	m = segmap4_build(&v, t, 0);
	/* ranges before, touching, inside, between and after */
	CHECK_EQ_INT(segmap4_any(m, 0, IP(1, 2, 2, 255)), 0);
	CHECK_EQ_INT(segmap4_any(m, 0, IP(1, 2, 3, 0)), 1);
	CHECK_EQ_INT(segmap4_any(m, IP(1, 2, 3, 9), IP(1, 2, 3, 9)), 1);
	CHECK_EQ_INT(segmap4_any(m, IP(1, 2, 3, 255), IP(1, 2, 3, 255)), 1);
	CHECK_EQ_INT(segmap4_any(m, IP(1, 2, 4, 0), IP(1, 2, 5, 6)), 0);
	CHECK_EQ_INT(segmap4_any(m, IP(1, 2, 4, 0), IP(1, 2, 5, 7)), 1);
	CHECK_EQ_INT(segmap4_any(m, IP(1, 2, 5, 8), 0xffffffffu), 0);
	CHECK_EQ_INT(segmap4_any(m, IP(1, 2, 0, 0), IP(1, 2, 255, 255)), 1);
	CHECK_EQ_INT(segmap4_any(m, 0, 0xffffffffu), 1);
	segmap4_free(m);
	vtab_free(t);
}

struct walked {
	uint32_t lo[16], hi[16];
	segres_t r[16];
	int n, stop_at;
};

static int walk_cb(void *arg, uint32_t lo, uint32_t hi, segres_t r)
{
	struct walked *w = arg;

	if (w->n < 16) {
		w->lo[w->n] = lo;
		w->hi[w->n] = hi;
		w->r[w->n] = r;
	}
	w->n++;
	return w->n == w->stop_at ? 42 : 0;
}

UNIT_TEST(walk_merges_and_stops)
{
	struct seg_vec4 v = { 0 };
	struct walked w = { .stop_at = 0 };
	vtab_t *t = make_vtab();
	segmap4_t *m;

	/* adjacent ranges with one value are one segment */
	segvec4_push(&v, IP(10, 0, 0, 0), IP(10, 0, 0, 255), 1, 8, 0);
	segvec4_push(&v, IP(10, 0, 1, 0), IP(10, 0, 1, 255), 1, 8, 0);
	segvec4_push(&v, IP(10, 0, 2, 0), IP(10, 0, 2, 255), 2, 8, 0);
	segvec4_push(&v, IP(10, 0, 4, 0), IP(10, 0, 4, 255), 2, 8, 0);
	m = segmap4_build(&v, t, 0);
	CHECK_EQ_INT(segmap4_walk(m, walk_cb, &w), 0);
	CHECK_EQ_INT(w.n, 3);
	CHECK_EQ_INT(w.lo[0], IP(10, 0, 0, 0));
	CHECK_EQ_INT(w.hi[0], IP(10, 0, 1, 255));
	CHECK_EQ_INT(w.lo[1], IP(10, 0, 2, 0));
	CHECK_EQ_INT(w.hi[1], IP(10, 0, 2, 255));
	CHECK_EQ_INT(w.lo[2], IP(10, 0, 4, 0));
	CHECK_EQ_INT(w.hi[2], IP(10, 0, 4, 255));
	CHECK(w.r[0] != w.r[1]);
	CHECK(w.r[1] == w.r[2]);
	CHECK_EQ_INT(segmap4_count(m), 3);
	/* a nonzero return stops the walk and is returned */
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	CHECK_EQ_INT(segmap4_walk(m, walk_cb, &w), 42);
	CHECK_EQ_INT(w.n, 2);
	segmap4_free(m);
	vtab_free(t);
}

/* --- randomised comparison with a model of the rules --- */

struct ment {
	uint32_t lo, hi, val;
	unsigned prio;
	int excl;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static int ment_cmp(const void *x, const void *y)
{
	const struct ment *a = x, *b = y;
	uint32_t ma = a->prio << 26 | (uint32_t)a->excl << 25 | a->val;
	uint32_t mb = b->prio << 26 | (uint32_t)b->excl << 25 | b->val;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return ma < mb ? -1 : ma > mb;
}

/* The expected values at a as text, from the sorted entries. */
static const char *model(const struct ment *e, size_t n, uint32_t a, int keep_first)
{
	static char buf[256];
	unsigned best = ~0u, ids[64], nids = 0;
	size_t p = 0;

	for (size_t i = 0; i < n; i++)
		if (e[i].lo <= a && a <= e[i].hi && e[i].prio < best)
			best = e[i].prio;
	for (size_t i = 0; i < n; i++) {
		unsigned d = 0;

		if (!(e[i].lo <= a && a <= e[i].hi) || e[i].prio != best)
			continue;
		if (e[i].excl)
			return "-";
		while (d < nids && ids[d] != e[i].val)
			d++;
		if (d == nids)
			ids[nids++] = e[i].val;
		if (keep_first)
			break;
	}
	if (!nids)
		return "-";
	for (unsigned i = 0; i < nids; i++)
		p += (size_t)snprintf(buf + p, sizeof(buf) - p, "%s%u", i ? "," : "", ids[i]);
	return buf;
}

struct walk_check {
	const struct ment *e;
	size_t n;
	int keep_first, bad;
	uint32_t next;          /* first address after the previous segment */
	const segmap4_t *m;
};

static int walk_check_cb(void *arg, uint32_t lo, uint32_t hi, segres_t r)
{
	struct walk_check *w = arg;
	char want[256];

	/* segments are ordered, disjoint, listed, and agree with the model
	 * at both ends and around */
	if (lo < w->next || hi < lo || !r)
		w->bad++;
	snprintf(want, sizeof(want), "%s", model(w->e, w->n, lo, w->keep_first));
	if (!strcmp(want, "-") || strcmp(want, model(w->e, w->n, hi, w->keep_first)))
		w->bad++;
	if (strcmp(want, at4(w->m, lo)) || strcmp(want, at4(w->m, hi)))
		w->bad++;
	if (lo > 0 && lo > w->next && strcmp("-", model(w->e, w->n, lo - 1, w->keep_first)))
		w->bad++;
	w->next = hi + 1;
	return 0;
}

/* Build a map of n random entries in [base, base + span) and compare. */
static int random_round_x(size_t n, uint32_t base, uint32_t span, int keep_first,
			  unsigned probes, unsigned long_one_in, int points)
{
	struct ment *e = calloc(n, sizeof(*e));
	struct seg_vec4 v = { 0 };
	struct walk_check wc = { 0 };
	vtab_t *t = make_vtab();
	segmap4_t *m;
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		int is_long = rnd() % long_one_in == 0;
		uint32_t a = base + rnd() % span,
			 len = points ? 0 : is_long ? rnd() % (span / 4 + 1) : rnd() % 8;

		e[i].lo = a;
		e[i].hi = a + len < a ? 0xffffffffu : a + len;
		e[i].prio = points ? rnd() % 2 : is_long ? 3 : rnd() % 4;
		e[i].excl = rnd() % 7 == 0;
		e[i].val = e[i].excl ? 0 : rnd() % NVALS;
		segvec4_push(&v, e[i].lo, e[i].hi, e[i].val, e[i].prio, e[i].excl);
	}
	qsort(e, n, sizeof(*e), ment_cmp);
	m = segmap4_build(&v, t, keep_first);
	if (n >= 6000 && segmap4_count(m) < 4096) {
		printf("  only %zu segments: the index is not used\n",
		       segmap4_count(m));
		bad++;
	}
	for (unsigned k = 0; k < probes; k++) {
		uint32_t a;

		switch (k % 4) {
		case 0: a = base + rnd() % span; break;
		case 1: a = e[rnd() % n].lo; break;
		case 2: a = e[rnd() % n].hi; break;
		default: a = e[rnd() % n].hi + 1; break;
		}
		if (strcmp(model(e, n, a, keep_first), at4(m, a))) {
			if (!bad)
				printf("  at %08x: want %s, got %s\n", a,
				       model(e, n, a, keep_first), at4(m, a));
			bad++;
		}
	}
	wc.e = e;
	wc.n = n;
	wc.keep_first = keep_first;
	wc.m = m;
	segmap4_walk(m, walk_check_cb, &wc);
	bad += wc.bad;
	segmap4_free(m);
	vtab_free(t);
	free(e);
	return bad;
}

static int random_round(size_t n, uint32_t base, uint32_t span, int keep_first,
			unsigned probes, unsigned long_one_in)
{
	return random_round_x(n, base, span, keep_first, probes, long_one_in, 0);
}

UNIT_TEST(random_point_maps_match_model)
{
	/* only single addresses: the compact 8-byte build path, with
	 * duplicates, exclusions and both priorities on one address */
	int bad = 0;

	for (int round = 0; round < 200; round++)
		bad += random_round_x(1 + rnd() % 60, round % 2 ? 0 : 0xffffff00u,
				      64, round % 3 == 0, 300, 4, 1);
	CHECK_EQ_INT(bad, 0);
	bad = random_round_x(8000, 0, 0xffffffffu, 0, 4000, 200, 1);
	CHECK_EQ_INT(bad, 0);
}

UNIT_TEST(random_small_maps_match_model)
{
	int bad = 0;

	for (int round = 0; round < 200; round++)
		bad += random_round(1 + rnd() % 40, round % 2 ? 0 : 0xffffff00u,
				    256, round % 3 == 0, 300, 4);
	CHECK_EQ_INT(bad, 0);
}

UNIT_TEST(random_large_map_with_index_matches_model)
{
	/* more than 4096 segments spread over the whole space: the lookup
	 * goes through the /16 index */
	int bad = random_round(6000, 0, 0xffffffffu, 0, 4000, 200);

	CHECK_EQ_INT(bad, 0);
	bad = random_round(6000, 0, 0xffffffffu, 1, 4000, 200);
	CHECK_EQ_INT(bad, 0);
}

UNIT_MAIN()
