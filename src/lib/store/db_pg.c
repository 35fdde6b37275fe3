/*
 * db_pg.c - the PostgreSQL engine of the store (db.h):
 * "postgresql://user@host:port/db" or "postgres://...", given to libpq as
 * it is (any libpq URI or conninfo parameter works, sslmode included).
 *
 * Statements. store.c's "?" placeholders become $1..$n (outside quoted
 * strings, quoted identifiers and comments). Each statement is prepared
 * once per connection and kept in a cache keyed by its SQL text and the
 * types of its parameters, so a call is one round trip. Parameters are
 * typed: integers go as binary int8, text as text, blobs as binary bytea;
 * results come back as text (libpq's own format; an int column is parsed,
 * a bytea column is unescaped for the row's callback).
 *
 * Rows are streamed (libpq single-row mode), so a snapshot of a zone of
 * millions of listings is not held in memory at once. A row callback may
 * run another statement on the same connection (as with SQLite): the rest
 * of the streaming result is read into memory first, then the statement
 * runs, then the callbacks go on from memory.
 *
 * Session: lock_timeout 5 s (a writer waiting on another writer's row
 * lock past that gets DB_BUSY), synchronous_commit on (a COMMIT returns
 * once the WAL is flushed), plans made for each run (see setup()),
 * client_encoding UTF8, read only for DB_RDONLY.
 * Transactions: DB_BEGIN_WRITE is READ COMMITTED and takes the store's
 * write lock (a transaction-level advisory lock) at once, as SQLite's
 * BEGIN IMMEDIATE does: writers of one store take turns, so what a
 * transaction read is still true when it writes (store.c and the rules
 * read, decide, then write), and serials ("UPDATE zones SET serial =
 * serial + 1 ... RETURNING serial") are handed out in commit order.
 * DB_BEGIN_READ is REPEATABLE READ READ ONLY (one snapshot; readers never
 * wait for writers).
 *
 * Faults. A lost connection is re-established once, outside a
 * transaction only: before a statement when libpq already knows the
 * connection is gone, and on BEGIN, on preparing a statement and on a
 * SELECT when the loss shows while sending (none of those can have
 * changed anything). A write outside a transaction that loses its
 * connection is not repeated (it may have run): it fails, and the next
 * call reconnects. Inside a transaction a lost connection fails the
 * transaction; a lost connection during COMMIT says its outcome is
 * unknown. A deadlock or serialization failure of a statement outside a
 * transaction (which then did nothing) is retried up to 3 times; inside a
 * transaction it, like a lock wait past lock_timeout, returns DB_BUSY: the
 * transaction is aborted and store.c rolls back (and may run it again).
 *
 * SECURITY: every value is a bound parameter, never spliced into SQL. The
 * DSN is operator configuration; a password in it is masked in every
 * message. Server messages are the server's words, passed on as text.
 * Runs with the daemon's privileges.
 */
#include "store/db.h"
#include "base/dynlib.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libpq is opened when a PostgreSQL store is (base/dynlib.h): the commands
 * that never touch one do not pay for it and its Kerberos, LDAP and GnuTLS. */
#define PQ_FUNCS(X) \
	X(PQclear) \
	X(PQcmdStatus) \
	X(PQcmdTuples) \
	X(PQconnectdbParams) \
	X(PQerrorMessage) \
	X(PQexec) \
	X(PQfinish) \
	X(PQfreemem) \
	X(PQgetResult) \
	X(PQgetisnull) \
	X(PQgetlength) \
	X(PQgetvalue) \
	X(PQnfields) \
	X(PQprepare) \
	X(PQreset) \
	X(PQresultErrorField) \
	X(PQresultStatus) \
	X(PQsendQueryParams) \
	X(PQsendQueryPrepared) \
	X(PQsetNoticeProcessor) \
	X(PQsetSingleRowMode) \
	X(PQstatus) \
	X(PQtransactionStatus) \
	X(PQunescapeBytea)
static struct { PQ_FUNCS(DYNLIB_SLOT) } pq;
DYNLIB_DEFINE(pq_lib, pq, PQ_FUNCS, "libpq.so.5", "libpq5");
#define PQclear pq.PQclear
#define PQcmdStatus pq.PQcmdStatus
#define PQcmdTuples pq.PQcmdTuples
#define PQconnectdbParams pq.PQconnectdbParams
#define PQerrorMessage pq.PQerrorMessage
#define PQexec pq.PQexec
#define PQfinish pq.PQfinish
#define PQfreemem pq.PQfreemem
#define PQgetResult pq.PQgetResult
#define PQgetisnull pq.PQgetisnull
#define PQgetlength pq.PQgetlength
#define PQgetvalue pq.PQgetvalue
#define PQnfields pq.PQnfields
#define PQprepare pq.PQprepare
#define PQreset pq.PQreset
#define PQresultErrorField pq.PQresultErrorField
#define PQresultStatus pq.PQresultStatus
#define PQsendQueryParams pq.PQsendQueryParams
#define PQsendQueryPrepared pq.PQsendQueryPrepared
#define PQsetNoticeProcessor pq.PQsetNoticeProcessor
#define PQsetSingleRowMode pq.PQsetSingleRowMode
#define PQstatus pq.PQstatus
#define PQtransactionStatus pq.PQtransactionStatus
#define PQunescapeBytea pq.PQunescapeBytea

#define PG_BUCKETS 64           /* statement cache hash buckets */
#define PG_MAXSTMT 512          /* prepared statements kept; then run unprepared */
#define PG_MAXPARAMS 64
/* the advisory lock of the store's writers (per database): "rblkitwr" */
#define PG_WRITE_LOCK "8242269476627969906"
#define PG_RETRIES 3            /* deadlock / serialization failure, outside a transaction */

#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

struct pg_stmt {
	struct pg_stmt *next;
	char *sql;              /* the text as store.c wrote it */
	char sig[PG_MAXPARAMS + 1]; /* parameter types: 'i' 't' 'b' 'n' */
	char name[16];          /* "s<n>", the server's name for it */
};

/* A query whose rows are being read: streaming from the connection, or
 * (after a nested statement parked it) from memory. */
struct pg_query {
	PGresult **buf;         /* parked results, in order */
	size_t n, cap, pos;
	int streaming;          /* results still on the connection */
};

/* The handle of a row (struct db_row's h): the result and the bytea
 * columns unescaped for it, freed after the row's callback. */
struct pg_blob {
	unsigned char *p;
	size_t n;
};
struct pg_row {
	PGresult *res;
	struct pg_blob *blob;   /* one per column, when a blob was asked for */
	int nblob;
};

struct db_pg {
	struct db base;
	PGconn *conn;
	char *dsn;              /* for messages: the password masked */
	unsigned flags;
	int intx;               /* a transaction is open */
	struct pg_query *active; /* the query streaming now, if any */
	struct pg_stmt *cache[PG_BUCKETS];
	unsigned nstmt, seq;
	char err[512];
};

static struct db_pg *pgof(struct db *db)
{
	return (struct db_pg *)db;
}

/* ---- messages ---- */

/* The first line of a libpq message, without "connection to server ...
 * failed: " and a "FATAL:  " prefix, so that "DSN: " + it reads as one
 * sentence ("...: Connection refused"). */
static void first_line(const char *msg, char *out, size_t outlen)
{
	const char *p = msg ? msg : "unknown error", *f;
	size_t n;

	n = strcspn(p, "\n");
	f = strstr(p, " failed: ");
	if (f && (size_t)(f - p) < n) {
		n -= (size_t)(f + 9 - p);
		p = f + 9;
	}
	if (n > 8 && !strncmp(p, "FATAL:  ", 8)) {
		p += 8;
		n -= 8;
	}
	snprintf(out, outlen, "%.*s", (int)n, p);
}

void db_dsn_shown(const char *dsn, char *out, size_t len)
{
	const char *s, *at, *colon, *pw;

	if ((s = strstr(dsn, "://")) && (at = strchr(s + 3, '@')) &&
	    (colon = memchr(s + 3, ':', (size_t)(at - s - 3))) &&
	    !memchr(s + 3, '/', (size_t)(at - s - 3)))
		snprintf(out, len, "%.*s***%s", (int)(colon + 1 - dsn), dsn, at);
	else if ((pw = strstr(dsn, "password=")))
		snprintf(out, len, "%.*s***%s", (int)(pw + 9 - dsn), dsn,
			 pw + 9 + strcspn(pw + 9, " &"));
	else
		snprintf(out, len, "%s", dsn);
}

/* db_dsn_shown() of dsn, malloc'd (NULL when out of memory). */
static char *mask_dsn(const char *dsn)
{
	size_t len = strlen(dsn) + 4;	/* "***" for a shorter password */
	char *m = malloc(len);

	if (m)
		db_dsn_shown(dsn, m, len);
	return m;
}

/* A connection-level error: "DSN: what libpq says". */
static void conn_err(struct db_pg *pg, const char *prefix)
{
	char line[384];

	first_line(PQerrorMessage(pg->conn), line, sizeof(line));
	snprintf(pg->err, sizeof(pg->err), "%s: %s%s", pg->dsn, prefix ? prefix : "", line);
}

/* The error of a failed result: the server's primary message, or libpq's
 * (a lost connection). Returns DB_BUSY for a lock timeout, a deadlock or
 * a serialization failure, else -1. */
static int res_err(struct db_pg *pg, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *prim = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (PQstatus(pg->conn) == CONNECTION_BAD || !prim) {
		conn_err(pg, NULL);
		return -1;
	}
	snprintf(pg->err, sizeof(pg->err), "%s", prim);
	if (state && (!strcmp(state, "55P03") || !strcmp(state, "40P01") ||
		      !strcmp(state, "40001")))
		return DB_BUSY;
	return -1;
}

static int retryable(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state && (!strcmp(state, "40P01") || !strcmp(state, "40001"));
}

/* ---- the connection ---- */

static void no_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void cache_clear(struct db_pg *pg)
{
	struct pg_stmt *s, *next;
	size_t i;

	for (i = 0; i < PG_BUCKETS; i++) {
		for (s = pg->cache[i]; s; s = next) {
			next = s->next;
			free(s->sql);
			free(s);
		}
		pg->cache[i] = NULL;
	}
	pg->nstmt = 0;
}

/* The session settings, once per connection. 0 or -1.
 * plan_cache_mode: a statement is planned for the tables as they are at
 * each run. A plan cached from the first runs, when the listings were
 * few, scanned the whole table for each lookup once they were many (4
 * times slower at 20,000 listings, worse after); planning a short
 * statement costs less than one round trip. */
#define PG_SESSION                                                            \
	"SET lock_timeout = '5s'; SET synchronous_commit = on;"               \
	" SET plan_cache_mode = force_custom_plan;"                           \
	" SET client_encoding = 'UTF8'; SET bytea_output = 'hex'"
static int setup(struct db_pg *pg)
{
	PGresult *res;
	int rc = 0;

	PQsetNoticeProcessor(pg->conn, no_notices, NULL);
	res = PQexec(pg->conn, (pg->flags & DB_RDONLY)
		     ? PG_SESSION "; SET default_transaction_read_only = on" : PG_SESSION);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		res_err(pg, res);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/* Make sure the connection is up: outside a transaction a lost one is
 * re-established (statements prepared on it are gone with it). 0 or -1. */
static int reconnect(struct db_pg *pg)
{
	if (PQstatus(pg->conn) == CONNECTION_OK)
		return 0;
	if (pg->intx) {
		conn_err(pg, "connection lost in a transaction: ");
		return -1;
	}
	cache_clear(pg);
	PQreset(pg->conn);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		conn_err(pg, NULL);
		return -1;
	}
	return setup(pg);
}

/* 1 when a failure was a lost connection that reconnect() can mend. */
static int lost(struct db_pg *pg)
{
	return !pg->intx && PQstatus(pg->conn) == CONNECTION_BAD;
}

/* ---- statements ---- */

/* sql with each "?" outside '...', "...", -- and block comments made
 * $1..$n; *n gets the count. malloc'd; NULL when out of memory. */
static char *rewrite(const char *sql, int *n)
{
	size_t len = strlen(sql), cap;
	char *out, *o;
	const char *s = sql;
	char q;

	*n = 0;
	cap = len * 4 + 1;      /* "?" -> "$NNN" at most (a statement has < 1000) */
	if (!(out = o = malloc(cap)))
		return NULL;
	while (*s) {
		if (*s == '\'' || *s == '"') {
			int esc = *s == '\'' && s > sql && (s[-1] == 'E' || s[-1] == 'e');

			q = *s;
			*o++ = *s++;
			while (*s && *s != q) {
				if (esc && *s == '\\' && s[1])
					*o++ = *s++;
				*o++ = *s++;
			}
			if (*s)
				*o++ = *s++;  /* a doubled quote reopens: same loop */
		} else if (s[0] == '-' && s[1] == '-') {
			while (*s && *s != '\n')
				*o++ = *s++;
		} else if (s[0] == '/' && s[1] == '*') {
			const char *e = strstr(s + 2, "*/");
			size_t k = e ? (size_t)(e + 2 - s) : strlen(s);

			memcpy(o, s, k);
			o += k;
			s += k;
		} else if (*s == '?' && *n < 999) {
			o += sprintf(o, "$%d", ++*n);
			s++;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static char param_sig(const struct db_param *p)
{
	switch (p->type) {
	case DB_INT:
		return 'i';
	case DB_TEXT:
		return 't';
	case DB_BLOB:
		return 'b';
	default:
		return 'n';
	}
}

static unsigned oid_of(char sig)
{
	return sig == 'i' ? OID_INT8 : sig == 't' ? OID_TEXT : sig == 'b' ? OID_BYTEA : 0;
}

static size_t hash(const char *sql, const char *sig)
{
	size_t h = 5381;

	for (; *sql; sql++)
		h = h * 33 + (unsigned char)*sql;
	for (; *sig; sig++)
		h = h * 33 + (unsigned char)*sig;
	return h % PG_BUCKETS;
}

/* Prepare sql (with parameter types sig) on the server. *st gets the
 * cached statement, or NULL when the cache is full (then *text gets the
 * rewritten SQL to run unprepared; the caller frees it). 0 or -1. */
static int prepare(struct db_pg *pg, const char *sql, const char *sig, int np,
		   struct pg_stmt **st, char **text)
{
	size_t h = hash(sql, sig);
	struct pg_stmt *s;
	unsigned types[PG_MAXPARAMS];
	PGresult *res = NULL;
	char *pgsql;
	int i, n, rc = -1;

	*st = NULL;
	*text = NULL;
	for (s = pg->cache[h]; s; s = s->next)
		if (!strcmp(s->sql, sql) && !strcmp(s->sig, sig)) {
			*st = s;
			return 0;
		}
	if (!(pgsql = rewrite(sql, &n))) {
		snprintf(pg->err, sizeof(pg->err), "out of memory");
		return -1;
	}
	if (n != np) {
		snprintf(pg->err, sizeof(pg->err), "%d parameters for %d placeholders", np, n);
		goto out;
	}
	if (pg->nstmt >= PG_MAXSTMT) {
		*text = pgsql;
		return 0;
	}
	if (!(s = calloc(1, sizeof(*s))) || !(s->sql = strdup(sql))) {
		snprintf(pg->err, sizeof(pg->err), "out of memory");
		goto out;
	}
	memcpy(s->sig, sig, (size_t)np + 1);
	snprintf(s->name, sizeof(s->name), "s%u", ++pg->seq);
	for (i = 0; i < np; i++)
		types[i] = oid_of(sig[i]);
	res = PQprepare(pg->conn, s->name, pgsql, np, types);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && lost(pg)) {
		/* preparing changes nothing: safe to do again on a new connection */
		PQclear(res);
		res = NULL;
		if (reconnect(pg) < 0)
			goto out;
		res = PQprepare(pg->conn, s->name, pgsql, np, types);
	}
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		res_err(pg, res);
		goto out;
	}
	s->next = pg->cache[h];
	pg->cache[h] = s;
	pg->nstmt++;
	s = NULL;
	*st = pg->cache[h];
	rc = 0;
out:
	PQclear(res);
	if (s) {
		free(s->sql);
		free(s);
	}
	free(pgsql);
	return rc;
}

/* Read every result still on the connection of the streaming query into
 * memory, so that the connection is free for another statement. 0 or -1. */
static int park(struct db_pg *pg)
{
	struct pg_query *q = pg->active;
	PGresult *res;

	if (!q || !q->streaming)
		return 0;
	q->streaming = 0;
	while ((res = PQgetResult(pg->conn))) {
		if (q->n == q->cap) {
			size_t cap = q->cap ? q->cap * 2 : 64;
			PGresult **b = cap < q->cap ? NULL : realloc(q->buf, cap * sizeof(*b));

			if (!b) {
				PQclear(res);
				while ((res = PQgetResult(pg->conn)))
					PQclear(res);
				snprintf(pg->err, sizeof(pg->err), "out of memory");
				return -1;
			}
			q->buf = b;
			q->cap = cap;
		}
		q->buf[q->n++] = res;
	}
	return 0;
}

static PGresult *next_result(struct db_pg *pg, struct pg_query *q)
{
	if (q->streaming)
		return PQgetResult(pg->conn);
	return q->pos < q->n ? q->buf[q->pos++] : NULL;
}

/* Send the statement: binary int8 / bytea, text as text. 0 or -1. */
static int send_stmt(struct db_pg *pg, const struct pg_stmt *st, const char *text,
		     const struct db_param *p, int np)
{
	const char *vals[PG_MAXPARAMS];
	int lens[PG_MAXPARAMS], fmts[PG_MAXPARAMS];
	unsigned types[PG_MAXPARAMS];
	unsigned char ibuf[PG_MAXPARAMS][8];
	int i, j, ok;

	for (i = 0; i < np; i++) {
		uint64_t v = (uint64_t)p[i].i;

		vals[i] = p[i].p;
		lens[i] = 0;
		fmts[i] = 0;
		types[i] = oid_of(param_sig(&p[i]));
		if (p[i].type == DB_INT) {
			for (j = 7; j >= 0; j--, v >>= 8)
				ibuf[i][j] = (unsigned char)v;
			vals[i] = (const char *)ibuf[i];
			lens[i] = 8;
			fmts[i] = 1;
		} else if (p[i].type == DB_BLOB) {
			lens[i] = (int)p[i].len;
			fmts[i] = 1;
		} else if (p[i].type != DB_TEXT) {
			vals[i] = NULL;
		}
	}
	if (st)
		ok = PQsendQueryPrepared(pg->conn, st->name, np, vals, lens, fmts, 0);
	else
		ok = PQsendQueryParams(pg->conn, text, np, types, vals, lens, fmts, 0);
	if (!ok || !PQsetSingleRowMode(pg->conn)) {
		PGresult *res;

		while (ok && (res = PQgetResult(pg->conn)))
			PQclear(res);
		conn_err(pg, NULL);
		return -1;
	}
	return 0;
}

/* 1 for a statement that reads only (a lost connection: safe to resend). */
static int reads_only(const char *sql)
{
	sql += strspn(sql, " \t\r\n(");
	return !strncasecmp(sql, "SELECT", 6);
}

/* Run the statement once: stream its rows to cb. *sent gets 1 once a row
 * reached cb (then it must not be run again). */
static int run_once(struct db_pg *pg, const char *sql, const struct db_param *p, int np,
		    db_row_cb cb, void *arg, int64_t *changes, int *sent, PGresult **failed)
{
	struct pg_query q = { NULL, 0, 0, 0, 1 }, *up = pg->active;
	struct pg_row h = { NULL, NULL, 0 };
	struct db_row row = { pg->base.ops, &h, 0 };
	struct pg_stmt *st;
	char sig[PG_MAXPARAMS + 1], *text = NULL;
	PGresult *res;
	int i, ret = 0, err = 0;

	for (i = 0; i < np; i++)
		sig[i] = param_sig(&p[i]);
	sig[np] = '\0';
	if (prepare(pg, sql, sig, np, &st, &text) < 0)
		return -1;
	if (send_stmt(pg, st, text, p, np) < 0) {
		free(text);
		return -1;
	}
	free(text);
	pg->active = &q;
	while ((res = next_result(pg, &q))) {
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
			if (cb && !ret && !err) {
				h.res = res;
				*sent = 1;
				ret = cb(arg, &row);
				for (i = 0; i < h.nblob; i++)
					PQfreemem(h.blob[i].p);
				free(h.blob);
				h.blob = NULL;
				h.nblob = 0;
			}
			break;
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			if (changes)
				*changes = strtoll(PQcmdTuples(res), NULL, 10);
			break;
		default:
			if (!err) {
				err = res_err(pg, res);
				if (!*failed) {
					*failed = res;
					continue;   /* kept for the caller's retry decision */
				}
			}
		}
		PQclear(res);
	}
	for (; q.pos < q.n; q.pos++)
		PQclear(q.buf[q.pos]);
	free(q.buf);
	pg->active = up;
	return err ? err : ret;
}

static int pg_query(struct db *db, const char *sql, const struct db_param *p, int np,
		    db_row_cb cb, void *arg)
{
	struct db_pg *pg = pgof(db);
	int rc, tries, sent = 0;
	PGresult *failed;

	if (np < 0 || np > PG_MAXPARAMS) {
		snprintf(pg->err, sizeof(pg->err), "%d parameters: at most %d", np, PG_MAXPARAMS);
		return -1;
	}
	if (park(pg) < 0 || reconnect(pg) < 0)
		return -1;
	for (tries = 0;; tries++) {
		failed = NULL;
		rc = run_once(pg, sql, p, np, cb, arg, NULL, &sent, &failed);
		if (rc == 0 || sent || tries >= PG_RETRIES)
			break;
		if (lost(pg) && tries == 0 && reads_only(sql)) {
			if (reconnect(pg) < 0)
				break;
		} else if (!(failed && !pg->intx && retryable(failed))) {
			break;
		}
		PQclear(failed);
	}
	PQclear(failed);
	return rc;
}

static int pg_exec(struct db *db, const char *sql, const struct db_param *p, int np,
		   int64_t *changes)
{
	struct db_pg *pg = pgof(db);
	int rc, tries, sent = 0;
	int64_t n = 0;
	PGresult *failed;

	if (np < 0 || np > PG_MAXPARAMS) {
		snprintf(pg->err, sizeof(pg->err), "%d parameters: at most %d", np, PG_MAXPARAMS);
		return -1;
	}
	if (park(pg) < 0 || reconnect(pg) < 0)
		return -1;
	for (tries = 0;; tries++) {
		failed = NULL;
		rc = run_once(pg, sql, p, np, NULL, NULL, &n, &sent, &failed);
		if (rc == 0 || tries >= PG_RETRIES || !failed || pg->intx || !retryable(failed))
			break;
		PQclear(failed);
	}
	PQclear(failed);
	if (rc == 0 && changes)
		*changes = n;
	return rc;
}

/* ---- transactions ---- */

/* Run a transaction statement; *tag gets its command tag's first letter. */
static int simple(struct db_pg *pg, const char *sql, char *tag)
{
	PGresult *res = PQexec(pg->conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = res_err(pg, res);
	else if (tag)
		*tag = PQcmdStatus(res)[0];
	PQclear(res);
	return rc;
}

static int pg_begin(struct db *db, enum db_begin_mode mode)
{
	struct db_pg *pg = pgof(db);
	/* The write lock: one writer of a store at a time, as in SQLite, so
	 * that what a transaction read before it writes is still true when
	 * it commits (READ COMMITTED alone lets two read the same row and
	 * both write, and the second write loses the first). Sent with the
	 * BEGIN: one round trip; waited for up to lock_timeout (DB_BUSY). */
	const char *sql = mode == DB_BEGIN_READ
		? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
		: "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")";
	int rc;

	if (park(pg) < 0 || reconnect(pg) < 0)
		return -1;
	rc = simple(pg, sql, NULL);
	if (rc < 0 && lost(pg) && reconnect(pg) == 0)
		rc = simple(pg, sql, NULL);     /* BEGIN changed nothing: safe again */
	if (rc == 0) {
		pg->intx = 1;
	} else if (PQtransactionStatus(pg->conn) != PQTRANS_IDLE) {
		/* BEGIN ran, the lock did not come: no transaction is open */
		PQclear(PQexec(pg->conn, "ROLLBACK"));
	}
	return rc;
}

static int pg_commit(struct db *db)
{
	struct db_pg *pg = pgof(db);
	char tag = 0;
	int rc;

	if (park(pg) < 0)
		return -1;
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		conn_err(pg, "connection lost in a transaction: ");
		pg->intx = 0;
		return -1;
	}
	rc = simple(pg, "COMMIT", &tag);
	pg->intx = 0;
	if (rc == 0 && tag == 'R') {
		/* COMMIT of a transaction in which a statement failed */
		snprintf(pg->err, sizeof(pg->err),
			 "the transaction was rolled back: a statement in it had failed");
		rc = -1;
	} else if (rc != 0 && PQstatus(pg->conn) == CONNECTION_BAD) {
		conn_err(pg, "connection lost during COMMIT (the transaction may or may not "
			 "have been committed): ");
	}
	return rc;
}

static int pg_rollback(struct db *db)
{
	struct db_pg *pg = pgof(db);
	int rc;

	pg->intx = 0;
	if (park(pg) < 0)
		return -1;
	if (PQstatus(pg->conn) != CONNECTION_OK)
		return 0;       /* the server rolled it back with the connection */
	if (PQtransactionStatus(pg->conn) == PQTRANS_IDLE)
		return 0;
	rc = simple(pg, "ROLLBACK", NULL);
	return rc == 0 || PQstatus(pg->conn) != CONNECTION_OK ? 0 : rc;
}

static const char *pg_errmsg(const struct db *db)
{
	const struct db_pg *pg = (const struct db_pg *)db;

	return pg->err[0] ? pg->err : "no error";
}

/* ---- open / close ---- */

static void pg_close(struct db *db)
{
	struct db_pg *pg = pgof(db);

	if (!pg)
		return;
	cache_clear(pg);
	PQfinish(pg->conn);
	free(pg->dsn);
	free(pg);
}

static int pg_open(const char *dsn, unsigned flags, struct db **out, char *err, size_t errlen)
{
	/* Before "dbname": the DSN's own values override these. A server
	 * host that dies without a word (no RST) is noticed within about a
	 * minute (keepalives; unacknowledged data for 30 s), not after the
	 * kernel's two hours, so a daemon does not hang on it. */
	static const char *const kw[] = { "connect_timeout", "fallback_application_name",
					  "keepalives_idle", "keepalives_interval",
					  "keepalives_count", "tcp_user_timeout", "dbname", NULL };
	const char *val[] = { "10", "rblkit", "30", "10", "3", "30000", dsn, NULL };
	struct db_pg *pg;

	*out = NULL;
	if (dynlib_load(&pq_lib, err, errlen) < 0)
		return -1;
	if (!(pg = calloc(1, sizeof(*pg))) || !(pg->dsn = mask_dsn(dsn))) {
		snprintf(err, errlen, "postgresql: out of memory");
		free(pg);
		return -1;
	}
	pg->base.ops = &db_pg_ops;
	pg->flags = flags;
	pg->conn = PQconnectdbParams(kw, val, 1);
	if (!pg->conn) {
		snprintf(err, errlen, "%s: out of memory", pg->dsn);
		goto fail;
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		conn_err(pg, NULL);
		goto fail_msg;
	}
	if (setup(pg) < 0)
		goto fail_msg;
	*out = &pg->base;
	return 0;
fail_msg:
	if (strncmp(pg->err, pg->dsn, strlen(pg->dsn)))
		snprintf(err, errlen, "%s: %s", pg->dsn, pg->err);
	else
		snprintf(err, errlen, "%s", pg->err);
fail:
	pg_close(&pg->base);
	return -1;
}

/* ---- columns ---- */

static PGresult *res_of(const struct db_row *r)
{
	return ((const struct pg_row *)r->h)->res;
}

static int pg_col_null(const struct db_row *r, int col)
{
	return PQgetisnull(res_of(r), r->row, col);
}

static int64_t pg_col_int(const struct db_row *r, int col)
{
	const char *v = PQgetvalue(res_of(r), r->row, col);

	if (v[0] == 't' && !v[1])
		return 1;       /* a boolean */
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(const struct db_row *r, int col, size_t *len)
{
	PGresult *res = res_of(r);

	if (len)
		*len = (size_t)PQgetlength(res, r->row, col);
	return PQgetvalue(res, r->row, col);
}

/* A bytea column comes as text ("\\x0a0b"); it is unescaped into memory
 * that lives until the row's callback returns. */
static const void *pg_col_blob(const struct db_row *r, int col, size_t *len)
{
	struct pg_row *h = r->h;
	int nf = PQnfields(h->res);
	const unsigned char *v;

	if (len)
		*len = 0;
	if (col < 0 || col >= nf || PQgetisnull(h->res, r->row, col))
		return "";
	if (!h->blob) {
		if (!(h->blob = calloc((size_t)nf, sizeof(*h->blob))))
			return "";
		h->nblob = nf;
	}
	if (!h->blob[col].p) {
		v = (const unsigned char *)PQgetvalue(h->res, r->row, col);
		if (!(h->blob[col].p = PQunescapeBytea(v, &h->blob[col].n)))
			return "";
	}
	if (len)
		*len = h->blob[col].n;
	return h->blob[col].p;
}

const struct db_ops db_pg_ops = {
	.name = "postgresql",
	.dialect = DB_PG,
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.query = pg_query,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.errmsg = pg_errmsg,
	.col_null = pg_col_null,
	.col_int = pg_col_int,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
};
