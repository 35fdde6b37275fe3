/*
 * test_policy_resp.c - the Redis protocol reader and command writer.
 */
#include "policy/resp.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static int parse(const char *s, struct resp_reply *r, size_t *used)
{
	return resp_parse(s, strlen(s), r, used);
}

UNIT_TEST(scalars)
{
	struct resp_reply r;
	size_t used = 0;

	CHECK_EQ_INT(parse("+OK\r\n", &r, &used), RESP_OK);
	CHECK_EQ_INT(used, 5);
	CHECK_EQ_INT(r.n[0].type, RESP_STATUS);
	CHECK(r.n[0].len == 2 && !memcmp(r.n[0].s, "OK", 2));
	CHECK_EQ_INT(parse(":-42\r\n", &r, &used), RESP_OK);
	CHECK(r.n[0].type == RESP_INT && r.n[0].i == -42);
	CHECK_EQ_INT(parse("$3\r\na\r\n\r\n", &r, &used), RESP_OK);
	CHECK(r.n[0].type == RESP_BULK && r.n[0].len == 3 && !memcmp(r.n[0].s, "a\r\n", 3));
	CHECK_EQ_INT(parse("$-1\r\n", &r, &used), RESP_OK);
	CHECK_EQ_INT(r.n[0].type, RESP_NIL);
	CHECK_EQ_INT(parse("-NOSCRIPT No matching script\r\n", &r, &used), RESP_OK);
	CHECK_EQ_INT(r.n[0].type, RESP_ERROR);
}

UNIT_TEST(array_of_six_and_elements)
{
	struct resp_reply r;
	size_t used = 0;
	const char *s = "*6\r\n:1\r\n:0\r\n:5\r\n:1\r\n:0\r\n:3600\r\n+next\r\n";

	CHECK_EQ_INT(parse(s, &r, &used), RESP_OK);
	CHECK_EQ_INT(used, strlen(s) - 7);	/* the next reply stays */
	CHECK_EQ_INT(r.n[0].i, 6);
	CHECK(resp_elem(&r, &r.n[0], 2)->i == 5);
	CHECK(resp_elem(&r, &r.n[0], 5)->i == 3600);
	CHECK(resp_elem(&r, &r.n[0], 6) == NULL);
	CHECK(resp_elem(&r, &r.n[1], 0) == NULL);	/* not an array */
}

UNIT_TEST(incomplete_needs_more)
{
	static const char *const parts[] = {
		"", "+O", "+OK\r", ":12", "$5\r\nab", "$5\r\nabcde\r", "*2\r\n:1\r\n", "*2\r\n",
	};
	struct resp_reply r;
	size_t used = 0;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		CHECK_EQ_INT(parse(parts[i], &r, &used), RESP_MORE);
}

UNIT_TEST(garbage_and_limits)
{
	struct resp_reply r;
	size_t used = 0;
	char deep[64] = "";

	CHECK_EQ_INT(parse("?x\r\n", &r, &used), RESP_EBAD);
	CHECK_EQ_INT(parse("+OK\rX", &r, &used), RESP_EBAD);
	CHECK_EQ_INT(parse(":12a\r\n", &r, &used), RESP_EBAD);
	CHECK_EQ_INT(parse(":\r\n", &r, &used), RESP_EBAD);
	CHECK_EQ_INT(parse(":99999999999999999999\r\n", &r, &used), RESP_EBAD);
	CHECK_EQ_INT(parse("$-2\r\n", &r, &used), RESP_EBAD);
	CHECK_EQ_INT(parse("$3\r\nabcd\r\n", &r, &used), RESP_EBAD);
	CHECK_EQ_INT(parse("$99999999999\r\n", &r, &used), RESP_ELIMIT);
	CHECK_EQ_INT(parse("*65\r\n", &r, &used), RESP_ELIMIT);
	for (int i = 0; i <= RESP_MAX_DEPTH; i++)
		strcat(deep, "*1\r\n");
	strcat(deep, ":1\r\n");
	CHECK_EQ_INT(parse(deep, &r, &used), RESP_ELIMIT);
	/* a line without CR past the limit is an error, not a wait */
	{
		char *big = malloc(RESP_MAX_LINE + 10);

		memset(big, 'x', RESP_MAX_LINE + 9);
		big[0] = '+';
		big[RESP_MAX_LINE + 9] = '\0';
		CHECK_EQ_INT(parse(big, &r, &used), RESP_ELIMIT);
		free(big);
	}
}

UNIT_TEST(command_is_binary_safe)
{
	const char *av[] = { "EVALSHA", "abc", "0", "a\r\nb" };
	size_t lens[] = { 7, 3, 1, 4 };
	char buf[128];
	size_t n = resp_command(buf, sizeof(buf), 4, av, lens);
	const char want[] = "*4\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n0\r\n$4\r\na\r\nb\r\n";

	CHECK_EQ_INT(n, sizeof(want) - 1);
	CHECK(!memcmp(buf, want, n));
	CHECK_EQ_INT(resp_command(buf, 10, 4, av, lens), sizeof(want) - 1);	/* too small */
}

UNIT_MAIN()
