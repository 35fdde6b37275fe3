/*
 * db.h - the store's internal SQL driver interface. store.c is written
 * once against it; each engine implements it in one file:
 *
 *	db_sqlite.c   sqlite:PATH                      (db_sqlite_ops)
 *	db_pg.c       postgresql://... / postgres://... (db_pg_ops)
 *
 * SQL is written once, with "?" placeholders (the PostgreSQL engine
 * rewrites them to $1..$n, outside quoted strings) and in the common
 * subset of both dialects: INSERT ... ON CONFLICT (...) DO UPDATE/NOTHING,
 * RETURNING, integers as BIGINT-sized values, text, blobs. Where the two
 * differ (the schema's column types), the SQL is given per dialect
 * (db_migrations below).
 *
 * Values are always bound parameters (struct db_param), never spliced
 * into SQL text. Rows come to a callback with typed column getters.
 *
 * Return codes of every int function: 0, -1 (error: db_errmsg() says
 * what, in the engine's words) or DB_BUSY (locked past the engine's
 * timeout; the operation did nothing).
 *
 * A struct db is one connection, used by one thread at a time.
 *
 * SECURITY: parameters may carry untrusted text (trap mail headers,
 * reasons); they are bound, never parsed. The DSN is operator
 * configuration.
 */
#ifndef RBLKIT_STORE_DB_H
#define RBLKIT_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#define DB_BUSY 3               /* the same value as STORE_BUSY */

#define DB_RDONLY 1u            /* open flag: no writes (store_open's STORE_RDONLY) */

enum db_dialect { DB_SQLITE = 1, DB_PG = 2 };

/* ---- parameters ---- */

enum db_type { DB_NULL = 0, DB_INT, DB_TEXT, DB_BLOB };

struct db_param {
	enum db_type type;
	int64_t i;              /* DB_INT */
	const void *p;          /* DB_TEXT (NUL-terminated, len ignored), DB_BLOB */
	size_t len;             /* DB_BLOB */
};

/* Parameter constructors: db_exec(db, sql, (struct db_param[]){
 * DB_I(zone_id), DB_T(key) }, 2, NULL). */
#define DB_I(v)     ((struct db_param){ .type = DB_INT, .i = (int64_t)(v) })
#define DB_T(s)     ((struct db_param){ .type = DB_TEXT, .p = (s) })
#define DB_B(b, n)  ((struct db_param){ .type = DB_BLOB, .p = (b), .len = (n) })
#define DB_N        ((struct db_param){ .type = DB_NULL })

/* ---- rows ---- */

/* One result row, valid only during the row callback. Columns count
 * from 0 in the order of the SELECT / RETURNING list. */
struct db_row {
	const struct db_ops *ops;
	void *h;                /* the engine's handle: sqlite3_stmt *, PGresult * */
	int row;                /* PostgreSQL: the row number in h */
};

/* Return 0 to get the next row; anything else stops the query, which
 * then returns that value. */
typedef int (*db_row_cb)(void *arg, const struct db_row *r);

/* ---- the engine ---- */

struct db {
	const struct db_ops *ops;       /* first member of each engine's struct */
};

enum db_begin_mode {
	DB_BEGIN_WRITE = 1,     /* take the store's write lock now: one writer
				 * at a time, so what a transaction read is still
				 * true when it writes and serials follow commit
				 * order (SQLite BEGIN IMMEDIATE; PostgreSQL BEGIN
				 * READ COMMITTED and an advisory xact lock) */
	DB_BEGIN_READ = 2,      /* one consistent snapshot for every statement
				 * (SQLite BEGIN DEFERRED in WAL; PostgreSQL
				 * BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY) */
};

struct db_ops {
	const char *name;               /* "sqlite", "postgresql" */
	enum db_dialect dialect;

	/* Connect to dsn (the whole DSN as the operator wrote it: the engine
	 * strips its own "sqlite:" prefix; libpq takes the URI as it is).
	 * flags: DB_RDONLY. Lock waits are bounded (SQLite busy_timeout
	 * 5000 ms; PostgreSQL lock_timeout 5 s). Durability: a commit
	 * returns only once the data survives a power loss (SQLite
	 * synchronous=FULL; PostgreSQL synchronous_commit on).
	 * Returns 0 and *out (free with close), or -1 with "what: why" in
	 * err (no *out to free). */
	int (*open)(const char *dsn, unsigned flags, struct db **out, char *err, size_t errlen);
	void (*close)(struct db *db);

	/* Run one statement that returns no rows. *changes (may be NULL)
	 * gets the number of rows inserted, updated or deleted. */
	int (*exec)(struct db *db, const char *sql, const struct db_param *p, int np,
		    int64_t *changes);
	/* Run one statement and call cb for each row it returns (a SELECT,
	 * or a write with RETURNING). Returns 0, cb's non-zero value, -1 or
	 * DB_BUSY. */
	int (*query)(struct db *db, const char *sql, const struct db_param *p, int np,
		     db_row_cb cb, void *arg);

	/* Transactions; no nesting (store.c tracks whether one is open).
	 * commit returns 0 only once the data is durable. rollback after a
	 * failed statement or commit is allowed and leaves no transaction. */
	int (*begin)(struct db *db, enum db_begin_mode mode);
	int (*commit)(struct db *db);
	int (*rollback)(struct db *db);

	/* The last error, in the engine's words ("database is locked",
	 * "duplicate key value violates unique constraint ..."); never NULL. */
	const char *(*errmsg)(const struct db *db);

	/* Column getters for a row callback. A NULL column reads as 0 / ""
	 * / a zero-length blob; col_null tells it apart. Text is
	 * NUL-terminated; text and blob pointers are valid during the
	 * callback only. len may be NULL. */
	int (*col_null)(const struct db_row *r, int col);
	int64_t (*col_int)(const struct db_row *r, int col);
	const char *(*col_text)(const struct db_row *r, int col, size_t *len);
	const void *(*col_blob)(const struct db_row *r, int col, size_t *len);
};

/* The engines. store.c picks one by the DSN's scheme. */
extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

/* Shorthands, so store.c reads as SQL calls. */
static inline int db_exec(struct db *db, const char *sql, const struct db_param *p, int np,
			  int64_t *changes)
{
	return db->ops->exec(db, sql, p, np, changes);
}
static inline int db_query(struct db *db, const char *sql, const struct db_param *p, int np,
			   db_row_cb cb, void *arg)
{
	return db->ops->query(db, sql, p, np, cb, arg);
}
static inline int64_t db_int(const struct db_row *r, int col)
{
	return r->ops->col_int(r, col);
}
static inline const char *db_text(const struct db_row *r, int col)
{
	return r->ops->col_text(r, col, NULL);
}
static inline const void *db_blob(const struct db_row *r, int col, size_t *len)
{
	return r->ops->col_blob(r, col, len);
}
static inline int db_isnull(const struct db_row *r, int col)
{
	return r->ops->col_null(r, col);
}
static inline const char *db_errmsg(const struct db *db)
{
	return db->ops->errmsg(db);
}

/* ---- schema ---- */

/* One step of the schema: the statements that take a store from
 * version - 1 to version, per dialect (index DB_SQLITE / DB_PG), each
 * list NULL-terminated, one statement per string. Version 1 creates
 * everything. store_open() runs the steps past the stored
 * meta.schema_version in one write transaction and records the new
 * version; a stored version above STORE_SCHEMA_VERSION is refused. */
struct db_migration {
	int version;
	const char *const *sql[3];      /* [DB_SQLITE], [DB_PG]; [0] unused */
};
extern const struct db_migration db_migrations[];
extern const size_t db_nmigrations;

/* dsn with the password of a URI ("//user:pw@") or of a conninfo or a
 * URI's query ("password=pw") replaced by "***", into out (len bytes,
 * always terminated): the one writer of a DSN for messages (db_pg.c;
 * store_dsn_shown() for the layers above). */
void db_dsn_shown(const char *dsn, char *out, size_t len);

#endif
