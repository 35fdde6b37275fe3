/*
 * json.c - JSON string output (see json.h).
 *
 * SECURITY: input is arbitrary bytes; every byte is either copied as part
 * of a valid UTF-8 sequence or escaped.
 */
#include "base/json.h"
#include "base/util.h"

#include <stdint.h>

void json_strn(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	putc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			putc('\\', f);
			putc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f);
			i++;
		} else if (c == '\t') {
			fputs("\\t", f);
			i++;
		} else if (c == '\r') {
			fputs("\\r", f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			putc(c, f);
			i++;
		} else {
			size_t l = utf8_len(s + i, n - i);
			if (l) {
				fwrite(s + i, 1, l, f);
				i += l;
			} else {
				fprintf(f, "\\u%04x", c);	/* as Latin-1 */
				i++;
			}
		}
	}
	putc('"', f);
}

void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	size_t n = 0;
	while (s[n])
		n++;
	json_strn(f, s, n);
}
