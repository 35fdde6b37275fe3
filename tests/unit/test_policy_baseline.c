/*
 * test_policy_baseline.c - senders against their own normal (baseline.c),
 * on simulated time.
 */
#include "policy/baseline.h"
#include "unit.h"

#include <string.h>

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

UNIT_MAIN()
