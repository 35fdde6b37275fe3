/*
 * import.h - reading rbldnsd data files into a zone of the store: every
 * entry syntax `rblkit serve` reads for ip4set, ip4tset, ip4trie,
 * ip6trie, ip6tset and dnset (addresses, a.b.c prefixes, CIDRs, ranges,
 * "!" exclusions, ":A:TXT" values and default lines, names, "*.name" and
 * ".name"), or each line's form guessed. $-lines ($SOA, $NS, $TTL, $n
 * ...) are counted and ignored: a store zone's SOA, NS and TTL come from
 * list.conf.
 *
 * SECURITY: the file is operator data but may be malformed or hostile
 * (a mirror's copy): lines are bounded, every address and name is parsed
 * with bounds checks, values are cut to the store's sizes.
 */
#ifndef RBLKIT_LIST_IMPORT_H
#define RBLKIT_LIST_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "list/list.h"
#include "store/store.h"

enum import_type {
	IMPORT_GUESS = 0,       /* each line's form decides */
	IMPORT_IP4SET, IMPORT_IP4TSET, IMPORT_IP4TRIE, IMPORT_IP6TRIE, IMPORT_IP6TSET,
	IMPORT_DNSET,
};

/* "ip4set" ... "dnset" (or "guess"): 0 with *t, -1 for an unknown name. */
int import_type_parse(const char *name, enum import_type *t);

#define IMPORT_LINE_MAX 8192

/* One entry of the file (a range gives one entry per CIDR of it). */
struct import_entry {
	struct store_key key;
	int excluded;
	uint32_t code;                  /* host order; 0: the zone's default */
	char reason[STORE_REASON_MAX];  /* "": the zone's template */
	unsigned line;
};

struct import_stats {
	unsigned long lines, entries, excluded, bad, specials, allowed, unchanged;
};

/* Called for each entry: 0 to go on, -1 to stop the parse. */
typedef int (*import_entry_fn)(void *arg, const struct import_entry *e);
/* Called for each bad line and warning: "NAME:LINE: why". */
typedef void (*import_warn_fn)(void *arg, const char *msg);

/* A parse in progress (a file read line by line, or a buffer). */
struct import_parser;

/* A parser for the file called name; the caller owns it (import_end). */
struct import_parser *import_begin(enum import_type type, const char *name,
				   import_entry_fn entry, import_warn_fn warn, void *arg);
/* One line (without its newline; it may be changed). 0, or -1 when the
 * entry callback stopped the parse. */
int import_line(struct import_parser *p, char *line);
/* The counts so far. */
const struct import_stats *import_stats(const struct import_parser *p);
void import_end(struct import_parser *p);

/* Parse buf[0..len) (any bytes) line by line: the fuzz target's entry.
 * Returns 0, or -1 when the entry callback stopped it; *st (may be
 * NULL) gets the counts. */
int import_parse(const char *buf, size_t len, const char *name, enum import_type type,
		 import_entry_fn entry, import_warn_fn warn, void *arg, struct import_stats *st);

/* Import the file at path into zone: entries LISTED (exclusions
 * EXCLUDED) with source "import", never expiring unless ttl > 0, the
 * allowlist networks skipped, in transactions of batch entries (0:
 * 10000). Bad lines are reported through warn and counted; the import
 * goes on past them. Returns 0, or -1 with err (file unreadable, store
 * error: what was committed before stays). */
int list_import(struct list_ctx *c, const char *zone, const char *path, enum import_type type,
		uint32_t ttl, unsigned batch, import_warn_fn warn, void *warn_arg,
		struct import_stats *st, char *err, size_t errlen);

#endif
