/*
 * test_trap.c - the trap intake's message path: which Received field
 * names the sender (only the one an MX host added; internal hops above
 * it passed over, content filters on loopback followed down, forged
 * fields below never read), bounces and auto-replies, unreadable input,
 * bounded evidence, and the zone of a recipient.
 */
#include "list/trap.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *mx_names[] = { "mx1.trap.example", "MX2.trap.example.", "198.51.100.25" };
static const struct conftab_list mx = { 3, mx_names };

static struct trap_msg *rd(const char *text, const char *sender)
{
	static struct trap_msg t;

	CHECK_EQ_INT(trap_read(text, strlen(text), sender, &mx, &t), 0);
	return &t;
}

#define HDR "Subject: buy now\r\nFrom: <x@spam.example>\r\n\r\nbody\r\n"

UNIT_TEST(mx_hop_is_read)
{
	struct trap_msg *t = rd("Received: from spammer.example (spammer.example [192.0.2.7])\r\n"
				"\tby mx1.trap.example (Postfix) with ESMTP id 1; "
				"Thu, 3 Dec 2026 10:00:00 +0000\r\n" HDR, "x@spam.example");

	CHECK_EQ_INT(t->skip, TRAP_OK);
	CHECK_EQ_STR(t->ip, "192.0.2.7");
	CHECK_EQ_STR(t->mx, "mx1.trap.example");
}

UNIT_TEST(internal_hops_above_are_passed_over)
{
	struct trap_msg *t = rd(
		"Received: from mx1.trap.example (mx1 [10.0.0.5]) by store.internal "
		"(Dovecot) with LMTP\r\n"
		"Received: from spammer.example (spammer.example [192.0.2.8]) by "
		"mx2.trap.example (Postfix) with ESMTP\r\n" HDR, "x@spam.example");

	CHECK_EQ_INT(t->skip, TRAP_OK);
	CHECK_EQ_STR(t->ip, "192.0.2.8");
	CHECK_EQ_STR(t->mx, "mx2.trap.example");	/* name as written, case and dot ignored */
}

UNIT_TEST(forged_fields_below_never_count)
{
	/* the sender wrote fields that claim an MX host received from
	 * somebody else: only the topmost field by an MX host counts */
	struct trap_msg *t = rd(
		"Received: from spammer.example (spammer.example [192.0.2.9]) by "
		"mx1.trap.example (Postfix)\r\n"
		"Received: from innocent.example (innocent.example [203.0.113.50]) by "
		"mx1.trap.example (Postfix)\r\n"
		"Received: from x ([198.51.100.77]) by mx2.trap.example\r\n" HDR, "x@spam.example");

	CHECK_EQ_STR(t->ip, "192.0.2.9");
}

UNIT_TEST(long_forged_chain_below)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	struct trap_msg *t;

	n += (size_t)snprintf(buf, cap, "Received: from s (s [192.0.2.10]) by "
			      "mx1.trap.example\r\n");
	for (int i = 0; i < 3000; i++)
		n += (size_t)snprintf(buf + n, cap - n, "Received: from f%d ([203.0.113.%d]) "
				      "by mx1.trap.example\r\n", i, i % 250 + 1);
	snprintf(buf + n, cap - n, HDR);
	t = rd(buf, "x@spam.example");
	CHECK_EQ_INT(t->skip, TRAP_OK);
	CHECK_EQ_STR(t->ip, "192.0.2.10");
	CHECK(t->cut);			/* the headers were cut for the evidence */
	CHECK(strlen(t->headers) < STORE_HEADERS_MAX);
	CHECK(t->headers[strlen(t->headers) - 1] == '\n');	/* at a line */
	free(buf);
}

UNIT_TEST(content_filter_on_loopback_is_followed)
{
	struct trap_msg *t = rd(
		"Received: from localhost (localhost [127.0.0.1]) by mx1.trap.example "
		"(Postfix) with ESMTP\r\n"
		"Received: from mx1.trap.example ([127.0.0.1]) by localhost (amavisd-new)\r\n"
		"Received: from relay (relay [198.51.100.25]) by mx1.trap.example\r\n"
		"Received: from spammer.example ([192.0.2.11]) by 198.51.100.25 (Postfix)\r\n"
		"Received: from forged ([203.0.113.9]) by mx1.trap.example\r\n" HDR,
		"x@spam.example");

	/* loopback, then our own relay (an MX address), then the sender */
	CHECK_EQ_INT(t->skip, TRAP_OK);
	CHECK_EQ_STR(t->ip, "192.0.2.11");
}

UNIT_TEST(no_mx_hop)
{
	struct trap_msg *t = rd("Received: from a ([192.0.2.12]) by other.example\r\n" HDR,
				"x@spam.example");

	CHECK_EQ_INT(t->skip, TRAP_NO_MX_HOP);
	CHECK(strstr(t->why, "no Received field by an MX host"));
	t = rd(HDR, "x@spam.example");
	CHECK_EQ_INT(t->skip, TRAP_NO_MX_HOP);
	t = rd("Received: by mx1.trap.example (Postfix, from userid 0)\r\n" HDR, "x@y");
	CHECK_EQ_INT(t->skip, TRAP_NO_MX_HOP);
	CHECK(strstr(t->why, "names no client address"));
	t = rd("Received: from localhost ([127.0.0.1]) by mx1.trap.example\r\n" HDR, "x@y");
	CHECK_EQ_INT(t->skip, TRAP_NO_MX_HOP);
}

UNIT_TEST(not_public)
{
	struct trap_msg *t = rd("Received: from lan ([10.1.2.3]) by mx1.trap.example\r\n" HDR,
				"x@spam.example");

	CHECK_EQ_INT(t->skip, TRAP_NOT_PUBLIC);
	CHECK_EQ_STR(t->ip, "10.1.2.3");
	t = rd("Received: from lan ([fe80::1]) by mx1.trap.example\r\n" HDR, "x@y");
	CHECK_EQ_INT(t->skip, TRAP_NOT_PUBLIC);
	t = rd("Received: from lan ([240.0.0.1]) by mx1.trap.example\r\n" HDR, "x@y");
	CHECK_EQ_INT(t->skip, TRAP_NOT_PUBLIC);
}

UNIT_TEST(ipv6_and_mapped)
{
	struct trap_msg *t = rd("Received: from s ([IPv6:2001:db8:1:2::99]) by "
				"mx1.trap.example\r\n" HDR, "x@y");

	CHECK_EQ_INT(t->skip, TRAP_OK);
	CHECK_EQ_STR(t->ip, "2001:db8:1:2::99");
	t = rd("Received: from s (s [::ffff:192.0.2.13]) by mx1.trap.example\r\n" HDR, "x@y");
	CHECK_EQ_STR(t->ip, "192.0.2.13");
}

#define RCVD "Received: from s (s [192.0.2.14]) by mx1.trap.example\r\n"

UNIT_TEST(bounces)
{
	CHECK_EQ_INT(rd(RCVD HDR, "")->skip, TRAP_BOUNCE);
	CHECK_EQ_INT(rd(RCVD HDR, "<>")->skip, TRAP_BOUNCE);
	CHECK_EQ_INT(rd(RCVD HDR, "MAILER-DAEMON@mx.example")->skip, TRAP_BOUNCE);
	CHECK_EQ_INT(rd(RCVD "Content-Type: multipart/report; report-type=delivery-status;"
			" boundary=x\r\n" HDR, "x@y")->skip, TRAP_BOUNCE);
	/* an unknown sender (a Maildir import without Return-Path) is not one */
	CHECK_EQ_INT(rd(RCVD HDR, NULL)->skip, TRAP_OK);
	CHECK_EQ_INT(rd(RCVD HDR, "mailer-daemonx@y")->skip, TRAP_OK);
}

UNIT_TEST(autoreplies)
{
	CHECK_EQ_INT(rd(RCVD "Auto-Submitted: auto-replied\r\n" HDR, "x@y")->skip,
		     TRAP_AUTOREPLY);
	CHECK_EQ_INT(rd(RCVD "Auto-Submitted: no\r\n" HDR, "x@y")->skip, TRAP_OK);
	CHECK_EQ_INT(rd(RCVD "X-Autoreply: yes\r\n" HDR, "x@y")->skip, TRAP_AUTOREPLY);
	CHECK_EQ_INT(rd(RCVD "Precedence: auto_reply\r\n" HDR, "x@y")->skip, TRAP_AUTOREPLY);
	CHECK_EQ_INT(rd(RCVD "Precedence: bulk\r\n" HDR, "x@y")->skip, TRAP_OK);
}

UNIT_TEST(unreadable)
{
	static const char bin[] = "\x7f" "ELF\x02\x01\x01\0\0\0binary";
	struct trap_msg t;

	CHECK_EQ_INT(trap_read(bin, sizeof(bin) - 1, "x@y", &mx, &t), 0);
	CHECK_EQ_INT(t.skip, TRAP_UNREADABLE);
	CHECK_EQ_INT(rd("", "x@y")->skip, TRAP_UNREADABLE);
}

UNIT_TEST(evidence_excerpt)
{
	struct trap_msg *t = rd(RCVD "Subject: s\r\n\r\nline one\r\nline two\r\n", "x@y");

	CHECK(strstr(t->headers, "Subject: s\n"));
	CHECK(!strstr(t->headers, "line one"));
	CHECK_EQ_STR(t->excerpt, "line one\nline two\n");
	CHECK_EQ_INT(t->cut, 0);
}

UNIT_TEST(zone_for)
{
	char *doms[] = { "trap.example=bl.example", "Other.Example", "x.example=" };
	struct list_trap_conf tc = { .domains = { 3, doms }, .zone = "default.bl" };
	struct list_trap_conf none = { .zone = "all.bl" };
	struct list_trap_conf nozone = { .domains = { 1, doms } };

	CHECK_EQ_STR(trap_zone_for(&tc, "a@trap.example"), "bl.example");
	CHECK_EQ_STR(trap_zone_for(&tc, "a@TRAP.example."), "bl.example");
	CHECK_EQ_STR(trap_zone_for(&tc, "a@other.example"), "default.bl");
	CHECK_EQ_STR(trap_zone_for(&tc, "a@x.example"), "default.bl");
	CHECK(trap_zone_for(&tc, "a@sub.trap.example") == NULL);
	CHECK(trap_zone_for(&tc, "a@elsewhere.example") == NULL);
	CHECK(trap_zone_for(&tc, "no-at-sign") == NULL);
	CHECK(trap_zone_for(&tc, "@trap.example") == NULL);
	CHECK_EQ_STR(trap_zone_for(&none, "a@anything.example"), "all.bl");
	CHECK(trap_zone_for(&nozone, "a@other.example") == NULL);
}

/* The daemon's group commit: every hit of a round in one store batch.
 * A hit that rolls its own transaction back (an excluded key) undoes
 * only itself; all hits of the batch carry one serial; a batch ended
 * without commit stores nothing. */
UNIT_TEST(batch_of_hits)
{
	char dir[] = "/tmp/test_trap.XXXXXX", dsn[300], err[256], cmd[400];
	struct conftab_errors e = { 0 };
	struct list_conf *conf = list_conf_load(NULL, &e);
	struct list_ctx c = { 0 };
	struct list_hit h = { "a@trap.example", "trap", "Subject: x\n", "body", 0 };
	struct store_listing l = { 0 }, a, b;
	struct list_result r;
	uint32_t s0, s1;

	CHECK(conf && mkdtemp(dir));
	if (!conf)
		return;
	snprintf(dsn, sizeof(dsn), "sqlite:%s/list.db", dir);
	CHECK_EQ_INT(store_open(dsn, 0, &c.st, err, sizeof(err)), 0);
	c.conf = conf;
	/* an excluded entry: a hit on it rolls its transaction back */
	CHECK_EQ_INT(store_key_parse("192.0.2.99", &l.key, err, sizeof(err)), 0);
	l.state = STORE_EXCLUDED;
	CHECK_EQ_INT(store_put(c.st, "bl.example", &l), 0);
	CHECK_EQ_INT(store_zone_serial(c.st, "bl.example", &s0), 0);

	CHECK_EQ_INT(store_batch_begin(c.st), 0);
	CHECK_EQ_INT(list_do_hit(&c, "bl.example", "192.0.2.1", &h, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.outcome, LIST_LISTED);
	CHECK_EQ_INT(list_do_hit(&c, "bl.example", "192.0.2.99", &h, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.outcome, LIST_ALLOWED);
	CHECK_EQ_INT(list_do_hit(&c, "bl.example", "192.0.2.2", &h, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(store_batch_end(c.st, 1), 0);
	CHECK_EQ_INT(store_get(c.st, "bl.example", "192.0.2.1", &a), 0);
	CHECK_EQ_INT(store_get(c.st, "bl.example", "192.0.2.2", &b), 0);
	CHECK_EQ_INT(a.state, STORE_LISTED);
	CHECK_EQ_INT(b.state, STORE_LISTED);
	CHECK_EQ_INT(store_zone_serial(c.st, "bl.example", &s1), 0);
	CHECK_EQ_INT(s1, s0 + 1);	/* one batch, one serial */

	/* not committed: nothing of it stays */
	CHECK_EQ_INT(store_batch_begin(c.st), 0);
	CHECK_EQ_INT(list_do_hit(&c, "bl.example", "192.0.2.3", &h, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(store_batch_end(c.st, 0), 0);
	CHECK_EQ_INT(store_get(c.st, "bl.example", "192.0.2.3", &a), STORE_NOTFOUND);
	CHECK_EQ_INT(store_zone_serial(c.st, "bl.example", &s0), 0);
	CHECK_EQ_INT(s0, s1);
	/* and outside a batch every call is its own transaction again */
	CHECK_EQ_INT(list_do_hit(&c, "bl.example", "192.0.2.4", &h, &r, err, sizeof(err)), 0);
	CHECK_EQ_INT(store_zone_serial(c.st, "bl.example", &s0), 0);
	CHECK_EQ_INT(s0, s1 + 1);
	store_close(c.st);
	list_conf_free(conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

UNIT_MAIN()
