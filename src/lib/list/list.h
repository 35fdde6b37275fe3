/*
 * list.h - the blocklist operator's rules over the listing store: how an
 * address gets on a zone (by hand, by import, by spamtrap hits past a
 * threshold), how long it stays (lifetime, extension per hit, escalation
 * on re-listing), what never gets listed (allowlist networks, the
 * operator's own servers, a DNS allowlist), how it gets off (removal,
 * self-removal limits, expiry), and optional network escalation.
 *
 * The configuration (list.conf, list_conf_load) holds the store DSN,
 * default rules, per-zone rules in "[zone NAME]" sections, and the trap
 * intake's settings; see docs/list.md for every key and its default. A
 * zone the configuration does not name gets the default rules.
 *
 * Every operation is one store transaction: it commits everything (the
 * listing, its event, evidence, the journal row) or nothing.
 *
 * SECURITY: keys and texts come from operators (CLI), from spamtrap mail
 * (hostile) and later from the web portal (hostile): keys go through
 * store_key_parse(), texts are bounded by the store.
 */
#ifndef RBLKIT_LIST_H
#define RBLKIT_LIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/conftab.h"
#include "store/store.h"

/* Rules of one zone (defaults in docs/list.md). */
struct list_rules {
	uint32_t lifetime;              /* first listing, seconds (24h) */
	uint32_t extend;                /* each new hit extends expiry to now + this (24h) */
	uint32_t relist_period;         /* a re-listing within this of the last ... (30d) */
	uint32_t lifetime_max;          /* ... doubles the lifetime, up to this (30d) */
	unsigned threshold_hits;        /* list after N hits ... (1) */
	unsigned threshold_traps;       /* ... from M distinct traps ... (1) */
	uint32_t threshold_window;      /* ... within W (24h) */
	unsigned ip6_bits;              /* IPv6 listed per /N (64) */
	struct conftab_list allow;      /* networks never listed (the operator's own) */
	struct conftab_list allow_dnsbl;/* DNS allowlists, e.g. list.dnswl.org (none) */
	unsigned self_remove_max;       /* removals by request per address ... (3) */
	uint32_t self_remove_period;    /* ... within this period before review (30d) */
	unsigned net_escalate;          /* list the /net_bits when N addresses in it are (0: off) */
	unsigned net_bits;              /* (24) */
	bool test_points;               /* a new zone lists RFC 5782's test points (yes) */
	/* What the zone publishes (store_zone). */
	uint32_t code;                  /* default A (127.0.0.2) */
	char *txt;                      /* default TXT template */
	uint32_t ttl;
	char *mname, *rname;
	struct conftab_list ns;
	uint32_t refresh, retry, expire, minimum;
};

/* The trap intake's settings (global keys trap_*). */
struct list_trap_conf {
	struct conftab_list mx;         /* the operator's MX hosts: names/addresses whose Received lines are trusted */
	struct conftab_list domains;    /* "trapdomain.example=ZONE": mail to it lists in ZONE */
	char *zone;                     /* zone for trap domains not named above */
	char *quarantine;               /* directory for messages that could not be read */
	char *listen;                   /* LMTP listen address (listen.h syntax) */
	unsigned max_size;              /* bytes of one message kept (1 MB) */
};

struct list_conf {
	char *store;                    /* DSN */
	char *resolver;                 /* servers for allow_dnsbl ("": the system's) */
	struct list_rules defaults;
	struct list_zone {              /* "[zone NAME]" sections */
		char name[STORE_ZONE_MAX];
		struct list_rules rules;
	} *zones;
	unsigned nzones;
	struct list_trap_conf trap;
};

/* Load path; NULL with every error ("FILE:LINE: key: why") in e. With
 * path NULL: defaults only (store must then be set by the caller). */
struct list_conf *list_conf_load(const char *path, struct conftab_errors *e);
void list_conf_free(struct list_conf *c);
/* 1 if a zone (or the defaults) names a DNS allowlist (allow_dnsbl). */
int list_conf_uses_dns(const struct list_conf *c);
/* The rules for zone: its section, or the defaults. */
const struct list_rules *list_rules_for(const struct list_conf *c, const char *zone);
/* Write every zone's publishing data (SOA, NS, TTL, code, TXT) of the
 * configuration to the store (store_zone_put). 0 or -1. */
int list_conf_sync(const struct list_conf *c, struct store *st, char *err, size_t errlen);
/* The publishing data of zone under rules r (the TXT template's "%z"
 * replaced by the zone name), as list_conf_sync writes it. */
void list_zone_data(const struct list_rules *r, const char *zone, struct store_zone *z);
/* Inside a transaction: create zone with r's data when the store lacks
 * it, listing RFC 5782's test points when r->test_points; t is the time
 * of their listing. 0 (also when it existed), or -1 (store_error). */
int list_zone_ensure(struct store *st, const struct list_rules *r, const char *zone, int64_t t);
/* The keys of list.conf with their defaults, for a help page. */
void list_conf_help(FILE *f);

/* What an operation did, for output and exit statuses. */
enum list_outcome {
	LIST_LISTED = 1,        /* new listing (or re-listed) */
	LIST_EXTENDED,          /* already listed: hit counted, expiry extended */
	LIST_UPDATED,           /* already listed: code/reason/expiry set */
	LIST_COUNTED,           /* hit recorded, threshold not reached */
	LIST_REMOVED,
	LIST_NOT_LISTED,        /* remove of something not listed */
	LIST_ALLOWED,           /* on the allowlist: not listed */
	LIST_REVIEW,            /* self-removal limit reached: needs review */
};
const char *list_outcome_name(enum list_outcome o);

struct list_ctx {
	struct store *st;
	const struct list_conf *conf;
	int64_t now;            /* 0: time(NULL) at each call */
	/* Optional DNS allowlist check (allow_dnsbl); NULL: skipped. Returns
	 * 1 listed on an allowlist, 0 not, -1 could not tell (then not
	 * listed by a trap hit, but an operator's add goes through). */
	int (*dns_allowed)(void *arg, const struct store_key *k, const char *list);
	void *dns_arg;
};

struct list_add {
	uint32_t code;          /* 0: zone default */
	const char *reason;     /* NULL: zone template */
	uint32_t ttl;           /* 0: the zone's lifetime; UINT32_MAX: never expires */
	const char *source;     /* "cli", "import", ... */
	const char *actor;      /* who, for the event */
};

struct list_hit {
	const char *trap;       /* recipient that was hit */
	const char *source;     /* "trap" */
	const char *headers;    /* evidence (may be NULL) */
	const char *excerpt;
	int64_t time;           /* 0: now */
};

struct list_result {
	enum list_outcome outcome;
	struct store_listing l; /* the listing after the operation */
	char key[STORE_KEY_MAX];/* the key as stored (IPv6 cut to its /N) */
	char note[256];         /* why (allowlist entry, review reason ...) */
};

/* Each returns 0 with r filled, or -1 with err (a bad key: its reason;
 * a store error: the engine's words). */
int list_do_add(struct list_ctx *c, const char *zone, const char *key,
		const struct list_add *a, struct list_result *r, char *err, size_t errlen);
int list_do_remove(struct list_ctx *c, const char *zone, const char *key,
		   const char *reason, const char *actor, int by_request,
		   struct list_result *r, char *err, size_t errlen);
int list_do_hit(struct list_ctx *c, const char *zone, const char *key,
		const struct list_hit *h, struct list_result *r, char *err, size_t errlen);

/* Mask a trap address for output: "s***@trap.example" (first letter kept). */
void list_mask_addr(const char *addr, char *out, size_t outlen);

#endif
