/*
 * test_dname.c - unit tests for dname.c: rbldnsd's text syntax, limits,
 * canonical order, reversed form, suffix tests.
 */
#include "unit.h"
#include "base/dname.h"

#include <stdlib.h>
#include <string.h>

/* Text -> wire -> text. */
static const char *roundtrip(const char *text)
{
	static char out[DNAME_TEXT_MAX];
	uint8_t w[DNAME_MAXLEN];
	int n = dname_from_text(text, w);

	if (n < 0 || dname_to_text(w, (size_t)n, out, sizeof(out)) < 0)
		return "(error)";
	return out;
}

UNIT_TEST(from_text_basic)
{
	uint8_t w[DNAME_MAXLEN];

	CHECK_EQ_INT(dname_from_text("Example.COM", w), 13);
	CHECK(!memcmp(w, "\7Example\3COM", 13));
	CHECK_EQ_INT(dname_from_text_lc("Example.COM", w), 13);
	CHECK(!memcmp(w, "\7example\3com", 13));
	/* trailing dot ignored: keys are relative whatever they end with */
	CHECK_EQ_INT(dname_from_text("a.b.", w), 5);
	CHECK(!memcmp(w, "\1a\1b", 5));
	/* root */
	CHECK_EQ_INT(dname_from_text(".", w), 1);
	CHECK_EQ_INT(w[0], 0);
	CHECK_EQ_INT(dname_from_text("...", w), 1);
	CHECK_EQ_INT(dname_from_text("", w), DNAME_E_EMPTY);
}

UNIT_TEST(from_text_empty_labels_skipped_like_rbldnsd)
{
	uint8_t w[DNAME_MAXLEN];

	CHECK_EQ_INT(dname_from_text("a..b", w), 5);
	CHECK(!memcmp(w, "\1a\1b", 5));
	CHECK_EQ_INT(dname_from_text(".a", w), 3);
	CHECK(!memcmp(w, "\1a", 3));
}

UNIT_TEST(from_text_escapes)
{
	uint8_t w[DNAME_MAXLEN];

	CHECK_EQ_INT(dname_from_text("a\\.b.c", w), 7);
	CHECK(!memcmp(w, "\3a.b\1c", 7));
	CHECK_EQ_INT(dname_from_text("\\065bc", w), 5);
	CHECK(!memcmp(w, "\3Abc", 5));
	CHECK_EQ_INT(dname_from_text_lc("\\065bc", w), 5);
	CHECK(!memcmp(w, "\3abc", 5));
	CHECK_EQ_INT(dname_from_text("\\1x", w), 4);      /* one digit */
	CHECK(!memcmp(w, "\2\1x", 4));
	CHECK_EQ_INT(dname_from_text("\\000", w), 3);     /* a zero byte in a label */
	CHECK_EQ_INT(w[0], 1);
	CHECK_EQ_INT(w[1], 0);
	CHECK_EQ_INT(dname_from_text("\\256", w), DNAME_E_ESCAPE);
	CHECK_EQ_INT(dname_from_text("ab\\", w), 4);      /* dropped */
	CHECK_EQ_INT(dname_from_text("\xc3\xa9.com", w), 8);
	CHECK_EQ_INT(w[1], 0xc3);
}

UNIT_TEST(from_text_limits)
{
	char t[600];
	uint8_t w[DNAME_MAXLEN];

	memset(t, 'a', 63);
	t[63] = '\0';
	CHECK_EQ_INT(dname_from_text(t, w), 65);
	memset(t, 'a', 64);
	t[64] = '\0';
	CHECK_EQ_INT(dname_from_text(t, w), DNAME_E_LABEL);
	strcat(t, ".com");
	CHECK_EQ_INT(dname_from_text(t, w), DNAME_E_LABEL);
	/* 3 x 63 + 61 bytes: exactly 255 on the wire */
	memset(t, 'a', 63 * 3 + 61 + 3);
	t[63] = t[127] = t[191] = '.';
	t[63 * 3 + 61 + 3] = '\0';
	CHECK_EQ_INT(dname_from_text(t, w), 255);
	strcat(t, "a");
	CHECK_EQ_INT(dname_from_text(t, w), DNAME_E_LONG);
	memset(t, 'x', 599);
	t[599] = '\0';
	CHECK(dname_from_text(t, w) < 0);
	for (int i = 0; i < 598; i += 2)
		t[i + 1] = '.';
	CHECK_EQ_INT(dname_from_text(t, w), DNAME_E_LONG);
	CHECK(*dname_strerror(DNAME_E_LONG));
}

UNIT_TEST(to_text_escapes_like_dns_dntop)
{
	CHECK_EQ_STR(roundtrip("example.com"), "example.com");
	CHECK_EQ_STR(roundtrip("a\\.b.c"), "a\\.b.c");
	CHECK_EQ_STR(roundtrip("x\\@y\\$z\\;q\\\"\\\\"), "x\\@y\\$z\\;q\\\"\\\\");
	CHECK_EQ_STR(roundtrip("\\032sp\\127"), "\\032sp\\127");
	CHECK_EQ_STR(roundtrip("\xc3\xa9"), "\\195\\169");
	CHECK_EQ_STR(roundtrip("."), ".");
	CHECK_EQ_STR(roundtrip("A.B"), "A.B");
}

UNIT_TEST(to_text_bounds)
{
	char out[8];

	CHECK_EQ_INT(dname_to_text((const uint8_t *)"\3abc", 4, out, 4), 3);
	CHECK_EQ_STR(out, "abc");
	CHECK_EQ_INT(dname_to_text((const uint8_t *)"\3abc", 4, out, 3), -1);
	CHECK_EQ_INT(dname_to_text((const uint8_t *)"\1\1", 2, out, 4), -1);
	CHECK_EQ_INT(dname_to_text((const uint8_t *)"\1\1", 2, out, 5), 4);
	CHECK_EQ_INT(dname_to_text((const uint8_t *)"\5ab", 3, out, 8), -1);
	CHECK_EQ_INT(dname_to_text((const uint8_t *)"", 0, out, 8), 1);
	CHECK_EQ_STR(out, ".");
}

UNIT_TEST(labels_and_malformed)
{
	CHECK_EQ_INT(dname_labels((const uint8_t *)"\1a\2bc", 5), 2);
	CHECK_EQ_INT(dname_labels((const uint8_t *)"\1a\2bc\0", 6), 2);
	CHECK_EQ_INT(dname_labels((const uint8_t *)"", 0), 0);
	CHECK_EQ_INT(dname_labels((const uint8_t *)"\0", 1), 0);
	CHECK_EQ_INT(dname_labels((const uint8_t *)"\300\014", 2), -1);
	CHECK_EQ_INT(dname_labels((const uint8_t *)"\3ab", 3), -1);
	CHECK_EQ_INT(dname_rel_len((const uint8_t *)"\1a\0", 3), 2);
	CHECK_EQ_INT(dname_rel_len((const uint8_t *)"\1a\1b", 4), 4);
	CHECK_EQ_INT(dname_rel_len((const uint8_t *)"\1a\100", 3), -1);
}

UNIT_TEST(labels_too_long_name)
{
	uint8_t w[300];

	for (int i = 0; i < 300; i += 2) {
		w[i] = 1;
		w[i + 1] = 'a';
	}
	CHECK_EQ_INT(dname_labels(w, 254), 127);
	CHECK_EQ_INT(dname_labels(w, 256), -1);
	CHECK_EQ_INT(dname_labels(w, 300), -1);
}

UNIT_TEST(lower)
{
	uint8_t w[] = "\3AbC\2XY";

	dname_lower(w, 7);
	CHECK(!memcmp(w, "\3abc\2xy", 7));
}

/* RFC 4034 section 6.1 example, in order. */
static const char *const canon[] = {
	"example", "a.example", "yljkjljk.a.example", "Z.a.example",
	"zABC.a.EXAMPLE", "z.example", "\\001.z.example", "*.z.example",
	"\\200.z.example",
};

UNIT_TEST(cmp_canonical_order)
{
	uint8_t a[DNAME_MAXLEN], b[DNAME_MAXLEN], ra[DNAME_MAXLEN], rb[DNAME_MAXLEN];

	for (size_t i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
		for (size_t j = 0; j < sizeof(canon) / sizeof(canon[0]); j++) {
			int na = dname_from_text(canon[i], a) - 1;
			int nb = dname_from_text(canon[j], b) - 1;
			int r = dname_cmp(a, (size_t)na, b, (size_t)nb);
			int rr;

			dname_reverse(a, (size_t)na, ra);
			dname_reverse(b, (size_t)nb, rb);
			rr = dname_rcmp(ra, (size_t)na, rb, (size_t)nb);
			CHECK(i < j ? r < 0 : i > j ? r > 0 : r == 0);
			CHECK(i < j ? rr < 0 : i > j ? rr > 0 : rr == 0);
		}
	}
}

UNIT_TEST(cmp_absolute_equals_relative_and_case)
{
	CHECK_EQ_INT(dname_cmp((const uint8_t *)"\1A\0", 3, (const uint8_t *)"\1a", 2), 0);
	CHECK(dname_cmp((const uint8_t *)"", 0, (const uint8_t *)"\1a", 2) < 0);
}

UNIT_TEST(reverse)
{
	uint8_t r[DNAME_MAXLEN];

	CHECK_EQ_INT(dname_reverse((const uint8_t *)"\3www\7example\3com\0", 17, r), 16);
	CHECK(!memcmp(r, "\3com\7example\3www", 16));
	CHECK_EQ_INT(dname_reverse((const uint8_t *)"", 0, r), 0);
	CHECK_EQ_INT(dname_reverse((const uint8_t *)"\3ab", 3, r), -1);
}

UNIT_TEST(is_sub)
{
	uint8_t n[DNAME_MAXLEN], a[DNAME_MAXLEN];
	int nl = dname_from_text("a.B.c", n), al;

	al = dname_from_text("b.C", a);
	CHECK(dname_is_sub(n, (size_t)nl, a, (size_t)al));
	CHECK(dname_is_sub(n, (size_t)nl, a, (size_t)al - 1));  /* relative anc */
	CHECK(dname_is_sub(n, (size_t)nl, n, (size_t)nl));
	CHECK(dname_is_sub(n, (size_t)nl, (const uint8_t *)"", 0));
	CHECK(!dname_is_sub(a, (size_t)al, n, (size_t)nl));
	al = dname_from_text("xb.c", a);
	CHECK(!dname_is_sub(n, (size_t)nl, a, (size_t)al));
	al = dname_from_text("b.c.d", a);
	CHECK(!dname_is_sub(n, (size_t)nl, a, (size_t)al));
}

/* Random bytes: no crash, and results stay in bounds. */
UNIT_TEST(random_input_is_safe)
{
	uint8_t w[300], r[300];
	char text[DNAME_TEXT_MAX];
	unsigned seed = 12345;

	for (int it = 0; it < 20000; it++) {
		size_t len = (size_t)(rand_r(&seed) % 300);
		int n;

		for (size_t i = 0; i < len; i++)
			w[i] = (uint8_t)(rand_r(&seed) % (it & 1 ? 70 : 256));
		n = dname_labels(w, len);
		CHECK(n >= -1 && n <= DNAME_MAXLABELS);
		n = dname_reverse(w, len, r);
		CHECK(n <= (int)len && n <= DNAME_MAXLEN - 1);
		n = dname_to_text(w, len, text, sizeof(text));
		CHECK(n < (int)sizeof(text));
		(void)dname_cmp(w, len, r, len);
		(void)dname_rcmp(w, len, r, len);
		(void)dname_is_sub(w, len, r, len / 2);
		dname_lower(w, len);
		text[0] = '\0';
		for (size_t i = 0; i < len && i < sizeof(text) - 1; i++)
			text[i] = (char)(w[i] ? w[i] : '.');
		text[len < sizeof(text) - 1 ? len : sizeof(text) - 1] = '\0';
		n = dname_from_text(text, r);
		CHECK(n <= DNAME_MAXLEN);
		CHECK(n < 0 || dname_labels(r, (size_t)n) >= 0);
	}
}

UNIT_MAIN()
