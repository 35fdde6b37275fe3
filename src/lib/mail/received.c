/*
 * received.c - Received chains and dates; see received.h.
 *
 * SECURITY: untrusted header values; tokens are copied with explicit
 * bounds, numbers parsed with limits on their digits.
 */
#define _GNU_SOURCE
#include "mail/received.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int month_of(const char *s)
{
	static const char mon[12][4] = { "jan", "feb", "mar", "apr", "may", "jun",
		"jul", "aug", "sep", "oct", "nov", "dec" };
	char lo[3];

	/* lower-cased once, not by a strncasecmp per month; a NUL or any
	 * byte that is not an ASCII letter (the C locale's isalpha()) ends
	 * the name, as it did there */
	for (int i = 0; i < 3; i++) {
		lo[i] = (char)(s[i] | 0x20);
		if (lo[i] < 'a' || lo[i] > 'z')
			return 0;
	}
	for (int i = 0; i < 12; i++)
		if (lo[0] == mon[i][0] && lo[1] == mon[i][1] && lo[2] == mon[i][2])
			return i + 1;
	return 0;
}

/* Zone offset in seconds east of UTC; *ok cleared when unknown. */
static int zone_offset(const char *s, int *ok)
{
	static const struct { const char *n; int h; } names[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
		{ "JST", 9 }, { "CET", 1 }, { "CEST", 2 }, { "BST", 1 },
	};
	char tok[8];
	size_t i = 0;

	if ((s[0] == '+' || s[0] == '-') && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) &&
	    isdigit((unsigned char)s[4])) {
		int v = ((s[1] - '0') * 10 + s[2] - '0') * 3600 +
			((s[3] - '0') * 10 + s[4] - '0') * 60;

		return s[0] == '-' ? -v : v;
	}
	while (i + 1 < sizeof(tok) && isalpha((unsigned char)s[i])) {
		tok[i] = (char)toupper((unsigned char)s[i]);
		i++;
	}
	tok[i] = '\0';
	for (size_t k = 0; k < ARRAY_SIZE(names); k++)
		if (!strcmp(tok, names[k].n))
			return names[k].h * 3600;
	*ok = 0;		/* RFC 5322: unknown zones mean -0000 */
	return 0;
}

static const char *skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	return s;
}

/* Up to maxd digits into *v; returns the end or NULL.  (ASCII digits:
 * isdigit() in the C locale, without its call per byte.) */
static const char *num(const char *s, int maxd, long *v)
{
	long x = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9' && n < maxd) {
		x = x * 10 + (*s++ - '0');
		n++;
	}
	*v = x;
	return n ? s : NULL;
}

static int parse_date(const char *s, int64_t *t)
{
	long day, year, hh, mm, ss = 0;
	int mon, ok = 1, off;

	s = skip_blank(s);
	if (isalpha((unsigned char)*s)) {	/* day of week */
		while (isalpha((unsigned char)*s))
			s++;
		s = skip_blank(s);
	}
	if (!(s = num(s, 2, &day)))
		return -1;
	s = skip_blank(s);
	if (*s == '-')
		s++;
	if (!(mon = month_of(s)))
		return -1;
	while (isalpha((unsigned char)*s))
		s++;
	if (*s == '-')
		s++;
	s = skip_blank(s);
	{
		const char *e = num(s, 4, &year);

		if (!e)
			return -1;
		if (e - s == 2)
			year += year < 50 ? 2000 : 1900;
		else if (e - s == 3)
			year += 1900;
		s = skip_blank(e);
	}
	if (!(s = num(s, 2, &hh)) || *s++ != ':' || !(s = num(s, 2, &mm)))
		return -1;
	if (*s == ':' && !(s = num(s + 1, 2, &ss)))
		return -1;
	if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return -1;
	s = skip_blank(s);
	off = zone_offset(s, &ok);
	*t = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 +
	     hh * 3600 + mm * 60 + ss - off;
	return 0;
}

/* The last date this thread parsed, and its time: diagnose reads the
 * Date field of the original message twice (for the path's delays and
 * for its span), with no other date parsed in between. */
static __thread char last_date[64];
static __thread int64_t last_t;

int rcvd_parse_date(const char *s, int64_t *t)
{
	size_t n;

	if (last_date[0] && !strcmp(s, last_date)) {
		*t = last_t;
		return 0;
	}
	if (parse_date(s, t) < 0)
		return -1;
	/* kept only when it fits, as a date does (a longer value is
	 * parsed each time) */
	n = strlen(s);
	if (n > 0 && n < sizeof(last_date)) {
		memcpy(last_date, s, n + 1);
		last_t = *t;
	}
	return 0;
}

/* The first keyword kw (lower case, starting with a letter: "by ",
 * "from "), in any case, at the start of v or after a blank or a ')';
 * NULL when there is none.  The places to compare are found by kw's
 * first letter with strcspn(), which libc vectorises (strcasestr() it
 * does not, and it prepares its search anew at every call). */
static const char *keyword(const char *v, const char *kw)
{
	const char first[] = { kw[0], (char)(kw[0] - 'a' + 'A'), '\0' };
	size_t kl = strlen(kw);

	for (const char *p = v;; p++) {
		p += strcspn(p, first);
		if (!*p)
			return NULL;
		if (!strncasecmp(p, kw, kl) &&
		    (p == v || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ')'))
			return p;
	}
}

/* Copy the word after keyword kw (see keyword()) into out; returns where
 * kw is, or NULL when it is nowhere. */
static const char *word_after(const char *v, const char *kw, char *out, size_t len)
{
	const char *p, *at;
	size_t n;

	out[0] = '\0';
	if (!(at = keyword(v, kw)))
		return NULL;
	p = skip_blank(at + strlen(kw));
	/* the word ends at a blank (isspace() in the C locale), ';' or '(' */
	n = strcspn(p, " \t\n\v\f\r;(");
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return at;
}

/* Is [s, s+n) a word that starts the next clause of a Received field? */
static int clause_word(const char *s, size_t n)
{
	static const char *const kw[] = { "id", "via", "for", "by", "from", "with", NULL };

	for (int i = 0; kw[i]; i++)
		if (strlen(kw[i]) == n && !strncasecmp(s, kw[i], n))
			return 1;
	return 0;
}

/* Is the word at s one of the registered protocol names (RFC 3848,
 * 8314: SMTP, ESMTPSA, LMTP, UTF8SMTPS, HTTP, ...) or another usual
 * one-word protocol? */
static int protocol_atom(const char *s)
{
	static const char *const pre[] = { "esmtp", "smtp", "lmtp", "utf8", "http",
		"imap", "pop", "local", "mapi", "nnfmp", NULL };

	for (int i = 0; pre[i]; i++)
		if (!strncasecmp(s, pre[i], strlen(pre[i])))
			return 1;
	return 0;
}

/* The protocol of the with-clause into out.  The keyword inside a
 * comment is not the clause: Postfix's "(using TLSv1.3 with cipher ...)"
 * comes before "by ... with ESMTPS".  One word as a rule ("ESMTPS";
 * Exim's "esmtps (TLS1.3) ..." is "esmtps"); several when the protocol
 * is not one of the registered names: Microsoft's "with Microsoft SMTP
 * Server (version=TLS1_2, cipher=...) id 15.20..." is read up to "id",
 * its comment included, "with Microsoft SMTPSVC(6.0.3790.4675);" up to
 * the ';'.  Blanks are squeezed to one space. */
static void with_clause(const char *v, char *out, size_t len)
{
	const char *p = v;
	size_t o = 0, words = 1;
	int depth = 0;

	out[0] = '\0';
	for (;; p++) {
		p += strcspn(p, "()wW");	/* the only bytes that matter here */
		if (!*p)
			break;
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth)
			depth--;
		else if (!depth && (*p | 0x20) == 'w' && !strncasecmp(p, "with ", 5) &&
			 (p == v || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ')'))
			break;
	}
	if (!*p)
		return;
	p = skip_blank(p + 5);
	while (*p && !isspace((unsigned char)*p) && *p != ';' && *p != '(' && o + 1 < len)
		out[o++] = *p++;
	out[o] = '\0';
	if (!o || protocol_atom(out))
		return;
	for (;;) {
		const char *w = skip_blank(p);
		size_t n;

		if (w == p || !*w || *w == ';')
			break;		/* the word ended at ';' or '(' */
		if (*w == '(') {
			const char *close = words > 1 ? strchr(w, ')') : NULL;

			if (!close || memchr(w, ';', (size_t)(close - w)))
				break;
			n = (size_t)(close - w) + 1;
		} else {
			n = strcspn(w, " \t\r\n;");
			if (clause_word(w, n))
				break;
			words++;
		}
		for (size_t i = 0; i <= n && o + 1 < len; i++) {
			char c = i ? w[i - 1] : ' ';

			if (isspace((unsigned char)c) && out[o - 1] == ' ')
				continue;
			out[o++] = isspace((unsigned char)c) ? ' ' : c;
		}
		out[o] = '\0';
		if (*w == '(')
			break;		/* the comment ends the protocol */
		p = w + n;
	}
}

/* Bytes by their part in an address literal, looked up once per byte
 * rather than through isalnum() and isxdigit() calls (which, in the C
 * locale rblkit runs in, say the same of ASCII and no more). */
enum {
	IN_WORD = 1,		/* letter, digit, '.', ':': no address starts after it */
	IN_ADDR = 2,		/* hex digit, '.', ':': may be in an address */
};
static const unsigned char addr_class[256] = {
	['0' ... '9'] = IN_WORD | IN_ADDR,
	['a' ... 'f'] = IN_WORD | IN_ADDR, ['A' ... 'F'] = IN_WORD | IN_ADDR,
	['g' ... 'z'] = IN_WORD, ['G' ... 'Z'] = IN_WORD,
	['.'] = IN_WORD | IN_ADDR, [':'] = IN_WORD | IN_ADDR,
};

/* First IP address literal in [v, end): "[1.2.3.4]", "(1.2.3.4)",
 * "[IPv6:..]" or a bare dotted quad. */
static void first_ip(const char *v, const char *end, char *out, size_t len)
{
	out[0] = '\0';
	for (const char *p = v; p < end; p++) {
		char buf[64];
		size_t n = 0;
		const char *q = p;
		unsigned char a[16];

		if (p > v && (addr_class[(unsigned char)p[-1]] & IN_WORD))
			continue;
		if ((*q | 0x20) == 'i' && !strncasecmp(q, "ipv6:", 5))
			q += 5;
		while (q < end && n + 1 < sizeof(buf) &&
		       (addr_class[(unsigned char)*q] & IN_ADDR))
			buf[n++] = *q++;
		buf[n] = '\0';
		if (n >= 7 && (inet_pton(AF_INET, buf, a) == 1 ||
			       (strchr(buf, ':') && inet_pton(AF_INET6, buf, a) == 1))) {
			str_copy(out, len, buf);
			return;
		}
		/* every byte read from p to q is in a word, so no address
		 * starts before q: go on from there */
		if (q > p)
			p = q - 1;
	}
}

int rcvd_find_public_ip(const char *text, char *out, size_t len)
{
	const char *p = text, *end = text + strlen(text);

	/* one scan: each address found, then on past it */
	while (p < end) {
		const char *at;

		first_ip(p, end, out, len);
		if (!out[0] || !(at = strstr(p, out)))
			break;
		if (rcvd_ip_public(out))
			return 0;
		p = at + strlen(out);
	}
	out[0] = '\0';
	return -1;
}

/* The client address of a from-clause [v, end): the address in the
 * comment the receiver wrote (TCP-info: "(name [192.0.2.1])", qmail's
 * "(192.0.2.1)"), else an address literal the client gave as its name. */
static void client_ip(const char *v, const char *end, char *out, size_t len)
{
	const char *p = v;

	out[0] = '\0';
	while ((p = memchr(p, '(', (size_t)(end - p))) != NULL) {
		const char *close = memchr(p, ')', (size_t)(end - p));

		if (!close)
			break;
		first_ip(p + 1, close, out, len);
		if (out[0])
			return;
		p = close + 1;
	}
	first_ip(v, end, out, len);
}

void rcvd_parse(const char *value, struct rcvd_hop *hop)
{
	const char *semi = strrchr(value, ';'), *by, *by_kw;

	memset(hop, 0, sizeof(*hop));
	if (semi && rcvd_parse_date(semi + 1, &hop->t) == 0)
		hop->has_t = 1;
	/* "(qmail 123 invoked by uid 0)": a local hand-over, no hosts */
	if (value[0] == '(')
		return;
	by_kw = word_after(value, "by ", hop->by, sizeof(hop->by));
	with_clause(value, hop->with, sizeof(hop->with));
	if (strncasecmp(value, "from", 4))
		return;
	word_after(value, "from ", hop->from, sizeof(hop->from));
	/* the first " by ": the "by " found above when a space is before
	 * it (a " by " before that would have been found instead); none
	 * when there is no "by " at all; else after that one */
	if (!by_kw)
		by = NULL;
	else if (by_kw > value && by_kw[-1] == ' ')
		by = by_kw - 1;
	else
		by = strcasestr(by_kw + 1, " by ");
	if (!by)
		by = semi ? semi : value + strlen(value);
	client_ip(value, by, hop->ip, sizeof(hop->ip));
}

size_t rcvd_chain(const struct msg *m, struct rcvd_hop *hops, size_t max)
{
	size_t n = 0;
	int64_t prev = 0;
	int has_prev = 0;
	const char *date = msg_get(m, "Date");

	for (size_t i = m->nf; i-- > 0 && n < max;) {
		const char *name = m->f[i].name;

		/* the first letter rules out most fields without a call */
		if ((name[0] | 0x20) != 'r' || strcasecmp(name, "Received"))
			continue;
		rcvd_parse(m->f[i].value, &hops[n++]);
	}
	if (date && rcvd_parse_date(date, &prev) == 0)
		has_prev = 1;
	for (size_t i = 0; i < n; i++) {
		if (!hops[i].has_t)
			continue;
		if (has_prev) {
			hops[i].delay = hops[i].t - prev;
			hops[i].has_delay = 1;
		}
		prev = hops[i].t;
		has_prev = 1;
	}
	return n;
}

static int ip4_public(const unsigned char *a)
{
	return !(a[0] == 10 || a[0] == 127 || a[0] == 0 ||
		 (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		 (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
		 (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] >= 224);
}

int rcvd_ip_public(const char *ip)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return ip4_public(a);
	if (inet_pton(AF_INET6, ip, a) == 1) {
		static const unsigned char zero[15];

		if (!memcmp(a, zero, 15))			/* :: and ::1 */
			return 0;
		/* ::ffff:10.0.0.1 is 10.0.0.1 (a dual-stack listener's view) */
		if (!memcmp(a, zero, 10) && a[10] == 0xff && a[11] == 0xff)
			return ip4_public(a + 12);
		return !((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
			 a[0] == 0xff);
	}
	return 0;
}

/* The organisation of a host name: its last two labels, three under a
 * country code with a short second level (example.co.jp, x.com.au). */
static const char *org_of(const char *host)
{
	const char *lab[3] = { NULL, NULL, NULL };	/* last, second, third */
	size_t n = strlen(host), k = 0;

	while (n && host[n - 1] == '.')
		n--;
	for (size_t i = n; i > 0 && k < 3; i--)
		if (host[i - 1] == '.')
			lab[k++] = host + i;
	if (!lab[0])
		return host;
	if (!lab[1])
		return host;
	if ((size_t)(host + n - lab[0]) == 2 && lab[0] - lab[1] - 1 <= 3)
		return lab[2] ? lab[2] : host;
	return lab[1];
}

static int same_org(const char *a, const char *b)
{
	const char *oa = org_of(a), *ob = org_of(b);

	return *a && *b && !strcasecmp(oa, ob);
}

int rcvd_judged_hop(const struct rcvd_hop *hops, size_t n)
{
	const char *home = NULL;
	int last_public = -1;

	for (size_t i = 0; i < n; i++) {
		if (!home && hops[i].by[0])
			home = hops[i].by;
		if (hops[i].ip[0] && rcvd_ip_public(hops[i].ip)) {
			if (home && hops[i].by[0] && !same_org(home, hops[i].by))
				return (int)i;
			last_public = (int)i;
		}
	}
	return last_public;
}
