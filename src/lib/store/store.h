/*
 * store.h - the listing store: per zone, the listings (address, network
 * or domain; code, reason, first/last seen, hits, expiry, source, level),
 * their event history, the evidence kept for them, the hits counted
 * towards a threshold, and the change journal that serve answers from
 * (live delta, IXFR). One schema, two engines behind one DSN:
 *
 *	sqlite:/var/lib/rblkit/list.db      embedded, WAL, one writer at a time
 *	postgresql://user@host:port/db      several nodes sharing one list
 *	postgres://...                       (the same)
 *
 * The schema is versioned (table meta, key 'schema_version') and
 * migrated forward by store_open(); a store newer than this binary is
 * refused, never altered.
 *
 * Serials. Each zone has a serial (its SOA serial), set to the current
 * Unix time when the zone is created. The first change of a write
 * transaction to a zone takes the next serial (serial + 1, a row lock in
 * PostgreSQL, the database lock in SQLite), so serials are handed out in
 * commit order and every change row of one transaction carries the same
 * serial: one IXFR step per transaction ("a batch of changes").
 *
 * The journal holds a row per change of what DNS answers (listed with a
 * code and reason / no longer listed) with its serial and, for a removal,
 * the code and reason that were served (IXFR must delete exactly the
 * records it added). store_changes() reads it; store_journal_prune()
 * bounds it.
 *
 * Threads: a struct store is one connection; use one per thread.
 *
 * SECURITY: every value reaches the database as a bound parameter, never
 * as SQL text. Keys are parsed and canonicalised by store_key_parse()
 * before they are stored. Text fields are bounded (STORE_*_MAX) and cut
 * at a UTF-8 boundary when longer. The DSN is operator configuration.
 */
#ifndef RBLKIT_STORE_H
#define RBLKIT_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 3      /* 2: the web portal's tables (store/web.h);
				     * 3: the watch history (store/watch.h) */

#define STORE_KEY_MAX 300       /* canonical key text, with NUL */
#define STORE_ZONE_MAX 256      /* zone name text, with NUL */
#define STORE_REASON_MAX 256    /* reason / TXT, with NUL (TXT is cut at 254) */
#define STORE_SOURCE_MAX 64     /* source, actor: "trap", "cli", "web:1.2.3.4" */
#define STORE_DETAIL_MAX 1024   /* event detail */
#define STORE_HEADERS_MAX 16384 /* evidence: message headers */
#define STORE_EXCERPT_MAX 4096  /* evidence: excerpt of the body / report text */
#define STORE_NS_MAX 8

/* Result codes beyond 0 / -1. */
#define STORE_NOTFOUND 1        /* no such zone / listing */
#define STORE_GONE 2            /* journal no longer reaches back that far */
#define STORE_BUSY 3            /* locked; retried for store_open's timeout already */

/* ---- keys ---- */

enum store_kind {
	STORE_IP4 = 1,          /* address or CIDR */
	STORE_IP6 = 2,          /* prefix (an address is a /128) */
	STORE_NAME = 3,         /* domain name, exact */
	STORE_WILD = 4,         /* "*.example.com": every name below, not the name */
};

struct store_key {
	enum store_kind kind;
	uint8_t addr[16];       /* IP4: first 4 bytes, network order; host bits 0 */
	unsigned bits;          /* prefix length (32 / 128 for one address) */
	/* Canonical text, the key column: "192.0.2.1", "192.0.2.0/24",
	 * "2001:db8::/64" (RFC 5952), "2001:db8::1" for a /128,
	 * "example.com" (lowercase, no final dot), "*.example.com". */
	char text[STORE_KEY_MAX];
};

/* Parse s: an IPv4 address, IPv4 CIDR, IPv6 address or prefix, domain
 * name or "*.domain". Host bits set in a CIDR are an error (the operator
 * meant something else), as is an empty label or a name over 253 bytes.
 * Returns 0, or -1 with the reason in err. */
int store_key_parse(const char *s, struct store_key *k, char *err, size_t errlen);

/* The key with its prefix cut to bits (an IPv6 address to its /64; bits
 * not shorter than k's: k unchanged). Names are unchanged. */
void store_key_truncate(struct store_key *k, unsigned bits);

/* 1 if net (an IP key) contains k (an IP key of the same family). */
int store_key_contains(const struct store_key *net, const struct store_key *k);

/* ---- zones ---- */

/* What a zone publishes besides its listings (from the configuration;
 * written by the list tools, read by serve). Empty names get defaults
 * derived from the zone: mname "ns.ZONE", rname "hostmaster.ZONE", NS
 * = mname. */
struct store_zone {
	char name[STORE_ZONE_MAX];      /* lowercase, no final dot */
	uint32_t ttl;                   /* records (default 300) */
	uint32_t code;                  /* default A, host order (0x7f000002) */
	char txt[STORE_REASON_MAX];     /* default TXT template ("$" = the key) */
	char mname[STORE_ZONE_MAX], rname[STORE_ZONE_MAX];
	uint32_t refresh, retry, expire, minimum;
	char ns[STORE_NS_MAX][STORE_ZONE_MAX];
	unsigned nns;
	uint32_t serial;                /* read only: the current serial */
};

/* ---- listings ---- */

enum store_state {
	STORE_LISTED = 1,       /* DNS answers it */
	STORE_REMOVED = 2,      /* removed by request / operator; kept for history */
	STORE_EXPIRED = 3,      /* lifetime ran out; kept for history */
	STORE_EXCLUDED = 4,     /* rbldnsd "!net": answered as not listed even
				 * inside a listed network (longest match) */
	STORE_PENDING = 5,      /* hits seen, threshold not reached: not in DNS */
};

struct store_listing {
	struct store_key key;
	enum store_state state;
	uint32_t code;                  /* A, host order; 0 = the zone's default */
	char reason[STORE_REASON_MAX];  /* TXT; "" = the zone's template */
	int64_t first_seen, last_seen;  /* Unix seconds */
	int64_t expires;                /* Unix seconds; 0 = never */
	int64_t changed;                /* last state change */
	uint32_t hits;
	uint32_t level;                 /* times re-listed (escalation) */
	uint32_t removals;              /* removals by request, all time */
	char source[STORE_SOURCE_MAX];  /* what listed it: "trap", "cli", "import", "net" */
};

/* One change of what DNS answers, for serve and IXFR. */
enum store_op { STORE_ADD = 1, STORE_DEL = 2 };
struct store_change {
	uint32_t serial;
	enum store_op op;
	struct store_key key;
	uint32_t code;                  /* resolved: never 0 */
	char reason[STORE_REASON_MAX];  /* as served ("" = zone template) */
	int excluded;                   /* an EXCLUDED entry (no records of its own) */
};

/* A listing as DNS serves it (store_snapshot). */
struct store_entry {
	struct store_key key;
	uint32_t code;                  /* resolved: never 0 */
	const char *reason;             /* "" = zone template; valid during the callback */
	int excluded;
};

enum store_event_type {
	STORE_EV_LISTED = 1, STORE_EV_HIT, STORE_EV_EXTENDED, STORE_EV_EXPIRED,
	STORE_EV_REMOVED, STORE_EV_RELISTED, STORE_EV_EXCLUDED, STORE_EV_CHANGED,
};
/* "listed", "hit", ... for output; NULL for an unknown value. */
const char *store_event_name(enum store_event_type t);

struct store_event {
	int64_t time;
	enum store_event_type type;
	char actor[STORE_SOURCE_MAX];   /* "trap", "cli", "web", "expiry", "import" */
	char how[STORE_SOURCE_MAX];     /* "request", "operator", "threshold", ... */
	char detail[STORE_DETAIL_MAX];  /* free text: the reason given, the trap */
};

struct store_evidence {
	int64_t time;
	char source[STORE_SOURCE_MAX];  /* "trap", "report" */
	char trap[STORE_KEY_MAX];       /* recipient (trap address); masked on output */
	char headers[STORE_HEADERS_MAX];
	char excerpt[STORE_EXCERPT_MAX];
};

struct store;

/* dsn as messages show it: a password in "scheme://user:password@" or
 * in "password=..." (a conninfo, or a URI's query) is written "***".
 * Writes at most len bytes to out, always terminated. */
void store_dsn_shown(const char *dsn, char *out, size_t len);

/* Open the store named by dsn, creating the schema or migrating it to
 * STORE_SCHEMA_VERSION. flags: STORE_RDONLY (no schema changes; fails on
 * a store without schema). Waits up to 5 s for a lock. Returns 0, or -1
 * with what and why in err ("sqlite:/x/list.db: unable to open database
 * file", "postgresql://...: connection refused", "schema version 3 is
 * newer than this rblkit (1)"). */
#define STORE_RDONLY 1u
int store_open(const char *dsn, unsigned flags, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);
/* The last error of st, with the engine's words. */
const char *store_error(const struct store *st);
/* "sqlite" or "postgresql". */
const char *store_engine(const struct store *st);

/* Transactions: writes outside one run in a transaction of their own.
 * Any write may also return STORE_BUSY: another writer held the lock
 * past the 5 s wait, and nothing was done.
 * store_begin takes the write lock at once (BEGIN IMMEDIATE in SQLite).
 * store_commit returns 0 only once the data is durable. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Group commit (the trap intake: every message that arrived in one round
 * of its loop, one durable commit).  store_batch_begin() opens a write
 * transaction; until store_batch_end(), each store_begin() opens a
 * savepoint in it, store_commit() releases it (nothing is durable yet)
 * and store_rollback() undoes that savepoint only.  store_batch_end(st,
 * 1) commits the whole batch: only once it returned 0 may any operation
 * of the batch be reported as stored (on -1 nothing of it was);
 * store_batch_end(st, 0) rolls it all back.  0 or -1. */
int store_batch_begin(struct store *st);
int store_batch_end(struct store *st, int commit);

/* Create or update a zone's publishing data (serial untouched; created
 * with serial = now). 0 or -1. */
int store_zone_put(struct store *st, const struct store_zone *z);
/* 0 and *z, STORE_NOTFOUND, or -1. Defaults filled in for empty fields. */
int store_zone_get(struct store *st, const char *zone, struct store_zone *z);
/* The current serial only (serve polls this). 0, STORE_NOTFOUND or -1. */
int store_zone_serial(struct store *st, const char *zone, uint32_t *serial);
/* Every zone, by name. cb returns 0 to go on. */
int store_zones(struct store *st, int (*cb)(void *arg, const struct store_zone *z), void *arg);

/* Read a listing (any state). 0, STORE_NOTFOUND or -1. */
int store_get(struct store *st, const char *zone, const char *key, struct store_listing *l);

/* Write a listing (insert or replace by zone + key text). When what DNS
 * answers changes (entered or left STORE_LISTED / STORE_EXCLUDED, or the
 * code or reason of a listed entry changed), a journal row is added under
 * the zone's next serial. Creates the zone with defaults if needed.
 * 0 or -1. */
int store_put(struct store *st, const char *zone, const struct store_listing *l);

/* Append to a listing's history / evidence (by zone and key: no listing
 * row is needed, and the zone is created if needed). 0 or -1. The
 * history is given oldest first; the evidence newest first, at most max
 * (0: all). A callback's non-zero stops the walk and is returned. */
int store_event_add(struct store *st, const char *zone, const char *key,
		    const struct store_event *ev);
int store_evidence_add(struct store *st, const char *zone, const char *key,
		       const struct store_evidence *ev);
int store_history(struct store *st, const char *zone, const char *key,
		  int (*cb)(void *arg, const struct store_event *ev), void *arg);
int store_evidence(struct store *st, const char *zone, const char *key, unsigned max,
		   int (*cb)(void *arg, const struct store_evidence *ev), void *arg);

/* Hits towards a threshold: record one, and count those since a time
 * (hits, and distinct trap addresses among them). */
int store_hit_add(struct store *st, const char *zone, const char *key,
		  const char *trap, int64_t time);
int store_hit_count(struct store *st, const char *zone, const char *key, int64_t since,
		    unsigned *hits, unsigned *traps);
/* Drop hit rows older than before (all zones). */
int store_hit_prune(struct store *st, int64_t before);

/* Search listings of a zone; NULL / 0 fields do not filter. Given in
 * the order kind, address, key; an unknown zone gives none. */
struct store_filter {
	int state;                      /* a STORE_* state; 0: any */
	const char *source;
	int64_t since;                  /* last_seen >= since */
	const struct store_key *within; /* IP keys inside this network */
	int64_t expires_before;         /* listed with 0 < expires <= this */
	unsigned limit;                 /* 0: no limit */
};
int store_search(struct store *st, const char *zone, const struct store_filter *f,
		 int (*cb)(void *arg, const struct store_listing *l), void *arg);

/* Count by state, for stats. */
struct store_stats {
	uint64_t listed, removed, expired, excluded, pending;
	uint64_t events, evidence, hits, journal;
	uint32_t serial;
};
int store_stats(struct store *st, const char *zone, struct store_stats *s);

/* What DNS answers for a zone now: every LISTED and EXCLUDED entry, read
 * in one transaction, and the serial they are the state of. */
int store_snapshot(struct store *st, const char *zone, uint32_t *serial,
		   int (*cb)(void *arg, const struct store_entry *e), void *arg);

/* The journal after serial since, oldest first, up to *upto (set to the
 * serial the changes bring the zone to: its current serial, or since
 * when nothing changed). Returns 0, STORE_GONE when the
 * journal was pruned past since (the caller reloads the snapshot, an
 * IXFR falls back to AXFR), STORE_NOTFOUND or -1. */
int store_changes(struct store *st, const char *zone, uint32_t since, uint32_t *upto,
		  int (*cb)(void *arg, const struct store_change *c), void *arg);

/* Expire: every LISTED listing of zone (NULL: every zone) with
 * 0 < expires <= now becomes STORE_EXPIRED, with an event (actor
 * "expiry") and a journal row, in one transaction per zone. *n gets how
 * many (may be NULL). Cheap when nothing is due (an index on expires):
 * the daemons call it every second. 0 or -1. */
int store_expire(struct store *st, const char *zone, int64_t now, unsigned *n);

/* Drop journal rows of zone (NULL: all) older than keep serials back
 * from the current serial; remember the oldest serial still complete. */
int store_journal_prune(struct store *st, const char *zone, uint32_t keep);

#endif
