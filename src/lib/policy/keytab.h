/*
 * keytab.h - the hash table of the policy daemon's per-user records: the
 * outbound counters (ratelimit.c) and the baselines (baseline.c) are both
 * a record per user name, found by that name.
 *
 * Intrusive: a record starts with a struct kt_node (its name, hash and
 * chain); the table allocates records of the size the caller asks for and
 * hands them back as that node. Chained buckets, a power of two of them,
 * doubled when there are as many records as buckets; at most max records.
 *
 * SECURITY: names are untrusted (the sender address is the remote
 * client's choice): they are cut at KT_MAX_KEY bytes and hashed with a
 * per-table random seed (FNV-1a), so nobody can choose names that fall
 * into one bucket.
 */
#ifndef RBLKIT_POLICY_KEYTAB_H
#define RBLKIT_POLICY_KEYTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KT_MAX_KEY 320		/* longer names are cut here (RL_MAX_KEY) */

struct kt_node {
	struct kt_node *next;	/* the bucket's chain */
	char *key;		/* owned by the table */
	uint32_t hash;
};

struct kt_table;

/* A table of at most max records. Owned by the caller: kt_free. */
struct kt_table *kt_new(size_t max);
/* Free the table and every record (fn, when not NULL, is called on each
 * record first, for what the record owns besides its name). */
void kt_free(struct kt_table *t, void (*fn)(struct kt_node *n));

/* The record named key, or, when size is not 0 and there is none, a new
 * one of size bytes (zeroed but for its node; *created set). NULL when
 * absent and not made (size 0, or the table is full). */
struct kt_node *kt_get(struct kt_table *t, const char *key, size_t size, bool *created);
/* Remove and free the record named key: 0, or -1 if absent. */
int kt_remove(struct kt_table *t, const char *key, void (*fn)(struct kt_node *n));
/* Call fn for every record (the table's order; fn may not change it). */
void kt_foreach(struct kt_table *t, void (*fn)(void *arg, struct kt_node *n), void *arg);
/* Remove and free every record for which drop says true; returns how
 * many. */
size_t kt_sweep(struct kt_table *t, bool (*drop)(void *arg, struct kt_node *n), void *arg);
size_t kt_count(const struct kt_table *t);

/* The seed of the hash (a file may keep it, so that hashes it stores
 * stay valid: baseline.c's recipient domains). kt_set_seed only works on
 * an empty table (returns -1 otherwise). */
uint32_t kt_seed(const struct kt_table *t);
int kt_set_seed(struct kt_table *t, uint32_t seed);

#endif
