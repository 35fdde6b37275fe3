/*
 * domset.c - exact-then-HyperLogLog sets of distinct names (see domset.h).
 *
 * SECURITY: see domset.h. ds_parse reads the daemon's own state file and
 * checks every byte and the length before it writes.
 */
#include "policy/domset.h"

#include <stdio.h>
#include <string.h>

#define DS_LN2 0.69314718055994530942

uint32_t ds_hash(uint32_t seed, const char *name, size_t len)
{
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		h ^= c >= 'A' && c <= 'Z' ? c + 32u : c;
		h *= 16777619u;
	}
	/* FNV's high bits are weak for short names; the registers use them */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* Register index: the top 7 bits; rank: 1 + leading zeros of the rest. */
static void reg_add(struct domset *s, uint32_t h)
{
	uint32_t w = h << 7;
	uint8_t rank = w ? (uint8_t)(__builtin_clz(w) + 1) : 26;

	if (rank > s->u.reg[h >> 25])
		s->u.reg[h >> 25] = rank;
}

void ds_add(struct domset *s, uint32_t h)
{
	uint32_t old[DS_SPARSE];

	if (s->n == DS_DENSE) {
		reg_add(s, h);
		return;
	}
	for (unsigned i = 0; i < s->n; i++)
		if (s->u.h[i] == h)
			return;
	if (s->n < DS_SPARSE) {
		s->u.h[s->n++] = h;
		return;
	}
	memcpy(old, s->u.h, sizeof(old));
	memset(&s->u, 0, sizeof(s->u));
	s->n = DS_DENSE;
	for (unsigned i = 0; i < DS_SPARSE; i++)
		reg_add(s, old[i]);
	reg_add(s, h);
}

/* ln(x) for x >= 1 without libm: x = m * 2^k with m in [1, 2), then
 * ln(m) = 2 atanh((m - 1) / (m + 1)) by its series. */
static double ds_ln(double x)
{
	double y, y2, t, sum = 0;
	int k = 0;

	while (x >= 2) {
		x /= 2;
		k++;
	}
	y = (x - 1) / (x + 1);
	y2 = y * y;
	t = y;
	for (int i = 1; i < 40; i += 2) {
		sum += t / i;
		t *= y2;
	}
	return 2 * sum + k * DS_LN2;
}

uint32_t ds_count(const struct domset *s)
{
	const double m = DS_REGS, alpha = 0.7213 / (1 + 1.079 / DS_REGS);
	double sum = 0, e;
	unsigned zeros = 0;

	if (s->n != DS_DENSE)
		return s->n;
	for (unsigned i = 0; i < DS_REGS; i++) {
		sum += 1.0 / (double)(1u << s->u.reg[i]);
		zeros += s->u.reg[i] == 0;
	}
	e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros)	/* small range: linear counting */
		e = m * ds_ln(m / zeros);
	/* never below what the exact part had counted */
	return e < DS_SPARSE + 1 ? DS_SPARSE + 1 : (uint32_t)(e + 0.5);
}

void ds_clear(struct domset *s)
{
	memset(s, 0, sizeof(*s));
}

void ds_text(const struct domset *s, char *buf)
{
	size_t off = 1;

	if (s->n == 0) {
		strcpy(buf, "-");
		return;
	}
	buf[0] = s->n == DS_DENSE ? 'd' : 's';
	if (s->n == DS_DENSE)
		for (unsigned i = 0; i < DS_REGS; i++, off += 2)
			snprintf(buf + off, 3, "%02x", s->u.reg[i]);
	else
		for (unsigned i = 0; i < s->n; i++, off += 8)
			snprintf(buf + off, 9, "%08x", s->u.h[i]);
	buf[off] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ds_parse(struct domset *s, const char *text, size_t len)
{
	struct domset v;

	memset(&v, 0, sizeof(v));
	if (len == 1 && text[0] == '-') {
		*s = v;
		return 0;
	}
	if (len < 1)
		return -1;
	for (size_t i = 1; i < len; i++)
		if (hexval(text[i]) < 0)
			return -1;
	if (text[0] == 'd' && len == 1 + 2 * DS_REGS) {
		v.n = DS_DENSE;
		for (unsigned i = 0; i < DS_REGS; i++) {
			int r = hexval(text[1 + 2 * i]) * 16 + hexval(text[2 + 2 * i]);

			if (r > 26)
				return -1;
			v.u.reg[i] = (uint8_t)r;
		}
	} else if (text[0] == 's' && len > 1 && (len - 1) % 8 == 0 &&
		   (len - 1) / 8 <= DS_SPARSE) {
		v.n = (uint8_t)((len - 1) / 8);
		for (unsigned i = 0; i < v.n; i++) {
			uint32_t h = 0;

			for (unsigned j = 0; j < 8; j++)
				h = h << 4 | (uint32_t)hexval(text[1 + 8 * i + j]);
			v.u.h[i] = h;
		}
	} else {
		return -1;
	}
	*s = v;
	return 0;
}
