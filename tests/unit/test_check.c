/*
 * test_check.c - unit tests for the catalogue (parser, overrides, code
 * classification, text matching), DNSBL query names, response parsing
 * and JSON strings.
 */
#include "unit.h"
#include "dnsbl/catalog.h"
#include "base/dname.h"
#include "dnsbl/dnsbl.h"
#include "base/json.h"
#include "dnsbl/resolve.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct catalog *parse(const char *text, char *err, size_t errlen, int *rc)
{
	struct catalog *cat = catalog_new();
	*rc = catalog_parse(cat, text, strlen(text), "t.conf", err, errlen);
	return cat;
}

UNIT_TEST(catalog_parses_entries_and_codes)
{
	char err[256] = "";
	int rc;
	struct catalog *cat = parse(
		"# comment\n[zen]\nname = Z\nzone = ZEN.Example.\nkind = ip4, ip6\n"
		"type = block\nstatus = active\nsets = default, x\ntxt = yes\n"
		"delist = https://d/  # trailing comment\n"
		"code = 127.0.0.0/8 listed generic\n"
		"code = 127.0.0.2 listed SBL\n"
		"code = 127.0.0.4-127.0.0.7 listed XBL\n"
		"code = 127.255.255.254 error public resolver\n", err, sizeof(err), &rc);
	CHECK_EQ_INT(rc, 0);
	const struct list *l = catalog_by_zone(cat, "zen.example");
	CHECK(l != NULL);
	if (!l)
		return;
	CHECK(l == catalog_by_zone(cat, "ZEN.EXAMPLE."));
	CHECK(l == catalog_by_id(cat, "zen"));
	CHECK_EQ_STR(l->zone, "zen.example");
	CHECK_EQ_INT(l->kinds, LK_IP4 | LK_IP6);
	CHECK_EQ_STR(l->delist, "https://d/");
	CHECK(list_in_set(l, "default") && list_in_set(l, "x") && !list_in_set(l, "y"));
	const char *m;
	CHECK_EQ_INT(list_classify(l, 0x7f000002, &m), CC_LISTED);
	CHECK_EQ_STR(m, "SBL");			/* narrowest range wins */
	CHECK_EQ_INT(list_classify(l, 0x7f000005, &m), CC_LISTED);
	CHECK_EQ_STR(m, "XBL");
	CHECK_EQ_INT(list_classify(l, 0x7ffffffe, &m), CC_ERROR);
	CHECK_EQ_INT(list_classify(l, 0x7f000063, &m), CC_LISTED);
	CHECK_EQ_STR(m, "generic");
	CHECK_EQ_INT(list_classify(l, 0x0a000001, &m), CC_ERROR);	/* 10.0.0.1 */
	catalog_free(cat);
}

UNIT_TEST(catalog_defaults_and_overrides)
{
	char err[256] = "";
	int rc;
	struct catalog *cat = parse("[a]\nname = A\nzone = a.test\nkind = ip4\n"
				    "type = allow\n", err, sizeof(err), &rc);
	CHECK_EQ_INT(rc, 0);
	const struct list *a = catalog_by_id(cat, "a");
	const char *m;
	CHECK_EQ_INT(list_classify(a, 0x7f000002, &m), CC_ALLOWED);	/* RFC 5782 */
	CHECK_EQ_INT(list_classify(a, 0x7f000001, &m), CC_ERROR);
	CHECK_EQ_INT(list_classify(a, 0x7fffff05, &m), CC_ERROR);
	/* a second file overrides fields; its codes replace the old set */
	const char *over = "[a]\ncode = 127.0.0.9 listed nine\n";
	CHECK_EQ_INT(catalog_parse(cat, over, strlen(over), "u.conf", err, sizeof(err)), 0);
	CHECK_EQ_INT(a->ncodes, 1);
	CHECK_EQ_STR(a->name, "A");
	CHECK_EQ_INT(list_classify(a, 0x7f000009, &m), CC_LISTED);
	/* unknown zones get RFC 5782 defaults; known ones are returned */
	const struct list *u = catalog_add_zone(cat, "New.Test.", 0);
	CHECK_EQ_STR(u->zone, "new.test");
	CHECK(u->user && u->kinds == LK_IP4);
	CHECK_EQ_INT(list_classify(u, 0x7f000001, &m), CC_ERROR);
	CHECK_EQ_INT(list_classify(u, 0x7f00000a, &m), CC_LISTED);
	CHECK(catalog_add_zone(cat, "a.test", 0) == a);
	catalog_free(cat);
}

UNIT_TEST(catalog_errors_name_file_and_line)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "name = x\n", "t.conf:1: key before" },
		{ "[a]\nname = A\nkind = ip4\n", "t.conf:1: [a]: a list with a kind" },
		{ "[a]\nname=A\nzone=a.t\nkind=ip4\ncode = 127.0.0.2\n", "t.conf:5: code" },
		{ "[a]\nname=A\nzone=a.t\nkind=ip4\ncode = 127.0.0.9-127.0.0.2 listed x\n", "t.conf:5:" },
		{ "[a]\nname=A\nzone=a.t\nkind=ipx\n", "t.conf:4: kind" },
		{ "[a]\nbogus = 1\n", "t.conf:2: bogus: unknown key" },
		{ "[A b]\n", "t.conf:1: id" },
		{ "[a]\nname=A\nzone=z.t\nkind=ip4\n[b]\nname=B\nzone=Z.T\nkind=ip4\n", "t.conf:5: [b]: zone already" },
		{ "[a]\nno equals sign\n", "t.conf:2: expected key = value" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		int rc;
		struct catalog *cat = parse(bad[i].text, err, sizeof(err), &rc);
		CHECK_EQ_INT(rc, -1);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)))
			printf("  case %zu: got '%s'\n", i, err);
		CHECK(!strncmp(err, bad[i].want, strlen(bad[i].want)));
		catalog_free(cat);
	}
}

UNIT_TEST(builtin_catalogue_loads)
{
	char err[256] = "";
	struct catalog *cat = catalog_new();
	CHECK_EQ_INT(catalog_load_builtin(cat, err, sizeof(err)), 0);
	size_t zones = 0;
	for (size_t i = 0; i < cat->n; i++)
		zones += cat->lists[i]->zone != NULL;
	CHECK(zones >= 40);
	const struct list *zen = catalog_by_zone(cat, "zen.spamhaus.org");
	CHECK(zen != NULL);
	const char *m;
	if (zen) {
		CHECK_EQ_INT(list_classify(zen, 0x7ffffffe, &m), CC_ERROR);
		CHECK_EQ_INT(list_classify(zen, 0x7ffffffc, &m), CC_ERROR);
		CHECK_EQ_INT(list_classify(zen, 0x7fffffff, &m), CC_ERROR);
		CHECK_EQ_INT(list_classify(zen, 0x7f000002, &m), CC_LISTED);
	}
	const struct list *dbl = catalog_by_zone(cat, "dbl.spamhaus.org");
	if (dbl)
		CHECK_EQ_INT(list_classify(dbl, 0x7f0001ff, &m), CC_ERROR);
	const struct list *uribl = catalog_by_zone(cat, "multi.uribl.com");
	if (uribl)
		CHECK_EQ_INT(list_classify(uribl, 0x7f000001, &m), CC_ERROR);
	const struct list *dnswl = catalog_by_zone(cat, "list.dnswl.org");
	if (dnswl) {
		CHECK_EQ_INT(list_classify(dnswl, 0x7f0000ff, &m), CC_ERROR);
		CHECK_EQ_INT(list_classify(dnswl, 0x7f000502, &m), CC_ALLOWED);
	}
	/* rejection texts name their list; a named zone beats a word */
	const char *t1 = "554 5.7.1 Service unavailable; Client host [192.0.2.1] "
			 "blocked using sbl.spamhaus.org; https://www.spamhaus.org/";
	const struct list *l = catalog_match_text(cat, t1, strlen(t1));
	CHECK(l && l->zone && !strcmp(l->zone, "sbl.spamhaus.org"));
	const char *t2 = "450 4.7.1 ERS-QIL-2 [192.0.2.1] temporarily deferred";
	l = catalog_match_text(cat, t2, strlen(t2));
	CHECK(l && !strcmp(l->id, "trendmicro-ers"));
	const char *t3 = "550 5.1.1 user unknown";
	CHECK(catalog_match_text(cat, t3, strlen(t3)) == NULL);
	catalog_free(cat);
}

/* The definition catalog_match_text() keeps, written the plain way: each
 * zone, then each word, searched in the lower-cased text as a whole word. */
static int ref_has_word(const char *lower, size_t len, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; wl && i + wl <= len; i++) {
		if (memcmp(lower + i, w, wl))
			continue;
		if ((i == 0 || !isalnum((unsigned char)lower[i - 1])) &&
		    (i + wl == len || !isalnum((unsigned char)lower[i + wl])))
			return 1;
	}
	return 0;
}

static const struct list *ref_match(const struct catalog *cat, const char *text, size_t len)
{
	char *lower = malloc(len + 1);
	const struct list *best = NULL;
	size_t best_len = 0;
	int zone_found;

	for (size_t i = 0; i < len; i++)
		lower[i] = (char)tolower((unsigned char)text[i]);
	for (size_t i = 0; i < cat->n; i++) {
		const struct list *l = cat->lists[i];
		size_t zl = l->zone ? strlen(l->zone) : 0;

		if (zl > best_len && ref_has_word(lower, len, l->zone)) {
			best = l;
			best_len = zl;
		}
	}
	zone_found = best != NULL;
	for (size_t i = 0; !zone_found && i < cat->n; i++)
		for (size_t j = 0; j < cat->lists[i]->nmatch; j++) {
			const char *w = cat->lists[i]->match[j];

			if (strlen(w) > best_len && ref_has_word(lower, len, w)) {
				best = cat->lists[i];
				best_len = strlen(w);
			}
		}
	free(lower);
	return best;
}


UNIT_TEST(catalog_match_agrees_with_its_definition)
{
	/* random texts of the built-in catalogue's zones and words, in any
	 * case, glued by blanks, dots, letters and digits (word edges), up
	 * to 6 KB (past the matcher's stack buffer) */
	static const char *const glue[] = { " ", ".", "x", "7", "-", "@", "", "  ", "(" };
	struct catalog *cat = catalog_new();
	char err[256];
	unsigned seed = 12345;
	const char *words[1024];
	size_t nw = 0, agree = 0, named = 0;

	CHECK_EQ_INT(catalog_load_builtin(cat, err, sizeof(err)), 0);
	for (size_t i = 0; i < cat->n && nw < 1000; i++) {
		if (cat->lists[i]->zone)
			words[nw++] = cat->lists[i]->zone;
		for (size_t j = 0; j < cat->lists[i]->nmatch && nw < 1000; j++)
			words[nw++] = cat->lists[i]->match[j];
	}
	CHECK(nw > 100);
	for (int round = 0; round < 3000; round++) {
		char text[6200];
		size_t n = 0, parts = 1 + (size_t)(round % 40) * (round % 7 == 0 ? 8 : 1);

		for (size_t k = 0; k < parts && n < 6000; k++) {
			const char *w, *g;

			seed = seed * 1103515245u + 12345u;
			w = words[((seed >> 4) & 0xffff) % nw];
			g = glue[(seed >> 8) % (sizeof(glue) / sizeof(glue[0]))];
			for (const char *c = w; *c && n < 6000; c++)
				text[n++] = (seed >> 20) & 1 ? (char)toupper((unsigned char)*c) : *c;
			/* sometimes cut a word short or glue without an edge */
			if ((seed >> 24) % 5 == 0 && n > 2)
				n -= 2;
			for (const char *c = g; *c && n < 6000; c++)
				text[n++] = *c;
			seed = seed * 1103515245u + 12345u;
		}
		const struct list *want = ref_match(cat, text, n);

		const struct list *got = catalog_match_text(cat, text, n);

		if (got != want && getenv("DEBUG_MATCH"))
			fprintf(stderr, "text [%.*s]\n got %s want %s\n", (int)n, text,
				got ? got->id : "-", want ? want->id : "-");
		agree += got == want;
		named += want != NULL;
	}
	CHECK_EQ_INT(agree, 3000);
	CHECK(named > 1000);
	/* a catalogue that changes drops its index: the new word is found */
	const char *t = "rejected by the foobarlist filter";
	CHECK(catalog_match_text(cat, t, strlen(t)) == NULL);
	const char *extra = "[foo]\nname=Foo\nkind=none\nmatch=foobarlist\n";
	int rc = catalog_parse(cat, extra, strlen(extra), "x", err, sizeof(err));

	if (rc)
		fprintf(stderr, "%s\n", err);
	CHECK_EQ_INT(rc, 0);
	const struct list *l = catalog_match_text(cat, t, strlen(t));
	CHECK(l && !strcmp(l->id, "foo"));
	catalog_free(cat);
}

UNIT_TEST(catalog_selection)
{
	char err[256] = "", bad[64] = "";
	int rc;
	struct catalog *cat = parse(
		"[a]\nname=A\nzone=a.t\nkind=ip4\nsets=default,x\n"
		"[d]\nname=D\nzone=d.t\nkind=domain\nsets=default\n"
		"[r]\nname=R\nzone=r.t\nkind=ip4\nstatus=retired\nsets=default\n",
		err, sizeof(err), &rc);
	const struct list *sel[8];
	size_t n = 0;
	CHECK_EQ_INT(catalog_select(cat, "default", LK_IP4 | LK_DOMAIN, sel, &n, 8,
				    bad, sizeof(bad)), 0);
	CHECK_EQ_INT(n, 2);			/* retired lists only by name */
	CHECK_EQ_INT(catalog_select(cat, "x,a.t r", LK_IP4, sel, &n, 8, bad,
				    sizeof(bad)), 0);
	CHECK_EQ_INT(n, 3);			/* a again is not added twice */
	n = 0;
	CHECK_EQ_INT(catalog_select(cat, "d,nosuch", LK_IP4, sel, &n, 8, bad,
				    sizeof(bad)), -1);
	CHECK_EQ_STR(bad, "d");			/* a domain list, not of this kind */
	CHECK_EQ_INT(n, 0);
	catalog_free(cat);
}

UNIT_TEST(dnsbl_query_names)
{
	char out[300];
	unsigned kind;
	CHECK_EQ_INT(dnsbl_qname("192.0.2.1", "zen.test", out, sizeof(out), &kind), 0);
	CHECK_EQ_STR(out, "1.2.0.192.zen.test");
	CHECK_EQ_INT(kind, LK_IP4);
	CHECK_EQ_INT(dnsbl_qname("2001:db8::1", "v6.test", out, sizeof(out), &kind), 0);
	CHECK_EQ_STR(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.v6.test");
	CHECK_EQ_INT(kind, LK_IP6);
	CHECK_EQ_INT(dnsbl_qname("Spam.Example.", "dbl.test", out, sizeof(out), &kind), 0);
	CHECK_EQ_STR(out, "Spam.Example.dbl.test");
	CHECK_EQ_INT(kind, LK_DOMAIN);
	CHECK_EQ_INT(dnsbl_qname("bad name", "z", out, sizeof(out), &kind), -1);
	CHECK_EQ_INT(dnsbl_qname("a..b", "z", out, sizeof(out), &kind), -1);
	CHECK_EQ_INT(dnsbl_qname("1.2.3.4", "z", out, 8, &kind), -1);	/* too small */
}

/* Build a response: question (name, type), answers as given. */
static size_t response(uint8_t *p, uint16_t id, uint16_t flags, const char *qname,
		       uint16_t qtype, const uint8_t *rrs, size_t rrlen, uint16_t an)
{
	uint8_t wire[DNAME_MAXLEN];
	int n = dname_from_text(qname, wire);
	p[0] = id >> 8; p[1] = id & 255; p[2] = flags >> 8; p[3] = flags & 255;
	p[4] = 0; p[5] = 1; p[6] = 0; p[7] = (uint8_t)an;
	memset(p + 8, 0, 4);
	memcpy(p + 12, wire, (size_t)n);
	size_t len = 12 + (size_t)n;
	p[len++] = 0; p[len++] = (uint8_t)qtype; p[len++] = 0; p[len++] = 1;
	memcpy(p + len, rrs, rrlen);
	return len + rrlen;
}

UNIT_TEST(response_parsing)
{
	static struct rs_answer ans;
	uint8_t pkt[512], q[DNAME_MAXLEN];
	int qlen = dname_from_text_lc("2.0.0.127.zen.test", q);
	/* two A records at the question name (pointer 0xc00c), TTL 300/60 */
	static const uint8_t two_a[] = {
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 127, 0, 0, 2,
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 4 };
	size_t n = response(pkt, 7, 0x8580, "2.0.0.127.ZEN.test", 1, two_a, sizeof(two_a), 2);
	CHECK_EQ_INT(rs_parse(pkt, n, q, (size_t)qlen, 1, 7, &ans), 1);
	CHECK_EQ_INT(ans.n, 2);
	CHECK_EQ_INT(ans.u.a[0], 0x7f000002);
	CHECK_EQ_INT(ans.u.a[1], 0x7f000004);
	CHECK_EQ_INT(ans.ttl, 60);
	CHECK_EQ_INT(rs_parse(pkt, n, q, (size_t)qlen, 1, 8, &ans), 0);	/* wrong ID */
	CHECK_EQ_INT(rs_parse(pkt, n, q, (size_t)qlen, 16, 7, &ans), 0);	/* wrong type */
	CHECK_EQ_INT(rs_parse(pkt, n - 1, q, (size_t)qlen, 1, 7, &ans), 1);	/* cut RR: dropped */
	CHECK_EQ_INT(ans.n, 1);
	n = response(pkt, 7, 0x0580, "2.0.0.127.zen.test", 1, two_a, sizeof(two_a), 2);
	CHECK_EQ_INT(rs_parse(pkt, n, q, (size_t)qlen, 1, 7, &ans), 0);	/* not a response */
	n = response(pkt, 7, 0x8780, "2.0.0.127.zen.test", 1, two_a, sizeof(two_a), 2);
	CHECK_EQ_INT(rs_parse(pkt, n, q, (size_t)qlen, 1, 7, &ans), 2);	/* TC */
	/* TXT with two strings and a control byte */
	static const uint8_t txt[] = {
		0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 10, 0, 9, 3, 'a', 'b', 'c', 4, 'd', 1, 'e', 'f' };
	n = response(pkt, 1, 0x8180, "2.0.0.127.zen.test", 16, txt, sizeof(txt), 1);
	CHECK_EQ_INT(rs_parse(pkt, n, q, (size_t)qlen, 16, 1, &ans), 1);
	CHECK_EQ_INT(ans.n, 1);
	CHECK_EQ_STR(ans.txt[0], "abcd?ef");
	/* a CNAME is followed; records of other owners are ignored */
	static const uint8_t cname[] = {
		0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 10, 0, 4, 1, 'x', 0xc0, 0x16,
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 0, 0, 1,
		0xc0, 0x30, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 127, 0, 0, 3 };
	n = response(pkt, 1, 0x8180, "2.0.0.127.zen.test", 1, cname, sizeof(cname), 3);
	CHECK_EQ_INT(rs_parse(pkt, n, q, (size_t)qlen, 1, 1, &ans), 1);
	CHECK_EQ_INT(ans.n, 1);
	CHECK_EQ_INT(ans.u.a[0], 0x7f000003);
}

UNIT_TEST(json_strings)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_str(f, "a\"b\\c\n\x01 \xc3\xa9 \xff");
	json_str(f, NULL);
	fclose(f);
	/* a byte that is not UTF-8 is U+FFFD (base/json.h), no longer \u00ff */
	CHECK_EQ_STR(buf, "\"a\\\"b\\\\c\\n\\u0001 \xc3\xa9 \\ufffd\"null");
	free(buf);
}

UNIT_TEST(catalog_reports_every_error)
{
	char err[4096] = "";
	int rc;
	/* three bad lines and a bad entry; the good entry between them loads,
	 * the bad new ones are dropped */
	struct catalog *cat = parse(
		"[a]\nname = A\nzone = a.t\nkind = ipx\n"
		"[ok]\nname = OK\nzone = ok.t\nkind = ip4\n"
		"[c]\nzone = c.t\nkind = ip4\n"
		"[B b]\nname = skipped\nbogus = skipped too\n"
		"[d]\nname = D\nzone = d.t\nkind = ip4\ntxt = maybe\n", err, sizeof(err), &rc);
	CHECK_EQ_INT(rc, -1);
	CHECK_EQ_STR(err, "t.conf:4: kind: kind: use ip4, ip6, domain (comma separated) or none\n"
		     "t.conf:9: [c]: no name\n"
		     "t.conf:12: id 'B b': use lowercase letters, digits and '-'\n"
		     "t.conf:19: txt: txt: use yes or no");
	CHECK(catalog_by_id(cat, "ok") != NULL);
	CHECK(catalog_by_id(cat, "a") == NULL && catalog_by_id(cat, "c") == NULL);
	CHECK(catalog_by_id(cat, "d") == NULL);
	catalog_free(cat);

	/* bounded: the first CATALOG_MAX_ERRORS, then how many more */
	char text[4096] = "[x]\nname = X\n";
	for (int i = 0; i < CATALOG_MAX_ERRORS + 3; i++)
		strcat(text, "bogus = 1\n");
	cat = parse(text, err, sizeof(err), &rc);
	CHECK_EQ_INT(rc, -1);
	size_t lines = 1;
	for (const char *c = err; *c; c++)
		lines += *c == '\n';
	CHECK_EQ_INT(lines, CATALOG_MAX_ERRORS + 1);
	CHECK(strstr(err, "t.conf:22: bogus: unknown key\nt.conf: 3 more errors not shown") != NULL);
	catalog_free(cat);

	/* a short buffer is cut, never overrun */
	char small[40];
	cat = parse(text, small, sizeof(small), &rc);
	CHECK_EQ_INT(rc, -1);
	CHECK(strlen(small) < sizeof(small) && !strncmp(small, "t.conf:3: bogus", 15));
	catalog_free(cat);
}

UNIT_TEST(catalog_testpoint_lookup_advice)
{
	char err[512] = "", url[128];
	int rc;
	struct catalog *cat = parse(
		"[a]\nname = A\nzone = a.t\nkind = ip4\ntestpoint = no\n"
		"lookup = https://a.t/check?ip={}&x=1\ndelist = https://a.t/\n"
		"advice = wait a day\n"
		"[b]\nname = B\nzone = b.t\nkind = ip4\ndelist = https://b.t/\n"
		"[c]\nname = C\nzone = c.t\nkind = ip4\n", err, sizeof(err), &rc);
	CHECK_EQ_INT(rc, 0);
	const struct list *a = catalog_by_id(cat, "a"), *b = catalog_by_id(cat, "b"),
			  *c = catalog_by_id(cat, "c");
	CHECK(a && b && c);
	if (a && b && c) {
		CHECK(a->no_testpoint && !b->no_testpoint);
		CHECK_EQ_STR(a->advice, "wait a day");
		CHECK_EQ_STR(list_delist_url(a, "192.0.2.1", url, sizeof(url)),
			     "https://a.t/check?ip=192.0.2.1&x=1");
		CHECK_EQ_STR(list_delist_url(b, "192.0.2.1", url, sizeof(url)), "https://b.t/");
		CHECK(list_delist_url(c, "192.0.2.1", url, sizeof(url)) == NULL);
		/* too long for buf: the generic page */
		CHECK_EQ_STR(list_delist_url(a, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff-and-more-"
					     "text-than-fits-in-the-buffer-given", url, 60),
			     "https://a.t/");
	}
	catalog_free(cat);
	static const char *bad[] = { "testpoint = maybe", "lookup = https://x/", "lookup = {}{}",
				     "lookup = a {}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "[a]\nname = A\nzone = a.t\nkind = ip4\n%s\n", bad[i]);
		cat = parse(text, err, sizeof(err), &rc);
		CHECK_EQ_INT(rc, -1);
		CHECK(!strncmp(err, "t.conf:5: ", 10));
		catalog_free(cat);
	}
}

/* Issue 10.3: the engine freed while its lookups are still in the
 * resolver (the order of free_held() in diagnose, and of check before the
 * fix); under ASan a callback into the freed engine fails here. */
UNIT_TEST(engine_freed_before_resolver)
{
	char err[256] = "";
	struct catalog *cat = catalog_new();
	CHECK_EQ_INT(catalog_load_builtin(cat, err, sizeof(err)), 0);
	const struct list *sel[4];
	size_t n = 0;
	catalog_select(cat, "spamcop,psbl", LK_IP4, sel, &n, 4, err, sizeof(err));
	CHECK_EQ_INT(n, 2);
	/* the discard port: nothing answers, everything stays pending */
	struct rs_opts ro = { .mode = RS_FORWARD, .servers = "127.0.0.1:9" };
	struct resolver *rs = rs_new(&ro, err, sizeof(err));
	CHECK(rs != NULL);
	if (rs) {
		struct dnsbl_opts o = { 0 };
		struct dnsbl_engine *eng = dnsbl_new(rs, sel, n, &o, err, sizeof(err));
		CHECK(eng != NULL);
		dnsbl_add(eng, "192.0.2.1", false);
		rs_process(rs);
		CHECK(rs_pending(rs) > 0);
		dnsbl_free(eng);
		CHECK_EQ_INT(rs_pending(rs), 0);
		rs_free(rs);
	}
	catalog_free(cat);
}

/* Notes are for the lists a run asked: an address target is never asked
 * on a domain list, so that list has no note to give. */
UNIT_TEST(engine_knows_which_lists_it_asked)
{
	char err[256] = "";
	struct catalog *cat = catalog_new();
	CHECK_EQ_INT(catalog_load_builtin(cat, err, sizeof(err)), 0);
	const struct list *sel[4];
	size_t n = 0;
	catalog_select(cat, "spamcop,dbl.spamhaus.org", LK_IP4 | LK_DOMAIN, sel, &n, 4, err,
		       sizeof(err));
	CHECK_EQ_INT(n, 2);
	struct rs_opts ro = { .mode = RS_FORWARD, .servers = "127.0.0.1:9" };
	struct resolver *rs = rs_new(&ro, err, sizeof(err));
	CHECK(rs != NULL);
	if (rs && n == 2) {
		struct dnsbl_opts o = { 0 };
		struct dnsbl_engine *eng = dnsbl_new(rs, sel, n, &o, err, sizeof(err));
		CHECK(eng != NULL);
		const struct list *ip = sel[0]->kinds & LK_IP4 ? sel[0] : sel[1];
		const struct list *dom = ip == sel[0] ? sel[1] : sel[0];
		CHECK(!dnsbl_list_asked(eng, ip) && !dnsbl_list_asked(eng, dom));
		dnsbl_add(eng, "192.0.2.1", false);
		CHECK(dnsbl_list_asked(eng, ip));
		CHECK(!dnsbl_list_asked(eng, dom));
		dnsbl_add(eng, "example.com", false);
		CHECK(dnsbl_list_asked(eng, dom));
		/* no probe answered yet: no reason to tell */
		CHECK_EQ_STR(dnsbl_list_testpoint_got(eng, ip), "");
		dnsbl_free(eng);
		rs_free(rs);
	}
	catalog_free(cat);
}

/* A name of digits and dots is an address or nothing (RFC 1123 2.1): never
 * a host to look up; a bulk line's place leads its error. */
UNIT_TEST(all_numeric_target_is_a_bad_address)
{
	char err[256] = "";
	struct catalog *cat = catalog_new();
	CHECK_EQ_INT(catalog_load_builtin(cat, err, sizeof(err)), 0);
	const struct list *sel[4];
	size_t n = 0;
	catalog_select(cat, "spamcop", LK_IP4, sel, &n, 4, err, sizeof(err));
	struct rs_opts ro = { .mode = RS_FORWARD, .servers = "127.0.0.1:9" };
	struct resolver *rs = rs_new(&ro, err, sizeof(err));
	CHECK(rs != NULL && n == 1);
	if (rs && n == 1) {
		struct dnsbl_opts o = { .no_probe = true };
		struct dnsbl_engine *eng = dnsbl_new(rs, sel, n, &o, err, sizeof(err));
		struct dnsbl_target *t = dnsbl_add(eng, "999.1.1.1", false);
		CHECK_EQ_STR(t->error, "'999.1.1.1' is not a valid IPv4 address");
		CHECK_EQ_INT(t->nresults, 0);
		CHECK_EQ_INT(rs_pending(rs), 0);		/* nothing asked */
		t = dnsbl_add_at(eng, "1.2.3", false, "t.txt:7");
		CHECK_EQ_STR(t->error, "t.txt:7: '1.2.3' is not a valid IPv4 address");
		t = dnsbl_add(eng, "1.2.3.4", true);
		CHECK_EQ_STR(t->error, "'1.2.3.4' is not a mail domain");
		t = dnsbl_add(eng, "host1.example", false);	/* digits, but a name */
		CHECK(t->error == NULL);
		dnsbl_free(eng);
		rs_free(rs);
	}
	catalog_free(cat);
}

UNIT_MAIN()
