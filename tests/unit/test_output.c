/*
 * test_output.c - unit tests for the library's check output (dnsbl/output.h)
 * and bulk run (dnsbl/bulk.h), without a network: targets made by hand,
 * and targets the engine finishes at once (bad ones, a CIDR block over the
 * limit).  The engine's error texts name no command-line flag; the writer
 * adds the front end's words for a hint, and nothing when there are none.
 */
#include "unit.h"
#include "dnsbl/bulk.h"
#include "dnsbl/catalog.h"
#include "dnsbl/dnsbl.h"
#include "dnsbl/output.h"
#include "dnsbl/resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A target on two lists: listed on a, an error (SERVFAIL, hint) on b. */
struct fake {
	struct catalog *cat;
	const struct list *lists[2];
	char *addrs[1];
	struct dnsbl_result res[2];
	struct dnsbl_target t;
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->cat = catalog_new();
	f->lists[0] = catalog_add_zone(f->cat, "a.test", LK_IP4);
	f->lists[1] = catalog_add_zone(f->cat, "b.test", LK_IP4);
	f->addrs[0] = "192.0.2.1";
	/* the error first: the text writer puts the listing first */
	f->res[0] = (struct dnsbl_result){ .list = f->lists[1], .subject = f->addrs[0],
					   .status = DS_ERROR, .error = "SERVFAIL: why",
					   .hint = DNSBL_HINT_RESOLVER };
	f->res[1] = (struct dnsbl_result){ .list = f->lists[0], .subject = f->addrs[0],
					   .status = DS_LISTED, .ncodes = 1,
					   .codes = { 0x7f000002 }, .meanings = { "spam, x" },
					   .ntxt = 1, .txt = { "see\x01here" }, .ttl = 60 };
	f->t = (struct dnsbl_target){ .input = "192.0.2.1", .kind = TK_ADDR, .naddrs = 1,
				      .addrs = f->addrs, .nresults = 2, .results = f->res };
}

/* The output of one target in fmt; a malloc()ed string. */
static char *write_one(struct fake *f, const struct out_opts *opts, int *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct out *o = out_new(fp, opts, f->lists, 2);
	out_begin(o);
	out_target(o, &f->t);
	*st = out_end(o, NULL, "T", 1500);
	CHECK_EQ_INT(out_totals(o)->targets, 1);
	CHECK_EQ_INT(out_totals(o)->listed_targets, 1);
	CHECK_EQ_INT(out_totals(o)->errors, 1);
	out_free(o);
	fclose(fp);
	return buf;
}

UNIT_TEST(text_writer)
{
	struct fake f;
	struct out_opts oo = { .fmt = OUT_TEXT };
	int st;
	fake_init(&f);
	char *s = write_one(&f, &oo, &st);
	CHECK_EQ_INT(st, -1);
	CHECK(strstr(s, "  LISTED   a.test") && strstr(s, "  ERROR    b.test"));
	CHECK(strstr(s, "LISTED") < strstr(s, "ERROR"));	/* sorted */
	CHECK(strstr(s, "reason: see?here\n") != NULL);	/* control byte out */
	CHECK(strstr(s, "           SERVFAIL: why\n") != NULL);	/* no words, no hint */
	CHECK(strstr(s, "192.0.2.1: LISTED on 1 of 2 lists\n") != NULL);
	CHECK(strchr(s, '\033') == NULL);
	free(s);
	oo.hints[DNSBL_HINT_RESOLVER] = "try another";
	oo.color = true;
	s = write_one(&f, &oo, &st);
	CHECK(strstr(s, "SERVFAIL: why (try another)\n") != NULL);
	CHECK(strstr(s, "\033[1;31mLISTED  \033[0m") != NULL);
	free(s);
	oo.quiet = true;
	oo.color = false;
	s = write_one(&f, &oo, &st);
	CHECK_EQ_STR(s, "192.0.2.1: LISTED on 1 of 2 lists\n");
	free(s);
	catalog_free(f.cat);
}

UNIT_TEST(json_csv_and_nagios_writers)
{
	struct fake f;
	struct out_opts oo = { .fmt = OUT_JSON, .warn = 1, .crit = 2 };
	int st;
	fake_init(&f);
	oo.hints[DNSBL_HINT_RESOLVER] = "H";
	char *s = write_one(&f, &oo, &st);
	CHECK(!strncmp(s, "[\n{\"target\": \"192.0.2.1\"", 24));
	CHECK(strstr(s, "\"txt\": [\"see\\u0001here\"]") != NULL);
	CHECK(strstr(s, "\"error\": \"SERVFAIL: why (H)\"") != NULL);
	CHECK(strstr(s, "\"verdict\": \"listed\", \"lists\": 2, \"lists_listed\": 1, "
		      "\"lists_unchecked\": 1}\n]\n") != NULL);
	free(s);
	oo.fmt = OUT_CSV;
	s = write_one(&f, &oo, &st);
	static const char head[] =
		"target,subject,zone,status,codes,meanings,txt,ttl,ms,delist,error\n";
	CHECK(!strncmp(s, head, sizeof(head) - 1));
	CHECK(strstr(s, "192.0.2.1,192.0.2.1,a.test,listed,127.0.0.2,\"spam, x\",see?here,60,0,,\n")
	      != NULL);
	CHECK(strstr(s, ",b.test,error,,,,0,0,,SERVFAIL: why (H)\n") != NULL);
	free(s);
	oo.fmt = OUT_NAGIOS;
	s = write_one(&f, &oo, &st);
	CHECK_EQ_INT(st, 1);
	CHECK_EQ_STR(s, "CHECK_RBL WARNING - T BLACKLISTED on 1 server of 2 (a.test (127.0.0.2)) "
		     "(1 could not be checked: b.test) | servers=1;0;1 time=1.500s;;\n");
	free(s);
	CHECK_EQ_STR(out_verdict(&f.t), "listed");
	f.res[1].status = DS_CLEAN;
	CHECK_EQ_STR(out_verdict(&f.t), "incomplete");
	f.res[1].status = DS_ERROR;
	CHECK_EQ_STR(out_verdict(&f.t), "no-verdict");
	catalog_free(f.cat);
}

UNIT_TEST(bulk_line_targets)
{
	char a[] = "  192.0.2.1   # comment\n", b[] = "198.51.100.1,x,y\r\n",
	     c[] = "2001:db8::1\tTSV\n", d[] = "not an ip !!\n", e[] = " # only\n";
	CHECK_EQ_STR(bulk_line_target(a), "192.0.2.1");
	CHECK_EQ_STR(bulk_line_target(b), "198.51.100.1");
	CHECK_EQ_STR(bulk_line_target(c), "2001:db8::1");
	CHECK_EQ_STR(bulk_line_target(d), "not an ip !!");
	CHECK_EQ_STR(bulk_line_target(e), "");
}

struct seen {
	char text[64][96];
	size_t n;
};

static void seen_done(void *arg, struct dnsbl_target *t)
{
	struct seen *s = arg;
	if (s->n < 64)
		snprintf(s->text[s->n++], sizeof(s->text[0]), "%s|%s", t->input,
			 t->error ? t->error : "");
}

/* Targets the engine finishes at once, through a run bounded far below
 * their number: all come out, in order, the engine's texts name no flag. */
UNIT_TEST(bulk_run_in_order_and_flag_free_texts)
{
	char err[256] = "";
	struct catalog *cat = catalog_new();
	const struct list *sel[1] = { catalog_add_zone(cat, "a.test", LK_IP4) };
	struct rs_opts ro = { .mode = RS_FORWARD, .servers = "127.0.0.1:9" };
	struct resolver *rs = rs_new(&ro, err, sizeof(err));
	CHECK(rs != NULL);
	if (!rs) {
		catalog_free(cat);
		return;
	}
	struct dnsbl_opts dopt = { .cidr_limit = 16, .no_probe = true };
	struct dnsbl_engine *eng = dnsbl_new(rs, sel, 1, &dopt, err, sizeof(err));
	struct seen seen = { .n = 0 };
	struct bulk b;
	bulk_init(&b, eng, rs, 1, 1, 0, seen_done, &seen);
	CHECK_EQ_INT(b.max_active, 18);
	bulk_add(&b, "192.0.2.0/24", false);
	char input[4096] = "";
	size_t n = 0;
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(input + n, sizeof(input) - n, "bad%d!\n", i);
	memset(input + n, 'x', BULK_LINE_MAX + 10);
	n += BULK_LINE_MAX + 10;
	memcpy(input + n, "\nlast!\n", 8);
	FILE *in = fmemopen(input, strlen(input), "r");
	CHECK_EQ_INT(bulk_add_file(&b, in, NULL, false), 0);
	fclose(in);
	bulk_finish(&b);
	CHECK_EQ_INT(dnsbl_active(eng), 0);
	CHECK_EQ_INT(seen.n, 33);
	CHECK_EQ_STR(seen.text[0], "192.0.2.0/24|192.0.2.0/24 is larger than the CIDR limit");
	CHECK(!strncmp(seen.text[1], "bad0!|", 6) && !strncmp(seen.text[30], "bad29!|", 7));
	CHECK(!strncmp(seen.text[31], "(line too long)|", 16));
	CHECK(!strncmp(seen.text[32], "last!|", 6));
	for (size_t i = 0; i < seen.n; i++)
		CHECK(strstr(seen.text[i], "--") == NULL);
	dnsbl_free(eng);
	rs_free(rs);
	catalog_free(cat);
}

/* The hint a CIDR block over the limit carries, for the front end. */
UNIT_TEST(engine_hints)
{
	char err[256] = "";
	struct catalog *cat = catalog_new();
	const struct list *sel[1] = { catalog_add_zone(cat, "a.test", LK_IP4) };
	struct rs_opts ro = { .mode = RS_FORWARD, .servers = "127.0.0.1:9" };
	struct resolver *rs = rs_new(&ro, err, sizeof(err));
	struct dnsbl_opts dopt = { .cidr_limit = 4, .no_probe = true };
	struct dnsbl_engine *eng = rs ? dnsbl_new(rs, sel, 1, &dopt, err, sizeof(err)) : NULL;
	CHECK(eng != NULL);
	if (eng) {
		dnsbl_add(eng, "192.0.2.0/29", false);
		dnsbl_add(eng, "bad!", false);
		struct dnsbl_target *t = dnsbl_next_done(eng);
		CHECK(t && t->hint == DNSBL_HINT_CIDR_LIMIT);
		dnsbl_target_free(t);
		t = dnsbl_next_done(eng);
		CHECK(t && t->error && t->hint == DNSBL_HINT_NONE);
		dnsbl_target_free(t);
	}
	dnsbl_free(eng);
	rs_free(rs);
	catalog_free(cat);
}

UNIT_MAIN()
