/*
 * zone.h - zones and the zone set served at one time.
 *
 * A zone is a domain (from the command line) and the datasets that answer
 * under it, in command-line order, with SOA and NS from the first dataset
 * that has them. A zone set is all zones built from one generation of
 * data; it is immutable once built, shared by the worker threads, and
 * replaced as a whole on reload (see server.c for the hand-over).
 *
 * SECURITY: zone specs come from the command line (trusted); data files
 * are read through dataset.c.
 */
#ifndef RBLKIT_ZONE_H
#define RBLKIT_ZONE_H

#include <stdint.h>
#include <time.h>

#include "serve/dataset.h"

/* One "zone:type:files" argument. */
struct zone_spec {
	char *zone;             /* text name; "" for the global acl */
	char *type;
	char *files;
};

struct zone {
	uint8_t name[256];      /* lowercased wire name */
	unsigned namelen, labels;
	char text[256];         /* for logs and statistics */
	unsigned id;            /* stable across reloads (command-line order) */
	struct dataset **ds;    /* answering datasets, command-line order */
	unsigned nds;
	struct dataset *acl;    /* zone acl, or NULL */
	unsigned flags;         /* union of the datasets' DS_F_* */
	const struct ds_soa *soa;
	const struct ds_ns *ns;
	uint32_t serial;        /* SOA serial to serve */
	/* Glue: A records of the NS names found in the served data (as
	 * rbldnsd finds them at load time), added to positive answers. */
	unsigned nglue;
	uint8_t glue_ns[DS_MAX_NS * 2];         /* index into ns->name */
	uint8_t glue_a[DS_MAX_NS * 2][4];
	uint32_t glue_ttl[DS_MAX_NS * 2];
	int loaded;             /* all datasets loaded and none expired */
};

struct zoneset;

/* The SOA rdata of z (which has one) into rd (at least 532 bytes);
 * offs gets the offsets of its two names. Returns the length. */
size_t zone_soa_rdata(const struct zone *z, uint8_t *rd, size_t offs[2]);

/* Parse "zone:type:file,file" into spec; returns 0 or -1 with *err. */
int zone_spec_parse(const char *arg, struct zone_spec *spec, const char **err);
void zone_spec_free(struct zone_spec *spec);

/* Build a zone set from the specs. prev (may be NULL) is the set being
 * replaced: datasets whose files did not change are shared with it, and a
 * dataset that fails to load keeps prev's copy (logged with file, line and
 * reason). force reloads everything. Returns NULL only when a dataset
 * fails and prev has none to keep (start-up). */
struct zoneset *zoneset_build(const struct zone_spec *specs, unsigned nspecs,
			      const struct ds_opts *o, const struct zoneset *prev,
			      int force, int *changed);
void zoneset_free(struct zoneset *zs);
/* A copy of zs with the dataset old replaced by new (a new version of a
 * store zone), which the copy owns; the rest is shared, as after
 * zoneset_build() (publish it with snap_publish(), which hands over). */
struct zoneset *zoneset_replace(const struct zoneset *zs, const struct dataset *old,
				struct dataset *new);
/* Call fn for every store dataset of zs (main thread). */
void zoneset_each_store(const struct zoneset *zs,
			void (*fn)(void *arg, const struct dataset *ds), void *arg);
/* The new set takes over the datasets it shares with the old one: call
 * before freeing old, once no thread uses it. */
void zoneset_handover(struct zoneset *old, struct zoneset *new);

/* 1 if a zone is served in one set and not in the other (expiry). */
int zoneset_expiry_changed(const struct zoneset *a, const struct zoneset *b);

/* 1 if a data file changed or an expiry passed since zs was built. */
int zoneset_stale(const struct zoneset *zs, time_t now);

/* The zone that holds the lowercased wire name (longest match); offs
 * are its label offsets as dname_prepare() gives them. */
const struct zone *zoneset_find(const struct zoneset *zs, const uint8_t *name,
				unsigned labels, const uint8_t *offs);
/* Data errors (lines skipped, each logged) in the datasets that this
 * build loaded, not those it shares with the set before. */
unsigned zoneset_errors(const struct zoneset *zs);
unsigned zoneset_count(const struct zoneset *zs);
const struct zone *zoneset_zone(const struct zoneset *zs, unsigned i);
const struct dataset *zoneset_global_acl(const struct zoneset *zs);

/* Check RFC 5782 test points of every zone; logs warnings. */
void zoneset_check_testpoints(const struct zoneset *zs);

#endif
