/*
 * test_util.c - unit tests for the shared helpers: log lines cannot be
 * forged or carry terminal escapes; xstrndup stops at the NUL; the one
 * JSON string writer and its rule for bytes that are not UTF-8.
 */
#define _GNU_SOURCE		/* strcasestr, the reference */
#include "unit.h"
#include "base/json.h"
#include "base/util.h"

#include <ctype.h>
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

/* s[0..n) through json_escape() with flags, as a C string. */
static const char *escaped(const char *s, size_t n, unsigned flags)
{
	static char out[1024];
	size_t max = json_escaped_max(n);
	if (!max || max >= sizeof(out))
		return "(too long)";
	out[json_escape(out, s, n, flags)] = '\0';
	return out;
}

UNIT_TEST(json_invalid_utf8_is_one_ufffd_a_byte)
{
	/* valid: 2, 3 and 4 bytes kept as they are */
	CHECK_EQ_STR(escaped("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, 0),
		     "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* a stray continuation byte; 0xff; 0xf8 */
	CHECK_EQ_STR(escaped("a\x80z\xff\xf8", 5, 0), "\"a\\ufffdz\\ufffd\\ufffd\"");
	/* a sequence cut short, by the end and by an ASCII byte: the lead
	 * byte is U+FFFD, what follows is looked at afresh */
	CHECK_EQ_STR(escaped("\xe2\x82", 2, 0), "\"\\ufffd\\ufffd\"");
	CHECK_EQ_STR(escaped("\xe2x", 2, 0), "\"\\ufffdx\"");
	/* overlong '/', a surrogate, a code point above U+10FFFF */
	CHECK_EQ_STR(escaped("\xc0\xaf", 2, 0), "\"\\ufffd\\ufffd\"");
	CHECK_EQ_STR(escaped("\xed\xa0\x80", 3, 0), "\"\\ufffd\\ufffd\\ufffd\"");
	CHECK_EQ_STR(escaped("\xf4\x90\x80\x80", 4, 0), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* Latin-1 text is not guessed at: 0xe9 alone is no 'é' */
	CHECK_EQ_STR(escaped("caf\xe9", 4, 0), "\"caf\\ufffd\"");
}

UNIT_TEST(json_escapes_and_flags)
{
	/* quotes, backslash, control bytes and DEL; a NUL inside n */
	CHECK_EQ_STR(escaped("\"\\\x01\x7f", 4, 0), "\"\\\"\\\\\\u0001\\u007f\"");
	CHECK_EQ_STR(escaped("a\0b", 3, 0), "\"a\\u0000b\"");
	/* newline, tab, CR: \u00XX by default, short with JSON_SHORT */
	CHECK_EQ_STR(escaped("\n\t\r\b", 4, 0), "\"\\u000a\\u0009\\u000d\\u0008\"");
	CHECK_EQ_STR(escaped("\n\t\r\b", 4, JSON_SHORT), "\"\\n\\t\\r\\u0008\"");
	CHECK_EQ_STR(escaped("", 0, 0), "\"\"");
	CHECK(json_escaped_max(10) == 62);
	CHECK(json_escaped_max((size_t)-1) == 0);
	/* the worst case fills json_escaped_max() exactly */
	char out[6 * 4 + 2];
	CHECK(json_escape(out, "\x01\xff\x02\x80", 4, 0) == sizeof(out));
}

UNIT_TEST(json_str_to_a_file)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	/* longer than json_strn()'s stack buffer */
	char big[5000];
	memset(big, '\xff', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_str(f, big);
	json_str(f, NULL);
	json_strn(f, "x\ny", 3);
	fclose(f);
	CHECK(len == 2 + 6 * (sizeof(big) - 1) + 4 + 6);
	CHECK(len > 10 && !memcmp(buf, "\"\\ufffd\\ufffd", 13));
	CHECK(len > 10 && !strcmp(buf + len - 10, "null\"x\\ny\""));
	free(buf);
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

/* ascii_lower_copy() is tolower() (the C locale) on every byte value, at
 * every place of an eight-byte word and in the tail, copied or in place. */
UNIT_TEST(ascii_lower_copy_is_tolower)
{
	char src[20], dst[21], want[21];

	for (int c = 0; c < 256; c++)
		for (size_t at = 0; at < sizeof(src); at++) {
			memset(src, 'Q', sizeof(src));
			src[at] = (char)c;
			for (size_t i = 0; i < sizeof(src); i++)
				want[i] = (char)tolower((unsigned char)src[i]);
			want[sizeof(src)] = '\0';
			ascii_lower_copy(dst, src, sizeof(src));
			CHECK(!memcmp(dst, want, sizeof(want)));
			ascii_lower_copy(src, src, sizeof(src) - 1);
			CHECK(!memcmp(src, want, sizeof(src) - 1));
		}
}

/* str_casestr() finds what strcasestr() finds, on short texts (its own
 * search) and long ones (handed over), including an empty needle. */
UNIT_TEST(str_casestr_is_strcasestr)
{
	static const char alphabet[] = "aAbB@.x";
	char h[1500], n[8];
	unsigned seed = 12345;

	CHECK(str_casestr("abc", "") != NULL);
	CHECK_EQ_STR(str_casestr("Message-ID: <X@Host.Example>", "x@host"), "X@Host.Example>");
	CHECK(str_casestr("abc", "abcd") == NULL);
	for (int round = 0; round < 3000; round++) {
		size_t hl = round % 3 ? (size_t)rand_r(&seed) % 60 : 1000 + (size_t)rand_r(&seed) % 400;
		size_t nl = 1 + (size_t)rand_r(&seed) % 4;

		for (size_t i = 0; i < hl; i++)
			h[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		h[hl] = '\0';
		for (size_t i = 0; i < nl; i++)
			n[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		n[nl] = '\0';
		CHECK(str_casestr(h, n) == strcasestr(h, n));
	}
}
