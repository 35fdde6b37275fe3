/*
 * dname.c - domain names: text <-> wire, canonical order, suffix tests.
 *
 * The text syntax follows rbldnsd's dns_ptodn()/dns_dntop() so that names
 * read from rbldnsd data files mean the same here, and "$" in TXT
 * templates expands to the same text.
 *
 * SECURITY: input is names from operator data files (text) and from
 * client queries (wire, decompressed by the packet reader). Every read is
 * bounded by the length given, every write by DNAME_MAXLEN or the caller's
 * buffer size; nothing allocates.
 */
#include "base/dname.h"

static uint8_t lc(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/*
 * Walk the labels of name: store the offset of each length byte in offs
 * (if not NULL, room for DNAME_MAXLABELS) and the offset just past the
 * last label in *end. Returns the number of labels read; *ok is 0 when the
 * walk stopped at a malformed label or at the length limit rather than at
 * len or the zero byte.
 */
static int scan(const uint8_t *name, size_t len, uint8_t *offs, size_t *end,
		int *ok)
{
	size_t i = 0;
	int n = 0;

	*ok = 1;
	while (i < len && name[i]) {
		size_t l = name[i];

		/* the label and a final zero must still fit in 255 bytes */
		if (l > DNAME_MAXLABEL || l >= len - i ||
		    i + l + 2 > DNAME_MAXLEN) {
			*ok = 0;
			break;
		}
		if (offs)
			offs[n] = (uint8_t)i;
		n++;
		i += l + 1;
	}
	if (end)
		*end = i;
	return n;
}

/* Read the digits of a "\ddd" escape whose first digit is c; *sp points
 * after it. Returns the byte value or -1 above 255, as dns_ptodn() does
 * (one to three digits). */
static int escape_digits(unsigned c, const unsigned char **sp)
{
	const unsigned char *s = *sp;
	unsigned v = c - '0';

	if (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned)(*s++ - '0');
		if (*s >= '0' && *s <= '9')
			v = v * 10 + (unsigned)(*s++ - '0');
	}
	*sp = s;
	return v > 255 ? -1 : (int)v;
}

int dname_from_text(const char *text, uint8_t out[DNAME_MAXLEN])
{
	const unsigned char *s = (const unsigned char *)text;
	size_t d = 1, label = 1;        /* out[label - 1]: open label's length */
	unsigned c;

	if (!*s)
		return DNAME_E_EMPTY;
	while ((c = *s++) != 0) {
		if (c == '.') {
			if (d > label) {        /* empty labels are skipped */
				out[label - 1] = (uint8_t)(d - label);
				label = ++d;
			}
			continue;
		}
		if (c == '\\') {
			if (!*s)
				break;          /* trailing backslash: dropped */
			c = *s++;
			if (c >= '0' && c <= '9') {
				int v = escape_digits(c, &s);

				if (v < 0)
					return DNAME_E_ESCAPE;
				c = (unsigned)v;
			}
		}
		if (d - label >= DNAME_MAXLABEL)
			return DNAME_E_LABEL;
		/* room for this byte and the final zero */
		if (d >= DNAME_MAXLEN - 1)
			return DNAME_E_LONG;
		out[d++] = (uint8_t)c;
	}
	out[label - 1] = (uint8_t)(d - label);
	if (d > label)
		out[d++] = 0;
	return (int)d;
}

int dname_from_text_lc(const char *text, uint8_t out[DNAME_MAXLEN])
{
	int n = dname_from_text(text, out);

	if (n > 0)
		dname_lower(out, (size_t)n);
	return n;
}

const char *dname_strerror(int err)
{
	switch (err) {
	case DNAME_E_EMPTY:
		return "empty domain name";
	case DNAME_E_LABEL:
		return "label longer than 63 bytes";
	case DNAME_E_LONG:
		return "domain name longer than 255 bytes";
	case DNAME_E_ESCAPE:
		return "\\ddd escape above 255";
	default:
		return "invalid domain name";
	}
}

/* Append the text of one label byte at out[*o], escaped as dns_dntop()
 * does; returns -1 if it would not leave room for the final NUL. */
static int put_text_byte(char *out, size_t outsz, size_t *o, uint8_t c)
{
	size_t need = 1;

	switch (c) {
	case '"': case '.': case ';': case '\\': case '@': case '$':
		need = 2;
		break;
	default:
		if (c <= 0x20 || c >= 0x7f)
			need = 4;
	}
	if (*o + need >= outsz)
		return -1;
	if (need == 2) {
		out[(*o)++] = '\\';
	} else if (need == 4) {
		out[(*o)++] = '\\';
		out[(*o)++] = (char)('0' + c / 100);
		out[(*o)++] = (char)('0' + c / 10 % 10);
		c = (uint8_t)('0' + c % 10);
	}
	out[(*o)++] = (char)c;
	return 0;
}

int dname_to_text(const uint8_t *name, size_t len, char *out, size_t outsz)
{
	uint8_t offs[DNAME_MAXLABELS];
	size_t o = 0;
	int ok, n = scan(name, len, offs, NULL, &ok);

	if (!ok || outsz < 2)
		return -1;
	if (n == 0) {
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	for (int i = 0; i < n; i++) {
		const uint8_t *l = name + offs[i];

		if (i) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '.';
		}
		for (unsigned j = 1; j <= l[0]; j++)
			if (put_text_byte(out, outsz, &o, l[j]) < 0)
				return -1;
	}
	out[o] = '\0';
	return (int)o;
}

int dname_prepare(uint8_t *name, size_t len, uint8_t offs[DNAME_MAXLABELS + 1])
{
	size_t i = 0;
	int n = 0;

	while (i < len && name[i]) {
		size_t l = name[i];

		if (l > DNAME_MAXLABEL || l >= len - i || n == DNAME_MAXLABELS)
			return -1;
		offs[n++] = (uint8_t)i;
		for (size_t j = i + 1; j <= i + l; j++)
			name[j] = lc(name[j]);
		i += l + 1;
	}
	offs[n] = (uint8_t)i;   /* the root label */
	return i < len ? n : -1;
}

void dname_lower(uint8_t *name, size_t len)
{
	size_t i = 0;

	while (i < len && name[i]) {
		size_t l = name[i];

		if (l > DNAME_MAXLABEL || l >= len - i)
			return;
		for (size_t j = i + 1; j <= i + l; j++)
			name[j] = lc(name[j]);
		i += l + 1;
	}
}

int dname_labels(const uint8_t *name, size_t len)
{
	int ok, n = scan(name, len, NULL, NULL, &ok);

	return ok ? n : -1;
}

int dname_rel_len(const uint8_t *name, size_t len)
{
	size_t end;
	int ok;

	scan(name, len, NULL, &end, &ok);
	return ok ? (int)end : -1;
}

/* Canonical order of two labels (length byte first). */
static int label_cmp(const uint8_t *x, const uint8_t *y)
{
	unsigned n = x[0] < y[0] ? x[0] : y[0];

	for (unsigned k = 1; k <= n; k++) {
		uint8_t cx = lc(x[k]), cy = lc(y[k]);

		if (cx != cy)
			return cx < cy ? -1 : 1;
	}
	return (int)x[0] - (int)y[0];
}

int dname_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint8_t ao[DNAME_MAXLABELS], bo[DNAME_MAXLABELS];
	int ok, na = scan(a, alen, ao, NULL, &ok);
	int nb = scan(b, blen, bo, NULL, &ok);

	for (int i = 1; i <= na && i <= nb; i++) {
		int r = label_cmp(a + ao[na - i], b + bo[nb - i]);

		if (r)
			return r;
	}
	return na - nb;
}

int dname_reverse(const uint8_t *name, size_t len, uint8_t *out)
{
	uint8_t offs[DNAME_MAXLABELS];
	size_t o = 0;
	int ok, n = scan(name, len, offs, NULL, &ok);

	if (!ok)
		return -1;
	for (int i = n - 1; i >= 0; i--) {
		size_t l = (size_t)name[offs[i]] + 1;

		for (size_t k = 0; k < l; k++)
			out[o + k] = name[offs[i] + k];
		o += l;
	}
	return (int)o;
}

int dname_rcmp(const uint8_t *ra, size_t alen, const uint8_t *rb, size_t blen)
{
	size_t i = 0, j = 0;

	for (;;) {
		int ea = i >= alen || !ra[i] || ra[i] >= alen - i ||
			 ra[i] > DNAME_MAXLABEL;
		int eb = j >= blen || !rb[j] || rb[j] >= blen - j ||
			 rb[j] > DNAME_MAXLABEL;
		int r;

		if (ea || eb)
			return ea && eb ? 0 : ea ? -1 : 1;
		r = label_cmp(ra + i, rb + j);
		if (r)
			return r;
		i += (size_t)ra[i] + 1;
		j += (size_t)rb[j] + 1;
	}
}

int dname_is_sub(const uint8_t *name, size_t len, const uint8_t *anc,
		 size_t alen)
{
	uint8_t offs[DNAME_MAXLABELS];
	size_t nend, aend, off;
	int ok, nn = scan(name, len, offs, &nend, &ok);
	int na = scan(anc, alen, NULL, &aend, &ok);

	if (na > nn)
		return 0;
	off = na ? offs[nn - na] : nend;
	if (nend - off != aend)
		return 0;
	for (size_t k = 0; k < aend; k++)
		if (lc(name[off + k]) != lc(anc[k]))
			return 0;
	return 1;
}
