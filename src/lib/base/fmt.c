/*
 * fmt.c - snprintf() and fprintf() for the few conversions of the
 * reports; see fmt.h.
 *
 * SECURITY: formats are the program's own, never input; the strings they
 * fill in may be, and are copied within the buffer's length.
 */
#include "base/fmt.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* n bytes of s at buf + *o, as far as there is room for them and a NUL
 * (len bytes in all); *o counts them all, as snprintf() counts. */
static void fmt_put(char *buf, size_t len, size_t *o, const char *s, size_t n)
{
	if (*o + 1 < len)
		memcpy(buf + *o, s, n < len - 1 - *o ? n : len - 1 - *o);
	*o += n;
}

/* v in decimal, ending at end; returns where it starts. */
static char *fmt_num(char *end, unsigned long long v)
{
	do
		*--end = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return end;
}

/* d, finite and 0 <= d < 2^53, in tenths, rounded as printf's "%.1f"
 * rounds: to the nearest, a tie to the even one.  Exact: d is m * 2^e
 * (integers), so 10 * d is m * 10 / 2^-e, and what is left below the
 * point is compared with a half in integers. */
static unsigned long long fmt_tenths(double d)
{
	uint64_t bits, m, x, rest, half;
	int e;

	memcpy(&bits, &d, sizeof(bits));
	e = (int)(bits >> 52 & 0x7ff);
	m = bits & (((uint64_t)1 << 52) - 1);
	if (e)
		m |= (uint64_t)1 << 52;
	else
		e = 1;		/* subnormal */
	e -= 1075;		/* d = m * 2^e */
	if (e >= 0)
		return (m << e) * 10;
	if (e < -60)
		return 0;	/* below 2^-8: rounds to 0.0 */
	x = m * 10;		/* below 2^57 */
	rest = x & (((uint64_t)1 << -e) - 1);
	half = (uint64_t)1 << (-e - 1);
	x >>= -e;
	return x + (rest > half || (rest == half && (x & 1)));
}

/* The conversion at p (just after a '%') as text: *s, *n (digits go
 * into num[40]).  Returns the bytes of p it takes, 0 for one that
 * fmt_simple() does not know. */
static size_t fmt_conv(const char *p, va_list *ap, char num[40], const char **s, size_t *n)
{
	const char *q = p;
	char *end = num + 40, *d;
	unsigned long long v;
	int zero = 0, width = 0, k;

	if (*q == '0') {
		zero = 1;
		q++;
	}
	while (*q >= '0' && *q <= '9' && width < 100)
		width = width * 10 + (*q++ - '0');
	if (q[0] == 's' && !zero) {
		*s = va_arg(*ap, const char *);
		if (!*s)
			*s = "(null)";	/* as glibc has it */
		*n = strlen(*s);
		if ((size_t)width > *n) {	/* blanks first: rare, in num */
			if (width > 40)
				return 0;
			memset(num, ' ', (size_t)width - *n);
			memcpy(num + width - *n, *s, *n);
			*s = num;
			*n = (size_t)width;
		}
		return (size_t)(q + 1 - p);
	}
	if (q[0] == 'd' && !zero) {
		int i = va_arg(*ap, int);

		d = fmt_num(end, i < 0 ? -(unsigned long long)i : (unsigned long long)i);
		if (i < 0)
			*--d = '-';
		q += 1;
	} else if (q[0] == '.' && q[1] == '1' && q[2] == 'f') {
		double f = va_arg(*ap, double);

		if (!(f >= 0 && f < 9007199254740992.0) || signbit(f))
			return 0;	/* not needed: printf's */
		v = fmt_tenths(f);
		*--end = (char)('0' + v % 10);
		*--end = '.';
		d = fmt_num(end, v / 10);
		q += 3;
	} else {
		if (q[0] == 'u') {
			v = va_arg(*ap, unsigned);
			q += 1;
		} else if (q[0] == 'z' && q[1] == 'u') {
			v = va_arg(*ap, size_t);
			q += 2;
		} else if (q[0] == 'l' && q[1] == 'l' && q[2] == 'u') {
			v = va_arg(*ap, unsigned long long);
			q += 3;
		} else {
			return 0;
		}
		d = fmt_num(end, v);
	}
	if (zero && *d == '-')
		return 0;	/* not needed: zeros after the sign */
	for (k = (int)(num + 40 - d); k < width && d > num; k++)
		*--d = zero ? '0' : ' ';
	if (k < width)
		return 0;
	*s = d;
	*n = (size_t)(num + 40 - d);
	return (size_t)(q - p);
}

/* vsnprintf() for the conversions fmt.h names: the same bytes and
 * return value; -1 for any other conversion (the caller then asks
 * vsnprintf() itself). */
static int fmt_simple(char *buf, size_t len, const char *fmt, va_list ap)
{
	size_t o = 0, n, used;
	const char *p = fmt, *pct, *s;
	char num[40];
	va_list cp;

	va_copy(cp, ap);
	for (;;) {
		for (pct = p; *pct && *pct != '%'; pct++)
			;
		fmt_put(buf, len, &o, p, (size_t)(pct - p));
		if (!*pct)
			break;
		if (!(used = fmt_conv(pct + 1, &cp, num, &s, &n))) {
			va_end(cp);
			return -1;
		}
		fmt_put(buf, len, &o, s, n);
		p = pct + 1 + used;
	}
	va_end(cp);
	if (len)
		buf[o < len ? o : len - 1] = '\0';
	return o > INT_MAX ? -1 : (int)o;
}

int fmt_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	int n = fmt_simple(buf, len, fmt, ap);

	/* (ap is as it was: fmt_simple() reads a copy) */
	return n >= 0 ? n : vsnprintf(buf, len, fmt, ap);
}

int fmt_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

/* Through a buffer; a line too long for it, or a format fmt_simple()
 * does not know, goes to vfprintf() itself. */
void fmt_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = fmt_simple(buf, sizeof(buf), fmt, ap);

	if (n >= 0 && (size_t)n < sizeof(buf))
		fwrite(buf, 1, (size_t)n, f);
	else
		vfprintf(f, fmt, ap);
}

void fmt_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vfprintf(f, fmt, ap);
	va_end(ap);
}
