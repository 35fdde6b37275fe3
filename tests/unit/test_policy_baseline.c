/*
 * test_policy_baseline.c - senders against their own normal (baseline.c),
 * on simulated time.
 */
#include "policy/baseline.h"
#include "policy/domset.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1793577600u		/* a Monday, 00:00 UTC */

static const struct bl_params P = { .factor = 5, .min_hour = 30, .min_day = 240, .new_hour = 2 };

/* n messages of key in the hour starting at t, spread evenly; returns
 * how many were refused. */
static unsigned send_hour(struct bl_table *t, const char *key, uint32_t start, unsigned n)
{
	unsigned refused = 0;

	for (unsigned i = 0; i < n; i++) {
		struct bl_verdict v;
		uint32_t at = start + i * (3600 / (n ? n : 1));

		if (bl_check(t, &P, key, at, &v))
			refused++;
		else
			bl_count(t, &P, key, at);
	}
	return refused;
}

UNIT_TEST(new_sender_held_above_default)
{
	struct bl_table *t = bl_new(100);
	struct bl_verdict v;

	/* normal 2 +- 2: held above max(30, 5 * (2 + 6)) = 40 */
	for (int i = 0; i < 40; i++) {
		CHECK(!bl_check(t, &P, "new", T0 + (uint32_t)i, &v));
		bl_count(t, &P, "new", T0 + (uint32_t)i);
	}
	CHECK(bl_check(t, &P, "new", T0 + 50, &v));
	CHECK(v.alert && !v.day);
	CHECK_EQ_INT(v.count, 41);
	CHECK_EQ_INT(v.threshold, 40);
	CHECK(bl_check(t, &P, "new", T0 + 51, &v));
	CHECK(!v.alert);		/* once per hour */
	/* the next hour starts again from the (now higher) normal */
	CHECK(!bl_check(t, &P, "new", T0 + 3600, &v));
	bl_free(t);
}

UNIT_TEST(two_quiet_weeks_then_a_takeover)
{
	struct bl_table *t = bl_new(100);
	unsigned refused = 0, sent = 0;

	/* 20 a day: 2 or 3 an hour from 9 to 17 h, weekends 5 a day */
	for (unsigned d = 0; d < 14; d++)
		for (unsigned h = 0; h < 24; h++) {
			unsigned n = d % 7 >= 5 ? (h == 11 ? 5 : 0) : (h >= 9 && h < 17 ? 2 + h % 2 : 0);

			refused += send_hour(t, "acct", T0 + d * 86400 + h * 3600, n);
		}
	CHECK_EQ_INT(refused, 0);
	/* then 2000 an hour, at 10:00 */
	for (unsigned i = 0; i < 2000; i++) {
		struct bl_verdict v;
		uint32_t at = T0 + 14 * 86400 + 10 * 3600 + i * 9 / 5;

		if (bl_check(t, &P, "acct", at, &v))
			break;
		bl_count(t, &P, "acct", at);
		sent++;
	}
	CHECK(sent <= 50);
	CHECK(sent >= 30);	/* baseline_min */
	bl_free(t);
}

UNIT_TEST(top_recipient_domains)
{
	struct bl_table *t = bl_new(100);
	char buf[256];

	for (int i = 0; i < 5; i++)
		bl_recipient(t, &P, "k", "a@Big.Example", T0);
	bl_recipient(t, &P, "k", "b@big.example", T0);
	bl_recipient(t, &P, "k", "c@small.example", T0);
	bl_recipient(t, &P, "k", "no-domain", T0);
	bl_recipient(t, &P, "k", "bad@ctl\x01.example", T0);
	bl_top_domains(t, "k", buf, sizeof(buf));
	CHECK_EQ_STR(buf, "Big.Example:6 ctl?.example:1 small.example:1");
	/* a new hour forgets them */
	bl_count(t, &P, "k", T0 + 3600);
	bl_top_domains(t, "k", buf, sizeof(buf));
	CHECK_EQ_STR(buf, "");
	bl_free(t);
}

UNIT_TEST(table_is_bounded)
{
	struct bl_table *t = bl_new(10);
	char key[16];

	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "u%d", i);
		bl_count(t, &P, key, T0);
	}
	CHECK_EQ_INT(bl_count_users(t), 10);
	bl_free(t);
}

static const struct bl_params PD = { .factor = 5, .min_hour = 30, .min_day = 240,
				     .new_hour = 2, .dom_factor = 5, .dom_min_hour = 10,
				     .dom_min_day = 80, .dom_new_hour = 1 };

UNIT_TEST(domset_exact_then_estimated)
{
	struct domset s;
	char name[32], text[DS_TEXT_MAX + 1];
	struct domset back;

	ds_clear(&s);
	for (int i = 0; i < 32; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		ds_add(&s, ds_hash(7, name, strlen(name)));
		ds_add(&s, ds_hash(7, name, strlen(name)));	/* twice: once */
	}
	CHECK_EQ_INT(ds_count(&s), 32);
	CHECK_EQ_INT(ds_hash(7, "A.Example", 9), ds_hash(7, "a.example", 9));
	ds_text(&s, text);
	CHECK(!ds_parse(&back, text, strlen(text)));
	CHECK_EQ_INT(ds_count(&back), 32);
	for (int i = 32; i < 1000; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		ds_add(&s, ds_hash(7, name, strlen(name)));
	}
	/* 1000 distinct: the HyperLogLog's estimate within 30 % */
	CHECK(ds_count(&s) > 700 && ds_count(&s) < 1300);
	ds_text(&s, text);
	CHECK(!ds_parse(&back, text, strlen(text)));
	CHECK_EQ_INT(ds_count(&back), ds_count(&s));
	CHECK(ds_parse(&back, "s123", 4));
	CHECK(ds_parse(&back, "dzz", 3));
}

/* n recipients of key at at, at domains dom0..dom(n-1); returns whether
 * the last check refused. */
static bool rcpts(struct bl_table *t, const char *key, uint32_t at, unsigned from, unsigned n,
		  struct bl_verdict *v)
{
	char r[64];
	bool held = false;

	for (unsigned i = from; i < from + n; i++) {
		snprintf(r, sizeof(r), "x@dom%u.example", i);
		bl_recipient(t, &PD, key, r, at);
		held = bl_check(t, &PD, key, at, v);
		if (!held)
			bl_count(t, &PD, key, at);
	}
	return held;
}

UNIT_TEST(many_domains_held_before_the_volume)
{
	struct bl_table *t = bl_new(100);
	struct bl_verdict v;
	char path[] = "/tmp/rblkit-bl-XXXXXX", err[256];
	int fd = mkstemp(path);
	struct bl_table *t2 = bl_new(100);

	/* a new sender: 1 +- 1 domains an hour: held above max(10, 5 * 4) = 20 */
	CHECK(!rcpts(t, "k", T0, 0, 20, &v));
	CHECK(rcpts(t, "k", T0 + 1, 20, 1, &v));
	CHECK(v.domains && !v.day && v.alert);
	CHECK_EQ_INT(v.count, 21);
	CHECK_EQ_INT(v.threshold, 20);
	/* held for the hour, also for a domain seen before */
	CHECK(rcpts(t, "k", T0 + 2, 0, 1, &v));
	CHECK(!v.alert);
	/* the same volume to one domain is not held */
	CHECK(!rcpts(t, "same", T0, 0, 1, &v));
	for (int i = 0; i < 25; i++) {
		bl_recipient(t, &PD, "same", "y@one.example", T0 + 3);
		CHECK(!bl_check(t, &PD, "same", T0 + 3, &v));
		bl_count(t, &PD, "same", T0 + 3);
	}
	/* saved and loaded: the hour's domains are still known */
	CHECK(fd >= 0);
	close(fd);
	CHECK(!bl_save(t, path));
	CHECK_EQ_INT(bl_load(t2, path, err, sizeof(err)), 2);
	CHECK(bl_held(t2, &PD, "k", T0 + 4, &v) && v.domains);
	CHECK(!rcpts(t2, "same", T0 + 5, 0, 1, &v));
	unlink(path);
	/* off (dom_factor 0): the same domains are never held */
	CHECK(!bl_held(t, &P, "k", T0 + 5, &v));
	bl_free(t);
	bl_free(t2);
}

UNIT_TEST(old_baselines_file_loads)
{
	char path[] = "/tmp/rblkit-bl-XXXXXX", err[256];
	int fd = mkstemp(path);
	struct bl_table *t = bl_new(100);
	struct bl_verdict v;
	FILE *f = fdopen(fd, "w");

	fprintf(f, "rblkit-baselines 1\n%u 3 2 4 %u 3 48 2304 0 0 1 k\n", T0, T0);
	fclose(f);
	CHECK_EQ_INT(bl_load(t, path, err, sizeof(err)), 1);
	CHECK(!bl_held(t, &PD, "k", T0 + 1, &v));
	unlink(path);
	bl_free(t);
}

UNIT_MAIN()
