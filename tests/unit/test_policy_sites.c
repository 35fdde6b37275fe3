/*
 * test_policy_sites.c - postscreen dnsbl_sites syntax and the scoring of
 * injected answers.
 */
#include "policy/score.h"
#include "policy/sites.h"
#include "unit.h"

#include <stdarg.h>

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static struct sites *parse_ok(const char *text)
{
	char err[256] = "";
	struct sites *s = sites_parse(text, err, sizeof(err));

	if (!s)
		printf("  unexpected error for '%s': %s\n", text, err);
	return s;
}

UNIT_TEST(issue_example)
{
	struct sites *s = parse_ok("zen.spamhaus.org=127.0.0.[2..11]*3, bl.spamcop.net*2, "
				   "list.dnswl.org=127.0.[0..255].[2..3]*-5");

	if (!s)
		return;
	CHECK_EQ_INT(s->n, 3);
	CHECK_EQ_INT(s->nzones, 3);
	CHECK_EQ_STR(s->site[0].zone, "zen.spamhaus.org");
	CHECK_EQ_INT(s->site[0].weight, 3);
	CHECK(s->site[0].has_filter);
	CHECK(site_match(&s->site[0], A(127, 0, 0, 2)));
	CHECK(site_match(&s->site[0], A(127, 0, 0, 11)));
	CHECK(!site_match(&s->site[0], A(127, 0, 0, 1)));
	CHECK(!site_match(&s->site[0], A(127, 0, 0, 12)));
	CHECK(!site_match(&s->site[0], A(127, 0, 1, 2)));
	CHECK_EQ_INT(s->site[1].weight, 2);
	CHECK(!s->site[1].has_filter);
	CHECK(site_match(&s->site[1], A(127, 9, 9, 9)));
	CHECK_EQ_INT(s->site[2].weight, -5);
	CHECK(site_match(&s->site[2], A(127, 0, 200, 3)));
	CHECK(!site_match(&s->site[2], A(127, 0, 200, 4)));
	CHECK(!site_match(&s->site[2], A(127, 0, 15, 1)));
	sites_free(s);
}

UNIT_TEST(lists_in_brackets_and_whitespace)
{
	struct sites *s = parse_ok("  b.example=127.0.0.[2;4;6..8]\n\tc.EXAMPLE.*+4 ,,d.example ");

	if (!s)
		return;
	CHECK_EQ_INT(s->n, 3);
	CHECK(site_match(&s->site[0], A(127, 0, 0, 2)));
	CHECK(!site_match(&s->site[0], A(127, 0, 0, 3)));
	CHECK(site_match(&s->site[0], A(127, 0, 0, 4)));
	CHECK(site_match(&s->site[0], A(127, 0, 0, 7)));
	CHECK(!site_match(&s->site[0], A(127, 0, 0, 9)));
	CHECK_EQ_STR(s->site[1].zone, "c.example");	/* lowercase, no final dot */
	CHECK_EQ_INT(s->site[1].weight, 4);
	CHECK_EQ_INT(s->site[2].weight, 1);
	sites_free(s);
}

UNIT_TEST(same_zone_twice_is_queried_once)
{
	struct sites *s = parse_ok("zen.spamhaus.org=127.0.0.[10..11]*1, "
				   "zen.spamhaus.org=127.0.0.[2..3]*4, other.example");

	if (!s)
		return;
	CHECK_EQ_INT(s->n, 3);
	CHECK_EQ_INT(s->nzones, 2);
	CHECK_EQ_INT(s->site[0].zone_idx, 0);
	CHECK_EQ_INT(s->site[1].zone_idx, 0);
	CHECK_EQ_INT(s->site[2].zone_idx, 1);
	sites_free(s);
}

UNIT_TEST(empty)
{
	struct sites *s = parse_ok("");

	CHECK(s && s->n == 0 && s->nzones == 0);
	sites_free(s);
}

UNIT_TEST(errors)
{
	const char *bad[] = {
		"zone=127.0.0",			/* three octets */
		"zone=127.0.0.256",		/* octet too large */
		"zone=127.0.0.[3..2]",		/* backwards range */
		"zone=127.0.0.[2..",		/* unterminated */
		"zone=127.0.0.[]",		/* empty pattern */
		"zone*x",			/* weight not a number */
		"zone*",			/* no weight */
		"zone*99999999999",		/* weight out of range */
		"zone*3=127.0.0.2",		/* filter after weight */
		"=127.0.0.2",			/* no zone */
		"bad..zone",			/* empty label */
		"zo ne/x",			/* '/' in a zone */
		"zone=127.0.0.2junk",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		struct sites *s = sites_parse(bad[i], err, sizeof(err));

		if (s)
			printf("  '%s' was accepted\n", bad[i]);
		CHECK(s == NULL);
		CHECK(err[0] != '\0');
		sites_free(s);
	}
}

UNIT_TEST(error_names_the_site)
{
	char err[256] = "";

	CHECK(sites_parse("ok.example, zone=1.2.3", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "zone=1.2.3") != NULL);
	CHECK(strstr(err, "4 octets") != NULL);
}

/* -- scoring --------------------------------------------------------- */

static void answer(struct score_zone *z, int n, ...)
{
	va_list ap;

	memset(z, 0, sizeof(*z));
	z->state = SZ_DONE;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		z->codes[z->ncodes++] = va_arg(ap, uint32_t);
	va_end(ap);
}

UNIT_TEST(score_weights_and_allowlist)
{
	struct sites *s = parse_ok("zen.spamhaus.org=127.0.0.[2..11]*3, bl.spamcop.net*2, "
				   "list.dnswl.org=127.0.[0..255].[2..3]*-5");
	struct score_zone z[3];
	struct score_result r;
	bool listed;
	char detail[128];

	if (!s)
		return;
	/* listed on zen only */
	answer(&z[0], 1, A(127, 0, 0, 4));
	answer(&z[1], 0);
	answer(&z[2], 0);
	score_eval(s, z, &r);
	CHECK_EQ_INT(r.score, 3);
	CHECK(r.complete);
	CHECK_EQ_INT(r.top, 0);
	CHECK(score_decided(&r, 3, &listed) && listed);
	CHECK(score_decided(&r, 4, &listed) && !listed);
	score_detail(s, z, detail, sizeof(detail));
	CHECK_EQ_STR(detail, "zen.spamhaus.org*3");
	/* on zen and spamcop, but allowlisted by dnswl */
	answer(&z[1], 1, A(127, 0, 0, 2));
	answer(&z[2], 1, A(127, 0, 9, 2));
	score_eval(s, z, &r);
	CHECK_EQ_INT(r.score, 0);
	CHECK(score_decided(&r, 3, &listed) && !listed);
	score_detail(s, z, detail, sizeof(detail));
	CHECK_EQ_STR(detail, "zen.spamhaus.org*3 bl.spamcop.net*2 list.dnswl.org*-5");
	/* a zen code outside the filter does not count */
	answer(&z[0], 1, A(127, 0, 0, 20));
	answer(&z[2], 0);
	score_eval(s, z, &r);
	CHECK_EQ_INT(r.score, 2);
	CHECK_EQ_INT(r.top, 1);
	sites_free(s);
}

UNIT_TEST(score_weight_counted_once_per_site)
{
	/* two codes matching the same site add its weight once; two sites on
	 * one zone add both (postscreen's rules) */
	struct sites *s = parse_ok("zen.example=127.0.0.[2..3]*2, zen.example=127.0.0.[10..11]*5");
	struct score_zone z[1];
	struct score_result r;

	if (!s)
		return;
	answer(&z[0], 2, A(127, 0, 0, 2), A(127, 0, 0, 3));
	score_eval(s, z, &r);
	CHECK_EQ_INT(r.score, 2);
	answer(&z[0], 2, A(127, 0, 0, 2), A(127, 0, 0, 10));
	score_eval(s, z, &r);
	CHECK_EQ_INT(r.score, 7);
	CHECK_EQ_INT(r.top, 1);
	sites_free(s);
}

UNIT_TEST(score_decides_before_every_list_answered)
{
	struct sites *s = parse_ok("a.example*3, b.example*2, wl.example*-5");
	struct score_zone z[3];
	struct score_result r;
	bool listed;

	if (!s)
		return;
	memset(z, 0, sizeof(z));	/* all pending */
	score_eval(s, z, &r);
	CHECK(!r.complete);
	CHECK_EQ_INT(r.low, -5);
	CHECK_EQ_INT(r.high, 5);
	CHECK(!score_decided(&r, 3, &listed));
	/* a lists it, but the allowlist might still answer: not decided */
	answer(&z[0], 1, A(127, 0, 0, 2));
	score_eval(s, z, &r);
	CHECK(!score_decided(&r, 3, &listed));
	/* the allowlist says no: listed, whatever b says */
	answer(&z[2], 0);
	score_eval(s, z, &r);
	CHECK(score_decided(&r, 3, &listed) && listed);
	/* nothing on a, allowlist no: b alone (2) cannot reach 3 */
	answer(&z[0], 0);
	score_eval(s, z, &r);
	CHECK(score_decided(&r, 3, &listed) && !listed);
	sites_free(s);
}

UNIT_TEST(detail_is_cut_cleanly)
{
	struct sites *s = parse_ok("aaaaaaaaaa.example*3, bbbbbbbbbb.example*2");
	struct score_zone z[2];
	char small[24];

	if (!s)
		return;
	answer(&z[0], 1, A(127, 0, 0, 2));
	answer(&z[1], 1, A(127, 0, 0, 2));
	score_detail(s, z, small, sizeof(small));
	CHECK_EQ_STR(small, "aaaaaaaaaa.example*3");
	sites_free(s);
}

UNIT_MAIN()
