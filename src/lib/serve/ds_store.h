/*
 * ds_store.h - the "store" dataset type: a zone served straight from the
 * listing store (zone spec ZONE:store:DSN), kept live.
 *
 * A version of the data is a dataset like any other: immutable, shared
 * by the worker threads, replaced as a whole (snap.c). The main thread
 * polls the store (ds_store_poll) and makes a new version from the
 * journal: the base is shared, a small delta carries the changes
 * (storeset.h). A thread of its own folds a delta that grew into a new
 * base; queries never wait for it. When the journal no longer reaches
 * back (STORE_GONE) or something does not add up, the snapshot is read
 * again. A store that cannot be reached keeps the last good data served;
 * what and why is logged once per state change.
 *
 * Transfers: AXFR writes the address space by blocks (a /16 for IPv4, a
 * /32 for IPv6) so that a change has a bounded effect on the records;
 * IXFR (ds_store_diff) sends the records of the blocks a change touched,
 * as they were at the client's serial and as they are now, computed from
 * the changes this process applied (a client older than those, or a
 * change of a name, gets AXFR).
 *
 * SECURITY: the store is operator data (the DSN is configuration); keys
 * reach this module parsed and canonical (store.h). The store is read
 * and written (expiry) by the main thread only, with its own connection.
 */
#ifndef RBLKIT_DS_STORE_H
#define RBLKIT_DS_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "serve/dataset.h"

extern const struct ds_type ds_store;

/* Load zone from the store dsn: 0 and *out, or -1 with what and why in
 * err (the store cannot be opened, has no such zone, an error reading). */
int ds_store_load(const char *zone, const char *dsn, const struct ds_opts *o,
		  struct dataset **out, char *err, size_t errlen);

/* Main thread, every 200 ms: 1 and *next when the store's serial moved
 * (a new version of cur, sharing what did not change), else 0. Errors are
 * logged once per state change and keep cur. */
int ds_store_poll(const struct dataset *cur, struct dataset **next);

/* Main thread, every second: expire what is due in the store (the
 * changes come back through the journal). */
void ds_store_expire(const struct dataset *ds, time_t now);

/* The serial of a version. */
uint32_t ds_store_serial(const struct dataset *ds);

/* IXFR: the records to delete to go from serial `from` to ds, then
 * between(), then those to add (owners relative to the apex). Returns 0,
 * 1 when it cannot say (AXFR instead; nothing was emitted), or -1 when
 * emit or between failed. */
int ds_store_diff(const struct dataset *ds, uint32_t from, ds_emit_fn emit,
		  int (*between)(void *arg), void *arg);

#endif
