/*
 * segmap.h - immutable maps from IP addresses to value sets.
 *
 * Every IP dataset type (ip4set, ip4tset, ip4trie, ip6trie, ip6tset, acl)
 * parses its lines into raw entries - a range [lo, hi], a value, a
 * priority and an exclusion flag - and builds one segmap. The build sweeps
 * the sorted entries once and stores the answer for every address as
 * disjoint segments: sorted arrays of starts, ends and result ids, with no
 * per-entry pointers and no expansion of CIDRs or ranges. A lookup is a
 * binary search (for IPv4 narrowed by a table on the top 16 bits).
 *
 * The answer at an address is taken from the covering entries of the
 * smallest priority number: rbldnsd's ip4set uses the granularity it
 * stores a range at (/32, /24, /16, /8) and answers with every entry of
 * the most specific one; the tries use 128 - prefix length (longest
 * prefix wins). An exclusion among them means "not listed".
 *
 * SECURITY: input is entries from parsed data files; sizes are checked
 * for overflow before allocation. Lookups never allocate.
 */
#ifndef RBLKIT_SEGMAP_H
#define RBLKIT_SEGMAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/ipaddr.h"	/* u128 */

/* A result: 0 = not listed; otherwise a value set (see segmap_values). */
typedef uint32_t segres_t;

typedef struct segmap4 segmap4_t;
typedef struct segmap6 segmap6_t;

/* Raw entries as parsed, collected in a vector that the build consumes.
 * val is the value's raw id (parse order, see vtab_add_raw), which
 * orders duplicates as the file does. prio: smaller wins (0..63). */
struct seg_vec4 {
	struct seg_ent4 *e;
	size_t n, cap;
	/* While every entry is a single address (big lists usually are),
	 * entries are kept as 8-byte lo << 32 | meta words instead. */
	uint64_t *pt;
	size_t pn, pcap;
	int mixed;              /* a range came: all entries are in e */
};
struct seg_vec6 {
	struct seg_ent6 *e;
	size_t n, cap;
};
struct seg_ent4 {
	uint32_t lo, hi;
	uint32_t meta;          /* prio << 26 | excl << 25 | raw value id */
};
struct seg_ent6 {
	uint64_t lo_h, lo_l;    /* start (an aligned block: CIDRs) */
	uint64_t meta;          /* prio << 41 | block bits << 33 | excl << 32
				 * | raw value id */
};
#define SEG_VAL_MAX ((1u << 25) - 1)

struct vtab;
/* Append an entry; returns 0, or -1 when val exceeds SEG_VAL_MAX. */
int segvec4_push(struct seg_vec4 *v, uint32_t lo, uint32_t hi, uint32_t val,
		 unsigned prio, int excl);
int segvec6_push(struct seg_vec6 *v, u128 lo, u128 hi, uint32_t val,
		 unsigned prio, int excl);
void segvec4_free(struct seg_vec4 *v);
/* Give every entry the raw value val (the "trivial" set types). */
void segvec4_set_value(struct seg_vec4 *v, uint32_t val);
void segvec6_set_value(struct seg_vec6 *v, uint32_t val);
void segvec6_free(struct seg_vec6 *v);

/* Build a map from the vector (which is consumed and emptied). Raw value
 * ids are mapped to final ones with vtab_map(vt). keep_first: of entries
 * with the same start and priority only the first counts (the tries'
 * rule for duplicates). Never fails (panics on ENOMEM). */
segmap4_t *segmap4_build(struct seg_vec4 *v, const struct vtab *vt, int keep_first);
segmap6_t *segmap6_build(struct seg_vec6 *v, const struct vtab *vt, int keep_first);

/* Result for address a; 0 if not listed. */
segres_t segmap4_find(const segmap4_t *m, uint32_t a);
segres_t segmap6_find(const segmap6_t *m, u128 a);

/* 1 if some listed address lies in [lo, hi]. */
int segmap4_any(const segmap4_t *m, uint32_t lo, uint32_t hi);
int segmap6_any(const segmap6_t *m, u128 lo, u128 hi);

/* The value ids of a result r != 0: returns the count and points *ids at
 * them (at *one for a single value). */
unsigned segmap4_values(const segmap4_t *m, segres_t r, uint32_t *one,
			const uint32_t **ids);
unsigned segmap6_values(const segmap6_t *m, segres_t r, uint32_t *one,
			const uint32_t **ids);

/* Walk the listed segments in order: returns 0, or the first nonzero
 * value cb returned. */
int segmap4_walk(const segmap4_t *m, int (*cb)(void *arg, uint32_t lo,
		 uint32_t hi, segres_t r), void *arg);
int segmap6_walk(const segmap6_t *m, int (*cb)(void *arg, u128 lo, u128 hi,
		 segres_t r), void *arg);

size_t segmap4_count(const segmap4_t *m);
size_t segmap6_count(const segmap6_t *m);
size_t segmap4_bytes(const segmap4_t *m);
size_t segmap6_bytes(const segmap6_t *m);
void segmap4_free(segmap4_t *m);
void segmap6_free(segmap6_t *m);

#endif
