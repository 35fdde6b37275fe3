/*
 * store_int.h - what the store's files share behind store.h: the
 * connection, the transaction bookkeeping (which zones this transaction
 * already gave a serial), and helpers for errors, bounded text and keys.
 *
 * SECURITY: internal; see store.h.
 */
#ifndef RBLKIT_STORE_INT_H
#define RBLKIT_STORE_INT_H

#include "store/db.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* A zone the open write transaction has locked, and its serial once it
 * took one (0 before: a serial is never 0). */
struct store_bump {
	int64_t zone_id;
	uint32_t serial;
};

/* The zone row a write needs. */
struct store_zrow {
	int64_t id;
	uint32_t code;                  /* default A */
};

/* Zones looked up in the open write transaction: no other writer can
 * change them before it ends (SQLite's lock, PostgreSQL's write lock),
 * so a trap's batch finds its zone once, not once per call. */
#define STORE_ZCACHE 8
struct store_zcache {
	char name[STORE_ZONE_MAX];
	struct store_zrow z;
};

struct store {
	struct db *db;
	unsigned flags;
	int txn;                        /* store_begin() is open */
	int autotxn;                    /* a transaction of one call is open */
	int writing;                    /* the open transaction is a write */
	struct store_bump *bumped;      /* zones locked / serials taken in it */
	size_t nbumped, abumped;
	struct store_zcache zc[STORE_ZCACHE];   /* zones found in it */
	unsigned nzc;
	/* store_batch_begin(): each store_begin() inside is a savepoint */
	int batch, sp;
	struct store_bump *sp_bumped;   /* bumped as it was at the savepoint */
	size_t sp_nbumped, sp_abumped;
	unsigned sp_nzc;
	char err[1024];
	char hbuf[STORE_HEADERS_MAX];   /* evidence headers cut to size */
	struct store_evidence evbuf;    /* the row store_evidence() hands out */
};

#define STORE_DEF_TTL 300u
#define STORE_DEF_CODE 0x7f000002u
#define STORE_DEF_REFRESH 3600u
#define STORE_DEF_RETRY 600u
#define STORE_DEF_EXPIRE 604800u
#define STORE_DEF_MINIMUM 300u

/* Set st->err ("what: engine's words" when eng is set) and return rc. */
int store_fail(struct store *st, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The engine's error as st's, prefixed with what; returns rc. */
int store_dbfail(struct store *st, int rc, const char *what);

/* Open a write transaction unless one is open (store_begin); wend
 * commits it when rc is 0 (rolls back otherwise) and returns rc, or
 * the commit's failure. */
int store_wbegin(struct store *st);
int store_wend(struct store *st, int rc);
/* The same for a consistent read of several statements. */
int store_rbegin(struct store *st);
int store_rend(struct store *st, int rc);

/* The zone's name as stored (lowercase, no final dot) into out
 * (STORE_ZONE_MAX). 0, or -1 with st->err set. */
int store_zone_name(struct store *st, const char *in, char *out);
/* Find a zone: 0 and *z, STORE_NOTFOUND, or -1. */
int store_zone_find(struct store *st, const char *name, struct store_zrow *z);
/* Find or create (with defaults, serial = now) a zone; in a write
 * transaction. 0 or -1. */
int store_zone_ensure(struct store *st, const char *name, struct store_zrow *z);
/* Serialise the writers of a zone before a read-modify-write (store_put
 * reads the old answer to journal the change): PostgreSQL locks the zone
 * row (SELECT ... FOR UPDATE) as the serial would, so two nodes cannot
 * both journal the same change; SQLite holds its database lock already.
 * 0 or -1. */
int store_zone_lock(struct store *st, int64_t zone_id);
/* The zone's serial for this transaction: the first call takes the next
 * one, later calls return the same. 0 or -1. */
int store_zone_bump(struct store *st, int64_t zone_id, uint32_t *serial);

/* Parse key text for st (error into st->err, returns -1). */
int store_key_get(struct store *st, const char *text, struct store_key *k);
/* The key's first and last address as 16 bytes (IPv4 mapped into
 * ::ffff:0:0/96). 0, or -1 for a name. */
int store_key_range(const struct store_key *k, uint8_t lo[16], uint8_t hi[16]);
/* A key from stored columns (no parsing: the text was canonical when
 * stored). */
void store_key_from(struct store_key *k, int kind, int bits, const void *lo, size_t lolen,
		    const char *text);

/* s cut to fit max bytes with its NUL, at a UTF-8 boundary: s itself
 * when it fits, else a copy in buf (max bytes). NULL is "". */
const char *store_bound(const char *s, char *buf, size_t max);
/* Copy a column into a fixed field, cut as above. */
void store_copy(char *dst, size_t max, const char *src);

#endif
