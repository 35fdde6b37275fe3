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

/* Bytes that are copied as they are, one for one: printable ASCII but
 * the two that JSON escapes. */
static int json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

#define BYTES8(c) ((uint64_t)(c) * 0x0101010101010101u)

/* Does the word hold a byte that is not json_plain()?  Eight bytes are
 * looked at with a few operations on one 64-bit integer rather than one
 * by one, which is most of the time of a report.  Subtracting v from
 * every byte sets the high bit of each byte below v; a byte of 0x80 or
 * more has that bit already; and a byte equal to c is the one that w ^ c
 * turns to 0, below 1.  A borrow from one byte into the next only
 * happens once a byte has answered yes, so the answer is exact. */
static int json_word_special(uint64_t w)
{
	uint64_t t = w | (w - BYTES8(0x20)) | ((w ^ BYTES8(0x7f)) - BYTES8(1)) |
		     ((w ^ BYTES8('"')) - BYTES8(1)) | ((w ^ BYTES8('\\')) - BYTES8(1));

	return (t & BYTES8(0x80)) != 0;
}

/* One byte at s[i] (or the UTF-8 sequence it begins) into out + *o;
 * returns the input bytes used. */
static size_t json_escape1(char *out, size_t *o, const unsigned char *s, size_t i, size_t n,
			   unsigned flags)
{
	unsigned char c = s[i];
	size_t l;

	if (json_plain(c)) {
		out[(*o)++] = (char)c;
		return 1;
	}
	if (c == '"' || c == '\\') {
		out[(*o)++] = '\\';
		out[(*o)++] = (char)c;
		return 1;
	}
	if (c < 0x80) {
		*o += json_ctrl(out + *o, c, flags);
		return 1;
	}
	l = utf8_len(s + i, n - i);
	if (!l) {
		memcpy(out + *o, "\\ufffd", 6);	/* json.h: the rule */
		*o += 6;
		return 1;
	}
	memcpy(out + *o, s + i, l);
	*o += l;
	return l;
}

size_t json_escape(char *out, const char *str, size_t n, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, o = 0;
	uint64_t w;

	out[o++] = '"';
	while (i < n) {
		/* Most text is plain ASCII: whole words of it are copied as
		 * they are (out has room: 6 bytes for each byte of input). */
		while (n - i >= 8) {
			memcpy(&w, s + i, 8);
			if (json_word_special(w))
				break;
			memcpy(out + o, &w, 8);
			i += 8;
			o += 8;
		}
		if (i == n)
			break;
		/* Fewer than 8 bytes left: the last 8 bytes of the string
		 * taken as one word, if they are all plain.  Those of them
		 * already written were plain too, so they were copied one
		 * for one, and are written again the same. */
		if (n - i < 8 && n >= 8) {
			memcpy(&w, s + n - 8, 8);
			if (!json_word_special(w)) {
				memcpy(out + o - (i - (n - 8)), &w, 8);
				o += n - i;
				break;
			}
		}
		/* the word with something to escape, byte by byte (a UTF-8
		 * sequence may end beyond it) */
		for (size_t end = n - i > 8 ? i + 8 : n; i < end;)
			i += json_escape1(out, &o, s, i, n, flags);
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
