/*
 * html.h - the one writer of response bodies: a growable buffer with a
 * hard cap, and the only ways to put text into HTML or JSON. Markup goes
 * in as string literals only (H_LIT refuses anything else at compile
 * time); every other text goes through web_text (HTML-escaped) or
 * web_json (JSON-escaped). So no string from a request, the store or
 * DNS can be pasted into a page: escaping is by construction.
 *
 * SECURITY: texts are untrusted (queries, reasons, trap mail, TXT
 * records); the escapers handle any bytes (invalid UTF-8 becomes U+FFFD).
 */
#ifndef RBLKIT_WEB_HTML_H
#define RBLKIT_WEB_HTML_H

#include <stddef.h>

#define WEB_BODY_MAX (4u << 20)  /* a response body larger than this is an error */

struct web_buf {
	char *p;
	size_t len, cap;
	int err;                    /* allocation failed or the cap was hit */
};

void web_buf_free(struct web_buf *b);
/* Append n bytes as they are: internal, for the macros and escapers. */
void web_buf_raw_(struct web_buf *b, const char *s, size_t n);

/* Markup: a string literal only ("" s "" does not compile otherwise). */
#define H_LIT(b, s) web_buf_raw_((b), "" s "", sizeof(s) - 1)

/* s as HTML text or attribute value: & < > " ' escaped, control bytes
 * (but tab and newline) dropped, invalid UTF-8 as U+FFFD. NULL: nothing. */
void web_text(struct web_buf *b, const char *s);
/* The same for a formatted text. */
void web_textf(struct web_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A catalogue text with its "%s" / "%u" places filled with a1, a2 (in
 * order, as text), all escaped. No printf: the catalogue is data. */
void web_text_sub(struct web_buf *b, const char *msg, const char *a1, const char *a2);
/* ` name="value"` with value escaped; name must be a literal. */
#define H_ATTR(b, name, value) do { H_LIT(b, " " name "=\""); web_text((b), (value)); \
				    H_LIT(b, "\""); } while (0)

/* s as a JSON string with quotes (NULL: null). */
void web_json(struct web_buf *b, const char *s);
/* A JSON number. */
void web_jsonint(struct web_buf *b, long long v);

/* A text with the trap addresses in it masked (list_mask_addr for
 * every word that looks like local@domain), HTML-escaped. */
void web_text_masked(struct web_buf *b, const char *s);
/* The same masking into out (size bytes), for JSON. */
void web_mask_text(const char *s, char *out, size_t size);

#endif
