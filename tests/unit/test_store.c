/*
 * test_store.c - unit tests of the listing store (store.h) against the
 * DSN in RBLKIT_TEST_DSN, or a temporary SQLite file when it is unset:
 * keys, zones, listings, the serial and journal rules (a put that does
 * not change the answer adds no journal row; the puts of one transaction
 * share one serial), STORE_GONE, expiry, history, evidence, hits,
 * search, stats, the snapshot, a store killed mid-transaction, and (on
 * SQLite files of their own) schema creation, refusal of a newer schema
 * and read-only opening. Each test uses zones of its own, so a shared
 * PostgreSQL database works run after run. Prints the hits/s of the
 * trap's transaction (begin; get; put; event; hit; commit); asserts none.
 */
#include "unit.h"
#include "store/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[256];

static void cleanup(void)
{
	char cmd[300];

	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
}

/* A path in this run's temporary folder. */
static const char *tmppath(const char *name)
{
	static char buf[512];

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_store.XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(cleanup);
	}
	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static const char *dsn(void)
{
	static char buf[600];
	const char *e = getenv("RBLKIT_TEST_DSN");

	if (e && *e)
		return e;
	if (!buf[0])
		snprintf(buf, sizeof(buf), "sqlite:%s", tmppath("list.db"));
	return buf;
}

static struct store *topen(void)
{
	struct store *st = NULL;
	char err[512];

	if (store_open(dsn(), 0, &st, err, sizeof(err)) != 0) {
		printf("  cannot open %s: %s\n", dsn(), err);
		exit(1);
	}
	return st;
}

/* A zone name of this test run alone. */
static const char *zname(const char *tag)
{
	static char buf[4][128];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, 128, "%s-%ld-%ld.test", tag, (long)getpid(), (long)time(NULL));
	return b;
}

static struct store_listing mk(const char *key, enum store_state state, uint32_t code,
			       const char *reason)
{
	struct store_listing l;
	char err[256];

	memset(&l, 0, sizeof(l));
	if (store_key_parse(key, &l.key, err, sizeof(err)) != 0)
		printf("  bad key %s: %s\n", key, err);
	l.state = state;
	l.code = code;
	snprintf(l.reason, sizeof(l.reason), "%s", reason);
	l.first_seen = l.last_seen = l.changed = 1700000000;
	snprintf(l.source, sizeof(l.source), "cli");
	return l;
}

/* ---- keys ---- */

static const char *canon(const char *s)
{
	static char buf[STORE_KEY_MAX + 16];
	struct store_key k;
	char err[256];

	if (store_key_parse(s, &k, err, sizeof(err)) != 0)
		return "ERROR";
	snprintf(buf, sizeof(buf), "%d %u %s", k.kind, k.bits, k.text);
	return buf;
}

static const char *kerr(const char *s)
{
	static char err[256];
	struct store_key k;

	if (store_key_parse(s, &k, err, sizeof(err)) == 0)
		return "OK";
	return err;
}

UNIT_TEST(key_forms_are_canonical)
{
	CHECK_EQ_STR(canon("192.0.2.1"), "1 32 192.0.2.1");
	CHECK_EQ_STR(canon("192.0.2.1/32"), "1 32 192.0.2.1");
	CHECK_EQ_STR(canon("192.0.2.0/24"), "1 24 192.0.2.0/24");
	CHECK_EQ_STR(canon("0.0.0.0/0"), "1 0 0.0.0.0/0");
	CHECK_EQ_STR(canon("2001:DB8:0:0:0:0:0:1"), "2 128 2001:db8::1");
	CHECK_EQ_STR(canon("2001:db8:0:0:1:0:0:1"), "2 128 2001:db8::1:0:0:1");
	CHECK_EQ_STR(canon("2001:db8:0:1:0:0:0:0/64"), "2 64 2001:db8:0:1::/64");
	CHECK_EQ_STR(canon("2001:db8::1:0/112"), "2 112 2001:db8::1:0/112");
	CHECK_EQ_STR(canon("2001:0db8:0000:0000:0000:ff00:0042:8329"),
		     "2 128 2001:db8::ff00:42:8329");
	CHECK_EQ_STR(canon("2001:db8:0:0:1::1"), "2 128 2001:db8::1:0:0:1");
	CHECK_EQ_STR(canon("Example.COM."), "3 0 example.com");
	CHECK_EQ_STR(canon("*.Spam.example"), "4 0 *.spam.example");
	CHECK_EQ_STR(canon("mail_1.x-y.example"), "3 0 mail_1.x-y.example");
}

UNIT_TEST(key_bad_input_says_why)
{
	char long_label[80], long_name[310];
	size_t i;

	CHECK(strstr(kerr("192.0.2.1/24"), "host bits set after /24 (the network is 192.0.2.0/24)"));
	CHECK(strstr(kerr("2001:db8::1/64"), "host bits set after /64 (the network is 2001:db8::/64)"));
	CHECK(strstr(kerr("192.0.2.0/33"), "prefix length \"/33\" is not 0..32"));
	CHECK(strstr(kerr("192.0.2.0/"), "prefix length"));
	CHECK(strstr(kerr("192.0.2.0/024"), "prefix length"));
	CHECK(strstr(kerr("2001:db8::/129"), "is not 0..128"));
	CHECK(strstr(kerr("127.0.0"), "not an IPv4 address or CIDR"));
	CHECK(strstr(kerr("192.0.2.01"), "not an IPv4 address"));
	CHECK(strstr(kerr("256.1.1.1"), "not an IPv4 address"));
	CHECK(strstr(kerr("2001:db8:::1"), "not an IPv6 address"));
	CHECK_EQ_STR(kerr(""), "empty key");
	CHECK(strstr(kerr("a..example"), "empty label"));
	CHECK(strstr(kerr(".example"), "empty label"));
	CHECK(strstr(kerr("*."), "no name"));
	CHECK(strstr(kerr("*"), "'*' only as the first label"));
	CHECK(strstr(kerr("a.*.example"), "'*' only as the first label"));
	CHECK(strstr(kerr("sp am.example"), "not an address, network or host name"));
	CHECK(strstr(kerr("sp\xc3\xa4m.example"), "byte 0xc3"));
	memset(long_label, 'a', 64);
	strcpy(long_label + 64, ".example");
	CHECK(strstr(kerr(long_label), "label longer than 63"));
	for (i = 0; i < 254; i++)
		long_name[i] = (i % 2) ? '.' : 'a';
	long_name[253] = 'a';
	long_name[254] = '\0';
	CHECK(strstr(kerr(long_name), "longer than 253"));
	long_name[253] = '\0';
	CHECK_EQ_STR(kerr(long_name), "OK");
	memset(long_name, 'a', 299);
	long_name[299] = '\0';
	CHECK(strstr(kerr(long_name), "name longer than 253"));
	long_name[299] = 'a';
	long_name[300] = '\0';
	CHECK(strstr(kerr(long_name), "key longer than"));
}

UNIT_TEST(key_truncate_and_contains)
{
	struct store_key a, n, m;
	char err[128];

	CHECK(store_key_parse("2001:db8:1:2:3:4:5:6", &a, err, sizeof(err)) == 0);
	store_key_truncate(&a, 64);
	CHECK_EQ_STR(a.text, "2001:db8:1:2::/64");
	CHECK_EQ_INT(a.bits, 64);
	store_key_truncate(&a, 96);     /* longer: unchanged */
	CHECK_EQ_STR(a.text, "2001:db8:1:2::/64");
	CHECK(store_key_parse("192.0.2.77", &a, err, sizeof(err)) == 0);
	store_key_truncate(&a, 24);
	CHECK_EQ_STR(a.text, "192.0.2.0/24");
	CHECK(store_key_parse("example.com", &a, err, sizeof(err)) == 0);
	store_key_truncate(&a, 8);
	CHECK_EQ_STR(a.text, "example.com");

	CHECK(store_key_parse("192.0.2.0/24", &n, err, sizeof(err)) == 0);
	CHECK(store_key_parse("192.0.2.200", &a, err, sizeof(err)) == 0);
	CHECK(store_key_contains(&n, &a));
	CHECK(store_key_contains(&n, &n));
	CHECK(store_key_parse("192.0.3.1", &a, err, sizeof(err)) == 0);
	CHECK(!store_key_contains(&n, &a));
	CHECK(store_key_parse("192.0.0.0/16", &m, err, sizeof(err)) == 0);
	CHECK(!store_key_contains(&n, &m));
	CHECK(store_key_contains(&m, &n));
	CHECK(store_key_parse("::ffff:192.0.2.1", &a, err, sizeof(err)) == 0);
	CHECK(!store_key_contains(&n, &a));     /* families apart */
	CHECK(store_key_parse("example.com", &a, err, sizeof(err)) == 0);
	CHECK(!store_key_contains(&a, &a));
}

/* ---- opening ---- */

UNIT_TEST(open_bad_dsn_names_the_forms)
{
	struct store *st = NULL;
	char err[512];

	CHECK(store_open("mysql://x/y", 0, &st, err, sizeof(err)) == -1);
	CHECK(st == NULL);
	CHECK(strstr(err, "\"mysql://x/y\": not a store; use sqlite:PATH or postgresql://"));
	/* a password is not repeated */
	CHECK(store_open("mysql://rbl:s3cret@db.example/rbl", 0, &st, err, sizeof(err)) == -1);
	CHECK(strstr(err, "\"mysql://rbl:***@db.example/rbl\": not a store"));
	CHECK(!strstr(err, "s3cret"));
	CHECK(store_open("/var/lib/list.db", 0, &st, err, sizeof(err)) == -1);
	CHECK(strstr(err, "sqlite:PATH"));
	CHECK(store_open("sqlite:", 0, &st, err, sizeof(err)) == -1);
	CHECK(strstr(err, "no file name"));
	CHECK(store_open("sqlite:/nonexistent-dir/x/list.db", 0, &st, err, sizeof(err)) == -1);
	CHECK(strstr(err, "sqlite:/nonexistent-dir/x/list.db: unable to open database file"));
}

UNIT_TEST(open_creates_schema_in_empty_file)
{
	char path[600], d[620], err[512];
	struct store *st = NULL;
	sqlite3 *db;
	sqlite3_stmt *s;
	int v = -1;

	snprintf(path, sizeof(path), "%s", tmppath("empty.db"));
	snprintf(d, sizeof(d), "sqlite:%s", path);
	/* an empty file, as a careless touch(1) leaves it */
	fclose(fopen(path, "w"));
	CHECK(store_open(d, 0, &st, err, sizeof(err)) == 0);
	CHECK_EQ_STR(store_engine(st), "sqlite");
	store_close(st);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &s,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	CHECK_EQ_INT(v, STORE_SCHEMA_VERSION);
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			CHECK_EQ_STR((const char *)sqlite3_column_text(s, 0), "wal");
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	/* a second open finds it current */
	CHECK(store_open(d, STORE_RDONLY, &st, err, sizeof(err)) == 0);
	store_close(st);
}

UNIT_TEST(open_refuses_newer_schema_and_leaves_it)
{
	char path[600], d[620], err[512];
	struct store *st = NULL;
	sqlite3 *db;
	sqlite3_stmt *s;
	int v = -1;

	snprintf(path, sizeof(path), "%s", tmppath("newer.db"));
	snprintf(d, sizeof(d), "sqlite:%s", path);
	CHECK(store_open(d, 0, &st, err, sizeof(err)) == 0);
	store_close(st);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", NULL,
			   NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	st = NULL;
	CHECK(store_open(d, 0, &st, err, sizeof(err)) == -1);
	CHECK(st == NULL);
	CHECK(strstr(err, "schema version 99 is newer than this rblkit (3)"));
	CHECK(strncmp(err, d, strlen(d)) == 0);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &s,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	CHECK_EQ_INT(v, 99);
}

UNIT_TEST(open_corrupt_file_says_so)
{
	char path[600], d[620], err[512];
	struct store *st = NULL;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s", tmppath("corrupt.db"));
	snprintf(d, sizeof(d), "sqlite:%s", path);
	f = fopen(path, "w");
	for (i = 0; i < 4096; i++)
		fputc("not a database "[i % 15], f);
	fclose(f);
	CHECK(store_open(d, 0, &st, err, sizeof(err)) == -1);
	CHECK(st == NULL);
	CHECK(strncmp(err, d, strlen(d)) == 0);
	CHECK(strstr(err, "file is not a database"));
}

UNIT_TEST(open_readonly_needs_a_store_and_refuses_writes)
{
	char d[620], err[512];
	struct store *st = NULL;
	struct store_listing l = mk("192.0.2.1", STORE_LISTED, 0, "");

	snprintf(d, sizeof(d), "sqlite:%s", tmppath("ro.db"));
	CHECK(store_open(d, STORE_RDONLY, &st, err, sizeof(err)) == -1);
	CHECK(st == NULL);
	CHECK(store_open(d, 0, &st, err, sizeof(err)) == 0);
	store_close(st);
	CHECK(store_open(d, STORE_RDONLY, &st, err, sizeof(err)) == 0);
	if (!st)
		return;
	CHECK(store_put(st, "ro.test", &l) == -1);
	CHECK(strstr(store_error(st), "read-only"));
	CHECK(store_begin(st) == -1);
	store_close(st);
}

/* ---- zones ---- */

struct zlist {
	const char *want;
	int seen;
};

static int zones_cb(void *arg, const struct store_zone *z)
{
	struct zlist *zl = arg;

	if (!strcmp(z->name, zl->want))
		zl->seen++;
	return 0;
}

UNIT_TEST(zone_defaults_and_serial_starts_now)
{
	struct store *st = topen();
	const char *zn = zname("zone");
	struct store_zone z, g;
	struct zlist zl = { zn, 0 };
	uint32_t serial = 0;
	time_t t0 = time(NULL);

	CHECK_EQ_INT(store_zone_get(st, zn, &g), STORE_NOTFOUND);
	CHECK_EQ_INT(store_zone_serial(st, zn, &serial), STORE_NOTFOUND);
	memset(&z, 0, sizeof(z));
	snprintf(z.name, sizeof(z.name), "%s.", zn);    /* the final dot is dropped */
	CHECK(store_zone_put(st, &z) == 0);
	CHECK(store_zone_get(st, zn, &g) == 0);
	CHECK_EQ_STR(g.name, zn);
	CHECK_EQ_INT(g.ttl, 300);
	CHECK_EQ_INT(g.code, 0x7f000002);
	CHECK(!strncmp(g.mname, "ns.", 3) && !strcmp(g.mname + 3, zn));
	CHECK(!strncmp(g.rname, "hostmaster.", 11) && !strcmp(g.rname + 11, zn));
	CHECK_EQ_INT(g.nns, 1);
	CHECK_EQ_STR(g.ns[0], g.mname);
	CHECK(g.serial >= (uint32_t)t0 && g.serial <= (uint32_t)time(NULL));
	CHECK(store_zone_serial(st, zn, &serial) == 0);
	CHECK_EQ_INT(serial, g.serial);
	CHECK(store_zones(st, zones_cb, &zl) == 0);
	CHECK_EQ_INT(zl.seen, 1);

	/* the same data again: nothing changes, not even the serial */
	CHECK(store_zone_put(st, &z) == 0);
	CHECK(store_zone_serial(st, zn, &serial) == 0);
	CHECK_EQ_INT(serial, g.serial);
	/* given values are kept */
	z.ttl = 60;
	z.code = 0x7f00000a;
	snprintf(z.txt, sizeof(z.txt), "listed: $");
	z.nns = 2;
	snprintf(z.ns[0], sizeof(z.ns[0]), "a.ns.example");
	snprintf(z.ns[1], sizeof(z.ns[1]), "b.ns.example");
	CHECK(store_zone_put(st, &z) == 0);
	CHECK(store_zone_get(st, zn, &g) == 0);
	CHECK_EQ_INT(g.ttl, 60);
	CHECK_EQ_INT(g.code, 0x7f00000a);
	CHECK_EQ_STR(g.txt, "listed: $");
	CHECK_EQ_INT(g.nns, 2);
	CHECK_EQ_STR(g.ns[1], "b.ns.example");
	CHECK(g.serial == serial + 1);
	CHECK(store_zone_get(st, "bad zone!", &g) == -1);
	CHECK(strstr(store_error(st), "zone \"bad zone!\": not an address, network or host name"));
	CHECK(store_zone_get(st, "192.0.2.1", &g) == -1);
	CHECK(strstr(store_error(st), "zone \"192.0.2.1\": not a domain name"));
	snprintf(z.ns[1], sizeof(z.ns[1]), "b ns.example");
	CHECK(store_zone_put(st, &z) == -1);
	CHECK(strstr(store_error(st), "NS \"b ns.example\": not an address"));
	z.ns[1][0] = '\0';
	CHECK(store_zone_put(st, &z) == -1);
	CHECK(strstr(store_error(st), "NS 2 is empty"));
	memset(z.name, 'a', sizeof(z.name));          /* no NUL: not read past */
	CHECK(store_zone_put(st, &z) == -1);
	CHECK(strstr(store_error(st), "longer than 255 bytes"));
	store_close(st);
}

/* ---- listings and the journal ---- */

struct changes {
	int n;
	char line[16][700];
};

static int chg_cb(void *arg, const struct store_change *c)
{
	struct changes *ch = arg;

	if (ch->n < 16)
		snprintf(ch->line[ch->n], sizeof(ch->line[0]), "%s %s %08x \"%s\"%s",
			 c->op == STORE_ADD ? "add" : "del", c->key.text, c->code, c->reason,
			 c->excluded ? " excluded" : "");
	ch->n++;
	return 0;
}

static int changes(struct store *st, const char *zone, uint32_t since, uint32_t *upto,
		   struct changes *ch)
{
	memset(ch, 0, sizeof(*ch));
	return store_changes(st, zone, since, upto, chg_cb, ch);
}

UNIT_TEST(put_get_round_trip)
{
	struct store *st = topen();
	const char *zn = zname("rt");
	struct store_listing l = mk("2001:DB8::/64", STORE_LISTED, 0x7f000004, "spam trap hit"), g;

	l.first_seen = 1700000001;
	l.last_seen = 1700000002;
	l.expires = 1900000000;
	l.changed = 1700000003;
	l.hits = 7;
	l.level = 2;
	l.removals = 1;
	snprintf(l.source, sizeof(l.source), "trap");
	CHECK_EQ_INT(store_get(st, zn, "2001:db8::/64", &g), STORE_NOTFOUND);
	CHECK(store_put(st, zn, &l) == 0);
	CHECK(store_get(st, zn, "2001:0db8:0::/64", &g) == 0);
	CHECK_EQ_STR(g.key.text, "2001:db8::/64");
	CHECK_EQ_INT(g.key.kind, STORE_IP6);
	CHECK_EQ_INT(g.key.bits, 64);
	CHECK(!memcmp(g.key.addr, l.key.addr, 16));
	CHECK_EQ_INT(g.state, STORE_LISTED);
	CHECK_EQ_INT(g.code, 0x7f000004);
	CHECK_EQ_STR(g.reason, "spam trap hit");
	CHECK_EQ_INT(g.first_seen, 1700000001);
	CHECK_EQ_INT(g.last_seen, 1700000002);
	CHECK_EQ_INT(g.expires, 1900000000);
	CHECK_EQ_INT(g.changed, 1700000003);
	CHECK_EQ_INT(g.hits, 7);
	CHECK_EQ_INT(g.level, 2);
	CHECK_EQ_INT(g.removals, 1);
	CHECK_EQ_STR(g.source, "trap");
	CHECK(store_get(st, zn, "2001:db8::1/64", &g) == -1);
	CHECK(strstr(store_error(st), "host bits"));
	l.state = 99;
	CHECK(store_put(st, zn, &l) == -1);
	store_close(st);
}

UNIT_TEST(journal_only_when_the_answer_changes)
{
	struct store *st = topen();
	const char *zn = zname("jr");
	struct store_listing l = mk("192.0.2.1", STORE_LISTED, 0, "first");
	struct store_stats s;
	struct changes ch;
	uint32_t s0, s1, s2, upto = 0;

	CHECK(store_put(st, zn, &l) == 0);      /* creates the zone too */
	CHECK(store_zone_serial(st, zn, &s1) == 0);
	s0 = s1 - 1;                            /* the zone's first serial */
	CHECK(changes(st, zn, s0, &upto, &ch) == 0);
	CHECK_EQ_INT(ch.n, 1);
	CHECK_EQ_STR(ch.line[0], "add 192.0.2.1 7f000002 \"first\"");
	CHECK_EQ_INT(upto, s1);

	/* hits, last seen, expiry: DNS answers the same, no journal row */
	l.hits = 5;
	l.last_seen = 1700000500;
	l.expires = 1800000000;
	CHECK(store_put(st, zn, &l) == 0);
	/* an explicit code equal to the zone's default answers the same */
	l.code = 0x7f000002;
	CHECK(store_put(st, zn, &l) == 0);
	CHECK(store_zone_serial(st, zn, &s2) == 0);
	CHECK_EQ_INT(s2, s1);
	CHECK(store_stats(st, zn, &s) == 0);
	CHECK_EQ_INT(s.journal, 1);
	/* a pending entry is not in DNS: no row either */
	l = mk("192.0.2.9", STORE_PENDING, 0, "");
	CHECK(store_put(st, zn, &l) == 0);
	CHECK(store_zone_serial(st, zn, &s2) == 0);
	CHECK_EQ_INT(s2, s1);

	/* a new reason: the old records go, the new come, one serial */
	l = mk("192.0.2.1", STORE_LISTED, 0x7f000003, "second");
	CHECK(store_put(st, zn, &l) == 0);
	CHECK(changes(st, zn, s1, &upto, &ch) == 0);
	CHECK_EQ_INT(ch.n, 2);
	CHECK_EQ_STR(ch.line[0], "del 192.0.2.1 7f000002 \"first\"");
	CHECK_EQ_STR(ch.line[1], "add 192.0.2.1 7f000003 \"second\"");
	CHECK_EQ_INT(upto, s1 + 1);

	/* removal: one del with what was served */
	l.state = STORE_REMOVED;
	CHECK(store_put(st, zn, &l) == 0);
	CHECK(changes(st, zn, s1 + 1, &upto, &ch) == 0);
	CHECK_EQ_INT(ch.n, 1);
	CHECK_EQ_STR(ch.line[0], "del 192.0.2.1 7f000003 \"second\"");
	/* an exclusion is answered, with no records of its own */
	l = mk("192.0.2.128/25", STORE_EXCLUDED, 0, "");
	CHECK(store_put(st, zn, &l) == 0);
	CHECK(changes(st, zn, s1 + 2, &upto, &ch) == 0);
	CHECK_EQ_INT(ch.n, 1);
	CHECK_EQ_STR(ch.line[0], "add 192.0.2.128/25 7f000002 \"\" excluded");
	/* everything from the start, oldest first */
	CHECK(changes(st, zn, s0, &upto, &ch) == 0);
	CHECK_EQ_INT(ch.n, 5);
	CHECK_EQ_INT(upto, s1 + 3);
	/* nothing new */
	CHECK(changes(st, zn, s1 + 3, &upto, &ch) == 0);
	CHECK_EQ_INT(ch.n, 0);
	CHECK_EQ_INT(upto, s1 + 3);
	store_close(st);
}

UNIT_TEST(one_transaction_one_serial)
{
	struct store *st = topen();
	const char *zn = zname("tx"), *zn2 = zname("tx2");
	struct store_listing a = mk("198.51.100.1", STORE_LISTED, 0, "a");
	struct store_listing b = mk("198.51.100.2", STORE_LISTED, 0, "b");
	struct store_listing c = mk("example.net", STORE_LISTED, 0, "c");
	struct store_listing g;
	struct changes ch;
	uint32_t s0, s1, s2, upto;

	CHECK(store_put(st, zn, &a) == 0);
	CHECK(store_put(st, zn2, &a) == 0);
	CHECK(store_zone_serial(st, zn, &s0) == 0);
	CHECK(store_zone_serial(st, zn2, &s2) == 0);
	CHECK(store_begin(st) == 0);
	CHECK(store_begin(st) == -1);           /* no nesting */
	a.state = STORE_REMOVED;
	CHECK(store_put(st, zn, &a) == 0);
	CHECK(store_put(st, zn, &b) == 0);
	CHECK(store_put(st, zn, &c) == 0);
	CHECK(store_put(st, zn2, &b) == 0);     /* another zone: its own serial */
	CHECK(store_commit(st) == 0);
	CHECK(store_zone_serial(st, zn, &s1) == 0);
	CHECK_EQ_INT(s1, s0 + 1);
	CHECK(changes(st, zn, s0, &upto, &ch) == 0);
	CHECK_EQ_INT(ch.n, 3);
	CHECK_EQ_STR(ch.line[0], "del 198.51.100.1 7f000002 \"a\"");
	CHECK_EQ_STR(ch.line[1], "add 198.51.100.2 7f000002 \"b\"");
	CHECK_EQ_STR(ch.line[2], "add example.net 7f000002 \"c\"");
	CHECK(store_zone_serial(st, zn2, &s1) == 0);
	CHECK_EQ_INT(s1, s2 + 1);

	/* a rolled back transaction leaves nothing: not the row, not the serial */
	CHECK(store_begin(st) == 0);
	c = mk("rolled.example", STORE_LISTED, 0, "");
	CHECK(store_put(st, zn, &c) == 0);
	store_rollback(st);
	CHECK_EQ_INT(store_get(st, zn, "rolled.example", &g), STORE_NOTFOUND);
	CHECK(store_zone_serial(st, zn, &s1) == 0);
	CHECK_EQ_INT(s1, s0 + 1);
	CHECK(store_commit(st) == -1);          /* none open */
	/* and the next transaction takes the next serial */
	CHECK(store_put(st, zn, &c) == 0);
	CHECK(store_zone_serial(st, zn, &s1) == 0);
	CHECK_EQ_INT(s1, s0 + 2);
	store_close(st);
}

UNIT_TEST(journal_prune_and_gone)
{
	struct store *st = topen();
	const char *zn = zname("gone");
	struct store_listing l;
	struct changes ch;
	uint32_t s0, s, upto;
	char key[32];
	int i;

	l = mk("203.0.113.0", STORE_LISTED, 0, "");
	CHECK(store_put(st, zn, &l) == 0);
	CHECK(store_zone_serial(st, zn, &s0) == 0);
	for (i = 1; i <= 9; i++) {
		snprintf(key, sizeof(key), "203.0.113.%d", i);
		l = mk(key, STORE_LISTED, 0, "");
		CHECK(store_put(st, zn, &l) == 0);
	}
	CHECK(store_zone_serial(st, zn, &s) == 0);
	CHECK_EQ_INT(s, s0 + 9);
	CHECK(store_journal_prune(st, zn, 4) == 0);
	/* changes after s - 4 are whole; before that they are gone */
	CHECK(changes(st, zn, s - 4, &upto, &ch) == 0);
	CHECK_EQ_INT(ch.n, 4);
	CHECK_EQ_INT(upto, s);
	CHECK_EQ_INT(changes(st, zn, s - 5, &upto, &ch), STORE_GONE);
	CHECK_EQ_INT(changes(st, zn, s0, &upto, &ch), STORE_GONE);
	CHECK(strstr(store_error(st), "the journal holds serials"));
	/* a serial the store never gave */
	CHECK_EQ_INT(changes(st, zn, s + 10, &upto, &ch), STORE_GONE);
	CHECK_EQ_INT(changes(st, "no-such-zone.test", 1, &upto, &ch), STORE_NOTFOUND);
	/* pruning all zones keeps what it is asked to keep */
	CHECK(store_journal_prune(st, NULL, 2) == 0);
	CHECK_EQ_INT(changes(st, zn, s - 3, &upto, &ch), STORE_GONE);
	CHECK(changes(st, zn, s - 2, &upto, &ch) == 0);
	CHECK_EQ_INT(ch.n, 2);

	/* a change to what every entry answers (the default code) restarts
	 * the journal: serve reloads, a secondary takes an AXFR */
	{
		struct store_zone z;

		CHECK(store_zone_get(st, zn, &z) == 0);
		z.code = 0x7f000009;
		CHECK(store_zone_put(st, &z) == 0);
		CHECK_EQ_INT(changes(st, zn, s, &upto, &ch), STORE_GONE);
		CHECK(changes(st, zn, s + 1, &upto, &ch) == 0);
		CHECK_EQ_INT(ch.n, 0);
	}
	store_close(st);
}

struct snapbuf {
	int n;
	char line[8][700];
};

static int snap_cb(void *arg, const struct store_entry *e)
{
	struct snapbuf *b = arg;

	if (b->n < 8)
		snprintf(b->line[b->n], sizeof(b->line[0]), "%s %08x \"%s\"%s", e->key.text,
			 e->code, e->reason, e->excluded ? " excluded" : "");
	b->n++;
	return 0;
}

static int cmpline(const void *a, const void *b)
{
	return strcmp(a, b);
}

UNIT_TEST(snapshot_is_what_dns_answers)
{
	struct store *st = topen();
	const char *zn = zname("snap");
	struct store_listing l;
	struct snapbuf b;
	uint32_t serial = 0, s;
	static const struct {
		const char *key;
		enum store_state state;
		uint32_t code;
	} rows[] = {
		{ "192.0.2.1", STORE_LISTED, 0 },
		{ "192.0.2.2", STORE_REMOVED, 0 },
		{ "192.0.2.3", STORE_EXPIRED, 0 },
		{ "192.0.2.4", STORE_PENDING, 0 },
		{ "10.0.0.0/8", STORE_LISTED, 0x7f000004 },
		{ "10.1.0.0/16", STORE_EXCLUDED, 0 },
		{ "*.bad.example", STORE_LISTED, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		l = mk(rows[i].key, rows[i].state, rows[i].code, "r");
		CHECK(store_put(st, zn, &l) == 0);
	}
	memset(&b, 0, sizeof(b));
	CHECK(store_snapshot(st, zn, &serial, snap_cb, &b) == 0);
	CHECK(store_zone_serial(st, zn, &s) == 0);
	CHECK_EQ_INT(serial, s);
	CHECK_EQ_INT(b.n, 4);
	qsort(b.line, 4, sizeof(b.line[0]), cmpline);
	CHECK_EQ_STR(b.line[0], "*.bad.example 7f000002 \"r\"");
	CHECK_EQ_STR(b.line[1], "10.0.0.0/8 7f000004 \"r\"");
	CHECK_EQ_STR(b.line[2], "10.1.0.0/16 7f000002 \"r\" excluded");
	CHECK_EQ_STR(b.line[3], "192.0.2.1 7f000002 \"r\"");
	CHECK_EQ_INT(store_snapshot(st, "no-such-zone.test", &serial, snap_cb, &b),
		     STORE_NOTFOUND);
	store_close(st);
}

UNIT_TEST(expire_what_is_due)
{
	struct store *st = topen();
	const char *zn = zname("exp");
	struct store_listing l, g;
	struct changes ch;
	struct store_stats s;
	uint32_t s0, upto;
	unsigned n = 99;

	l = mk("192.0.2.10", STORE_LISTED, 0, "due");
	l.expires = 1000;
	CHECK(store_put(st, zn, &l) == 0);
	l = mk("192.0.2.11", STORE_LISTED, 0, "later");
	l.expires = 5000;
	CHECK(store_put(st, zn, &l) == 0);
	l = mk("192.0.2.12", STORE_LISTED, 0, "never");
	CHECK(store_put(st, zn, &l) == 0);
	l = mk("192.0.2.13", STORE_PENDING, 0, "pending");
	l.expires = 1000;
	CHECK(store_put(st, zn, &l) == 0);
	CHECK(store_zone_serial(st, zn, &s0) == 0);
	/* nothing due: no write lock wanted, so another writer does not
	 * stand in the way (the daemons call this every second) */
	{
		struct store *other = topen();

		CHECK(store_begin(other) == 0);
		CHECK(store_expire(st, zn, 999, &n) == 0);
		CHECK_EQ_INT(n, 0);
		store_rollback(other);
		store_close(other);
	}
	CHECK(store_expire(st, zn, 1000, &n) == 0);
	CHECK_EQ_INT(n, 1);
	CHECK(store_get(st, zn, "192.0.2.10", &g) == 0);
	CHECK_EQ_INT(g.state, STORE_EXPIRED);
	CHECK_EQ_INT(g.changed, 1000);
	CHECK(store_get(st, zn, "192.0.2.13", &g) == 0);
	CHECK_EQ_INT(g.state, STORE_PENDING);
	CHECK(changes(st, zn, s0, &upto, &ch) == 0);
	CHECK_EQ_INT(ch.n, 1);
	CHECK_EQ_STR(ch.line[0], "del 192.0.2.10 7f000002 \"due\"");
	CHECK_EQ_INT(upto, s0 + 1);
	/* every zone at once; nothing twice */
	CHECK(store_expire(st, NULL, 1000, &n) == 0);
	CHECK_EQ_INT(n, 0);
	CHECK(store_expire(st, NULL, 6000, &n) == 0);
	CHECK(n >= 1);
	CHECK(store_get(st, zn, "192.0.2.11", &g) == 0);
	CHECK_EQ_INT(g.state, STORE_EXPIRED);
	CHECK(store_get(st, zn, "192.0.2.12", &g) == 0);
	CHECK_EQ_INT(g.state, STORE_LISTED);
	CHECK(store_stats(st, zn, &s) == 0);
	CHECK_EQ_INT(s.expired, 2);
	CHECK_EQ_INT(s.listed, 1);
	CHECK_EQ_INT(s.pending, 1);
	CHECK_EQ_INT(s.events, 2);
	CHECK(store_expire(st, "no-such-zone.test", 6000, &n) == 0);
	CHECK_EQ_INT(n, 0);
	store_close(st);
}

UNIT_TEST(expire_more_than_a_batch_in_one_serial)
{
	struct store *st = topen();
	const char *zn = zname("expbig");
	struct store_listing l;
	struct store_stats s;
	uint32_t s0, s1;
	unsigned n = 0, i, total = 2345;        /* over two batches of 1000 */
	char key[32];

	CHECK(store_begin(st) == 0);
	for (i = 0; i < total; i++) {
		snprintf(key, sizeof(key), "10.9.%u.%u", i / 256, i % 256);
		l = mk(key, STORE_LISTED, 0, "");
		l.expires = 100;
		CHECK(store_put(st, zn, &l) == 0);
	}
	CHECK(store_commit(st) == 0);
	CHECK(store_zone_serial(st, zn, &s0) == 0);
	CHECK(store_expire(st, zn, 100, &n) == 0);
	CHECK_EQ_INT(n, total);
	CHECK(store_zone_serial(st, zn, &s1) == 0);
	CHECK_EQ_INT(s1, s0 + 1);
	CHECK(store_stats(st, zn, &s) == 0);
	CHECK_EQ_INT(s.expired, total);
	CHECK_EQ_INT(s.listed, 0);
	CHECK_EQ_INT(s.journal, 2 * total);     /* an add each, a del each */
	store_close(st);
}

/* ---- history, evidence, hits ---- */

struct evbuf {
	int n;
	char line[8][1200];
};

static int hist_cb(void *arg, const struct store_event *ev)
{
	struct evbuf *b = arg;

	if (b->n < 8)
		snprintf(b->line[b->n], sizeof(b->line[0]), "%lld %s %s %s %s", (long long)ev->time,
			 store_event_name(ev->type), ev->actor, ev->how, ev->detail);
	b->n++;
	return 0;
}

static int evid_cb(void *arg, const struct store_evidence *ev)
{
	struct evbuf *b = arg;

	if (b->n < 8)
		snprintf(b->line[b->n], sizeof(b->line[0]), "%lld %s %s %zu %.40s",
			 (long long)ev->time, ev->source, ev->trap, strlen(ev->headers),
			 ev->excerpt);
	b->n++;
	return 0;
}

static int stop_cb(void *arg, const struct store_event *ev)
{
	(*(int *)arg)++;
	return 7;
}

UNIT_TEST(history_and_evidence)
{
	struct store *st = topen();
	const char *zn = zname("hist");
	struct store_event ev;
	struct store_evidence *e = calloc(1, sizeof(*e));
	struct evbuf b;
	int calls = 0;

	CHECK_EQ_STR(store_event_name(STORE_EV_LISTED), "listed");
	CHECK_EQ_STR(store_event_name(STORE_EV_CHANGED), "changed");
	CHECK(store_event_name(0) == NULL);
	CHECK(store_event_name(99) == NULL);
	memset(&ev, 0, sizeof(ev));
	ev.time = 100;
	ev.type = STORE_EV_LISTED;
	snprintf(ev.actor, sizeof(ev.actor), "trap");
	snprintf(ev.how, sizeof(ev.how), "threshold");
	snprintf(ev.detail, sizeof(ev.detail), "3 hits");
	CHECK(store_event_add(st, zn, "192.0.2.5", &ev) == 0);
	ev.time = 200;
	ev.type = STORE_EV_REMOVED;
	snprintf(ev.actor, sizeof(ev.actor), "web");
	snprintf(ev.how, sizeof(ev.how), "request");
	snprintf(ev.detail, sizeof(ev.detail), "fixed");
	CHECK(store_event_add(st, zn, "192.0.2.5", &ev) == 0);
	ev.type = 42;
	CHECK(store_event_add(st, zn, "192.0.2.5", &ev) == -1);
	memset(&b, 0, sizeof(b));
	CHECK(store_history(st, zn, "192.0.2.5", hist_cb, &b) == 0);
	CHECK_EQ_INT(b.n, 2);
	CHECK_EQ_STR(b.line[0], "100 listed trap threshold 3 hits");
	CHECK_EQ_STR(b.line[1], "200 removed web request fixed");
	/* a callback's non-zero stops the walk and is returned */
	CHECK_EQ_INT(store_history(st, zn, "192.0.2.5", stop_cb, &calls), 7);
	CHECK_EQ_INT(calls, 1);

	e->time = 10;
	snprintf(e->source, sizeof(e->source), "trap");
	snprintf(e->trap, sizeof(e->trap), "trap1@example.org");
	memset(e->headers, 'h', sizeof(e->headers) - 1);        /* full size */
	snprintf(e->excerpt, sizeof(e->excerpt), "buy now");
	CHECK(store_evidence_add(st, zn, "192.0.2.5", e) == 0);
	e->time = 20;
	snprintf(e->headers, sizeof(e->headers), "Received: x");
	snprintf(e->excerpt, sizeof(e->excerpt), "second");
	CHECK(store_evidence_add(st, zn, "192.0.2.5", e) == 0);
	memset(&b, 0, sizeof(b));
	CHECK(store_evidence(st, zn, "192.0.2.5", 0, evid_cb, &b) == 0);
	CHECK_EQ_INT(b.n, 2);
	CHECK_EQ_STR(b.line[0], "20 trap trap1@example.org 11 second");
	CHECK_EQ_STR(b.line[1], "10 trap trap1@example.org 16383 buy now");
	memset(&b, 0, sizeof(b));
	CHECK(store_evidence(st, zn, "192.0.2.5", 1, evid_cb, &b) == 0);
	CHECK_EQ_INT(b.n, 1);
	CHECK_EQ_STR(b.line[0], "20 trap trap1@example.org 11 second");
	/* none for another key */
	memset(&b, 0, sizeof(b));
	CHECK(store_evidence(st, zn, "192.0.2.6", 0, evid_cb, &b) == 0);
	CHECK_EQ_INT(b.n, 0);
	free(e);
	store_close(st);
}

UNIT_TEST(long_text_is_cut_at_a_character)
{
	struct store *st = topen();
	const char *zn = zname("utf");
	struct store_listing l = mk("192.0.2.7", STORE_LISTED, 0, ""), g;
	char reason[600];
	size_t i;

	/* "ä" is two bytes: 300 of them do not fit in 255 */
	for (i = 0; i < 300; i++)
		memcpy(reason + 2 * i, "\xc3\xa4", 2);
	reason[600 - 1] = '\0';
	/* through a listing the field is bounded already; the store cuts
	 * again where it must, at a character */
	memcpy(l.reason, reason, sizeof(l.reason));     /* not NUL-terminated */
	CHECK(store_put(st, zn, &l) == 0);
	CHECK(store_get(st, zn, "192.0.2.7", &g) == 0);
	CHECK_EQ_INT(strlen(g.reason), 254);
	CHECK(!memcmp(g.reason, reason, 254));
	store_close(st);
}

UNIT_TEST(hits_count_and_distinct_traps)
{
	struct store *st = topen();
	const char *zn = zname("hits");
	unsigned hits = 9, traps = 9;

	CHECK(store_hit_count(st, zn, "192.0.2.8", 0, &hits, &traps) == 0);
	CHECK_EQ_INT(hits, 0);
	CHECK_EQ_INT(traps, 0);
	CHECK(store_hit_add(st, zn, "192.0.2.8", "a@trap.example", 100) == 0);
	CHECK(store_hit_add(st, zn, "192.0.2.8", "a@trap.example", 200) == 0);
	CHECK(store_hit_add(st, zn, "192.0.2.8", "b@trap.example", 300) == 0);
	CHECK(store_hit_add(st, zn, "192.0.2.9", "c@trap.example", 300) == 0);
	CHECK(store_hit_count(st, zn, "192.0.2.8", 0, &hits, &traps) == 0);
	CHECK_EQ_INT(hits, 3);
	CHECK_EQ_INT(traps, 2);
	CHECK(store_hit_count(st, zn, "192.0.2.8", 200, &hits, &traps) == 0);
	CHECK_EQ_INT(hits, 2);
	CHECK_EQ_INT(traps, 2);
	CHECK(store_hit_count(st, zn, "192.0.2.8", 300, &hits, &traps) == 0);
	CHECK_EQ_INT(hits, 1);
	CHECK_EQ_INT(traps, 1);
	CHECK(store_hit_add(st, zn, "not a key", "x", 1) == -1);
	CHECK(strstr(store_error(st), "not a key"));
	/* prune drops the old ones (of every zone) */
	CHECK(store_hit_prune(st, 250) == 0);
	CHECK(store_hit_count(st, zn, "192.0.2.8", 0, &hits, &traps) == 0);
	CHECK_EQ_INT(hits, 1);
	store_close(st);
}

/* ---- search and stats ---- */

struct found {
	int n;
	char keys[512];
};

static int found_cb(void *arg, const struct store_listing *l)
{
	struct found *f = arg;
	size_t o = strlen(f->keys);

	snprintf(f->keys + o, sizeof(f->keys) - o, "%s%s", o ? " " : "", l->key.text);
	f->n++;
	return 0;
}

static const char *search(struct store *st, const char *zn, const struct store_filter *fl)
{
	static struct found f;

	memset(&f, 0, sizeof(f));
	if (store_search(st, zn, fl, found_cb, &f) != 0)
		return "ERROR";
	return f.keys;
}

UNIT_TEST(search_filters)
{
	struct store *st = topen();
	const char *zn = zname("search");
	struct store_filter fl;
	struct store_key net;
	struct store_listing l;
	char err[128];
	static const struct {
		const char *key;
		enum store_state state;
		const char *source;
		int64_t last_seen, expires;
	} rows[] = {
		{ "192.0.2.1", STORE_LISTED, "trap", 100, 500 },
		{ "192.0.2.128/25", STORE_LISTED, "cli", 200, 0 },
		{ "192.0.3.1", STORE_REMOVED, "trap", 300, 400 },
		{ "2001:db8::/64", STORE_LISTED, "trap", 400, 1000 },
		{ "::ffff:192.0.2.9", STORE_LISTED, "trap", 400, 0 },
		{ "spam.example", STORE_LISTED, "import", 500, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		l = mk(rows[i].key, rows[i].state, 0, "");
		snprintf(l.source, sizeof(l.source), "%s", rows[i].source);
		l.last_seen = rows[i].last_seen;
		l.expires = rows[i].expires;
		CHECK(store_put(st, zn, &l) == 0);
	}
	CHECK_EQ_STR(search(st, zn, NULL), "192.0.2.1 192.0.2.128/25 192.0.3.1 ::ffff:192.0.2.9 "
					    "2001:db8::/64 spam.example");
	memset(&fl, 0, sizeof(fl));
	fl.state = STORE_REMOVED;
	CHECK_EQ_STR(search(st, zn, &fl), "192.0.3.1");
	memset(&fl, 0, sizeof(fl));
	fl.source = "trap";
	fl.since = 300;
	CHECK_EQ_STR(search(st, zn, &fl), "192.0.3.1 ::ffff:192.0.2.9 2001:db8::/64");
	memset(&fl, 0, sizeof(fl));
	CHECK(store_key_parse("192.0.2.0/24", &net, err, sizeof(err)) == 0);
	fl.within = &net;
	CHECK_EQ_STR(search(st, zn, &fl), "192.0.2.1 192.0.2.128/25");
	CHECK(store_key_parse("192.0.2.128/26", &net, err, sizeof(err)) == 0);
	CHECK_EQ_STR(search(st, zn, &fl), "");          /* a /25 is not inside a /26 */
	CHECK(store_key_parse("2001:db8::/32", &net, err, sizeof(err)) == 0);
	CHECK_EQ_STR(search(st, zn, &fl), "2001:db8::/64");
	CHECK(store_key_parse("example", &net, err, sizeof(err)) == 0);
	CHECK_EQ_STR(search(st, zn, &fl), "ERROR");
	memset(&fl, 0, sizeof(fl));
	fl.expires_before = 600;
	CHECK_EQ_STR(search(st, zn, &fl), "192.0.2.1");
	memset(&fl, 0, sizeof(fl));
	fl.limit = 2;
	CHECK_EQ_STR(search(st, zn, &fl), "192.0.2.1 192.0.2.128/25");
	CHECK_EQ_STR(search(st, "no-such-zone.test", NULL), "");
	store_close(st);
}

UNIT_TEST(stats_count_by_state)
{
	struct store *st = topen();
	const char *zn = zname("stats");
	struct store_listing l;
	struct store_stats s, all;
	struct store_event ev = { .time = 1, .type = STORE_EV_HIT };
	uint32_t serial;

	l = mk("192.0.2.1", STORE_LISTED, 0, "");
	CHECK(store_put(st, zn, &l) == 0);
	l = mk("192.0.2.2", STORE_LISTED, 0, "");
	CHECK(store_put(st, zn, &l) == 0);
	l = mk("192.0.2.3", STORE_REMOVED, 0, "");
	CHECK(store_put(st, zn, &l) == 0);
	l = mk("192.0.2.0/30", STORE_EXCLUDED, 0, "");
	CHECK(store_put(st, zn, &l) == 0);
	l = mk("192.0.2.5", STORE_PENDING, 0, "");
	CHECK(store_put(st, zn, &l) == 0);
	CHECK(store_event_add(st, zn, "192.0.2.1", &ev) == 0);
	CHECK(store_hit_add(st, zn, "192.0.2.5", "t", 1) == 0);
	CHECK(store_stats(st, zn, &s) == 0);
	CHECK_EQ_INT(s.listed, 2);
	CHECK_EQ_INT(s.removed, 1);
	CHECK_EQ_INT(s.excluded, 1);
	CHECK_EQ_INT(s.pending, 1);
	CHECK_EQ_INT(s.expired, 0);
	CHECK_EQ_INT(s.events, 1);
	CHECK_EQ_INT(s.evidence, 0);
	CHECK_EQ_INT(s.hits, 1);
	CHECK_EQ_INT(s.journal, 3);
	CHECK(store_zone_serial(st, zn, &serial) == 0);
	CHECK_EQ_INT(s.serial, serial);
	CHECK(store_stats(st, NULL, &all) == 0);
	CHECK(all.listed >= 2 && all.events >= 1);
	CHECK_EQ_INT(store_stats(st, "no-such-zone.test", &s), STORE_NOTFOUND);
	store_close(st);
}

/* ---- a crash ---- */

UNIT_TEST(killed_mid_transaction_keeps_committed_only)
{
	const char *zn = zname("crash");
	struct store_listing l, g;
	struct store *st;
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p) != 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		st = topen();
		l = mk("192.0.2.50", STORE_LISTED, 0, "committed");
		if (store_put(st, zn, &l) != 0)
			_exit(2);
		if (write(p[1], "c", 1) != 1)
			_exit(2);
		store_begin(st);
		l = mk("192.0.2.51", STORE_LISTED, 0, "uncommitted");
		store_put(st, zn, &l);
		l = mk("192.0.2.50", STORE_REMOVED, 0, "uncommitted");
		store_put(st, zn, &l);
		if (write(p[1], "u", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(p[1]);
	CHECK(read(p[0], &c, 1) == 1 && c == 'c');
	CHECK(read(p[0], &c, 1) == 1 && c == 'u');
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(p[0]);
	st = topen();
	CHECK(store_get(st, zn, "192.0.2.50", &g) == 0);
	CHECK_EQ_INT(g.state, STORE_LISTED);
	CHECK_EQ_STR(g.reason, "committed");
	CHECK_EQ_INT(store_get(st, zn, "192.0.2.51", &g), STORE_NOTFOUND);
	/* and the store takes writes again: the dead writer's lock is gone */
	l = mk("192.0.2.52", STORE_LISTED, 0, "after");
	CHECK(store_put(st, zn, &l) == 0);
	store_close(st);
}

/* ---- speed (printed, not asserted) ---- */

/* n trap hits, batch of them per transaction: each is get; put; event;
 * hit. Returns the failures; prints hits/s. */
static int hit_loop(struct store *st, const char *zn, int n, int batch)
{
	struct store_event ev = { .type = STORE_EV_HIT };
	struct store_listing l, g;
	struct timespec t0, t1;
	char key[32];
	int i, bad = 0;
	double s;

	snprintf(ev.actor, sizeof(ev.actor), "trap");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		ev.time = 1700000000 + i;
		if (i % batch == 0 && store_begin(st)) {
			bad++;
			continue;
		}
		if (store_get(st, zn, key, &g) == 0)
			l = g;
		else
			l = mk(key, STORE_LISTED, 0, "trap hit");
		l.hits++;
		l.last_seen = ev.time;
		if (store_put(st, zn, &l) || store_event_add(st, zn, key, &ev) ||
		    store_hit_add(st, zn, key, "trap@example.org", ev.time))
			bad++;
		if ((i % batch == batch - 1 || i == n - 1) && store_commit(st))
			bad++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("  %s: %d hits, %d per transaction (begin; [get; put; event; hit] x %d; commit):"
	       " %.2f s, %.0f hits/s\n",
	       store_engine(st), n, batch, batch, s, s > 0 ? n / s : 0.0);
	return bad;
}

UNIT_TEST(hits_per_second)
{
	struct store *st = topen();

	CHECK_EQ_INT(hit_loop(st, zname("bench1"), 500, 1), 0);
	CHECK_EQ_INT(hit_loop(st, zname("bench100"), 20000, 100), 0);
	store_close(st);
}

UNIT_MAIN()
