/*
 * ds_store_int.h - what the two halves of the store dataset share:
 * ds_store.c (loading, queries, live changes) and ds_store_xfr.c (zone
 * transfers, IXFR). Not for use outside them.
 *
 * SECURITY: see ds_store.h.
 */
#ifndef RBLKIT_DS_STORE_INT_H
#define RBLKIT_DS_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "serve/dataset.h"
#include "serve/storeset.h"
#include "store/store.h"

/* One change applied, for IXFR: the key, what it was and what it became. */
struct hent {
	uint32_t serial;
	uint8_t kind, bits;
	u128 addr;
	uint32_t old, new;      /* SSET_NONE: not there */
};

/* What every version of one store zone shares. */
struct szone {
	_Atomic unsigned refs;
	char *zone, *dsn;
	struct store *st;       /* main thread only; NULL: reconnect */
	struct ds_opts opts;
	uint8_t def_a[4];
	char def_txt[STORE_REASON_MAX];
	int failing;            /* logged that the store fails */
	int rdonly;             /* opened read-only: expiry left to others */
	int expire_failing;     /* logged that expiry fails */
	/* history, for IXFR (transfer threads read it) */
	pthread_mutex_t lock;
	struct hent *h;
	size_t nh, ch;
	uint32_t hist_from;     /* complete from this serial on */
	/* folding */
	int folding;
	unsigned gen, fold_gen; /* full reads; the one a fold began in */
	struct sset_layer *fold_delta, *fold_out;
	uint64_t delta_since;   /* when the delta got its first entry */
};

struct sdata {
	struct sset set;
	struct szone *z;
	uint32_t serial;
};

/* AXFR of a version (the dump of its ds_type). */
int ds_store_dump(const struct dataset *ds, ds_emit_fn emit, void *arg);

#endif
