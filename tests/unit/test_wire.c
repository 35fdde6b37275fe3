/*
 * test_wire.c - unit tests for the DNS wire reader: reads stop at the end
 * of the buffer, the error is sticky, names obey the 63/255 limits and
 * only backward compression pointers are followed.
 */
#include "unit.h"
#include "base/wire.h"

#include <stdint.h>
#include <string.h>

UNIT_TEST(ints_big_endian)
{
	static const uint8_t b[] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde };
	struct wire w;

	wire_init(&w, b, sizeof(b));
	CHECK_EQ_INT(wire_u8(&w), 0x12);
	CHECK_EQ_INT(wire_u16(&w), 0x3456);
	CHECK_EQ_INT(wire_u32(&w), 0x789abcdeu);
	CHECK(wire_ok(&w));
	CHECK_EQ_INT(wire_left(&w), 0);
	CHECK_EQ_INT(w.pos, 7);
}

UNIT_TEST(short_read_fails_without_moving)
{
	static const uint8_t b[] = { 1, 2, 3 };
	struct wire w;

	wire_init(&w, b, sizeof(b));
	CHECK_EQ_INT(wire_u16(&w), 0x0102);
	CHECK_EQ_INT(wire_u16(&w), 0);  /* one byte left: fails */
	CHECK(!wire_ok(&w));
	CHECK_EQ_INT(w.pos, 2);
	CHECK_EQ_INT(wire_left(&w), 0);

	wire_init(&w, b, sizeof(b));
	CHECK_EQ_INT(wire_u32(&w), 0);
	CHECK(!wire_ok(&w));

	wire_init(&w, b, 0);
	CHECK_EQ_INT(wire_u8(&w), 0);
	CHECK(!wire_ok(&w));
}

UNIT_TEST(error_is_sticky)
{
	static const uint8_t b[] = { 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa };
	uint8_t name[256];
	struct wire w;

	wire_init(&w, b, sizeof(b));
	wire_skip(&w, 7);               /* past the end */
	CHECK(!wire_ok(&w));
	/* every later read fails and returns zero, although bytes are there */
	CHECK_EQ_INT(wire_u8(&w), 0);
	CHECK_EQ_INT(wire_u16(&w), 0);
	CHECK_EQ_INT(wire_u32(&w), 0);
	CHECK_EQ_INT(wire_name(&w, name, 0), 0);
	wire_skip(&w, 0);
	CHECK(!wire_ok(&w));
	CHECK_EQ_INT(w.pos, 0);
}

UNIT_TEST(skip_exact_end)
{
	static const uint8_t b[4] = { 0 };
	struct wire w;

	wire_init(&w, b, sizeof(b));
	wire_skip(&w, 4);
	CHECK(wire_ok(&w));
	CHECK_EQ_INT(wire_left(&w), 0);
	wire_skip(&w, 1);
	CHECK(!wire_ok(&w));

	/* a huge skip must not wrap around */
	wire_init(&w, b, sizeof(b));
	wire_u8(&w);
	wire_skip(&w, (size_t)-1);
	CHECK(!wire_ok(&w));
	CHECK_EQ_INT(wire_u8(&w), 0);
}

UNIT_TEST(name_plain)
{
	static const uint8_t b[] = "\3www\7example\3com\0\x12\x34";
	uint8_t name[256];
	struct wire w;

	wire_init(&w, b, sizeof(b) - 1);
	CHECK_EQ_INT(wire_name(&w, name, 1), 17);
	CHECK(!memcmp(name, "\3www\7example\3com", 17));
	CHECK_EQ_INT(w.pos, 17);
	CHECK_EQ_INT(wire_u16(&w), 0x1234);
	CHECK(wire_ok(&w));
}

UNIT_TEST(name_root)
{
	static const uint8_t b[] = { 0, 0, 1 };
	uint8_t name[256];
	struct wire w;

	wire_init(&w, b, sizeof(b));
	CHECK_EQ_INT(wire_name(&w, name, 1), 1);
	CHECK_EQ_INT(name[0], 0);
	CHECK_EQ_INT(wire_u16(&w), 1);
}

UNIT_TEST(name_truncated)
{
	static const uint8_t b[] = "\3www\7exam";
	uint8_t name[256];
	struct wire w;

	wire_init(&w, b, sizeof(b) - 1);
	CHECK_EQ_INT(wire_name(&w, name, 0), 0);
	CHECK(!wire_ok(&w));
	/* label complete but no terminating zero */
	wire_init(&w, (const uint8_t *)"\3www", 4);
	CHECK_EQ_INT(wire_name(&w, name, 0), 0);
	CHECK(!wire_ok(&w));
}

UNIT_TEST(name_backward_pointer)
{
	/* 0: \3com\0   5: \7example + ptr 0   15: ptr 5, then u16 */
	static const uint8_t b[] = "\3com\0\7example\xc0\x00\xc0\x05\xab\xcd";
	uint8_t name[256];
	struct wire w;

	wire_init(&w, b, sizeof(b) - 1);
	wire_skip(&w, 15);
	CHECK_EQ_INT(wire_name(&w, name, 0), 13);
	CHECK(!memcmp(name, "\7example\3com", 13));
	/* the reader resumes after the first pointer */
	CHECK_EQ_INT(w.pos, 17);
	CHECK_EQ_INT(wire_u16(&w), 0xabcd);
	CHECK(wire_ok(&w));
}

UNIT_TEST(name_pointer_refused_in_question)
{
	static const uint8_t b[] = "\3com\0\xc0\x00";
	uint8_t name[256];
	struct wire w;

	wire_init(&w, b, sizeof(b) - 1);
	wire_skip(&w, 5);
	CHECK_EQ_INT(wire_name(&w, name, 1), 0);
	CHECK(!wire_ok(&w));
}

UNIT_TEST(name_pointer_loops_rejected)
{
	uint8_t name[256];
	struct wire w;
	/* a pointer to itself */
	static const uint8_t self[] = { 0xc0, 0x00 };
	/* two labels pointing at each other: 0: \1a ptr 3  3: \1b ptr 0 */
	static const uint8_t pair[] = { 1, 'a', 0xc0, 0x04, 1, 'b', 0xc0, 0x00 };
	/* a forward pointer (to a valid name after it) */
	static const uint8_t fwd[] = { 0xc0, 0x02, 3, 'c', 'o', 'm', 0 };

	wire_init(&w, self, sizeof(self));
	CHECK_EQ_INT(wire_name(&w, name, 0), 0);
	CHECK(!wire_ok(&w));
	wire_init(&w, pair, sizeof(pair));
	CHECK_EQ_INT(wire_name(&w, name, 0), 0);
	CHECK(!wire_ok(&w));
	wire_init(&w, fwd, sizeof(fwd));
	CHECK_EQ_INT(wire_name(&w, name, 0), 0);
	CHECK(!wire_ok(&w));
}

UNIT_TEST(name_pointer_truncated)
{
	static const uint8_t b[] = { 3, 'c', 'o', 'm', 0, 0xc0 };
	uint8_t name[256];
	struct wire w;

	wire_init(&w, b, sizeof(b));
	wire_skip(&w, 5);
	CHECK_EQ_INT(wire_name(&w, name, 0), 0);
	CHECK(!wire_ok(&w));
}

UNIT_TEST(name_reserved_label_types)
{
	static const uint8_t b40[] = { 0x41, 'a', 0 }, b80[] = { 0x81, 'a', 0 };
	uint8_t name[256];
	struct wire w;

	wire_init(&w, b40, sizeof(b40));
	CHECK_EQ_INT(wire_name(&w, name, 0), 0);
	CHECK(!wire_ok(&w));
	wire_init(&w, b80, sizeof(b80));
	CHECK_EQ_INT(wire_name(&w, name, 0), 0);
	CHECK(!wire_ok(&w));
}

/* Fill b with labels of the given lengths and a final 0; returns length. */
static size_t make_name(uint8_t *b, const unsigned *lens, unsigned n)
{
	size_t p = 0;

	for (unsigned i = 0; i < n; i++) {
		b[p++] = (uint8_t)lens[i];
		memset(b + p, 'x', lens[i]);
		p += lens[i];
	}
	b[p++] = 0;
	return p;
}

UNIT_TEST(name_label_63_limit)
{
	uint8_t b[300], name[256];
	unsigned l63 = 63;
	struct wire w;
	size_t n = make_name(b, &l63, 1);

	wire_init(&w, b, n);
	CHECK_EQ_INT(wire_name(&w, name, 1), 65);
	CHECK(wire_ok(&w));
	/* 64 has the top bits 01: not a length */
	b[0] = 64;
	memset(b + 1, 'x', 64);
	b[65] = 0;
	wire_init(&w, b, 66);
	CHECK_EQ_INT(wire_name(&w, name, 1), 0);
	CHECK(!wire_ok(&w));
}

UNIT_TEST(name_255_limit)
{
	/* 63+63+63+61 labels: 4 + 250 + 1 = 255 bytes, the largest name */
	unsigned ok[] = { 63, 63, 63, 61 }, bad[] = { 63, 63, 63, 62 };
	uint8_t b[300], name[256];
	struct wire w;
	size_t n;

	n = make_name(b, ok, 4);
	CHECK_EQ_INT(n, 255);
	wire_init(&w, b, n);
	CHECK_EQ_INT(wire_name(&w, name, 1), 255);
	CHECK(wire_ok(&w));
	CHECK_EQ_INT(name[254], 0);

	n = make_name(b, bad, 4);
	CHECK_EQ_INT(n, 256);
	wire_init(&w, b, n);
	CHECK_EQ_INT(wire_name(&w, name, 1), 0);
	CHECK(!wire_ok(&w));
}

UNIT_TEST(name_255_limit_through_pointers)
{
	/* a 250-byte suffix at 0, then a 6-byte label and a pointer to it:
	 * 256 bytes uncompressed, which must be refused */
	unsigned suffix[] = { 63, 63, 63, 56 };
	uint8_t b[300], name[256];
	struct wire w;
	size_t n = make_name(b, suffix, 4), start = n;

	b[n++] = 5;
	memcpy(b + n, "abcde", 5);
	n += 5;
	b[n++] = 0xc0;
	b[n++] = 0;
	wire_init(&w, b, n);
	wire_skip(&w, start);
	CHECK_EQ_INT(wire_name(&w, name, 0), 0);
	CHECK(!wire_ok(&w));
	/* with a 4-byte label instead it is 255 bytes, accepted */
	n = start;
	b[n++] = 4;
	memcpy(b + n, "abcd", 4);
	n += 4;
	b[n++] = 0xc0;
	b[n++] = 0;
	wire_init(&w, b, n);
	wire_skip(&w, start);
	CHECK_EQ_INT(wire_name(&w, name, 0), 255);
	CHECK(wire_ok(&w));
	CHECK_EQ_INT(w.pos, n);
}

UNIT_TEST(name_pointer_chain)
{
	/* 0: \1a\0  3: \1b ptr0  7: \1c ptr3  11: \1d ptr7 */
	static const uint8_t b[] = { 1, 'a', 0, 1, 'b', 0xc0, 0, 1, 'c', 0xc0, 3,
				     1, 'd', 0xc0, 7 };
	uint8_t name[256];
	struct wire w;

	wire_init(&w, b, sizeof(b));
	wire_skip(&w, 11);
	CHECK_EQ_INT(wire_name(&w, name, 0), 9);
	CHECK(!memcmp(name, "\1d\1c\1b\1a", 9));
	CHECK_EQ_INT(w.pos, sizeof(b));
}

UNIT_TEST(qname_lowercased_with_label_offsets)
{
	static const uint8_t pkt[] = { 1, 'A', 2, 'b', 'C', 3, 'x', 'Y', 'z', 0, 0xee };
	uint8_t out[256], offs[128];
	unsigned labels = 99;
	struct wire w;

	wire_init(&w, pkt, sizeof(pkt));
	CHECK_EQ_INT(wire_qname(&w, out, offs, &labels), 10);
	CHECK(wire_ok(&w));
	CHECK_EQ_INT(labels, 3);
	CHECK(!memcmp(out, "\001a\002bc\003xyz\000", 10));
	CHECK_EQ_INT(offs[0], 0);
	CHECK_EQ_INT(offs[1], 2);
	CHECK_EQ_INT(offs[2], 5);
	CHECK_EQ_INT(offs[3], 9);
	CHECK_EQ_INT(wire_u8(&w), 0xee);
}

UNIT_TEST(qname_refuses_pointers_and_overlong_names)
{
	static const uint8_t ptr[] = { 1, 'a', 0xc0, 0 };
	uint8_t big[300], out[256], offs[128];
	unsigned labels;
	struct wire w;

	wire_init(&w, ptr, sizeof(ptr));
	CHECK_EQ_INT(wire_qname(&w, out, offs, &labels), 0);
	CHECK(!wire_ok(&w));
	/* 128 labels of one byte: 257 bytes with the root, over 255 */
	for (int i = 0; i < 128; i++) {
		big[2 * i] = 1;
		big[2 * i + 1] = 'a';
	}
	big[256] = 0;
	wire_init(&w, big, 257);
	CHECK_EQ_INT(wire_qname(&w, out, offs, &labels), 0);
	CHECK(!wire_ok(&w));
	/* truncated inside a label */
	wire_init(&w, big, 5);
	CHECK_EQ_INT(wire_qname(&w, out, offs, &labels), 0);
}

UNIT_MAIN()
