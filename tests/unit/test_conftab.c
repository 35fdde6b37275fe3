/*
 * test_conftab.c - the configuration table: every type with its range
 * and its error text, defaults, comments and continuation lines,
 * repeatable keys, all errors reported (bounded) with file and line,
 * a reload that keeps the old configuration on error, help and dump.
 */
#include "unit.h"
#include "base/conftab.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pair {
	int a, b;
};

struct cfg {
	char *listen, *user;
	int threshold;
	unsigned budget;
	uint32_t ttl, min_ttl;
	bool log_requests;
	int action, mode;
	struct conftab_list nets, sites;
	struct pair *pairs;
	size_t npairs;
};

/* FUNC: "A-B" pairs, repeatable */
static int parse_pair(void *conf, void *field, const char *v, char *err, size_t el)
{
	struct cfg *c = conf;
	struct pair p;
	char tail;

	if (sscanf(v, "%d-%d%c", &p.a, &p.b, &tail) != 2) {
		snprintf(err, el, "expected A-B");
		return -1;
	}
	c->pairs = realloc(c->pairs, (c->npairs + 1) * sizeof(*c->pairs));
	c->pairs[c->npairs++] = p;
	(void)field;
	return 0;
}

static void release_pairs(void *field)
{
	free(*(struct pair **)field);
}

static int check(void *conf, char *err, size_t el)
{
	const struct cfg *c = conf;

	if (c->min_ttl > c->ttl) {
		snprintf(err, el, "min_ttl is above ttl");
		return -1;
	}
	return 0;
}

static const char *const actions[] = { "reject", "prepend", NULL };
static const char *const modes[] = { "off", "log", "enforce", NULL };

#define O(f) offsetof(struct cfg, f)
static const struct conftab_key keys[] = {
	{ "listen", CONFTAB_STR, O(listen), "127.0.0.1:10040", .help = "ADDR:PORT" },
	{ "user", CONFTAB_STR, O(user), NULL, .help = "user after binding" },
	{ "threshold", CONFTAB_INT, O(threshold), "1", -5, 1000, .help = "score" },
	{ "budget", CONFTAB_UINT, O(budget), "2000", 10, 60000, .help = "ms" },
	{ "ttl", CONFTAB_TIME, O(ttl), "1h", 1, 604800, .help = "longest" },
	{ "min_ttl", CONFTAB_TIME, O(min_ttl), "60", 0, 86400, .help = "shortest" },
	{ "log_requests", CONFTAB_BOOL, O(log_requests), "no", .help = "log all" },
	{ "action", CONFTAB_ENUM, O(action), "reject", .words = actions, .help = "what" },
	{ "mode", CONFTAB_ENUM, O(mode), NULL, .words = modes, .help = "three words" },
	{ "nets", CONFTAB_LIST, O(nets), "127.0.0.0/8, ::1", .help = "CIDRs" },
	{ "sites", CONFTAB_LIST, O(sites), NULL, .flags = CONFTAB_REPEAT, .help = "zones" },
	{ "pair", CONFTAB_FUNC, O(pairs), NULL, .parse = parse_pair,
	  .release = release_pairs, .flags = CONFTAB_REPEAT, .help = "A-B" },
};
#undef O

static const struct conftab tab = { keys, sizeof(keys) / sizeof(keys[0]), sizeof(struct cfg),
				    check, NULL };

/* Parse text over the defaults; the errors joined with '|' or "ok". */
static const char *run(const char *text, struct cfg **out)
{
	static char res[4096];
	struct conftab_errors e;
	struct cfg *c = conftab_new(&tab);
	int rc = conftab_parse(&tab, c, text, "t.conf", &e);

	res[0] = '\0';
	for (unsigned i = 0; i < e.n; i++)
		snprintf(res + strlen(res), sizeof(res) - strlen(res), "%s%s", i ? "|" : "",
			 e.msg[i]);
	if ((rc != 0) != (e.total != 0))
		return "rc and errors disagree";
	if (!rc)
		strcpy(res, "ok");
	if (out)
		*out = c;
	else
		conftab_free(&tab, c);
	return res;
}

UNIT_TEST(defaults)
{
	struct cfg *c = conftab_new(&tab);

	CHECK_EQ_STR(c->listen, "127.0.0.1:10040");
	CHECK(c->user == NULL);
	CHECK(c->threshold == 1 && c->budget == 2000 && c->ttl == 3600 && c->min_ttl == 60);
	CHECK(!c->log_requests && c->action == 0);
	CHECK(c->nets.n == 2 && !strcmp(c->nets.v[0], "127.0.0.0/8") &&
	      !strcmp(c->nets.v[1], "::1"));
	CHECK(c->sites.n == 0 && c->npairs == 0);
	conftab_free(&tab, c);
}

UNIT_TEST(values_of_every_type)
{
	struct cfg *c;

	CHECK_EQ_STR(run("listen = [::1]:25\n"
			 "user=nobody\n"
			 "threshold = -5\n"
			 "budget = 60000\n"
			 "ttl = 7d   # a comment\n"
			 "min_ttl = 5m\n"
			 "log_requests = yes\n"
			 "action = prepend\n"
			 "nets = 10.0.0.0/8 192.0.2.0/24,,2001:db8::/32\n"
			 "sites = a.example\n"
			 "sites = b.example, c.example\n"
			 "pair = 1-2\n"
			 "pair = 3-4\n", &c), "ok");
	CHECK_EQ_STR(c->listen, "[::1]:25");
	CHECK_EQ_STR(c->user, "nobody");
	CHECK(c->threshold == -5 && c->budget == 60000 && c->ttl == 604800 &&
	      c->min_ttl == 300 && c->log_requests && c->action == 1);
	CHECK(c->nets.n == 3 && !strcmp(c->nets.v[2], "2001:db8::/32"));
	CHECK(c->sites.n == 3 && !strcmp(c->sites.v[2], "c.example"));
	CHECK(c->npairs == 2 && c->pairs[1].a == 3 && c->pairs[1].b == 4);
	conftab_free(&tab, c);
}

UNIT_TEST(comments_blank_lines_and_continuations)
{
	struct cfg *c;

	CHECK_EQ_STR(run("# leading comment\n"
			 "\n"
			 "listen = a#b\n"           /* '#' inside a word is kept */
			 "user =\n"
			 "nets = 10.0.0.0/8,\n"
			 "    10.1.0.0/16   # continued\n"
			 "\n"
			 "\t10.2.0.0/16\n"
			 "   # only a comment\n"
			 "threshold = 7", &c), "ok");
	CHECK_EQ_STR(c->listen, "a#b");
	CHECK_EQ_STR(c->user, "");
	CHECK(c->nets.n == 3 && !strcmp(c->nets.v[2], "10.2.0.0/16"));
	CHECK(c->threshold == 7);
	conftab_free(&tab, c);
	CHECK_EQ_STR(run("", NULL), "ok");
	CHECK_EQ_STR(run("\n\n", NULL), "ok");
}

UNIT_TEST(error_texts)
{
	CHECK_EQ_STR(run("threshold = 1001\n", NULL),
		     "t.conf:1: threshold: expected an integer -5..1000");
	CHECK_EQ_STR(run("threshold = 12x\n", NULL),
		     "t.conf:1: threshold: expected an integer -5..1000");
	CHECK_EQ_STR(run("budget = 99999999999999999999999\n", NULL),
		     "t.conf:1: budget: expected an integer 10..60000");
	CHECK_EQ_STR(run("budget = -1\n", NULL), "t.conf:1: budget: expected an integer 10..60000");
	CHECK_EQ_STR(run("ttl = 2w\n", NULL),
		     "t.conf:1: ttl: expected a time 1..604800 s (suffix s m h d w)");
	CHECK_EQ_STR(run("ttl = 5x\n", NULL),
		     "t.conf:1: ttl: expected a time 1..604800 s (suffix s m h d w)");
	CHECK_EQ_STR(run("log_requests = true\n", NULL),
		     "t.conf:1: log_requests: expected no or yes");
	CHECK_EQ_STR(run("action = drop\n", NULL), "t.conf:1: action: expected reject or prepend");
	CHECK_EQ_STR(run("mode = on\n", NULL),
		     "t.conf:1: mode: expected one of off, log, enforce");
	CHECK_EQ_STR(run("pair = 1\n", NULL), "t.conf:1: pair: expected A-B");
	CHECK_EQ_STR(run("no_such_key = 1\n", NULL), "t.conf:1: unknown key 'no_such_key'");
	CHECK_EQ_STR(run("listen 127.0.0.1:25\n", NULL), "t.conf:1: expected 'name = value'");
	CHECK_EQ_STR(run("  nets = 1.2.3.4\n", NULL),
		     "t.conf:1: a continuation line with nothing to continue");
	CHECK_EQ_STR(run("user = a\n\nuser = b\n", NULL),
		     "t.conf:3: user given twice (first on line 1)");
	/* the table's own check runs when the keys are good */
	CHECK_EQ_STR(run("ttl = 10\nmin_ttl = 20\n", NULL), "t.conf: min_ttl is above ttl");
}

UNIT_TEST(every_error_is_reported_with_its_line)
{
	CHECK_EQ_STR(run("threshold = x\n"
			 "listen = ok\n"
			 "bogus = 1\n"
			 "ttl = 10\n"
			 "min_ttl = 20\n"           /* check not run: the keys had errors */
			 "budget = 1\n"
			 "  2\n"                     /* continues budget: "1 2" */
			 "action = x\n", NULL),
		     "t.conf:1: threshold: expected an integer -5..1000|"
		     "t.conf:3: unknown key 'bogus'|"
		     "t.conf:6: budget: expected an integer 10..60000|"
		     "t.conf:8: action: expected reject or prepend");
}

UNIT_TEST(errors_are_bounded)
{
	char text[4000] = "";
	struct conftab_errors e;
	struct cfg *c = conftab_new(&tab);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	for (int i = 0; i < 50; i++)
		strcat(text, "bad line\n");
	CHECK(conftab_parse(&tab, c, text, "t.conf", &e) == -EINVAL);
	CHECK_EQ_INT(e.n, CONFTAB_MAX_ERRORS);
	CHECK_EQ_INT(e.total, 50);
	CHECK_EQ_STR(e.msg[19], "t.conf:20: expected 'name = value'");
	f = open_memstream(&buf, &len);
	conftab_errors_print(&e, f);
	fclose(f);
	CHECK(strstr(buf, "t.conf:1: expected 'name = value'\n") == buf);
	CHECK(strstr(buf, "\n(30 more errors)\n") != NULL);
	free(buf);
	conftab_free(&tab, c);
}

UNIT_TEST(long_lines_and_lists)
{
	size_t n = CONFTAB_LINE_MAX + 10;
	char *text = malloc(n + 32);

	strcpy(text, "user = ");
	memset(text + 7, 'x', n);
	strcpy(text + 7 + n, "\nthreshold = 2\n");
	CHECK_EQ_STR(run(text, NULL), "t.conf:1: longer than 65536 bytes");
	/* a continuation that makes the value too long */
	strcpy(text, "user = a\n ");
	memset(text + 10, 'x', n);
	strcpy(text + 10 + n, "\n");
	CHECK_EQ_STR(run(text, NULL), "t.conf:1: longer than 65536 bytes");
	/* a list of more than CONFTAB_LIST_MAX items */
	strcpy(text, "nets = ");
	for (int i = 0; i < CONFTAB_LIST_MAX + 1; i++)
		memcpy(text + 7 + 2 * i, "a,", 3);
	CHECK_EQ_STR(run(text, NULL), "t.conf:1: nets: more than 4096 items");
	free(text);
}

/* A value may start with '#' right after '=' (only '#' after white space
 * starts a comment); the dump keeps it a value. */
UNIT_TEST(dump_keeps_values_that_start_with_hash)
{
	struct cfg *c, *again;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	CHECK_EQ_STR(run("user =#x\nnets =#a,#b\n", &c), "ok");
	CHECK_EQ_STR(c->user, "#x");
	CHECK(c->nets.n == 2 && !strcmp(c->nets.v[1], "#b"));
	f = open_memstream(&buf, &len);
	conftab_dump(&tab, c, f);
	fclose(f);
	CHECK(strstr(buf, "\nuser =#x\n") && strstr(buf, "\nnets =#a,#b\n"));
	CHECK_EQ_STR(run(buf, &again), "ok");
	CHECK_EQ_STR(again->user, "#x");
	CHECK(again->nets.n == 2 && !strcmp(again->nets.v[1], "#b"));
	free(buf);
	conftab_free(&tab, c);
	conftab_free(&tab, again);
}

UNIT_TEST(set_one_key)
{
	struct cfg *c = conftab_new(&tab);
	char err[256];

	CHECK(conftab_set(&tab, c, "threshold", "9", err, sizeof(err)) == 0 && c->threshold == 9);
	CHECK(conftab_set(&tab, c, "threshold", "x", err, sizeof(err)) == -EINVAL);
	CHECK_EQ_STR(err, "threshold: expected an integer -5..1000");
	CHECK(conftab_set(&tab, c, "nope", "x", err, sizeof(err)) == -ENOENT);
	CHECK_EQ_STR(err, "unknown key 'nope'");
	conftab_free(&tab, c);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

UNIT_TEST(load_and_reload_keeps_old_on_error)
{
	char path[64];
	struct conftab_errors e;
	struct cfg *cur, *old;

	snprintf(path, sizeof(path), "/tmp/rblkit-test-conftab.%d", (int)getpid());
	write_file(path, "threshold = 5\n");
	cur = conftab_load(&tab, path, &e);
	CHECK(cur && cur->threshold == 5 && e.total == 0);

	write_file(path, "threshold = 6\nbudget = 1\n");
	old = conftab_reload(&tab, path, (void **)&cur, &e);
	CHECK(old == NULL);
	CHECK(cur && cur->threshold == 5);   /* the old configuration stays */
	CHECK(e.total == 1 && strstr(e.msg[0], ":2: budget: expected an integer"));

	write_file(path, "threshold = 6\n");
	old = conftab_reload(&tab, path, (void **)&cur, &e);
	CHECK(old != NULL && old->threshold == 5 && cur->threshold == 6);
	conftab_free(&tab, old);

	FILE *f = fopen(path, "w");
	fwrite("user = a\0b\n", 1, 11, f);
	fclose(f);
	CHECK(conftab_load(&tab, path, &e) == NULL);
	CHECK(e.total == 1 && strstr(e.msg[0], ": contains a NUL byte"));
	unlink(path);
	CHECK(conftab_load(&tab, path, &e) == NULL);
	CHECK(e.total == 1 && strstr(e.msg[0], ": No such file or directory"));
	conftab_free(&tab, cur);
}

UNIT_TEST(help_and_dump)
{
	struct cfg *c, *again;
	char *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *f = open_memstream(&buf, &len);

	conftab_help(&tab, f);
	fclose(f);
	CHECK(strstr(buf, "  threshold            score\n"
			  "                         default: 1\n"
			  "                         range: -5..1000\n") != NULL);
	CHECK(strstr(buf, "  user                 user after binding\n  threshold") != NULL);
	free(buf);

	CHECK_EQ_STR(run("nets = 10.0.0.0/8, 10.1.0.0/16\nlog_requests = yes\nttl = 2h\n"
			 "pair = 1-2\n", &c), "ok");
	f = open_memstream(&buf, &len);
	conftab_dump(&tab, c, f);
	fclose(f);
	CHECK(strstr(buf, "listen = 127.0.0.1:10040\n# user is not set\nthreshold = 1\n"
			  "budget = 2000\nttl = 7200\nmin_ttl = 60\nlog_requests = yes\n"
			  "action = reject\nmode = off\nnets = 10.0.0.0/8,10.1.0.0/16\n"
			  "sites =\n# pair = (set)\n") == buf);
	/* the dump parses back to the same configuration */
	CHECK_EQ_STR(run(buf, &again), "ok");
	f = open_memstream(&buf2, &len2);
	conftab_dump(&tab, again, f);
	fclose(f);
	CHECK_EQ_STR(buf2, buf);
	free(buf);
	free(buf2);
	conftab_free(&tab, c);
	conftab_free(&tab, again);
}

UNIT_MAIN()

/* -- check_all: the whole-file checks run even when some keys had errors,
 * skipping only those that involve a refused key; a STR key's parse
 * checks its value (and the error has the line) -------------------------- */

static int abs_path(void *conf, void *field, const char *v, char *err, size_t el)
{
	(void)conf;
	(void)field;
	if (v[0] != '/') {
		snprintf(err, el, "must be an absolute path");
		return -1;
	}
	return 0;
}

static int check_all(void *conf, const struct conftab_bad *bad, char *err, size_t el)
{
	const struct cfg *c = conf;

	CHECK(!conftab_bad(bad, "no_such_key"));
	if (!conftab_bad(bad, "ttl") && !conftab_bad(bad, "min_ttl") && c->min_ttl > c->ttl) {
		snprintf(err, el, "min_ttl is above ttl");
		return -1;
	}
	return 0;
}

#define O(f) offsetof(struct cfg, f)
static const struct conftab_key keys_all[] = {
	{ "listen", CONFTAB_STR, O(listen), "/run/x", .parse = abs_path, .help = "path" },
	{ "threshold", CONFTAB_INT, O(threshold), "1", -5, 1000, .help = "score" },
	{ "ttl", CONFTAB_TIME, O(ttl), "1h", 1, 604800, .help = "longest" },
	{ "min_ttl", CONFTAB_TIME, O(min_ttl), "60", 0, 86400, .help = "shortest" },
};
#undef O

static const struct conftab tab_all = { keys_all, sizeof(keys_all) / sizeof(keys_all[0]),
					sizeof(struct cfg), NULL, check_all };

/* Parse text with tab_all; the errors joined with '|' or "ok". */
static const char *run_all(const char *text)
{
	static char res[4096];
	struct conftab_errors e;
	struct cfg *c = conftab_new(&tab_all);
	int rc = conftab_parse(&tab_all, c, text, "t.conf", &e);

	res[0] = '\0';
	for (unsigned i = 0; i < e.n; i++)
		snprintf(res + strlen(res), sizeof(res) - strlen(res), "%s%s", i ? "|" : "",
			 e.msg[i]);
	if ((rc != 0) != (e.total != 0))
		strcpy(res, "rc and errors disagree");
	else if (!rc)
		strcpy(res, "ok");
	conftab_free(&tab_all, c);
	return res;
}

UNIT_TEST(check_all_runs_after_key_errors_and_skips_refused_keys)
{
	CHECK_EQ_STR(run_all("listen = /run/y\nttl = 10\nmin_ttl = 5\n"), "ok");
	/* a key error elsewhere: the check still runs */
	CHECK_EQ_STR(run_all("threshold = x\n"
			     "listen = run/y\n"
			     "ttl = 10\n"
			     "min_ttl = 20\n"),
		     "t.conf:1: threshold: expected an integer -5..1000|"
		     "t.conf:2: listen: must be an absolute path|"
		     "t.conf: min_ttl is above ttl");
	/* ttl refused (it keeps its default): the check about it is skipped */
	CHECK_EQ_STR(run_all("ttl = 10x\nmin_ttl = 2h\n"),
		     "t.conf:1: ttl: expected a time 1..604800 s (suffix s m h d w)");
	/* a refused STR value leaves the one before */
	{
		struct conftab_errors e;
		struct cfg *c = conftab_new(&tab_all);

		CHECK(conftab_parse(&tab_all, c, "listen = rel\n", "t.conf", &e) == -EINVAL);
		CHECK_EQ_STR(c->listen, "/run/x");
		conftab_free(&tab_all, c);
	}
}
