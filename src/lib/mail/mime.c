/*
 * mime.c - MIME walking, transfer decodings, charsets; see mime.h.
 *
 * SECURITY: untrusted input; decoders are bounded by their input length,
 * nesting and part counts by MIME_MAX_DEPTH / MIME_MAX_PARTS.  iconv from
 * glibc converts; its errors are absorbed (U+FFFD), never propagated.
 */
#define _GNU_SOURCE		/* memmem */
#include "mail/mime.h"
#include "base/util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The value of each base64 letter; -1 for the bytes skipped (line
 * breaks, blanks, junk), -2 for the '=' that ends the data. */
static const signed char b64_table[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -2, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

size_t mime_b64_decode(const char *in, size_t len, char *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int v = b64_table[(unsigned char)in[i]];

		if (v == -2)
			break;
		if (v < 0)
			continue;	/* line breaks, blanks, junk */
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	return o;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

size_t mime_qp_decode(const char *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] != '=') {
			/* the run up to the next '=' as it is */
			const char *eq = memchr(in + i, '=', len - i);
			size_t run = eq ? (size_t)(eq - in) - i : len - i;

			memcpy(out + o, in + i, run);
			o += run;
			i += run - 1;
			continue;
		}
		if (i + 1 < len && in[i + 1] == '\n') {		/* soft break */
			i++;
			continue;
		}
		if (i + 2 < len && hexval((unsigned char)in[i + 1]) >= 0 &&
		    hexval((unsigned char)in[i + 2]) >= 0) {
			out[o++] = (char)(hexval((unsigned char)in[i + 1]) << 4 |
					  hexval((unsigned char)in[i + 2]));
			i += 2;
			continue;
		}
		out[o++] = '=';
	}
	return o;
}

/* glibc names for the labels mail uses; NULL: no conversion needed. */
static const char *iconv_name(const char *cs)
{
	static const struct { const char *label, *name; } alias[] = {
		{ "shift_jis", "CP932" }, { "shift-jis", "CP932" },
		{ "sjis", "CP932" }, { "x-sjis", "CP932" },
		{ "windows-31j", "CP932" }, { "cp932", "CP932" },
		{ "iso-2022-jp", "ISO-2022-JP-2" }, { "euc-jp", "EUC-JP-MS" },
		{ "ks_c_5601-1987", "CP949" }, { "gb2312", "GB18030" },
		{ "gbk", "GB18030" }, { "x-unknown", NULL },
		{ "unknown-8bit", NULL },
	};

	if (!cs || !*cs || !strcasecmp(cs, "utf-8") || !strcasecmp(cs, "utf8") ||
	    !strcasecmp(cs, "us-ascii") || !strcasecmp(cs, "ascii"))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(alias); i++)
		if (!strcasecmp(cs, alias[i].label))
			return alias[i].name;
	return cs;
}

/* No byte of 0x80 or more and no ESC (ISO-2022 shifts): 32 bytes, then
 * eight, at a time. */
static int plain_ascii(const char *in, size_t len)
{
	const uint64_t hi = 0x8080808080808080ull, ones = 0x0101010101010101ull,
		       esc = 0x1b1b1b1b1b1b1b1bull;
	size_t i = 0;

	for (; i + 32 <= len; i += 32) {
		uint64_t w[4], acc = 0;

		memcpy(w, in + i, 32);
		for (int k = 0; k < 4; k++) {
			uint64_t x = w[k] ^ esc;	/* a zero byte where w has ESC */

			acc |= w[k] | ((x - ones) & ~x);
		}
		if (acc & hi)
			break;
	}
	for (; i + 8 <= len; i += 8) {
		uint64_t w, x;

		memcpy(&w, in + i, 8);
		x = w ^ esc;
		if ((w | ((x - ones) & ~x)) & hi)
			break;
	}
	for (; i < len; i++)
		if ((unsigned char)in[i] >= 0x80 || in[i] == 0x1b)
			return 0;
	return 1;
}

/* How many bytes at in are ASCII: eight at a time. */
static size_t ascii_run(const char *in, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, in + i, 8);
		if (w & 0x8080808080808080ull)
			break;
	}
	while (i < len && (unsigned char)in[i] < 0x80)
		i++;
	return i;
}

/* Valid UTF-8 copy of in: bad bytes become U+FFFD.  Two passes, runs of
 * ASCII copied whole: the first counts the bad bytes, so that the copy
 * is allocated at its size (not three times the text: fresh pages); when
 * there are none, the second is a plain copy. */
static char *utf8_clean(const char *in, size_t len, size_t *outlen)
{
	size_t bad = 0, o = 0, i, n;
	char *out;

	for (i = 0; i < len; i += n) {
		i += ascii_run(in + i, len - i);
		if (i == len)
			break;
		n = utf8_len((const unsigned char *)in + i, len - i);
		if (!n) {
			bad++;
			n = 1;
		}
	}
	out = xmalloc(len + 2 * bad + 1);
	if (!bad) {
		/* valid already (most text that is not ASCII): one copy */
		memcpy(out, in, len);
		out[len] = '\0';
		*outlen = len;
		return out;
	}
	for (i = 0; i < len; i += n) {
		size_t a = ascii_run(in + i, len - i);

		memcpy(out + o, in + i, a);
		o += a;
		i += a;
		if (i == len)
			break;
		n = utf8_len((const unsigned char *)in + i, len - i);
		if (!n) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(out + o, in + i, n);
			o += n;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* in converted from name to UTF-8 with iconv; bytes that do not convert
 * become U+FFFD and are counted in *bad.  NULL when iconv does not know
 * the name. */
/* iconv_open() loads and sets up a converter each time: each thread
 * keeps the last few it used, reset between texts. */
#define CD_CACHE 4

static __thread struct {
	char name[40];
	iconv_t cd;
} cd_cache[CD_CACHE];
static __thread unsigned cd_next;

/* iconv_open() and iconv_close() load and unload glibc's converter
 * modules (dlopen, dlclose), each under ld.so's own lock, which
 * ThreadSanitizer cannot see: a thread that exits (closing its cache)
 * while another opens a converter was reported as a race in ld.so's
 * memory.  They are serialised here too, where it can see it; the
 * conversions themselves run unlocked. */
static pthread_mutex_t cd_lock = PTHREAD_MUTEX_INITIALIZER;

static iconv_t cd_open(const char *name)
{
	iconv_t cd;

	pthread_mutex_lock(&cd_lock);
	cd = iconv_open("UTF-8", name);
	pthread_mutex_unlock(&cd_lock);
	return cd;
}

static void cd_close(iconv_t cd)
{
	pthread_mutex_lock(&cd_lock);
	iconv_close(cd);
	pthread_mutex_unlock(&cd_lock);
}

static iconv_t cd_get(const char *name)
{
	iconv_t cd;
	unsigned k;

	for (k = 0; k < CD_CACHE; k++)
		if (cd_cache[k].name[0] && !strcmp(cd_cache[k].name, name)) {
			iconv(cd_cache[k].cd, NULL, NULL, NULL, NULL);	/* reset */
			return cd_cache[k].cd;
		}
	cd = cd_open(name);
	if (cd == (iconv_t)-1 || strlen(name) >= sizeof(cd_cache[0].name))
		return cd;	/* not kept: the caller closes it */
	k = cd_next++ % CD_CACHE;
	if (cd_cache[k].name[0])
		cd_close(cd_cache[k].cd);
	str_copy(cd_cache[k].name, sizeof(cd_cache[k].name), name);
	cd_cache[k].cd = cd;
	return cd;
}

static void cd_put(const char *name, iconv_t cd)
{
	for (unsigned k = 0; k < CD_CACHE; k++)
		if (cd_cache[k].name[0] && cd_cache[k].cd == cd && !strcmp(cd_cache[k].name, name))
			return;
	cd_close(cd);
}

void mime_thread_cleanup(void)
{
	for (unsigned k = 0; k < CD_CACHE; k++)
		if (cd_cache[k].name[0]) {
			cd_close(cd_cache[k].cd);
			cd_cache[k].name[0] = '\0';
		}
}

static char *convert(const char *in, size_t len, const char *name, size_t *outlen,
		     size_t *bad)
{
	iconv_t cd = cd_get(name);
	char *out, *ip = (char *)in, *op;
	size_t il = len, ol, cap;

	if (cd == (iconv_t)-1)
		return NULL;
	cap = len * 4 + 16;
	out = xmalloc(cap);
	op = out;
	ol = cap - 1;
	*bad = 0;
	while (il > 0) {
		if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1)
			break;
		if (errno == E2BIG || ol < 3)
			break;		/* cannot happen at 4x; stop safely */
		memcpy(op, "\xef\xbf\xbd", 3);	/* EILSEQ or EINVAL */
		op += 3;
		ol -= 3;
		ip++;
		il--;
		(*bad)++;
	}
	iconv(cd, NULL, NULL, &op, &ol);
	cd_put(name, cd);
	*outlen = (size_t)(op - out);
	out[*outlen] = '\0';
	return out;
}

static int valid_utf8(const char *in, size_t len)
{
	size_t n, bad = 1;
	char *t = convert(in, len, "UTF-8", &n, &bad);
	int ok = t && !bad;

	free(t);
	return ok;
}

/* mime_to_utf8() of text known not to be plain ASCII. */
static char *to_utf8(const char *in, size_t len, const char *charset, size_t *outlen)
{
	/* what mail labelled as Japanese often really is */
	static const char *const japanese[] = { "EUC-JP-MS", "CP932", "ISO-2022-JP-2" };
	const char *name = iconv_name(charset);
	char *out;
	size_t bad = 0;

	if (!name && memchr(in, 0x1b, len))
		name = "ISO-2022-JP-2";	/* unlabelled Japanese mail */
	if (!name || !(out = convert(in, len, name, outlen, &bad)))
		return utf8_clean(in, len, outlen);
	if (!bad)
		return out;
	/* the label lies (EUC-JP bytes under "ISO-2022-JP", UTF-8 under
	 * "iso-8859-1"...): keep the reading with the fewest bad bytes */
	if (valid_utf8(in, len)) {
		free(out);
		return utf8_clean(in, len, outlen);
	}
	if (strstr(name, "JP") || strstr(name, "932") || strstr(name, "JIS")) {
		for (size_t k = 0; k < ARRAY_SIZE(japanese) && bad; k++) {
			size_t n2, bad2;
			char *alt = convert(in, len, japanese[k], &n2, &bad2);

			if (alt && bad2 < bad) {
				free(out);
				out = alt;
				*outlen = n2;
				bad = bad2;
			} else {
				free(alt);
			}
		}
	}
	return out;
}

char *mime_to_utf8(const char *in, size_t len, const char *charset, size_t *outlen)
{
	char *out;

	if (!plain_ascii(in, len))
		return to_utf8(in, len, charset, outlen);
	out = xmalloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	*outlen = len;
	return out;
}

int mime_param(const char *value, const char *name, char *out, size_t outlen,
	       int lower)
{
	size_t nl = strlen(name);
	const char *p = value;

	if (!value || !outlen)
		return -1;
	while ((p = strchr(p, ';')) != NULL) {
		size_t o = 0;

		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nl))
			continue;
		p += nl;
		while (*p == ' ')
			p++;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ')
			p++;
		/* the value is copied a run at a time: the runs end where
		 * strcspn finds the next byte that matters (a boundary is
		 * tens of bytes) */
		if (*p == '"') {
			for (p++; o + 1 < outlen;) {
				size_t run = strcspn(p, "\"\\");

				if (run > outlen - 1 - o)
					run = outlen - 1 - o;
				memcpy(out + o, p, run);
				o += run;
				p += run;
				if (o + 1 >= outlen || *p != '\\')
					break;	/* full, the closing quote or the end */
				if (p[1])	/* a quoted pair: the byte after it */
					p++;
				out[o++] = *p++;
			}
		} else {
			/* up to a ';' or white space (isspace of the C locale) */
			o = strcspn(p, "; \t\n\v\f\r");
			if (o > outlen - 1)
				o = outlen - 1;
			memcpy(out, p, o);
		}
		out[o] = '\0';
		for (size_t i = 0; lower && i < o; i++)
			out[i] = (char)ascii_tolower((unsigned char)out[i]);
		return 0;
	}
	return -1;
}

/* One encoded word at p ("=?cs?E?text?="): its charset into cs and its
 * decoded bytes appended to raw at *rn (raw has room for the word's own
 * length); returns the word's length in the input, or 0 if p is not one. */
static size_t word_bytes(const char *p, const char *end, char cs[40], char *raw,
			 size_t *rn)
{
	const char *q1, *q2, *q3;
	size_t n;

	if (end - p < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	q1 = memchr(p + 2, '?', (size_t)(end - p - 2));
	if (!q1 || q1 + 3 >= end || q1[2] != '?' || (size_t)(q1 - p - 2) >= 40)
		return 0;
	q2 = q1 + 2;
	for (q3 = q2 + 1; q3 + 1 < end && !(q3[0] == '?' && q3[1] == '='); q3++)
		if (*q3 == ' ')
			return 0;
	if (q3 + 1 >= end || (q1[1] != 'B' && q1[1] != 'b' && q1[1] != 'Q' && q1[1] != 'q'))
		return 0;
	memcpy(cs, p + 2, (size_t)(q1 - p - 2));
	cs[q1 - p - 2] = '\0';
	if (strchr(cs, '*'))		/* RFC 2231 language suffix */
		*strchr(cs, '*') = '\0';
	if (q1[1] == 'B' || q1[1] == 'b') {
		n = mime_b64_decode(q2 + 1, (size_t)(q3 - q2 - 1), raw + *rn);
	} else {
		n = mime_qp_decode(q2 + 1, (size_t)(q3 - q2 - 1), raw + *rn);
		for (size_t i = 0; i < n; i++)
			if (raw[*rn + i] == '_')
				raw[*rn + i] = ' ';
	}
	*rn += n;
	return (size_t)(q3 + 2 - p);
}

static char *decode_words(const char *in, size_t len);

/* The bytes gathered in raw (charset cs), converted and appended to out. */
static void flush_words(char *out, size_t *o, const char *cs, const char *raw, size_t *rn)
{
	size_t cl;
	char *conv;

	if (!*rn)
		return;
	conv = mime_to_utf8(raw, *rn, cs, &cl);
	memcpy(out + *o, conv, cl);
	*o += cl;
	free(conv);
	*rn = 0;
}

char *mime_decode_words(const char *in, size_t len)
{
	if (!memmem(in, len, "=?", 2))
		return xstrndup(in, len);	/* no encoded word: as it is */
	return decode_words(in, len);
}

static char *decode_words(const char *in, size_t len)
{
	/* decoded text is at most 4x its encoded size (+ U+FFFD growth) */
	char *out = xmalloc(len * 4 + 16), *raw = xmalloc(len + 4);
	const char *p = in, *end = in + len;
	char cs[40] = "", wcs[40];
	size_t o = 0, rn = 0;

	/* adjacent words of one charset are converted as one text: Japanese
	 * mailers split a multibyte character between two words */
	while (p < end) {
		size_t mark = rn, n = word_bytes(p, end, wcs, raw, &rn);
		const char *q;

		if (n) {
			if (mark && strcasecmp(wcs, cs)) {
				/* a new charset: convert the earlier words alone */
				size_t k = rn - mark;

				rn = mark;
				flush_words(out, &o, cs, raw, &rn);
				memmove(raw, raw + mark, k);
				rn = k;
			}
			str_copy(cs, sizeof(cs), wcs);
			p += n;
			/* blanks between two encoded words vanish */
			for (q = p; q < end && (*q == ' ' || *q == '\t'); q++)
				;
			if (q > p) {
				size_t probe = rn;
				char pcs[40];

				/* a dry run: raw has room, rn stays */
				if (word_bytes(q, end, pcs, raw, &probe))
					p = q;
			}
			continue;
		}
		flush_words(out, &o, cs, raw, &rn);
		out[o++] = *p++;
	}
	flush_words(out, &o, cs, raw, &rn);
	out[o] = '\0';
	free(raw);
	return out;
}

/* Is the part one whose text we convert to UTF-8? */
static int textual(const char *type)
{
	return !strncmp(type, "text/", 5) || !strcmp(type, "message/delivery-status") ||
	       !strcmp(type, "message/feedback-report") || !type[0] ||
	       !strcmp(type, "message/global-delivery-status");
}

/* Is the part one that holds no text: a picture, a sound, a file?  (The
 * first letter picks the one comparison that can match: most parts are
 * text, and were compared six times to learn that.) */
static int media(const char *type)
{
	switch (type[0]) {
	case 'i':
		return !strncmp(type, "image/", 6);
	case 'a':
		return !strncmp(type, "audio/", 6) || !strncmp(type, "application/", 12);
	case 'v':
		return !strncmp(type, "video/", 6);
	case 'f':
		return !strncmp(type, "font/", 5);
	case 'm':
		return !strncmp(type, "model/", 6);
	default:
		return 0;
	}
}

/* Add the body of m (Content-Type value ct, NULL if none) as a leaf part
 * of the given type. */
static void add_leaf(struct mime *mm, size_t *cap, const struct msg *m,
		     const char *ct, const char *type, int depth, int nested)
{
	const char *cte = msg_get(m, "Content-Transfer-Encoding");
	const char *text = m->body;	/* the part's bytes once decoded */
	char cs[40] = "", *raw = NULL;
	size_t n = m->blen;
	struct mime_part *pt;

	if (mm->n >= MIME_MAX_PARTS || m->blen > MIME_MAX_BYTES - mm->bytes) {
		mm->cut = 1;
		return;
	}
	if (mm->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		mm->p = xreallocarray(mm->p, *cap, sizeof(*mm->p));
	}
	pt = &mm->p[mm->n++];
	str_copy(pt->type, sizeof(pt->type), type);
	pt->depth = depth;
	pt->nested = nested;
	if (media(type)) {
		/* a picture or a file: its type is all anyone reads */
		pt->data = xstrdup("");
		pt->len = 0;
		return;
	}
	if (cte && !strncasecmp(cte, "base64", 6)) {
		raw = xmalloc(m->blen + 4);
		n = mime_b64_decode(m->body, m->blen, raw);
	} else if (cte && !strncasecmp(cte, "quoted-printable", 16)) {
		raw = xmalloc(m->blen + 4);
		n = mime_qp_decode(m->body, m->blen, raw);
	}
	if (raw)
		text = raw;
	if (textual(type)) {
		mime_param(ct, "charset", cs, sizeof(cs), 1);
		if (cte && !strncasecmp(cte, "base64", 6)) {
			/* decoded bytes may hold CRs */
			size_t nl;
			char *t = msg_normalize(raw, n, &nl);

			free(raw);
			text = raw = t;
			n = nl;
		}
		/* plain ASCII is what mime_to_utf8() would copy: kept as it is;
		 * other text is converted from where it is, not from a copy */
		if (!plain_ascii(text, n)) {
			pt->data = to_utf8(text, n, cs, &pt->len);
			free(raw);
			goto out;
		}
	}
	if (!raw) {		/* not transfer-encoded: a copy of the body */
		raw = xmalloc(n + 1);
		memcpy(raw, text, n);
	}
	raw[n] = '\0';
	pt->data = raw;
	pt->len = n;
out:
	/* UTF-8 conversion can grow a part past its raw size */
	mm->bytes = pt->len < MIME_MAX_BYTES - mm->bytes ? mm->bytes + pt->len :
		    MIME_MAX_BYTES;
}

/* Next line that is "--boundary" or "--boundary--" at or after p (a
 * line start); sets *last for the closing one.  nb is "\n--boundary"
 * (nbl bytes): past p, a boundary line is found by one search for it.
 * Returns its start or NULL. */
static const char *find_boundary(const char *p, const char *end, const char *nb,
				 size_t nbl, int *last)
{
	const char *q;

	if (!((size_t)(end - p) >= nbl - 1 && !memcmp(p, nb + 1, nbl - 1))) {
		p = memmem(p, (size_t)(end - p), nb, nbl);
		if (!p)
			return NULL;
		p++;
	}
	q = p + nbl - 1;
	*last = end - q >= 2 && q[0] == '-' && q[1] == '-';
	return p;
}

static void walk(struct mime *mm, size_t *cap, const struct msg *m, int depth,
		 int nested)
{
	const char *ct = msg_get(m, "Content-Type");
	char type[64] = "", b[203];	/* "\n--" and the boundary */
	const char *p, *end = m->body + m->blen, *first;
	size_t bl;
	int last = 0, multi;

	if (ct) {
		size_t i;

		for (i = 0; i + 1 < sizeof(type); i++) {
			unsigned char c = (unsigned char)ct[i];

			if (!c || c == ';' || ascii_isspace(c))
				break;
			type[i] = (char)ascii_tolower(c);
		}
		type[i] = '\0';
	}
	multi = !strncmp(type, "multipart/", 10);
	memcpy(b, "\n--", 3);
	if (!multi ||
	    mime_param(ct, "boundary", b + 3, sizeof(b) - 3, 0) ||
	    (bl = 3 + strlen(b + 3)) == 3 ||
	    !(first = find_boundary(m->body, end, b, bl, &last))) {
		size_t before = mm->n;

		add_leaf(mm, cap, m, ct, multi ? "text/plain" : type, depth, nested);
		/* an attached message is a leaf and, one level down, its parts:
		 * a forwarded bounce carries its report inside */
		if (!strcmp(type, "message/rfc822") && depth < MIME_MAX_DEPTH &&
		    mm->n > before && mm->n < MIME_MAX_PARTS) {
			struct msg inner;

			/* the part records move as parts are added, the leaf's
			 * data does not (the mime owns it until mime_free) */
			msg_parse(&inner, mm->p[mm->n - 1].data, mm->p[mm->n - 1].len);
			if (inner.nf)
				walk(mm, cap, &inner, depth + 1, 1);
			msg_free(&inner);
		}
		return;
	}
	if (depth >= MIME_MAX_DEPTH) {
		mm->cut = 1;
		return;
	}
	p = first;
	while (!last && p < end) {
		const char *start = memchr(p, '\n', (size_t)(end - p)), *next;
		struct msg sub;
		size_t plen;

		if (!start)
			break;
		start++;
		next = find_boundary(start, end, b, bl, &last);	/* b: "\n--..." */
		plen = (size_t)((next ? next : end) - start);
		if (plen && start[plen - 1] == '\n')
			plen--;		/* the line break belongs to the boundary */
		msg_parse(&sub, start, plen);
		walk(mm, cap, &sub, depth + 1, nested);
		msg_free(&sub);
		if (!next || mm->n >= MIME_MAX_PARTS)
			break;
		p = next;
	}
}

int mime_walk(struct mime *mm, const struct msg *m)
{
	size_t cap = 0;

	memset(mm, 0, sizeof(*mm));
	walk(mm, &cap, m, 0, 0);
	return 0;
}

void mime_free(struct mime *mm)
{
	for (size_t i = 0; i < mm->n; i++)
		free(mm->p[i].data);
	free(mm->p);
	memset(mm, 0, sizeof(*mm));
}
