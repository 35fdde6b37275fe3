/*
 * fuzz_packet.c - libFuzzer target for query_answer(): the bytes are a DNS
 * query (after one control byte) answered from a small zone set of every
 * dataset type, built once from data files written to a temporary
 * directory. The control byte picks UDP or TCP, the client address (to
 * reach every acl action), lazy mode and version.bind. Every response is
 * parsed back with the wire reader and must be well formed: within the
 * buffer and the client's limit, ID echoed, QR set, at most one question,
 * section counts matching the records present. AXFR requests over TCP run
 * the transfer and check every message the same way.
 *
 * SECURITY: test code; the input is untrusted by design.
 */
#include "serve/axfr.h"
#include "serve/query.h"
#include "base/util.h"
#include "base/wire.h"
#include "serve/zone.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ip4set_data[] =
	"$SOA 1h ns1.bl.test hostmaster.bl.test 2024010101 2h 1h 1w 5m\n"
	"$NS 1d ns1.bl.test ns2.bl.test\n"
	"$TTL 30m\n"
	"$1 http://bl.test/lookup\n"
	":127.0.0.2:listed, see $1?$\n"
	"127.0.0.2\n"
	"10.0.0.0/8 :3:ten net $\n"
	"!10.1.0.0/16\n"
	"10.1.2.3 :4:\n"
	"192.168.1-192.168.3 :127.0.0.5:$$ range $\n"
	"172.16-31\n"
	"1.2.3.4-255 :6\n"
	"100.64/10 plain $ text $9 undefined\n"
	"11/8 :10:first of many values for the whole of eleven slash eight $\n"
	"11/8 :11:second of many values for the whole of eleven slash eight $\n"
	"11/8 :12:third of many values for the whole of eleven slash eight $\n"
	"11/8 :13:fourth of many values for the whole of eleven slash eight $\n"
	"11/8 :14:fifth of many values for the whole of eleven slash eight $\n"
	"11/8 :15:sixth of many values for the whole of eleven slash eight $\n"
	"11/8 :16:seventh of many values for the whole of eleven slash eight $\n"
	"11/8 :17:eighth of many values for the whole of eleven slash eight $\n"
	"$= base [$=] for $\n"
	"12.0.0.1 r123\n"
	"12.0.0.2\n"
	"12.0.0.3 =no base for $\n";

static const char dnset_data[] =
	"$SOA 0 ns.dn.bl.test root.dn.bl.test 0 1h 1h 1d 1m\n"
	":2:domain $ is listed\n"
	"example.com\n"
	"*.wild.example\n"
	".dot.example :3:dot $\n"
	"!ok.wild.example\n"
	"deep.a.b.c.example :127.0.0.4:\n"
	"test\n"
	"UPPER.Case.Example text $$ for $\n";

static const char generic_data[] =
	"$NS 0 ns1.gen.bl.test ns2.elsewhere.test\n"
	"$SOA 0 ns1.gen.bl.test admin.gen.bl.test 7 1h 1h 1d 60\n"
	"@ A 127.0.0.8\n"
	"@ MX 10 mx.gen.bl.test\n"
	"www 3000 A 127.0.0.1\n"
	"about TXT \"generic zone\"\n"
	"x.y.z TXT \"deep\"\n"
	"x.y.z A 127.0.0.3\n";

static const char ip6trie_data[] =
	"$SOA 0 ns.ip6.bl.test root.ip6.bl.test 1 1h 1h 1d 1m\n"
	":127.0.1.2: Listed, see http://example.com/lookup?$\n"
	"2001:21ab:c000/36\n"
	"2001:21ab:def7:4242 :127.0.1.3: This one smells funny\n"
	"2605:6001:42::/52\n"
	"::1\n"
	"!2605:6001:42::bead\n"
	"::ffff:7f00:2\n"
	"0:0:0:0:0:ffff:a00:0/104 :5:mapped ten\n";

static const char combined_data[] =
	"$NS 1w ns1.comb.bl.test ns2.comb.bl.test\n"
	"$SOA 1w ns1.comb.bl.test admin.comb.bl.test 0 2h 2h 1w 1h\n"
	"$DATASET ip4set:proxy proxies @\n"
	":2:Open proxy, see http://bl.ex.com/proxy/$\n"
	"127.0.0.2\n"
	"127.0.0.10\n"
	"$DATASET ip4set:relay relays @\n"
	":3:Open relay, see http://bl.ex.com/relay/$\n"
	"127.0.0.2\n"
	"127.0.2.10\n"
	"$DATASET ip4trie:multihop multihop\n"
	":4:Multihop open relay, see http://bl.ex.com/relay/$\n"
	"127.0.0.0/24\n"
	"!127.0.0.1\n"
	"$DATASET dnset names\n"
	"spam.example :5:$\n"
	"$DATASET generic:common proxies relays multihop @\n"
	"@ A 127.0.0.8\n"
	"www A 127.0.0.8\n"
	"@ MX 10 mx.ex.com\n";

static const char ip4trie_data[] =
	":127.0.0.2:trie $\n"
	"10.0.0.0/8 :2:eight\n"
	"10.20.0.0/16 :3:sixteen\n"
	"!10.20.30.0/24\n"
	"10.20.30.40/32 :4:thirty-two\n"
	"127.0.0.2\n";

static const char ip4tset_data[] =
	":127.0.0.3:tset $\n"
	"127.0.0.2\n"
	"192.0.2.1\n"
	"192.0.2.2\n";

static const char ip6tset_data[] =
	":127.0.0.6:ip6 $\n"
	"2001:20fe:23:41ed\n"
	"abac:adab:ad00:42f\n"
	"!abac:adab:ad00:42f:face:0f:a:beef\n"
	"!abac:adab:ad00:42f::2\n";

static const char acl_data[] =
	"192.0.2.0/24 :refuse\n"
	"192.0.2.128/25 :empty\n"
	"198.51.100.0/24 :ignore\n"
	"203.0.113.0/24 :127.0.0.9:acl says $\n"
	"127.0.0.0/8 :pass\n"
	"2001:db8::/32 :pass\n"
	"2001:db8:1::/48 :refuse\n";

static const char gacl_data[] =
	"203.0.113.66 :empty\n"
	"0/0 :pass\n"
	"::/0 :pass\n";

static const char expired_data[] =
	"$TIMESTAMP 2000:01:01 2000:01:02\n"
	"127.0.0.2\n";

static struct zoneset *zs;

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

static const struct { const char *zone, *type, *file, *text; } files[] = {
	{ "ip4.bl.test", "ip4set", "ip4set", ip4set_data },
	{ "dn.bl.test", "dnset", "dnset", dnset_data },
	{ "gen.bl.test", "generic", "generic", generic_data },
	{ "ip6.bl.test", "ip6trie", "ip6trie", ip6trie_data },
	{ "comb.bl.test", "combined", "combined", combined_data },
	{ "multi.bl.test", "ip4trie", "ip4trie", ip4trie_data },
	{ "multi.bl.test", "ip4tset", "ip4tset", ip4tset_data },
	{ "multi.bl.test", "ip6tset", "ip6tset", ip6tset_data },
	{ "multi.bl.test", "dnset", "dnset", dnset_data },
	{ "multi.bl.test", "generic", "generic", generic_data },
	{ "multi.bl.test", "acl", "acl", acl_data },
	{ "", "acl", "gacl", gacl_data },
	{ "old.bl.test", "ip4tset", "expired", expired_data },
	{ "bl.test", "generic", "generic", generic_data },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/rblkit-fuzz-packet-XXXXXX";
	/* static: the zone set keeps pointers to the file names */
	static struct zone_spec specs[ARRAY_SIZE(files)];
	struct ds_opts o = { .def_ttl = 2100 };
	const char *err;
	char arg[600];

	/* quiet (RBLKIT_FUZZ_LOG=1 shows the load errors) */
	log_set_level(getenv("RBLKIT_FUZZ_LOG") ? LOG_LVL_DEBUG :
		      (enum log_level)(LOG_LVL_ERR - 1));
	if (!mkdtemp(dir))
		abort();
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		put_file(dir, files[i].file, files[i].text);
		snprintf(arg, sizeof(arg), "%s:%s:%s/%s", files[i].zone,
			 files[i].type, dir, files[i].file);
		if (zone_spec_parse(arg, &specs[i], &err)) {
			fprintf(stderr, "%s: %s\n", arg, err);
			abort();
		}
	}
	zs = zoneset_build(specs, ARRAY_SIZE(files), &o, NULL, 1, NULL);
	if (!zs)
		abort();
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(arg, sizeof(arg), "%s/%s", dir, files[i].file);
		unlink(arg);
	}
	rmdir(dir);
	return 0;
}

/* Parse a response back; abort unless it is a well-formed message that
 * answers req and fits limit. */
static void check_response(const uint8_t *req, size_t reqlen,
			   const uint8_t *resp, size_t len, size_t limit)
{
	struct wire w;
	uint8_t name[256];
	unsigned qd, n;

	if (len > limit || len < 12)
		abort();
	if (reqlen >= 2 && (resp[0] != req[0] || resp[1] != req[1]))
		abort();                /* ID echoed */
	if (!(resp[2] & 0x80))
		abort();                /* QR */
	wire_init(&w, resp, len);
	wire_skip(&w, 4);
	qd = wire_u16(&w);
	n = wire_u16(&w);
	n += wire_u16(&w);
	n += wire_u16(&w);
	if (qd > 1)
		abort();
	if (qd) {
		wire_name(&w, name, 0);
		wire_skip(&w, 4);
	}
	for (unsigned i = 0; i < n; i++) {
		uint16_t rdlen;

		wire_name(&w, name, 0);
		wire_skip(&w, 8);
		rdlen = wire_u16(&w);
		wire_skip(&w, rdlen);
	}
	if (!wire_ok(&w) || w.pos != len)
		abort();                /* counts and records disagree */
}

struct xfr_check {
	const uint8_t *req;
	size_t len;
	unsigned msgs;
};

static int xfr_send(void *arg, const uint8_t *msg, size_t len)
{
	struct xfr_check *x = arg;

	check_response(x->req, x->len, msg, len, 65535);
	/* enough to see the transfer split in messages, then stop */
	return ++x->msgs < 8 ? 0 : -1;
}

static const struct sockaddr *pick_peer(unsigned sel, struct sockaddr_in *s4,
					struct sockaddr_in6 *s6)
{
	static const char *const v4[] = { "127.0.0.1", "192.0.2.5",
		"192.0.2.200", "198.51.100.1", "203.0.113.7", "203.0.113.66" };
	static const uint8_t v6[2][16] = {
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	};

	memset(s4, 0, sizeof(*s4));
	memset(s6, 0, sizeof(*s6));
	if (sel == 0)
		return NULL;
	if (sel <= 6) {
		uint32_t a = 0;
		unsigned o[4];

		sscanf(v4[sel - 1], "%u.%u.%u.%u", &o[0], &o[1], &o[2], &o[3]);
		for (int i = 0; i < 4; i++)
			a = a << 8 | o[i];
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(a);
		return (const struct sockaddr *)s4;
	}
	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, v6[sel & 1], 16);
	return (const struct sockaddr *)s6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t resp[65536];
	uint64_t stats[16][ST_COUNT], global[ST_COUNT];
	struct query_ctx qc;
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	size_t len, cap;
	uint8_t ctl;

	if (!zs)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size < 1)
		return 0;
	ctl = data[0];
	data++;
	size--;
	memset(&qc, 0, sizeof(qc));
	qc.zs = zs;
	qc.tcp = ctl & 1;
	qc.lazy = (ctl >> 1) & 1;
	qc.version = ctl & 4 ? "rblkit fuzz" : NULL;
	qc.peer = pick_peer((ctl >> 3) & 7, &s4, &s6);
	qc.stats = ctl & 0x40 ? stats : NULL;
	qc.global = global;
	/* UDP gets the server's buffer, TCP the largest message */
	cap = qc.tcp ? 65535 : 4096;
	len = query_answer(&qc, data, size, resp, cap);
	if (len)
		check_response(data, size, resp, len, qc.tcp ? 65535 : 1232);
	if (qc.xfr_zone) {
		struct xfr_check x = { data, size, 0 };
		size_t qlen = axfr_question_len(data, size);

		if (!qc.tcp || !qlen || len)
			abort();        /* AXFR only over TCP, for a parsed query */
		axfr_run(qc.xfr_zone, data, qlen, xfr_send, &x);
	}
	return 0;
}
