/*
 * config.c - list.conf: the store DSN, the trap intake's keys, the
 * default rules of every zone, and "[zone NAME]" sections that override
 * the rules of one zone. One conftab table for the global keys, one for
 * the rule keys of a section (the same keys, offsets into struct
 * list_rules); each section is parsed by conftab over the whole text
 * with every other line blanked, so that errors name the file's lines.
 *
 * SECURITY: operator input only, read with the privileges of the
 * command (or the trap daemon at start-up); every value is range-checked
 * here so that the rules never see a value they cannot use.
 */
#include "list/list.h"
#include "base/conftab.h"
#include "base/dname.h"
#include "base/ipaddr.h"
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#define CONF_FILE_MAX (1u << 24)

/* -- value parsers ----------------------------------------------------- */

static void list_push(struct conftab_list *l, const char *s, size_t n)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrndup(s, n);
}

/* An IPv4 or IPv6 network without host bits ("192.0.2.0/24", "::1"). */
static int net_ok(const char *s)
{
	uint8_t a6[16];
	const char *end;
	uint32_t a;
	int bits;

	if (strchr(s, ':')) {
		bits = ip6_cidr(s, a6, &end);
		return bits >= 0 && !*end && !ip6_host_bits(a6, bits);
	}
	bits = ip4_cidr(s, &a, &end);
	if (bits < 0 || *end)
		return 0;
	/* ip4_cidr reads "10" as 10.0.0.0 with /8 only; a bare prefix
	 * shorter than 4 octets is refused by it: the operator writes CIDRs */
	return bits == 32 || !(a & ~ip4_mask(bits));
}

/* A host or zone name (no final dot needed), at least two labels. */
static int name_ok(const char *s)
{
	uint8_t w[DNAME_MAXLEN];
	int n = dname_from_text(s, w);

	return n > 1 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "0123456789-._") == strlen(s);
}

/* Words between commas or blanks, each checked by ok(). */
static int f_words(void *field, const char *v, int (*ok)(const char *), const char *what,
		   size_t max, char *err, size_t el)
{
	struct conftab_list l = { 0 };
	const char *p = v;

	for (;;) {
		size_t n;

		p += strspn(p, ", \t");
		if (!*p)
			break;
		n = strcspn(p, ", \t");
		list_push(&l, p, n);
		if (!ok(l.v[l.n - 1])) {
			snprintf(err, el, "'%.*s' is not %s", (int)(n > 80 ? 80 : n), p, what);
			goto bad;
		}
		if (l.n > max) {
			snprintf(err, el, "more than %zu items", max);
			goto bad;
		}
		p += n;
	}
	conftab_list_release(field);
	*(struct conftab_list *)field = l;
	return 0;
bad:
	conftab_list_release(&l);
	return -1;
}

static int f_nets(void *conf, void *field, const char *v, char *err, size_t el)
{
	return f_words(field, v, net_ok, "an address or CIDR (without host bits)",
		       CONFTAB_LIST_MAX, err, el);
}

static int f_names(void *conf, void *field, const char *v, char *err, size_t el)
{
	return f_words(field, v, name_ok, "a domain name", CONFTAB_LIST_MAX, err, el);
}

static int f_ns(void *conf, void *field, const char *v, char *err, size_t el)
{
	return f_words(field, v, name_ok, "a host name", STORE_NS_MAX, err, el);
}

static int mx_ok(const char *s)
{
	return net_ok(s) || name_ok(s);
}

static int f_mx(void *conf, void *field, const char *v, char *err, size_t el)
{
	return f_words(field, v, mx_ok, "a host name or an address", CONFTAB_LIST_MAX, err, el);
}

/* "trapdomain.example=ZONE" */
static int domain_zone_ok(const char *s)
{
	const char *eq = strchr(s, '=');
	char dom[DNAME_TEXT_MAX];

	if (!eq || (size_t)(eq - s) >= sizeof(dom))
		return 0;
	memcpy(dom, s, (size_t)(eq - s));
	dom[eq - s] = '\0';
	return name_ok(dom) && name_ok(eq + 1);
}

static int f_domains(void *conf, void *field, const char *v, char *err, size_t el)
{
	return f_words(field, v, domain_zone_ok, "DOMAIN=ZONE", CONFTAB_LIST_MAX, err, el);
}

/* code: an A value inside 127.0.0.0/8 ("127.0.0.2", or "2" for it). */
static int f_code(void *conf, void *field, const char *v, char *err, size_t el)
{
	uint32_t a;
	const char *end;
	char *e;

	if (strchr(v, '.')) {
		if (ip4_prefix(v, &a, &end) != 32 || *end)
			goto bad;
	} else {
		unsigned long n = strtoul(v, &e, 10);

		if (!*v || *e || n < 1 || n > 255)
			goto bad;
		a = 0x7f000000u | (uint32_t)n;
	}
	if ((a >> 24) != 127 || a == 0x7f000001u)
		goto bad;
	*(uint32_t *)field = a;
	return 0;
bad:
	snprintf(err, el, "expected an address in 127.0.0.0/8 other than 127.0.0.1 "
		 "(127.0.0.2), or its last octet");
	return -1;
}

static int f_name_str(void *conf, void *field, const char *v, char *err, size_t el)
{
	if (*v && !name_ok(v)) {
		snprintf(err, el, "expected a domain name");
		return -1;
	}
	return 0;
}

static int f_txt(void *conf, void *field, const char *v, char *err, size_t el)
{
	if (strlen(v) >= STORE_REASON_MAX) {
		snprintf(err, el, "longer than %d bytes", STORE_REASON_MAX - 1);
		return -1;
	}
	return 0;
}

static int f_abspath(void *conf, void *field, const char *v, char *err, size_t el)
{
	if (v[0] != '/') {
		snprintf(err, el, "must be an absolute path");
		return -1;
	}
	return 0;
}

static int f_dsn(void *conf, void *field, const char *v, char *err, size_t el)
{
	if (strncmp(v, "sqlite:", 7) && strncmp(v, "postgresql://", 13) &&
	    strncmp(v, "postgres://", 11)) {
		snprintf(err, el, "expected sqlite:PATH or postgresql://...");
		return -1;
	}
	if (!strncmp(v, "sqlite:", 7) && !v[7]) {
		snprintf(err, el, "sqlite: needs a path");
		return -1;
	}
	return 0;
}

/* -- the keys ------------------------------------------------------------ */

#define DAY "86400"
#define FN(p) .parse = (p), .release = conftab_list_release
/* Every rule key, with O(field) the offset of a struct list_rules field
 * in the struct the table fills. */
#define RULE_KEYS(O)                                                                   \
	{ "lifetime", CONFTAB_TIME, O(lifetime), "24h", 60, 3650 * 86400LL,            \
	  .help = "how long a new listing lasts" },                                      \
	{ "extend", CONFTAB_TIME, O(extend), "24h", 0, 3650 * 86400LL,                 \
	  .help = "a new hit on a listing moves its expiry to now + this (0: never)" },  \
	{ "relist_period", CONFTAB_TIME, O(relist_period), "30d", 0, 3650 * 86400LL,   \
	  .help = "a re-listing this soon after the last listing ended doubles the lifetime" }, \
	{ "lifetime_max", CONFTAB_TIME, O(lifetime_max), "30d", 60, 3650 * 86400LL,    \
	  .help = "the doubled lifetime is capped here" },                               \
	{ "threshold_hits", CONFTAB_UINT, O(threshold_hits), "1", 1, 1000000,          \
	  .help = "trap hits needed to list ..." },                                      \
	{ "threshold_traps", CONFTAB_UINT, O(threshold_traps), "1", 1, 1000000,        \
	  .help = "... from this many distinct trap addresses ..." },                    \
	{ "threshold_window", CONFTAB_TIME, O(threshold_window), "24h", 1, 3650 * 86400LL, \
	  .help = "... within this time" },                                              \
	{ "ip6_bits", CONFTAB_UINT, O(ip6_bits), "64", 16, 128,                        \
	  .help = "an IPv6 address is listed as its /N" },                               \
	{ "allow", CONFTAB_FUNC, O(allow), "", FN(f_nets),                             \
	  .help = "networks never listed (your own servers), CIDRs" },                   \
	{ "allow_dnsbl", CONFTAB_FUNC, O(allow_dnsbl), "", FN(f_names),                \
	  .help = "DNS allowlists asked before a trap hit lists (list.dnswl.org)" },     \
	{ "self_remove_max", CONFTAB_UINT, O(self_remove_max), "3", 0, 1000000,        \
	  .help = "removals by request per key within self_remove_period; more need review" }, \
	{ "self_remove_period", CONFTAB_TIME, O(self_remove_period), "30d", 1, 3650 * 86400LL, \
	  .help = "the period of self_remove_max" },                                     \
	{ "net_escalate", CONFTAB_UINT, O(net_escalate), "0", 0, 1u << 24,             \
	  .help = "list the /net_bits network when this many IPv4 addresses in it are listed (0: off)" }, \
	{ "net_bits", CONFTAB_UINT, O(net_bits), "24", 8, 31,                          \
	  .help = "the network size of net_escalate" },                                  \
	{ "test_points", CONFTAB_BOOL, O(test_points), "yes",                          \
	  .help = "a new zone lists the RFC 5782 test points 127.0.0.2, ::ffff:127.0.0.2 and TEST" }, \
	{ "code", CONFTAB_FUNC, O(code), "127.0.0.2", .parse = f_code,                 \
	  .help = "the A record of a listing (127.0.0.x)" },                             \
	{ "txt", CONFTAB_STR, O(txt), "Listed in %z: $", .parse = f_txt,               \
	  .help = "the TXT template: $ is the listed address, %z the zone" },            \
	{ "ttl", CONFTAB_TIME, O(ttl), "300", 0, 604800,                               \
	  .help = "TTL of the zone's records" },                                         \
	{ "mname", CONFTAB_STR, O(mname), "", .parse = f_name_str,                     \
	  .help = "SOA primary server (empty: ns.ZONE)" },                               \
	{ "rname", CONFTAB_STR, O(rname), "", .parse = f_name_str,                     \
	  .help = "SOA mailbox, as a name (empty: hostmaster.ZONE)" },                   \
	{ "ns", CONFTAB_FUNC, O(ns), "", FN(f_ns),                                     \
	  .help = "the zone's NS records (empty: mname), at most 8" },                   \
	{ "refresh", CONFTAB_TIME, O(refresh), "3600", 1, 4294967295LL, .help = "SOA refresh" }, \
	{ "retry", CONFTAB_TIME, O(retry), "600", 1, 4294967295LL, .help = "SOA retry" },        \
	{ "expire", CONFTAB_TIME, O(expire), "604800", 1, 4294967295LL, .help = "SOA expire" },  \
	{ "minimum", CONFTAB_TIME, O(minimum), "300", 0, 4294967295LL,                 \
	  .help = "SOA minimum (negative caching TTL)" }

#define OR(f) offsetof(struct list_rules, f)
static const struct conftab_key rule_keys[] = { RULE_KEYS(OR) };
#undef OR

#define OG(f) offsetof(struct list_conf, f)
#define OD(f) (offsetof(struct list_conf, defaults) + offsetof(struct list_rules, f))
static const struct conftab_key global_keys[] = {
	{ "store", CONFTAB_STR, OG(store), "sqlite:/var/lib/rblkit/list.db", .parse = f_dsn,
	  .help = "the listing store: sqlite:PATH or postgresql://user@host:port/db" },
	{ "resolver", CONFTAB_STR, OG(resolver), "",
	  .help = "the DNS servers asked for allow_dnsbl, ADDR[:PORT],... (empty: /etc/resolv.conf)" },
	{ "trap_mx", CONFTAB_FUNC, OG(trap.mx), "", FN(f_mx),
	  .help = "your MX hosts (names or addresses): only their Received lines are trusted" },
	{ "trap_domains", CONFTAB_FUNC, OG(trap.domains), "", FN(f_domains),
	  .help = "TRAPDOMAIN=ZONE, ...: mail to the trap domain lists in ZONE" },
	{ "trap_zone", CONFTAB_STR, OG(trap.zone), NULL, .parse = f_name_str,
	  .help = "the zone of trap domains not named in trap_domains" },
	{ "trap_quarantine", CONFTAB_STR, OG(trap.quarantine), "/var/lib/rblkit/quarantine",
	  .parse = f_abspath, .help = "directory for trap messages that could not be read" },
	{ "trap_listen", CONFTAB_STR, OG(trap.listen), "127.0.0.1:2424",
	  .help = "the LMTP listen address (ADDR:PORT, [ADDR6]:PORT or /path)" },
	{ "trap_max_size", CONFTAB_UINT, OG(trap.max_size), "1048576", 1024, 1u << 30,
	  .help = "bytes of one trap message kept" },
	RULE_KEYS(OD),
};
#undef OG
#undef OD
#undef FN

/* Checks across rule keys; a key whose value was refused is left out. */
static int check_rules(const struct list_rules *r, const struct conftab_bad *bad, char *err,
		       size_t el)
{
	if (!conftab_bad(bad, "lifetime") && !conftab_bad(bad, "lifetime_max") &&
	    r->lifetime > r->lifetime_max) {
		snprintf(err, el, "lifetime is above lifetime_max");
		return -1;
	}
	if (!conftab_bad(bad, "threshold_traps") && !conftab_bad(bad, "threshold_hits") &&
	    r->threshold_traps > r->threshold_hits) {
		snprintf(err, el, "threshold_traps is above threshold_hits (each trap is a hit)");
		return -1;
	}
	return 0;
}

static int check_global(void *conf, const struct conftab_bad *bad, char *err, size_t el)
{
	return check_rules(&((struct list_conf *)conf)->defaults, bad, err, el);
}

static int check_zone(void *conf, const struct conftab_bad *bad, char *err, size_t el)
{
	return check_rules(conf, bad, err, el);
}

static const struct conftab global_table = {
	.keys = global_keys, .nkeys = ARRAY_SIZE(global_keys), .size = sizeof(struct list_conf),
	.check_all = check_global,
};
static const struct conftab rule_table = {
	.keys = rule_keys, .nkeys = ARRAY_SIZE(rule_keys), .size = sizeof(struct list_rules),
	.check_all = check_zone,
};

/* -- copying rules (a section starts from the global values) ------------ */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void list_copy(struct conftab_list *dst, const struct conftab_list *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->n; i++)
		list_push(dst, src->v[i], strlen(src->v[i]));
}

static void rules_copy(struct list_rules *dst, const struct list_rules *src)
{
	*dst = *src;
	dst->txt = dup_or_null(src->txt);
	dst->mname = dup_or_null(src->mname);
	dst->rname = dup_or_null(src->rname);
	list_copy(&dst->allow, &src->allow);
	list_copy(&dst->allow_dnsbl, &src->allow_dnsbl);
	list_copy(&dst->ns, &src->ns);
}

static void rules_release(struct list_rules *r)
{
	free(r->txt);
	free(r->mname);
	free(r->rname);
	conftab_list_release(&r->allow);
	conftab_list_release(&r->allow_dnsbl);
	conftab_list_release(&r->ns);
}

/* -- sections ------------------------------------------------------------ */

static void add_err(struct conftab_errors *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_err(struct conftab_errors *e, const char *fmt, ...)
{
	va_list ap;

	if (e->n < CONFTAB_MAX_ERRORS) {
		va_start(ap, fmt);
		vsnprintf(e->msg[e->n++], CONFTAB_ERROR_LEN, fmt, ap);
		va_end(ap);
	}
	e->total++;
}

static void merge_errs(struct conftab_errors *e, const struct conftab_errors *more)
{
	for (unsigned i = 0; i < more->n; i++)
		add_err(e, "%s", more->msg[i]);
	e->total += more->total - more->n;
}

/* A section header "[zone NAME]" at line s (n bytes, stripped)? Returns
 * 1 with the lowercased name in out, 0 if the line is no header, -1 for
 * a bad header (why in out). */
static int section_header(const char *s, size_t n, char *out, size_t outlen)
{
	uint8_t w[DNAME_MAXLEN];
	size_t a, b;

	if (!n || s[0] != '[')
		return 0;
	if (s[n - 1] != ']') {
		snprintf(out, outlen, "expected [zone NAME]");
		return -1;
	}
	a = 1 + strspn(s + 1, " \t");
	if (n - a < 5 || strncmp(s + a, "zone", 4) || (s[a + 4] != ' ' && s[a + 4] != '\t')) {
		snprintf(out, outlen, "expected [zone NAME]");
		return -1;
	}
	a += 4 + strspn(s + a + 4, " \t");
	b = n - 1;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (b > a && s[b - 1] == '.')
		b--;
	if (b == a || b - a >= STORE_ZONE_MAX) {
		snprintf(out, outlen, "expected [zone NAME]: a zone name of 1..%d bytes",
			 STORE_ZONE_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < b - a; i++)
		out[i] = (char)tolower((unsigned char)s[a + i]);
	out[b - a] = '\0';
	if (!name_ok(out) || dname_from_text(out, w) < 0) {
		snprintf(out, outlen, "'%.*s' is not a zone name", (int)(b - a > 80 ? 80 : b - a),
			 s + a);
		return -1;
	}
	return 1;
}

/* The line of text at p (up to '\n'), stripped of blanks and comments. */
static size_t stripped(const char *p, size_t n, size_t *lead)
{
	size_t i;

	*lead = strspn(p, " \t");
	if (*lead > n)
		*lead = n;
	for (i = *lead; i < n; i++)
		if (p[i] == '#' && (i == 0 || isspace((unsigned char)p[i - 1])))
			break;
	while (i > *lead && isspace((unsigned char)p[i - 1]))
		i--;
	return i - *lead;
}

/* Section index of every line (0: global part, k: the k-th section, -1:
 * a header line) and the section names; header errors go to e. */
struct sections {
	int *of_line;
	unsigned nlines;
	char (*names)[STORE_ZONE_MAX];
	unsigned *header_line;
	int *dropped;
	unsigned n;
};

static void sections_scan(const char *text, const char *name, struct sections *s,
			  struct conftab_errors *e)
{
	int cur = 0;

	memset(s, 0, sizeof(*s));
	for (const char *p = text;;) {
		size_t n = strcspn(p, "\n"), lead, len = stripped(p, n, &lead);
		char zone[STORE_ZONE_MAX + 100];
		int h = lead == 0 ? section_header(p, len, zone, sizeof(zone)) : 0;

		s->of_line = xreallocarray(s->of_line, s->nlines + 1, sizeof(int));
		s->nlines++;
		if (h != 0) {
			unsigned k = s->n;

			if (h < 0)
				add_err(e, "%s:%u: %s", name, s->nlines, zone);
			for (k = 0; h > 0 && k < s->n && strcmp(s->names[k], zone); k++)
				;
			if (h > 0 && k < s->n)
				add_err(e, "%s:%u: zone %s named twice (first on line %u)", name,
					s->nlines, zone, s->header_line[k]);
			/* a bad or repeated section is still parsed (its
			 * errors are told), then dropped */
			s->names = xreallocarray(s->names, s->n + 1, sizeof(*s->names));
			s->header_line = xreallocarray(s->header_line, s->n + 1, sizeof(unsigned));
			s->dropped = xreallocarray(s->dropped, s->n + 1, sizeof(int));
			memcpy(s->names[s->n], h > 0 ? zone : "", h > 0 ? STORE_ZONE_MAX : 1);
			s->header_line[s->n] = s->nlines;
			s->dropped[s->n] = h < 0 || k < s->n;
			cur = (int)++s->n;
			s->of_line[s->nlines - 1] = -1;
		} else {
			s->of_line[s->nlines - 1] = cur;
		}
		p += n;
		if (!*p)
			break;
		p++;
	}
}

/* text with every line not of section k blanked (newlines kept). */
static char *section_text(const char *text, const struct sections *s, int k)
{
	size_t len = strlen(text);
	char *out = xmalloc(len + 1);
	unsigned line = 0;

	memcpy(out, text, len + 1);
	for (char *p = out;;) {
		size_t n = strcspn(p, "\n");

		if (s->of_line[line++] != k)
			memset(p, ' ', n);
		p += n;
		if (!*p)
			break;
		p++;
	}
	return out;
}

static char *read_text(const char *path, struct conftab_errors *e)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, got;

	if (!f) {
		add_err(e, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(CONF_FILE_MAX + 1);
	got = fread(buf, 1, CONF_FILE_MAX + 1, f);
	len = got;
	if (ferror(f) || len > CONF_FILE_MAX || memchr(buf, '\0', len)) {
		add_err(e, "%s: %s", path, ferror(f) ? "read error" : len > CONF_FILE_MAX ?
			"larger than 16 MB" : "holds a NUL byte");
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static int parse_all(struct list_conf *c, const char *text, const char *name,
		     struct conftab_errors *e)
{
	struct conftab_errors one;
	struct sections s;
	char *t;

	sections_scan(text, name, &s, e);
	t = section_text(text, &s, 0);
	conftab_parse(&global_table, c, t, name, &one);
	merge_errs(e, &one);
	free(t);
	c->zones = s.n ? xcalloc(s.n, sizeof(*c->zones)) : NULL;
	for (unsigned k = 0; k < s.n; k++) {
		struct list_zone *z = &c->zones[c->nzones];

		str_copy(z->name, sizeof(z->name), s.names[k]);
		rules_copy(&z->rules, &c->defaults);
		t = section_text(text, &s, (int)k + 1);
		conftab_parse(&rule_table, &z->rules, t, name, &one);
		merge_errs(e, &one);
		free(t);
		if (s.dropped[k])
			rules_release(&z->rules);
		else
			c->nzones++;
	}
	free(s.dropped);
	free(s.of_line);
	free(s.names);
	free(s.header_line);
	return e->total ? -1 : 0;
}

struct list_conf *list_conf_load(const char *path, struct conftab_errors *e)
{
	struct list_conf *c = conftab_new(&global_table);
	char *text;

	memset(e, 0, sizeof(*e));
	if (!path)
		return c;
	if (!(text = read_text(path, e)) || parse_all(c, text, path, e)) {
		free(text);
		list_conf_free(c);
		return NULL;
	}
	free(text);
	return c;
}

void list_conf_free(struct list_conf *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->nzones; i++)
		rules_release(&c->zones[i].rules);
	free(c->zones);
	conftab_free(&global_table, c);
}

int list_conf_uses_dns(const struct list_conf *c)
{
	if (c->defaults.allow_dnsbl.n)
		return 1;
	for (unsigned i = 0; i < c->nzones; i++)
		if (c->zones[i].rules.allow_dnsbl.n)
			return 1;
	return 0;
}

const struct list_rules *list_rules_for(const struct list_conf *c, const char *zone)
{
	for (unsigned i = 0; i < c->nzones; i++)
		if (!strcasecmp(c->zones[i].name, zone))
			return &c->zones[i].rules;
	return &c->defaults;
}

/* -- publishing data --------------------------------------------------- */

/* The TXT template with "%z" replaced by the zone (cut to fit). */
static void expand_txt(const char *tmpl, const char *zone, char *out, size_t len)
{
	size_t o = 0;

	for (const char *p = tmpl ? tmpl : ""; *p && o + 1 < len; p++) {
		if (p[0] == '%' && p[1] == 'z') {
			for (const char *z = zone; *z && o + 1 < len; z++)
				out[o++] = *z;
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

void list_zone_data(const struct list_rules *r, const char *zone, struct store_zone *z)
{
	memset(z, 0, sizeof(*z));
	str_copy(z->name, sizeof(z->name), zone);
	z->ttl = r->ttl;
	z->code = r->code;
	expand_txt(r->txt, zone, z->txt, sizeof(z->txt));
	str_copy(z->mname, sizeof(z->mname), r->mname ? r->mname : "");
	str_copy(z->rname, sizeof(z->rname), r->rname ? r->rname : "");
	z->refresh = r->refresh;
	z->retry = r->retry;
	z->expire = r->expire;
	z->minimum = r->minimum;
	for (size_t i = 0; i < r->ns.n && i < STORE_NS_MAX; i++)
		str_copy(z->ns[z->nns++], sizeof(z->ns[0]), r->ns.v[i]);
}

struct unnamed {
	const struct list_conf *c;
	char (*names)[STORE_ZONE_MAX];
	unsigned n;
};

static int collect_unnamed(void *arg, const struct store_zone *z)
{
	struct unnamed *u = arg;

	if (list_rules_for(u->c, z->name) != &u->c->defaults)
		return 0;
	u->names = xreallocarray(u->names, u->n + 1, sizeof(*u->names));
	str_copy(u->names[u->n++], STORE_ZONE_MAX, z->name);
	return 0;
}

int list_conf_sync(const struct list_conf *c, struct store *st, char *err, size_t errlen)
{
	struct unnamed u = { c, NULL, 0 };
	struct store_zone z;
	int rc = -1;

	/* the zones in the store that the file does not name get the
	 * defaults (a changed default reaches them too) */
	if (store_zones(st, collect_unnamed, &u))
		goto fail;
	if (store_begin(st))
		goto fail;
	for (unsigned i = 0; i < c->nzones; i++) {
		/* a zone the file names is created here, with its test points */
		if (list_zone_ensure(st, &c->zones[i].rules, c->zones[i].name, (int64_t)time(NULL)) < 0)
			goto fail_tx;
		list_zone_data(&c->zones[i].rules, c->zones[i].name, &z);
		if (store_zone_put(st, &z))
			goto fail_tx;
	}
	for (unsigned i = 0; i < u.n; i++) {
		list_zone_data(&c->defaults, u.names[i], &z);
		if (store_zone_put(st, &z))
			goto fail_tx;
	}
	if (store_commit(st))
		goto fail;
	rc = 0;
	goto out;
fail_tx:
	store_rollback(st);
fail:
	snprintf(err, errlen, "%s", store_error(st));
out:
	free(u.names);
	return rc;
}

void list_conf_help(FILE *f)
{
	fprintf(f, "Global keys:\n");
	conftab_help(&global_table, f);
	fprintf(f, "\nIn a [zone NAME] section, the rule keys above (lifetime ... minimum)\n"
		"override the global values for that zone.\n");
}
