/*
 * test_storezone.c - the data of a store zone (storeset.c): longest
 * match over base and delta, exclusions, removals that uncover a shorter
 * match, names and wildcards, folding a delta into a base; and the store
 * dataset (ds_store.c) on a real SQLite store: load, poll, IXFR diff.
 */
#include "unit.h"
#include "serve/storeset.h"
#include "base/dname.h"

#include <arpa/inet.h>
#include <stdlib.h>

static struct sset_key ip4(const char *s, unsigned bits)
{
	struct in_addr a;
	struct sset_key k = { .kind = SSET_IP4, .bits = bits };

	inet_pton(AF_INET, s, &a);
	k.addr = ntohl(a.s_addr);
	return k;
}

static u128 a4(const char *s)
{
	return ip4(s, 32).addr;
}

static u128 a6(const char *s)
{
	uint8_t b[16];

	inet_pton(AF_INET6, s, b);
	return ip6_to_u128(b);
}

static struct sset_key ip6(const char *s, unsigned bits)
{
	struct sset_key k = { .kind = SSET_IP6, .bits = bits, .addr = a6(s) };

	return k;
}

/* A reversed wire name of text s, and its label ends. */
struct rname {
	uint8_t rev[256], ends[128];
	unsigned nl;
};

static void rname(struct rname *r, const char *s)
{
	uint8_t w[256];
	int n = dname_from_text(s, w);
	size_t i = 0;

	n = dname_reverse(w, (size_t)n - 1, r->rev);
	r->nl = 0;
	r->ends[0] = 0;
	while (i < (size_t)n) {
		i += (size_t)r->rev[i] + 1;
		r->ends[++r->nl] = (uint8_t)i;
	}
}

static struct sset_key name(struct rname *r, const char *s, int wild)
{
	struct sset_key k = { .kind = wild ? SSET_WILD : SSET_NAME };

	rname(r, s);
	k.name = r->rev;
	k.namelen = r->ends[r->nl];
	return k;
}

static uint32_t find4(const struct sset *s, const char *a)
{
	return sset_find_ip(s, 0, a4(a), NULL);
}

static uint32_t findn(const struct sset *s, const char *n)
{
	struct rname r;
	unsigned from;

	rname(&r, n);
	return sset_find_name(s, r.rev, r.ends, r.nl, &from);
}

static const uint8_t A2[4] = { 127, 0, 0, 2 }, A3[4] = { 127, 0, 0, 3 },
		     A4[4] = { 127, 0, 0, 4 };

UNIT_TEST(longest_prefix_and_exclusions)
{
	struct sset_vals *v = sset_vals_new();
	struct sset_build *b = sset_build_new();
	uint32_t x = sset_val_intern(v, A2, ""), y = sset_val_intern(v, A3, "big net $");
	struct sset_key k;
	struct sset s;

	CHECK(sset_val_intern(v, A2, "") == x);         /* interned once */
	k = ip4("10.0.0.0", 8);
	sset_build_add(b, &k, y);
	k = ip4("10.1.2.3", 32);
	sset_build_add(b, &k, x);
	k = ip4("10.1.2.0", 24);
	sset_build_add(b, &k, SSET_EXCL);
	k = ip6("2001:db8:1:2::", 64);
	sset_build_add(b, &k, x);
	s = (struct sset){ sset_build_finish(b), sset_layer_empty(), v };
	CHECK(find4(&s, "10.9.9.9") == y);
	CHECK(find4(&s, "10.1.2.3") == x);              /* longer than the exclusion */
	CHECK(find4(&s, "10.1.2.4") == SSET_NONE);      /* excluded inside the /8 */
	CHECK(find4(&s, "11.0.0.1") == SSET_NONE);
	CHECK(sset_find_ip(&s, 1, a6("2001:db8:1:2::99"), NULL) == x);
	CHECK(sset_find_ip(&s, 1, a6("2001:db8:1:3::1"), NULL) == SSET_NONE);
	CHECK(sset_any_ip(&s, 0, a4("10.1.2.0"), a4("10.1.2.255")));
	CHECK(!sset_any_ip(&s, 0, a4("11.0.0.0"), a4("11.255.255.255")));
	CHECK(!strcmp(sset_val_get(v, y)->txt, "big net $!"));
	sset_layer_unref(s.base);
	sset_layer_unref(s.delta);
	sset_vals_unref(v);
}

UNIT_TEST(delta_over_base)
{
	struct sset_vals *v = sset_vals_new();
	struct sset_build *b = sset_build_new(), *d = sset_build_new();
	uint32_t x = sset_val_intern(v, A2, ""), y = sset_val_intern(v, A3, ""),
		 z = sset_val_intern(v, A4, "");
	struct sset_key k;
	struct sset s;
	struct sset_layer *folded, *rest;

	k = ip4("192.0.2.0", 24);
	sset_build_add(b, &k, x);
	k = ip4("192.0.2.7", 32);
	sset_build_add(b, &k, y);
	k = ip4("198.51.100.1", 32);
	sset_build_add(b, &k, x);
	/* the delta: remove the /32 (uncovers the /24), add one, exclude one */
	k = ip4("192.0.2.7", 32);
	sset_build_add(d, &k, SSET_GONE);
	k = ip4("203.0.113.5", 32);
	sset_build_add(d, &k, z);
	k = ip4("192.0.2.9", 32);
	sset_build_add(d, &k, SSET_EXCL);
	k = ip4("198.51.100.1", 32);
	sset_build_add(d, &k, SSET_GONE);
	s = (struct sset){ sset_build_finish(b), sset_build_finish(d), v };
	CHECK(find4(&s, "192.0.2.7") == x);             /* uncovered, not hidden */
	CHECK(find4(&s, "192.0.2.8") == x);
	CHECK(find4(&s, "192.0.2.9") == SSET_NONE);
	CHECK(find4(&s, "203.0.113.5") == z);
	CHECK(find4(&s, "198.51.100.1") == SSET_NONE);
	CHECK(!sset_any_ip(&s, 0, a4("198.51.100.0"), a4("198.51.100.255")));
	/* folding gives the same answers with an empty delta */
	folded = sset_layer_merge(s.base, s.delta, 1);
	CHECK(sset_layer_count(folded) == 3);
	{
		struct sset f = { folded, sset_layer_empty(), v };

		CHECK(find4(&f, "192.0.2.7") == x);
		CHECK(find4(&f, "192.0.2.9") == SSET_NONE);
		CHECK(find4(&f, "203.0.113.5") == z);
		CHECK(find4(&f, "198.51.100.1") == SSET_NONE);
		sset_layer_unref(f.delta);
	}
	/* what a delta got after the fold: only the new or changed keys */
	{
		struct sset_build *d2 = sset_build_new();
		struct sset_layer *more, *later;

		k = ip4("203.0.113.5", 32);
		sset_build_add(d2, &k, x);      /* changed value */
		k = ip4("203.0.113.6", 32);
		sset_build_add(d2, &k, x);      /* new */
		more = sset_build_finish(d2);
		later = sset_layer_merge(s.delta, more, 0);
		rest = sset_layer_minus(later, s.delta);
		CHECK(sset_layer_count(rest) == 2);
		sset_layer_unref(more);
		sset_layer_unref(later);
		sset_layer_unref(rest);
	}
	sset_layer_unref(folded);
	sset_layer_unref(s.base);
	sset_layer_unref(s.delta);
	sset_vals_unref(v);
}

UNIT_TEST(names_and_wildcards)
{
	struct sset_vals *v = sset_vals_new();
	struct sset_build *b = sset_build_new(), *d = sset_build_new();
	uint32_t x = sset_val_intern(v, A2, ""), y = sset_val_intern(v, A3, "");
	struct rname r;
	struct sset_key k;
	struct sset s;

	k = name(&r, "example.com", 0);
	sset_build_add(b, &k, x);
	k = name(&r, "example.net", 1);
	sset_build_add(b, &k, y);
	k = name(&r, "good.example.net", 0);
	sset_build_add(b, &k, SSET_EXCL);
	k = name(&r, "a.b.example.org", 0);
	sset_build_add(b, &k, x);
	k = name(&r, "example.org", 1);
	sset_build_add(d, &k, y);
	k = name(&r, "example.com", 0);
	sset_build_add(d, &k, SSET_GONE);
	s = (struct sset){ sset_build_finish(b), sset_build_finish(d), v };
	CHECK(findn(&s, "example.com") == SSET_NONE);   /* removed in the delta */
	CHECK(findn(&s, "example.net") == SSET_NONE);   /* "*." is below only */
	CHECK(findn(&s, "x.example.net") == y);
	CHECK(findn(&s, "x.y.example.net") == y);
	CHECK(findn(&s, "good.example.net") == SSET_NONE);
	CHECK(findn(&s, "a.b.example.org") == x);       /* exact beats wildcard */
	CHECK(findn(&s, "c.b.example.org") == y);
	{
		struct rname q;

		rname(&q, "b.example.org");
		CHECK(sset_any_below(&s, q.rev, q.ends, q.nl));
		rname(&q, "example.com");
		CHECK(!sset_any_below(&s, q.rev, q.ends, q.nl));
	}
	sset_layer_unref(s.base);
	sset_layer_unref(s.delta);
	sset_vals_unref(v);
}

UNIT_TEST(many_entries_sorted)
{
	struct sset_vals *v = sset_vals_new();
	struct sset_build *b = sset_build_new();
	uint32_t x = sset_val_intern(v, A2, ""), y = sset_val_intern(v, A3, "");
	struct sset s;
	int ok = 1;

	/* in reverse order, every key twice: the later one wins */
	for (uint32_t i = 100000; i-- > 0;) {
		struct sset_key k = { .kind = SSET_IP4, .bits = 32, .addr = 0x0a000000u + i * 3 };

		sset_build_add(b, &k, y);
		sset_build_add(b, &k, x);
	}
	s = (struct sset){ sset_build_finish(b), sset_layer_empty(), v };
	CHECK(sset_layer_count(s.base) == 100000);
	for (uint32_t i = 0; i < 100000; i++) {
		ok &= sset_find_ip(&s, 0, 0x0a000000u + i * 3, NULL) == x;
		ok &= sset_find_ip(&s, 0, 0x0a000000u + i * 3 + 1, NULL) == SSET_NONE;
	}
	CHECK(ok);
	sset_layer_unref(s.base);
	sset_layer_unref(s.delta);
	sset_vals_unref(v);
}


/* ---- the store dataset against a real (SQLite) store ---- */

#include "serve/answer.h"
#include "serve/ds_store.h"
#include "store/store.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int put(struct store *st, const char *key, enum store_state state, uint32_t code,
	       const char *reason)
{
	struct store_listing l;
	char err[256];

	memset(&l, 0, sizeof(l));
	if (store_key_parse(key, &l.key, err, sizeof(err)))
		return -1;
	l.state = state;
	l.code = code;
	snprintf(l.reason, sizeof(l.reason), "%s", reason);
	l.first_seen = l.last_seen = l.changed = time(NULL);
	return store_put(st, "bl.test", &l);
}

/* A of addr (dotted IPv4) in ds: the last octet of the A, 0 when not
 * listed. */
static int ask(const struct dataset *ds, const char *addr)
{
	uint8_t buf[512], q[12] = { 0 };
	struct answer a;
	struct qinfo qi = { .want = Q_A, .qtype = 1, .ip4_ok = 1 };

	qi.ip4 = (uint32_t)a4(addr);
	answer_init(&a, buf, sizeof(buf), sizeof(buf), q, sizeof(q));
	if (!ds->type->query(ds, &qi, &a) || !a.count[SEC_ANSWER])
		return 0;
	return buf[a.len - 1];
}

struct diffrec {
	int n[2], phase;
};

static int diff_emit(void *arg, const uint8_t *rel, size_t rel_len, uint16_t type,
		     uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	struct diffrec *d = arg;

	d->n[d->phase]++;
	return 0;
}

static int diff_between(void *arg)
{
	((struct diffrec *)arg)->phase = 1;
	return 0;
}

UNIT_TEST(store_dataset_live)
{
	char path[] = "/tmp/rblkit-storezone-XXXXXX", dsn[128], err[512];
	struct ds_opts o = { .def_ttl = 2100, .max_ttl = 0 };
	struct dataset *ds = NULL, *next = NULL, *third = NULL;
	struct store *st = NULL;
	int fd = mkstemp(path);
	uint32_t s1;

	close(fd);
	unlink(path);
	snprintf(dsn, sizeof(dsn), "sqlite:%s", path);
	CHECK(store_open(dsn, 0, &st, err, sizeof(err)) == 0);
	if (!st)
		return;
	CHECK(put(st, "192.0.2.0/24", STORE_LISTED, 0x7f000003, "net") == 0);
	CHECK(put(st, "192.0.2.7", STORE_LISTED, 0x7f000004, "") == 0);
	CHECK(put(st, "192.0.2.9", STORE_EXCLUDED, 0, "") == 0);
	CHECK(ds_store_load("bl.test", dsn, &o, &ds, err, sizeof(err)) == 0);
	CHECK(ds_store_load("no.test", dsn, &o, &next, err, sizeof(err)) == -1);
	CHECK(strstr(err, "no.test") != NULL);
	next = NULL;
	if (!ds)
		goto out;
	s1 = ds_store_serial(ds);
	CHECK(ask(ds, "192.0.2.7") == 4);
	CHECK(ask(ds, "192.0.2.8") == 3);
	CHECK(ask(ds, "192.0.2.9") == 0);
	CHECK(ds_store_poll(ds, &next) == 0);           /* nothing new */
	/* a removal that uncovers the /24, an addition, in two transactions */
	CHECK(put(st, "192.0.2.7", STORE_REMOVED, 0, "") == 0);
	CHECK(put(st, "198.51.100.1", STORE_LISTED, 0x7f000005, "") == 0);
	CHECK(ds_store_poll(ds, &next) == 1);
	if (!next)
		goto out;
	CHECK(ds_store_serial(next) == s1 + 2);
	CHECK(ask(next, "192.0.2.7") == 3);
	CHECK(ask(next, "198.51.100.1") == 5);
	CHECK(ask(ds, "192.0.2.7") == 4);               /* the old version stays */
	{
		struct diffrec d = { { 0, 0 }, 0 };

		/* 7: A 4 out, A 3 in; 198.51.100.1: A 5 in (and TXTs of the
		 * zone's template, if it has one) */
		CHECK(ds_store_diff(next, s1, diff_emit, diff_between, &d) == 0);
		CHECK(d.n[0] >= 1 && d.n[1] >= 2);
		CHECK(ds_store_diff(next, s1 - 5, diff_emit, diff_between, &d) == 1);
	}
	CHECK(put(st, "198.51.100.1", STORE_LISTED, 0x7f000006, "") == 0);   /* a new code */
	CHECK(ds_store_poll(next, &third) == 1);
	if (third)
		CHECK(ask(third, "198.51.100.1") == 6);
out:
	ds_free(third);
	ds_free(next);
	ds_free(ds);
	store_close(st);
	unlink(path);
	snprintf(dsn, sizeof(dsn), "%s-wal", path);
	unlink(dsn);
	snprintf(dsn, sizeof(dsn), "%s-shm", path);
	unlink(dsn);
}

UNIT_MAIN()
