/*
 * test_ipaddr.c - unit tests for the address forms of data files: every
 * IPv4 range form of rbldnsd(8) and the invalid ones, IPv6 with "::",
 * trailing-word prefixes and CIDRs, and ip6_format as rbldnsd prints
 * addresses (the longest run of two or more zero words as "::", the first
 * of equal runs). Where rbldnsd(8) and rbldnsd 1.0pre disagree the tests
 * follow the program ("127-127.0.0" is refused by it).
 */
#include "unit.h"
#include "base/ipaddr.h"

#include <stdio.h>
#include <string.h>

/* "lo-hi/bits" of an IPv4 range form, or "invalid". */
static const char *range(const char *s)
{
	static char buf[64];
	char l[16], h[16];
	uint32_t lo = 0, hi = 0;
	const char *end = NULL;
	int bits = ip4_range(s, &lo, &hi, &end);

	if (bits < 0)
		return "invalid";
	ip4_format(lo, l);
	ip4_format(hi, h);
	snprintf(buf, sizeof(buf), "%s-%s/%d%s", l, h, bits, *end ? " +tail" : "");
	return buf;
}

UNIT_TEST(ip4_range_forms_of_127_0_0_0_24)
{
	/* rbldnsd(8): each of these is 127.0.0.0/24 */
	CHECK_EQ_STR(range("127.0.0.0/24"), "127.0.0.0-127.0.0.255/24");
	CHECK_EQ_STR(range("127.0.0"), "127.0.0.0-127.0.0.255/24");
	CHECK_EQ_STR(range("127/24"), "127.0.0.0-127.0.0.255/24");
	CHECK_EQ_STR(range("127.0.0.0-127.0.0.255"), "127.0.0.0-127.0.0.255/32");
	CHECK_EQ_STR(range("127.0.0.1-255"), "127.0.0.1-127.0.0.255/32");
	/* listed in rbldnsd(8), but rbldnsd itself says "invalid address":
	 * the two ends of a range must have the same number of octets */
	CHECK_EQ_STR(range("127-127.0.0"), "invalid");
}

UNIT_TEST(ip4_range_forms_of_127_16_12)
{
	/* rbldnsd(8): each of these is 127.16.0.0-127.31.255.255 */
	static const char *const forms[] = {
		"127.16.0.0-127.31.255.255", "127.16.0-127.31.255",
		"127.16-127.31", "127.16-31",
	};
	static const char *const cidrs[] = {
		"127.16.0.0/12", "127.16.0/12", "127.16/12",
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++)
		CHECK_EQ_STR(range(forms[i]), "127.16.0.0-127.31.255.255/32");
	for (size_t i = 0; i < sizeof(cidrs) / sizeof(*cidrs); i++)
		CHECK_EQ_STR(range(cidrs[i]), "127.16.0.0-127.31.255.255/12");
	/* a one-octet end replaces the last octet given:
	 * 127.16.0-31 is 127.16.0.0-127.16.31.255 */
	CHECK_EQ_STR(range("127.16.0-31"), "127.16.0.0-127.16.31.255/32");
}

UNIT_TEST(ip4_range_other_valid)
{
	CHECK_EQ_STR(range("1.2.3.4"), "1.2.3.4-1.2.3.4/32");
	CHECK_EQ_STR(range("127.0.0.1-127.0.0.1"), "127.0.0.1-127.0.0.1/32");
	CHECK_EQ_STR(range("127.0.0.1-1"), "127.0.0.1-127.0.0.1/32");
	CHECK_EQ_STR(range("10/8"), "10.0.0.0-10.255.255.255/8");
	CHECK_EQ_STR(range("10.20"), "10.20.0.0-10.20.255.255/16");
	CHECK_EQ_STR(range("0.0.0.0/0"), "0.0.0.0-255.255.255.255/0");
	CHECK_EQ_STR(range("255.255.255.255"), "255.255.255.255-255.255.255.255/32");
	/* the caller checks what follows (a value or a comment) */
	CHECK_EQ_STR(range("1.2.3.4 :2:x"), "1.2.3.4-1.2.3.4/32 +tail");
	CHECK_EQ_STR(range("1.2.3.4.5"), "1.2.3.4-1.2.3.4/32 +tail");
	CHECK_EQ_STR(range("127.0.0.1 - 127.0.0.3"), "127.0.0.1-127.0.0.1/32 +tail");
	CHECK_EQ_STR(range("127.0.0.0/24-127.0.1"), "127.0.0.0-127.0.0.255/24 +tail");
}

UNIT_TEST(ip4_range_host_bits_kept_for_the_caller)
{
	/* "10.0.0.1/24" has host bits: the caller refuses it (or, with -e,
	 * masks them); the parser gives the address as written */
	uint32_t lo, hi;
	const char *end;

	CHECK_EQ_INT(ip4_range("10.0.0.1/24", &lo, &hi, &end), 24);
	CHECK_EQ_INT(lo, 0x0a000001u);
	CHECK_EQ_INT(lo & ~ip4_mask(24), 1);
}

UNIT_TEST(ip4_range_invalid)
{
	static const char *const bad[] = {
		"127",                  /* a bare number needs /bits */
		"127.0.0.1/33", "127.0.0.1/", "127.0.0.256", "256/8",
		"127.0.0.5-127.0.0.4",  /* backwards */
		"127.0-127.0.0.5",      /* ends of different lengths */
		"1.2.3.4-1.2.3", "127.0.0.1-",
		"", "x", "-1", ".1", "1.2.3.4/1234",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (strcmp(range(bad[i]), "invalid"))
			printf("  accepted \"%s\" as %s\n", bad[i], range(bad[i]));
		CHECK_EQ_STR(range(bad[i]), "invalid");
	}
}

UNIT_TEST(ip4_prefix_and_cidr)
{
	uint32_t a;
	const char *end;

	CHECK_EQ_INT(ip4_prefix("10.1", &a, &end), 16);
	CHECK_EQ_INT(a, 0x0a010000u);
	CHECK_EQ_INT(ip4_prefix("10.1.", &a, &end), 16);
	CHECK_EQ_STR(end, ".");
	CHECK_EQ_INT(ip4_prefix("1.2.3.4", &a, &end), 32);
	CHECK_EQ_INT(a, 0x01020304u);
	CHECK_EQ_INT(ip4_prefix("1.2.3.4.5", &a, &end), 32);
	CHECK_EQ_STR(end, ".5");
	CHECK_EQ_INT(ip4_prefix("300", &a, &end), -1);
	CHECK_EQ_INT(ip4_cidr("10/8", &a, &end), 8);
	CHECK_EQ_INT(ip4_cidr("10", &a, &end), -1);
	CHECK_EQ_INT(ip4_cidr("10.2", &a, &end), 16);
	CHECK_EQ_INT(ip4_cidr("10.2.3.4/32", &a, &end), 32);
	CHECK_EQ_INT(ip4_cidr("10.2.3.4/33", &a, &end), -1);
}

UNIT_TEST(ip4_mask_and_format)
{
	char buf[16];

	CHECK_EQ_INT(ip4_mask(0), 0);
	CHECK_EQ_INT(ip4_mask(1), 0x80000000u);
	CHECK_EQ_INT(ip4_mask(24), 0xffffff00u);
	CHECK_EQ_INT(ip4_mask(32), 0xffffffffu);
	CHECK_EQ_INT(ip4_format(0, buf), 7);
	CHECK_EQ_STR(buf, "0.0.0.0");
	CHECK_EQ_INT(ip4_format(0xffffffffu, buf), 15);
	CHECK_EQ_STR(buf, "255.255.255.255");
	ip4_format(0x7f000002u, buf);
	CHECK_EQ_STR(buf, "127.0.0.2");
}

/* "bits addr" of ip6_prefix / ip6_cidr, "invalid", plus " +tail". */
static const char *v6(const char *s, int cidr)
{
	static char buf[80];
	uint8_t a[16];
	char t[48];
	const char *end = NULL;
	int bits = cidr ? ip6_cidr(s, a, &end) : ip6_prefix(s, a, &end);

	if (bits < 0)
		return "invalid";
	ip6_format(a, t);
	snprintf(buf, sizeof(buf), "%d %s%s", bits, t, *end ? " +tail" : "");
	return buf;
}

UNIT_TEST(ip6_prefix_forms)
{
	CHECK_EQ_STR(v6("::", 0), "128 ::");
	CHECK_EQ_STR(v6("::1", 0), "128 ::1");
	CHECK_EQ_STR(v6("1::", 0), "128 1::");
	CHECK_EQ_STR(v6("1:2:3:4:5:6:7:8", 0), "128 1:2:3:4:5:6:7:8");
	CHECK_EQ_STR(v6("1:2:3:4:5:6:7::", 0), "128 1:2:3:4:5:6:7:0");
	CHECK_EQ_STR(v6("2001:DB8::A", 0), "128 2001:db8::a");
	/* trailing words may be left out: a prefix of 16 bits per word */
	CHECK_EQ_STR(v6("2001:21ab:def7:4242", 0), "64 2001:21ab:def7:4242::");
	CHECK_EQ_STR(v6("2001:db8", 0), "32 2001:db8::");
	CHECK_EQ_STR(v6("1:2:3:4:5:6:7", 0), "112 1:2:3:4:5:6:7:0");
	/* rbldnsd takes the longest valid start; the caller sees the tail */
	CHECK_EQ_STR(v6("1:2:3:4:5:6:7:8:9", 0), "128 1:2:3:4:5:6:7:8 +tail");
	CHECK_EQ_STR(v6("1::2::3", 0), "128 1::2 +tail");
	CHECK_EQ_STR(v6("1:::2", 0), "128 1:: +tail");
	CHECK_EQ_STR(v6("1::2 x", 0), "128 1::2 +tail");
	CHECK_EQ_STR(v6("1:2:3:4:5:6:7:8::", 0), "128 1:2:3:4:5:6:7:8 +tail");
	CHECK_EQ_STR(v6("1::2:", 0), "128 1::2");        /* as rbldnsd */
}

UNIT_TEST(ip6_prefix_invalid)
{
	static const char *const bad[] = {
		"12345::", ":1", "", "g::", "1:", "1:2:",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (strcmp(v6(bad[i], 0), "invalid"))
			printf("  accepted \"%s\" as %s\n", bad[i], v6(bad[i], 0));
		CHECK_EQ_STR(v6(bad[i], 0), "invalid");
	}
}

UNIT_TEST(ip6_cidr_forms)
{
	CHECK_EQ_STR(v6("2001:21ab:c000/36", 1), "36 2001:21ab:c000::");
	CHECK_EQ_STR(v6("2605:6001:42::/52", 1), "52 2605:6001:42::");
	CHECK_EQ_STR(v6("::/0", 1), "0 ::");
	CHECK_EQ_STR(v6("2001/16", 1), "16 2001::");
	CHECK_EQ_STR(v6("2001:db8::1/128", 1), "128 2001:db8::1");
	CHECK_EQ_STR(v6("2001:db8", 1), "32 2001:db8::");
	/* a bare single word is refused: it reads as an IPv4 number */
	CHECK_EQ_STR(v6("2001", 1), "invalid");
	CHECK_EQ_STR(v6("1::/129", 1), "invalid");
	CHECK_EQ_STR(v6("1::/", 1), "invalid");
}

UNIT_TEST(ip6_host_bits_and_mask)
{
	uint8_t a[16];
	const char *end;

	ip6_prefix("::1", a, &end);
	CHECK_EQ_INT(ip6_host_bits(a, 127), 1);
	CHECK_EQ_INT(ip6_host_bits(a, 128), 0);
	ip6_prefix("2001:db8::", a, &end);
	CHECK_EQ_INT(ip6_host_bits(a, 32), 0);
	CHECK_EQ_INT(ip6_host_bits(a, 31), 0);
	CHECK_EQ_INT(ip6_host_bits(a, 28), 1);
	CHECK(ip6_mask(0) == 0);
	CHECK(ip6_mask(128) == ~(u128)0);
	CHECK(ip6_mask(1) == (u128)1 << 127);
	CHECK(ip6_mask(64) == ~(u128)0 << 64);
	CHECK(ip6_to_u128(a) == (u128)0x20010db8u << 96);
}

UNIT_TEST(ip6_u128_round_trip)
{
	uint8_t a[16], b[16];

	for (int i = 0; i < 16; i++)
		a[i] = (uint8_t)(i * 17 + 1);
	ip6_from_u128(ip6_to_u128(a), b);
	CHECK(!memcmp(a, b, 16));
	CHECK((ip6_to_u128(a) & 0xff) == a[15]);
	CHECK((ip6_to_u128(a) >> 120) == a[0]);
}

/* ip6_format of eight words. */
static const char *fmt(unsigned w0, unsigned w1, unsigned w2, unsigned w3,
		       unsigned w4, unsigned w5, unsigned w6, unsigned w7)
{
	static char buf[48];
	unsigned w[8] = { w0, w1, w2, w3, w4, w5, w6, w7 };
	uint8_t a[16];
	int n;

	for (int i = 0; i < 8; i++) {
		a[2 * i] = (uint8_t)(w[i] >> 8);
		a[2 * i + 1] = (uint8_t)w[i];
	}
	n = ip6_format(a, buf);
	if (n != (int)strlen(buf))
		return "bad length";
	return buf;
}

UNIT_TEST(ip6_format_like_rbldnsd)
{
	CHECK_EQ_STR(fmt(0, 0, 0, 0, 0, 0, 0, 0), "::");
	CHECK_EQ_STR(fmt(0, 0, 0, 0, 0, 0, 0, 1), "::1");
	CHECK_EQ_STR(fmt(1, 0, 0, 0, 0, 0, 0, 0), "1::");
	CHECK_EQ_STR(fmt(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), "2001:db8::1");
	CHECK_EQ_STR(fmt(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff),
		     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* a single zero word is not compressed */
	CHECK_EQ_STR(fmt(1, 0, 2, 3, 4, 5, 6, 7), "1:0:2:3:4:5:6:7");
	CHECK_EQ_STR(fmt(1, 2, 3, 4, 5, 6, 7, 0), "1:2:3:4:5:6:7:0");
	CHECK_EQ_STR(fmt(0, 1, 2, 3, 4, 5, 6, 7), "0:1:2:3:4:5:6:7");
	/* the longest run wins */
	CHECK_EQ_STR(fmt(1, 0, 0, 2, 0, 0, 0, 3), "1:0:0:2::3");
	CHECK_EQ_STR(fmt(0, 0, 0, 1, 0, 0, 2, 3), "::1:0:0:2:3");
	/* of equal runs, the first */
	CHECK_EQ_STR(fmt(1, 0, 0, 2, 3, 0, 0, 4), "1::2:3:0:0:4");
	CHECK_EQ_STR(fmt(0, 0, 1, 2, 3, 4, 0, 0), "::1:2:3:4:0:0");
	CHECK_EQ_STR(fmt(1, 0, 0, 0, 0, 2, 0, 0), "1::2:0:0");
	/* IPv4-mapped addresses are printed in hex words too */
	CHECK_EQ_STR(fmt(0, 0, 0, 0, 0, 0xffff, 0x7f00, 2), "::ffff:7f00:2");
	CHECK_EQ_STR(fmt(0xabc, 0, 0xd, 0, 0, 0, 0, 0), "abc:0:d::");
}

UNIT_MAIN()
