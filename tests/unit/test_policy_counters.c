/*
 * test_policy_counters.c - outbound_store URLs (counters.h); the store
 * itself is tested against a real redis-server in
 * tests/integration/test_policy_redis.py.
 */
#include "policy/counters.h"
#include "unit.h"

#include <string.h>

UNIT_TEST(good_urls)
{
	static const char *const good[] = {
		"redis://127.0.0.1:6379", "redis://127.0.0.1:6379/", "redis://127.0.0.1:6379/15",
		"redis://:pw@127.0.0.1:6379/0", "redis://user:p%40ss%3Aw@127.0.0.1:1/0",
		"redis://[::1]:6379/2", "rediss://redis.example:6380/0",
		"rediss://u:p@[2001:db8::1]:6380", "redis://a:b@c@127.0.0.1:6379",
	};
	char err[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err[0] = '\0';
		CHECK_EQ_INT(pcs_url_check(good[i], err, sizeof(err)), 0);
	}
}

UNIT_TEST(bad_urls)
{
	static const struct { const char *url, *why; } bad[] = {
		{ "redis://127.0.0.1", "HOST:PORT" },
		{ "redis://127.0.0.1:0", "HOST:PORT" },
		{ "redis://127.0.0.1:65536", "HOST:PORT" },
		{ "redis://127.0.0.1:6379x", "HOST:PORT" },
		{ "redis://:6379", "HOST:PORT" },
		{ "redis://[::1:6379", "HOST:PORT" },
		{ "redis://127.0.0.1:6379/db", "database" },
		{ "redis://127.0.0.1:6379/-1", "database" },
		{ "redis://pw@127.0.0.1:6379", "PASSWORD" },
		{ "redis://:p%4@127.0.0.1:6379", "%XX" },
		{ "redis://:p%zz@127.0.0.1:6379", "%XX" },
		{ "http://127.0.0.1:6379", "expected local" },
		{ "", "expected local" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_EQ_INT(pcs_url_check(bad[i].url, err, sizeof(err)), -1);
		CHECK(strstr(err, bad[i].why) != NULL);
	}
}

UNIT_MAIN()
