/*
 * ipaddr.c - IPv4/IPv6 text forms of rbldnsd data files.
 *
 * SECURITY: parses untrusted text; every loop stops at the NUL or a
 * bounded field width.
 */
#include "base/ipaddr.h"

#include <stdio.h>
#include <string.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int ip4_prefix(const char *s, uint32_t *a, const char **end)
{
	uint32_t v = 0;
	int bits = 0;

	for (;;) {
		unsigned o = 0;

		if (!is_digit(*s)) {
			*end = s;
			return -1;
		}
		while (is_digit(*s)) {
			o = o * 10 + (unsigned)(*s++ - '0');
			if (o > 255) {
				*end = s;
				return -1;
			}
		}
		bits += 8;
		v |= o << (32 - bits);
		if (bits == 32 || *s != '.' || !is_digit(s[1]))
			break;
		s++;
	}
	*a = v;
	*end = s;
	return bits;
}

uint32_t ip4_mask(int bits)
{
	return bits <= 0 ? 0 : bits >= 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
}

static int mask_bits(const char *s, int max, const char **end)
{
	int bits = 0, n = 0;

	while (is_digit(*s)) {
		bits = bits * 10 + (*s++ - '0');
		if (++n > 3 || bits > max) {
			*end = s;
			return -1;
		}
	}
	*end = s;
	return n ? bits : -1;
}

int ip4_cidr(const char *s, uint32_t *a, const char **end)
{
	int bits = ip4_prefix(s, a, end);

	if (bits < 0)
		return -1;
	if (**end == '/')
		return mask_bits(*end + 1, 32, end);
	return bits == 8 ? -1 : bits;   /* a bare number needs /bits */
}

int ip4_range(const char *s, uint32_t *lo, uint32_t *hi, const char **end)
{
	int bits = ip4_prefix(s, lo, end), bbits;

	if (bits < 0)
		return -1;
	if (**end == '-') {
		bbits = ip4_prefix(*end + 1, hi, end);
		if (bbits < 0)
			return -1;
		if (bbits == 8 && bits > 8) {
			/* "127.16-31": the number replaces the last octet given */
			*hi = (*hi >> (bits - 8)) | (*lo & ip4_mask(bits - 8));
			bbits = bits;
		} else if (bbits != bits) {
			return -1;
		}
		*hi |= ~ip4_mask(bbits);
		return *lo > *hi ? -1 : 32;
	}
	if (**end == '/') {
		bits = mask_bits(*end + 1, 32, end);
		if (bits < 0)
			return -1;
	} else if (bits == 8) {
		return -1;
	}
	*hi = *lo | ~ip4_mask(bits);
	return bits;
}

int ip4_format(uint32_t a, char *buf)
{
	return sprintf(buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		       (a >> 8) & 255, a & 255);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ip6_prefix(const char *s, uint8_t a[16], const char **end)
{
	unsigned bytes = 0;
	int zstart = -1, ret = -1;

	memset(a, 0, 16);
	if (s[0] == ':' && s[1] == ':') {
		zstart = 0;
		s += 2;
	}
	for (;;) {
		unsigned v = 0, n = 0;
		int h;

		while ((h = hexval(*s)) >= 0 && n < 4) {
			v = v << 4 | (unsigned)h;
			s++;
			n++;
		}
		if (!n || hexval(*s) >= 0)
			break;
		a[bytes++] = (uint8_t)(v >> 8);
		a[bytes++] = (uint8_t)v;
		if (*s != ':' || bytes + 2 > 16) {
			ret = (int)bytes * 8;
			break;
		}
		s++;
		if (zstart < 0 && *s == ':') {
			zstart = (int)bytes;
			s++;
		}
	}
	if (zstart >= 0) {
		unsigned nz = 16 - bytes;

		if (!nz) {
			ret = -1;
		} else {
			memmove(a + zstart + nz, a + zstart, bytes - (unsigned)zstart);
			memset(a + zstart, 0, nz);
			ret = 128;
		}
	}
	*end = s;
	return ret;
}

int ip6_cidr(const char *s, uint8_t a[16], const char **end)
{
	int bits = ip6_prefix(s, a, end);

	if (bits >= 0 && **end == '/')
		return mask_bits(*end + 1, 128, end);
	return bits == 16 ? -1 : bits;
}

int ip6_host_bits(const uint8_t a[16], int bits)
{
	return (ip6_to_u128(a) & ~ip6_mask(bits)) != 0;
}

int ip6_format(const uint8_t a[16], char *buf)
{
	unsigned w[8], best = 0, bstart = 0;
	char *p = buf;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (unsigned i = 0; i < 8; i++) {
		unsigned n = 0;

		while (i + n < 8 && !w[i + n])
			n++;
		if (n > 1 && n > best) {
			best = n;
			bstart = i;
		}
	}
	for (unsigned i = 0; i < 8; i++) {
		if (best && i == bstart) {
			p += sprintf(p, "::");
			i += best - 1;
			continue;
		}
		if (p != buf && p[-1] != ':')
			*p++ = ':';
		p += sprintf(p, "%x", w[i]);
	}
	*p = '\0';
	return (int)(p - buf);
}

u128 ip6_to_u128(const uint8_t a[16])
{
	u128 v = 0;

	for (int i = 0; i < 16; i++)
		v = v << 8 | a[i];
	return v;
}

void ip6_from_u128(u128 v, uint8_t a[16])
{
	for (int i = 15; i >= 0; i--) {
		a[i] = (uint8_t)v;
		v >>= 8;
	}
}

u128 ip6_mask(int bits)
{
	return bits <= 0 ? 0 : bits >= 128 ? ~(u128)0 : ~(~(u128)0 >> bits);
}
