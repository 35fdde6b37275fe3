/*
 * test_dnset.c - unit tests for the dnset dataset: rbldnsd's matching
 * (exact, then nearest wildcard), exclusions, "$" text, has_below(), and
 * a dump that a standard server answers from exactly as query() does.
 */
#include "unit.h"
#include "serve/answer.h"
#include "serve/dataset.h"
#include "base/dname.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Load data as a dnset; warnings are shown only when loud. */
static struct dataset *load_v(const char *data, int loud)
{
	char path[] = "/tmp/rblkit-dnset-XXXXXX";
	struct ds_opts o = { .def_ttl = 2100 };
	struct dataset *ds = NULL;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		return NULL;
	close(fd);
	log_set_level(loud ? LOG_LVL_INFO : LOG_LVL_ERR);
	if (ds_load(&ds_dnset, path, &o, &ds))
		ds = NULL;
	unlink(path);
	return ds;
}

static struct dataset *load(const char *data)
{
	return load_v(data, 0);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Text of one RR's type and rdata, "A 1.2.3.4" or "TXT text". */
static void rr_text(uint16_t type, const uint8_t *rd, size_t rdlen, char *out,
		    size_t outsz)
{
	if (type == 1 && rdlen == 4)
		snprintf(out, outsz, "A %u.%u.%u.%u", rd[0], rd[1], rd[2], rd[3]);
	else if (type == 16 && rdlen >= 1)
		snprintf(out, outsz, "TXT %.*s", (int)rd[0], (const char *)rd + 1);
	else
		snprintf(out, outsz, "type%u/%zu", type, rdlen);
}

/* Join sorted RR texts with "; " into out. */
static void join_sorted(char **items, int n, char *out, size_t outsz)
{
	qsort(items, (size_t)n, sizeof(*items), str_cmp);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i)
			strncat(out, "; ", outsz - strlen(out) - 1);
		strncat(out, items[i], outsz - strlen(out) - 1);
		free(items[i]);
	}
}

/* Ask ds about rel (text, relative to the zone, "" = apex) for want.
 * Returns query()'s result; out gets the answer RRs, sorted. */
static int ask(const struct dataset *ds, const char *rel, unsigned want,
	       char *out, size_t outsz)
{
	uint8_t w[DNAME_MAXLEN], q[600], buf[4096];
	struct qinfo qi = { .want = want };
	struct answer ans;
	char *items[64];
	int n = *rel ? dname_from_text_lc(rel, w) - 1 : 0, r, ni = 0;
	size_t ql = 12, p;

	memset(q, 0, 12);
	q[5] = 1;                                       /* qdcount */
	memcpy(q + ql, w, (size_t)n);
	ql += (size_t)n;
	memcpy(q + ql, "\2bl\0\0\1\0\1", 8);
	ql += 8;
	qi.rel = w;
	qi.rel_len = (unsigned)n;
	qi.rel_labels = (unsigned)dname_labels(w, (size_t)n);
	answer_init(&ans, buf, sizeof(buf), sizeof(buf), q, ql);
	r = ds->type->query(ds, &qi, &ans);
	answer_finish(&ans);
	for (p = ql; ni < ans.count[SEC_ANSWER] && ni < 64; ni++) {
		char t[300];
		size_t rdlen = (size_t)buf[p + 10] << 8 | buf[p + 11];

		rr_text((uint16_t)(buf[p + 2] << 8 | buf[p + 3]), buf + p + 12,
			rdlen, t, sizeof(t));
		items[ni] = strdup(t);
		p += 12 + rdlen;
	}
	join_sorted(items, ni, out, outsz);
	return r;
}

static int below(const struct dataset *ds, const char *rel)
{
	uint8_t w[DNAME_MAXLEN];
	int n = *rel ? dname_from_text_lc(rel, w) - 1 : 0;
	struct qinfo qi = { .want = Q_A, .rel = w, .rel_len = (unsigned)n };

	qi.rel_labels = (unsigned)dname_labels(w, (size_t)n);
	return ds->type->has_below(ds, &qi);
}

static const char data[] =
	":3:Listed $ here\n"
	"EXAMPLE.Com\n"
	"*.wild.com :4:wild $\n"
	".both.com\n"
	"!ex.both.com\n"
	"! *.sub.both.com\n"
	"plain.org :5:\n"
	"multi.net :6:first\n"
	"multi.net :7:second\n"
	"multi.net :7:second\n"
	"excl.net\n"
	"!excl.net\n"
	"excl.net :9:\n"
	"dots..in.name\n"
	"esc\\.aped.com text for $ # not a comment\n"
	"comment.com # a comment: default value\n"
	"*.deep.com :8:deep $\n"
	"x.y.deep.com :10:specific $\n"
	"!z.deep.com\n"
	"!a.ex1.io\n"
	"!b.ex1.io\n"
	"!a.ex2.io\n"
	"b.ex2.io\n"
	"dollar.com :11:cost $$5 for $\n"
	/* bad lines: warned about and skipped */
	".\n"
	"!\n"
	"*.\n"
	"bad.value :300:\n"
	"toolonglabel-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\n"
	"\\999.com\n";

UNIT_TEST(exact_entries)
{
	struct dataset *ds = load(data);
	char out[1024];

	CHECK(ds != NULL);
	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, "example.com", Q_A | Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "A 127.0.0.3; TXT Listed example.com here");
	CHECK_EQ_INT(ask(ds, "example.com", Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "TXT Listed example.com here");
	CHECK_EQ_INT(ask(ds, "sub.example.com", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(ask(ds, "com", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(ask(ds, "", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(ask(ds, "plain.org", Q_A | Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "A 127.0.0.5");
	CHECK_EQ_INT(ask(ds, "dots.in.name", Q_A, out, sizeof(out)), 1);
	CHECK_EQ_INT(ask(ds, "dollar.com", Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "TXT cost $5 for dollar.com");
	CHECK_EQ_INT(ask(ds, "comment.com", Q_A | Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "A 127.0.0.3; TXT Listed comment.com here");
	ds_free(ds);
}

UNIT_TEST(subst_is_escaped_relative_name)
{
	struct dataset *ds = load(data);
	char out[1024];

	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, "esc\\.aped.com", Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "TXT text for esc\\.aped.com # not a comment");
	ds_free(ds);
}

UNIT_TEST(all_values_of_a_name_answer)
{
	struct dataset *ds = load(data);
	char out[1024];

	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, "multi.net", Q_A | Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "A 127.0.0.6; A 127.0.0.7; TXT first; TXT second");
	ds_free(ds);
}

UNIT_TEST(wildcards)
{
	struct dataset *ds = load(data);
	char out[1024];

	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, "wild.com", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(ask(ds, "a.wild.com", Q_A | Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "A 127.0.0.4; TXT wild wild.com");
	CHECK_EQ_INT(ask(ds, "a.b.c.wild.com", Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "TXT wild wild.com");
	CHECK_EQ_INT(ask(ds, "both.com", Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "TXT Listed both.com here");
	CHECK_EQ_INT(ask(ds, "x.both.com", Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "TXT Listed both.com here");
	/* specific entry under a wildcard wins, deeper names use the wildcard */
	CHECK_EQ_INT(ask(ds, "x.y.deep.com", Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "TXT specific x.y.deep.com");
	CHECK_EQ_INT(ask(ds, "q.x.y.deep.com", Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "TXT deep deep.com");
	CHECK_EQ_INT(ask(ds, "y.deep.com", Q_A, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "A 127.0.0.8");
	ds_free(ds);
}

UNIT_TEST(exclusions)
{
	struct dataset *ds = load(data);
	char out[1024];

	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, "ex.both.com", Q_A, out, sizeof(out)), 0);
	/* a plain exclusion does not stop the wildcard for names below it */
	CHECK_EQ_INT(ask(ds, "a.ex.both.com", Q_A, out, sizeof(out)), 1);
	/* !*.sub.both.com: sub.both.com itself still via .both.com */
	CHECK_EQ_INT(ask(ds, "sub.both.com", Q_A, out, sizeof(out)), 1);
	CHECK_EQ_INT(ask(ds, "a.sub.both.com", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(ask(ds, "a.b.sub.both.com", Q_A, out, sizeof(out)), 0);
	/* an exclusion in the group wins over values listed with it */
	CHECK_EQ_INT(ask(ds, "excl.net", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(ask(ds, "z.deep.com", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(ask(ds, "a.z.deep.com", Q_A, out, sizeof(out)), 1);
	ds_free(ds);
}

UNIT_TEST(bad_lines_are_skipped)
{
	struct dataset *ds = load_v(data, 1);
	char out[1024];
	size_t entries, bytes;

	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, "bad.value", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(ask(ds, "999.com", Q_A, out, sizeof(out)), 0);
	ds->type->stats(ds->data, &entries, &bytes);
	/* ".both.com" is two entries; the repeated multi.net value and the
	 * values of the excluded excl.net are dropped */
	CHECK_EQ_INT(entries, 21);
	CHECK(bytes > 0);
	ds_free(ds);
}

UNIT_TEST(has_below)
{
	struct dataset *ds = load(data);

	if (!ds)
		return;
	CHECK_EQ_INT(below(ds, ""), 1);
	CHECK_EQ_INT(below(ds, "com"), 1);
	CHECK_EQ_INT(below(ds, "example.com"), 0);
	CHECK_EQ_INT(below(ds, "wild.com"), 1);         /* *.wild.com */
	CHECK_EQ_INT(below(ds, "net"), 1);
	CHECK_EQ_INT(below(ds, "excl.net"), 0);
	CHECK_EQ_INT(below(ds, "sub.both.com"), 0);     /* !*.sub.both.com */
	CHECK_EQ_INT(below(ds, "ex.both.com"), 1);      /* under .both.com */
	CHECK_EQ_INT(below(ds, "y.deep.com"), 1);
	CHECK_EQ_INT(below(ds, "z.deep.com"), 1);
	CHECK_EQ_INT(below(ds, "nothing"), 0);
	CHECK_EQ_INT(below(ds, "ex1.io"), 0);           /* only exclusions */
	CHECK_EQ_INT(below(ds, "ex2.io"), 1);
	CHECK_EQ_INT(below(ds, "io"), 1);
	ds_free(ds);
}

/* ---- dump: a standard server answering from it must agree ---- */

struct rec {
	uint8_t owner[DNAME_MAXLEN];
	size_t olen;
	uint16_t type;
	uint8_t rd[300];
	size_t rdlen;
};
static struct rec recs[512];
static int nrecs;

static int collect(void *arg, const uint8_t *rel, size_t rel_len, uint16_t type,
		   uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct rec *r = &recs[nrecs];

	if (nrecs == 512 || rdlen > sizeof(r->rd) || rel_len > DNAME_MAXLEN)
		return -1;
	memcpy(r->owner, rel, rel_len);
	r->olen = rel_len;
	r->type = type;
	memcpy(r->rd, rdata, rdlen);
	r->rdlen = rdlen;
	nrecs++;
	return 0;
}

static int same_name(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	return al == bl && !dname_cmp(a, al, b, bl);
}

/* The node exists: some owner at or below it. */
static int exists(const uint8_t *n, size_t len)
{
	for (int i = 0; i < nrecs; i++)
		if (dname_is_sub(recs[i].owner, recs[i].olen, n, len))
			return 1;
	return 0;
}

/* A and TXT a standard server gives for name (RFC 4592 wildcards). */
static void static_answer(const uint8_t *n, size_t len, char *out, size_t outsz)
{
	uint8_t w[DNAME_MAXLEN + 2] = "\1*";
	const uint8_t *own = n;
	size_t olen = len;
	char *items[64];
	int ni = 0;

	if (!exists(n, len)) {
		const uint8_t *ce = n;
		size_t cl = len;

		do {                    /* closest encloser */
			cl -= (size_t)ce[0] + 1;
			ce += ce[0] + 1;
		} while (cl && !exists(ce, cl));
		memcpy(w + 2, ce, cl);
		own = w;
		olen = cl + 2;
	}
	for (int i = 0; i < nrecs && ni < 64; i++) {
		char t[300];

		if (!same_name(recs[i].owner, recs[i].olen, own, olen) ||
		    (recs[i].type != 1 && recs[i].type != 16))
			continue;
		rr_text(recs[i].type, recs[i].rd, recs[i].rdlen, t, sizeof(t));
		items[ni++] = strdup(t);
	}
	join_sorted(items, ni, out, outsz);
}

static void check_name(const struct dataset *ds, const uint8_t *n, size_t len)
{
	char text[DNAME_TEXT_MAX], got[1024], want[1024];

	if (!len || len > 200)
		return;
	dname_to_text(n, len, text, sizeof(text));
	ask(ds, text, Q_A | Q_TXT, got, sizeof(got));
	static_answer(n, len, want, sizeof(want));
	if (strcmp(got, want))
		printf("  %s: query \"%s\", dump \"%s\"\n", text, got, want);
	CHECK_EQ_STR(got, want);
}

UNIT_TEST(dump_answers_like_query)
{
	struct dataset *ds = load(data);
	uint8_t n[DNAME_MAXLEN + 8];

	if (!ds)
		return;
	nrecs = 0;
	CHECK_EQ_INT(ds->type->dump(ds, collect, NULL), 0);
	CHECK(nrecs > 20);
	for (int i = 0, total = nrecs; i < total; i++) {
		const uint8_t *o = recs[i].owner;
		size_t ol = recs[i].olen;

		if (ol >= 2 && o[0] == 1 && o[1] == '*') {
			o += 2;
			ol -= 2;
		}
		check_name(ds, o, ol);
		memcpy(n, "\2zz", 3);           /* a child and a grandchild */
		memcpy(n + 3, o, ol);
		check_name(ds, n, ol + 3);
		memcpy(n, "\2yy\2zz", 6);
		memcpy(n + 6, o, ol);
		check_name(ds, n, ol + 6);
	}
	ds_free(ds);
}

UNIT_TEST(dump_placeholder_for_excluded_names_under_wildcards)
{
	struct dataset *ds = load(data);
	int hinfo = 0;

	if (!ds)
		return;
	nrecs = 0;
	ds->type->dump(ds, collect, NULL);
	for (int i = 0; i < nrecs; i++) {
		if (recs[i].type != 13)
			continue;
		hinfo++;
		CHECK_EQ_INT(recs[i].rdlen, 16);
		CHECK(!memcmp(recs[i].rd, "\10excluded\6rblkit", 16));
	}
	CHECK_EQ_INT(hinfo, 2);         /* ex.both.com, z.deep.com */
	ds_free(ds);
}

/* Random small datasets: the dump must answer every name like query(). */
static void name_of(unsigned code, unsigned depth, char *out)
{
	out[0] = '\0';
	for (unsigned i = 0; i < depth; i++, code /= 4) {
		char l[3] = { (char)('a' + code % 4), '.', '\0' };

		strcat(out, l);
	}
	if (depth)
		out[strlen(out) - 1] = '\0';
}

/* has_below(N) must say whether some name strictly below N is listed.
 * Names of depth <= 4 over a..d, and "zz." before each of them and the
 * apex, include a listed name below N whenever there is one (data names
 * have at most 3 labels). */
static void check_has_below(const struct dataset *ds)
{
	static uint8_t w[682][DNAME_MAXLEN];
	static int wl[682], listed_m[682];
	char name[64], text[80], out[256];
	int n = 0;

	for (unsigned depth = 0; depth <= 4; depth++) {
		for (unsigned code = 0; code < (1u << (2 * depth)); code++) {
			name_of(code, depth, name);
			for (int zz = 0; zz < 2; zz++) {
				snprintf(text, sizeof(text), "%s%s", zz ? "zz." : "", name);
				wl[n] = *text ? dname_from_text(text, w[n]) - 1 : 0;
				listed_m[n] = *text && ask(ds, text, Q_A, out, sizeof(out));
				n++;
			}
		}
	}
	for (int i = 0; i < n; i += 2) {        /* i: names without "zz." */
		int want = 0;

		for (int j = 0; j < n && !want; j++)
			want = listed_m[j] && wl[j] > wl[i] &&
			       dname_is_sub(w[j], (size_t)wl[j], w[i], (size_t)wl[i]);
		dname_to_text(w[i], (size_t)wl[i], text, sizeof(text));
		if (below(ds, text) != want)
			printf("  has_below(%s) should be %d\n", text, want);
		CHECK_EQ_INT(below(ds, wl[i] ? text : ""), want);
	}
}

UNIT_TEST(dump_random_datasets)
{
	unsigned seed = 4242;

	for (int it = 0; it < 60; it++) {
		char buf[4096] = "", name[64], line[128];
		struct dataset *ds;

		for (int i = 0; i < 12; i++) {
			static const char *const pre[] = { "", "*.", "." };
			unsigned depth = 1 + (unsigned)rand_r(&seed) % 3;

			name_of((unsigned)rand_r(&seed), depth, name);
			snprintf(line, sizeof(line), "%s%s%s :%d:t$\n",
				 rand_r(&seed) % 4 ? "" : "!",
				 pre[rand_r(&seed) % 3], name, 2 + rand_r(&seed) % 3);
			strcat(buf, line);
		}
		ds = load(buf);
		CHECK(ds != NULL);
		if (!ds)
			return;
		nrecs = 0;
		CHECK_EQ_INT(ds->type->dump(ds, collect, NULL), 0);
		for (unsigned depth = 1; depth <= 4; depth++) {
			for (unsigned code = 0; code < (1u << (2 * depth)); code++) {
				uint8_t w[DNAME_MAXLEN];
				int n;

				name_of(code, depth, name);
				n = dname_from_text(name, w) - 1;
				check_name(ds, w, (size_t)n);
			}
		}
		if (it < 20)
			check_has_below(ds);
		ds_free(ds);
	}
}

/* Lines of random bytes: never a crash, never a failed load. */
UNIT_TEST(random_lines_are_safe)
{
	static const char alpha[] = "aZ09 .\\\"*!:;#$=-\t\xc3\xff";
	char *buf = malloc(400 * 200 + 1);
	unsigned seed = 7;
	size_t len = 0;
	struct dataset *ds;
	char out[256];

	for (int i = 0; i < 400; i++) {
		static const char *const pre[] = { "", "!", "*.", ".", "x.y ", "x :" };

		len += (size_t)sprintf(buf + len, "%s", pre[rand_r(&seed) % 6]);
		for (int k = rand_r(&seed) % 150; k > 0; k--)
			buf[len++] = alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
		buf[len++] = '\n';
	}
	buf[len] = '\0';
	ds = load(buf);
	free(buf);
	CHECK(ds != NULL);
	if (!ds)
		return;
	ask(ds, "a.b", Q_A | Q_TXT, out, sizeof(out));
	below(ds, "a");
	nrecs = 0;
	ds->type->dump(ds, collect, NULL);
	ds_free(ds);
}

/* A name of 255 bytes (254 relative) loads, answers and dumps; one
 * byte more is refused. */
UNIT_TEST(longest_names)
{
	char name[300], buf[700], out[256];
	struct dataset *ds;

	memset(name, 'a', 63 * 3 + 61 + 3);
	name[63] = name[127] = name[191] = '.';
	name[63 * 3 + 61 + 3] = '\0';
	snprintf(buf, sizeof(buf), ".%s\nb%s\n", name, name);
	ds = load(buf);
	CHECK(ds != NULL);
	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, name, Q_A | Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_INT(ask(ds, name + 64, Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(below(ds, name + 64), 1);
	nrecs = 0;
	CHECK_EQ_INT(ds->type->dump(ds, collect, NULL), 0);
	CHECK_EQ_INT(nrecs, 1);         /* A only: no TXT, "*." would not fit */
	ds_free(ds);
}

UNIT_TEST(empty_dataset)
{
	struct dataset *ds = load("# nothing\n");
	char out[64];

	CHECK(ds != NULL);
	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, "a.b", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(below(ds, ""), 0);
	nrecs = 0;
	CHECK_EQ_INT(ds->type->dump(ds, collect, NULL), 0);
	CHECK_EQ_INT(nrecs, 0);
	ds_free(ds);
}

/* Many entries, to exercise the binary search and the pool. */
UNIT_TEST(many_entries)
{
	size_t cap = 40000 * 24, len = 0;
	char *buf = malloc(cap), out[256];
	struct dataset *ds;

	for (int i = 0; i < 40000; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%sh%d.d%d.com\n",
					i % 7 ? "" : "!", i, i % 100);
	ds = load(buf);
	free(buf);
	CHECK(ds != NULL);
	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, "h1.d1.com", Q_A, out, sizeof(out)), 1);
	CHECK_EQ_INT(ask(ds, "h7.d7.com", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(ask(ds, "h39999.d99.com", Q_A, out, sizeof(out)), 1);
	CHECK_EQ_INT(ask(ds, "h1.d2.com", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(below(ds, "d7.com"), 1);
	CHECK_EQ_INT(below(ds, "d0.com"), 1);
	ds_free(ds);
}

UNIT_MAIN()
