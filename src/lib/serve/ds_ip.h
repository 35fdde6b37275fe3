/*
 * ds_ip.h - what the IP dataset types (ip4set, ip4tset, ip4trie, ip6trie,
 * ip6tset, acl) share: a builder of segmap entries, and query, empty
 * non-terminal, zone transfer and statistics functions over the segmaps.
 *
 * SECURITY: see the type files; this code sees parsed entries only.
 */
#ifndef RBLKIT_DS_IP_H
#define RBLKIT_DS_IP_H

#include "serve/dataset.h"
#include "serve/segmap.h"

struct ipbuild {
	struct seg_vec4 v4;
	struct seg_vec6 v6;
	int have_def;           /* tset types: the first ":" line was seen */
	uint32_t def_raw;       /* its raw value id */
	int keep_first;
};

struct ipdata {
	segmap4_t *m4;
	segmap6_t *m6;
};

void *ds_ip_begin(struct ds_ctx *c);
/* Build both maps from the builder (consumed). With c NULL: free only. */
void *ds_ip_end(void *b, struct ds_ctx *c);
/* Parse the value after an entry (blanks skipped here): default if empty
 * or a comment. Returns the raw id, or -1 after a warning. */
int64_t ds_ip_value(const char *s, struct ds_ctx *c);
/* A leading "!" (exclusion): skip it and blanks, return 1; else 0. */
int ds_ip_excl(char **s);
/* 1 if s (after an address) ends it properly: NUL, blank, comment, ':'. */
int ds_ip_tail_ok(const char *s);
int ds_ip_push4(struct ipbuild *b, struct ds_ctx *c, uint32_t lo, uint32_t hi,
		uint32_t val, unsigned prio, int excl);
int ds_ip_push6(struct ipbuild *b, struct ds_ctx *c, u128 lo, u128 hi,
		uint32_t val, unsigned prio, int excl);

int ds_ip_query(const struct dataset *ds, const struct qinfo *qi,
		struct answer *ans);
int ds_ip_has_below(const struct dataset *ds, const struct qinfo *qi);
int ds_ip_dump(const struct dataset *ds, ds_emit_fn emit, void *arg);
/* Transfer several IP datasets of one zone as one merged view, so that a
 * secondary answers every address as the zone does. */
int ds_ip_dump_zone(const struct dataset *const *ds, unsigned nds,
		    ds_emit_fn emit, void *arg);
void ds_ip_free(void *data);
void ds_ip_stats(const void *data, size_t *entries, size_t *bytes);

/* The "trivial" types (ip4tset, ip6tset): one value for all entries, the
 * first ":A:TXT" line (defined in ds_ip4tset.c). */
void *ds_tset_begin(struct ds_ctx *c);
int ds_tset_default(struct ipbuild *b, char *s, struct ds_ctx *c);
void *ds_tset_end(void *bp, struct ds_ctx *c);

#endif
