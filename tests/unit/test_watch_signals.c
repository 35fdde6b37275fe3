/*
 * test_watch_signals.c - the signals of rblkit watch (watch/signal.h):
 * Postfix log lines in the formats Postfix and syslog write them,
 * hostile lines, the file follower across rotation and truncation, a
 * journalctl stand-in, and a bounce Maildir.
 */
#include "unit.h"

#include "dnsbl/catalog.h"
#include "watch/signal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct catalog *cat(void)
{
	static struct catalog *c;
	char err[512];

	if (!c) {
		c = catalog_new();
		if (catalog_load_builtin(c, err, sizeof(err)) < 0)
			printf("catalogue: %s\n", err);
		catalog_index_build(c);
	}
	return c;
}

static int parse(const char *line, struct watch_signal *s)
{
	memset(s, 0x55, sizeof(*s));
	return watch_log_parse_line(line, strlen(line), cat(), 1000, s);
}

/* ---- the line parser ---- */

UNIT_TEST(parse_spamhaus_bounced_syslog)
{
	struct watch_signal s;

	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtp[4242]: 4ThXyZ1abcz3x: "
			   "to=<bob@Example.COM>, relay=mx.example.com[192.0.2.25]:25, "
			   "delay=0.41, delays=0.06/0.01/0.2/0.14, dsn=5.7.1, status=bounced "
			   "(host mx.example.com[192.0.2.25] said: 554 5.7.1 Service unavailable; "
			   "Client host [203.0.113.5] blocked using zen.spamhaus.org; "
			   "https://www.spamhaus.org/query/ip/203.0.113.5 (in reply to RCPT TO command))",
			   &s), 1);
	CHECK_EQ_STR(s.source, "log");
	CHECK_EQ_INT(s.when, 1000);
	CHECK_EQ_STR(s.list_id, "spamhaus-zen");
	CHECK_EQ_STR(s.zone, "zen.spamhaus.org");
	CHECK_EQ_STR(s.ip, "203.0.113.5");
	CHECK_EQ_STR(s.rcpt_domain, "example.com");
	CHECK_EQ_STR(s.relay, "mx.example.com[192.0.2.25]");
	CHECK_EQ_STR(s.text, "554 5.7.1 Service unavailable; Client host [203.0.113.5] "
		     "blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.5 "
		     "(in reply to RCPT TO command)");
}

UNIT_TEST(parse_trend_deferred_iso)
{
	struct watch_signal s;

	/* journalctl -o short-iso, a second Postfix instance */
	CHECK_EQ_INT(parse("2026-12-03T22:10:01+0000 mail postfix-out/smtp[77]: 9B1C21C0040: "
			   "to=<carol@customer.example>, relay=in.hes.trendmicro.com[198.51.100.25]:25, "
			   "delay=43200, delays=43200/0/0.3/0.1, dsn=4.7.1, status=deferred "
			   "(host in.hes.trendmicro.com[198.51.100.25] said: 450 4.7.1 Service unavailable; "
			   "Client host [198.51.100.77] blocked using Trend Micro Email Reputation database. "
			   "Please see https://servicecentral.trendmicro.com/en-US/ers/ ERS-QIL "
			   "(in reply to RCPT TO command))", &s), 1);
	CHECK_EQ_STR(s.list_id, "trendmicro-ers");
	CHECK_EQ_STR(s.ip, "198.51.100.77");
	CHECK_EQ_STR(s.rcpt_domain, "customer.example");
	CHECK_EQ_STR(s.relay, "in.hes.trendmicro.com[198.51.100.25]");
	/* rsyslog's RFC 3339 stamp, the relay transport */
	CHECK_EQ_INT(parse("2026-12-03T22:10:01.123456+01:00 mail postfix/relay[77]: 9B1C21C0040: "
			   "to=<c@d.example>, relay=x.example[192.0.2.9]:25, delay=1, dsn=4.7.1, "
			   "status=deferred (host x.example[192.0.2.9] said: 421 4.7.0 ERS-QIL "
			   "(in reply to MAIL FROM command))", &s), 1);
	CHECK_EQ_STR(s.list_id, "trendmicro-ers");
	CHECK_EQ_STR(s.ip, "");
}

UNIT_TEST(parse_refused_to_talk)
{
	struct watch_signal s;

	/* one MX refusing at the greeting, logged before the next is tried */
	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtp[99]: 4ThXyZ1abcz3x: host "
			   "example-com.mail.protection.outlook.com[52.101.0.1] refused to talk to me: "
			   "550 5.7.606 Access denied, banned sending IP [203.0.113.9]. To request "
			   "removal from this list please visit https://sender.office.com/", &s), 1);
	CHECK_EQ_STR(s.list_id, "microsoft-365");
	CHECK_EQ_STR(s.zone, "");
	CHECK_EQ_STR(s.ip, "203.0.113.9");
	CHECK_EQ_STR(s.rcpt_domain, "");
	CHECK_EQ_STR(s.relay, "example-com.mail.protection.outlook.com[52.101.0.1]");
	/* the same in the status of the recipient */
	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtp[99]: 4ThXyZ1abcz3x: to=<x@y.example>, "
			   "relay=none, delay=1, dsn=4.0.0, status=deferred (host "
			   "mx.y.example[192.0.2.1] refused to talk to me: 554 Service unavailable; "
			   "Client host [203.0.113.9] blocked using Barracuda Reputation; "
			   "http://www.barracudanetworks.com/reputation/?pr=1&ip=203.0.113.9)", &s), 1);
	CHECK_EQ_STR(s.list_id, "barracuda");
	CHECK_EQ_STR(s.rcpt_domain, "y.example");
}

UNIT_TEST(parse_more_lists)
{
	struct watch_signal s;

	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtp[1]: ABC: to=<a@b.example>, "
			   "relay=mx.b.example[192.0.2.3]:25, delay=1, dsn=5.7.1, status=bounced "
			   "(host mx.b.example[192.0.2.3] said: 550 5.7.1 Blocked - see "
			   "https://www.spamcop.net/bl.shtml?203.0.113.5 (in reply to RCPT TO command))",
			   &s), 1);
	CHECK_EQ_STR(s.list_id, "spamcop");
	CHECK_EQ_STR(s.ip, "203.0.113.5");
	/* Outlook.com's S3150, and an IPv6 sender */
	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtp[1]: ABC: to=<a@hotmail.com>, "
			   "relay=hotmail-com.olc.protection.outlook.com[2603:1036::5]:25, delay=1, "
			   "dsn=5.7.1, status=bounced (host hotmail-com.olc.protection.outlook.com"
			   "[2603:1036::5] said: 550 5.7.1 Unfortunately, messages from "
			   "[IPv6:2001:db8::25] weren't sent. Please contact your Internet service "
			   "provider since part of their network is on our block list (S3150). "
			   "(in reply to MAIL FROM command))", &s), 1);
	CHECK_EQ_STR(s.list_id, "microsoft-outlook-com");
	CHECK_EQ_STR(s.ip, "2001:db8::25");
	CHECK_EQ_STR(s.relay, "hotmail-com.olc.protection.outlook.com[2603:1036::5]");
}

UNIT_TEST(parse_not_ours)
{
	struct watch_signal s;

	/* our own smtpd refusing a spammer: names Spamhaus, is not about us */
	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtpd[5]: NOQUEUE: reject: RCPT from "
			   "unknown[198.51.100.1]: 554 5.7.1 Service unavailable; Client host "
			   "[198.51.100.1] blocked using zen.spamhaus.org; from=<a@b> to=<c@d> "
			   "proto=ESMTP helo=<x>", &s), 0);
	/* ... even with a HELO made to look like an smtp(8) report */
	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtpd[5]: NOQUEUE: reject: RCPT from "
			   "unknown[198.51.100.1]: 450 4.7.1 <x>: Helo command rejected; from=<a@b> "
			   "to=<c@d> proto=ESMTP helo=<host a[1.2.3.4] said: 554 zen.spamhaus.org>",
			   &s), 0);
	/* a recipient at spamhaus.org that does not exist */
	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtp[1]: ABC: to=<nobody@spamhaus.org>, "
			   "relay=mx.spamhaus.org[192.0.2.3]:25, delay=1, dsn=5.1.1, status=bounced "
			   "(host mx.spamhaus.org[192.0.2.3] said: 550 5.1.1 User unknown "
			   "(in reply to RCPT TO command))", &s), 0);
	/* delivered; no answer at all */
	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtp[1]: ABC: to=<a@spamcop.net>, "
			   "relay=mx[192.0.2.3]:25, delay=1, dsn=2.0.0, status=sent "
			   "(250 2.0.0 Ok: queued as spamcop)", &s), 0);
	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtp[1]: ABC: to=<a@b.example>, "
			   "relay=none, delay=30, dsn=4.4.1, status=deferred (connect to "
			   "zen.spamhaus.org[192.0.2.3]:25: Connection refused)", &s), 0);
	/* a 2xx is not a refusal; an allowlist naming us is no listing */
	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtp[1]: ABC: host x[192.0.2.1] said: "
			   "250 spamhaus", &s), 0);
	CHECK_EQ_INT(parse("Dec  3 22:10:01 mail postfix/smtp[1]: ABC: host x[192.0.2.1] said: "
			   "550 rejected by mailspike whitelist", &s), 0);
	/* no tag, no catalogue, empty */
	CHECK_EQ_INT(parse("host x[192.0.2.1] said: 554 blocked using zen.spamhaus.org", &s), 0);
	CHECK_EQ_INT(watch_log_parse_line("", 0, cat(), 0, &s), 0);
	CHECK_EQ_INT(watch_log_parse_line("x", 1, NULL, 0, &s), 0);
}

UNIT_TEST(parse_hostile)
{
	struct watch_signal s;
	char line[600], *big;
	size_t i, n;

	/* control bytes, NUL, bytes that are not UTF-8, a name that hides an address */
	n = (size_t)snprintf(line, sizeof(line),
			     "Dec  3 22:10:01 mail postfix/smtp[1]: ABC: host x[192.0.2.1] said: "
			     "554 \x1b[31mlisted\x01 \xff\xfe caf\xc3\xa9 at "
			     "5.113.0.203.zen.spamhaus.org X");
	line[n - 1] = '\0';	/* a NUL inside the line */
	CHECK_EQ_INT(watch_log_parse_line(line, n, cat(), 0, &s), 1);
	CHECK_EQ_STR(s.list_id, "spamhaus-zen");
	CHECK_EQ_STR(s.ip, "");
	CHECK_EQ_STR(s.text, "554 ?[31mlisted? ?? caf\xc3\xa9 at 5.113.0.203.zen.spamhaus.org ?");
	for (i = 0; s.text[i]; i++)
		CHECK((unsigned char)s.text[i] >= 0x20 && s.text[i] != 0x7f);
	/* a huge reply: every field stays in its buffer, terminated */
	big = malloc(WATCH_LOG_MAX_LINE + 1);
	n = (size_t)snprintf(big, WATCH_LOG_MAX_LINE, "Dec  3 22:10:01 mail postfix/smtp[1]: "
			     "ABC: to=<a@%0300d>, relay=x, status=bounced (host %0400d[192.0.2.1] "
			     "said: 554 zen.spamhaus.org ", 7, 8);
	memset(big + n, 'A', WATCH_LOG_MAX_LINE - n);
	CHECK_EQ_INT(watch_log_parse_line(big, WATCH_LOG_MAX_LINE, cat(), 0, &s), 1);
	CHECK_EQ_INT(strlen(s.text), sizeof(s.text) - 1);
	CHECK_EQ_INT(strlen(s.relay), sizeof(s.relay) - 1);
	CHECK_EQ_INT(strlen(s.rcpt_domain), sizeof(s.rcpt_domain) - 1);
	/* over the limit: not read at all */
	CHECK_EQ_INT(watch_log_parse_line(big, WATCH_LOG_MAX_LINE + 1, cat(), 0, &s), 0);
	free(big);
}

/* ---- the follower ---- */

struct got {
	int n;
	struct watch_signal last;
};

static void collect(void *arg, const struct watch_signal *s)
{
	struct got *g = arg;

	g->n++;
	g->last = *s;
}

#define LINE(ip) "Dec  3 22:10:01 mail postfix/smtp[1]: ABC: to=<a@b.example>, " \
	"relay=mx.b.example[192.0.2.3]:25, delay=1, dsn=5.7.1, status=bounced (host " \
	"mx.b.example[192.0.2.3] said: 554 5.7.1 Client host [" ip "] blocked using " \
	"zen.spamhaus.org (in reply to RCPT TO command))\n"
#define OTHER "Dec  3 22:10:01 mail postfix/qmgr[2]: ABC: removed\n"

static char tmpdir[256];

static const char *tmp(const char *name)
{
	static char path[512];

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/rblkit-wsig.XXXXXX");
		if (!mkdtemp(tmpdir))
			printf("mkdtemp: %s\n", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void append(const char *path, const char *text, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);

	CHECK(fd >= 0);
	CHECK(write(fd, text, n) == (ssize_t)n);
	close(fd);
}

#define APPEND(path, s) append(path, s, strlen(s))

static int pollit(struct watch_log *wl, struct got *g)
{
	char err[256] = "";
	int n = watch_log_poll(wl, collect, g, err, sizeof(err));

	if (n < 0)
		printf("  poll: %s\n", err);
	return n;
}

UNIT_TEST(follow_from_end_and_partial_lines)
{
	struct watch_log *wl;
	struct watch_signal_stats st;
	struct got g = { 0 };
	char err[256];
	char path[512];

	snprintf(path, sizeof(path), "%s", tmp("maillog"));
	APPEND(path, LINE("203.0.113.1") OTHER LINE("203.0.113.2"));
	CHECK_EQ_INT(watch_log_open(&wl, path, cat(), err, sizeof(err)), 0);
	CHECK_EQ_INT(watch_log_fd(wl), -1);
	CHECK_EQ_INT(pollit(wl, &g), 0);	/* old lines do not signal */
	APPEND(path, OTHER LINE("203.0.113.3"));
	CHECK_EQ_INT(pollit(wl, &g), 1);
	CHECK_EQ_STR(g.last.ip, "203.0.113.3");
	CHECK_EQ_INT(pollit(wl, &g), 0);	/* the position is kept */
	/* a line written in two pieces signals once, when complete */
	append(path, LINE("203.0.113.4"), 60);
	CHECK_EQ_INT(pollit(wl, &g), 0);
	APPEND(path, LINE("203.0.113.4") + 60);
	CHECK_EQ_INT(pollit(wl, &g), 1);
	CHECK_EQ_STR(g.last.ip, "203.0.113.4");
	watch_log_stats(wl, &st);
	CHECK_EQ_INT(st.lines, 3);
	CHECK_EQ_INT(st.signals, 2);
	watch_log_close(wl);
	unlink(path);

	/* opened in the middle of a line: its rest is old, not a line */
	APPEND(path, "Dec  3 22:10:01 mail postfix/smtp[1]: ABC: host x[192.0.2.1] said: 554");
	CHECK_EQ_INT(watch_log_open(&wl, path, cat(), err, sizeof(err)), 0);
	APPEND(path, " zen.spamhaus.org\n" LINE("203.0.113.5"));
	g.n = 0;
	CHECK_EQ_INT(pollit(wl, &g), 1);
	CHECK_EQ_STR(g.last.ip, "203.0.113.5");
	watch_log_close(wl);
	unlink(path);

	CHECK_EQ_INT(watch_log_open(&wl, tmp("absent"), cat(), err, sizeof(err)), -1);
	CHECK(strstr(err, "absent") != NULL);
	CHECK(wl == NULL);
}

UNIT_TEST(follow_rotation_rename)
{
	struct watch_log *wl;
	struct watch_signal_stats st;
	struct got g = { 0 };
	char err[256], path[512], old[512];

	snprintf(path, sizeof(path), "%s", tmp("rot.log"));
	snprintf(old, sizeof(old), "%s", tmp("rot.log.1"));
	APPEND(path, OTHER);
	CHECK_EQ_INT(watch_log_open(&wl, path, cat(), err, sizeof(err)), 0);
	APPEND(path, LINE("203.0.113.1"));
	CHECK(rename(path, old) == 0);
	/* written to the old file after the rename, before the reopen */
	APPEND(old, LINE("203.0.113.2"));
	CHECK_EQ_INT(pollit(wl, &g), 2);	/* no new file yet: keep reading the old */
	APPEND(old, LINE("203.0.113.3"));
	APPEND(path, LINE("203.0.113.4") OTHER);
	CHECK_EQ_INT(pollit(wl, &g), 2);	/* the old one's end, then all of the new */
	CHECK_EQ_STR(g.last.ip, "203.0.113.4");
	APPEND(path, LINE("203.0.113.5"));
	CHECK_EQ_INT(pollit(wl, &g), 1);
	watch_log_stats(wl, &st);
	CHECK_EQ_INT(st.rotations, 1);
	CHECK_EQ_INT(g.n, 5);
	watch_log_close(wl);
	unlink(path);
	unlink(old);
}

UNIT_TEST(follow_copytruncate)
{
	struct watch_log *wl;
	struct watch_signal_stats st;
	struct got g = { 0 };
	char err[256], path[512];

	snprintf(path, sizeof(path), "%s", tmp("trunc.log"));
	APPEND(path, OTHER OTHER OTHER);
	CHECK_EQ_INT(watch_log_open(&wl, path, cat(), err, sizeof(err)), 0);
	APPEND(path, LINE("203.0.113.1"));
	CHECK_EQ_INT(pollit(wl, &g), 1);
	CHECK(truncate(path, 0) == 0);
	/* shorter than where we were: read from the start */
	APPEND(path, LINE("203.0.113.2"));
	CHECK_EQ_INT(pollit(wl, &g), 1);
	CHECK_EQ_STR(g.last.ip, "203.0.113.2");
	APPEND(path, LINE("203.0.113.3"));
	CHECK_EQ_INT(pollit(wl, &g), 1);
	watch_log_stats(wl, &st);
	CHECK_EQ_INT(st.rotations, 1);
	watch_log_close(wl);
	unlink(path);
}

UNIT_TEST(follow_long_and_garbage)
{
	struct watch_log *wl;
	struct watch_signal_stats st;
	struct got g = { 0 };
	char err[256], path[512], *junk;
	size_t i, n = 3 * WATCH_LOG_MAX_LINE;

	snprintf(path, sizeof(path), "%s", tmp("junk.log"));
	APPEND(path, "");
	CHECK_EQ_INT(watch_log_open(&wl, path, cat(), err, sizeof(err)), 0);
	/* a line three times the limit that starts as a signal: read once, cut */
	junk = malloc(n);
	memcpy(junk, LINE("203.0.113.1"), strlen(LINE("203.0.113.1")) - 1);
	memset(junk + strlen(LINE("203.0.113.1")) - 1, 'x', n - strlen(LINE("203.0.113.1")));
	junk[n - 1] = '\n';
	append(path, junk, n);
	/* binary garbage with NULs and lone CRs, and a long line of it */
	for (i = 0; i < n; i++)
		if ((junk[i] = (char)((i * 7919u) % 251u)) == '\n')
			junk[i] = '\r';
	append(path, junk, n);
	APPEND(path, "\n" LINE("203.0.113.2"));
	CHECK_EQ_INT(pollit(wl, &g), 2);
	CHECK_EQ_STR(g.last.ip, "203.0.113.2");
	watch_log_stats(wl, &st);
	CHECK_EQ_INT(st.cut, 2);
	CHECK_EQ_INT(st.lines, 3);
	watch_log_close(wl);
	free(junk);
	unlink(path);
}

/* ---- journald, with a journalctl stand-in on PATH ---- */

static void fake_journalctl(const char *script)
{
	char path[512], env[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s", tmp("bin"));
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s", tmp("bin/journalctl"));
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "#!/bin/sh\necho \"$$ $*\" >> %s/args\n%s\n", tmpdir, script);
	fclose(f);
	chmod(path, 0700);
	snprintf(env, sizeof(env), "%s:%s", tmp("bin"), getenv("PATH") ? getenv("PATH") : "/bin");
	setenv("PATH", env, 1);
}

/* Poll until n signals came (or about 10 s, then fail). */
static void wait_signals(struct watch_log *wl, struct got *g, int n)
{
	char err[256];
	int i;

	for (i = 0; i < 400 && g->n < n; i++) {
		struct pollfd p = { .fd = watch_log_fd(wl), .events = POLLIN };

		poll(&p, p.fd >= 0 ? 1 : 0, 25);
		watch_log_poll(wl, collect, g, err, sizeof(err));
	}
	CHECK_EQ_INT(g->n, n);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

UNIT_TEST(journal_follow_restart_close)
{
	struct watch_log *wl;
	struct watch_signal_stats st;
	struct got g = { 0 };
	char err[256], feed[512], script[2000], *args;
	long pid1 = 0, pid2 = 0;

	snprintf(feed, sizeof(feed), "%s", tmp("journal.feed"));
	APPEND(feed, LINE("203.0.113.1"));
	/* the first run follows the feed; it is killed below */
	snprintf(script, sizeof(script),
		 "if [ -e %s/second ]; then echo '%.*s'; exec sleep 60; fi\n"
		 "touch %s/second\nexec tail -n 0 -f %s",
		 tmpdir, (int)strlen(LINE("203.0.113.9")) - 1, LINE("203.0.113.9"), tmpdir, feed);
	fake_journalctl(script);
	CHECK_EQ_INT(watch_log_open(&wl, "journal:postfix@-.service", cat(), err, sizeof(err)), 0);
	if (!wl)
		return;
	CHECK(watch_log_fd(wl) >= 0);
	usleep(200000);		/* let tail start before the line is written */
	APPEND(feed, OTHER LINE("203.0.113.2"));
	wait_signals(wl, &g, 1);
	CHECK_EQ_STR(g.last.source, "journal");
	CHECK_EQ_STR(g.last.ip, "203.0.113.2");
	args = slurp(tmp("args"));
	CHECK(sscanf(args, "%ld", &pid1) == 1);
	CHECK(strstr(args, " -f -o short-iso -n 0 -u postfix@-.service\n") != NULL);
	/* journalctl dies: started again, with --since */
	if (pid1 > 0)
		kill((pid_t)pid1, SIGKILL);
	wait_signals(wl, &g, 2);
	CHECK_EQ_STR(g.last.ip, "203.0.113.9");
	watch_log_stats(wl, &st);
	CHECK_EQ_INT(st.restarts, 1);
	args = slurp(tmp("args"));
	CHECK(strchr(args, '\n') && sscanf(strchr(args, '\n') + 1, "%ld", &pid2) == 1);
	CHECK(strstr(args, " -f -o short-iso --since=@") != NULL);
	/* close stops it */
	watch_log_close(wl);
	CHECK(pid2 > 0 && kill((pid_t)pid2, 0) < 0 && errno == ESRCH);
	CHECK_EQ_INT(watch_log_open(&wl, "journal:", cat(), err, sizeof(err)), -1);
	CHECK_EQ_INT(watch_log_open(&wl, "journal:-b", cat(), err, sizeof(err)), -1);
}

/* ---- the bounce Maildir ---- */

static const char bounce[] =
	"Return-Path: <>\n"
	"From: MAILER-DAEMON@mail.example.net (Mail Delivery System)\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"To: alice@example.net\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
	"\n"
	"--B\n"
	"Content-Type: text/plain\n"
	"\n"
	"<bob@Customer.Example>: host mx.customer.example[198.51.100.25] said: 554\n"
	"    5.7.1 Service unavailable; Client host [203.0.113.7] blocked using\n"
	"    zen.spamhaus.org (in reply to RCPT TO command)\n"
	"<carol@other.example>: host mx.other.example[198.51.100.26] said: 550\n"
	"    5.1.1 User unknown (in reply to RCPT TO command)\n"
	"\n"
	"--B\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mail.example.net\n"
	"\n"
	"Final-Recipient: rfc822; bob@Customer.Example\n"
	"Action: failed\n"
	"Status: 5.7.1\n"
	"Remote-MTA: dns; mx.customer.example\n"
	"Diagnostic-Code: smtp; 554 5.7.1 Service unavailable; Client host\n"
	"    [203.0.113.7] blocked using zen.spamhaus.org\n"
	"\n"
	"Final-Recipient: rfc822; carol@other.example\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"Remote-MTA: dns; mx.other.example\n"
	"Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
	"\n"
	"--B--\n";

static int count_dir(const char *path)
{
	char cmd[600];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", path);
	p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

UNIT_TEST(maildir_bounces)
{
	struct watch_maildir *wm;
	struct watch_signal_stats st;
	struct got g = { 0 };
	char err[256], dir[512], p[600];

	snprintf(dir, sizeof(dir), "%s", tmp("Maildir"));
	CHECK_EQ_INT(watch_maildir_open(&wm, dir, cat(), err, sizeof(err)), -1);
	CHECK(strstr(err, "Maildir") != NULL);
	mkdir(dir, 0700);
	snprintf(p, sizeof(p), "%s/new", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/cur", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/tmp", dir);
	mkdir(p, 0700);
	CHECK_EQ_INT(watch_maildir_open(&wm, dir, cat(), err, sizeof(err)), 0);
	if (!wm)
		return;
	CHECK_EQ_INT(watch_maildir_fd(wm), -1);
	snprintf(p, sizeof(p), "%s/new/1700000000.1.host", dir);
	append(p, bounce, sizeof(bounce) - 1);
	snprintf(p, sizeof(p), "%s/new/1700000000.2.host", dir);	/* broken: empty */
	append(p, "", 0);
	snprintf(p, sizeof(p), "%s/new/1700000000.3.host", dir);	/* a link */
	CHECK(symlink("/etc/passwd", p) == 0);
	snprintf(p, sizeof(p), "%s/new/.hidden", dir);
	append(p, bounce, sizeof(bounce) - 1);
	CHECK_EQ_INT(watch_maildir_poll(wm, collect, &g, err, sizeof(err)), 1);
	CHECK_EQ_INT(g.n, 1);
	CHECK_EQ_STR(g.last.source, "bounce");
	CHECK_EQ_STR(g.last.list_id, "spamhaus-zen");
	CHECK_EQ_STR(g.last.zone, "zen.spamhaus.org");
	CHECK_EQ_STR(g.last.ip, "203.0.113.7");
	CHECK_EQ_STR(g.last.rcpt_domain, "customer.example");
	CHECK_EQ_STR(g.last.relay, "mx.customer.example");
	CHECK(strstr(g.last.text, "blocked using zen.spamhaus.org") != NULL);
	/* every message kept, in cur/, none to read again */
	snprintf(p, sizeof(p), "%s/new", dir);
	CHECK_EQ_INT(count_dir(p), 1);	/* .hidden */
	snprintf(p, sizeof(p), "%s/cur", dir);
	CHECK_EQ_INT(count_dir(p), 3);
	snprintf(p, sizeof(p), "%s/cur/1700000000.1.host:2,", dir);
	CHECK(access(p, R_OK) == 0);
	CHECK_EQ_INT(watch_maildir_poll(wm, collect, &g, err, sizeof(err)), 0);
	watch_maildir_stats(wm, &st);
	CHECK_EQ_INT(st.lines, 3);
	CHECK_EQ_INT(st.signals, 1);
	CHECK_EQ_INT(st.broken, 2);
	watch_maildir_close(wm);
}

/* last: remove what the tests wrote */
UNIT_TEST(zz_cleanup)
{
	char cmd[300];

	if (tmpdir[0] && !strncmp(tmpdir, "/tmp/rblkit-wsig.", 17)) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		CHECK(system(cmd) == 0);
	}
}

/* ---- a driver for the integration tests ----
 *   test_watch_signals follow SPEC | maildir DIR
 * prints "ready", then one JSON object a signal (with "seen_ms", the
 * wall clock when the poll returned it), polling every 250 ms as the
 * daemon's timer does (and at once when the journal's fd is readable),
 * until stdin is closed. */

static void json_str(const char *k, const char *v)
{
	printf(", \"%s\": \"", k);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			putchar('\\');
		putchar(*v);
	}
	putchar('"');
}

static void print_signal(void *arg, const struct watch_signal *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("{\"seen_ms\": %lld, \"when\": %lld",
	       (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, (long long)s->when);
	json_str("source", s->source);
	json_str("list_id", s->list_id);
	json_str("zone", s->zone);
	json_str("ip", s->ip);
	json_str("rcpt_domain", s->rcpt_domain);
	json_str("relay", s->relay);
	json_str("text", s->text);
	printf("}\n");
	fflush(stdout);
}

static int driver(int argc, char **argv)
{
	struct watch_log *wl = NULL;
	struct watch_maildir *wm = NULL;
	char err[512];
	int rc;

	if (argc != 3 || (strcmp(argv[1], "follow") && strcmp(argv[1], "maildir"))) {
		fprintf(stderr, "usage: %s follow SPEC | maildir DIR\n", argv[0]);
		return 2;
	}
	rc = !strcmp(argv[1], "follow") ? watch_log_open(&wl, argv[2], cat(), err, sizeof(err))
					 : watch_maildir_open(&wm, argv[2], cat(), err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
				       { .fd = wl ? watch_log_fd(wl) : -1, .events = POLLIN } };
		char buf[256];

		poll(p, p[1].fd >= 0 ? 2 : 1, 250);
		if (p[0].revents && read(0, buf, sizeof(buf)) <= 0)
			break;
		rc = wl ? watch_log_poll(wl, print_signal, NULL, err, sizeof(err))
			: watch_maildir_poll(wm, print_signal, NULL, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "poll: %s\n", err);
	}
	watch_log_close(wl);
	watch_maildir_close(wm);
	return 0;
}

/* the harness's main, renamed: main() below picks the mode */
int unit_main(void);
#define main unit_main
UNIT_MAIN()
#undef main

int main(int argc, char **argv)
{
	return argc > 1 ? driver(argc, argv) : unit_main();
}
