/*
 * store.c - the listing store (store.h): the DSN picks the engine (db.h),
 * store_open() creates or migrates the schema, and the transaction and
 * zone functions the other store files build on. Listings and the
 * journal are in store_listing.c, history, evidence, hits and stats in
 * store_history.c, keys in store_key.c.
 *
 * SECURITY: the DSN is operator configuration; a password in it is never
 * repeated in an error message. Zone names come from configuration and
 * the command line: checked and lowercased before use, always bound.
 */
#include "store/store_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int store_fail(struct store *st, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	return rc;
}

int store_dbfail(struct store *st, int rc, const char *what)
{
	return store_fail(st, rc, "%s: %s", what, db_errmsg(st->db));
}

const char *store_error(const struct store *st)
{
	return st && st->err[0] ? st->err : "no error";
}

const char *store_engine(const struct store *st)
{
	return st->db->ops->name;
}

/* ---- transactions ---- */

static void txn_reset(struct store *st)
{
	st->nbumped = 0;
	st->nzc = 0;
	st->writing = 0;
}

/* A transaction inside a batch: a savepoint, with the serials taken and
 * zones found so far kept to be restored by its rollback. */
static int sp_begin(struct store *st)
{
	int rc;

	if (st->sp)
		return store_fail(st, -1, "a transaction is already open in the batch");
	if (st->sp_abumped < st->nbumped) {
		struct store_bump *b = realloc(st->sp_bumped, st->nbumped * sizeof(*b));

		if (!b)
			return store_fail(st, -1, "out of memory");
		st->sp_bumped = b;
		st->sp_abumped = st->nbumped;
	}
	rc = db_exec(st->db, "SAVEPOINT store_batch", NULL, 0, NULL);
	if (rc)
		return store_dbfail(st, rc, "savepoint");
	if (st->nbumped)
		memcpy(st->sp_bumped, st->bumped, st->nbumped * sizeof(*st->bumped));
	st->sp_nbumped = st->nbumped;
	st->sp_nzc = st->nzc;
	st->sp = 1;
	return 0;
}

static int sp_end(struct store *st, int commit)
{
	int rc = 0;

	st->sp = 0;
	if (!commit) {
		rc = db_exec(st->db, "ROLLBACK TO SAVEPOINT store_batch", NULL, 0, NULL);
		if (st->sp_nbumped)
			memcpy(st->bumped, st->sp_bumped, st->sp_nbumped * sizeof(*st->bumped));
		st->nbumped = st->sp_nbumped;
		st->nzc = st->sp_nzc;
	}
	if (!rc)
		rc = db_exec(st->db, "RELEASE SAVEPOINT store_batch", NULL, 0, NULL);
	return rc ? store_dbfail(st, rc, commit ? "release" : "rollback to savepoint") : 0;
}

int store_batch_begin(struct store *st)
{
	if (store_begin(st))
		return -1;
	st->batch = 1;
	return 0;
}

int store_batch_end(struct store *st, int commit)
{
	int rc = 0;

	if (!st->batch)
		return store_fail(st, -1, "no batch open");
	if (st->sp)
		rc = sp_end(st, 0);
	st->batch = 0;
	if (commit && !rc)
		return store_commit(st);
	store_rollback(st);
	return commit ? -1 : 0;
}

int store_begin(struct store *st)
{
	int rc;

	if (st->batch && st->txn)
		return sp_begin(st);
	if (st->txn || st->autotxn)
		return store_fail(st, -1, "a transaction is already open");
	if (st->flags & STORE_RDONLY)
		return store_fail(st, -1, "the store is open read-only");
	rc = st->db->ops->begin(st->db, DB_BEGIN_WRITE);
	if (rc)
		return store_dbfail(st, rc, "begin");
	txn_reset(st);
	st->txn = 1;
	st->writing = 1;
	return 0;
}

int store_commit(struct store *st)
{
	int rc;

	if (st->sp)
		return sp_end(st, 1);
	if (!st->txn)
		return store_fail(st, -1, "commit without a transaction");
	st->txn = 0;
	txn_reset(st);
	rc = st->db->ops->commit(st->db);
	if (rc) {
		store_dbfail(st, rc, "commit");
		st->db->ops->rollback(st->db);
	}
	return rc;
}

void store_rollback(struct store *st)
{
	if (st->sp) {
		sp_end(st, 0);
		return;
	}
	if (!st->txn)
		return;
	st->txn = 0;
	txn_reset(st);
	st->db->ops->rollback(st->db);
}

int store_wbegin(struct store *st)
{
	int rc;

	if (st->flags & STORE_RDONLY)
		return store_fail(st, -1, "the store is open read-only");
	if (st->txn)
		return 0;
	rc = st->db->ops->begin(st->db, DB_BEGIN_WRITE);
	if (rc)
		return store_dbfail(st, rc, "begin");
	txn_reset(st);
	st->autotxn = 1;
	st->writing = 1;
	return 0;
}

int store_wend(struct store *st, int rc)
{
	int c;

	if (!st->autotxn)
		return rc;
	st->autotxn = 0;
	txn_reset(st);
	if (rc < 0) {
		st->db->ops->rollback(st->db);
		return rc;
	}
	c = st->db->ops->commit(st->db);
	if (c) {
		store_dbfail(st, c, "commit");
		st->db->ops->rollback(st->db);
		return c;
	}
	return rc;
}

int store_rbegin(struct store *st)
{
	int rc;

	if (st->txn)
		return 0;
	rc = st->db->ops->begin(st->db, DB_BEGIN_READ);
	if (rc)
		return store_dbfail(st, rc, "begin");
	st->autotxn = 1;
	return 0;
}

int store_rend(struct store *st, int rc)
{
	if (!st->autotxn)
		return rc;
	st->autotxn = 0;
	/* nothing was written: a rollback ends the read as well */
	st->db->ops->rollback(st->db);
	return rc;
}

/* ---- opening and the schema ---- */

void store_dsn_shown(const char *dsn, char *out, size_t len)
{
	db_dsn_shown(dsn, out, len);
}

static const struct db_ops *engine_of(const char *dsn)
{
	if (!strncmp(dsn, "sqlite:", 7))
		return &db_sqlite_ops;
	if (!strncmp(dsn, "postgresql://", 13) || !strncmp(dsn, "postgres://", 11))
		return &db_pg_ops;
	return NULL;
}

static int one_int(void *arg, const struct db_row *r)
{
	*(int64_t *)arg = db_int(r, 0);
	return 0;
}

/* The stored schema version: 0 with no schema yet, or -1. */
static int schema_version(struct store *st, int64_t *v)
{
	static const char *const has_meta[] = {
		[DB_SQLITE] = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
		[DB_PG] = "SELECT COUNT(*) FROM information_schema.tables"
			  " WHERE table_schema = current_schema() AND table_name = 'meta'",
	};
	int64_t n = 0;
	int rc;

	*v = 0;
	rc = db_query(st->db, has_meta[st->db->ops->dialect], NULL, 0, one_int, &n);
	if (rc)
		return store_dbfail(st, rc, "reading the schema");
	if (n == 0)
		return 0;
	rc = db_query(st->db, "SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'schema_version'",
		      NULL, 0, one_int, v);
	if (rc)
		return store_dbfail(st, rc, "reading the schema version");
	return 0;
}

/* Run the migrations past version *v, in the open write transaction. */
static int migrate(struct store *st, int64_t from)
{
	enum db_dialect d = st->db->ops->dialect;
	char ver[24];
	size_t i;
	int rc;

	for (i = 0; i < db_nmigrations; i++) {
		const char *const *sql = db_migrations[i].sql[d];

		if (db_migrations[i].version <= from)
			continue;
		for (; *sql; sql++) {
			rc = db_exec(st->db, *sql, NULL, 0, NULL);
			if (rc)
				return store_fail(st, rc, "schema version %d: %s",
						  db_migrations[i].version, db_errmsg(st->db));
		}
	}
	snprintf(ver, sizeof(ver), "%d", STORE_SCHEMA_VERSION);
	rc = db_exec(st->db,
		     "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
		     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		     (struct db_param[]){ DB_T(ver) }, 1, NULL);
	if (rc)
		return store_dbfail(st, rc, "recording the schema version");
	return 0;
}

static int check_version(struct store *st, int64_t v)
{
	if (v > STORE_SCHEMA_VERSION)
		return store_fail(st, -1, "schema version %lld is newer than this rblkit (%d)",
				  (long long)v, STORE_SCHEMA_VERSION);
	return 0;
}

/* Bring the schema to STORE_SCHEMA_VERSION; the common case (it is
 * already) takes no write lock, so daemons open side by side. */
static int schema_init(struct store *st)
{
	int64_t v;
	int rc;

	if (schema_version(st, &v) || check_version(st, v))
		return -1;
	if (v == STORE_SCHEMA_VERSION)
		return 0;
	if (st->flags & STORE_RDONLY)
		return store_fail(st, -1,
				  v ? "schema version %lld needs a migration: open it read-write once"
				    : "no store here (schema version %lld): create it read-write first",
				  (long long)v);
	rc = st->db->ops->begin(st->db, DB_BEGIN_WRITE);
	if (rc)
		return store_dbfail(st, rc, "begin");
	/* two nodes migrating one PostgreSQL store: the second waits, then
	 * finds the work done */
	if (st->db->ops->dialect == DB_PG &&
	    (rc = db_query(st->db, "SELECT pg_advisory_xact_lock(7353950811)", NULL, 0, NULL,
			   NULL)))
		store_dbfail(st, rc, "locking the schema");
	if (!rc && !(rc = schema_version(st, &v)) && !(rc = check_version(st, v)) &&
	    v < STORE_SCHEMA_VERSION)
		rc = migrate(st, v);
	if (rc) {
		st->db->ops->rollback(st->db);
		return rc;
	}
	rc = st->db->ops->commit(st->db);
	if (rc) {
		store_dbfail(st, rc, "commit");
		st->db->ops->rollback(st->db);
	}
	return rc;
}

int store_open(const char *dsn, unsigned flags, struct store **out, char *err, size_t errlen)
{
	const struct db_ops *ops;
	struct store *st = NULL;
	char shown[512];
	int rc = -1;

	*out = NULL;
	store_dsn_shown(dsn ? dsn : "", shown, sizeof(shown));
	ops = dsn ? engine_of(dsn) : NULL;
	if (!ops) {
		snprintf(err, errlen,
			 "\"%s\": not a store; use sqlite:PATH or "
			 "postgresql://USER@HOST:PORT/DB (or postgres://...)", shown);
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "%s: out of memory", shown);
		return -1;
	}
	st->flags = flags;
	if (ops->open(dsn, (flags & STORE_RDONLY) ? DB_RDONLY : 0, &st->db, err, errlen) < 0)
		goto out;
	rc = schema_init(st);
	if (rc)
		snprintf(err, errlen, "%s: %s", shown, st->err);
out:
	if (rc) {
		store_close(st);
		return -1;       /* busy too: the message says "locked" */
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->db) {
		if (st->txn || st->autotxn)
			st->db->ops->rollback(st->db);
		st->db->ops->close(st->db);
	}
	free(st->bumped);
	free(st->sp_bumped);
	free(st);
}

/* ---- zones ---- */

/* in (at most STORE_ZONE_MAX bytes, maybe without its NUL) as a domain
 * name in lowercase without the final dot into out. -1 with why in e. */
static int domain(const char *in, char *out, char *e, size_t elen)
{
	char buf[STORE_ZONE_MAX];
	struct store_key k;
	size_t n = in ? strnlen(in, STORE_ZONE_MAX) : 0;

	if (n == 0 || n >= STORE_ZONE_MAX) {
		snprintf(e, elen, "\"%.64s\": empty or longer than %d bytes", n ? in : "",
			 STORE_ZONE_MAX - 1);
		return -1;
	}
	memcpy(buf, in, n);
	buf[n] = '\0';
	if (store_key_parse(buf, &k, e, elen) < 0)
		return -1;
	if (k.kind != STORE_NAME) {
		snprintf(e, elen, "\"%.64s\": not a domain name", buf);
		return -1;
	}
	memcpy(out, k.text, strlen(k.text) + 1);
	return 0;
}

int store_zone_name(struct store *st, const char *in, char *out)
{
	char e[256];

	if (domain(in, out, e, sizeof(e)) < 0)
		return store_fail(st, -1, "zone %s", e);
	return 0;
}

static int zrow_cb(void *arg, const struct db_row *r)
{
	struct store_zrow *z = arg;

	z->id = db_int(r, 0);
	z->code = (uint32_t)db_int(r, 1);
	if (!z->code)
		z->code = STORE_DEF_CODE;
	return 1;
}

static void zcache_add(struct store *st, const char *name, const struct store_zrow *z)
{
	struct store_zcache *c;

	if (!st->writing || st->nzc == STORE_ZCACHE)
		return;
	c = &st->zc[st->nzc++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->z = *z;
}

int store_zone_find(struct store *st, const char *name, struct store_zrow *z)
{
	unsigned i;
	int rc;

	for (i = 0; st->writing && i < st->nzc; i++) {
		if (!strcmp(st->zc[i].name, name)) {
			*z = st->zc[i].z;
			return 0;
		}
	}
	rc = db_query(st->db, "SELECT id, code FROM zones WHERE name = ?",
		      (struct db_param[]){ DB_T(name) }, 1, zrow_cb, z);
	if (rc == 1) {
		zcache_add(st, name, z);
		return 0;
	}
	if (rc == 0)
		return store_fail(st, STORE_NOTFOUND, "zone %s: not in the store", name);
	return store_dbfail(st, rc, "zone");
}

static int zone_insert(struct store *st, const struct store_zone *z, struct store_zrow *zr)
{
	char ns[STORE_NS_MAX * STORE_ZONE_MAX];
	int64_t now = (int64_t)time(NULL);
	size_t o = 0;
	unsigned i;
	int rc;

	ns[0] = '\0';
	for (i = 0; i < z->nns && i < STORE_NS_MAX; i++)
		o += (size_t)snprintf(ns + o, sizeof(ns) - o, "%s%s", o ? " " : "", z->ns[i]);
	rc = db_query(st->db,
		      "INSERT INTO zones (name, ttl, code, txt, mname, rname, refresh, retry,"
		      " expire, minimum, ns, serial, journal_from)"
		      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		      " ON CONFLICT (name) DO NOTHING RETURNING id, code",
		      (struct db_param[]){ DB_T(z->name), DB_I(z->ttl), DB_I(z->code), DB_T(z->txt),
					   DB_T(z->mname), DB_T(z->rname), DB_I(z->refresh),
					   DB_I(z->retry), DB_I(z->expire), DB_I(z->minimum),
					   DB_T(ns), DB_I(now), DB_I(now) },
		      13, zrow_cb, zr);
	if (rc == 0)    /* another node created it a moment ago (PostgreSQL) */
		return store_zone_find(st, z->name, zr);
	if (rc != 1)
		return store_dbfail(st, rc, "creating the zone");
	zcache_add(st, z->name, zr);
	return 0;
}

int store_zone_ensure(struct store *st, const char *name, struct store_zrow *z)
{
	struct store_zone def;
	int rc = store_zone_find(st, name, z);

	if (rc != STORE_NOTFOUND)
		return rc;
	memset(&def, 0, sizeof(def));
	snprintf(def.name, sizeof(def.name), "%s", name);
	return zone_insert(st, &def, z);
}

/* A new entry for zone_id in st->bumped, locked without a serial. */
static int bumped_add(struct store *st, int64_t zone_id)
{
	if (st->nbumped == st->abumped) {
		size_t n = st->abumped ? st->abumped * 2 : 8;
		struct store_bump *b = realloc(st->bumped, n * sizeof(*b));

		if (!b)
			return store_fail(st, -1, "out of memory");
		st->bumped = b;
		st->abumped = n;
	}
	st->bumped[st->nbumped].zone_id = zone_id;
	st->bumped[st->nbumped].serial = 0;
	st->nbumped++;
	return 0;
}

int store_zone_lock(struct store *st, int64_t zone_id)
{
	size_t i;
	int rc;

	/* SQLite: BEGIN IMMEDIATE holds the database lock already */
	if (st->db->ops->dialect != DB_PG)
		return 0;
	for (i = 0; i < st->nbumped; i++)
		if (st->bumped[i].zone_id == zone_id)
			return 0;
	if (bumped_add(st, zone_id) < 0)
		return -1;
	rc = db_query(st->db, "SELECT serial FROM zones WHERE id = ? FOR UPDATE",
		      (struct db_param[]){ DB_I(zone_id) }, 1, NULL, NULL);
	if (rc) {
		st->nbumped--;
		return store_dbfail(st, rc, "locking the zone");
	}
	return 0;
}

int store_zone_bump(struct store *st, int64_t zone_id, uint32_t *serial)
{
	struct store_bump *b = NULL;
	int64_t v = -1;
	size_t i;
	int rc;

	for (i = 0; i < st->nbumped && !b; i++)
		if (st->bumped[i].zone_id == zone_id)
			b = &st->bumped[i];
	if (b && b->serial) {
		*serial = b->serial;
		return 0;
	}
	if (!b) {
		if (bumped_add(st, zone_id) < 0)
			return -1;
		b = &st->bumped[st->nbumped - 1];
	}
	/* the row lock (PostgreSQL) or the database lock (SQLite) is held
	 * to the commit, so serials are handed out in commit order; 0 is
	 * skipped when the 32 bits wrap */
	rc = db_query(st->db,
		      "UPDATE zones SET serial = CASE WHEN serial >= 4294967295 THEN 1"
		      " ELSE serial + 1 END WHERE id = ? RETURNING serial",
		      (struct db_param[]){ DB_I(zone_id) }, 1, one_int, &v);
	if (rc || v <= 0)
		return store_dbfail(st, rc ? rc : -1, "taking the next serial");
	b->serial = (uint32_t)v;
	*serial = b->serial;
	return 0;
}

/* "ns1 ns2" into z->ns. */
static void split_ns(struct store_zone *z, const char *s)
{
	z->nns = 0;
	while (*s && z->nns < STORE_NS_MAX) {
		size_t n = strcspn(s, " ");

		if (n && n < STORE_ZONE_MAX)
			snprintf(z->ns[z->nns++], STORE_ZONE_MAX, "%.*s", (int)n, s);
		s += n;
		s += strspn(s, " ");
	}
}

static void zone_defaults(struct store_zone *z)
{
	if (!z->ttl)
		z->ttl = STORE_DEF_TTL;
	if (!z->code)
		z->code = STORE_DEF_CODE;
	if (!z->mname[0])
		snprintf(z->mname, sizeof(z->mname), "ns.%.*s", STORE_ZONE_MAX - 4, z->name);
	if (!z->rname[0])
		snprintf(z->rname, sizeof(z->rname), "hostmaster.%.*s", STORE_ZONE_MAX - 12,
			 z->name);
	if (!z->refresh)
		z->refresh = STORE_DEF_REFRESH;
	if (!z->retry)
		z->retry = STORE_DEF_RETRY;
	if (!z->expire)
		z->expire = STORE_DEF_EXPIRE;
	if (!z->minimum)
		z->minimum = STORE_DEF_MINIMUM;
	if (!z->nns) {
		snprintf(z->ns[0], sizeof(z->ns[0]), "%s", z->mname);
		z->nns = 1;
	}
}

#define ZONE_COLS "name, ttl, code, txt, mname, rname, refresh, retry, expire, minimum, ns, serial"

static void zone_from_row(const struct db_row *r, struct store_zone *z)
{
	memset(z, 0, sizeof(*z));
	store_copy(z->name, sizeof(z->name), db_text(r, 0));
	z->ttl = (uint32_t)db_int(r, 1);
	z->code = (uint32_t)db_int(r, 2);
	store_copy(z->txt, sizeof(z->txt), db_text(r, 3));
	store_copy(z->mname, sizeof(z->mname), db_text(r, 4));
	store_copy(z->rname, sizeof(z->rname), db_text(r, 5));
	z->refresh = (uint32_t)db_int(r, 6);
	z->retry = (uint32_t)db_int(r, 7);
	z->expire = (uint32_t)db_int(r, 8);
	z->minimum = (uint32_t)db_int(r, 9);
	split_ns(z, db_text(r, 10));
	z->serial = (uint32_t)db_int(r, 11);
}

static int zone_cb(void *arg, const struct db_row *r)
{
	zone_from_row(r, arg);
	return 1;
}

/* The zone as stored (no defaults filled in). */
static int zone_read(struct store *st, const char *name, struct store_zone *z)
{
	int rc = db_query(st->db, "SELECT " ZONE_COLS " FROM zones WHERE name = ?",
			  (struct db_param[]){ DB_T(name) }, 1, zone_cb, z);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return store_fail(st, STORE_NOTFOUND, "zone %s: not in the store", name);
	return store_dbfail(st, rc, "zone");
}

int store_zone_get(struct store *st, const char *zone, struct store_zone *z)
{
	char name[STORE_ZONE_MAX];
	int rc;

	if (store_zone_name(st, zone, name))
		return -1;
	rc = zone_read(st, name, z);
	if (rc == 0)
		zone_defaults(z);
	return rc;
}

/* The published data with defaults: what two zone rows answer alike. */
static int zone_same(struct store_zone a, struct store_zone b)
{
	unsigned i;

	zone_defaults(&a);
	zone_defaults(&b);
	if (a.ttl != b.ttl || a.code != b.code || strcmp(a.txt, b.txt) ||
	    strcmp(a.mname, b.mname) || strcmp(a.rname, b.rname) || a.refresh != b.refresh ||
	    a.retry != b.retry || a.expire != b.expire || a.minimum != b.minimum ||
	    a.nns != b.nns)
		return 0;
	for (i = 0; i < a.nns; i++)
		if (strcmp(a.ns[i], b.ns[i]))
			return 0;
	return 1;
}

/* A change to what the zone publishes besides its listings (the default
 * code or TXT of every entry, the SOA, the NS) cannot be told as a list
 * of listing changes: the zone takes a new serial and its journal starts
 * there, so serve reloads and a secondary gets an AXFR. */
static int zone_update(struct store *st, const struct store_zone *z, const struct store_zone *old)
{
	char ns[STORE_NS_MAX * STORE_ZONE_MAX];
	struct store_zrow zr;
	uint32_t serial;
	size_t o = 0;
	unsigned i;
	int rc;

	if (zone_same(*z, *old))
		return 0;
	ns[0] = '\0';
	for (i = 0; i < z->nns && i < STORE_NS_MAX; i++)
		o += (size_t)snprintf(ns + o, sizeof(ns) - o, "%s%s", o ? " " : "", z->ns[i]);
	if ((rc = store_zone_find(st, z->name, &zr)) || (rc = store_zone_bump(st, zr.id, &serial)))
		return rc;
	rc = db_exec(st->db,
		     "UPDATE zones SET ttl = ?, code = ?, txt = ?, mname = ?, rname = ?,"
		     " refresh = ?, retry = ?, expire = ?, minimum = ?, ns = ?, journal_from = ?"
		     " WHERE id = ?",
		     (struct db_param[]){ DB_I(z->ttl), DB_I(z->code), DB_T(z->txt),
					  DB_T(z->mname), DB_T(z->rname), DB_I(z->refresh),
					  DB_I(z->retry), DB_I(z->expire), DB_I(z->minimum),
					  DB_T(ns), DB_I(serial), DB_I(zr.id) },
		     12, NULL);
	if (rc)
		return store_dbfail(st, rc, "updating the zone");
	st->nzc = 0;    /* the default code changed */
	return db_exec(st->db, "DELETE FROM journal WHERE zone_id = ?",
		       (struct db_param[]){ DB_I(zr.id) }, 1, NULL)
		       ? store_dbfail(st, -1, "pruning the journal")
		       : 0;
}

/* A name of the zone's SOA or NS: empty (the default) or a host name,
 * made canonical in place. */
static int host_name(struct store *st, const char *what, char *name)
{
	char canon[STORE_ZONE_MAX], e[256];

	if (!name[0])
		return 0;
	if (domain(name, canon, e, sizeof(e)) < 0)
		return store_fail(st, -1, "%s %s", what, e);
	memcpy(name, canon, strlen(canon) + 1);
	return 0;
}

int store_zone_put(struct store *st, const struct store_zone *zin)
{
	struct store_zone z = *zin, old;
	struct store_zrow zr;
	unsigned i;
	int rc;

	if (store_zone_name(st, zin->name, z.name))
		return -1;
	if (z.nns > STORE_NS_MAX)
		return store_fail(st, -1, "zone %s: more than %d NS", z.name, STORE_NS_MAX);
	if (host_name(st, "SOA mname", z.mname) || host_name(st, "SOA rname", z.rname))
		return -1;
	for (i = 0; i < z.nns; i++)
		if (!z.ns[i][0] || host_name(st, "NS", z.ns[i]))
			return z.ns[i][0] ? -1 : store_fail(st, -1, "zone %s: NS %u is empty", z.name, i + 1);
	if ((rc = store_wbegin(st)))
		return rc;
	rc = zone_read(st, z.name, &old);
	if (rc == STORE_NOTFOUND)
		rc = zone_insert(st, &z, &zr);
	else if (rc == 0)
		rc = zone_update(st, &z, &old);
	return store_wend(st, rc);
}

int store_zone_serial(struct store *st, const char *zone, uint32_t *serial)
{
	char name[STORE_ZONE_MAX];
	int64_t v = -1;
	int rc;

	if (store_zone_name(st, zone, name))
		return -1;
	rc = db_query(st->db, "SELECT serial FROM zones WHERE name = ?",
		      (struct db_param[]){ DB_T(name) }, 1, one_int, &v);
	if (rc)
		return store_dbfail(st, rc, "zone serial");
	if (v < 0)
		return store_fail(st, STORE_NOTFOUND, "zone %s: not in the store", name);
	*serial = (uint32_t)v;
	return 0;
}

struct zones_walk {
	int (*cb)(void *arg, const struct store_zone *z);
	void *arg;
	int ret;                /* the callback's stop value */
};

static int zones_cb(void *arg, const struct db_row *r)
{
	struct zones_walk *w = arg;
	struct store_zone z;

	zone_from_row(r, &z);
	zone_defaults(&z);
	w->ret = w->cb(w->arg, &z);
	return w->ret ? 1 : 0;
}

int store_zones(struct store *st, int (*cb)(void *arg, const struct store_zone *z), void *arg)
{
	struct zones_walk w = { cb, arg, 0 };
	int rc = db_query(st->db, "SELECT " ZONE_COLS " FROM zones ORDER BY name", NULL, 0,
			  zones_cb, &w);

	if (rc == 1)
		return w.ret;
	if (rc)
		return store_dbfail(st, rc, "zones");
	return 0;
}
