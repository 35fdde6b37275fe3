/*
 * export.h - a zone of the store as an rbldnsd data file: what DNS
 * answers now (LISTED entries and exclusions), with the zone's $SOA, $NS,
 * $TTL and default value, written to FILE.tmp and renamed over FILE so
 * that a mirror (rsync) never sees half a file.
 *
 * One file holds one dataset type: ip4trie (IPv4), ip6trie (IPv6) or
 * dnset (names); a zone that holds several kinds is written as a
 * combined dataset ("$DATASET ip4trie @" sections), loaded by rbldnsd
 * and `rblkit serve` as ZONE:combined:FILE.
 *
 * SECURITY: writes operator-chosen paths with the command's privileges;
 * reasons from the store are written with control characters replaced,
 * so that an entry is always one line.
 */
#ifndef RBLKIT_LIST_EXPORT_H
#define RBLKIT_LIST_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum export_type {
	EXPORT_AUTO = 0,        /* the one kind the zone holds, or combined */
	EXPORT_IP4TRIE, EXPORT_IP6TRIE, EXPORT_DNSET, EXPORT_COMBINED,
};

/* "auto", "ip4trie", "ip6trie", "dnset", "combined": 0, or -1. */
int export_type_parse(const char *name, enum export_type *t);
const char *export_type_name(enum export_type t);

struct export_stats {
	unsigned long ip4, ip6, names, excluded;        /* entries written */
	unsigned long left_out;         /* entries of kinds the type has no room for */
	enum export_type type;          /* the type written */
	uint32_t serial;                /* the zone's serial the file is the state of */
};

/* Write zone to path (via path.tmp and rename). Returns 0, or -1 with
 * err (no such zone, store error, file error: path is then untouched). */
int list_export(struct store *st, const char *zone, const char *path, enum export_type type,
		struct export_stats *es, char *err, size_t errlen);

#endif
