/*
 * unit.h - a minimal unit-test harness: UNIT_TEST(name) { CHECK(...); }
 * and UNIT_MAIN() at the end of the file. Each test file is one program;
 * it prints a line per failed check and "N passed, N failed" at the end.
 */
#ifndef RBLKIT_UNIT_H
#define RBLKIT_UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next;
};

/* Tests are linked in registration order: no limit on their number (a
 * fixed table once dropped the tests past its end without a word). */
static struct unit_test *unit_first, **unit_last = &unit_first;
static int unit_ntests, unit_failed_checks;

#define UNIT_TEST(name)                                                    \
	static void unit_##name(void);                                     \
	static struct unit_test unit_node_##name = { #name, unit_##name, NULL }; \
	__attribute__((constructor)) static void unit_reg_##name(void)     \
	{                                                                  \
		*unit_last = &unit_node_##name;                            \
		unit_last = &unit_node_##name.next;                        \
		unit_ntests++;                                             \
	}                                                                  \
	static void unit_##name(void)

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			unit_failed_checks++;                              \
			printf("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                          \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                 \
	do {                                                               \
		long long unit_a = (long long)(a), unit_b = (long long)(b);\
		if (unit_a != unit_b) {                                    \
			unit_failed_checks++;                              \
			printf("  FAIL %s:%d: %s == %s (%lld != %lld)\n",  \
			       __FILE__, __LINE__, #a, #b, unit_a, unit_b);\
		}                                                          \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                 \
	do {                                                               \
		const char *unit_a = (a), *unit_b = (b);                   \
		if (!unit_a || !unit_b || strcmp(unit_a, unit_b)) {        \
			unit_failed_checks++;                              \
			printf("  FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", \
			       __FILE__, __LINE__, #a, #b,                 \
			       unit_a ? unit_a : "(null)",                 \
			       unit_b ? unit_b : "(null)");                \
		}                                                          \
	} while (0)

#define UNIT_MAIN()                                                        \
	int main(void)                                                     \
	{                                                                  \
		int passed = 0, failed = 0;                                \
		for (struct unit_test *t = unit_first; t; t = t->next) {   \
			int before = unit_failed_checks;                   \
			t->fn();                                           \
			if (unit_failed_checks == before) {                \
				passed++;                                  \
			} else {                                           \
				failed++;                                  \
				printf("FAILED %s\n", t->name);           \
			}                                                  \
		}                                                          \
		printf("%d passed, %d failed\n", passed, failed);          \
		return failed ? 1 : 0;                                     \
	}

#endif
