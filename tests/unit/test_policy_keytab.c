/*
 * test_policy_keytab.c - the per-user hash table of the policy daemon
 * (keytab.c), shared by the outbound counters and the baselines.
 */
#include "policy/keytab.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

struct rec {
	struct kt_node kn;
	int v;
};

static bool odd(void *arg, struct kt_node *n)
{
	(void)arg;
	return ((struct rec *)n)->v % 2;
}

static void sum(void *arg, struct kt_node *n)
{
	*(int *)arg += ((struct rec *)n)->v;
}

UNIT_TEST(get_grow_sweep_remove)
{
	struct kt_table *t = kt_new(5000);
	char key[32];
	bool created;
	int total = 0;

	for (int i = 0; i < 3000; i++) {	/* past 1024 buckets: grows */
		struct rec *r;

		snprintf(key, sizeof(key), "user%d@example.com", i);
		r = (struct rec *)kt_get(t, key, sizeof(*r), &created);
		CHECK(r && created && r->v == 0 && !strcmp(r->kn.key, key));
		r->v = i;
	}
	CHECK_EQ_INT(kt_count(t), 3000);
	CHECK(((struct rec *)kt_get(t, "user1234@example.com", 0, &created))->v == 1234);
	CHECK(!created);
	CHECK(kt_get(t, "nobody", 0, NULL) == NULL);
	CHECK(kt_set_seed(t, 42) == -1);	/* not while it holds records */
	CHECK_EQ_INT(kt_sweep(t, odd, NULL), 1500);
	kt_foreach(t, sum, &total);
	CHECK_EQ_INT(total, 1499 * 1500);	/* 0 + 2 + ... + 2998 */
	CHECK_EQ_INT(kt_remove(t, "user2@example.com", NULL), 0);
	CHECK_EQ_INT(kt_remove(t, "user2@example.com", NULL), -1);
	CHECK_EQ_INT(kt_count(t), 1499);
	kt_free(t, NULL);
}

UNIT_TEST(bounded_and_keys_cut)
{
	struct kt_table *t = kt_new(2);
	char longkey[KT_MAX_KEY + 50];

	memset(longkey, 'a', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	CHECK(kt_set_seed(t, 42) == 0 && kt_seed(t) == 42);
	CHECK(kt_get(t, longkey, sizeof(struct rec), NULL) != NULL);
	CHECK_EQ_INT(strlen(kt_get(t, longkey, 0, NULL)->key), KT_MAX_KEY);
	CHECK(kt_get(t, "b", sizeof(struct rec), NULL) != NULL);
	CHECK(kt_get(t, "c", sizeof(struct rec), NULL) == NULL);	/* full */
	kt_free(t, NULL);
}

UNIT_MAIN()
