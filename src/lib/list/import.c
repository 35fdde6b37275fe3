/*
 * import.c - rbldnsd data files into the listing store (import.h): a
 * line parser for every entry form serve reads, and the import that
 * writes its entries in batches of transactions.
 *
 * SECURITY: parses untrusted file text: lines are bounded
 * (IMPORT_LINE_MAX), addresses go through ipaddr.c's bounded parsers,
 * keys through store_key_parse(), values through value.c (cut to 255
 * bytes) and then to the store's sizes.
 */
#include "list/import.h"
#include "base/ipaddr.h"
#include "base/util.h"
#include "serve/value.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const type_names[] = {
	[IMPORT_GUESS] = "guess", [IMPORT_IP4SET] = "ip4set", [IMPORT_IP4TSET] = "ip4tset",
	[IMPORT_IP4TRIE] = "ip4trie", [IMPORT_IP6TRIE] = "ip6trie",
	[IMPORT_IP6TSET] = "ip6tset", [IMPORT_DNSET] = "dnset",
};

int import_type_parse(const char *name, enum import_type *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (!strcmp(name, type_names[i])) {
			*t = (enum import_type)i;
			return 0;
		}
	return -1;
}

struct import_parser {
	enum import_type type;
	const char *name;
	import_entry_fn entry;
	import_warn_fn warn;
	void *arg;
	unsigned line, bad_line;
	struct value_raw def;   /* the default value (":A:TXT" lines) */
	int def_set;            /* a default line was given */
	int tset_def;           /* a tset's shared value was given */
	struct import_stats st;
	int warned_special;
};

static void warn(struct import_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct import_parser *p, const char *fmt, ...)
{
	char msg[512];
	int n;
	va_list ap;

	if (!p->warn)
		return;
	n = snprintf(msg, sizeof(msg), "%s:%u: ", p->name, p->line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	for (char *c = msg; *c; c++)    /* the file's bytes: no terminal controls */
		if ((unsigned char)*c < 32 || *c == 127)
			*c = '?';
	p->warn(p->arg, msg);
}

static void bad(struct import_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void bad(struct import_parser *p, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->bad_line != p->line)     /* lines are counted, not their entries */
		p->st.bad++;
	p->bad_line = p->line;
	warn(p, "%s", msg);
}

struct import_parser *import_begin(enum import_type type, const char *name,
				   import_entry_fn entry, import_warn_fn warnf, void *arg)
{
	struct import_parser *p = xcalloc(1, sizeof(*p));

	p->type = type;
	p->name = name;
	p->entry = entry;
	p->warn = warnf;
	p->arg = arg;
	value_default(&p->def);
	return p;
}

const struct import_stats *import_stats(const struct import_parser *p)
{
	return &p->st;
}

void import_end(struct import_parser *p)
{
	free(p);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Give one entry (key text) to the callback. */
static int emit(struct import_parser *p, const char *keytext, int excl, uint32_t code,
		const char *reason)
{
	struct import_entry e = { .excluded = excl, .code = code, .line = p->line };
	char why[200];

	if (store_key_parse(keytext, &e.key, why, sizeof(why))) {
		bad(p, "bad entry '%.100s': %s", keytext, why);
		return 0;
	}
	str_copy(e.reason, sizeof(e.reason), reason);
	if (excl)
		p->st.excluded++;
	else
		p->st.entries++;
	return p->entry ? p->entry(p->arg, &e) : 0;
}

/* The value after a key at s: code and reason (0 and "" when the entry
 * has no value and no default line was given). -1 for a bad value. */
static int value_of(struct import_parser *p, const char *s, uint32_t *code, char *reason,
		    size_t rl)
{
	struct value_raw v;
	const char *err = NULL;

	while (is_blank(*s))
		s++;
	if (!*s || *s == '#' || *s == ';') {
		if (!p->def_set) {
			*code = 0;
			reason[0] = '\0';
			return 0;
		}
		v = p->def;
	} else if (value_parse(s, &p->def, &v, &err)) {
		bad(p, "%s in value \"%.40s\"", err, s);
		return -1;
	}
	*code = (uint32_t)v.a[0] << 24 | (uint32_t)v.a[1] << 16 | (uint32_t)v.a[2] << 8 | v.a[3];
	str_copy(reason, rl, v.txt);
	return 0;
}

/* After an address: end, a blank, a comment or a value. */
static int tail_ok(const char *s)
{
	return !*s || is_blank(*s) || *s == '#' || *s == ';' || *s == ':';
}

/* [lo, hi] as the fewest CIDRs. */
static int emit_range4(struct import_parser *p, uint32_t lo, uint32_t hi, int excl,
		       uint32_t code, const char *reason)
{
	uint64_t a = lo, z = (uint64_t)hi + 1;

	while (a < z) {
		int bits = 32;
		char t[32];

		while (bits > 0) {
			uint64_t size = (uint64_t)1 << (32 - (bits - 1));

			if ((a & (size - 1)) || a + size > z)
				break;
			bits--;
		}
		ip4_format((uint32_t)a, t);
		snprintf(t + strlen(t), sizeof(t) - strlen(t), "/%d", bits);
		if (emit(p, t, excl, code, reason))
			return -1;
		a += (uint64_t)1 << (32 - bits);
	}
	return 0;
}

static int line_ip4(struct import_parser *p, char *s, int excl, int cidr_only)
{
	char reason[STORE_REASON_MAX];
	const char *end;
	uint32_t lo, hi, code = 0;
	int bits;

	if (cidr_only) {
		bits = ip4_cidr(s, &lo, &end);
		hi = bits < 0 ? 0 : lo | ~ip4_mask(bits);
	} else {
		bits = ip4_range(s, &lo, &hi, &end);
	}
	if (bits <= 0 || !tail_ok(end)) {
		bad(p, "invalid address \"%.*s\"", (int)strcspn(s, " \t") > 60 ? 60 :
		    (int)strcspn(s, " \t"), s);
		return 0;
	}
	if (lo & ~ip4_mask(bits)) {
		bad(p, "invalid range (non-zero host part)");
		return 0;
	}
	reason[0] = '\0';
	if (!excl && value_of(p, end, &code, reason, sizeof(reason)))
		return 0;
	return emit_range4(p, lo, hi, excl, code, reason);
}

/* A tset entry: the one shared value (the first default line), or the
 * zone's default when the file has none. */
static int emit_shared(struct import_parser *p, const char *t, int excl)
{
	uint32_t code = 0;

	if (!p->tset_def || excl)
		return emit(p, t, excl, 0, "");
	code = (uint32_t)p->def.a[0] << 24 | (uint32_t)p->def.a[1] << 16 |
	       (uint32_t)p->def.a[2] << 8 | p->def.a[3];
	return emit(p, t, excl, code, p->def.txt);
}

static int line_ip4tset(struct import_parser *p, char *s)
{
	const char *end;
	uint32_t a;
	char t[20];

	if (ip4_prefix(s, &a, &end) != 32 || !tail_ok(end)) {
		bad(p, "invalid address \"%.60s\"", s);
		return 0;
	}
	ip4_format(a, t);
	return emit_shared(p, t, 0);
}

static void format6(const uint8_t a[16], int bits, char *t, size_t tl)
{
	char buf[64];

	ip6_format(a, buf);
	snprintf(t, tl, "%s/%d", buf, bits);
}

static int line_ip6(struct import_parser *p, char *s, int excl, int tset)
{
	char reason[STORE_REASON_MAX], t[80];
	const char *end;
	uint8_t a[16];
	uint32_t code = 0;
	int bits;

	bits = tset ? ip6_prefix(s, a, &end) : ip6_cidr(s, a, &end);
	if (bits < 0 || !tail_ok(end)) {
		bad(p, "invalid address \"%.60s\"", s);
		return 0;
	}
	if (tset && bits != (excl ? 128 : 64)) {
		bad(p, "invalid address for %s (should be %d bits)",
		    excl ? "exclusion" : "regular entry", excl ? 128 : 64);
		return 0;
	}
	if (ip6_host_bits(a, bits)) {
		bad(p, "invalid range (non-zero host part)");
		return 0;
	}
	reason[0] = '\0';
	if (!excl && !tset && value_of(p, end, &code, reason, sizeof(reason)))
		return 0;
	format6(a, bits, t, sizeof(t));
	if (tset)
		return emit_shared(p, t, excl);
	return emit(p, t, excl, code, reason);
}

static int line_dnset(struct import_parser *p, char *s, int excl)
{
	char reason[STORE_REASON_MAX], t[STORE_KEY_MAX + 4];
	uint32_t code = 0;
	int both = 0, wild = 0;
	char *rest;

	if (*s == '.') {
		both = 1;
		s++;
	} else if (s[0] == '*' && s[1] == '.') {
		wild = 1;
		s += 2;
	}
	rest = s + strcspn(s, " \t");
	if (*rest)
		*rest++ = '\0';
	if (!*s) {
		bad(p, "missing domain name");
		return 0;
	}
	if (strlen(s) > STORE_KEY_MAX - 3) {
		bad(p, "invalid domain name \"%.80s\": too long", s);
		return 0;
	}
	reason[0] = '\0';
	if (!excl && value_of(p, rest, &code, reason, sizeof(reason)))
		return 0;
	if (both || wild) {
		snprintf(t, sizeof(t), "*.%s", s);
		if (emit(p, t, excl, code, reason))
			return -1;
	}
	if (wild)
		return 0;
	return emit(p, s, excl, code, reason);
}

/* Guess the form of one line: IPv6 if it parses as one, IPv4 (ip4set's
 * forms) if it parses as one, else a name. */
static int line_guess(struct import_parser *p, char *s, int excl)
{
	const char *end;
	uint8_t a6[16];
	uint32_t lo, hi;

	if (strchr(s, ':') && ip6_cidr(s, a6, &end) >= 0 && tail_ok(end))
		return line_ip6(p, s, excl, 0);
	if (*s >= '0' && *s <= '9' && ip4_range(s, &lo, &hi, &end) > 0 && tail_ok(end))
		return line_ip4(p, s, excl, 0);
	return line_dnset(p, s, excl);
}

/* ":A:TXT" at the start of a line: the default for what follows (a
 * tset: the one shared value, the first line counts). */
static void default_line(struct import_parser *p, const char *s)
{
	struct value_raw def, v;
	const char *err = NULL;
	int tset = p->type == IMPORT_IP4TSET || p->type == IMPORT_IP6TSET;

	if (tset && p->tset_def)
		return;
	value_default(&def);
	if (value_parse(s, &def, &v, &err)) {
		bad(p, "%s", err);
		return;
	}
	p->def = v;
	p->def_set = 1;
	p->tset_def = tset;
}

int import_line(struct import_parser *p, char *s)
{
	size_t n = strlen(s);
	int excl = 0;

	p->line++;
	p->st.lines++;
	if (n && s[n - 1] == '\r')
		s[--n] = '\0';
	while (n && is_blank(s[n - 1]))
		s[--n] = '\0';
	while (is_blank(*s))
		s++;
	if (s[0] == '$' || ((s[0] == '#' || s[0] == ';' || s[0] == ':') && s[1] == '$')) {
		p->st.specials++;
		if (!p->warned_special++)
			warn(p, "$-lines ($SOA, $NS, $TTL, $n ...) are ignored: the zone's "
			     "SOA, NS and TTL come from list.conf");
		return 0;
	}
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == ':' && (s[1] != ':' || p->type == IMPORT_IP6TSET)) {
		default_line(p, s);
		return 0;
	}
	if (*s == '!') {
		excl = 1;
		s++;
		while (is_blank(*s))
			s++;
	}
	switch (p->type) {
	case IMPORT_IP4SET:
		return line_ip4(p, s, excl, 0);
	case IMPORT_IP4TRIE:
		return line_ip4(p, s, excl, 1);
	case IMPORT_IP4TSET:
		if (excl) {
			bad(p, "ip4tset has no exclusions");
			return 0;
		}
		return line_ip4tset(p, s);
	case IMPORT_IP6TRIE:
		return line_ip6(p, s, excl, 0);
	case IMPORT_IP6TSET:
		return line_ip6(p, s, excl, 1);
	case IMPORT_DNSET:
		return line_dnset(p, s, excl);
	case IMPORT_GUESS:
		break;
	}
	return line_guess(p, s, excl);
}

int import_parse(const char *buf, size_t len, const char *name, enum import_type type,
		 import_entry_fn entry, import_warn_fn warnf, void *arg, struct import_stats *st)
{
	struct import_parser *p = import_begin(type, name, entry, warnf, arg);
	char *line = xmalloc(IMPORT_LINE_MAX + 1);
	int rc = 0;

	for (size_t off = 0; off < len && rc == 0;) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;

		if (n > IMPORT_LINE_MAX || memchr(buf + off, '\0', n)) {
			p->line++;
			p->st.lines++;
			bad(p, n > IMPORT_LINE_MAX ? "line longer than %d bytes" :
			    "line holds a NUL byte", IMPORT_LINE_MAX);
		} else {
			memcpy(line, buf + off, n);
			line[n] = '\0';
			rc = import_line(p, line);
		}
		off += n + 1;
	}
	if (st)
		*st = p->st;
	free(line);
	import_end(p);
	return rc;
}

/* -- into the store ---------------------------------------------------- */

struct importer {
	struct list_ctx *c;
	const char *zone, *path;
	const struct list_rules *r;
	uint32_t ttl;
	unsigned batch, in_tx;
	int64_t now;
	struct import_stats *st;
	import_warn_fn warn;
	void *warn_arg;
	struct store_key *allow;
	size_t nallow;
	char *err;
	size_t errlen;
};

static int allowed(const struct importer *im, const struct store_key *k)
{
	for (size_t i = 0; i < im->nallow; i++)
		if (im->allow[i].kind == k->kind &&
		    (store_key_contains(&im->allow[i], k) || store_key_contains(k, &im->allow[i])))
			return 1;
	return 0;
}

static int tx_begin(struct importer *im)
{
	struct store_zone z;
	int rc;

	if (store_begin(im->c->st))
		return -1;
	rc = store_zone_get(im->c->st, im->zone, &z);
	if (rc == STORE_NOTFOUND) {
		list_zone_data(im->r, im->zone, &z);
		rc = store_zone_put(im->c->st, &z);
	}
	if (rc < 0) {
		store_rollback(im->c->st);
		return -1;
	}
	return 0;
}

static int put_entry(void *arg, const struct import_entry *e)
{
	struct importer *im = arg;
	struct store *st = im->c->st;
	enum store_state want = e->excluded ? STORE_EXCLUDED : STORE_LISTED;
	struct store_event ev = { .time = im->now };
	struct store_listing l;
	int rc;

	if (!e->excluded && allowed(im, &e->key)) {
		im->st->allowed++;
		return 0;
	}
	if (!im->in_tx && tx_begin(im))
		goto fail;
	im->in_tx++;
	rc = store_get(st, im->zone, e->key.text, &l);
	if (rc < 0)
		goto fail_tx;
	if (rc == 0 && l.state == want && l.code == e->code && !strcmp(l.reason, e->reason)) {
		im->st->unchanged++;
		goto next;
	}
	if (rc == STORE_NOTFOUND) {
		memset(&l, 0, sizeof(l));
		l.key = e->key;
		l.first_seen = im->now;
	}
	l.state = want;
	l.code = e->code;
	str_copy(l.reason, sizeof(l.reason), e->reason);
	str_copy(l.source, sizeof(l.source), "import");
	l.last_seen = l.changed = im->now;
	l.expires = im->ttl && !e->excluded ? im->now + im->ttl : 0;
	ev.type = e->excluded ? STORE_EV_EXCLUDED : STORE_EV_LISTED;
	str_copy(ev.actor, sizeof(ev.actor), "import");
	str_copy(ev.how, sizeof(ev.how), "import");
	snprintf(ev.detail, sizeof(ev.detail), "%s:%u", im->path, e->line);
	if (store_put(st, im->zone, &l) || store_event_add(st, im->zone, l.key.text, &ev))
		goto fail_tx;
next:
	if (im->in_tx >= im->batch) {
		im->in_tx = 0;
		if (store_commit(st))
			goto fail_tx;
	}
	return 0;
fail_tx:
	store_rollback(st);
fail:
	im->in_tx = 0;
	snprintf(im->err, im->errlen, "%s", store_error(st));
	return -1;
}

static void forward_warn(void *arg, const char *msg)
{
	struct importer *im = arg;

	if (im->warn)
		im->warn(im->warn_arg, msg);
}

static void allow_keys(struct importer *im)
{
	char why[200];

	im->allow = im->r->allow.n ? xcalloc(im->r->allow.n, sizeof(*im->allow)) : NULL;
	for (size_t i = 0; i < im->r->allow.n; i++)
		if (!store_key_parse(im->r->allow.v[i], &im->allow[im->nallow], why, sizeof(why)))
			im->nallow++;
}

int list_import(struct list_ctx *c, const char *zone, const char *path, enum import_type type,
		uint32_t ttl, unsigned batch, import_warn_fn warnf, void *warn_arg,
		struct import_stats *st, char *err, size_t errlen)
{
	struct importer im = { .c = c, .zone = zone, .path = path, .ttl = ttl,
			       .batch = batch ? batch : 10000, .st = st, .err = err,
			       .errlen = errlen, .warn = warnf, .warn_arg = warn_arg };
	struct import_parser *p;
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	im.r = list_rules_for(c->conf, zone);
	im.now = c->now ? c->now : (int64_t)time(NULL);
	allow_keys(&im);
	p = import_begin(type, path, put_entry, forward_warn, &im);
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if ((size_t)n > IMPORT_LINE_MAX || strlen(line) != (size_t)n) {
			p->line++;
			p->st.lines++;
			bad(p, (size_t)n > IMPORT_LINE_MAX ? "line longer than %d bytes" :
			    "line holds a NUL byte", IMPORT_LINE_MAX);
			continue;
		}
		rc = import_line(p, line);
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s:%u: read error: %s", path, p->line, strerror(errno));
		rc = -1;
	}
	{
		unsigned long allowed_n = st->allowed, unchanged = st->unchanged;

		*st = p->st;
		st->allowed = allowed_n;
		st->unchanged = unchanged;
	}
	if (im.in_tx) {
		if (rc == 0 && store_commit(c->st)) {
			snprintf(err, errlen, "%s", store_error(c->st));
			rc = -1;
		} else if (rc) {
			store_rollback(c->st);
		}
	}
	import_end(p);
	free(line);
	free(im.allow);
	fclose(f);
	return rc;
}
