/*
 * json.c - JSON string output (see json.h for the rule on bytes that are
 * not UTF-8).
 *
 * SECURITY: input is arbitrary bytes; every byte is either copied as part
 * of a valid UTF-8 sequence or escaped.
 */
#include "base/json.h"
#include "base/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t json_escaped_max(size_t n)
{
	if (n > (SIZE_MAX - 2) / 6)
		return 0;
	return n * 6 + 2;
}

/* One byte below 0x20, or DEL, escaped into o; returns the bytes. */
static size_t json_ctrl(char *o, unsigned char c, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	if (flags & JSON_SHORT) {
		char e = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : 0;
		if (e) {
			o[0] = '\\';
			o[1] = e;
			return 2;
		}
	}
	memcpy(o, "\\u00", 4);
	o[4] = hex[c >> 4];
	o[5] = hex[c & 15];
	return 6;
}

size_t json_escape(char *out, const char *str, size_t n, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t o = 0;
	out[o++] = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x7f) {
			/* printable ASCII: a run of it copied at once */
			size_t j = i;
			while (j < n && s[j] >= 0x20 && s[j] < 0x7f && s[j] != '"' && s[j] != '\\')
				j++;
			if (j > i) {
				memcpy(out + o, s + i, j - i);
				o += j - i;
				i = j;
				continue;
			}
			out[o++] = '\\';
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			o += json_ctrl(out + o, c, flags);
			i++;
			continue;
		}
		size_t l = utf8_len(s + i, n - i);
		if (l) {
			memcpy(out + o, s + i, l);
			o += l;
			i += l;
		} else {
			memcpy(out + o, "\\ufffd", 6);	/* json.h: the rule */
			o += 6;
			i++;
		}
	}
	out[o++] = '"';
	return o;
}

void json_strn(FILE *f, const char *s, size_t n)
{
	char stack[4096], *buf = stack;
	size_t max = json_escaped_max(n);
	if (!max)
		panic("json_strn: %zu bytes", n);
	if (max > sizeof(stack))
		buf = xmalloc(max);
	fwrite(buf, 1, json_escape(buf, s, n, JSON_SHORT), f);
	if (buf != stack)
		free(buf);
}

void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	json_strn(f, s, strlen(s));
}
