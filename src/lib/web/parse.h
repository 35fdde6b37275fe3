/*
 * parse.h - the parsers of HTTP request data for the web portal: query
 * strings and url-encoded forms, the Cookie header, flat JSON objects
 * (API bodies) and Accept-Language. Each decodes into a caller's buffer
 * with fixed limits (WEB_KV_MAX fields, no allocation), so a hostile
 * request cannot make it allocate or read out of bounds.
 *
 * SECURITY: every byte comes from the network, unauthenticated. A field
 * whose value decodes to a NUL byte or to invalid UTF-8 is refused (the
 * whole input: -1), so later code sees C strings that mean what they say.
 * libFuzzer: tests/fuzz/fuzz_web.c.
 */
#ifndef RBLKIT_WEB_PARSE_H
#define RBLKIT_WEB_PARSE_H

#include <stddef.h>

#define WEB_KV_MAX 64           /* fields of one form, query, cookie or object */

struct web_kv {
	unsigned n;
	struct {
		const char *k, *v;      /* NUL-terminated, in buf */
	} f[WEB_KV_MAX];
	char *buf;                  /* the caller's: web_kv_bufsize(len) bytes */
	size_t used, size;
};

/* Bytes of decoding buffer an input of len bytes needs. */
size_t web_kv_bufsize(size_t len);
/* Start kv over buf (size bytes). */
void web_kv_init(struct web_kv *kv, char *buf, size_t size);
/* The first value of key, or NULL. */
const char *web_kv_get(const struct web_kv *kv, const char *key);

/* "a=1&b=x%20y" (application/x-www-form-urlencoded; '+' is a space).
 * Appends to kv. 0, or -1 for a bad %-escape, a NUL or invalid UTF-8,
 * more than WEB_KV_MAX fields or a full buffer. */
int web_form_parse(struct web_kv *kv, const char *s, size_t len);
/* "a=1; b=2" (RFC 6265 Cookie header; values taken as they are, quotes
 * removed). Appends to kv; the same errors. */
int web_cookie_parse(struct web_kv *kv, const char *s, size_t len);
/* A JSON object of string, number, true/false/null values ({"q":
 * "192.0.2.1", "dry_run": true}): values kept as text (strings
 * unescaped; true/false/null as those words; numbers as written).
 * Nested objects and arrays, duplicate keys, trailing data: -1. */
int web_json_parse(struct web_kv *kv, const char *s, size_t len);

/* The best of the languages offered (langs, n of them, "en", "ja") for
 * an Accept-Language header value; -1 when none fits (the caller's
 * default). */
int web_accept_language(const char *header, const char *const *langs, int n);

#endif
