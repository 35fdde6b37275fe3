/*
 * dataset.h - datasets: the typed, immutable data that zones are built from.
 *
 * A dataset is what rbldnsd calls one "type:file,file" spec: a type from
 * the table below and the files it is loaded from. Each type is one file
 * ds_TYPE.c exporting a struct ds_type (the vtable); this module reads the
 * files (plain or gzip), handles the lines every type shares ($SOA, $NS,
 * $TTL, $TIMESTAMP, $MAXRANGE4, $n, $=, ":A:TXT" defaults, comments) and
 * hands each data line to the type.
 *
 * Once loaded a dataset never changes; a reload builds a new one.
 *
 * SECURITY: reads operator data files, which may be large, malformed or
 * truncated; every error names file and line. Runs before privileges are
 * dropped only at start-up; reloads run as the unprivileged user.
 */
#ifndef RBLKIT_DATASET_H
#define RBLKIT_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "serve/value.h"

struct answer;
struct ds_opts;
struct dataset;

/* What a query asks for, as bits (several for ANY). */
enum {
	Q_A = 1 << 0,
	Q_TXT = 1 << 1,
	Q_NS = 1 << 2,
	Q_SOA = 1 << 3,
	Q_MX = 1 << 4,
	Q_AAAA = 1 << 5,
	Q_OTHER = 1 << 6,
	Q_ANY = Q_A | Q_TXT | Q_NS | Q_SOA | Q_MX | Q_AAAA,
};

/* A query as a dataset sees it. The name is lowercased wire format. */
struct qinfo {
	unsigned want;          /* Q_* bits */
	uint16_t qtype;
	const uint8_t *rel;     /* labels below the zone apex (no final 0) */
	unsigned rel_len;       /* bytes of rel */
	unsigned rel_labels;    /* labels in rel; 0 = the apex itself */
	/* Filled for zones with IP datasets: */
	int ip4_ok;             /* rel is exactly 4 decimal labels */
	uint32_t ip4;           /* host order: 4.3.2.1.zone -> 1.2.3.4 */
	int ip6_ok;             /* rel is exactly 32 hex nibble labels */
	uint8_t ip6[16];
	/* For empty non-terminal checks, when rel is only the first labels
	 * of an address: the prefix length, with the prefix itself in ip4
	 * or ip6 (rest zero). 0 when rel is not such a prefix. */
	int ip4_pfx_bits;       /* 8/16/24: 1..3 decimal labels */
	int ip6_pfx_bits;       /* 4..124: 1..31 nibble labels */
	/* Client address, for acl datasets. */
	int peer_family;        /* AF_INET, AF_INET6 or 0 */
	uint8_t peer[16];       /* v4 in first 4 bytes, network order */
};

/* Per-load state shared by the common parser and the type's line(). */
struct ds_ctx {
	const char *file;       /* current file, for messages */
	unsigned line;          /* current line number */
	unsigned warnings;
	uint32_t ttl;           /* $TTL of the current scope */
	uint32_t maxrange4;     /* $MAXRANGE4 (0: none) */
	struct value_raw def;   /* current ":A:TXT" default */
	int def_cached;         /* def_id is def's raw id (reset when def changes) */
	uint32_t def_id;
	struct value_vars vars; /* $0..$9, $= */
	vtab_t *vt;             /* values of the dataset being built */
	int accept_in_cidr;     /* -e: allow host bits in CIDRs */
	const struct ds_opts *opts;     /* command-line options (-t limits) */
	/* Inside a combined dataset: the nested dataset being read. Lines
	 * go to it; $SOA/$NS still go to the base. Set by ds_combined. */
	struct ds_ctx *sub;
	const struct ds_type *subtype;
	void *subb;
};

/* The raw value id of the current default (added once per change). */
uint32_t ds_default_id(struct ds_ctx *c);

/* Log a warning with file and line; the line is skipped. */
void ds_warn(struct ds_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Callback for zone transfers: one RR whose owner is rel (wire labels
 * below the apex, no final 0; rel_len 0 = the apex). Returns 0 or -1 to
 * stop. */
typedef int (*ds_emit_fn)(void *arg, const uint8_t *rel, size_t rel_len,
			  uint16_t type, uint32_t ttl,
			  const uint8_t *rdata, size_t rdlen);

struct ds_type {
	const char *name;
	unsigned flags;
#define DS_F_IP4  1u            /* keys are IPv4 addresses */
#define DS_F_IP6  2u            /* keys are IPv6 addresses */
#define DS_F_NAME 4u            /* keys are domain names */
#define DS_F_ACL  8u            /* pseudo dataset: access control */
#define DS_F_COMBINED 16u       /* container of other datasets */
#define DS_F_OWN_DEFAULT 32u    /* line() gets the ":A:TXT" lines too */
	/* Start building: returns a builder. */
	void *(*begin)(struct ds_ctx *c);
	/* One data line (not a $-line, comment or default line); s is
	 * modifiable and has no trailing newline. Returns 0, or -1 to abort
	 * the load (after ds_warn or log_err saying why). Bad entries are
	 * warned about and skipped, returning 0. */
	int (*line)(void *b, char *s, struct ds_ctx *c);
	/* Finish: turn the builder into immutable data (builder freed). The
	 * values in c->vt are compiled already; map raw ids with vtab_map().
	 * Returns NULL on failure. With c == NULL (a failed load) it only
	 * frees the builder and returns NULL. */
	void *(*end)(void *b, struct ds_ctx *c);
	/* Answer a query: add A/TXT/... via answer.h; return 1 if the name
	 * exists in this dataset (listed), else 0. */
	int (*query)(const struct dataset *ds, const struct qinfo *qi,
		     struct answer *ans);
	/* 1 if qi names a proper ancestor of a listed entry (an empty
	 * non-terminal). May be NULL (never). */
	int (*has_below)(const struct dataset *ds, const struct qinfo *qi);
	/* Emit the data as DNS records for AXFR. */
	int (*dump)(const struct dataset *ds, ds_emit_fn emit, void *arg);
	void (*free)(void *data);
	/* Entries and bytes used, for the load log line. */
	void (*stats)(const void *data, size_t *entries, size_t *bytes);
};

/* Look a type up by name; NULL if unknown. */
const struct ds_type *ds_type_find(const char *name);

/* SOA and NS as given by $SOA / $NS, names in wire format. */
struct ds_soa {
	int set;
	uint32_t ttl;
	uint8_t mname[256], rname[256];
	uint32_t serial, refresh, retry, expire, minttl;
};
#define DS_MAX_NS 32
struct ds_ns {
	int count;
	uint32_t ttl;
	uint8_t name[DS_MAX_NS][256];
};

/* A loaded dataset. */
struct dataset {
	const struct ds_type *type;
	void *data;             /* the type's immutable data */
	vtab_t *vt;             /* its values */
	uint32_t ttl;           /* record TTL ($TTL or default) */
	struct ds_soa soa;
	struct ds_ns ns;
	time_t stamp;           /* newest mtime of its files */
	time_t expires;         /* $TIMESTAMP expiry, 0 = never */
};

/* Global load options from the command line. */
struct ds_opts {
	uint32_t def_ttl, min_ttl, max_ttl;
	int accept_in_cidr;     /* -e */
	int no_gzip;            /* -C */
};

/* Load a dataset of type t from the comma-separated list of files.
 * Returns 0 and *out, or -1 after logging file, line and reason. */
int ds_load(const struct ds_type *t, const char *files, const struct ds_opts *o,
	    struct dataset **out);
void ds_free(struct dataset *ds);
/* Newest mtime of the files of spec (0 if one is missing). */
time_t ds_files_stamp(const char *files);

/* Apply the -t min/max constraints to a TTL; 0 means the default. */
uint32_t ds_ttl_clamp(const struct ds_opts *o, uint32_t ttl, uint32_t def);

/* The types. */
extern const struct ds_type ds_ip4set, ds_ip4tset, ds_ip4trie, ds_ip6trie,
	ds_ip6tset, ds_dnset, ds_generic, ds_combined, ds_acl;

#endif
