/*
 * test_watch.c - the configuration side of rblkit watch (watch/watch.h):
 * targets (a CIDR expanded into addresses, at most a /16; mx: and host
 * names kept whole), lists (catalogue words and ZONE@ADDR[:PORT], each
 * with its server taken off the shared catalogue entry), budgets from the
 * catalogue's "limit" key or the configuration, and the interval
 * stretched to fit them; the catalogue's "limit" key itself.
 */
#include "unit.h"
#include "dnsbl/catalog.h"
#include "watch/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *conf_file(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_watch.%ld.conf", (long)getpid());
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

static int load(const char *text, struct watch_conf **c, struct watch_plan *p, char *err,
		size_t el)
{
	struct conftab_errors e;
	const char *path = conf_file(text);
	int rc = watch_load(path, c, p, &e, err, el);

	if (rc && e.total)
		snprintf(err, el, "%s", e.msg[0]);
	unlink(path);
	return rc;
}

static void done(struct watch_conf *c, struct watch_plan *p)
{
	if (c)
		conftab_free(&watch_conftab, c);
	watch_plan_free(p);
}

UNIT_TEST(targets_expand)
{
	struct watch_conf *c = NULL;
	struct watch_plan p;
	char err[600];

	CHECK_EQ_INT(load("watch = 192.0.2.0/30, mail.example.com\nwatch = mx:Example.COM, 2001:db8::/126\n"
			  "lists = zen.spamhaus.org\nstore = sqlite:/nonexistent/x.db\n",
			  &c, &p, err, sizeof(err)), 0);
	CHECK_EQ_INT(p.nt, 4 + 1 + 1 + 4);
	CHECK_EQ_STR(p.t[0].name, "192.0.2.0");
	CHECK_EQ_STR(p.t[3].name, "192.0.2.3");
	CHECK_EQ_STR(p.t[4].name, "mail.example.com");
	CHECK_EQ_STR(p.t[5].name, "mx:Example.COM");
	CHECK_EQ_STR(p.t[5].query, "Example.COM");
	CHECK(p.t[5].mx);
	CHECK_EQ_STR(p.t[9].name, "2001:db8::3");
	CHECK_EQ_INT(p.nl, 1);
	/* ZEN answers for IPv4 and IPv6 and the names: every target */
	CHECK_EQ_INT(p.l[0].ntargets, 10);
	CHECK_EQ_STR(p.dsn, "sqlite:/nonexistent/x.db");
	done(c, &p);
}

UNIT_TEST(targets_refused)
{
	struct watch_conf *c = NULL;
	struct watch_plan p;
	char err[600];

	CHECK_EQ_INT(load("watch = 10.0.0.0/15\n", &c, &p, err, sizeof(err)), -1);
	CHECK(strstr(err, ":1: watch: '10.0.0.0/15': a range of more than 65536") != NULL);
	done(c, &p);
	c = NULL;
	CHECK_EQ_INT(load("watch = 192.0.2.1/24\n", &c, &p, err, sizeof(err)), -1);
	done(c, &p);
	c = NULL;
	CHECK_EQ_INT(load("watch = mx:192.0.2.1\n", &c, &p, err, sizeof(err)), -1);
	CHECK(strstr(err, "expected an address, CIDR, host name or mx:DOMAIN") != NULL);
	done(c, &p);
	c = NULL;
	CHECK_EQ_INT(load("lists = default\n", &c, &p, err, sizeof(err)), -1);
	CHECK(strstr(err, "nothing to watch") != NULL);
	done(c, &p);
}

UNIT_TEST(lists_servers_and_budgets)
{
	struct watch_conf *c = NULL;
	struct watch_plan p;
	char err[600];

	CHECK_EQ_INT(load("watch = 192.0.2.0/24\n"
			  "lists = zen.spamhaus.org@127.0.0.1:5353, bl.spamcop.net, my.zone.test@[::1]:53\n"
			  "interval = 60s\nbudget = bl.spamcop.net=1000\nlist_interval = spamhaus-zen=2m\n"
			  "default_budget = 0\n", &c, &p, err, sizeof(err)), 0);
	CHECK_EQ_INT(p.nl, 3);
	CHECK_EQ_STR(p.l[0].key, "zen.spamhaus.org@127.0.0.1:5353");
	CHECK_EQ_STR(p.l[0].server, "127.0.0.1:5353");
	CHECK(p.l[0].l->server == NULL);
	CHECK_EQ_INT(p.l[0].budget, 300000);            /* the catalogue's limit */
	CHECK_EQ_INT(p.l[0].interval, 120);
	CHECK_EQ_INT(p.l[0].effective, 120);
	CHECK(!p.l[0].stretched);
	CHECK_EQ_STR(p.l[1].key, "bl.spamcop.net");
	CHECK_EQ_INT(p.l[1].budget, 1000);
	/* 256 targets in 1000 queries a day, less the probes: about every 8 hours */
	CHECK(p.l[1].stretched);
	CHECK(p.l[1].effective > 256u * 86400 / 1000);
	CHECK_EQ_STR(p.l[2].key, "my.zone.test@[::1]:53");
	CHECK_EQ_INT(p.l[2].budget, 0);                 /* default_budget 0: unlimited */
	CHECK_EQ_INT(p.l[2].effective, 60);
	done(c, &p);
	c = NULL;
	CHECK_EQ_INT(load("watch = 192.0.2.1\nlists = nosuch\n", &c, &p, err, sizeof(err)), -1);
	CHECK(strstr(err, "no list or set named 'nosuch'") != NULL);
	done(c, &p);
	c = NULL;
	CHECK_EQ_INT(load("watch = 192.0.2.1\nlists = zen.spamhaus.org\nbudget = zen.spamhaus.org=x\n",
			  &c, &p, err, sizeof(err)), -1);
	CHECK(strstr(err, "budget: zen.spamhaus.org: expected a number") != NULL);
	done(c, &p);
}

UNIT_TEST(effective_interval_fits_the_budget)
{
	uint32_t i;

	/* a handful of targets: the configured interval */
	CHECK_EQ_INT(watch_effective_interval(30, 300000, 5, 600), 30);
	CHECK_EQ_INT(watch_effective_interval(30, 0, 65536, 600), 30);
	/* a /16 on a list of 300,000 a day: about 5.3 hours, and within */
	i = watch_effective_interval(30, 300000, 65536, 600);
	CHECK(i > 5 * 3600 && i < 6 * 3600);
	CHECK(65536.0 * 86400 / i * 1.1 + 2.0 * 86400 / 600 <= 300000 + 1);
	/* a budget eaten by the probes: a week */
	CHECK_EQ_INT(watch_effective_interval(30, 100, 1, 600), 604800);
}

UNIT_TEST(catalog_limit_key)
{
	struct catalog *cat = catalog_new();
	char err[512];
	const char *ok = "[a]\nname = A\nzone = a.test\nkind = ip4\nlimit = 5000\n";
	const char *bad = "[b]\nname = B\nzone = b.test\nkind = ip4\nlimit = lots\n";

	CHECK_EQ_INT(catalog_parse(cat, ok, strlen(ok), "t", err, sizeof(err)), 0);
	CHECK_EQ_INT(catalog_by_id(cat, "a")->limit, 5000);
	CHECK_EQ_INT(catalog_parse(cat, bad, strlen(bad), "t", err, sizeof(err)), -1);
	CHECK(strstr(err, "t:5: limit: expected a number of queries a day") != NULL);
	catalog_free(cat);
	cat = catalog_new();
	CHECK_EQ_INT(catalog_load_builtin(cat, err, sizeof(err)), 0);
	CHECK_EQ_INT(catalog_by_id(cat, "spamhaus-zen")->limit, 300000);
	CHECK_EQ_INT(catalog_by_id(cat, "spamcop")->limit, 0);
	catalog_free(cat);
}

UNIT_MAIN()
