/*
 * test_unit.c - the unit harness itself: every registered test runs,
 * however many a file has (a fixed table of 256 once dropped the rest).
 */
#include "unit.h"

#define MANY 300

static int ran;

UNIT_TEST(every_test_is_registered)
{
	CHECK_EQ_INT(unit_ntests, MANY + 2);
}

#define T1(n)  UNIT_TEST(n) { ran++; }
#define T10(p) T1(p##0) T1(p##1) T1(p##2) T1(p##3) T1(p##4) \
	       T1(p##5) T1(p##6) T1(p##7) T1(p##8) T1(p##9)
#define T100(p) T10(p##0) T10(p##1) T10(p##2) T10(p##3) T10(p##4) \
		T10(p##5) T10(p##6) T10(p##7) T10(p##8) T10(p##9)

T100(many_a)
T100(many_b)
T100(many_c)

/* registered last: runs after all the others */
UNIT_TEST(every_test_ran)
{
	CHECK_EQ_INT(ran, MANY);
}

UNIT_MAIN()
