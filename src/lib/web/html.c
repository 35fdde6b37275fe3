/*
 * html.c - the response writer (web/html.h): HTML and JSON escaping,
 * masking of mail addresses in evidence.
 *
 * SECURITY: every text is untrusted; output is bounded by WEB_BODY_MAX.
 */
#include "web/html.h"
#include "base/json.h"
#include "base/util.h"
#include "list/list.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void web_buf_free(struct web_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void web_buf_raw_(struct web_buf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (n > WEB_BODY_MAX - b->len) {
		b->err = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->err = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void web_text(struct web_buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n, i = 0, run = 0;

	if (!s)
		return;
	n = strlen(s);
	while (i < n) {
		const char *rep = NULL;
		size_t l = utf8_len(u + i, n - i);

		if (l == 0)
			rep = "\xef\xbf\xbd";
		else if (u[i] == '&')
			rep = "&amp;";
		else if (u[i] == '<')
			rep = "&lt;";
		else if (u[i] == '>')
			rep = "&gt;";
		else if (u[i] == '"')
			rep = "&quot;";
		else if (u[i] == '\'')
			rep = "&#39;";
		else if ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\n') || u[i] == 0x7f)
			rep = "";
		if (!rep) {
			i += l;
			continue;
		}
		web_buf_raw_(b, s + run, i - run);
		web_buf_raw_(b, rep, strlen(rep));
		i += l ? l : 1;
		run = i;
	}
	web_buf_raw_(b, s + run, n - run);
}

void web_textf(struct web_buf *b, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	web_text(b, tmp);
}

void web_text_sub(struct web_buf *b, const char *msg, const char *a1, const char *a2)
{
	const char *args[2] = { a1, a2 };
	unsigned used = 0;
	char part[1024];
	size_t n = 0;

	for (const char *p = msg; *p; p++) {
		if (p[0] == '%' && (p[1] == 's' || p[1] == 'u') && n < sizeof(part)) {
			part[n] = 0;
			web_text(b, part);
			n = 0;
			web_text(b, used < 2 && args[used] ? args[used] : "");
			used++;
			p++;
			continue;
		}
		if (n + 1 < sizeof(part))
			part[n++] = *p;
	}
	part[n] = 0;
	web_text(b, part);
}

void web_json(struct web_buf *b, const char *s)
{
	size_t n, max;
	char *tmp;

	if (!s) {
		H_LIT(b, "null");
		return;
	}
	n = strlen(s);
	if (!(max = json_escaped_max(n)) || !(tmp = malloc(max))) {
		b->err = 1;
		return;
	}
	n = json_escape(tmp, s, n, JSON_SHORT);
	/* "</script>" cannot end anything in a JSON response, but keep '<'
	 * out anyway: a browser sniffing the body finds no markup */
	for (size_t i = 0; i < n; i++) {
		if (tmp[i] == '<')
			web_buf_raw_(b, "\\u003c", 6);
		else
			web_buf_raw_(b, tmp + i, 1);
	}
	free(tmp);
}

void web_jsonint(struct web_buf *b, long long v)
{
	char t[32];
	int n = snprintf(t, sizeof(t), "%lld", v);

	web_buf_raw_(b, t, (size_t)n);
}

static int addr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == '+' || c == '=' || c == '%' || c >= 0x80;
}

void web_mask_text(const char *s, char *out, size_t size)
{
	size_t n = strlen(s), o = 0, i = 0;

	if (!size)
		return;
	while (i < n && o + 1 < size) {
		if (s[i] == '@') {
			size_t a = o, e = i + 1;
			char word[320], masked[320];

			/* the local part already copied: back up over it */
			while (a > 0 && addr_char((unsigned char)out[a - 1]))
				a--;
			while (e < n && addr_char((unsigned char)s[e]))
				e++;
			if (a < o && e > i + 1 && (o - a) + (e - i) < sizeof(word)) {
				memcpy(word, out + a, o - a);
				memcpy(word + (o - a), s + i, e - i);
				word[(o - a) + (e - i)] = 0;
				list_mask_addr(word, masked, sizeof(masked));
				o = a;
				for (size_t k = 0; masked[k] && o + 1 < size; k++)
					out[o++] = masked[k];
				i = e;
				continue;
			}
		}
		out[o++] = s[i++];
	}
	out[o] = 0;
}

void web_text_masked(struct web_buf *b, const char *s)
{
	size_t n = strlen(s) * 2 + 64;
	char *tmp = malloc(n);

	if (!tmp) {
		b->err = 1;
		return;
	}
	web_mask_text(s, tmp, n);
	web_text(b, tmp);
	free(tmp);
}
