/*
 * test_query.c - end-to-end tests of query_answer() on a zone set built
 * from data files: listed, NXDOMAIN and NODATA (empty non-terminals)
 * answers, EDNS0 echoed, TC for answers over 512 bytes without EDNS0, and
 * the error answers: FORMERR, NOTIMP, REFUSED, BADVERS, dropped packets.
 */
#include "unit.h"
#include "serve/answer.h"
#include "serve/query.h"
#include "base/util.h"
#include "base/wire.h"
#include "serve/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LONG_TXT "a long text to make the answer bigger than 512 bytes: padding padding pad"

static const char ip4_data[] =
	"$SOA 1h ns1.bl.test hostmaster.bl.test 42 2h 1h 1w 5m\n"
	"$NS 1d ns1.bl.test\n"
	"$TTL 10m\n"
	":127.0.0.2:listed $\n"
	"127.0.0.2\n"
	"10.0.0.0/24 :3:ten\n"
	"11.0.0.1 :4:" LONG_TXT " 1\n"
	"11.0.0.1 :4:" LONG_TXT " 2\n"
	"11.0.0.1 :4:" LONG_TXT " 3\n"
	"11.0.0.1 :4:" LONG_TXT " 4\n"
	"11.0.0.1 :4:" LONG_TXT " 5\n"
	"11.0.0.1 :4:" LONG_TXT " 6\n"
	"11.0.0.1 :4:" LONG_TXT " 7\n"
	"11.0.0.1 :4:" LONG_TXT " 8\n";

static const char dn_data[] =
	"$SOA 0 ns.dn.test root.dn.test 1 1h 1h 1d 1m\n"
	"deep.a.b.c.example :2:dn $\n"
	"*.wild.example :3:\n";

static struct zoneset *zs;
static char *spec_args[2];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

/* Build the zone set once; files are removed once loaded. */
static struct zoneset *zones(void)
{
	static char dir[] = "/tmp/rblkit-test-query-XXXXXX";
	static struct zone_spec specs[2];
	char p1[64], p2[64];
	const char *err;

	if (zs)
		return zs;
	log_set_level(LOG_LVL_ERR);
	if (!mkdtemp(dir))
		abort();
	snprintf(p1, sizeof(p1), "%s/ip4", dir);
	snprintf(p2, sizeof(p2), "%s/dn", dir);
	put(p1, ip4_data);
	put(p2, dn_data);
	spec_args[0] = malloc(128);
	spec_args[1] = malloc(128);
	snprintf(spec_args[0], 128, "bl.test:ip4set:%s", p1);
	snprintf(spec_args[1], 128, "dn.test:dnset:%s", p2);
	for (int i = 0; i < 2; i++)
		if (zone_spec_parse(spec_args[i], &specs[i], &err))
			abort();
	zs = zoneset_build(specs, 2, &(struct ds_opts){ .def_ttl = 2100 }, NULL, 1, NULL);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
	if (!zs)
		abort();
	return zs;
}

/* A query: id 0x1234, RD, one question; EDNS0 OPT when payload != 0. */
static size_t make_query(uint8_t *q, const char *name, uint16_t type,
			 uint16_t payload, int edns_version, int do_bit)
{
	size_t n = 12;
	const char *p = name;

	memset(q, 0, 12);
	q[0] = 0x12; q[1] = 0x34; q[2] = 0x01; q[5] = 1;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	q[n++] = 0;
	q[n++] = (uint8_t)(type >> 8); q[n++] = (uint8_t)type;
	q[n++] = 0; q[n++] = 1;
	if (payload) {
		q[11] = 1;
		q[n++] = 0;
		q[n++] = 0; q[n++] = 41;
		q[n++] = (uint8_t)(payload >> 8); q[n++] = (uint8_t)payload;
		q[n++] = 0; q[n++] = (uint8_t)edns_version;
		q[n++] = do_bit ? 0x80 : 0; q[n++] = 0;
		q[n++] = 0; q[n++] = 0;
	}
	return n;
}

/* A parsed response. */
struct resp {
	size_t len;
	unsigned id, flags, rcode, qd, an, ns, ar;
	int ok;                 /* parsed to the end exactly */
	unsigned types[3][32];  /* types of the records by section */
	uint32_t ttls[3][32];
	char txt[32][256];      /* TXT strings of the answer */
	uint8_t a[32][4];       /* A rdata of the answer */
	unsigned opt_class, opt_ttl;
};

static void parse(const uint8_t *b, size_t len, struct resp *r)
{
	struct wire w;
	uint8_t name[256];
	unsigned counts[3];

	memset(r, 0, sizeof(*r));
	r->len = len;
	if (len < 12)
		return;
	wire_init(&w, b, len);
	r->id = wire_u16(&w);
	r->flags = wire_u16(&w);
	r->rcode = r->flags & 15;
	r->qd = wire_u16(&w);
	counts[0] = r->an = wire_u16(&w);
	counts[1] = r->ns = wire_u16(&w);
	counts[2] = r->ar = wire_u16(&w);
	for (unsigned i = 0; i < r->qd; i++) {
		wire_name(&w, name, 0);
		wire_skip(&w, 4);
	}
	for (int s = 0; s < 3; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			unsigned type, cls, rdlen;
			uint32_t ttl;
			size_t at;

			wire_name(&w, name, 0);
			type = wire_u16(&w);
			cls = wire_u16(&w);
			ttl = wire_u32(&w);
			rdlen = wire_u16(&w);
			at = w.pos;
			wire_skip(&w, rdlen);
			if (!wire_ok(&w) || i >= 32)
				continue;
			r->types[s][i] = type;
			r->ttls[s][i] = ttl;
			if (s == 0 && type == 16 && rdlen && b[at] < rdlen)
				snprintf(r->txt[i], sizeof(r->txt[i]), "%.*s",
					 b[at], (const char *)b + at + 1);
			if (s == 0 && type == 1 && rdlen == 4)
				memcpy(r->a[i], b + at, 4);
			if (s == 2 && type == 41) {
				r->opt_class = cls;
				r->opt_ttl = ttl;
			}
		}
	}
	r->ok = wire_ok(&w) && w.pos == len;
}

/* Ask name/type over UDP (tcp 0) or TCP; payload 0 = no EDNS0. */
static void ask(const char *name, uint16_t type, uint16_t payload, int tcp,
		struct resp *r)
{
	static uint8_t out[65536];
	uint8_t q[512];
	struct query_ctx qc = { .zs = zones(), .tcp = tcp };
	size_t ql = make_query(q, name, type, payload, 0, 1);

	parse(out, query_answer(&qc, q, ql, out, tcp ? 65535 : 4096), r);
}

#define QR 0x8000
#define AA 0x0400
#define TC 0x0200
#define RD 0x0100

UNIT_TEST(listed_ip_a_and_txt)
{
	struct resp r;

	ask("2.0.0.127.bl.test", 1, 0, 0, &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.id, 0x1234);
	CHECK_EQ_INT(r.flags & (QR | AA | TC | RD), QR | AA | RD);
	CHECK_EQ_INT(r.rcode, 0);
	CHECK_EQ_INT(r.qd, 1);
	CHECK_EQ_INT(r.an, 1);
	CHECK_EQ_INT(r.types[0][0], 1);
	CHECK(!memcmp(r.a[0], "\x7f\0\0\x02", 4));
	CHECK_EQ_INT(r.ttls[0][0], 600);
	/* NS in authority of a positive answer */
	CHECK_EQ_INT(r.ns, 1);
	CHECK_EQ_INT(r.types[1][0], 2);

	ask("2.0.0.127.bl.test", 16, 0, 0, &r);
	CHECK_EQ_INT(r.an, 1);
	CHECK_EQ_STR(r.txt[0], "listed 127.0.0.2");

	ask("5.0.0.10.BL.TEST", 255, 0, 0, &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.an, 2);
	CHECK_EQ_STR(r.txt[1], "ten");
	CHECK(!memcmp(r.a[0], "\x7f\0\0\x03", 4));
}

UNIT_TEST(nxdomain_with_soa)
{
	struct resp r;

	ask("1.0.0.127.bl.test", 1, 0, 0, &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.rcode, 3);
	CHECK_EQ_INT(r.flags & AA, AA);
	CHECK_EQ_INT(r.an, 0);
	CHECK_EQ_INT(r.ns, 1);
	CHECK_EQ_INT(r.types[1][0], 6);
	CHECK_EQ_INT(r.ttls[1][0], 300);        /* the SOA minimum */
	ask("x.example.dn.test", 1, 0, 0, &r);
	CHECK_EQ_INT(r.rcode, 3);
	ask("nothing.bl.test", 16, 0, 0, &r);
	CHECK_EQ_INT(r.rcode, 3);
}

UNIT_TEST(nodata_for_empty_non_terminals)
{
	struct resp r;

	/* 0.0.127 is above the listed 127.0.0.2: the name exists */
	ask("0.0.127.bl.test", 1, 0, 0, &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.rcode, 0);
	CHECK_EQ_INT(r.an, 0);
	CHECK_EQ_INT(r.ns, 1);
	CHECK_EQ_INT(r.types[1][0], 6);
	ask("127.bl.test", 16, 0, 0, &r);
	CHECK_EQ_INT(r.rcode, 0);
	CHECK_EQ_INT(r.an, 0);
	ask("128.bl.test", 16, 0, 0, &r);
	CHECK_EQ_INT(r.rcode, 3);
	/* dnset: c.example is above deep.a.b.c.example */
	ask("c.example.dn.test", 1, 0, 0, &r);
	CHECK_EQ_INT(r.rcode, 0);
	CHECK_EQ_INT(r.an, 0);
	ask("b.c.example.dn.test", 1, 0, 0, &r);
	CHECK_EQ_INT(r.rcode, 0);
	ask("d.c.example.dn.test", 1, 0, 0, &r);
	CHECK_EQ_INT(r.rcode, 3);
	/* a listed name asked for another type: NODATA */
	ask("2.0.0.127.bl.test", 28, 0, 0, &r);
	CHECK_EQ_INT(r.rcode, 0);
	CHECK_EQ_INT(r.an, 0);
	CHECK_EQ_INT(r.types[1][0], 6);
	/* a wildcard entry with no TXT: A only */
	ask("x.y.wild.example.dn.test", 255, 0, 0, &r);
	CHECK_EQ_INT(r.rcode, 0);
	CHECK_EQ_INT(r.an, 1);
	CHECK(!memcmp(r.a[0], "\x7f\0\0\x03", 4));
}

UNIT_TEST(apex_soa)
{
	struct resp r;

	ask("bl.test", 6, 0, 0, &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.rcode, 0);
	CHECK_EQ_INT(r.an, 1);
	CHECK_EQ_INT(r.types[0][0], 6);
	CHECK_EQ_INT(r.ttls[0][0], 3600);
}

UNIT_TEST(edns_opt_echoed)
{
	struct resp r;

	ask("2.0.0.127.bl.test", 1, 4096, 0, &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.rcode, 0);
	CHECK_EQ_INT(r.an, 1);
	CHECK_EQ_INT(r.ar, 1);
	CHECK_EQ_INT(r.types[2][0], 41);
	CHECK_EQ_INT(r.opt_class, 1232);        /* our payload size */
	CHECK_EQ_INT(r.opt_ttl, 0x8000);        /* DO echoed, version 0 */
	/* an error answer carries the OPT too */
	ask("example.org", 1, 1232, 0, &r);
	CHECK_EQ_INT(r.rcode, 5);
	CHECK_EQ_INT(r.ar, 1);
	CHECK_EQ_INT(r.types[2][0], 41);
	/* no OPT without one in the query */
	ask("2.0.0.127.bl.test", 1, 0, 0, &r);
	CHECK_EQ_INT(r.ar, 0);
}

UNIT_TEST(badvers)
{
	static uint8_t out[4096];
	uint8_t q[512];
	struct query_ctx qc = { .zs = zones() };
	size_t ql = make_query(q, "2.0.0.127.bl.test", 1, 1232, 1, 0);
	struct resp r;

	parse(out, query_answer(&qc, q, ql, out, sizeof(out)), &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.rcode, 0);               /* BADVERS is 16: 0 here */
	CHECK_EQ_INT(r.opt_ttl >> 24, 1);       /* and 1 in the OPT */
	CHECK_EQ_INT(r.an, 0);
}

UNIT_TEST(tc_over_512_without_edns)
{
	struct resp r;

	/* eight 90-byte TXT records: about 900 bytes */
	ask("1.0.0.11.bl.test", 16, 0, 0, &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.flags & TC, TC);
	CHECK_EQ_INT(r.rcode, 0);
	CHECK_EQ_INT(r.an, 0);
	CHECK_EQ_INT(r.qd, 1);
	CHECK(r.len <= 512);
	/* with EDNS0 it fits */
	ask("1.0.0.11.bl.test", 16, 1232, 0, &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.flags & TC, 0);
	CHECK_EQ_INT(r.an, 8);
	CHECK(r.len > 512 && r.len <= 1232);
	CHECK_EQ_STR(r.txt[7], LONG_TXT " 8");
	/* an EDNS0 size under 512 counts as 512 */
	ask("1.0.0.11.bl.test", 16, 100, 0, &r);
	CHECK_EQ_INT(r.flags & TC, TC);
	CHECK_EQ_INT(r.ar, 1);
	/* over TCP it fits */
	ask("1.0.0.11.bl.test", 16, 0, 1, &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.flags & TC, 0);
	CHECK_EQ_INT(r.an, 8);
}

UNIT_TEST(formerr_for_two_questions)
{
	static uint8_t out[4096];
	uint8_t q[512];
	struct query_ctx qc = { .zs = zones() };
	size_t ql = make_query(q, "2.0.0.127.bl.test", 1, 0, 0, 0);
	struct resp r;

	q[5] = 2;
	parse(out, query_answer(&qc, q, ql, out, sizeof(out)), &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.id, 0x1234);
	CHECK_EQ_INT(r.flags & QR, QR);
	CHECK_EQ_INT(r.rcode, 1);
	CHECK_EQ_INT(r.an, 0);
	CHECK(r.qd <= 1);
	q[5] = 0;
	parse(out, query_answer(&qc, q, ql, out, sizeof(out)), &r);
	CHECK_EQ_INT(r.rcode, 1);
	/* a question cut short */
	q[5] = 1;
	parse(out, query_answer(&qc, q, ql - 3, out, sizeof(out)), &r);
	CHECK_EQ_INT(r.rcode, 1);
}

UNIT_TEST(notimp_for_opcode_1)
{
	static uint8_t out[4096];
	uint8_t q[512];
	struct query_ctx qc = { .zs = zones() };
	size_t ql = make_query(q, "2.0.0.127.bl.test", 1, 0, 0, 0);
	struct resp r;

	q[2] |= 1 << 3;         /* opcode 1 (IQUERY) */
	parse(out, query_answer(&qc, q, ql, out, sizeof(out)), &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.id, 0x1234);
	CHECK_EQ_INT(r.flags & QR, QR);
	CHECK_EQ_INT(r.rcode, 4);
	CHECK_EQ_INT(r.an, 0);
}

UNIT_TEST(refused_outside_zones)
{
	struct resp r;

	ask("example.org", 1, 0, 0, &r);
	CHECK(r.ok);
	CHECK_EQ_INT(r.rcode, 5);
	CHECK_EQ_INT(r.flags & AA, 0);
	CHECK_EQ_INT(r.qd, 1);
	ask("test", 1, 0, 0, &r);
	CHECK_EQ_INT(r.rcode, 5);
	ask("xbl.test", 1, 0, 0, &r);           /* not a label boundary */
	CHECK_EQ_INT(r.rcode, 5);
}

UNIT_TEST(dropped_packets)
{
	static uint8_t out[4096];
	uint8_t q[512];
	struct query_ctx qc = { .zs = zones() };
	size_t ql = make_query(q, "2.0.0.127.bl.test", 1, 0, 0, 0);

	/* a response is never answered; nor a header cut short */
	q[2] |= 0x80;
	CHECK_EQ_INT(query_answer(&qc, q, ql, out, sizeof(out)), 0);
	q[2] &= 0x7f;
	CHECK_EQ_INT(query_answer(&qc, q, 11, out, sizeof(out)), 0);
	CHECK_EQ_INT(query_answer(&qc, q, 0, out, sizeof(out)), 0);
}

UNIT_TEST(axfr_only_over_tcp)
{
	static uint8_t out[65536];
	uint8_t q[512];
	struct query_ctx qc = { .zs = zones() };
	size_t ql = make_query(q, "bl.test", 252, 0, 0, 0);
	struct resp r;

	parse(out, query_answer(&qc, q, ql, out, 4096), &r);
	CHECK_EQ_INT(r.rcode, 4);               /* as rbldnsd: NOTIMP */
	CHECK(qc.xfr_zone == NULL);
	qc.tcp = 1;
	CHECK_EQ_INT(query_answer(&qc, q, ql, out, 65535), 0);
	CHECK(qc.xfr_zone != NULL);
	CHECK_EQ_STR(qc.xfr_zone ? qc.xfr_zone->text : "", "bl.test");
}

UNIT_TEST(answer_named_without_question)
{
	/* answer.c with a header and no question (as zone.c's probes build
	 * them): a named record must not walk a qname that is not there */
	enum { CAP = 12 + 2 * 256 };    /* a walk of 0xff labels ends at CAP */
	uint8_t *buf = malloc(CAP), hdr[12] = { 0 };
	static const uint8_t owner[] = "\3foo\4test", ns[] = "\3ns1\3foo\4test";
	size_t off = 0;
	struct answer a;

	if (!buf)
		return;
	memset(buf, 0xff, CAP);
	answer_init(&a, buf, CAP, CAP, hdr, sizeof(hdr));
	CHECK_EQ_INT(answer_add_named(&a, SEC_ANSWER, owner, 2, 60, ns,
				      sizeof(ns), &off, 1), 0);
	/* owner written in full at 12, the NS name compressed against it */
	CHECK_EQ_INT(buf[12], 3);
	CHECK(!memcmp(buf + 12, owner, sizeof(owner)));
	CHECK_EQ_INT(a.len, 12 + sizeof(owner) + 10 + 4 + 2);
	CHECK_EQ_INT(buf[a.len - 2], 0xc0);
	CHECK_EQ_INT(buf[a.len - 1], 12);
	CHECK_EQ_INT(answer_finish(&a), a.len);
	CHECK_EQ_INT(buf[7], 1);                /* ANCOUNT */
	free(buf);
}

UNIT_MAIN()
