/*
 * fuzz_zonefile.c - libFuzzer target for the data-file parsers: the input
 * is written to a temporary file and loaded as every dataset type in turn
 * (ip4set, ip4tset, ip4trie, ip6trie, ip6tset, dnset, generic, combined,
 * acl). When a load succeeds, the built structures are exercised: the
 * dataset is dumped (as for AXFR), the owner names it dumped are queried
 * back with query() and, for their ancestors, has_below(), as are a few
 * fixed names; acls are consulted for a few client addresses. Everything
 * is freed, so LeakSanitizer sees leaks of the loaders.
 *
 * SECURITY: test code; the input is untrusted by design.
 */
#include "serve/answer.h"
#include "serve/dataset.h"
#include "base/dname.h"
#include "serve/ds_acl.h"
#include "serve/query.h"
#include "base/util.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 24

static char path[64];

/* Owner names collected from a dump, to query back. */
struct names {
	uint8_t rel[MAX_NAMES][256];
	unsigned len[MAX_NAMES];
	unsigned n, records;
};

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	/* quiet (RBLKIT_FUZZ_LOG=1 shows the load errors) */
	log_set_level(getenv("RBLKIT_FUZZ_LOG") ? LOG_LVL_DEBUG :
		      (enum log_level)(LOG_LVL_ERR - 1));
	snprintf(path, sizeof(path), "/tmp/rblkit-fuzz-zone-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	atexit(remove_file);
	return 0;
}

static int collect(void *arg, const uint8_t *rel, size_t rel_len,
		   uint16_t type, uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct names *nm = arg;
	size_t p = 0;

	if (rel_len > 255 || rdlen > 65535)
		abort();
	/* rel is whole labels of at most 63 bytes, without the final 0 */
	while (p < rel_len && rel[p] && rel[p] <= 63)
		p += (size_t)rel[p] + 1;
	if (p != rel_len)
		abort();
	if (nm->n < MAX_NAMES) {
		memcpy(nm->rel[nm->n], rel, rel_len);
		nm->len[nm->n++] = (unsigned)rel_len;
	}
	return ++nm->records < 2000 ? 0 : -1;   /* a /8 dumps 65536 records */
}

static unsigned count_labels(const uint8_t *rel, unsigned len)
{
	unsigned n = 0;

	for (unsigned p = 0; p < len; p += rel[p] + 1u)
		n++;
	return n;
}

/* Ask ds about rel (labels below the zone, no final 0) for want; then
 * has_below() for every proper ancestor of rel. */
static void ask(const struct dataset *ds, const uint8_t *rel, unsigned len,
		unsigned want, size_t limit)
{
	static const uint8_t zone[] = "\2bl\4test";
	static uint8_t buf[65536];
	uint8_t q[12 + 256 + 16];
	struct answer a;
	struct qinfo qi = { .want = want, .qtype = want == Q_ANY ? 255 :
			    want == Q_TXT ? 16 : 1 };
	size_t ql = 12;

	if (len + sizeof(zone) > 255)
		return;
	memset(q, 0, 12);
	q[5] = 1;
	memcpy(q + ql, rel, len);
	ql += len;
	memcpy(q + ql, zone, sizeof(zone));
	ql += sizeof(zone);
	q[ql++] = 0; q[ql++] = (uint8_t)qi.qtype; q[ql++] = 0; q[ql++] = 1;
	answer_init(&a, buf, sizeof(buf), limit, q, ql);
	qi.rel = q + 12;
	qi.rel_len = len;
	qi.rel_labels = count_labels(rel, len);
	query_qinfo_addr(&qi, ds->type->flags);
	ds->type->query(ds, &qi, &a);
	if (a.len > a.limit)
		abort();
	answer_finish(&a);
	if (!ds->type->has_below)
		return;
	for (unsigned p = 0; p < len; p += rel[p] + 1u) {
		struct qinfo up = qi;

		up.rel = rel + p;
		up.rel_len = len - p;
		up.rel_labels = count_labels(rel + p, len - p);
		query_qinfo_addr(&up, ds->type->flags);
		ds->type->has_below(ds, &up);
	}
	struct qinfo apex = qi;
	apex.rel_len = apex.rel_labels = 0;
	query_qinfo_addr(&apex, ds->type->flags);
	ds->type->has_below(ds, &apex);
}

/* Text name (relative) to wire labels without the final 0. */
static unsigned rel_from_text(const char *text, uint8_t *out)
{
	int n = dname_from_text_lc(text, out);

	return n > 1 ? (unsigned)n - 1 : 0;
}

static void check_acl(const struct dataset *ds)
{
	static const uint8_t peers[][17] = {
		{ AF_INET, 127, 0, 0, 2 }, { AF_INET, 10, 1, 2, 3 },
		{ AF_INET, 255, 255, 255, 255 }, { AF_INET, 0, 0, 0, 0 },
		{ AF_INET6, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ AF_INET6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(peers); i++) {
		struct qinfo qi = { .peer_family = peers[i][0] };
		const struct value *v = NULL;
		uint32_t ttl = 0;
		enum acl_action act;

		memcpy(qi.peer, peers[i] + 1, 16);
		act = acl_check(NULL, ds, &qi, &v, &ttl);
		if (act == ACL_VALUE && !v)
			abort();
		if (act > ACL_IGNORE)
			abort();
	}
}

static void exercise(const struct dataset *ds)
{
	static const char *const fixed[] = {
		"2.0.0.127", "1.0.0.127", "0.0.127", "127", "255.255.255.255",
		"0.0.0.0", "test", "invalid", "example.com", "a.b.example.com",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",
		"2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",
		"f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f",
		"0.0.0.2", "2.0.0.127.proxies", "www.relays",
	};
	struct names *nm = calloc(1, sizeof(*nm));
	uint8_t rel[256];

	if (!nm)
		abort();
	if (ds->type->flags & DS_F_ACL)
		check_acl(ds);
	if (ds->type->dump)
		ds->type->dump(ds, collect, nm);
	for (unsigned i = 0; i < nm->n; i++) {
		ask(ds, nm->rel[i], nm->len[i], Q_ANY, 4096);
		ask(ds, nm->rel[i], nm->len[i], Q_TXT, 512);
	}
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		unsigned n = rel_from_text(fixed[i], rel);

		ask(ds, rel, n, Q_ANY, 512);
		ask(ds, rel, n, Q_A, 65535);
	}
	ask(ds, rel, 0, Q_ANY, 65535);      /* the apex */
	free(nm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ds_type *const types[] = {
		&ds_ip4set, &ds_ip4tset, &ds_ip4trie, &ds_ip6trie, &ds_ip6tset,
		&ds_dnset, &ds_generic, &ds_combined, &ds_acl,
	};
	struct ds_opts o = { .def_ttl = 2100, .min_ttl = 0, .max_ttl = 0 };
	FILE *f;

	if (!path[0])
		LLVMFuzzerInitialize(NULL, NULL);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		struct dataset *ds = NULL;

		/* an odd first byte loads with -e (host bits in CIDRs) */
		o.accept_in_cidr = size && (data[0] & 1);
		if (ds_load(types[i], path, &o, &ds) == 0) {
			exercise(ds);
			ds_free(ds);
		}
	}
	return 0;
}
