/*
 * test_generic.c - unit tests for the generic dataset: rbldnsd's
 * simplified BIND format, NODATA for existing names, ANY order, MX bytes,
 * rotation, has_below() and dump.
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

static char long_txt[400];

static struct dataset *load(const char *data, int loud)
{
	char path[] = "/tmp/rblkit-generic-XXXXXX";
	struct ds_opts o = { .def_ttl = 2100 };
	struct dataset *ds = NULL;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		return NULL;
	close(fd);
	log_set_level(loud ? LOG_LVL_INFO : LOG_LVL_ERR);
	if (ds_load(&ds_generic, path, &o, &ds))
		ds = NULL;
	unlink(path);
	return ds;
}

static const char data[] =
	"@ A 127.0.0.8\n"
	"@ MX 10 mx.Example.COM.\n"
	"www 3000 A 127.0.0.9\n"
	"www IN A 127.0.0.10\n"
	"WWW in a 127.0.0.11\n"
	"about TXT \"ex.com combined blocklist\"\n"
	"noquote TXT hello \"world\"\n"
	"empty TXT \"\"\n"
	"Mixed.Case txt x\n"
	"deep.a.b A 1.2.3.4\n"
	"short A 10\n"
	"two A 127.1\n"
	"three A 127.1.2\n"
	"trail A 1.2.3.4junk\n"
	"ttlzero 0 A 1.1.1.1\n"
	"ttlunit 1h A 1.1.1.2\n"
	"mx2 MX 20 .\n"
	"$TTL 600\n"
	"later A 2.2.2.2\n"
	/* bad lines: warned about and skipped */
	"bad\n"
	"bad2 AAAA ::1\n"
	"bad3 MX 10\n"
	"bad4 MX 70000 mx.\n"
	"bad5 MX 10 mx. extra\n"
	"bad6 300x A 1.2.3.4\n"
	"bad7 A 256.1.1.1\n"
	"bad8 TXT\n"
	"bad9 A\n"
	"bad10 NS ns.example.com\n"
	"bad11 99999999999 A 1.2.3.4\n"
	". A 1.2.3.4\n"
	"@\n";

static struct dataset *load_data(int loud)
{
	static char buf[sizeof(data) + 500];

	memset(long_txt, 'a', 300);
	long_txt[300] = '\0';
	snprintf(buf, sizeof(buf), "%slong TXT %s\n", data, long_txt);
	return load(buf, loud);
}

/* Text of one RR's type and rdata. */
static void rr_text(uint16_t type, const uint8_t *rd, size_t rdlen, char *out,
		    size_t outsz)
{
	char name[DNAME_TEXT_MAX];

	if (type == 1 && rdlen == 4)
		snprintf(out, outsz, "A %u.%u.%u.%u", rd[0], rd[1], rd[2], rd[3]);
	else if (type == 16 && rdlen >= 1)
		snprintf(out, outsz, "TXT %.*s", (int)rd[0], (const char *)rd + 1);
	else if (type == 15 && rdlen >= 3 &&
		 dname_to_text(rd + 2, rdlen - 2, name, sizeof(name)) >= 0)
		snprintf(out, outsz, "MX %u %s", rd[0] << 8 | rd[1], name);
	else
		snprintf(out, outsz, "type%u/%zu", type, rdlen);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Ask about rel ("" = apex) for want; out gets the answer RRs, sorted
 * unless in_order. Returns query()'s result. */
static int ask2(const struct dataset *ds, const char *rel, unsigned want,
		char *out, size_t outsz, int in_order)
{
	uint8_t w[DNAME_MAXLEN], q[600], buf[4096];
	struct qinfo qi = { .want = want };
	struct answer ans;
	char *items[64];
	int n = *rel ? dname_from_text_lc(rel, w) - 1 : 0, r, ni = 0;
	size_t ql = 12, p;

	memset(q, 0, 12);
	q[5] = 1;
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
		char t[1100];
		size_t rdlen = (size_t)buf[p + 10] << 8 | buf[p + 11];

		rr_text((uint16_t)(buf[p + 2] << 8 | buf[p + 3]), buf + p + 12,
			rdlen, t, sizeof(t));
		items[ni] = strdup(t);
		p += 12 + rdlen;
	}
	if (!in_order)
		qsort(items, (size_t)ni, sizeof(*items), str_cmp);
	out[0] = '\0';
	for (int i = 0; i < ni; i++) {
		if (i)
			strncat(out, "; ", outsz - strlen(out) - 1);
		strncat(out, items[i], outsz - strlen(out) - 1);
		free(items[i]);
	}
	return r;
}

static int ask(const struct dataset *ds, const char *rel, unsigned want,
	       char *out, size_t outsz)
{
	return ask2(ds, rel, want, out, outsz, 0);
}

static int below(const struct dataset *ds, const char *rel)
{
	uint8_t w[DNAME_MAXLEN];
	int n = *rel ? dname_from_text_lc(rel, w) - 1 : 0;
	struct qinfo qi = { .want = Q_A, .rel = w, .rel_len = (unsigned)n };

	qi.rel_labels = (unsigned)dname_labels(w, (size_t)n);
	return ds->type->has_below(ds, &qi);
}

UNIT_TEST(apex_records_and_any_order)
{
	struct dataset *ds = load_data(1);
	char out[2048];

	CHECK(ds != NULL);
	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, "", Q_A, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "A 127.0.0.8");
	CHECK_EQ_INT(ask(ds, "", Q_MX, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "MX 10 mx.Example.COM");
	/* ANY: A, then MX, then TXT, as rbldnsd's type order */
	CHECK_EQ_INT(ask2(ds, "", Q_ANY, out, sizeof(out), 1), 1);
	CHECK_EQ_STR(out, "A 127.0.0.8; MX 10 mx.Example.COM");
	ds_free(ds);
}

UNIT_TEST(nodata_for_existing_names)
{
	struct dataset *ds = load_data(0);
	char out[2048];

	if (!ds)
		return;
	CHECK_EQ_INT(ask(ds, "www", Q_A, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "A 127.0.0.10; A 127.0.0.11; A 127.0.0.9");
	CHECK_EQ_INT(ask(ds, "www", Q_MX, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(ask(ds, "www", Q_OTHER, out, sizeof(out)), 1);
	CHECK_EQ_INT(ask(ds, "www", Q_NS, out, sizeof(out)), 1);
	CHECK_EQ_INT(ask(ds, "nothere", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(ask(ds, "a.b", Q_A, out, sizeof(out)), 0);
	CHECK_EQ_INT(ask(ds, "x.www", Q_A, out, sizeof(out)), 0);
	ds_free(ds);
}

UNIT_TEST(txt_quoting_like_rbldnsd)
{
	struct dataset *ds = load_data(0);
	char out[2048], want[400];

	if (!ds)
		return;
	ask(ds, "about", Q_TXT, out, sizeof(out));
	CHECK_EQ_STR(out, "TXT ex.com combined blocklist");
	ask(ds, "noquote", Q_TXT, out, sizeof(out));
	CHECK_EQ_STR(out, "TXT hello \"world\"");
	ask(ds, "empty", Q_TXT, out, sizeof(out));
	CHECK_EQ_STR(out, "TXT ");
	CHECK_EQ_INT(ask(ds, "mixed.case", Q_TXT, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "TXT x");
	ask(ds, "long", Q_TXT, out, sizeof(out));
	snprintf(want, sizeof(want), "TXT %.255s", long_txt);
	CHECK_EQ_STR(out, want);
	ds_free(ds);
}

UNIT_TEST(a_values_parse_like_ip4addr)
{
	struct dataset *ds = load_data(0);
	char out[256];

	if (!ds)
		return;
	ask(ds, "short", Q_A, out, sizeof(out));
	CHECK_EQ_STR(out, "A 0.0.0.10");
	ask(ds, "two", Q_A, out, sizeof(out));
	CHECK_EQ_STR(out, "A 127.0.0.1");
	ask(ds, "three", Q_A, out, sizeof(out));
	CHECK_EQ_STR(out, "A 127.1.0.2");
	ask(ds, "trail", Q_A, out, sizeof(out));
	CHECK_EQ_STR(out, "A 1.2.3.4");
	ask(ds, "deep.a.b", Q_A, out, sizeof(out));
	CHECK_EQ_STR(out, "A 1.2.3.4");
	ds_free(ds);
}

UNIT_TEST(mx_rdata_uncompressed_case_kept)
{
	struct dataset *ds = load_data(0);
	uint8_t w[] = "", q[64], buf[512];
	struct qinfo qi = { .want = Q_MX, .rel = w };
	struct answer ans;
	size_t ql = 12 + 4 + 4;
	char out[256];

	if (!ds)
		return;
	memset(q, 0, sizeof(q));
	q[5] = 1;
	memcpy(q + 12, "\2bl\0\0\17\0\1", 8);
	answer_init(&ans, buf, sizeof(buf), sizeof(buf), q, ql);
	CHECK_EQ_INT(ds->type->query(ds, &qi, &ans), 1);
	CHECK_EQ_INT(ans.count[SEC_ANSWER], 1);
	CHECK_EQ_INT(buf[ql + 11], 18);                         /* rdlength */
	CHECK(!memcmp(buf + ql + 12, "\0\12\2mx\7Example\3COM\0", 18));
	ask(ds, "mx2", Q_MX, out, sizeof(out));
	CHECK_EQ_STR(out, "MX 20 .");
	ds_free(ds);
}

UNIT_TEST(bad_lines_are_skipped)
{
	struct dataset *ds = load_data(0);
	char out[256], name[16];
	size_t entries, bytes;

	if (!ds)
		return;
	for (int i = 1; i <= 11; i++) {
		snprintf(name, sizeof(name), i == 1 ? "bad" : "bad%d", i);
		CHECK_EQ_INT(ask(ds, name, Q_ANY, out, sizeof(out)), 0);
	}
	ds->type->stats(ds->data, &entries, &bytes);
	CHECK_EQ_INT(entries, 19);
	CHECK(bytes > 0);
	ds_free(ds);
}

UNIT_TEST(rotation_keeps_the_set)
{
	struct dataset *ds = load_data(0);
	char out[256], first[8][32];
	int differ = 0;

	if (!ds)
		return;
	for (int i = 0; i < 8; i++) {
		ask2(ds, "www", Q_A, out, sizeof(out), 1);
		snprintf(first[i], sizeof(first[i]), "%.*s", (int)strcspn(out, ";"), out);
		differ |= strcmp(first[i], first[0]) != 0;
		ask(ds, "www", Q_A, out, sizeof(out));
		CHECK_EQ_STR(out, "A 127.0.0.10; A 127.0.0.11; A 127.0.0.9");
	}
	CHECK(differ);
	ds_free(ds);
}

UNIT_TEST(has_below)
{
	struct dataset *ds = load_data(0);

	if (!ds)
		return;
	CHECK_EQ_INT(below(ds, ""), 1);
	CHECK_EQ_INT(below(ds, "b"), 1);
	CHECK_EQ_INT(below(ds, "a.b"), 1);
	CHECK_EQ_INT(below(ds, "deep.a.b"), 0);
	CHECK_EQ_INT(below(ds, "www"), 0);
	CHECK_EQ_INT(below(ds, "case"), 1);
	CHECK_EQ_INT(below(ds, "zzz"), 0);
	ds_free(ds);
}

struct dump_seen {
	int n, www3000, later600, ttlzero, ttlunit, apex_mx;
};

static int on_rr(void *arg, const uint8_t *rel, size_t rel_len, uint16_t type,
		 uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct dump_seen *s = arg;
	char name[DNAME_TEXT_MAX];

	s->n++;
	dname_to_text(rel, rel_len, name, sizeof(name));
	if (!strcmp(name, "www") && ttl == 3000 && rdata[3] == 9)
		s->www3000++;
	if (!strcmp(name, "later") && ttl == 600)
		s->later600++;
	if (!strcmp(name, "ttlzero") && ttl == 2100)
		s->ttlzero++;
	if (!strcmp(name, "ttlunit") && ttl == 3600)
		s->ttlunit++;
	if (rel_len == 0 && type == 15 && rdlen == 18)
		s->apex_mx++;
	return 0;
}

UNIT_TEST(dump_all_records_with_their_ttls)
{
	struct dataset *ds = load_data(0);
	struct dump_seen s = { 0 };

	if (!ds)
		return;
	CHECK_EQ_INT(ds->type->dump(ds, on_rr, &s), 0);
	CHECK_EQ_INT(s.n, 19);
	CHECK_EQ_INT(s.www3000, 1);
	CHECK_EQ_INT(s.later600, 1);
	CHECK_EQ_INT(s.ttlzero, 1);
	CHECK_EQ_INT(s.ttlunit, 1);
	CHECK_EQ_INT(s.apex_mx, 1);
	ds_free(ds);
}

/* Lines of random bytes: never a crash, never a failed load. */
UNIT_TEST(random_lines_are_safe)
{
	static const char alpha[] = "aZ09 .\\\"@*!:;#-\t\xc3\xff";
	char *buf = malloc(200 * 400);
	unsigned seed = 99;
	size_t len = 0;
	struct dataset *ds;

	for (int i = 0; i < 400; i++) {
		static const char *const pre[] = { "", "x ", "x 30 ", "x A ", "x MX 1 ", "x TXT " };

		len += (size_t)sprintf(buf + len, "%s", pre[rand_r(&seed) % 6]);
		for (int k = rand_r(&seed) % 150; k > 0; k--)
			buf[len++] = alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
		buf[len++] = '\n';
	}
	buf[len] = '\0';
	ds = load(buf, 0);
	free(buf);
	CHECK(ds != NULL);
	if (ds)
		ds_free(ds);
}

UNIT_MAIN()
