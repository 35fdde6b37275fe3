/*
 * parse.c - query strings, forms, cookies, flat JSON objects and
 * Accept-Language (web/parse.h).
 *
 * SECURITY: network input, unauthenticated. Every read checks the bytes
 * left; output goes into the caller's buffer, whose size web_kv_bufsize
 * gives: decoding never makes a field longer than it was written, and
 * each field gets one NUL, for which its separator or quotes made room.
 */
#include "web/parse.h"
#include "base/util.h"

#include <string.h>

size_t web_kv_bufsize(size_t len)
{
	return len + 2 * WEB_KV_MAX + 2;
}

void web_kv_init(struct web_kv *kv, char *buf, size_t size)
{
	kv->n = 0;
	kv->buf = buf;
	kv->used = 0;
	kv->size = size;
}

const char *web_kv_get(const struct web_kv *kv, const char *key)
{
	for (unsigned i = 0; i < kv->n; i++)
		if (!strcmp(kv->f[i].k, key))
			return kv->f[i].v;
	return NULL;
}

/* Is s[0..n) valid UTF-8 without NUL? */
static int text_ok(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t l = utf8_len((const unsigned char *)s + i, n - i);

		if (l == 0 || s[i] == 0)
			return 0;
		i += l;
	}
	return 1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %-decode s[0..n) (plus: '+' is a space) to the end of kv->buf, NUL
 * terminated; the start, or NULL. */
static const char *pct_decode(struct web_kv *kv, const char *s, size_t n, int plus)
{
	char *out = kv->buf + kv->used, *start = out;
	size_t i;

	if (kv->size - kv->used < n + 1)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h, l;

			if (n - i < 3 || (h = hexval((unsigned char)s[i + 1])) < 0 ||
			    (l = hexval((unsigned char)s[i + 2])) < 0)
				return NULL;
			*out++ = (char)(h * 16 + l);
			i += 2;
		} else if (plus && s[i] == '+') {
			*out++ = ' ';
		} else {
			*out++ = s[i];
		}
	}
	if (!text_ok(start, (size_t)(out - start)))
		return NULL;
	*out++ = 0;
	kv->used += (size_t)(out - start);
	return start;
}

static int add(struct web_kv *kv, const char *k, const char *v)
{
	if (!k || !v || kv->n >= WEB_KV_MAX)
		return -1;
	kv->f[kv->n].k = k;
	kv->f[kv->n].v = v;
	kv->n++;
	return 0;
}

int web_form_parse(struct web_kv *kv, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t e = i, eq;
		const char *k, *v;

		while (e < len && s[e] != '&')
			e++;
		if (e == i) {           /* "a=1&&b=2": an empty field is nothing */
			i++;
			continue;
		}
		for (eq = i; eq < e && s[eq] != '='; eq++)
			;
		k = pct_decode(kv, s + i, eq - i, 1);
		v = eq < e ? pct_decode(kv, s + eq + 1, e - eq - 1, 1) : pct_decode(kv, "", 0, 1);
		if (add(kv, k, v))
			return -1;
		i = e + 1;
	}
	return 0;
}

/* Copy s[0..n) as it is (checked) to the end of kv->buf. */
static const char *copy_text(struct web_kv *kv, const char *s, size_t n)
{
	char *out = kv->buf + kv->used;

	if (kv->size - kv->used < n + 1 || !text_ok(s, n))
		return NULL;
	memcpy(out, s, n);
	out[n] = 0;
	kv->used += n + 1;
	return out;
}

int web_cookie_parse(struct web_kv *kv, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t e = i, eq, ks, ke, vs, ve;

		while (e < len && s[e] != ';')
			e++;
		for (ks = i; ks < e && (s[ks] == ' ' || s[ks] == '\t'); ks++)
			;
		for (eq = ks; eq < e && s[eq] != '='; eq++)
			;
		if (eq == e) {          /* no '=': not a cookie; skip it */
			i = e + 1;
			continue;
		}
		for (ke = eq; ke > ks && (s[ke - 1] == ' ' || s[ke - 1] == '\t'); ke--)
			;
		for (vs = eq + 1; vs < e && (s[vs] == ' ' || s[vs] == '\t'); vs++)
			;
		for (ve = e; ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'); ve--)
			;
		if (ve - vs >= 2 && s[vs] == '"' && s[ve - 1] == '"') {
			vs++;
			ve--;
		}
		if (add(kv, copy_text(kv, s + ks, ke - ks), copy_text(kv, s + vs, ve - vs)))
			return -1;
		i = e + 1;
	}
	return 0;
}

/* ---- JSON ---- */

struct jr {
	const char *s;
	size_t n, i;
};

static void ws(struct jr *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' ||
			       j->s[j->i] == '\r'))
		j->i++;
}

static int hex4(struct jr *j, unsigned *u)
{
	*u = 0;
	if (j->n - j->i < 4)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexval((unsigned char)j->s[j->i++]);

		if (h < 0)
			return -1;
		*u = *u * 16 + (unsigned)h;
	}
	return 0;
}

static size_t put_utf8(char *o, unsigned u)
{
	if (u < 0x80) {
		o[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		o[0] = (char)(0xc0 | (u >> 6));
		o[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		o[0] = (char)(0xe0 | (u >> 12));
		o[1] = (char)(0x80 | ((u >> 6) & 0x3f));
		o[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (u >> 18));
	o[1] = (char)(0x80 | ((u >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((u >> 6) & 0x3f));
	o[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

/* A JSON string at j (at its opening quote) into kv->buf. An escape is
 * never shorter than what it decodes to, and the two quotes pay for the
 * NUL. */
static const char *jstring(struct jr *j, struct web_kv *kv)
{
	char *start = kv->buf + kv->used, *o = start, *end = kv->buf + kv->size;

	if (j->i >= j->n || j->s[j->i] != '"')
		return NULL;
	j->i++;
	for (;;) {
		unsigned char c;

		if (j->i >= j->n || end - o < 5)
			return NULL;
		c = (unsigned char)j->s[j->i++];
		if (c == '"')
			break;
		if (c < 0x20)
			return NULL;
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (j->i >= j->n)
			return NULL;
		c = (unsigned char)j->s[j->i++];
		switch (c) {
		case '"': case '\\': case '/': *o++ = (char)c; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned u, lo;

			if (hex4(j, &u))
				return NULL;
			if (u >= 0xdc00 && u <= 0xdfff)
				return NULL;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->n - j->i < 6 || j->s[j->i] != '\\' || j->s[j->i + 1] != 'u')
					return NULL;
				j->i += 2;
				if (hex4(j, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return NULL;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (u == 0)
				return NULL;
			o += put_utf8(o, u);
			break;
		}
		default:
			return NULL;
		}
	}
	if (!text_ok(start, (size_t)(o - start)))
		return NULL;
	*o++ = 0;
	kv->used = (size_t)(o - kv->buf);
	return start;
}

/* A number, true, false or null, copied as written. */
static const char *jscalar(struct jr *j, struct web_kv *kv)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t st = j->i;

	for (size_t w = 0; w < 3; w++) {
		size_t l = strlen(words[w]);

		if (j->n - j->i >= l && !memcmp(j->s + j->i, words[w], l)) {
			j->i += l;
			return copy_text(kv, words[w], l);
		}
	}
	if (j->i < j->n && j->s[j->i] == '-')
		j->i++;
	if (j->i >= j->n || j->s[j->i] < '0' || j->s[j->i] > '9')
		return NULL;
	while (j->i < j->n && ((j->s[j->i] >= '0' && j->s[j->i] <= '9') || j->s[j->i] == '.' ||
			       j->s[j->i] == 'e' || j->s[j->i] == 'E' || j->s[j->i] == '+' ||
			       j->s[j->i] == '-'))
		j->i++;
	if (j->i - st > 32)
		return NULL;
	return copy_text(kv, j->s + st, j->i - st);
}

int web_json_parse(struct web_kv *kv, const char *s, size_t len)
{
	struct jr j = { s, len, 0 };

	ws(&j);
	if (j.i >= j.n || s[j.i++] != '{')
		return -1;
	ws(&j);
	if (j.i < j.n && s[j.i] == '}') {
		j.i++;
		goto end;
	}
	for (;;) {
		const char *k, *v;

		ws(&j);
		if (!(k = jstring(&j, kv)) || web_kv_get(kv, k))
			return -1;
		ws(&j);
		if (j.i >= j.n || s[j.i++] != ':')
			return -1;
		ws(&j);
		v = j.i < j.n && s[j.i] == '"' ? jstring(&j, kv) : jscalar(&j, kv);
		if (add(kv, k, v))
			return -1;
		ws(&j);
		if (j.i >= j.n)
			return -1;
		if (s[j.i] == '}') {
			j.i++;
			break;
		}
		if (s[j.i++] != ',')
			return -1;
	}
end:
	ws(&j);
	return j.i == j.n ? 0 : -1;
}

/* ---- Accept-Language ---- */

int web_accept_language(const char *h, const char *const *langs, int n)
{
	int best = -1, bestq = 0;
	size_t i = 0, len;

	if (!h)
		return -1;
	len = strnlen(h, 4096);
	while (i < len) {
		size_t e = i, ts, te;
		int q = 1000;

		while (e < len && h[e] != ',')
			e++;
		for (ts = i; ts < e && h[ts] == ' '; ts++)
			;
		for (te = ts; te < e && h[te] != ';' && h[te] != ' '; te++)
			;
		for (size_t p = te; p + 2 < e; p++)
			if (h[p] == 'q' && h[p + 1] == '=') {
				/* q=0, q=0.5, q=1: per mille, three digits after the point */
				size_t k = p + 2;
				int scale = 100;

				q = 0;
				if (k < e && (h[k] == '0' || h[k] == '1'))
					q = (h[k++] - '0') * 1000;
				if (k < e && h[k] == '.')
					for (k++; k < e && h[k] >= '0' && h[k] <= '9' && scale; k++) {
						q += (h[k] - '0') * scale;
						scale /= 10;
					}
				if (q > 1000)
					q = 1000;
				break;
			}
		for (int l = 0; l < n; l++) {
			size_t ll = strlen(langs[l]);

			if (te - ts >= ll && !strncasecmp(h + ts, langs[l], ll) &&
			    (te - ts == ll || h[ts + ll] == '-') && q > bestq) {
				best = l;
				bestq = q;
			}
		}
		i = e + 1;
	}
	return best;
}
