/*
 * db_sqlite.c - the SQLite engine of the store (db.h): "sqlite:PATH".
 *
 * The database runs in WAL mode (readers never block the writer) with
 * synchronous=FULL: WAL with NORMAL survives a crash of the process but
 * may lose the last commits on a power loss, and a trap's LMTP "250"
 * promises the event is kept, so every commit syncs the WAL. Tuned for
 * the trap intake's writes (8 KiB pages, 64 MiB cache, statement
 * journals in memory, a checkpoint every 8,192 WAL pages). Foreign keys
 * are on; a lock is waited for up to 5 s (busy_timeout). Statements are
 * prepared once per connection and kept in a small cache keyed by their
 * SQL text, so a hit is a few sqlite3_step()s, not a few parses.
 *
 * SECURITY: every value is bound (sqlite3_bind_*), never spliced. The
 * path is operator configuration. Runs with the daemon's privileges.
 */
#include "store/db.h"
#include "base/dynlib.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libsqlite3 is opened when an SQLite store is (base/dynlib.h). */
#define SQ3_FUNCS(X) \
	X(sqlite3_bind_blob) \
	X(sqlite3_bind_int64) \
	X(sqlite3_bind_null) \
	X(sqlite3_bind_parameter_count) \
	X(sqlite3_bind_text) \
	X(sqlite3_busy_timeout) \
	X(sqlite3_changes64) \
	X(sqlite3_clear_bindings) \
	X(sqlite3_close) \
	X(sqlite3_column_blob) \
	X(sqlite3_column_bytes) \
	X(sqlite3_column_int64) \
	X(sqlite3_column_text) \
	X(sqlite3_column_type) \
	X(sqlite3_errmsg) \
	X(sqlite3_exec) \
	X(sqlite3_extended_result_codes) \
	X(sqlite3_finalize) \
	X(sqlite3_get_autocommit) \
	X(sqlite3_open_v2) \
	X(sqlite3_prepare_v3) \
	X(sqlite3_reset) \
	X(sqlite3_step)
static struct { SQ3_FUNCS(DYNLIB_SLOT) } sq3;
DYNLIB_DEFINE(sq3_lib, sq3, SQ3_FUNCS, "libsqlite3.so.0", "libsqlite3-0");
#define sqlite3_bind_blob sq3.sqlite3_bind_blob
#define sqlite3_bind_int64 sq3.sqlite3_bind_int64
#define sqlite3_bind_null sq3.sqlite3_bind_null
#define sqlite3_bind_parameter_count sq3.sqlite3_bind_parameter_count
#define sqlite3_bind_text sq3.sqlite3_bind_text
#define sqlite3_busy_timeout sq3.sqlite3_busy_timeout
#define sqlite3_changes64 sq3.sqlite3_changes64
#define sqlite3_clear_bindings sq3.sqlite3_clear_bindings
#define sqlite3_close sq3.sqlite3_close
#define sqlite3_column_blob sq3.sqlite3_column_blob
#define sqlite3_column_bytes sq3.sqlite3_column_bytes
#define sqlite3_column_int64 sq3.sqlite3_column_int64
#define sqlite3_column_text sq3.sqlite3_column_text
#define sqlite3_column_type sq3.sqlite3_column_type
#define sqlite3_errmsg sq3.sqlite3_errmsg
#define sqlite3_exec sq3.sqlite3_exec
#define sqlite3_extended_result_codes sq3.sqlite3_extended_result_codes
#define sqlite3_finalize sq3.sqlite3_finalize
#define sqlite3_get_autocommit sq3.sqlite3_get_autocommit
#define sqlite3_open_v2 sq3.sqlite3_open_v2
#define sqlite3_prepare_v3 sq3.sqlite3_prepare_v3
#define sqlite3_reset sq3.sqlite3_reset
#define sqlite3_step sq3.sqlite3_step

#define STMT_CACHE 128          /* distinct statements of store.c, with room */
#define STMT_PROBE 8
#define BUSY_MS 5000
/* 8 KiB pages: a trap hit appends events, evidence (~2 KB), hits and
 * journal rows; larger pages take a batch's appends in fewer WAL frames
 * (measured: 9.4 pwrites a message against 12.9 with 4 KiB) */
#define PAGE_SIZE "8192"

struct stmt_slot {
	char *sql;              /* a copy of the text it was prepared from */
	sqlite3_stmt *stmt;
	int busy;               /* stepping now: a nested use gets its own statement */
};

struct db_sqlite {
	struct db base;
	sqlite3 *conn;
	struct stmt_slot cache[STMT_CACHE];
	char err[512];
};

static struct db_sqlite *sq(struct db *db)
{
	return (struct db_sqlite *)db;
}

static void seterr(struct db_sqlite *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s%s%s", what ? what : "",
		 what ? ": " : "", sqlite3_errmsg(s->conn));
}

static int code_of(int rc)
{
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return DB_BUSY;
	return -1;
}

/* A prepared statement for sql, from the cache or newly prepared, reset
 * and unbound; *slotp is its cache slot (marked busy), or NULL for a
 * statement of its own that the caller finalizes (every slot it may use
 * is busy in a query further up the stack). NULL on error (s->err set).
 * The cache is open addressing over STMT_PROBE slots from the text's
 * hash; the last of them is evicted when all are taken. */
static sqlite3_stmt *prepare(struct db_sqlite *s, const char *sql, struct stmt_slot **slotp)
{
	size_t h = 5381, i;
	const unsigned char *c;
	struct stmt_slot *slot, *victim = NULL;
	sqlite3_stmt *st = NULL;
	char *copy;

	for (c = (const unsigned char *)sql; *c; c++)
		h = h * 33 + *c;
	*slotp = NULL;
	for (i = 0; i < STMT_PROBE; i++) {
		slot = &s->cache[(h + i) % STMT_CACHE];
		if (!slot->stmt) {
			if (!victim)
				victim = slot;
			break;
		}
		if (slot->busy)
			continue;
		if (!strcmp(slot->sql, sql)) {
			sqlite3_reset(slot->stmt);
			sqlite3_clear_bindings(slot->stmt);
			slot->busy = 1;
			*slotp = slot;
			return slot->stmt;
		}
		victim = slot;
	}
	if (sqlite3_prepare_v3(s->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		seterr(s, NULL);
		return NULL;
	}
	if (!victim || !(copy = strdup(sql)))
		return st;
	if (victim->stmt)
		sqlite3_finalize(victim->stmt);
	free(victim->sql);
	victim->sql = copy;
	victim->stmt = st;
	victim->busy = 1;
	*slotp = victim;
	return st;
}

static int bind(struct db_sqlite *s, sqlite3_stmt *st, const struct db_param *p, int np)
{
	int i, rc = SQLITE_OK;

	if (np != sqlite3_bind_parameter_count(st)) {
		snprintf(s->err, sizeof(s->err), "%d parameters for %d placeholders", np,
			 sqlite3_bind_parameter_count(st));
		return -1;
	}
	for (i = 0; i < np && rc == SQLITE_OK; i++) {
		switch (p[i].type) {
		case DB_INT:
			rc = sqlite3_bind_int64(st, i + 1, p[i].i);
			break;
		case DB_TEXT:
			rc = p[i].p ? sqlite3_bind_text(st, i + 1, p[i].p, -1, SQLITE_STATIC)
				    : sqlite3_bind_null(st, i + 1);
			break;
		case DB_BLOB:
			rc = p[i].p ? sqlite3_bind_blob(st, i + 1, p[i].p, (int)p[i].len,
							SQLITE_STATIC)
				    : sqlite3_bind_null(st, i + 1);
			break;
		default:
			rc = sqlite3_bind_null(st, i + 1);
		}
	}
	if (rc != SQLITE_OK) {
		seterr(s, "bind");
		return -1;
	}
	return 0;
}

static int sq_query(struct db *db, const char *sql, const struct db_param *p, int np,
		    db_row_cb cb, void *arg)
{
	struct db_sqlite *s = sq(db);
	struct stmt_slot *slot;
	sqlite3_stmt *st = prepare(s, sql, &slot);
	struct db_row row = { db->ops, NULL, 0 };
	int rc, ret = 0;

	if (!st)
		return -1;
	if (bind(s, st, p, np) < 0) {
		ret = -1;
		goto out;
	}
	row.h = st;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb && (ret = cb(arg, &row)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		seterr(s, NULL);
		ret = code_of(rc);
	}
out:
	/* release the statement's read lock and the bound pointers now */
	if (slot) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		slot->busy = 0;
	} else {
		sqlite3_finalize(st);
	}
	return ret;
}

static int sq_exec(struct db *db, const char *sql, const struct db_param *p, int np,
		   int64_t *changes)
{
	int rc = sq_query(db, sql, p, np, NULL, NULL);

	if (rc == 0 && changes)
		*changes = sqlite3_changes64(sq(db)->conn);
	return rc;
}

/* A statement outside the cache (transactions, pragmas). */
static int run(struct db_sqlite *s, const char *sql)
{
	int rc = sqlite3_exec(s->conn, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		seterr(s, NULL);
		return code_of(rc);
	}
	return 0;
}

static int sq_begin(struct db *db, enum db_begin_mode mode)
{
	return run(sq(db), mode == DB_BEGIN_WRITE ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

static int sq_commit(struct db *db)
{
	return run(sq(db), "COMMIT");
}

static int sq_rollback(struct db *db)
{
	struct db_sqlite *s = sq(db);

	if (sqlite3_get_autocommit(s->conn))
		return 0;       /* SQLite already rolled back (or nothing open) */
	return run(s, "ROLLBACK");
}

static const char *sq_errmsg(const struct db *db)
{
	const struct db_sqlite *s = (const struct db_sqlite *)db;

	return s->err[0] ? s->err : "no error";
}

static void sq_close(struct db *db)
{
	struct db_sqlite *s = sq(db);
	size_t i;

	if (!s)
		return;
	for (i = 0; i < STMT_CACHE; i++)
		if (s->cache[i].stmt)
			sqlite3_finalize(s->cache[i].stmt);
	for (i = 0; i < STMT_CACHE; i++)
		free(s->cache[i].sql);
	sqlite3_close(s->conn);
	free(s);
}

static int sq_open(const char *dsn, unsigned flags, struct db **out, char *err, size_t errlen)
{
	static const char *const pragmas[] = {
		"PRAGMA foreign_keys = ON",
		"PRAGMA synchronous = FULL",
		/* savepoints' statement journals in memory, not a temp file
		 * opened and unlinked per batch */
		"PRAGMA temp_store = MEMORY",
		/* 64 MiB of page cache (the default is 2 MiB): the pages a
		 * hit touches stay in memory, no pread per lookup */
		"PRAGMA cache_size = -65536",
		/* checkpoint every 8,192 WAL pages (32 MiB), not every
		 * 1,000: a checkpoint writes and fsyncs the database file,
		 * and a larger one writes each hot page once for many
		 * commits. Durability is the WAL's (synced per commit). */
		"PRAGMA wal_autocheckpoint = 8192",
		NULL,
	};
	struct db_sqlite *s;
	const char *path = dsn;
	int i, oflags = SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	if (dynlib_load(&sq3_lib, err, errlen) < 0)
		return -1;
	if (!strncmp(path, "sqlite:", 7))
		path += 7;
	if (!*path) {
		snprintf(err, errlen, "%s: no file name (sqlite:PATH)", dsn);
		return -1;
	}
	oflags |= (flags & DB_RDONLY) ? SQLITE_OPEN_READONLY
				      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", dsn);
		return -1;
	}
	s->base.ops = &db_sqlite_ops;
	if (sqlite3_open_v2(path, &s->conn, oflags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", dsn,
			 s->conn ? sqlite3_errmsg(s->conn) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->conn, 0);
	sqlite3_busy_timeout(s->conn, BUSY_MS);
	/* WAL is a property of the file: set once by a writer, kept after;
	 * so is the page size, which takes effect only on a new file */
	if (!(flags & DB_RDONLY) && (run(s, "PRAGMA page_size = " PAGE_SIZE) != 0 ||
				     run(s, "PRAGMA journal_mode = WAL") != 0)) {
		snprintf(err, errlen, "%s: %s", dsn, s->err);
		goto fail;
	}
	for (i = 0; pragmas[i]; i++) {
		if (run(s, pragmas[i]) != 0) {
			snprintf(err, errlen, "%s: %s", dsn, s->err);
			goto fail;
		}
	}
	*out = &s->base;
	return 0;
fail:
	sq_close(&s->base);
	return -1;
}

static int sq_col_null(const struct db_row *r, int col)
{
	return sqlite3_column_type(r->h, col) == SQLITE_NULL;
}

static int64_t sq_col_int(const struct db_row *r, int col)
{
	return sqlite3_column_int64(r->h, col);
}

static const char *sq_col_text(const struct db_row *r, int col, size_t *len)
{
	const char *t = (const char *)sqlite3_column_text(r->h, col);

	if (len)
		*len = t ? (size_t)sqlite3_column_bytes(r->h, col) : 0;
	return t ? t : "";
}

static const void *sq_col_blob(const struct db_row *r, int col, size_t *len)
{
	const void *b = sqlite3_column_blob(r->h, col);

	if (len)
		*len = b ? (size_t)sqlite3_column_bytes(r->h, col) : 0;
	return b ? b : "";
}

const struct db_ops db_sqlite_ops = {
	.name = "sqlite",
	.dialect = DB_SQLITE,
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.query = sq_query,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.errmsg = sq_errmsg,
	.col_null = sq_col_null,
	.col_int = sq_col_int,
	.col_text = sq_col_text,
	.col_blob = sq_col_blob,
};
