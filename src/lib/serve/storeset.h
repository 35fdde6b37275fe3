/*
 * storeset.h - the data of a zone served straight from the listing store:
 * an immutable base under a small immutable delta, and one append-only
 * table of values that every version shares.
 *
 * A layer (base or delta) keeps, per address family and prefix length, a
 * sorted array of (key, value id): 8 bytes an IPv4 entry, no pointers, so
 * that 10M entries fit in 80 MB and load with one sort. Names are a sorted
 * array of reversed wire names (TLD first, so that a subtree is one run),
 * exact names and "*.name" wildcards apart.
 *
 * Lookups are longest match: for each prefix length from the longest, the
 * delta first, then the base. A delta entry SSET_GONE is a removal: the
 * base's entry of that key is skipped and a shorter match is looked for,
 * so a removal uncovers, never hides. SSET_EXCL (rbldnsd's "!net") stops
 * the search with "not listed".
 *
 * Values (A + TXT template) are interned by the main thread only; a value
 * never moves once added (chunks), so readers of a published version read
 * them without locks.
 *
 * SECURITY: keys come parsed and canonical from the store (store.h);
 * sizes are checked for overflow before allocation. Lookups never
 * allocate.
 */
#ifndef RBLKIT_STORESET_H
#define RBLKIT_STORESET_H

#include <stddef.h>
#include <stdint.h>

#include "base/ipaddr.h"
#include "serve/value.h"

#define SSET_NONE 0xffffffffu   /* no entry: not listed */
#define SSET_EXCL 0xfffffffeu   /* excluded: "not listed", search ends */
#define SSET_GONE 0xfffffffdu   /* delta only: the key was removed */
#define SSET_VALS_MAX 0xfff00000u

enum sset_kind { SSET_IP4 = 0, SSET_IP6 = 1, SSET_NAME = 2, SSET_WILD = 3 };

/* One key: an IP prefix (addr host order as u128: IPv4 in the low 32
 * bits) or a name (reversed lowercased wire labels, no root). */
struct sset_key {
	enum sset_kind kind;
	unsigned bits;
	u128 addr;
	const uint8_t *name;
	unsigned namelen;
};

/* ---- values ---- */

struct sset_vals;

struct sset_vals *sset_vals_new(void);
void sset_vals_ref(struct sset_vals *v);
void sset_vals_unref(struct sset_vals *v);
/* The id of the value (A in network order, TXT template: "$" = the
 * queried key); added when new. Main thread only. */
uint32_t sset_val_intern(struct sset_vals *v, const uint8_t a[4], const char *txt);
/* The compiled value of id (as answer.h takes it); the raw template. */
const struct value *sset_val_get(const struct sset_vals *v, uint32_t id);
const char *sset_val_raw(const struct sset_vals *v, uint32_t id);
uint32_t sset_val_count(const struct sset_vals *v);

/* ---- layers ---- */

struct sset_layer;

/* Collect entries in any order; a later entry of the same key wins. */
struct sset_build;
struct sset_build *sset_build_new(void);
void sset_build_add(struct sset_build *b, const struct sset_key *k, uint32_t vid);
/* The layer (b is consumed). Never NULL (panics on ENOMEM). */
struct sset_layer *sset_build_finish(struct sset_build *b);
void sset_build_free(struct sset_build *b);

/* over on top of under: keys of both, over's entry where both have one;
 * with drop_gone, SSET_GONE entries (and what they remove) are left out
 * (folding a delta into a base). Neither input changes. */
struct sset_layer *sset_layer_merge(const struct sset_layer *under,
				    const struct sset_layer *over, int drop_gone);
/* Entries of a that b has with the same value left out (what changed in
 * a delta after b was folded). */
struct sset_layer *sset_layer_minus(const struct sset_layer *a, const struct sset_layer *b);
struct sset_layer *sset_layer_empty(void);
void sset_layer_ref(struct sset_layer *l);
void sset_layer_unref(struct sset_layer *l);
size_t sset_layer_count(const struct sset_layer *l);
size_t sset_layer_bytes(const struct sset_layer *l);

/* ---- a version: base + delta ---- */

struct sset {
	struct sset_layer *base;
	struct sset_layer *delta;       /* never NULL (may be empty) */
	struct sset_vals *vals;
};

/* Longest match of an address: the value id, or SSET_NONE (not listed:
 * nothing, or an exclusion). *bits (may be NULL) gets the prefix length
 * of the match. */
uint32_t sset_find_ip(const struct sset *s, int v6, u128 a, unsigned *bits);
/* The value of a name (reversed wire, len bytes, ends[i] the offset after
 * label i, nl labels): exact, else the wildcard of the nearest ancestor
 * that has one. *from gets the labels of the matched key (exact: nl).
 * SSET_NONE when not listed. */
uint32_t sset_find_name(const struct sset *s, const uint8_t *rev, const uint8_t *ends,
			unsigned nl, unsigned *from);
/* 1 if some address in [lo, hi] is listed (approximate at exclusions). */
int sset_any_ip(const struct sset *s, int v6, u128 lo, u128 hi);
/* 1 if a listed name lies strictly below rev, or a listed wildcard at or
 * above it covers its children. */
int sset_any_below(const struct sset *s, const uint8_t *rev, const uint8_t *ends,
		   unsigned nl);

/* Every entry of the merged view (delta over base, removals applied)
 * whose prefix meets [lo, hi], by prefix length then address. cb returns
 * 0 to go on. */
int sset_walk_ip(const struct sset *s, int v6, u128 lo, u128 hi,
		 int (*cb)(void *arg, const struct sset_key *k, uint32_t vid), void *arg);
/* Every name entry of the merged view, in reversed-name order. */
int sset_walk_names(const struct sset *s,
		    int (*cb)(void *arg, const struct sset_key *k, uint32_t vid), void *arg);
/* The value a layer gives a key exactly (no longest match): the id,
 * SSET_EXCL, SSET_GONE, or SSET_NONE when the layer has no such key. */
uint32_t sset_layer_get(const struct sset_layer *l, const struct sset_key *k);

/* The mask of a prefix length (v6: 128 bits, else 32). */
u128 sset_mask(int v6, unsigned bits);

#endif
