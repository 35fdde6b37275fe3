/*
 * test_db_pg.c - the PostgreSQL engine of the store (db_pg.c) against a
 * real server: RBLKIT_TEST_DSN names an empty database (the integration
 * test test_store_pg.py starts one and runs this). Without it the tests
 * say so and pass: they need a server.
 *
 *   test_db_pg                  the tests
 *   test_db_pg --writer N TAG   N write transactions, each taking the next
 *                               serial of zone "z" and adding a journal row
 *                               with it (two of these run at once in the
 *                               integration test; tables wready, wzones,
 *                               wjournal)
 *   test_db_pg --open DSN       connect to DSN: "ok", or the error (exit 1)
 *   test_db_pg --toggle N       through store.h: N transactions, each reading
 *                               192.0.2.1 in zone race.test, listing it when
 *                               it is not listed and removing it when it is,
 *                               with one more hit (read, decide, write: what
 *                               the list rules do)
 *   test_db_pg --session        through store.h, commands from stdin, one
 *                               answer line each: "put KEY" (list KEY in
 *                               zone s.test) and "get KEY" print "ok" /
 *                               the state, or "error: " and the store's
 *                               error
 */
#include "store/db.h"
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static const char *dsn;

static struct db *connect_db(void)
{
	struct db *db = NULL;
	char err[512];

	if (db_pg_ops.open(dsn, 0, &db, err, sizeof(err)) != 0) {
		printf("  open %s: %s\n", dsn, err);
		return NULL;
	}
	return db;
}

struct got {
	int n;
	int64_t i;
	char text[256];
	unsigned char blob[64];
	size_t blen;
	int null;
};

static int get_row(void *arg, const struct db_row *r)
{
	struct got *g = arg;
	const void *b;

	g->n++;
	g->i = db_int(r, 0);
	snprintf(g->text, sizeof(g->text), "%s", db_text(r, 1));
	b = db_blob(r, 2, &g->blen);
	if (g->blen <= sizeof(g->blob))
		memcpy(g->blob, b, g->blen);
	g->null = db_isnull(r, 3);
	return 0;
}

UNIT_TEST(params_round_trip)
{
	struct db *db = connect_db();
	static const unsigned char bin[] = { 0, 1, 0xff, '\\', '\'', 0, 'x' };
	struct got g = { 0 };

	if (!db) {
		CHECK(0);
		return;
	}
	/* '?' inside a string and a comment is not a placeholder */
	CHECK_EQ_INT(db_query(db, "SELECT ?, ? || '?', ? /* ? */, ? -- ?\n",
			      (struct db_param[]){ DB_I(INT64_MIN), DB_T("it's \"ü\""),
						   DB_B(bin, sizeof(bin)), DB_N },
			      4, get_row, &g), 0);
	CHECK_EQ_INT(g.n, 1);
	CHECK(g.i == INT64_MIN);
	CHECK_EQ_STR(g.text, "it's \"ü\"?");
	CHECK_EQ_INT(g.blen, sizeof(bin));
	CHECK(!memcmp(g.blob, bin, sizeof(bin)));
	CHECK_EQ_INT(g.null, 1);
	memset(&g, 0, sizeof(g));
	CHECK_EQ_INT(db_query(db, "SELECT ?, 'a''?', ?, 1", (struct db_param[]){
				      DB_I(INT64_MAX), DB_B("", 0) }, 2, get_row, &g), 0);
	CHECK(g.i == INT64_MAX);
	CHECK_EQ_STR(g.text, "a'?");
	CHECK_EQ_INT(g.blen, 0);
	CHECK_EQ_INT(g.null, 0);
	/* a count that does not match is an error, not a crash */
	CHECK_EQ_INT(db_query(db, "SELECT ?, ?", (struct db_param[]){ DB_I(1) }, 1, NULL, NULL),
		     -1);
	CHECK(strstr(db_errmsg(db), "1 parameters for 2 placeholders") != NULL);
	db->ops->close(db);
}

static int count_rows(void *arg, const struct db_row *r)
{
	(*(int64_t *)arg) += db_int(r, 0);
	return 0;
}

struct nest {
	struct db *db;
	int rows, inner_ok;
};

/* Runs another statement on the same connection for each row. */
static int nested(void *arg, const struct db_row *r)
{
	struct nest *n = arg;
	int64_t v = db_int(r, 0), sum = 0;

	n->rows++;
	if (db_query(n->db, "SELECT ? * 2", (struct db_param[]){ DB_I(v) }, 1, count_rows,
		     &sum) == 0 && sum == 2 * v)
		n->inner_ok++;
	return 0;
}

static int stop_at_3(void *arg, const struct db_row *r)
{
	return ++*(int *)arg == 3 ? 42 : 0;
}

UNIT_TEST(rows_nesting_and_early_stop)
{
	struct db *db = connect_db();
	struct nest n = { db, 0, 0 };
	int64_t sum = 0;
	int k = 0;

	if (!db) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(db_query(db, "SELECT generate_series(1, ?)", (struct db_param[]){
				      DB_I(1000) }, 1, nested, &n), 0);
	CHECK_EQ_INT(n.rows, 1000);
	CHECK_EQ_INT(n.inner_ok, 1000);
	CHECK_EQ_INT(db_query(db, "SELECT generate_series(1, 100000)", NULL, 0, stop_at_3, &k),
		     42);
	CHECK_EQ_INT(k, 3);
	/* the connection is usable after a stopped query */
	CHECK_EQ_INT(db_query(db, "SELECT sum(x) FROM generate_series(1, 10) x", NULL, 0,
			      count_rows, &sum), 0);
	CHECK_EQ_INT(sum, 55);
	db->ops->close(db);
}

UNIT_TEST(exec_changes_and_errors)
{
	struct db *db = connect_db();
	int64_t ch = -1;

	if (!db) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(db_exec(db, "CREATE TABLE IF NOT EXISTS t1 (k TEXT PRIMARY KEY, v BIGINT, b BYTEA)",
			     NULL, 0, NULL), 0);
	CHECK_EQ_INT(db_exec(db, "DELETE FROM t1", NULL, 0, NULL), 0);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO t1 (k, v) SELECT 'k' || x, x FROM generate_series(1, ?) x",
			     (struct db_param[]){ DB_I(5) }, 1, &ch), 0);
	CHECK_EQ_INT(ch, 5);
	CHECK_EQ_INT(db_exec(db, "UPDATE t1 SET v = v + ? WHERE v > ?",
			     (struct db_param[]){ DB_I(10), DB_I(3) }, 2, &ch), 0);
	CHECK_EQ_INT(ch, 2);
	/* the server's words */
	CHECK_EQ_INT(db_exec(db, "INSERT INTO t1 (k, v) VALUES (?, ?)",
			     (struct db_param[]){ DB_T("k1"), DB_I(1) }, 2, NULL), -1);
	CHECK(strstr(db_errmsg(db), "duplicate key value violates unique constraint") != NULL);
	CHECK_EQ_INT(db_exec(db, "SELEKT 1", NULL, 0, NULL), -1);
	CHECK(strstr(db_errmsg(db), "syntax error") != NULL);
	db->ops->close(db);
}

UNIT_TEST(transactions)
{
	struct db *db = connect_db();
	int64_t sum = 0;

	if (!db) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(db_exec(db, "CREATE TABLE IF NOT EXISTS t2 (v BIGINT UNIQUE)", NULL, 0, NULL), 0);
	CHECK_EQ_INT(db->ops->begin(db, DB_BEGIN_WRITE), 0);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO t2 VALUES (1)", NULL, 0, NULL), 0);
	CHECK_EQ_INT(db->ops->rollback(db), 0);
	CHECK_EQ_INT(db->ops->begin(db, DB_BEGIN_WRITE), 0);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO t2 VALUES (2)", NULL, 0, NULL), 0);
	CHECK_EQ_INT(db->ops->commit(db), 0);
	/* a failed statement: COMMIT must not report success */
	CHECK_EQ_INT(db->ops->begin(db, DB_BEGIN_WRITE), 0);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO t2 VALUES (3)", NULL, 0, NULL), 0);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO t2 VALUES (2)", NULL, 0, NULL), -1);
	CHECK_EQ_INT(db->ops->commit(db), -1);
	CHECK(strstr(db_errmsg(db), "rolled back") != NULL);
	CHECK_EQ_INT(db->ops->rollback(db), 0);
	CHECK_EQ_INT(db_query(db, "SELECT sum(v) FROM t2", NULL, 0, count_rows, &sum), 0);
	CHECK_EQ_INT(sum, 2);
	/* a read transaction writes nothing */
	CHECK_EQ_INT(db->ops->begin(db, DB_BEGIN_READ), 0);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO t2 VALUES (4)", NULL, 0, NULL), -1);
	CHECK(strstr(db_errmsg(db), "read-only transaction") != NULL);
	CHECK_EQ_INT(db->ops->rollback(db), 0);
	db->ops->close(db);
}

UNIT_TEST(lock_wait_is_busy)
{
	struct db *a = connect_db(), *b = connect_db();

	if (!a || !b) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(db_exec(a, "CREATE TABLE IF NOT EXISTS t3 (id BIGINT PRIMARY KEY, n BIGINT)",
			     NULL, 0, NULL), 0);
	CHECK_EQ_INT(db_exec(a, "INSERT INTO t3 VALUES (1, 0) ON CONFLICT (id) DO NOTHING", NULL, 0,
			     NULL), 0);
	CHECK_EQ_INT(a->ops->begin(a, DB_BEGIN_WRITE), 0);
	CHECK_EQ_INT(db_exec(a, "UPDATE t3 SET n = n + 1 WHERE id = 1", NULL, 0, NULL), 0);
	/* a shorter wait than the 5 s default */
	CHECK_EQ_INT(db_exec(b, "SET lock_timeout = '100ms'", NULL, 0, NULL), 0);
	/* the write lock is a's: b's write transaction does not start */
	CHECK_EQ_INT(b->ops->begin(b, DB_BEGIN_WRITE), DB_BUSY);
	CHECK(strstr(db_errmsg(b), "lock timeout") != NULL);
	CHECK_EQ_INT(b->ops->rollback(b), 0);
	/* ... and a statement of its own waits for a's row lock */
	CHECK_EQ_INT(db_exec(b, "UPDATE t3 SET n = n + 1 WHERE id = 1", NULL, 0, NULL), DB_BUSY);
	CHECK(strstr(db_errmsg(b), "lock timeout") != NULL);
	/* a read transaction waits for nobody */
	CHECK_EQ_INT(b->ops->begin(b, DB_BEGIN_READ), 0);
	CHECK_EQ_INT(db_query(b, "SELECT n FROM t3 WHERE id = 1", NULL, 0, NULL, NULL), 0);
	CHECK_EQ_INT(b->ops->rollback(b), 0);
	CHECK_EQ_INT(a->ops->commit(a), 0);
	/* once a is done, b writes */
	CHECK_EQ_INT(b->ops->begin(b, DB_BEGIN_WRITE), 0);
	CHECK_EQ_INT(db_exec(b, "UPDATE t3 SET n = n + 1 WHERE id = 1", NULL, 0, NULL), 0);
	CHECK_EQ_INT(b->ops->commit(b), 0);
	a->ops->close(a);
	b->ops->close(b);
}

static int get_first(void *arg, const struct db_row *r)
{
	*(int64_t *)arg = db_int(r, 0);
	return 0;
}

static int64_t backend_pid(struct db *db)
{
	int64_t pid = 0;

	db_query(db, "SELECT pg_backend_pid()", NULL, 0, count_rows, &pid);
	return pid;
}

static void kill_backend(struct db *killer, struct db *victim)
{
	int64_t ok = 0;

	CHECK_EQ_INT(db_query(killer, "SELECT pg_terminate_backend(?::integer)::integer",
			      (struct db_param[]){ DB_I(backend_pid(victim)) }, 1, count_rows,
			      &ok), 0);
	CHECK_EQ_INT(ok, 1);
}

UNIT_TEST(lost_connection)
{
	struct db *a = connect_db(), *k = connect_db();
	int64_t v = 0, pid;

	if (!a || !k) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(db_exec(a, "CREATE TABLE IF NOT EXISTS t4 (v BIGINT)", NULL, 0, NULL), 0);
	/* outside a transaction a read is sent again on a new connection */
	pid = backend_pid(a);
	kill_backend(k, a);
	CHECK_EQ_INT(db_query(a, "SELECT 7", NULL, 0, count_rows, &v), 0);
	CHECK_EQ_INT(v, 7);
	CHECK(backend_pid(a) != pid);
	/* ... and so is BEGIN */
	kill_backend(k, a);
	CHECK_EQ_INT(a->ops->begin(a, DB_BEGIN_WRITE), 0);
	CHECK_EQ_INT(db_exec(a, "INSERT INTO t4 VALUES (1)", NULL, 0, NULL), 0);
	CHECK_EQ_INT(a->ops->commit(a), 0);
	/* in a transaction the loss fails it; the next one reconnects */
	CHECK_EQ_INT(a->ops->begin(a, DB_BEGIN_WRITE), 0);
	CHECK_EQ_INT(db_exec(a, "INSERT INTO t4 VALUES (2)", NULL, 0, NULL), 0);
	kill_backend(k, a);
	CHECK_EQ_INT(db_exec(a, "INSERT INTO t4 VALUES (3)", NULL, 0, NULL), -1);
	CHECK(strstr(db_errmsg(a), dsn) == db_errmsg(a));
	CHECK_EQ_INT(a->ops->commit(a), -1);
	CHECK_EQ_INT(a->ops->rollback(a), 0);
	/* a write outside a transaction, prepared on the lost connection, is
	 * not sent twice (it may have run): it fails once */
	CHECK_EQ_INT(db_exec(a, "INSERT INTO t4 VALUES (?)", (struct db_param[]){ DB_I(10) }, 1,
			     NULL), 0);
	kill_backend(k, a);
	CHECK_EQ_INT(db_exec(a, "INSERT INTO t4 VALUES (?)", (struct db_param[]){ DB_I(100) }, 1,
			     NULL), -1);
	CHECK_EQ_INT(db_exec(a, "INSERT INTO t4 VALUES (?)", (struct db_param[]){ DB_I(1000) }, 1,
			     NULL), 0);
	/* one not prepared yet: the loss shows when preparing, which changed
	 * nothing, so it runs on a new connection */
	kill_backend(k, a);
	CHECK_EQ_INT(db_exec(a, "INSERT INTO t4 SELECT ?", (struct db_param[]){ DB_I(10000) }, 1,
			     NULL), 0);
	v = 0;
	CHECK_EQ_INT(db_query(a, "SELECT sum(v) FROM t4", NULL, 0, count_rows, &v), 0);
	CHECK_EQ_INT(v, 11011);
	a->ops->close(a);
	k->ops->close(k);
}

/* A statement prepared while its table was small is planned again for
 * the table it meets: a plan cached from the first runs (a sequential
 * scan of an empty table) made every lookup scan all the listings. */
UNIT_TEST(lookup_uses_the_index_once_the_table_grew)
{
	struct db *db = connect_db();
	int64_t before = -1, after = -1;
	int i;

	if (!db) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(db->ops->begin(db, DB_BEGIN_WRITE), 0);
	CHECK_EQ_INT(db_exec(db, "CREATE TABLE t5 (k TEXT PRIMARY KEY, v BIGINT)", NULL, 0, NULL), 0);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO t5 VALUES ('a', 1), ('b', 2)", NULL, 0, NULL), 0);
	CHECK_EQ_INT(db_exec(db, "ANALYZE t5", NULL, 0, NULL), 0);
	for (i = 0; i < 10; i++)
		CHECK_EQ_INT(db_query(db, "SELECT v FROM t5 WHERE k = ?",
				      (struct db_param[]){ DB_T("x") }, 1, NULL, NULL), 0);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO t5 SELECT 'k' || x, x FROM generate_series(1, 50000) x",
			     NULL, 0, NULL), 0);
	CHECK_EQ_INT(db_query(db, "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 't5'",
			      NULL, 0, get_first, &before), 0);
	for (i = 0; i < 10; i++)
		CHECK_EQ_INT(db_query(db, "SELECT v FROM t5 WHERE k = ?",
				      (struct db_param[]){ DB_T("k7") }, 1, NULL, NULL), 0);
	CHECK_EQ_INT(db_query(db, "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 't5'",
			      NULL, 0, get_first, &after), 0);
	CHECK(before >= 0);
	CHECK_EQ_INT(after - before, 0);
	db->ops->rollback(db);
	db->ops->close(db);
}

/* The PostgreSQL dialect of every schema step runs, in one transaction,
 * on an empty database (a schema named for this test, so that the store
 * tests' public schema stays empty). */
UNIT_TEST(schema_migrations)
{
	struct db *db = connect_db();
	const char *const *sql;
	size_t i;
	int64_t n = 0;

	if (!db) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(db_exec(db, "CREATE SCHEMA unit_schema", NULL, 0, NULL), 0);
	CHECK_EQ_INT(db_exec(db, "SET search_path = unit_schema", NULL, 0, NULL), 0);
	CHECK_EQ_INT(db->ops->begin(db, DB_BEGIN_WRITE), 0);
	for (i = 0; i < db_nmigrations; i++) {
		for (sql = db_migrations[i].sql[DB_PG]; *sql; sql++) {
			int rc = db_exec(db, *sql, NULL, 0, NULL);

			if (rc)
				printf("  schema step %d: %s: %s\n", db_migrations[i].version, *sql,
				       db_errmsg(db));
			CHECK_EQ_INT(rc, 0);
		}
	}
	CHECK_EQ_INT(db->ops->commit(db), 0);
	CHECK_EQ_INT(db_query(db, "SELECT count(*) FROM information_schema.tables"
			      " WHERE table_schema = 'unit_schema'", NULL, 0, count_rows, &n), 0);
	CHECK(n >= 7);
	CHECK_EQ_INT(db_exec(db, "DROP SCHEMA unit_schema CASCADE", NULL, 0, NULL), 0);
	db->ops->close(db);
}

static int get_text(void *arg, const struct db_row *r)
{
	snprintf(arg, 64, "%s", db_text(r, 0));
	return 0;
}

/* rblkit's connection defaults apply where the DSN says nothing, and the
 * DSN's own parameters win. */
UNIT_TEST(dsn_parameters_override_defaults)
{
	struct db *db = connect_db();
	char name[64] = "", other[700], err[512];

	if (!db) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(db_query(db, "SELECT current_setting('application_name')", NULL, 0, get_text,
			      name), 0);
	CHECK_EQ_STR(name, "rblkit");
	db->ops->close(db);
	snprintf(other, sizeof(other), "%s%sapplication_name=mine&keepalives_idle=5", dsn,
		 strchr(dsn, '?') ? "&" : "?");
	db = NULL;
	CHECK_EQ_INT(db_pg_ops.open(other, 0, &db, err, sizeof(err)), 0);
	if (!db)
		return;
	CHECK_EQ_INT(db_query(db, "SELECT current_setting('application_name')", NULL, 0, get_text,
			      name), 0);
	CHECK_EQ_STR(name, "mine");
	db->ops->close(db);
}

UNIT_TEST(connect_errors)
{
	struct db *db = (struct db *)1;
	char err[512];

	/* nothing listens on port 1 of the loopback */
	CHECK_EQ_INT(db_pg_ops.open("postgresql://u:secret@127.0.0.1:1/x", 0, &db, err,
				    sizeof(err)), -1);
	CHECK(db == NULL);
	CHECK_EQ_STR(err, "postgresql://u:***@127.0.0.1:1/x: Connection refused");
	CHECK_EQ_INT(db_pg_ops.open("postgresql://127.0.0.1:1/x?password=secret&sslmode=disable",
				    0, &db, err, sizeof(err)), -1);
	CHECK(strstr(err, "secret") == NULL);
	CHECK(strstr(err, "password=***&sslmode") != NULL);
	CHECK_EQ_INT(db_pg_ops.open("postgresql://[bad", 0, &db, err, sizeof(err)), -1);
	CHECK(!strncmp(err, "postgresql://[bad: ", 19));
}

static int run_tests(void)
{
	int passed = 0, failed = 0;

	for (struct unit_test *t = unit_first; t; t = t->next) {
		int before = unit_failed_checks;

		t->fn();
		if (unit_failed_checks == before) {
			passed++;
		} else {
			failed++;
			printf("FAILED %s\n", t->name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* --writer N TAG: see the top of the file. */
static int get_serial(void *arg, const struct db_row *r)
{
	*(int64_t *)arg = db_int(r, 0);
	return 0;
}

static int writer(int n, const char *tag)
{
	struct db *db = connect_db();
	int i, rc;
	int64_t serial;

	if (!db)
		return 1;
	/* start together: each says it is ready, then waits for the other */
	if (db_exec(db, "INSERT INTO wready VALUES (?)", (struct db_param[]){ DB_T(tag) }, 1,
		    NULL) != 0)
		goto fail;
	do {
		serial = 0;
		if (db_query(db, "SELECT count(*) FROM wready", NULL, 0, get_serial, &serial) != 0)
			goto fail;
	} while (serial < 2);
	for (i = 0; i < n; i++) {
		serial = -1;
		if ((rc = db->ops->begin(db, DB_BEGIN_WRITE)) != 0 ||
		    (rc = db_query(db, "UPDATE wzones SET serial = serial + 1 WHERE name = ? "
				   "RETURNING serial", (struct db_param[]){ DB_T("z") }, 1,
				   get_serial, &serial)) != 0 ||
		    (rc = db_exec(db, "INSERT INTO wjournal (serial, tag, i) VALUES (?, ?, ?)",
				  (struct db_param[]){ DB_I(serial), DB_T(tag), DB_I(i) }, 3,
				  NULL)) != 0 ||
		    (rc = db_exec(db, "INSERT INTO wjournal (serial, tag, i) VALUES (?, ?, ?)",
				  (struct db_param[]){ DB_I(serial), DB_T(tag), DB_I(-i) }, 3,
				  NULL)) != 0 ||
		    (rc = db->ops->commit(db)) != 0) {
			fprintf(stderr, "writer %s: %d: %s\n", tag, rc, db_errmsg(db));
			db->ops->rollback(db);
			db->ops->close(db);
			return 1;
		}
	}
	db->ops->close(db);
	return 0;
fail:
	fprintf(stderr, "writer %s: %s\n", tag, db_errmsg(db));
	db->ops->close(db);
	return 1;
}

/* --toggle N: see the top of the file. */
static int toggle(int n)
{
	struct store *st = NULL;
	struct store_listing l;
	char err[512];
	int i, rc = 0;

	if (store_open(dsn, 0, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "toggle: %s\n", err);
		return 1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = store_begin(st)) != 0)
			break;
		rc = store_get(st, "race.test", "192.0.2.1", &l);
		if (rc == STORE_NOTFOUND) {
			memset(&l, 0, sizeof(l));
			snprintf(l.key.text, sizeof(l.key.text), "192.0.2.1");
			l.state = STORE_REMOVED;
			rc = 0;
		}
		if (rc == 0) {
			l.state = l.state == STORE_LISTED ? STORE_REMOVED : STORE_LISTED;
			l.hits++;
			rc = store_put(st, "race.test", &l);
		}
		if (rc == 0)
			rc = store_commit(st);
		else
			store_rollback(st);
	}
	if (rc)
		fprintf(stderr, "toggle: %d: %s\n", rc, store_error(st));
	store_close(st);
	return rc ? 1 : 0;
}

/* --session: see the top of the file. */
static int session(void)
{
	struct store *st = NULL;
	struct store_listing l;
	char line[256], key[128], err[512];
	int rc;

	if (store_open(dsn, 0, &st, err, sizeof(err)) != 0) {
		printf("error: %s\n", err);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "put %127s", key) == 1) {
			memset(&l, 0, sizeof(l));
			snprintf(l.key.text, sizeof(l.key.text), "%s", key);
			l.state = STORE_LISTED;
			rc = store_put(st, "s.test", &l);
			printf(rc ? "error: %s\n" : "ok\n", store_error(st));
		} else if (sscanf(line, "get %127s", key) == 1) {
			rc = store_get(st, "s.test", key, &l);
			if (rc)
				printf("error: %s\n", store_error(st));
			else
				printf("%d\n", l.state);
		}
	}
	store_close(st);
	return 0;
}

/* --open DSN: connect, print the error (exit 1) or "ok". */
static int open_only(const char *to)
{
	struct db *db = NULL;
	char err[512];

	if (db_pg_ops.open(to, 0, &db, err, sizeof(err)) != 0) {
		printf("%s\n", err);
		return 1;
	}
	printf("ok\n");
	db->ops->close(db);
	return 0;
}

int main(int argc, char **argv)
{
	dsn = getenv("RBLKIT_TEST_DSN");
	if (!dsn || !*dsn) {
		printf("test_db_pg: RBLKIT_TEST_DSN not set: needs a PostgreSQL server "
		       "(tests/integration/test_store_pg.py runs it with one)\n"
		       "0 passed, 0 failed\n");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--open"))
		return open_only(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "--session"))
		return session();
	if (argc == 3 && !strcmp(argv[1], "--toggle"))
		return toggle(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "--writer"))
		return writer(atoi(argv[2]), argv[3]);
	return run_tests();
}
