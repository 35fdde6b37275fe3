/*
 * test_list.c - list.conf (defaults, [zone NAME] sections, errors with
 * the file's line numbers), the import parser (every entry form, ranges
 * split into CIDRs, values, exclusions, bad lines counted) and trap
 * address masking.
 */
#include "unit.h"
#include "list/import.h"
#include "list/list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_list.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

static struct list_conf *load_text(const char *text, struct conftab_errors *e, char *name,
				   size_t nl)
{
	char *p = write_tmp(text);
	struct list_conf *c;

	snprintf(name, nl, "%s", p);
	c = list_conf_load(p, e);
	unlink(p);
	return c;
}

/* Does some error of e end with "LINE: tail..."? */
static int has_err(const struct conftab_errors *e, const char *name, unsigned line,
		   const char *what)
{
	char want[400];

	snprintf(want, sizeof(want), "%s:%u: %s", name, line, what);
	for (unsigned i = 0; i < e->n; i++)
		if (!strncmp(e->msg[i], want, strlen(want)))
			return 1;
	return 0;
}

static int any_err(const struct conftab_errors *e, const char *what)
{
	for (unsigned i = 0; i < e->n; i++)
		if (strstr(e->msg[i], what))
			return 1;
	return 0;
}

UNIT_TEST(conf_store_alone)
{
	struct conftab_errors e;
	char name[64];
	struct list_conf *c = load_text("store = sqlite:/tmp/x.db\n", &e, name, sizeof(name));
	const struct list_rules *r;

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ_STR(c->store, "sqlite:/tmp/x.db");
	r = list_rules_for(c, "any.example");
	CHECK(r == &c->defaults);
	CHECK_EQ_INT(r->lifetime, 86400);
	CHECK_EQ_INT(r->extend, 86400);
	CHECK_EQ_INT(r->relist_period, 30 * 86400);
	CHECK_EQ_INT(r->lifetime_max, 30 * 86400);
	CHECK_EQ_INT(r->threshold_hits, 1);
	CHECK_EQ_INT(r->threshold_traps, 1);
	CHECK_EQ_INT(r->threshold_window, 86400);
	CHECK_EQ_INT(r->ip6_bits, 64);
	CHECK_EQ_INT(r->allow.n, 0);
	CHECK_EQ_INT(r->self_remove_max, 3);
	CHECK_EQ_INT(r->self_remove_period, 30 * 86400);
	CHECK_EQ_INT(r->net_escalate, 0);
	CHECK_EQ_INT(r->net_bits, 24);
	CHECK_EQ_INT(r->code, 0x7f000002);
	CHECK_EQ_INT(r->ttl, 300);
	CHECK_EQ_INT(r->refresh, 3600);
	CHECK_EQ_INT(r->retry, 600);
	CHECK_EQ_INT(r->expire, 604800);
	CHECK_EQ_INT(r->minimum, 300);
	CHECK_EQ_STR(c->trap.listen, "127.0.0.1:2424");
	CHECK_EQ_STR(c->trap.quarantine, "/var/lib/rblkit/quarantine");
	CHECK_EQ_INT(c->trap.max_size, 1048576);
	list_conf_free(c);
}

UNIT_TEST(conf_sections_inherit)
{
	struct conftab_errors e;
	char name[64];
	struct list_conf *c = load_text(
		"store = sqlite:/tmp/x.db\n"
		"lifetime = 2h\n"
		"allow = 192.0.2.0/24, 2001:db8::/32\n"
		"[zone bl.example]\n"
		"lifetime = 3h\n"
		"lifetime_max = 1d\n"
		"\n"
		"[zone Other.Example.]\n"
		"code = 127.0.0.4\n"
		"ns = a.example, b.example\n", &e, name, sizeof(name));
	const struct list_rules *r;
	struct store_zone z;

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ_INT(c->nzones, 2);
	r = list_rules_for(c, "bl.example");
	CHECK_EQ_INT(r->lifetime, 3 * 3600);
	CHECK_EQ_INT(r->lifetime_max, 86400);
	CHECK_EQ_INT(r->allow.n, 2);            /* from the global value */
	r = list_rules_for(c, "other.example");
	CHECK_EQ_INT(r->lifetime, 2 * 3600);    /* the global value, not the default */
	CHECK_EQ_INT(r->code, 0x7f000004);
	CHECK_EQ_INT(r->ns.n, 2);
	list_zone_data(r, "other.example", &z);
	CHECK_EQ_STR(z.txt, "Listed in other.example: $");
	CHECK_EQ_INT(z.nns, 2);
	CHECK_EQ_STR(z.ns[1], "b.example");
	CHECK_EQ_INT(list_rules_for(c, "third.example")->lifetime, 2 * 3600);
	list_conf_free(c);
}

UNIT_TEST(conf_errors_lines)
{
	struct conftab_errors e;
	char name[64];
	struct list_conf *c = load_text(
		"store = sqlite:/tmp/x.db\n"            /* 1 */
		"lifetime = forever\n"                  /* 2 */
		"[zone bl.example]\n"                   /* 3 */
		"# a comment\n"                         /* 4 */
		"extend = 5 days\n"                     /* 5 */
		"store = sqlite:/y\n"                   /* 6: not a rule key */
		"allow = 192.0.2.1/24\n"                /* 7: host bits */
		"[zone bl.example]\n"                   /* 8 */
		"ttl = 1\n"                             /* 9 */
		"[bogus]\n"                             /* 10 */
		"[zone two.example]\n"                  /* 11 */
		"threshold_hits = 2\n"                  /* 12 */
		"threshold_traps = 3\n"                 /* 13 */
		"nonsense = 1\n", &e, name, sizeof(name));      /* 14 */

	CHECK(c == NULL);
	CHECK(has_err(&e, name, 2, "lifetime: expected a time"));
	CHECK(has_err(&e, name, 5, "extend: expected a time"));
	CHECK(has_err(&e, name, 6, "unknown key 'store'"));
	CHECK(has_err(&e, name, 7, "allow: '192.0.2.1/24' is not an address or CIDR"));
	CHECK(has_err(&e, name, 8, "zone bl.example named twice (first on line 3)"));
	CHECK(has_err(&e, name, 10, "expected [zone NAME]"));
	CHECK(has_err(&e, name, 14, "unknown key 'nonsense'"));
	CHECK(any_err(&e, ": threshold_traps is above threshold_hits"));
	list_conf_free(c);
}

UNIT_TEST(conf_missing_file)
{
	struct conftab_errors e;
	struct list_conf *c = list_conf_load("/nonexistent/list.conf", &e);

	CHECK(c == NULL);
	CHECK_EQ_INT(e.n, 1);
	CHECK(strstr(e.msg[0], "/nonexistent/list.conf: cannot read") != NULL);
}

UNIT_TEST(mask_addr)
{
	char b[64];

	list_mask_addr("spamtrap@trap.example", b, sizeof(b));
	CHECK_EQ_STR(b, "s***@trap.example");
	list_mask_addr("@trap.example", b, sizeof(b));
	CHECK_EQ_STR(b, "***@trap.example");
	list_mask_addr("noat", b, sizeof(b));
	CHECK_EQ_STR(b, "n***");
	list_mask_addr("", b, sizeof(b));
	CHECK_EQ_STR(b, "");
	list_mask_addr("x@y", b, 3);
	CHECK_EQ_STR(b, "x*");
}

/* -- import parser --------------------------------------------------------- */

struct got {
	char text[4096];
	unsigned n;
	char warns[2048];
};

static int collect(void *arg, const struct import_entry *e)
{
	struct got *g = arg;
	size_t o = strlen(g->text);

	snprintf(g->text + o, sizeof(g->text) - o, "%s%s %u.%u.%u.%u %s|", e->excluded ? "!" : "",
		 e->key.text, e->code >> 24, (e->code >> 16) & 255, (e->code >> 8) & 255,
		 e->code & 255, e->reason);
	g->n++;
	return 0;
}

static void warned(void *arg, const char *msg)
{
	struct got *g = arg;
	size_t o = strlen(g->warns);

	snprintf(g->warns + o, sizeof(g->warns) - o, "%s\n", msg);
}

static struct import_stats parse(const char *text, enum import_type t, struct got *g)
{
	struct import_stats st;

	memset(g, 0, sizeof(*g));
	import_parse(text, strlen(text), "f", t, collect, warned, g, &st);
	return st;
}

UNIT_TEST(import_ip4set_forms)
{
	struct got g;
	struct import_stats st = parse(
		"# comment\n"
		"192.0.2.1\n"
		"198.51.100\n"                          /* a /24 prefix */
		"10.1.0.0/16 :3:Open relay\n"
		"203.0.113.5-203.0.113.9\n"             /* 5/32 6/31 8/31 */
		"!198.51.100.7\n"
		":127.0.0.4:Default $\n"
		"192.0.2.200\n"
		"192.0.2.1/24\n"                        /* host bits: bad */
		"$SOA 300 a b 0 1 2 3 4\n"
		"junk\n", IMPORT_IP4SET, &g);

	CHECK_EQ_STR(g.text,
		"192.0.2.1 0.0.0.0 |198.51.100.0/24 0.0.0.0 |10.1.0.0/16 127.0.0.3 Open relay|"
		"203.0.113.5 0.0.0.0 |203.0.113.6/31 0.0.0.0 |203.0.113.8/31 0.0.0.0 |"
		"!198.51.100.7 0.0.0.0 |192.0.2.200 127.0.0.4 Default $|");
	CHECK_EQ_INT(st.lines, 11);
	CHECK_EQ_INT(st.entries, 7);
	CHECK_EQ_INT(st.excluded, 1);
	CHECK_EQ_INT(st.bad, 2);
	CHECK_EQ_INT(st.specials, 1);
	CHECK(strstr(g.warns, "f:9: invalid range (non-zero host part)") != NULL);
	CHECK(strstr(g.warns, "f:11: invalid address \"junk\"") != NULL);
}

UNIT_TEST(import_guess_mixed)
{
	struct got g;
	struct import_stats st = parse(
		"2001:db8::/64 :2:six\n"
		"2001:db8:1:2\n"                        /* four words: a /64 */
		"example.com\n"
		".example.net\n"
		"*.example.org\n"
		"!good.example.org\n"
		"192.0.2.0/25\n"
		"10.0.0.0-10.0.0.255\n", IMPORT_GUESS, &g);

	CHECK_EQ_STR(g.text,
		"2001:db8::/64 127.0.0.2 six|2001:db8:1:2::/64 0.0.0.0 |example.com 0.0.0.0 |"
		"*.example.net 0.0.0.0 |example.net 0.0.0.0 |*.example.org 0.0.0.0 |"
		"!good.example.org 0.0.0.0 |192.0.2.0/25 0.0.0.0 |10.0.0.0/24 0.0.0.0 |");
	CHECK_EQ_INT(st.bad, 0);
}

UNIT_TEST(import_tset_and_trie)
{
	struct got g;
	struct import_stats st;

	st = parse(":127.0.0.5:shared\n192.0.2.1\n192.0.2.2 :3:ignored\n:127.0.0.6:later\n"
		   "192.0.2.0/24\n", IMPORT_IP4TSET, &g);
	CHECK_EQ_STR(g.text, "192.0.2.1 127.0.0.5 shared|192.0.2.2 127.0.0.5 shared|");
	CHECK_EQ_INT(st.bad, 1);
	st = parse("2001:db8:0:1\n!2001:db8:0:1::5\n2001:db8::/48\n", IMPORT_IP6TSET, &g);
	CHECK_EQ_STR(g.text, "2001:db8:0:1::/64 0.0.0.0 |!2001:db8:0:1::5 0.0.0.0 |");
	CHECK_EQ_INT(st.bad, 1);
	st = parse("192.0.2.0/24\n192.0.2.1-192.0.2.5\n", IMPORT_IP4TRIE, &g);
	CHECK_EQ_STR(g.text, "192.0.2.0/24 0.0.0.0 |");
	CHECK_EQ_INT(st.bad, 1);
}

UNIT_TEST(import_crlf_and_specials)
{
	struct got g;
	struct import_stats st = parse("$TTL 300\r\n192.0.2.1 :3:x\r\n#$NS 1 ns.x\r\n$1 text\r\n"
				       "  192.0.2.2  \r\n", IMPORT_GUESS, &g);

	CHECK_EQ_STR(g.text, "192.0.2.1 127.0.0.3 x|192.0.2.2 0.0.0.0 |");
	CHECK_EQ_INT(st.specials, 3);
	CHECK_EQ_INT(st.bad, 0);
	CHECK(strstr(g.warns, "f:1: $-lines") != NULL);        /* one warning */
	CHECK(strstr(g.warns, "f:3:") == NULL);
}

UNIT_TEST(import_long_and_nul_lines)
{
	struct got g;
	char *buf = malloc(IMPORT_LINE_MAX + 64);
	struct import_stats st;

	memset(buf, 'a', IMPORT_LINE_MAX + 10);
	memcpy(buf + IMPORT_LINE_MAX + 10, "\n192.0.2.9\n", 12);
	memset(&g, 0, sizeof(g));
	import_parse(buf, strlen(buf), "f", IMPORT_GUESS, collect, warned, &g, &st);
	CHECK_EQ_INT(st.bad, 1);
	CHECK_EQ_STR(g.text, "192.0.2.9 0.0.0.0 |");
	memset(&g, 0, sizeof(g));
	import_parse("192.0.2.1\0x\n192.0.2.2\n", 22, "f", IMPORT_GUESS, collect, warned, &g, &st);
	CHECK_EQ_INT(st.bad, 1);
	CHECK_EQ_STR(g.text, "192.0.2.2 0.0.0.0 |");
	free(buf);
}

/* -- rules on a temporary SQLite store -------------------------------------- */

static int dns_answer;
static char dns_asked[400];

static int fake_dns(void *arg, const struct store_key *k, const char *list)
{
	snprintf(dns_asked, sizeof(dns_asked), "%s@%s", k->text, list);
	return dns_answer;
}

static struct list_ctx *rules_ctx(struct list_conf **cp, char *db, size_t dl)
{
	static struct list_ctx ctx;
	struct conftab_errors e;
	char name[128], err[256] = "";
	struct list_conf *c;
	int fd;

	snprintf(db, dl, "/tmp/test_list_db.XXXXXX");
	fd = mkstemp(db);
	close(fd);
	unlink(db);
	c = load_text("allow_dnsbl = list.dnswl.example\nallow = 192.0.2.0/28\n", &e, name,
		      sizeof(name));
	memset(&ctx, 0, sizeof(ctx));
	snprintf(name, sizeof(name), "sqlite:%s", db);
	if (!c || store_open(name, 0, &ctx.st, err, sizeof(err))) {
		printf("  cannot set up: %s\n", err);
		list_conf_free(c);
		return NULL;
	}
	ctx.conf = c;
	ctx.now = 1800000000;
	ctx.dns_allowed = fake_dns;
	*cp = c;
	return &ctx;
}

static void rules_done(struct list_ctx *ctx, struct list_conf *c, const char *db)
{
	char p[300];

	store_close(ctx->st);
	list_conf_free(c);
	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

UNIT_TEST(rules_dns_allowlist)
{
	struct list_conf *c;
	char db[64], err[256];
	struct list_ctx *ctx = rules_ctx(&c, db, sizeof(db));
	struct list_hit h = { .trap = "t@trap.example" };
	struct list_add a = { .source = "cli" };
	struct list_result r;

	CHECK(ctx != NULL);
	if (!ctx)
		return;
	dns_answer = 1;         /* on the DNS allowlist: never listed */
	CHECK_EQ_INT(list_do_hit(ctx, "bl.example", "198.51.100.1", &h, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.outcome, LIST_ALLOWED);
	CHECK_EQ_STR(dns_asked, "198.51.100.1@list.dnswl.example");
	CHECK_EQ_INT(list_do_add(ctx, "bl.example", "198.51.100.1", &a, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.outcome, LIST_ALLOWED);
	dns_answer = -1;        /* cannot tell: a hit does not list, an add does */
	CHECK_EQ_INT(list_do_hit(ctx, "bl.example", "198.51.100.2", &h, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.outcome, LIST_ALLOWED);
	CHECK(strstr(r.note, "could not be asked") != NULL);
	CHECK_EQ_INT(list_do_add(ctx, "bl.example", "198.51.100.2", &a, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.outcome, LIST_LISTED);
	dns_answer = 0;
	CHECK_EQ_INT(list_do_hit(ctx, "bl.example", "198.51.100.3", &h, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.outcome, LIST_LISTED);
	CHECK_EQ_INT(r.l.expires, 1800000000 + 86400);
	/* the network allowlist is asked first, and holds for a network too */
	dns_asked[0] = '\0';
	CHECK_EQ_INT(list_do_add(ctx, "bl.example", "192.0.2.0/24", &a, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.outcome, LIST_ALLOWED);
	CHECK_EQ_STR(dns_asked, "");
	/* a bad key is an error naming it */
	CHECK_EQ_INT(list_do_add(ctx, "bl.example", "192.0.2.1/8", &a, &r, err, sizeof(err)), -1);
	CHECK(strstr(err, "192.0.2.1/8") != NULL);
	rules_done(ctx, c, db);
}

UNIT_MAIN()
