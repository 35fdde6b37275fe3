/*
 * test_util.c - unit tests for the shared helpers: log lines cannot be
 * forged or carry terminal escapes; xstrndup stops at the NUL.
 */
#include "unit.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

UNIT_TEST(log_lines_have_no_control_bytes)
{
	char path[] = "/tmp/rblkit-test-util.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	int saved = dup(2);
	dup2(fd, 2);
	log_warn("user %s sent", "evil\r\nrblkit: error: forged\033[2J");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[512] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_EQ_STR(buf, "rblkit: warning: user evil??rblkit: error: forged?[2J sent\n");
}

UNIT_TEST(xstrndup_stops_at_nul)
{
	char *s = xstrndup("abc", 300);
	CHECK_EQ_STR(s, "abc");
	free(s);
	s = xstrndup("abcdef", 3);
	CHECK_EQ_STR(s, "abc");
	free(s);
}

UNIT_MAIN()

UNIT_TEST(utf8_sequences)
{
	static const struct { const char *s; size_t n, want; } cases[] = {
		{ "a", 1, 1 }, { "\xc3\xa9", 2, 2 }, { "\xc3", 1, 0 },
		{ "\xc0\xaf", 2, 0 },			/* overlong */
		{ "\xe2\x82\xac", 3, 3 }, { "\xe0\x9f\xbf", 3, 0 },
		{ "\xed\xa0\x80", 3, 0 },		/* surrogate */
		{ "\xf0\x9f\x98\x80", 4, 4 }, { "\xf4\x90\x80\x80", 4, 0 },
		{ "\xf0\x9f\x98", 3, 0 },		/* cut short */
		{ "\x80", 1, 0 }, { "\xff", 1, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_EQ_INT(utf8_len((const unsigned char *)cases[i].s, cases[i].n),
			     cases[i].want);
}
