/*
 * store_key.c - listing keys: parse and canonicalise what an operator,
 * an import file or a trap gives (IPv4 address or CIDR, IPv6 address or
 * prefix, domain name, "*.domain"), cut an address to its prefix, test
 * containment, and map a key to the 16-byte range the store searches by.
 *
 * Canonical text is the key column, so one listing has one spelling:
 * IPv4 as inet_pton reads it (four decimal octets, no leading zeros),
 * IPv6 in RFC 5952 form (inet_ntop), "/bits" only when shorter than one
 * address, names in lowercase without the final dot.
 *
 * SECURITY: parses untrusted text (command line, import files, trap
 * mail); bounded by STORE_KEY_MAX before anything is copied, never reads
 * past the NUL.
 */
#include "store/store_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int kerr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int kerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* s for an error message: cut to 64 bytes with "..." (a key may be 300). */
struct shown {
	char s[72];
};

static struct shown clip(const char *s)
{
	struct shown c;

	if (strnlen(s, 65) > 64)
		snprintf(c.s, sizeof(c.s), "%.64s...", s);
	else
		snprintf(c.s, sizeof(c.s), "%s", s);
	return c;
}

/* "/bits": decimal, no sign, no leading zero, at most max. -1 if bad. */
static int parse_bits(const char *s, unsigned max)
{
	unsigned v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= max ? (int)v : -1;
}

static int host_bits(const uint8_t *a, unsigned len, unsigned bits)
{
	unsigned i;

	for (i = bits; i < len * 8; i++)
		if (a[i / 8] & (0x80 >> (i % 8)))
			return 1;
	return 0;
}

static void clear_host_bits(uint8_t *a, unsigned len, unsigned bits)
{
	unsigned i;

	for (i = bits; i < len * 8; i++)
		a[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

/* k->text from k->addr and k->bits. */
static void ip_text(struct store_key *k)
{
	char a[INET6_ADDRSTRLEN];
	int v4 = k->kind == STORE_IP4;

	inet_ntop(v4 ? AF_INET : AF_INET6, k->addr, a, sizeof(a));
	if (k->bits == (v4 ? 32u : 128u))
		snprintf(k->text, sizeof(k->text), "%s", a);
	else
		snprintf(k->text, sizeof(k->text), "%s/%u", a, k->bits);
}

static int parse_ip(const char *s, int v6, struct store_key *k, char *err, size_t errlen)
{
	char a[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max = v6 ? 128 : 32;
	int bits = (int)max;
	const char *form = v6 ? "an IPv6 address or prefix (2001:db8::/64)"
			      : "an IPv4 address or CIDR (192.0.2.1, 192.0.2.0/24)";

	if (n >= sizeof(a))
		return kerr(err, errlen, "\"%s\": not %s", clip(s).s, form);
	memcpy(a, s, n);
	a[n] = '\0';
	memset(k->addr, 0, sizeof(k->addr));
	if (inet_pton(v6 ? AF_INET6 : AF_INET, a, k->addr) != 1)
		return kerr(err, errlen, "\"%s\": not %s", clip(s).s, form);
	if (slash && (bits = parse_bits(slash + 1, max)) < 0)
		return kerr(err, errlen, "\"%s\": prefix length \"/%.8s\" is not 0..%u",
			    clip(s).s, slash + 1, max);
	k->kind = v6 ? STORE_IP6 : STORE_IP4;
	k->bits = (unsigned)bits;
	if (host_bits(k->addr, max / 8, k->bits)) {
		clear_host_bits(k->addr, max / 8, k->bits);
		ip_text(k);
		return kerr(err, errlen, "\"%s\": host bits set after /%d (the network is %s)",
			    clip(s).s, bits, k->text);
	}
	ip_text(k);
	return 0;
}

/* A host name: labels of letters, digits, '-' and '_' (DNSBL data has
 * both), 1..63 bytes, 253 in all; stored in lowercase. */
static int parse_name(const char *s, struct store_key *k, char *err, size_t errlen)
{
	const char *p = s;
	size_t n, lab = 0, o = 0;
	int wild = 0;

	if (!strncmp(p, "*.", 2)) {
		wild = 1;
		p += 2;
	}
	n = strlen(p);
	if (n && p[n - 1] == '.')
		n--;
	if (n == 0)
		return kerr(err, errlen, "\"%s\": no name", clip(s).s);
	if (n > 253)
		return kerr(err, errlen, "\"%s\": name longer than 253 bytes", clip(s).s);
	if (wild)
		o = (size_t)snprintf(k->text, sizeof(k->text), "*.");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '.') {
			if (lab == 0)
				return kerr(err, errlen, "\"%s\": empty label", clip(s).s);
			lab = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++lab > 63)
				return kerr(err, errlen, "\"%s\": label longer than 63 bytes", clip(s).s);
		} else if (c == '*') {
			return kerr(err, errlen, "\"%s\": '*' only as the first label (*.example.com)",
				    clip(s).s);
		} else {
			return kerr(err, errlen,
				    "\"%s\": not an address, network or host name (byte 0x%02x)",
				    clip(s).s, c);
		}
		k->text[o++] = (char)tolower(c);
	}
	if (lab == 0)
		return kerr(err, errlen, "\"%s\": empty label", clip(s).s);
	k->text[o] = '\0';
	k->kind = wild ? STORE_WILD : STORE_NAME;
	k->bits = 0;
	memset(k->addr, 0, sizeof(k->addr));
	return 0;
}

int store_key_parse(const char *s, struct store_key *k, char *err, size_t errlen)
{
	size_t n;

	memset(k, 0, sizeof(*k));
	if (!s || !*s)
		return kerr(err, errlen, "empty key");
	n = strnlen(s, STORE_KEY_MAX);
	if (n >= STORE_KEY_MAX)
		return kerr(err, errlen, "key longer than %d bytes", STORE_KEY_MAX - 1);
	if (strchr(s, ':'))
		return parse_ip(s, 1, k, err, errlen);
	/* digits, dots and a slash only: an address, or a mistake for one
	 * ("127.0.0" is no host name: a top-level label is never numeric) */
	if (strspn(s, "0123456789./") == n)
		return parse_ip(s, 0, k, err, errlen);
	return parse_name(s, k, err, errlen);
}

void store_key_truncate(struct store_key *k, unsigned bits)
{
	unsigned len;

	if (k->kind != STORE_IP4 && k->kind != STORE_IP6)
		return;
	if (bits >= k->bits)
		return;
	len = k->kind == STORE_IP4 ? 4 : 16;
	clear_host_bits(k->addr, len, bits);
	k->bits = bits;
	ip_text(k);
}

int store_key_contains(const struct store_key *net, const struct store_key *k)
{
	unsigned i;

	if (net->kind != k->kind || (net->kind != STORE_IP4 && net->kind != STORE_IP6))
		return 0;
	if (net->bits > k->bits)
		return 0;
	for (i = 0; i < net->bits; i++) {
		uint8_t m = (uint8_t)(0x80 >> (i % 8));

		if ((net->addr[i / 8] & m) != (k->addr[i / 8] & m))
			return 0;
	}
	return 1;
}

int store_key_range(const struct store_key *k, uint8_t lo[16], uint8_t hi[16])
{
	unsigned i, bits;

	memset(lo, 0, 16);
	if (k->kind == STORE_IP4) {
		lo[10] = lo[11] = 0xff;
		memcpy(lo + 12, k->addr, 4);
		bits = 96 + k->bits;
	} else if (k->kind == STORE_IP6) {
		memcpy(lo, k->addr, 16);
		bits = k->bits;
	} else {
		return -1;
	}
	memcpy(hi, lo, 16);
	for (i = bits; i < 128; i++)
		hi[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	return 0;
}

void store_key_from(struct store_key *k, int kind, int bits, const void *lo, size_t lolen,
		    const char *text)
{
	memset(k, 0, sizeof(*k));
	k->kind = (enum store_kind)kind;
	k->bits = (unsigned)bits;
	if (lolen == 16 && kind == STORE_IP4)
		memcpy(k->addr, (const uint8_t *)lo + 12, 4);
	else if (lolen == 16 && kind == STORE_IP6)
		memcpy(k->addr, lo, 16);
	store_copy(k->text, sizeof(k->text), text);
}

int store_key_get(struct store *st, const char *text, struct store_key *k)
{
	char e[256];

	if (store_key_parse(text, k, e, sizeof(e)) < 0)
		return store_fail(st, -1, "%s", e);
	return 0;
}

const char *store_bound(const char *s, char *buf, size_t max)
{
	size_t n;

	if (!s)
		return "";
	n = strnlen(s, max);
	if (n < max)
		return s;
	n = max - 1;
	/* back off continuation bytes so a character is not cut in two */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

void store_copy(char *dst, size_t max, const char *src)
{
	const char *b = store_bound(src, dst, max);

	if (b != dst)
		snprintf(dst, max, "%s", b);
}
