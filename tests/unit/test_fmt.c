/*
 * test_fmt.c - fmt_snprintf() and fmt_fprintf() give libc's bytes and
 * return values: every conversion they do themselves, with widths and
 * zeros, values at the edges, exact .x5 ties of %.1f, every buffer length
 * (truncation), and the formats they hand over to libc.
 */
#include "unit.h"
#include "base/fmt.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The two outputs of one call: the same bytes and the same return value
 * (SAME1), and so for every buffer length up to the whole and one past
 * (SAME). */
#define SAME1(fmt, ...)                                                       \
	do {                                                                  \
		char want[512], got[512];                                     \
		int wn = snprintf(want, sizeof(want), fmt, __VA_ARGS__);      \
		CHECK(fmt_snprintf(got, sizeof(got), fmt, __VA_ARGS__) == wn); \
		CHECK(!strcmp(want, got));                                    \
	} while (0)
#define SAME(fmt, ...)                                                        \
	do {                                                                  \
		char want[256], got[256];                                     \
		int wn = snprintf(want, sizeof(want), fmt, __VA_ARGS__);      \
		int gn = fmt_snprintf(got, sizeof(got), fmt, __VA_ARGS__);    \
		CHECK(wn == gn);                                              \
		CHECK(!strcmp(want, got));                                    \
		for (size_t len = 0; wn >= 0 && len <= (size_t)wn + 1 && len <= sizeof(got); len++) { \
			memset(got, 'X', sizeof(got));                        \
			memset(want, 'X', sizeof(want));                      \
			CHECK(fmt_snprintf(got, len, fmt, __VA_ARGS__) ==     \
			      snprintf(want, len, fmt, __VA_ARGS__));         \
			CHECK(!memcmp(want, got, sizeof(got)));               \
		}                                                             \
	} while (0)

UNIT_TEST(integers_and_strings)
{
	static const int ints[] = { 0, 1, -1, 9, 10, -10, 99, 12345, INT_MAX, INT_MIN };
	static const unsigned long long big[] = { 0, 1, 59, 60, 3599, 86400,
		UINT32_MAX, (unsigned long long)UINT32_MAX + 1, ULLONG_MAX };

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		SAME("%d", ints[i]);
		SAME("[%d] %s", ints[i], "x");
		SAME("%5d|%u", ints[i], (unsigned)ints[i]);
	}
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		SAME("%llu", big[i]);
		SAME("%02llu:%02llu", big[i], big[i] % 60);
		SAME("%zu items", (size_t)big[i]);
		SAME("%3u", (unsigned)big[i]);
	}
	SAME("%s", "");
	SAME("%s%s%s", "a", "", "bc");
	SAME("%8s|%-s", "ab", "c");	/* "%-s": not known, libc's */
	SAME("%12s", "a long string");
	SAME("%45s", "wider than the number buffer");
	SAME("%%d %s", "percent");
	SAME("no conversion at all%s", "");
	SAME("%x and %s", 255u, "handed over");
	SAME("%ld", 42L);
}

UNIT_TEST(null_string_is_glibcs)
{
	const char *volatile nul = NULL;	/* (hidden from the format check) */

	SAME("<%s>", nul);
}

UNIT_TEST(tenths_round_as_printf)
{
	static const double edge[] = { 0.0, 0.04, 0.05, 0.05000000000000001, 0.15, 0.25,
		0.35, 0.45, 0.95, 1.05, 2.5, 99.95, 1e-300, 5e-324, 0.049999999999999996,
		123456789.25, 4503599627370495.5, 9007199254740991.0 };
	unsigned seed = 7;

	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		SAME("%.1f", edge[i]);
	/* every k/20 and k/100 (ties and near ties), random doubles of every size */
	for (int k = 0; k < 20000; k++) {
		SAME1("%.1f%%", k / 20.0);
		SAME1("x=%.1f", k / 100.0);
	}
	for (int k = 0; k < 200; k++)
		SAME("%.1f", k / 20.0);
	for (int k = 0; k < 20000; k++) {
		uint64_t bits = ((uint64_t)rand_r(&seed) << 33) ^ ((uint64_t)rand_r(&seed) << 11) ^
				(uint64_t)rand_r(&seed);
		double d;

		memcpy(&d, &bits, sizeof(d));
		d = fabs(d);
		if (!isfinite(d))
			continue;
		SAME1("%.1f", d);	/* past 2^53: libc's */
	}
	SAME("%.1f", -0.0);
	SAME("%.1f", -1.25);
	SAME("%.1f", (double)NAN);
	SAME("%.1f", (double)INFINITY);
}

UNIT_TEST(fprintf_is_fprintf)
{
	char *a = NULL, *b = NULL, big[3000];
	size_t al = 0, bl = 0;
	FILE *fa = open_memstream(&a, &al), *fb = open_memstream(&b, &bl);

	CHECK(fa && fb);
	if (!fa || !fb)
		return;
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int k = 0; k < 50; k++) {
		fmt_fprintf(fa, "%d: %s %.1f %zu\n", k, "w", k / 4.0, (size_t)k * 1000);
		fprintf(fb, "%d: %s %.1f %zu\n", k, "w", k / 4.0, (size_t)k * 1000);
	}
	fmt_fprintf(fa, "%s|%x\n", big, 17u);	/* longer than its buffer; unknown */
	fprintf(fb, "%s|%x\n", big, 17u);
	fclose(fa);
	fclose(fb);
	CHECK(al == bl);
	CHECK(al == bl && !memcmp(a, b, al));
	free(a);
	free(b);
}

UNIT_MAIN()
