/*
 * ds_generic.c - generic: a few plain DNS records in a simplified BIND
 * format (rbldnsd's generic), for the www, MX and "about" TXT records a
 * DNSBL zone also wants.
 *
 * One record a line: "name [ttl] [IN] type value". The name is relative
 * to the zone apex ("@" is the apex) and lowercased; no wildcards. Types
 * are those rbldnsd_generic.c knows: A, TXT (the rest of the line, one
 * pair of enclosing quotes removed, no escapes, at most 255 bytes) and MX
 * (preference and an absolute target kept as written). A TTL of 0 or none
 * means the $TTL in force at that line.
 *
 * A name with records exists for every query type: the wanted types are
 * answered, others get NODATA. Within one type the records come in
 * rotating order, as rbldnsd's "dumb round-robin" does.
 *
 * Storage: one array sorted by (reversed owner, type, file order), owner
 * names once each in a pool, rdata in another pool.
 *
 * SECURITY: line() parses operator data with every length checked. query()
 * and has_below() read a query name bounded by the packet reader, use only
 * stack buffers, and never allocate.
 */
#define _GNU_SOURCE             /* qsort_r */
#include "serve/dataset.h"
#include "serve/answer.h"
#include "base/dname.h"
#include "base/util.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Types in rbldnsd's order (NSQUERY_A < NSQUERY_MX < NSQUERY_TXT), which
 * is the order of an ANY answer. */
enum { G_A, G_MX, G_TXT, G_NTYPES };
static const uint16_t g_rrtype[G_NTYPES] = { 1, 15, 16 };
static const unsigned g_want[G_NTYPES] = { Q_A, Q_MX, Q_TXT };

#define TXT_MAX 255             /* rbldnsd_generic.c:108 */

struct gent {
	uint32_t noff;          /* reversed owner in the name pool */
	uint32_t doff;          /* rdata in the data pool */
	uint32_t ttl;
	uint16_t dlen;
	uint8_t nlen;
	uint8_t type;           /* G_* */
};

struct generic {
	struct gent *e;
	uint32_t n;
	uint8_t *names, *data;
	size_t nlen, dlen;
};

struct builder {
	struct gent *e;
	size_t n, cap;
	uint8_t *names, *data;
	size_t nlen, ncap, dlen, dcap;
};

/* Rotation counter shared by all generic datasets, as in rbldnsd. */
static atomic_uint rr_seq;

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static char *skip_blanks(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

/* Cut the next blank-separated word off *s. */
static char *next_word(char **s)
{
	char *w = *s, *p = w + strcspn(w, " \t");

	if (*p)
		*p++ = '\0';
	*s = skip_blanks(p);
	return w;
}

static void *generic_begin(struct ds_ctx *c)
{
	return xcalloc(1, sizeof(struct builder));
}

/* Append len bytes to a growing pool; -1 past 4 GiB. */
static int pool_add(uint8_t **pool, size_t *len, size_t *cap,
		    const uint8_t *p, size_t n, uint32_t *off)
{
	if (*len + n > UINT32_MAX)
		return -1;
	*off = (uint32_t)*len;
	if (!n)
		return 0;       /* the apex: no bytes, maybe no pool yet */
	while (*len + n > *cap) {
		*cap = *cap ? *cap * 2 : 16 * 1024;
		*pool = xrealloc(*pool, *cap);
	}
	memcpy(*pool + *len, p, n);
	*len += n;
	return 0;
}

/* rbldnsd's ip4addr() (ip4parse.c:129): one to four dotted numbers,
 * inet_aton style ("a" is 0.0.0.a, "a.b" a.0.0.b, "a.b.c" a.b.0.c);
 * whatever follows is ignored. Returns 0 or -1. */
static int parse_ip4(const char *s, uint8_t a[4])
{
	unsigned oct[4], n = 0;

	for (;;) {
		unsigned v = 0;

		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			if ((v = v * 10 + (unsigned)(*s++ - '0')) > 255)
				return -1;
		oct[n++] = v;
		if (n == 4 || *s != '.')
			break;
		s++;
	}
	memset(a, 0, 4);
	for (unsigned i = 0; i + 1 < n; i++)
		a[i] = (uint8_t)oct[i];
	a[3] = (uint8_t)oct[n - 1];
	return 0;
}

/* TXT: the rest of the line, one pair of enclosing quotes removed. */
static size_t parse_txt(const char *s, struct ds_ctx *c, uint8_t *rd)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n > TXT_MAX) {
		ds_warn(c, "TXT RR truncated to %d bytes", TXT_MAX);
		n = TXT_MAX;
	}
	rd[0] = (uint8_t)n;
	memcpy(rd + 1, s, n);
	return n + 1;
}

/* MX: preference (0..65535) and target name. rbldnsd aborts the whole
 * load on a bad target or trailing text (rbldnsd_generic.c:121-122); we
 * skip the line instead. Returns the rdata length or 0 (warned). */
static size_t parse_mx(char *s, struct ds_ctx *c, uint8_t *rd)
{
	char *w = next_word(&s), *end;
	unsigned long pref;
	int n;

	if (*w < '0' || *w > '9' || (pref = strtoul(w, &end, 10)) > 65535 || *end) {
		ds_warn(c, "invalid MX preference \"%.20s\"", w);
		return 0;
	}
	w = next_word(&s);
	if (!*w) {
		ds_warn(c, "missing MX target");
		return 0;
	}
	if ((n = dname_from_text(w, rd + 2)) < 0) {
		ds_warn(c, "invalid MX target \"%.80s\": %s", w, dname_strerror(n));
		return 0;
	}
	if (*s) {
		ds_warn(c, "unexpected text after the MX target: \"%.40s\"", s);
		return 0;
	}
	rd[0] = (uint8_t)(pref >> 8);
	rd[1] = (uint8_t)pref;
	return (size_t)n + 2;
}

/* The record's TTL: s starts with a digit. 0 means the current $TTL, as
 * rbldnsd's parse_ttl() has it. Returns 0 or -1 (warned). */
static int parse_ttl_field(char **s, struct ds_ctx *c, uint32_t *ttl)
{
	char *w = next_word(s);
	const char *end = parse_time(w, ttl);

	if (!end || *end) {
		ds_warn(c, "invalid TTL \"%.20s\"", w);
		return -1;
	}
	/* 0 means the $TTL in force; others obey -t min:max (as rbldnsd) */
	*ttl = c->opts ? ds_ttl_clamp(c->opts, *ttl, c->ttl) : (*ttl ? *ttl : c->ttl);
	return 0;
}

/* Owner: "@" or a name. Writes the reversed relative name into rev and
 * returns its length, or -1 (warned). */
static int parse_owner(char **s, struct ds_ctx *c, uint8_t *rev)
{
	uint8_t wire[DNAME_MAXLEN];
	char *w;
	int n;

	if ((*s)[0] == '@' && is_blank((*s)[1])) {
		*s = skip_blanks(*s + 2);
		return 0;
	}
	w = next_word(s);
	n = dname_from_text_lc(w, wire);
	if (n < 0 || n == 1) {
		ds_warn(c, "invalid domain name \"%.80s\": %s", w,
			n < 0 ? dname_strerror(n) : "use @ for the zone apex");
		return -1;
	}
	return dname_reverse(wire, (size_t)n, rev);
}

/* Parse the type and value at s into rdata; returns the rdata length and
 * *type, or 0 (warned). */
static size_t parse_rr(char *s, struct ds_ctx *c, unsigned *type, uint8_t *rd)
{
	char *t;

	if ((s[0] == 'i' || s[0] == 'I') && (s[1] == 'n' || s[1] == 'N') &&
	    is_blank(s[2]))
		s = skip_blanks(s + 2);         /* class IN */
	t = s;
	s += strcspn(s, " \t");
	if (!*s) {
		ds_warn(c, *t ? "missing value after the record type" :
				"missing record type");
		return 0;
	}
	*s = '\0';
	s = skip_blanks(s + 1);
	if (!strcasecmp(t, "a")) {
		*type = G_A;
		if (parse_ip4(s, rd) == 0)
			return 4;
		ds_warn(c, "invalid IPv4 address \"%.40s\"", s);
		return 0;
	}
	if (!strcasecmp(t, "txt")) {
		*type = G_TXT;
		return parse_txt(s, c, rd);
	}
	if (!strcasecmp(t, "mx")) {
		*type = G_MX;
		return parse_mx(s, c, rd);
	}
	ds_warn(c, "unsupported record type \"%.20s\" (generic knows A, TXT and MX)", t);
	return 0;
}

static int generic_line(void *bp, char *s, struct ds_ctx *c)
{
	struct builder *b = bp;
	uint8_t rev[DNAME_MAXLEN], rd[DNAME_MAXLEN + 2];
	uint32_t ttl = c->ttl, noff, doff;
	unsigned type = 0;
	size_t dlen;
	int nlen;

	s = skip_blanks(s);
	if ((nlen = parse_owner(&s, c, rev)) < 0)
		return 0;
	if (*s >= '0' && *s <= '9' && parse_ttl_field(&s, c, &ttl) < 0)
		return 0;
	if (!(dlen = parse_rr(s, c, &type, rd)))
		return 0;
	if (b->n >= UINT32_MAX - 1 ||
	    pool_add(&b->names, &b->nlen, &b->ncap, rev, (size_t)nlen, &noff) ||
	    pool_add(&b->data, &b->dlen, &b->dcap, rd, dlen, &doff)) {
		ds_warn(c, "generic dataset too large");
		return -1;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->e = xreallocarray(b->e, b->cap, sizeof(*b->e));
	}
	b->e[b->n++] = (struct gent){ .noff = noff, .doff = doff, .ttl = ttl,
				      .dlen = (uint16_t)dlen, .nlen = (uint8_t)nlen,
				      .type = (uint8_t)type };
	return 0;
}

/* Sort order: owner, type, then file order (data offsets grow with it). */
static int gent_cmp(const void *x, const void *y, void *arg)
{
	const struct gent *a = x, *b = y;
	const uint8_t *names = arg;
	int r;

	if (!names)             /* every owner is "@": all names empty */
		r = 0;
	else
		r = dname_rcmp(names + a->noff, a->nlen, names + b->noff, b->nlen);

	if (r)
		return r;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return a->doff < b->doff ? -1 : a->doff > b->doff;
}

/* Final name pool with every owner once. */
static void repool(struct generic *g, const struct builder *b)
{
	uint32_t prev_off = 0, new_off = 0;
	uint8_t prev_len = 0;

	g->names = xmalloc(b->nlen ? b->nlen : 1);
	for (uint32_t i = 0; i < g->n; i++) {
		struct gent *e = &g->e[i];

		if (!i || e->nlen != prev_len || (e->nlen &&
		    memcmp(b->names + e->noff, b->names + prev_off, e->nlen))) {
			new_off = (uint32_t)g->nlen;
			if (e->nlen)
				memcpy(g->names + g->nlen, b->names + e->noff, e->nlen);
			g->nlen += e->nlen;
		}
		prev_off = e->noff;
		prev_len = e->nlen;
		e->noff = new_off;
	}
	g->names = xrealloc(g->names, g->nlen ? g->nlen : 1);
}

static void *generic_end(void *bp, struct ds_ctx *c)
{
	struct builder *b = bp;
	struct generic *g;

	if (!c) {               /* a failed load: free the builder only */
		free(b->e);
		free(b->names);
		free(b->data);
		free(b);
		return NULL;
	}
	g = xcalloc(1, sizeof(*g));

	if (b->n)
		qsort_r(b->e, b->n, sizeof(*b->e), gent_cmp, b->names);
	g->n = (uint32_t)b->n;
	g->e = xreallocarray(b->e, b->n ? b->n : 1, sizeof(*g->e));
	repool(g, b);
	g->data = xrealloc(b->data, b->dlen ? b->dlen : 1);
	g->dlen = b->dlen;
	free(b->names);
	free(b);
	return g;
}

/* First entry not below (key, type) in sort order; type G_NTYPES is past
 * every record of key. */
static uint32_t lower_bound(const struct generic *g, const uint8_t *key,
			    size_t len, unsigned type)
{
	uint32_t lo = 0, hi = g->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct gent *e = &g->e[mid];
		int r = dname_rcmp(g->names + e->noff, e->nlen, key, len);

		if (!r)
			r = (int)e->type - (int)type;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int owner_is(const struct generic *g, uint32_t i, const uint8_t *key,
		    size_t len)
{
	return i < g->n && g->e[i].nlen == len &&
	       !memcmp(g->names + g->e[i].noff, key, len);
}

/* Reverse and lowercase the query name; its length or -1. */
static int rev_query(const struct qinfo *qi, uint8_t *rev)
{
	int n;

	if (qi->rel_len > DNAME_MAXLEN - 1)
		return -1;
	n = dname_reverse(qi->rel, qi->rel_len, rev);
	if (n > 0)
		dname_lower(rev, (size_t)n);
	return n;
}

/* Add records [from, to) of one type, starting at a rotating point. */
static void add_rrset(const struct generic *g, uint32_t from, uint32_t to,
		      struct answer *ans)
{
	uint32_t n = to - from, start = 0;

	if (n > 1)
		start = atomic_fetch_add_explicit(&rr_seq, 1, memory_order_relaxed) % n;
	for (uint32_t k = 0; k < n; k++) {
		const struct gent *e = &g->e[from + (start + k) % n];

		answer_add(ans, SEC_ANSWER, g_rrtype[e->type], e->ttl,
			   g->data + e->doff, e->dlen);
	}
}

static int generic_query(const struct dataset *ds, const struct qinfo *qi,
			 struct answer *ans)
{
	const struct generic *g = ds->data;
	uint8_t rev[DNAME_MAXLEN];
	uint32_t i;
	int len;

	if (!g->n || (len = rev_query(qi, rev)) < 0)
		return 0;
	i = lower_bound(g, rev, (size_t)len, 0);
	if (!owner_is(g, i, rev, (size_t)len))
		return 0;
	/* MX targets go in uncompressed, byte for byte as rbldnsd sends them
	 * (addrr_any() in rbldnsd_packet.c copies rdata verbatim). */
	while (owner_is(g, i, rev, (size_t)len)) {
		uint32_t j = i;

		while (owner_is(g, j, rev, (size_t)len) && g->e[j].type == g->e[i].type)
			j++;
		if (qi->want & g_want[g->e[i].type])
			add_rrset(g, i, j, ans);
		i = j;
	}
	return 1;
}

static int generic_has_below(const struct dataset *ds, const struct qinfo *qi)
{
	const struct generic *g = ds->data;
	uint8_t rev[DNAME_MAXLEN];
	uint32_t i;
	int len;

	if (!g->n || (len = rev_query(qi, rev)) < 0)
		return 0;
	i = lower_bound(g, rev, (size_t)len, G_NTYPES);
	return i < g->n && g->e[i].nlen > len &&
	       !memcmp(g->names + g->e[i].noff, rev, (size_t)len);
}

static int generic_dump(const struct dataset *ds, ds_emit_fn emit, void *arg)
{
	const struct generic *g = ds->data;
	uint8_t owner[DNAME_MAXLEN];

	for (uint32_t i = 0; i < g->n; i++) {
		const struct gent *e = &g->e[i];

		dname_reverse(g->names + e->noff, e->nlen, owner);
		if (emit(arg, owner, e->nlen, g_rrtype[e->type], e->ttl,
			 g->data + e->doff, e->dlen))
			return -1;
	}
	return 0;
}

static void generic_free(void *data)
{
	struct generic *g = data;

	if (!g)
		return;
	free(g->e);
	free(g->names);
	free(g->data);
	free(g);
}

static void generic_stats(const void *data, size_t *entries, size_t *bytes)
{
	const struct generic *g = data;

	*entries = g->n;
	*bytes = sizeof(*g) + (size_t)g->n * sizeof(*g->e) + g->nlen + g->dlen;
}

/* No DS_F_NAME: generic holds a zone's own records, not listed names (it
 * gets no RFC 5782 test points, and rbldnsd's generic query never answers
 * for an acl's "always listed" peer: it lacks check_query_overwrites). */
const struct ds_type ds_generic = {
	.name = "generic",
	.flags = 0,
	.begin = generic_begin,
	.line = generic_line,
	.end = generic_end,
	.query = generic_query,
	.has_below = generic_has_below,
	.dump = generic_dump,
	.free = generic_free,
	.stats = generic_stats,
};
