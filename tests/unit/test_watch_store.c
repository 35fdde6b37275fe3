/*
 * test_watch_store.c - the watch history in the store (store/watch.h)
 * against the DSN in RBLKIT_TEST_DSN, or a temporary SQLite file when it
 * is unset: the current state round trip and filters (current listings,
 * lists in error), transitions since a time / of a target, alerts claimed
 * once (a second claim after a "restart" finds the first), pending
 * alerts after a crash, notes, the daily query budget, a migration of a
 * version-2 store, and long foreign text cut at its bound. Each test
 * uses targets of its own, so a shared PostgreSQL database works run
 * after run.
 */
#include "unit.h"
#include "store/store.h"
#include "store/watch.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static const char *tmppath(const char *name)
{
	static char buf[512];

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_watch_store.XXXXXX");
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
		snprintf(buf, sizeof(buf), "sqlite:%s", tmppath("watch.db"));
	return buf;
}

static struct store *topen(unsigned flags)
{
	struct store *st = NULL;
	char err[512];

	if (store_open(dsn(), flags, &st, err, sizeof(err)) != 0) {
		printf("  cannot open %s: %s\n", dsn(), err);
		exit(1);
	}
	return st;
}

/* A list name of this run alone. */
static const char *lname(const char *tag)
{
	static char buf[4][128];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, 128, "%s-%ld-%ld.test", tag, (long)getpid(), (long)time(NULL));
	return b;
}

static struct store_watch_status mk(const char *target, const char *list, int state)
{
	struct store_watch_status s;

	memset(&s, 0, sizeof(s));
	snprintf(s.target, sizeof(s.target), "%s", target);
	snprintf(s.list, sizeof(s.list), "%s", list);
	s.state = s.pending = state;
	s.since = 1700000000;
	s.last_check = 1700000100;
	return s;
}

struct collect {
	int n;
	char seen[1024];
};

static int col_state(void *arg, const struct store_watch_status *s)
{
	struct collect *c = arg;
	size_t l = strlen(c->seen);

	c->n++;
	snprintf(c->seen + l, sizeof(c->seen) - l, "%s%s=%s", l ? " " : "", s->target,
		 store_watch_state_name(s->state));
	return 0;
}

UNIT_TEST(state_round_trip_and_filters)
{
	struct store *st = topen(0);
	const char *l1 = lname("a"), *l2 = lname("b");
	struct store_watch_status s = mk("192.0.2.1", l1, STORE_WATCH_LISTED), g;
	struct store_watch_filter f = { 0 };
	struct collect c = { 0 };

	snprintf(s.codes, sizeof(s.codes), "127.0.0.2,127.0.0.4");
	snprintf(s.txt, sizeof(s.txt), "listed: see https://example/q=192.0.2.1");
	s.pending = STORE_WATCH_CLEAN;
	s.confirms = 1;
	s.reminded = 1700000200;
	CHECK_EQ_INT(store_watch_put(st, &s), 0);
	CHECK_EQ_INT(store_watch_get(st, "192.0.2.1", l1, &g), 0);
	CHECK_EQ_STR(g.target, "192.0.2.1");
	CHECK_EQ_STR(g.list, l1);
	CHECK_EQ_INT(g.state, STORE_WATCH_LISTED);
	CHECK_EQ_INT(g.pending, STORE_WATCH_CLEAN);
	CHECK_EQ_INT(g.confirms, 1);
	CHECK_EQ_INT(g.since, 1700000000);
	CHECK_EQ_INT(g.last_check, 1700000100);
	CHECK_EQ_INT(g.reminded, 1700000200);
	CHECK_EQ_STR(g.codes, "127.0.0.2,127.0.0.4");
	CHECK_EQ_STR(g.txt, "listed: see https://example/q=192.0.2.1");
	CHECK_EQ_INT(store_watch_get(st, "192.0.2.9", l1, &g), STORE_NOTFOUND);

	/* replace, not add */
	s.state = s.pending = STORE_WATCH_CLEAN;
	s.confirms = 0;
	CHECK_EQ_INT(store_watch_put(st, &s), 0);
	CHECK_EQ_INT(store_watch_get(st, "192.0.2.1", l1, &g), 0);
	CHECK_EQ_INT(g.state, STORE_WATCH_CLEAN);

	s = mk("192.0.2.2", l1, STORE_WATCH_LISTED);
	CHECK_EQ_INT(store_watch_put(st, &s), 0);
	s = mk("", l2, STORE_WATCH_ERROR);
	snprintf(s.why, sizeof(s.why), "RFC 5782 test point 127.0.0.1 listed");
	CHECK_EQ_INT(store_watch_put(st, &s), 0);
	s = mk("192.0.2.2", l2, STORE_WATCH_ERROR);
	CHECK_EQ_INT(store_watch_put(st, &s), 0);

	f.list = l1;
	CHECK_EQ_INT(store_watch_states(st, &f, col_state, &c), 0);
	CHECK_EQ_STR(c.seen, "192.0.2.1=clean 192.0.2.2=listed");
	memset(&c, 0, sizeof(c));
	f.states = 1u << STORE_WATCH_LISTED;
	CHECK_EQ_INT(store_watch_states(st, &f, col_state, &c), 0);
	CHECK_EQ_STR(c.seen, "192.0.2.2=listed");
	memset(&c, 0, sizeof(c));
	f.list = l2;
	f.states = 1u << STORE_WATCH_ERROR;
	CHECK_EQ_INT(store_watch_states(st, &f, col_state, &c), 0);
	CHECK_EQ_STR(c.seen, "=error 192.0.2.2=error");
	memset(&c, 0, sizeof(c));
	f.target = "";
	CHECK_EQ_INT(store_watch_states(st, &f, col_state, &c), 0);
	CHECK_EQ_STR(c.seen, "=error");
	memset(&c, 0, sizeof(c));
	f.target = NULL;
	f.states = (1u << STORE_WATCH_ERROR) | (1u << STORE_WATCH_LISTED);
	f.list = NULL;
	f.limit = 0;
	CHECK_EQ_INT(store_watch_states(st, &f, col_state, &c), 0);
	CHECK(c.n >= 3);

	/* drop one target of a list, then every list of a target */
	CHECK_EQ_INT(store_watch_del(st, "192.0.2.1", l1), 0);
	CHECK_EQ_INT(store_watch_get(st, "192.0.2.1", l1, &g), STORE_NOTFOUND);
	CHECK_EQ_INT(store_watch_get(st, "192.0.2.2", l1, &g), 0);
	CHECK_EQ_INT(store_watch_del(st, "192.0.2.2", NULL), 0);
	CHECK_EQ_INT(store_watch_get(st, "192.0.2.2", l1, &g), STORE_NOTFOUND);
	CHECK_EQ_INT(store_watch_get(st, "192.0.2.2", l2, &g), STORE_NOTFOUND);
	CHECK_EQ_INT(store_watch_get(st, "", l2, &g), 0);
	store_close(st);
}

static int col_tr(void *arg, const struct store_watch_transition *t)
{
	struct collect *c = arg;
	size_t l = strlen(c->seen);

	c->n++;
	snprintf(c->seen + l, sizeof(c->seen) - l, "%s%lld:%s>%s", l ? " " : "", (long long)t->time,
		 store_watch_state_name(t->from), store_watch_state_name(t->to));
	return 0;
}

static int64_t tr_add(struct store *st, const char *target, const char *list, int64_t time,
		      int from, int to)
{
	struct store_watch_transition t;
	int64_t id = 0;

	memset(&t, 0, sizeof(t));
	t.time = time;
	snprintf(t.target, sizeof(t.target), "%s", target);
	snprintf(t.list, sizeof(t.list), "%s", list);
	t.from = from;
	t.to = to;
	snprintf(t.codes, sizeof(t.codes), "127.0.0.2");
	CHECK_EQ_INT(store_watch_transition_add(st, &t, &id), 0);
	CHECK(id > 0);
	return id;
}

UNIT_TEST(transitions_since_and_per_target)
{
	struct store *st = topen(0);
	const char *l = lname("tr");
	struct store_watch_transition t;
	struct collect c = { 0 };
	int64_t base = 1800000000 + (getpid() % 1000) * 100000, id;
	char tgt[64];

	snprintf(tgt, sizeof(tgt), "tr%ld.example", (long)getpid());
	tr_add(st, tgt, l, base + 10, STORE_WATCH_UNKNOWN, STORE_WATCH_CLEAN);
	id = tr_add(st, tgt, l, base + 20, STORE_WATCH_CLEAN, STORE_WATCH_LISTED);
	tr_add(st, tgt, l, base + 30, STORE_WATCH_LISTED, STORE_WATCH_CLEAN);
	tr_add(st, "other.example", l, base + 25, STORE_WATCH_CLEAN, STORE_WATCH_ERROR);

	CHECK_EQ_INT(store_watch_transitions(st, base, tgt, NULL, 0, col_tr, &c), 0);
	CHECK_EQ_INT(c.n, 3);
	memset(&c, 0, sizeof(c));
	CHECK_EQ_INT(store_watch_transitions(st, base + 15, NULL, l, 0, col_tr, &c), 0);
	CHECK_EQ_INT(c.n, 3);
	CHECK(strstr(c.seen, "clean>listed") && strstr(c.seen, "clean>error"));
	/* with a limit: the newest ones, oldest first */
	memset(&c, 0, sizeof(c));
	CHECK_EQ_INT(store_watch_transitions(st, base, tgt, l, 2, col_tr, &c), 0);
	CHECK_EQ_INT(c.n, 2);
	{
		char want[128];

		snprintf(want, sizeof(want), "%lld:clean>listed %lld:listed>clean",
			 (long long)(base + 20), (long long)(base + 30));
		CHECK_EQ_STR(c.seen, want);
	}

	CHECK_EQ_INT(store_watch_transition_get(st, id, &t), 0);
	CHECK_EQ_STR(t.target, tgt);
	CHECK_EQ_INT(t.to, STORE_WATCH_LISTED);
	CHECK_EQ_STR(t.codes, "127.0.0.2");
	CHECK_EQ_INT(store_watch_transition_get(st, -5, &t), STORE_NOTFOUND);
	store_close(st);
}

static int col_al(void *arg, const struct store_watch_alert *a)
{
	struct collect *c = arg;
	size_t l = strlen(c->seen);

	c->n++;
	snprintf(c->seen + l, sizeof(c->seen) - l, "%s%s/%u/%d", l ? " " : "", a->channel, a->seq,
		 a->state);
	return 0;
}

UNIT_TEST(alerts_claimed_once_and_pending_after_restart)
{
	struct store *st = topen(0);
	const char *l = lname("al");
	int64_t tr = tr_add(st, "192.0.2.7", l, 1700000000, STORE_WATCH_CLEAN, STORE_WATCH_LISTED);
	int64_t a1 = 0, a2 = 0, again = 0;
	struct collect c = { 0 };

	/* the transition and its alerts in one transaction */
	CHECK_EQ_INT(store_begin(st), 0);
	CHECK_EQ_INT(store_watch_alert_add(st, tr, "webhook", 0, 1700000001, &a1), 0);
	CHECK_EQ_INT(store_watch_alert_add(st, tr, "command", 0, 1700000001, &a2), 0);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK(a1 > 0 && a2 > 0 && a1 != a2);
	CHECK_EQ_INT(store_watch_alert_add(st, tr, "webhook", 0, 1700000005, &again),
		     STORE_WATCH_EXISTS);
	CHECK_EQ_INT(again, a1);
	/* a reminder is another alert */
	CHECK_EQ_INT(store_watch_alert_add(st, tr, "webhook", 1, 1700003600, &again), 0);
	CHECK(again != a1);

	CHECK_EQ_INT(store_watch_alert_done(st, a1, STORE_WATCH_ALERT_OK, 1700000002, "HTTP 200"), 0);
	CHECK_EQ_INT(store_watch_alert_done(st, a2, STORE_WATCH_ALERT_PENDING, 1700000002,
					    "exit status 1"), 0);
	store_close(st);

	/* "after kill -9": a new connection sees what is still to deliver */
	st = topen(0);
	CHECK_EQ_INT(store_watch_alerts(st, tr, 0, col_al, &c), 0);
	CHECK_EQ_STR(c.seen, "webhook/1/0 command/0/0 webhook/0/1");
	memset(&c, 0, sizeof(c));
	CHECK_EQ_INT(store_watch_alerts_pending(st, col_al, &c), 0);
	CHECK(strstr(c.seen, "command/0/0") && strstr(c.seen, "webhook/1/0"));
	CHECK(!strstr(c.seen, "webhook/0/"));
	CHECK_EQ_INT(store_watch_alert_done(st, a2, STORE_WATCH_ALERT_FAILED, 1700000009,
					    "gave up"), 0);
	memset(&c, 0, sizeof(c));
	CHECK_EQ_INT(store_watch_alerts(st, tr, 1, col_al, &c), 0);
	CHECK_EQ_INT(c.n, 1);
	CHECK_EQ_INT(store_watch_alert_done(st, -3, STORE_WATCH_ALERT_OK, 1, ""), STORE_NOTFOUND);
	store_close(st);
}

static int col_note(void *arg, const struct store_watch_note *n)
{
	struct collect *c = arg;
	size_t l = strlen(c->seen);

	c->n++;
	snprintf(c->seen + l, sizeof(c->seen) - l, "%s%s:%s:%s", l ? "|" : "", n->source,
		 n->subject, n->text);
	return 0;
}

UNIT_TEST(notes_by_time_and_list)
{
	struct store *st = topen(0);
	const char *l = lname("n");
	struct store_watch_note n;
	struct collect c = { 0 };
	int64_t base = 1900000000 + (getpid() % 1000) * 100000;

	memset(&n, 0, sizeof(n));
	n.time = base + 1;
	snprintf(n.source, sizeof(n.source), "policy");
	snprintf(n.subject, sizeof(n.subject), "alice");
	snprintf(n.text, sizeof(n.text), "crossed the limit");
	CHECK_EQ_INT(store_watch_note_add(st, &n, 0, NULL), 0);
	n.time = base + 2;
	snprintf(n.source, sizeof(n.source), "log");
	snprintf(n.subject, sizeof(n.subject), "192.0.2.1");
	snprintf(n.list, sizeof(n.list), "%s", l);
	snprintf(n.text, sizeof(n.text), "blocked using %s", l);
	CHECK_EQ_INT(store_watch_note_add(st, &n, 0, NULL), 0);
	snprintf(n.list, sizeof(n.list), "other.test");
	CHECK_EQ_INT(store_watch_note_add(st, &n, 0, NULL), 0);

	CHECK_EQ_INT(store_watch_notes(st, base, l, 0, col_note, &c), 0);
	CHECK_EQ_INT(c.n, 2);
	CHECK(strstr(c.seen, "policy:alice:crossed the limit|log:192.0.2.1:blocked using") ==
	      c.seen);
	memset(&c, 0, sizeof(c));
	CHECK_EQ_INT(store_watch_notes(st, base + 2, NULL, 0, col_note, &c), 0);
	CHECK_EQ_INT(c.n, 2);
	/* pruning drops what is older */
	n.time = base + 3;
	CHECK_EQ_INT(store_watch_note_add(st, &n, base + 2, NULL), 0);
	memset(&c, 0, sizeof(c));
	CHECK_EQ_INT(store_watch_notes(st, base, NULL, 0, col_note, &c), 0);
	CHECK_EQ_INT(c.n, 3);
	store_close(st);
}

UNIT_TEST(budget_counts_per_list_and_day)
{
	struct store *st = topen(0);
	const char *l = lname("bud");
	uint64_t t = 0;

	CHECK_EQ_INT(store_watch_budget_get(st, l, 20000, &t), 0);
	CHECK_EQ_INT(t, 0);
	CHECK_EQ_INT(store_watch_budget_add(st, l, 20000, 5, &t), 0);
	CHECK_EQ_INT(t, 5);
	CHECK_EQ_INT(store_watch_budget_add(st, l, 20000, 7, &t), 0);
	CHECK_EQ_INT(t, 12);
	CHECK_EQ_INT(store_watch_budget_add(st, l, 20001, 1, &t), 0);
	CHECK_EQ_INT(t, 1);
	CHECK_EQ_INT(store_watch_budget_get(st, l, 20000, &t), 0);
	CHECK_EQ_INT(t, 12);
	/* a day more than a week later drops the old ones */
	CHECK_EQ_INT(store_watch_budget_add(st, l, 20010, 1, &t), 0);
	CHECK_EQ_INT(store_watch_budget_get(st, l, 20000, &t), 0);
	CHECK_EQ_INT(t, 0);
	store_close(st);
}

UNIT_TEST(foreign_text_is_cut_at_its_bound)
{
	struct store *st = topen(0);
	const char *l = lname("cut");
	struct store_watch_transition t, g;
	int64_t id = 0;

	memset(&t, 0, sizeof(t));
	snprintf(t.target, sizeof(t.target), "192.0.2.3");
	snprintf(t.list, sizeof(t.list), "%s", l);
	memset(t.txt, 'x', sizeof(t.txt) - 1);          /* full, no room to spare */
	t.txt[sizeof(t.txt) - 3] = (char)0xc3;          /* a 2-byte UTF-8 sequence */
	t.txt[sizeof(t.txt) - 2] = (char)0xa9;
	snprintf(t.why, sizeof(t.why), "it's '; DROP TABLE watch_state; --");
	CHECK_EQ_INT(store_watch_transition_add(st, &t, &id), 0);
	CHECK_EQ_INT(store_watch_transition_get(st, id, &g), 0);
	CHECK(strlen(g.txt) < sizeof(g.txt));
	CHECK_EQ_STR(g.why, "it's '; DROP TABLE watch_state; --");
	store_close(st);
}

UNIT_TEST(a_version_2_store_is_migrated)
{
	char path[600], d[620], err[512];
	struct store *st = NULL;
	struct store_watch_status s = mk("192.0.2.1", "zen.example", STORE_WATCH_CLEAN), g;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s", tmppath("v2.db"));
	snprintf(d, sizeof(d), "sqlite:%s", path);
	CHECK(store_open(d, 0, &st, err, sizeof(err)) == 0);
	store_close(st);
	/* make it a version-2 store: no watch tables */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
			   "DROP TABLE watch_state; DROP TABLE watch_transitions;"
			   " DROP TABLE watch_alerts; DROP TABLE watch_notes; DROP TABLE watch_budget;"
			   " UPDATE meta SET value = '2' WHERE key = 'schema_version'",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	st = NULL;
	/* read-only: refused, says why */
	CHECK(store_open(d, STORE_RDONLY, &st, err, sizeof(err)) == -1);
	CHECK(strstr(err, "needs a migration") != NULL);
	st = NULL;
	CHECK(store_open(d, 0, &st, err, sizeof(err)) == 0);
	CHECK_EQ_INT(store_watch_put(st, &s), 0);
	CHECK_EQ_INT(store_watch_get(st, "192.0.2.1", "zen.example", &g), 0);
	store_close(st);
}

UNIT_TEST(state_names)
{
	CHECK_EQ_STR(store_watch_state_name(STORE_WATCH_UNKNOWN), "unknown");
	CHECK_EQ_STR(store_watch_state_name(STORE_WATCH_CLEAN), "clean");
	CHECK_EQ_STR(store_watch_state_name(STORE_WATCH_LISTED), "listed");
	CHECK_EQ_STR(store_watch_state_name(STORE_WATCH_ERROR), "error");
	CHECK_EQ_STR(store_watch_state_name(9), "?");
	CHECK_EQ_STR(store_watch_state_name(-1), "?");
}

UNIT_MAIN()
