/*
 * test_policy_limits.c - outbound limits (windows, overrides, routing,
 * blocks), their persistence (journal, snapshot, torn records) and the
 * configuration file.
 */
#include "policy/config.h"
#include "policy/decide.h"
#include "policy/state.h"
#include "policy/ratelimit.h"
#include "unit.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define T0 1700000000u	/* a multiple of 3600 and of 86400 plus 0? see below */

static struct pcfg *cfg_ok(const char *text)
{
	char err[512] = "";
	struct pcfg *c = pcfg_parse(text, "test.conf", err, sizeof(err));

	if (!c)
		printf("  unexpected config error: %s\n", err);
	return c;
}

static char *cfg_err(const char *text)
{
	static char err[512];
	struct pcfg *c;

	err[0] = '\0';
	c = pcfg_parse(text, "test.conf", err, sizeof(err));
	if (c) {
		pcfg_free(c);
		return NULL;
	}
	return err;
}

UNIT_TEST(limit_syntax)
{
	struct rl_limits l;
	char err[256], text[64];

	CHECK_EQ_INT(rl_parse_limits("100 messages/hour, 1000 recipients/day", &l, err,
				     sizeof(err)), 0);
	CHECK_EQ_INT(l.n, 2);
	CHECK_EQ_INT(l.lim[0].kind, RL_MESSAGES);
	CHECK_EQ_INT(l.lim[0].max, 100);
	CHECK_EQ_INT(l.lim[0].period, 3600);
	CHECK_EQ_INT(l.lim[1].kind, RL_RECIPIENTS);
	CHECK_EQ_INT(l.lim[1].period, 86400);
	CHECK_EQ_INT(rl_parse_limits("5 messages / 10m,20 recipients/ hours", &l, err,
				     sizeof(err)), 0);
	CHECK_EQ_INT(l.lim[0].period, 600);
	CHECK_EQ_INT(l.lim[1].period, 3600);
	rl_limit_text(&l.lim[0], text, sizeof(text));
	CHECK_EQ_STR(text, "5 messages/10m");
	CHECK_EQ_INT(rl_parse_limits("", &l, err, sizeof(err)), 0);
	CHECK_EQ_INT(l.n, 0);
	CHECK_EQ_INT(rl_parse_limits("100 mails/hour", &l, err, sizeof(err)), -1);
	CHECK_EQ_INT(rl_parse_limits("0 messages/hour", &l, err, sizeof(err)), -1);
	CHECK_EQ_INT(rl_parse_limits("100 messages/fortnight", &l, err, sizeof(err)), -1);
	CHECK_EQ_INT(rl_parse_limits("100 messages", &l, err, sizeof(err)), -1);
	CHECK_EQ_INT(rl_parse_limits("1 messages/hour,2 messages/day,3 messages/week,"
				     "4 messages/minute,5 messages/second", &l, err,
				     sizeof(err)), -1);
}

UNIT_TEST(sliding_window)
{
	struct rl_table *t = rl_new(100);
	struct rl_user *u = rl_get(t, "alice", true);
	uint32_t periods[] = { 3600 }, base = 1700000000u - 1700000000u % 3600;

	rl_add(u, periods, 1, base + 10, 10, 20);
	CHECK_EQ_INT(rl_estimate(u, RL_MESSAGES, 3600, base + 10), 10);
	CHECK_EQ_INT(rl_estimate(u, RL_RECIPIENTS, 3600, base + 10), 20);
	/* half-way into the next window half of the old one still counts */
	CHECK_EQ_INT(rl_estimate(u, RL_MESSAGES, 3600, base + 3600 + 1800), 5);
	rl_add(u, periods, 1, base + 3600 + 1800, 1, 1);
	CHECK_EQ_INT(rl_estimate(u, RL_MESSAGES, 3600, base + 3600 + 1800), 6);
	/* two windows later everything has run out */
	CHECK_EQ_INT(rl_estimate(u, RL_MESSAGES, 3600, base + 3 * 3600 + 1), 0);
	CHECK_EQ_INT(rl_estimate(u, RL_MESSAGES, 86400, base), 0);	/* not counted */
	CHECK_EQ_INT(rl_expire(t, base + 3 * 3600 + 1), 1);
	CHECK_EQ_INT(rl_count(t), 0);
	rl_free(t);
}

UNIT_TEST(table_limits_and_long_keys)
{
	struct rl_table *t = rl_new(3);
	char key[RL_MAX_KEY + 50];

	CHECK(rl_get(t, "a", true) != NULL);
	CHECK(rl_get(t, "b", true) != NULL);
	CHECK(rl_get(t, "a", true) == rl_get(t, "a", false));
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	CHECK(rl_get(t, key, true) != NULL);
	CHECK_EQ_INT(strlen(rl_get(t, key, false)->kn.key), RL_MAX_KEY);
	CHECK(rl_get(t, "d", true) == NULL);	/* full */
	CHECK_EQ_INT(rl_remove(t, "a"), 0);
	CHECK_EQ_INT(rl_remove(t, "a"), -1);
	CHECK(rl_get(t, "d", true) != NULL);
	rl_free(t);
}

UNIT_TEST(table_grows)
{
	struct rl_table *t = rl_new(100000);
	char k[32];
	int ok = 1;

	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "user%d@example.com", i);
		ok &= rl_get(t, k, true) != NULL;
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "user%d@example.com", i);
		ok &= rl_get(t, k, false) != NULL && !strcmp(rl_get(t, k, false)->kn.key, k);
	}
	CHECK(ok);
	CHECK_EQ_INT(rl_count(t), 5000);
	rl_free(t);
}

/* A request as Postfix sends it. */
static struct pp_request req(const char *state, const char *sasl, const char *sender,
			     const char *client, const char *rcount)
{
	struct pp_request r = { 0 };

	r.request = "smtpd_access_policy";
	r.protocol_state = state;
	r.sasl_username = sasl;
	r.sender = sender;
	r.client_address = client;
	r.recipient_count = rcount;
	return r;
}

/* Send one message of n recipients as user: RCPT then EOM. Returns the
 * EOM action's first word (or the RCPT's when that refused). */
static const char *send_msg(struct pd_ctx *x, const char *user, unsigned n, uint32_t now)
{
	static char action[PD_ACTION_MAX];
	char cnt[16];
	struct pp_request r = req("RCPT", user, "s@x", "10.0.0.1", NULL);
	const char *key;

	CHECK_EQ_INT(pd_route(x->cfg, &r, &key), PD_OUTBOUND);
	if (pd_outbound(x, &r, key, now, action, sizeof(action)))
		return action;
	snprintf(cnt, sizeof(cnt), "%u", n);
	r = req("END-OF-MESSAGE", user, "s@x", "10.0.0.1", cnt);
	pd_outbound(x, &r, key, now, action, sizeof(action));
	return action;
}

UNIT_TEST(outbound_messages_per_hour)
{
	struct pcfg *c = cfg_ok("outbound_limits = 3 messages/hour, 10 recipients/day\n"
				"state_dir = /nonexistent\n");
	struct pd_ctx x = { 0 };
	uint32_t now = 1700000000u;

	if (!c)
		return;
	x.t = rl_new(100);
	pd_set_config(&x, c);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_STR(send_msg(&x, "alice", 1, now + (uint32_t)i), "DUNNO");
	CHECK(!strncmp(send_msg(&x, "alice", 1, now + 5), "DEFER 4.7.1 ", 12));
	CHECK(strstr(send_msg(&x, "alice", 1, now + 6), "3 of 3 messages per hour") != NULL);
	CHECK(rl_get(x.t, "alice", false)->blocked);
	/* another user is not affected */
	CHECK_EQ_STR(send_msg(&x, "bob", 1, now + 7), "DUNNO");
	/* refused messages were not counted; the window slides */
	CHECK_EQ_INT(rl_estimate(rl_get(x.t, "alice", false), RL_MESSAGES, 3600, now + 7), 3);
	CHECK_EQ_STR(send_msg(&x, "alice", 1, now + 2 * 3600 + 10), "DUNNO");
	CHECK(!rl_get(x.t, "alice", false)->blocked);
	rl_free(x.t);
	pcfg_free(c);
}

UNIT_TEST(outbound_recipients_counted_at_end_of_message)
{
	struct pcfg *c = cfg_ok("outbound_limits = 10 recipients/day\nstate_dir = /x\n");
	struct pd_ctx x = { 0 };
	uint32_t now = 1700000000u;

	if (!c)
		return;
	x.t = rl_new(100);
	pd_set_config(&x, c);
	CHECK_EQ_STR(send_msg(&x, "carol", 6, now), "DUNNO");
	/* 6 + 5 > 10: the whole message is refused at END-OF-MESSAGE */
	CHECK(!strncmp(send_msg(&x, "carol", 5, now + 1), "DEFER", 5));
	CHECK_EQ_INT(rl_estimate(rl_get(x.t, "carol", false), RL_RECIPIENTS, 86400, now + 1), 6);
	/* a smaller one still fits */
	CHECK_EQ_STR(send_msg(&x, "carol", 4, now + 2), "DUNNO");
	CHECK(!strncmp(send_msg(&x, "carol", 1, now + 3), "DEFER", 5));
	rl_free(x.t);
	pcfg_free(c);
}

UNIT_TEST(outbound_message_over_a_whole_limit_blocks_nobody)
{
	struct pcfg *c = cfg_ok("outbound_limits = 3 messages/hour, 5 recipients/day\n"
				"outbound_block = reset\nstate_dir = /x\n");
	struct pd_ctx x = { 0 };
	uint32_t now = 1700000000u;
	struct pp_request r;
	char action[PD_ACTION_MAX];

	if (!c)
		return;
	x.t = rl_new(100);
	pd_set_config(&x, c);
	/* 6 recipients under 5/day: refused with the count it would make */
	CHECK(strstr(send_msg(&x, "q@x", 6, now), "(6 of 5 recipients per day)") != NULL);
	CHECK(!rl_get(x.t, "q@x", false)->blocked);
	/* not counted, not blocked (with reset too): a small one goes */
	CHECK_EQ_STR(send_msg(&x, "q@x", 1, now + 1), "DUNNO");
	/* 1 + 4 = 5: fits; then the user is at the limit: blocked, at 5 */
	CHECK_EQ_STR(send_msg(&x, "q@x", 4, now + 2), "DUNNO");
	CHECK(strstr(send_msg(&x, "q@x", 1, now + 3), "(5 of 5 recipients per day)") != NULL);
	CHECK(rl_get(x.t, "q@x", false)->blocked);
	/* a recipient_count that is not digits: a bad request, not counted */
	r = req("END-OF-MESSAGE", "m@x", "s@x", "10.0.0.1", "-5");
	CHECK_EQ_INT(pd_outbound(&x, &r, "m@x", now, action, sizeof(action)), PD_BADREQ);
	CHECK_EQ_STR(action, "DUNNO");
	r = req("END-OF-MESSAGE", "m@x", "s@x", "10.0.0.1", "6x");
	CHECK_EQ_INT(pd_outbound(&x, &r, "m@x", now, action, sizeof(action)), PD_BADREQ);
	CHECK(rl_get(x.t, "m@x", false) == NULL);
	rl_free(x.t);
	pcfg_free(c);
}

UNIT_TEST(full_table_makes_room_from_idle_users)
{
	/* idle users were dropped only at SIGTERM: once max_users had ever
	 * been counted, every new user went uncounted (unlimited) until a
	 * restart, although the table held only users long idle */
	struct pcfg *c = cfg_ok("outbound_limits = 1 messages/hour\nmax_users = 10\n"
				"state_dir = /x\n");
	struct pd_ctx x = { 0 };
	uint32_t now = 1700000000u;
	char user[16];

	if (!c)
		return;
	x.t = rl_new(c->max_users);
	pd_set_config(&x, c);
	for (int i = 0; i < 10; i++) {
		snprintf(user, sizeof(user), "old%d", i);
		CHECK_EQ_STR(send_msg(&x, user, 1, now), "DUNNO");
	}
	CHECK_EQ_INT(rl_count(x.t), 10);
	/* still full of active users: a new one cannot be counted */
	CHECK_EQ_STR(send_msg(&x, "new", 1, now + 60), "DUNNO");
	CHECK(rl_get(x.t, "new", false) == NULL);
	/* three hours later all of them are idle: the new user is counted */
	CHECK_EQ_STR(send_msg(&x, "late", 1, now + 3 * 3600), "DUNNO");
	CHECK(!strncmp(send_msg(&x, "late", 1, now + 3 * 3600 + 1), "DEFER", 5));
	rl_free(x.t);
	pcfg_free(c);
}

UNIT_TEST(outbound_override_and_hold)
{
	struct pcfg *c = cfg_ok("outbound_limits = 1 messages/hour\n"
				"outbound_override = vip@example.com: 3 messages/hour\n"
				"outbound_override = tiny@example.com : 1 recipients/hour\n"
				"outbound_action = hold\n"
				"outbound_reply = limit %l %k/%w for %u\n"
				"state_dir = /x\n");
	struct pd_ctx x = { 0 };
	uint32_t now = 1700000000u;

	if (!c)
		return;
	x.t = rl_new(100);
	pd_set_config(&x, c);
	CHECK_EQ_STR(send_msg(&x, "vip@example.com", 1, now), "DUNNO");
	CHECK_EQ_STR(send_msg(&x, "vip@example.com", 1, now), "DUNNO");
	CHECK_EQ_STR(send_msg(&x, "vip@example.com", 1, now), "DUNNO");
	CHECK_EQ_STR(send_msg(&x, "vip@example.com", 1, now),
		     "HOLD limit 3 messages/hour for vip@example.com");
	CHECK_EQ_STR(send_msg(&x, "plain@example.com", 1, now), "DUNNO");
	CHECK(!strncmp(send_msg(&x, "plain@example.com", 1, now), "HOLD", 4));
	CHECK(!strncmp(send_msg(&x, "tiny@example.com", 2, now), "HOLD", 4));
	rl_free(x.t);
	pcfg_free(c);
}

UNIT_TEST(block_until_reset)
{
	struct pcfg *c = cfg_ok("outbound_limits = 1 messages/10m\noutbound_block = reset\n"
				"state_dir = /x\n");
	struct pd_ctx x = { 0 };
	uint32_t now = 1700000000u;

	if (!c)
		return;
	x.t = rl_new(100);
	pd_set_config(&x, c);
	CHECK_EQ_STR(send_msg(&x, "dave", 1, now), "DUNNO");
	CHECK(!strncmp(send_msg(&x, "dave", 1, now + 1), "DEFER", 5));
	/* a day later the counts are gone, the block is not */
	CHECK(!strncmp(send_msg(&x, "dave", 1, now + 86400), "DEFER", 5));
	rl_remove(x.t, "dave");		/* what "policy reset" does */
	CHECK_EQ_STR(send_msg(&x, "dave", 1, now + 86401), "DUNNO");
	rl_free(x.t);
	pcfg_free(c);
}

UNIT_TEST(routing)
{
	struct pcfg *c = cfg_ok("client_allowlist = 192.0.2.0/24, 2001:db8::/32\n"
				"outbound_networks = 127.0.0.0/8, 10.1.0.0/16\n"
				"state_dir = /x\n");
	struct pp_request r;
	const char *key = NULL;

	if (!c)
		return;
	r = req("RCPT", "user1", "a@x", "198.51.100.1", NULL);
	CHECK_EQ_INT(pd_route(c, &r, &key), PD_OUTBOUND);
	CHECK_EQ_STR(key, "user1");
	/* webmail on a local network: the sender, then the address */
	r = req("RCPT", "", "web@example.com", "10.1.2.3", NULL);
	CHECK_EQ_INT(pd_route(c, &r, &key), PD_OUTBOUND);
	CHECK_EQ_STR(key, "web@example.com");
	r = req("RCPT", "", "", "127.0.0.1", NULL);
	CHECK_EQ_INT(pd_route(c, &r, &key), PD_OUTBOUND);
	CHECK_EQ_STR(key, "127.0.0.1");
	/* a stranger's sender address is not a key: inbound, scored */
	r = req("RCPT", "", "web@example.com", "198.51.100.1", NULL);
	CHECK_EQ_INT(pd_route(c, &r, &key), PD_INBOUND);
	r = req("CONNECT", NULL, NULL, "198.51.100.1", NULL);
	CHECK_EQ_INT(pd_route(c, &r, &key), PD_INBOUND);
	r = req("END-OF-MESSAGE", NULL, "x@y", "198.51.100.1", "1");
	CHECK_EQ_INT(pd_route(c, &r, &key), PD_NONE);
	r = req("RCPT", NULL, "x@y", "192.0.2.77", NULL);
	CHECK_EQ_INT(pd_route(c, &r, &key), PD_NONE);
	r = req("RCPT", NULL, "x@y", "2001:db8:1::5", NULL);
	CHECK_EQ_INT(pd_route(c, &r, &key), PD_NONE);
	r = req("RCPT", NULL, "x@y", "2001:db9::5", NULL);
	CHECK_EQ_INT(pd_route(c, &r, &key), PD_INBOUND);
	r = req("RCPT", NULL, "x@y", "192.0.3.1", NULL);
	CHECK_EQ_INT(pd_route(c, &r, &key), PD_INBOUND);
	pcfg_free(c);
}

UNIT_TEST(inbound_actions)
{
	struct pcfg *c = cfg_ok("dnsbl_sites = bl.example*3\ndnsbl_threshold = 3\n"
				"state_dir = /x\n");
	struct plk_result res = { 0 };
	struct pp_request r = req("RCPT", NULL, "a@b", "192.0.2.1", NULL);
	char action[PD_ACTION_MAX];

	if (!c)
		return;
	res.zone = "bl.example";
	res.score = 3;
	res.listed = true;
	strcpy(res.detail, "bl.example*3");
	pd_inbound(c, &r, &res, action, sizeof(action));
	CHECK_EQ_STR(action, "554 5.7.1 Service unavailable; Client host [192.0.2.1] "
		     "blocked using bl.example");
	strcpy(res.txt, "see http://bl.example/192.0.2.1");
	pd_inbound(c, &r, &res, action, sizeof(action));
	CHECK_EQ_STR(action, "554 5.7.1 Service unavailable; Client host [192.0.2.1] "
		     "blocked using bl.example; see http://bl.example/192.0.2.1");
	res.listed = false;
	pd_inbound(c, &r, &res, action, sizeof(action));
	CHECK_EQ_STR(action, "DUNNO");
	c->dnsbl_action = DA_PREPEND;
	pd_inbound(c, &r, &res, action, sizeof(action));
	CHECK_EQ_STR(action, "PREPEND X-Rblkit-Score: score=3 threshold=3 lists=bl.example*3");
	res.detail[0] = '\0';
	pd_inbound(c, &r, &res, action, sizeof(action));
	CHECK_EQ_STR(action, "DUNNO");
	pcfg_free(c);
}

/* -- persistence ----------------------------------------------------- */

static char *tmpdir(void)
{
	static char d[64];

	strcpy(d, "/tmp/rblkit-pst-XXXXXX");
	return mkdtemp(d);
}

static void rmrf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		printf("  could not remove %s\n", dir);
}

UNIT_TEST(state_survives_restart_and_crash)
{
	char *dir = tmpdir(), err[256];
	struct rl_table *t = rl_new(100);
	struct pst *p = pst_open(dir, t, false, err, sizeof(err));
	uint32_t periods[] = { 3600, 86400 }, now = 1700000000u;
	struct rl_user *u;

	CHECK(p != NULL);
	if (!p)
		return;
	/* a second daemon cannot take the directory */
	{
		struct rl_table *t2 = rl_new(10);

		CHECK(pst_open(dir, t2, false, err, sizeof(err)) == NULL);
		CHECK(strstr(err, "in use") != NULL);
		rl_free(t2);
	}
	u = rl_get(t, "alice", true);
	for (int i = 0; i < 7; i++) {
		rl_add(u, periods, 2, now, 1, 3);
		pst_add(p, u, periods, 2, now, 1, 3);
	}
	u->blocked = true;
	u->blocked_since = now;
	u->blocked_by = (struct rl_limit){ RL_MESSAGES, 7, 3600 };
	pst_block(p, u);
	u = rl_get(t, "bob", true);
	rl_add(u, periods, 2, now, 1, 1);
	pst_add(p, u, periods, 2, now, 1, 1);
	rl_remove(t, "bob");
	pst_reset(p, "bob");
	/* "crash": no snapshot, the journal alone; the lock goes with the fd */
	{
		struct rl_table *t2 = rl_new(100);
		struct pst *ro = pst_open(dir, t2, true, err, sizeof(err));
		struct rl_user *a;

		CHECK(ro != NULL);
		a = rl_get(t2, "alice", false);
		CHECK(a != NULL);
		if (a) {
			CHECK_EQ_INT(rl_estimate(a, RL_MESSAGES, 3600, now), 7);
			CHECK_EQ_INT(rl_estimate(a, RL_RECIPIENTS, 86400, now), 21);
			CHECK(a->blocked);
			CHECK_EQ_INT(a->blocked_by.max, 7);
		}
		CHECK(rl_get(t2, "bob", false) == NULL);
		pst_close(ro);
		rl_free(t2);
	}
	/* clean stop: snapshot; a restart reads it and the journals after it */
	pst_close(p);
	rl_free(t);
	t = rl_new(100);
	p = pst_open(dir, t, false, err, sizeof(err));
	CHECK(p != NULL);
	if (p) {
		u = rl_get(t, "alice", false);
		CHECK(u && rl_estimate(u, RL_MESSAGES, 3600, now) == 7);
		rl_add(u, periods, 2, now, 1, 1);
		pst_add(p, u, periods, 2, now, 1, 1);
		pst_snapshot(p);	/* a second generation */
		rl_add(u, periods, 2, now, 1, 1);
		pst_add(p, u, periods, 2, now, 1, 1);
		pst_close(p);
	}
	rl_free(t);
	t = rl_new(100);
	p = pst_open(dir, t, true, err, sizeof(err));
	u = p ? rl_get(t, "alice", false) : NULL;
	CHECK(u && rl_estimate(u, RL_MESSAGES, 3600, now) == 9);
	pst_close(p);
	rl_free(t);
	rmrf(dir);
}

UNIT_TEST(state_torn_record_is_ignored)
{
	char *dir = tmpdir(), err[256], path[128];
	struct rl_table *t = rl_new(100);
	struct pst *p = pst_open(dir, t, false, err, sizeof(err));
	uint32_t periods[] = { 3600 }, now = 1700000000u;
	struct rl_user *u = rl_get(t, "eve", true);
	int fd;
	struct stat st;

	if (!p)
		return;
	for (int i = 0; i < 3; i++) {
		rl_add(u, periods, 1, now, 1, 1);
		pst_add(p, u, periods, 1, now, 1, 1);
	}
	/* cut the last record in half, as a crash in write(2) would */
	snprintf(path, sizeof(path), "%s/journal.1", dir);
	CHECK(stat(path, &st) == 0);
	CHECK(truncate(path, st.st_size - 5) == 0);
	/* and a snapshot file of garbage must not stop the start */
	snprintf(path, sizeof(path), "%s/counters", dir);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "garbage!garbage!garbage", 23) == 23);
	close(fd);
	{
		struct rl_table *t2 = rl_new(100);
		struct pst *ro = pst_open(dir, t2, true, err, sizeof(err));
		struct rl_user *e = rl_get(t2, "eve", false);

		CHECK(ro != NULL);
		CHECK(e && rl_estimate(e, RL_MESSAGES, 3600, now) == 2);
		pst_close(ro);
		rl_free(t2);
	}
	/* the lock is released with close */
	{
		int lfd;

		snprintf(path, sizeof(path), "%s/lock", dir);
		lfd = open(path, O_RDONLY);
		CHECK(lfd >= 0);
		close(lfd);
	}
	pst_close(p);
	rl_free(t);
	rmrf(dir);
}

UNIT_TEST(state_limit_with_window_0_is_refused)
{
	/* a state file (corrupted, or written by someone else with a valid
	 * CRC) blocking a user by a limit of window 0: with outbound_block =
	 * reset the next request of that user divided by the window (SIGFPE) */
	char *dir = tmpdir(), err[256];
	struct rl_table *t = rl_new(100);
	struct pst *p = pst_open(dir, t, false, err, sizeof(err));
	uint32_t now = 1700000000u;
	struct rl_user *u;

	if (!p)
		return;
	/* a user without counters: no counter for window 0 either */
	u = rl_get(t, "mallory", true);
	CHECK_EQ_INT(rl_estimate(u, RL_MESSAGES, 0, now), 0);
	u->blocked = true;
	u->blocked_since = now;
	u->blocked_by = (struct rl_limit){ RL_MESSAGES, 1, 0 };
	pst_block(p, u);	/* journal: R_BLOCK */
	for (int round = 0; round < 2; round++) {
		struct rl_table *t2 = rl_new(100);
		struct pst *ro = pst_open(dir, t2, true, err, sizeof(err));
		struct rl_user *m = rl_get(t2, "mallory", false);

		CHECK(ro != NULL);
		CHECK(!m || !m->blocked || m->blocked_by.period != 0);
		pst_close(ro);
		rl_free(t2);
		if (round == 0)
			pst_close(p);	/* snapshot: R_USER */
	}
	rl_free(t);
	rmrf(dir);
}

UNIT_TEST(state_snapshots_while_counting)
{
	/* snapshots finished by the syncer thread while counting goes on:
	 * no change lost or counted twice, whatever the interleaving */
	char *dir = tmpdir(), err[256];
	struct rl_table *t = rl_new(1000);
	struct pst *p = pst_open(dir, t, false, err, sizeof(err));
	uint32_t periods[] = { 86400 }, now = 1700000000u;
	char key[32];

	if (!p)
		return;
	for (int i = 0; i < 300; i++) {
		struct rl_user *u;

		snprintf(key, sizeof(key), "u%d", i % 17);
		u = rl_get(t, key, true);
		rl_add(u, periods, 1, now, 1, 2);
		pst_add(p, u, periods, 1, now, 1, 2);
		if (i % 7 == 0)
			pst_snapshot(p);
		if (i % 50 == 0)
			usleep(2000);
	}
	pst_close(p);
	rl_free(t);
	t = rl_new(1000);
	p = pst_open(dir, t, true, err, sizeof(err));
	{
		uint32_t total = 0;

		for (int i = 0; i < 17; i++) {
			struct rl_user *u;

			snprintf(key, sizeof(key), "u%d", i);
			u = rl_get(t, key, false);
			if (u)
				total += rl_estimate(u, RL_MESSAGES, 86400, now);
		}
		CHECK_EQ_INT(total, 300);
	}
	pst_close(p);
	rl_free(t);
	rmrf(dir);
}

/* -- configuration --------------------------------------------------- */

UNIT_TEST(config_issue_example)
{
	struct pcfg *c = cfg_ok(
		"listen = 127.0.0.1:10040\n"
		"resolver = 127.0.0.1:53            # or: system (resolv.conf), recursive\n"
		"dnsbl_sites = zen.spamhaus.org=127.0.0.[2..11]*3, bl.spamcop.net*2, "
		"list.dnswl.org=127.0.[0..255].[2..3]*-5\n"
		"dnsbl_threshold = 3\n"
		"client_allowlist = 192.0.2.0/24, 2001:db8::/32\n"
		"outbound_limits = 100 messages/hour, 1000 recipients/day\n"
		"state_dir = /var/lib/rblkit\n");

	if (!c)
		return;
	CHECK_EQ_STR(c->listen, "127.0.0.1:10040");
	CHECK_EQ_STR(c->resolver, "127.0.0.1:53");
	CHECK_EQ_INT(c->sites->n, 3);
	CHECK_EQ_INT(c->threshold, 3);
	CHECK_EQ_INT(c->nallow, 2);
	CHECK_EQ_INT(c->limits.n, 2);
	CHECK_EQ_STR(c->state_dir, "/var/lib/rblkit");
	/* defaults */
	CHECK_EQ_INT(c->budget_ms, 2000);
	CHECK_EQ_INT(c->dnsbl_action, DA_REJECT);
	CHECK_EQ_INT(c->out_action, OA_DEFER);
	CHECK_EQ_INT(c->noutnets, 2);
	pcfg_free(c);
}

UNIT_TEST(config_continuation_and_comments)
{
	struct pcfg *c = cfg_ok("# comment\n\n"
				"dnsbl_sites =\n"
				"    a.example*2,\n"
				"\tb.example*3   # weight 3\n"
				"dnsbl_reply = 550 x#%a\n"
				"state_dir=/x\n");

	if (!c)
		return;
	CHECK_EQ_INT(c->sites->n, 2);
	CHECK_EQ_INT(c->sites->site[1].weight, 3);
	CHECK_EQ_STR(c->dnsbl_reply, "550 x#%a");	/* "#" inside a word stays */
	pcfg_free(c);
}

UNIT_TEST(config_errors_name_line_and_reason)
{
	char *e;

	e = cfg_err("listen = 127.0.0.1:10040\ndnsbl_treshold = 3\n");
	CHECK(e && strstr(e, "test.conf:2:") && strstr(e, "unknown key 'dnsbl_treshold'"));
	e = cfg_err("\n\ndnsbl_sites = a.example=127.0.0\n");
	CHECK(e && strstr(e, "test.conf:3: dnsbl_sites:") && strstr(e, "4 octets"));
	e = cfg_err("dnsbl_threshold = many\n");
	CHECK(e && strstr(e, "test.conf:1: dnsbl_threshold: expected an integer"));
	e = cfg_err("dnsbl_budget = 0\n");
	CHECK(e && strstr(e, ":1: dnsbl_budget"));
	e = cfg_err("client_allowlist = 192.0.2.1/24\n");
	CHECK(e && strstr(e, "192.0.2.1/24"));
	e = cfg_err("listen = localhost\n");
	CHECK(e && strstr(e, "ADDR:PORT"));
	e = cfg_err("resolver = 127.0.0.1:99999\n");
	CHECK(e && strstr(e, "resolver"));
	e = cfg_err("dnsbl_threshold = 1\ndnsbl_threshold = 2\n");
	CHECK(e && strstr(e, ":2: dnsbl_threshold given twice (first on line 1)"));
	e = cfg_err("outbound_limits = 100 messages/hour\n"
		    "outbound_override = a: 1 messages/day\n"
		    "outbound_override = b: 1 messages/week, 1 messages/minute, "
		    "1 messages/10m\n");
	CHECK(e && strstr(e, "different windows"));
	e = cfg_err("outbound_override = a: 1 messages/day\noutbound_override = a: 2 messages/day\n");
	CHECK(e && strstr(e, "second override"));
	e = cfg_err("  indented = 1\n");
	CHECK(e && strstr(e, "continuation"));
	e = cfg_err("state_dir = relative\n");
	CHECK(e && strstr(e, "absolute"));
	e = cfg_err("dnsbl_action = drop\n");
	CHECK(e && strstr(e, "reject or prepend"));
}

UNIT_TEST(expand)
{
	const char *vars[128] = { 0 };
	char out[128];

	vars['a'] = "192.0.2.1";
	vars['z'] = "bl.example";
	vars['t'] = "";
	pcfg_expand("[%a] %z%{; %t} 100%%", vars, out, sizeof(out));
	CHECK_EQ_STR(out, "[192.0.2.1] bl.example 100%");
	vars['t'] = "why";
	pcfg_expand("%z%{; %t}%q", vars, out, sizeof(out));
	CHECK_EQ_STR(out, "bl.example; why");
	pcfg_expand("%z%z%z", vars, out, 12);
	CHECK_EQ_STR(out, "bl.exampleb");	/* 11 characters and the NUL */
}

/* One parser for the listen value: what the file check accepts is what
 * the daemon binds, and a bad address is never a zeroed (0.0.0.0) one. */
UNIT_TEST(listen_address)
{
	static const char *const bad[] = { "1.2.3.999:10040", "localhost:10040",
		"127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "[::1]10040",
		"[127.0.0.1]:10040", "::1:10040", ":10040", "[::1]:x", NULL };
	static const struct { const char *spec; int family, port; } good[] = {
		{ "127.0.0.2:10040", AF_INET, 10040 }, { "[::1]:25", AF_INET6, 25 },
		{ "/run/rblkit/policy", AF_UNIX, 0 }, { "unix:/run/p", AF_UNIX, 0 },
	};
	char text[200];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct pcfg *c;
		const struct sockaddr_in *s4;
		const struct sockaddr_in6 *s6;

		snprintf(text, sizeof(text), "listen = %s\n", good[i].spec);
		if (!(c = cfg_ok(text)))
			continue;
		s4 = (const struct sockaddr_in *)&c->listen_addr.sa;
		s6 = (const struct sockaddr_in6 *)&c->listen_addr.sa;
		CHECK_EQ_STR(c->listen, good[i].spec);
		CHECK_EQ_INT(c->listen_addr.sa.ss_family, good[i].family);
		if (good[i].family == AF_INET) {
			CHECK_EQ_INT(ntohs(s4->sin_port), good[i].port);
			CHECK_EQ_INT(ntohl(s4->sin_addr.s_addr), 0x7f000002);
			CHECK_EQ_INT(c->listen_addr.len, sizeof(struct sockaddr_in));
		} else if (good[i].family == AF_INET6) {
			CHECK_EQ_INT(ntohs(s6->sin6_port), good[i].port);
			CHECK_EQ_INT(s6->sin6_addr.s6_addr[15], 1);
		}
		pcfg_free(c);
	}
	for (int i = 0; bad[i]; i++) {
		const char *e;

		snprintf(text, sizeof(text), "listen = %s\n", bad[i]);
		e = cfg_err(text);
		CHECK(e && strstr(e, "test.conf:1: listen: expected ADDR:PORT"));
	}
	CHECK(strstr(cfg_err("state_dir = /tmp\nlisten = 1.2.3.999:1\n"),
		     "test.conf:2: listen: expected ADDR:PORT") != NULL);
}

/* Every error of the file, not only the first, each with its line. */
UNIT_TEST(config_all_errors)
{
	const char *e = cfg_err("frob = 1\ndnsbl_threshold = x\nlog = maybe\n");

	CHECK(e && strstr(e, "test.conf:1: unknown key 'frob'"));
	CHECK(e && strstr(e, "\ntest.conf:2: dnsbl_threshold: expected an integer"));
	CHECK(e && strstr(e, "\ntest.conf:3: log: expected stderr or syslog"));
}

UNIT_MAIN()
